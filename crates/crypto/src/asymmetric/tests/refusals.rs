//! What the API refuses, with which error, and that no input makes it panic.

use ferrokms_types::enums::*;

use super::{asymmetric_specs, key};
use crate::asymmetric::*;
use crate::{random_bytes, CryptoError, SecretBytes};

use CryptoError::*;
use KeySpec as K;
use MessageType as M;
use SigningAlgorithmSpec as S;

#[test]
fn algorithms_the_spec_lacks_are_unsupported() {
    let unsupported = |r: Result<Vec<u8>, CryptoError>| matches!(r, Err(UnsupportedAlgorithm));
    assert!(unsupported(sign(
        K::EccNistP256,
        S::EcdsaSha384,
        M::Raw,
        key(K::EccNistP256),
        b"m"
    )));
    assert!(unsupported(sign(
        K::Rsa2048,
        S::EcdsaSha256,
        M::Raw,
        key(K::Rsa2048),
        b"m"
    )));
    assert!(unsupported(sign(
        K::Sm2,
        S::EcdsaSha256,
        M::Raw,
        key(K::Sm2),
        b"m"
    )));
    assert!(unsupported(sign(
        K::MlKem768,
        S::MlDsaShake256,
        M::Raw,
        key(K::MlKem768),
        b"m"
    )));
    assert!(unsupported(sign(
        K::Hmac256,
        S::EcdsaSha256,
        M::Raw,
        key(K::Hmac256),
        b"m"
    )));
    let mac = MacAlgorithmSpec::HmacSha256;
    assert!(unsupported(generate_mac(
        K::Rsa2048,
        mac,
        key(K::Rsa2048),
        b"m"
    )));
    assert!(unsupported(generate_mac(
        K::Hmac384,
        mac,
        key(K::Hmac384),
        b"m"
    )));
    let oaep = EncryptionAlgorithm::RsaesOaepSha1;
    assert!(unsupported(encrypt(
        K::EccNistP256,
        oaep,
        key(K::EccNistP256),
        b"m"
    )));
    assert!(unsupported(encrypt(K::Sm2, oaep, key(K::Sm2), b"m")));
    let sym = EncryptionAlgorithm::SymmetricDefault;
    assert!(unsupported(encrypt(
        K::SymmetricDefault,
        sym,
        key(K::SymmetricDefault),
        b"m"
    )));
    assert!(matches!(
        decrypt(
            K::Rsa2048,
            EncryptionAlgorithm::Sm2pke,
            key(K::Rsa2048),
            &[0; 256]
        ),
        Err(UnsupportedAlgorithm)
    ));
    let ecdh = KeyAgreementAlgorithmSpec::Ecdh;
    for spec in [
        K::EccNistEdwards25519,
        K::EccSecgP256k1,
        K::Rsa2048,
        K::MlKem512,
    ] {
        let peer = public_key_der(spec, key(spec)).expect("public");
        assert!(matches!(
            derive_shared_secret(spec, ecdh, key(spec), &peer),
            Err(UnsupportedAlgorithm)
        ));
    }
    assert!(matches!(
        encapsulate(K::Rsa2048, key(K::Rsa2048)),
        Err(UnsupportedAlgorithm)
    ));
    assert!(matches!(
        decapsulate(K::EccNistP256, key(K::EccNistP256), &[0; 768]),
        Err(UnsupportedAlgorithm)
    ));
}

#[test]
fn message_types_the_algorithm_lacks_are_refused() {
    for (spec, alg, mt) in [
        (K::EccNistEdwards25519, S::Ed25519PhSha512, M::Raw),
        (K::EccNistEdwards25519, S::Ed25519Sha512, M::Digest),
        (K::EccNistP256, S::EcdsaSha256, M::ExternalMu),
        (K::Rsa2048, S::RsassaPssSha256, M::ExternalMu),
        (K::MlDsa65, S::MlDsaShake256, M::Digest),
    ] {
        let msg = [0u8; 64];
        assert!(
            matches!(
                sign(spec, alg, mt, key(spec), &msg),
                Err(UnsupportedMessageType)
            ),
            "{alg:?} {mt:?}"
        );
        assert!(matches!(
            verify(spec, alg, mt, key(spec), &msg, &[0; 64]),
            Err(UnsupportedMessageType)
        ));
    }
}

#[test]
fn digests_and_mu_of_the_wrong_length_are_refused() {
    let cases = [
        (K::EccNistP384, S::EcdsaSha384, M::Digest, 32, 48),
        (K::Rsa2048, S::RsassaPkcs1V15Sha512, M::Digest, 48, 64),
        (K::Sm2, S::Sm2dsa, M::Digest, 33, 32),
        (K::EccSecgP256k1, S::EcdsaSha256, M::Digest, 0, 32),
        (
            K::EccNistEdwards25519,
            S::Ed25519PhSha512,
            M::Digest,
            32,
            64,
        ),
        (K::MlDsa44, S::MlDsaShake256, M::ExternalMu, 63, 64),
        (K::EccNistP256, S::EcdsaSha256, M::Raw, 4097, 4096),
    ];
    for (spec, alg, mt, actual, expected) in cases {
        let msg = vec![0u8; actual];
        let want = |r: &CryptoError| matches!(r, InvalidMessageLength { expected: e, actual: a } if *e == expected && *a == actual);
        let got = sign(spec, alg, mt, key(spec), &msg).expect_err("refused");
        assert!(want(&got), "{alg:?} {mt:?}: {got:?}");
        let got = verify(spec, alg, mt, key(spec), &msg, &[1; 70]).expect_err("refused");
        assert!(want(&got), "{alg:?} {mt:?}: {got:?}");
    }
}

#[test]
fn peer_keys_that_are_malformed_or_on_another_curve_are_invalid() {
    let ecdh = KeyAgreementAlgorithmSpec::Ecdh;
    let spki = |spec| public_key_der(spec, key(spec)).expect("public");
    let p256 = spki(K::EccNistP256);
    let mut off_curve = p256.clone();
    let last = off_curve.len() - 1;
    off_curve[last] ^= 1;
    let raw_point = p256[p256.len() - 65..].to_vec();
    let mut trailing = p256.clone();
    trailing.push(0);
    for (case, (spec, peer)) in [
        (K::EccNistP256, spki(K::EccNistP384)),
        (K::EccNistP256, spki(K::EccSecgP256k1)),
        (K::EccNistP256, spki(K::Sm2)),
        (K::EccNistP256, spki(K::Rsa2048)),
        (K::EccNistP521, spki(K::EccNistP256)),
        (K::Sm2, p256.clone()),
        (K::Sm2, spki(K::EccSecgP256k1)),
        (K::EccNistP256, off_curve.clone()),
        (K::EccNistP256, raw_point.clone()),
        (K::EccNistP256, p256[..p256.len() - 1].to_vec()),
        (K::EccNistP256, trailing.clone()),
        (K::EccNistP256, Vec::new()),
        (K::Sm2, Vec::new()),
        (K::Sm2, vec![0x30, 0x03, 0x02, 0x01, 0x00]),
    ]
    .into_iter()
    .enumerate()
    {
        let got = derive_shared_secret(spec, ecdh, key(spec), &peer);
        assert!(
            matches!(got, Err(InvalidPublicKey)),
            "case {case}, {spec:?}: {got:?}"
        );
    }
}

#[test]
fn key_material_of_another_spec_is_refused() {
    for (spec, other) in [
        (K::Rsa2048, K::Rsa3072),
        (K::Rsa4096, K::EccNistP256),
        (K::EccNistP256, K::EccNistP384),
        (K::EccNistP256, K::EccSecgP256k1),
        (K::EccSecgP256k1, K::EccNistP256),
        (K::Sm2, K::EccNistP256),
        (K::EccNistP256, K::Sm2),
        (K::EccNistEdwards25519, K::EccNistP256),
        (K::MlDsa44, K::MlDsa65),
        (K::MlKem768, K::MlKem512),
        (K::MlKem512, K::MlDsa44),
    ] {
        let got = public_key_der(spec, key(other));
        assert!(
            matches!(got, Err(InvalidKeyMaterial)),
            "{spec:?} with {other:?}: {got:?}"
        );
    }
    let short = SecretBytes::new(vec![7; 27]);
    assert!(matches!(
        generate_mac(K::Hmac224, MacAlgorithmSpec::HmacSha224, &short, b"m"),
        Err(InvalidKeyMaterial)
    ));
}

#[test]
fn ciphertexts_that_do_not_decrypt_are_invalid_ciphertext() {
    let oaep = EncryptionAlgorithm::RsaesOaepSha256;
    let rsa = key(K::Rsa2048);
    let good = encrypt(K::Rsa2048, oaep, rsa, b"secret").expect("encrypt");
    let mut flipped = good.clone();
    flipped[100] ^= 1;
    let sm2pke = EncryptionAlgorithm::Sm2pke;
    let sm2 = key(K::Sm2);
    let sm2_good = encrypt(K::Sm2, sm2pke, sm2, b"secret").expect("encrypt");
    let mut sm2_flipped = sm2_good.clone();
    let last = sm2_flipped.len() - 1;
    sm2_flipped[last] ^= 1;
    for (spec, alg, ct) in [
        (K::Rsa2048, oaep, flipped),
        (K::Rsa2048, oaep, good[1..].to_vec()),
        (K::Rsa2048, oaep, Vec::new()),
        (K::Rsa2048, oaep, vec![0xff; 256]),
        (K::Sm2, sm2pke, sm2_flipped),
        (K::Sm2, sm2pke, sm2_good[..sm2_good.len() - 1].to_vec()),
        (K::Sm2, sm2pke, Vec::new()),
        (K::Sm2, sm2pke, vec![0x04; 97]),
    ] {
        let got = decrypt(spec, alg, key(spec), &ct);
        assert!(matches!(got, Err(InvalidCiphertext)), "{spec:?}: {got:?}");
    }
}

/// SM2PKE also opens the raw C1‖C3‖C2 concatenation other tools emit.
#[test]
fn sm2pke_decrypts_raw_c1c3c2() {
    use ::sm2::pkcs8::der::Decode;
    use ::sm2::pke::{Cipher, Mode};
    let ct = encrypt(
        K::Sm2,
        EncryptionAlgorithm::Sm2pke,
        key(K::Sm2),
        b"raw form",
    )
    .expect("ct");
    let cipher: Cipher<'_> = Cipher::from_der(&ct).expect("DER");
    let raw = cipher.to_vec(Mode::C1C3C2, false).expect("raw");
    assert_eq!(raw[0], 0x04);
    let pt = decrypt(K::Sm2, EncryptionAlgorithm::Sm2pke, key(K::Sm2), &raw).expect("decrypt");
    assert_eq!(pt.expose(), b"raw form");
}

/// Random bytes as key material, signatures, ciphertexts and peer keys, for every spec and
/// operation: the answer may be any error, but never a panic.
#[test]
fn no_input_panics() {
    let lens = [0usize, 1, 31, 32, 33, 64, 86, 256, 1088];
    let blobs: Vec<Vec<u8>> = lens
        .iter()
        .map(|n| random_bytes(*n).expect("rng").expose().to_vec())
        .chain(std::iter::once(vec![0x30; 200]))
        .collect();
    for &spec in KeySpec::ALL {
        let public = public_key_der(spec, key(spec)).unwrap_or_default();
        for blob in &blobs {
            let material = SecretBytes::new(blob.clone());
            let _ = public_key_der(spec, &material);
            for &alg in SigningAlgorithmSpec::ALL {
                for &mt in MessageType::ALL {
                    let _ = sign(spec, alg, mt, &material, blob);
                    let _ = verify_with_public_key(spec, alg, mt, blob, blob, blob);
                    let _ = verify_with_public_key(spec, alg, mt, &public, blob, blob);
                }
            }
            for &alg in EncryptionAlgorithm::ALL {
                let _ = encrypt_with_public_key(spec, alg, blob, blob);
                let _ = decrypt(spec, alg, &material, blob);
                let _ = decrypt(spec, alg, key(spec), blob);
            }
            for &alg in MacAlgorithmSpec::ALL {
                let _ = verify_mac(spec, alg, &material, blob, blob);
            }
            let ecdh = KeyAgreementAlgorithmSpec::Ecdh;
            let _ = derive_shared_secret(spec, ecdh, &material, blob);
            let _ = derive_shared_secret(spec, ecdh, key(spec), blob);
            let _ = encapsulate_with_public_key(spec, blob);
            let _ = decapsulate(spec, &material, blob);
            let _ = decapsulate(spec, key(spec), blob);
        }
    }
}

#[test]
fn asymmetric_specs_cover_everything_but_symmetric_and_hmac() {
    assert_eq!(asymmetric_specs().count(), KeySpec::ALL.len() - 5);
}
