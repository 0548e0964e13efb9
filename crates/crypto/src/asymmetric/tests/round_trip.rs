//! Every key spec through every operation it supports, with one key per spec.

use ferrokms_types::enums::*;
use ferrokms_types::key_specs::{self, MessageLen};

use super::{asymmetric_specs, key, ml_dsa_mu, sha2, sm2_e};
use crate::asymmetric::*;
use crate::{CryptoError, SecretBytes};

const MESSAGE: &[u8] = b"ferrokms signs this message";

/// The `Message` to sign for an algorithm and message type, derived from [`MESSAGE`].
fn message_for(spec: KeySpec, alg: SigningAlgorithmSpec, mt: MessageType) -> Option<Vec<u8>> {
    let public = public_key_der(spec, key(spec)).expect("public key");
    Some(match key_specs::message_len(alg, mt)? {
        MessageLen::UpTo(_) => MESSAGE.to_vec(),
        MessageLen::Exactly(_) if mt == MessageType::ExternalMu => ml_dsa_mu(&public, MESSAGE),
        MessageLen::Exactly(_) if alg == SigningAlgorithmSpec::Sm2dsa => sm2_e(&public, MESSAGE),
        MessageLen::Exactly(n) => sha2(n, MESSAGE),
    })
}

#[test]
fn every_asymmetric_spec_exports_a_stable_public_key() {
    for spec in asymmetric_specs() {
        let a = public_key_der(spec, key(spec)).expect("public key");
        let b = public_key_der(spec, key(spec)).expect("public key");
        assert_eq!(a, b, "{spec:?}");
        assert_eq!(a[0], 0x30, "{spec:?}: not a DER SEQUENCE");
        let other = generate_key(spec).expect("second key");
        assert_ne!(
            public_key_der(spec, &other).expect("public key"),
            a,
            "{spec:?}"
        );
    }
}

#[test]
fn symmetric_and_hmac_keys_have_their_lengths_and_no_public_key() {
    for (spec, len) in [
        (KeySpec::SymmetricDefault, 32),
        (KeySpec::Hmac224, 28),
        (KeySpec::Hmac256, 32),
        (KeySpec::Hmac384, 48),
        (KeySpec::Hmac512, 64),
    ] {
        assert_eq!(key(spec).len(), len);
        assert!(matches!(
            public_key_der(spec, key(spec)),
            Err(CryptoError::UnsupportedAlgorithm)
        ));
    }
}

#[test]
fn sign_and_verify_every_algorithm_and_message_type() {
    let mut signed = 0;
    for spec in asymmetric_specs() {
        let Some(algs) = key_specs::algorithms(spec, KeyUsage::SignVerify) else {
            continue;
        };
        let stranger = generate_key(spec).expect("key");
        for &alg in algs.signing {
            for &mt in MessageType::ALL {
                let Some(message) = message_for(spec, alg, mt) else {
                    let got = sign(spec, alg, mt, key(spec), MESSAGE);
                    assert!(
                        matches!(got, Err(CryptoError::UnsupportedMessageType)),
                        "{spec:?} {alg:?} {mt:?}: {got:?}"
                    );
                    continue;
                };
                let sig = sign(spec, alg, mt, key(spec), &message).expect("sign");
                let ok =
                    |m: &[u8], s: &[u8]| verify(spec, alg, mt, key(spec), m, s).expect("verify");
                assert!(ok(&message, &sig), "{spec:?} {alg:?} {mt:?}");
                let mut other = message.clone();
                other[0] ^= 1;
                assert!(!ok(&other, &sig), "{spec:?} {alg:?} {mt:?}: other message");
                let mut bad = sig.clone();
                let last = bad.len() - 1;
                bad[last / 2] ^= 0x40;
                assert!(
                    !ok(&message, &bad),
                    "{spec:?} {alg:?} {mt:?}: altered signature"
                );
                assert!(
                    !ok(&message, &[]),
                    "{spec:?} {alg:?} {mt:?}: empty signature"
                );
                assert!(
                    !verify(spec, alg, mt, &stranger, &message, &sig).expect("verify"),
                    "{spec:?} {alg:?} {mt:?}: another key"
                );
                signed += 1;
            }
        }
    }
    assert_eq!(
        signed,
        3 * 6 * 2 + 4 * 2 + 2 + 2 + 3 * 2,
        "signing combinations"
    );
}

/// A signature over a message verifies as one over its digest (or μ), and the other way round:
/// DIGEST and EXTERNAL_MU only skip the hashing, as AWS documents.
#[test]
fn raw_and_precomputed_messages_are_the_same_message() {
    for spec in asymmetric_specs() {
        let Some(algs) = key_specs::algorithms(spec, KeyUsage::SignVerify) else {
            continue;
        };
        for &alg in algs.signing {
            let pre = [MessageType::Digest, MessageType::ExternalMu]
                .into_iter()
                .find(|mt| key_specs::message_len(alg, *mt).is_some());
            let (Some(pre), Some(_)) = (pre, key_specs::message_len(alg, MessageType::Raw)) else {
                continue; // Ed25519: RAW and DIGEST are different algorithms.
            };
            let hashed = message_for(spec, alg, pre).expect("precomputed form");
            let raw_sig = sign(spec, alg, MessageType::Raw, key(spec), MESSAGE).expect("sign");
            assert!(
                verify(spec, alg, pre, key(spec), &hashed, &raw_sig).expect("verify"),
                "{spec:?} {alg:?}: RAW signature as {pre:?}"
            );
            let pre_sig = sign(spec, alg, pre, key(spec), &hashed).expect("sign");
            assert!(
                verify(spec, alg, MessageType::Raw, key(spec), MESSAGE, &pre_sig).expect("verify"),
                "{spec:?} {alg:?}: {pre:?} signature as RAW"
            );
        }
    }
}

#[test]
fn rsa_oaep_round_trips_up_to_aws_limits() {
    for spec in [KeySpec::Rsa2048, KeySpec::Rsa3072, KeySpec::Rsa4096] {
        for alg in [
            EncryptionAlgorithm::RsaesOaepSha1,
            EncryptionAlgorithm::RsaesOaepSha256,
        ] {
            let max = key_specs::max_plaintext_len(spec, alg).expect("limit");
            for len in [0, 1, max] {
                let plaintext = vec![0xa5; len];
                let ct = encrypt(spec, alg, key(spec), &plaintext).expect("encrypt");
                assert_eq!(ct.len() * 8, spec_bits(spec));
                let pt = decrypt(spec, alg, key(spec), &ct).expect("decrypt");
                assert_eq!(pt.expose(), plaintext.as_slice(), "{spec:?} {alg:?} {len}");
            }
            let too_long = vec![0; max + 1];
            assert!(matches!(
                encrypt(spec, alg, key(spec), &too_long),
                Err(CryptoError::PlaintextTooLong { max: m }) if m == max
            ));
        }
        // A ciphertext for one OAEP hash does not decrypt under the other.
        let ct = encrypt(spec, EncryptionAlgorithm::RsaesOaepSha1, key(spec), b"x").expect("ct");
        assert!(matches!(
            decrypt(spec, EncryptionAlgorithm::RsaesOaepSha256, key(spec), &ct),
            Err(CryptoError::InvalidCiphertext)
        ));
    }
}

fn spec_bits(spec: KeySpec) -> usize {
    match spec {
        KeySpec::Rsa2048 => 2048,
        KeySpec::Rsa3072 => 3072,
        _ => 4096,
    }
}

#[test]
fn sm2pke_round_trips_up_to_1024_bytes() {
    let alg = EncryptionAlgorithm::Sm2pke;
    let sm2 = key(KeySpec::Sm2);
    for len in [1, 2, 1024] {
        let plaintext: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let ct = encrypt(KeySpec::Sm2, alg, sm2, &plaintext).expect("encrypt");
        assert_eq!(ct[0], 0x30, "DER SEQUENCE");
        let pt = decrypt(KeySpec::Sm2, alg, sm2, &ct).expect("decrypt");
        assert_eq!(pt.expose(), plaintext.as_slice());
    }
    assert!(matches!(
        encrypt(KeySpec::Sm2, alg, sm2, &[0; 1025]),
        Err(CryptoError::PlaintextTooLong { max: 1024 })
    ));
    assert!(matches!(
        encrypt(KeySpec::Sm2, alg, sm2, &[]),
        Err(CryptoError::Internal(_))
    ));
}

#[test]
fn hmac_round_trips_for_every_spec() {
    for spec in [
        KeySpec::Hmac224,
        KeySpec::Hmac256,
        KeySpec::Hmac384,
        KeySpec::Hmac512,
    ] {
        let algs = key_specs::algorithms(spec, KeyUsage::GenerateVerifyMac).expect("valid");
        let alg = algs.mac[0];
        let mac = generate_mac(spec, alg, key(spec), MESSAGE).expect("mac");
        assert_eq!(mac.len(), hmac_len(alg));
        assert!(verify_mac(spec, alg, key(spec), MESSAGE, &mac).expect("verify"));
        assert!(!verify_mac(spec, alg, key(spec), b"other", &mac).expect("verify"));
        assert!(!verify_mac(spec, alg, key(spec), MESSAGE, &mac[1..]).expect("verify"));
        let other_key = generate_key(spec).expect("key");
        assert!(!verify_mac(spec, alg, &other_key, MESSAGE, &mac).expect("verify"));
    }
}

fn hmac_len(alg: MacAlgorithmSpec) -> usize {
    match alg {
        MacAlgorithmSpec::HmacSha224 => 28,
        MacAlgorithmSpec::HmacSha256 => 32,
        MacAlgorithmSpec::HmacSha384 => 48,
        MacAlgorithmSpec::HmacSha512 => 64,
    }
}

#[test]
fn ecdh_agrees_both_ways_on_every_key_agreement_spec() {
    let ecdh = KeyAgreementAlgorithmSpec::Ecdh;
    for (spec, len) in [
        (KeySpec::EccNistP256, 32),
        (KeySpec::EccNistP384, 48),
        (KeySpec::EccNistP521, 66),
        (KeySpec::Sm2, 32),
    ] {
        let ours = key(spec);
        let theirs = generate_key(spec).expect("peer key");
        let our_public = public_key_der(spec, ours).expect("public");
        let their_public = public_key_der(spec, &theirs).expect("public");
        let a = derive_shared_secret(spec, ecdh, ours, &their_public).expect("derive");
        let b = derive_shared_secret(spec, ecdh, &theirs, &our_public).expect("derive");
        assert_eq!(a.len(), len, "{spec:?}");
        assert!(a.ct_eq(b.expose()), "{spec:?}");
    }
}

#[test]
fn ml_kem_round_trips_with_aws_ciphertext_lengths() {
    for (spec, ct_len) in [
        (KeySpec::MlKem512, 768),
        (KeySpec::MlKem768, 1088),
        (KeySpec::MlKem1024, 1568),
    ] {
        let (ct, shared) = encapsulate(spec, key(spec)).expect("encapsulate");
        assert_eq!(ct.len(), ct_len, "{spec:?}");
        assert_eq!(shared.len(), 32);
        let back = decapsulate(spec, key(spec), &ct).expect("decapsulate");
        assert!(back.ct_eq(shared.expose()), "{spec:?}");
        let mut altered = ct.clone();
        altered[10] ^= 1;
        let rejected = decapsulate(spec, key(spec), &altered).expect("implicit rejection");
        assert!(!rejected.ct_eq(shared.expose()), "{spec:?}");
        assert!(matches!(
            decapsulate(spec, key(spec), &ct[1..]),
            Err(CryptoError::InvalidCiphertext)
        ));
    }
}

#[test]
fn every_data_key_pair_spec_yields_matching_halves() {
    for &spec in DataKeyPairSpec::ALL {
        let pair = generate_data_key_pair(spec).expect("data key pair");
        let private = SecretBytes::new(pair.private_key.expose().to_vec());
        assert_eq!(
            public_key_der(spec.key_spec(), &private).expect("public"),
            pair.public_key,
            "{spec:?}"
        );
        assert_eq!(
            pair.private_key.expose()[0],
            0x30,
            "{spec:?}: PKCS#8 is a SEQUENCE"
        );
    }
    // AWS: ML-KEM private keys are seed-form PKCS#8, the same length for every parameter set.
    let lens: Vec<usize> = [DataKeyPairSpec::MlKem512, DataKeyPairSpec::MlKem1024]
        .iter()
        .map(|s| generate_data_key_pair(*s).expect("pair").private_key.len())
        .collect();
    assert_eq!(lens, vec![86, 86]);
}

/// Our seed-form ML-DSA PKCS#8 is byte for byte what aws-lc (AWS's own library) writes.
#[test]
fn ml_dsa_pkcs8_matches_aws_lc() {
    use crate::asymmetric::encoding::{seed_pkcs8, OID_ML_DSA_44, OID_ML_DSA_65, OID_ML_DSA_87};
    use aws_lc_rs::signature::{
        PqdsaKeyPair, ML_DSA_44_SIGNING, ML_DSA_65_SIGNING, ML_DSA_87_SIGNING,
    };
    let seed = [0x5au8; 32];
    for (alg, oid) in [
        (&ML_DSA_44_SIGNING, OID_ML_DSA_44),
        (&ML_DSA_65_SIGNING, OID_ML_DSA_65),
        (&ML_DSA_87_SIGNING, OID_ML_DSA_87),
    ] {
        let pair = PqdsaKeyPair::from_seed(alg, &seed).expect("aws-lc key");
        let theirs = pair.to_pkcs8v1().expect("aws-lc PKCS#8");
        assert_eq!(theirs.as_ref(), seed_pkcs8(oid, &seed).as_slice());
    }
}

/// `k256`'s secp256k1 signatures verify under aws-lc's independent implementation.
#[test]
fn secp256k1_signatures_verify_under_aws_lc() {
    use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256K1_SHA256_ASN1};
    let spec = KeySpec::EccSecgP256k1;
    let public = public_key_der(spec, key(spec)).expect("public key");
    let sig = sign(
        spec,
        SigningAlgorithmSpec::EcdsaSha256,
        MessageType::Raw,
        key(spec),
        MESSAGE,
    )
    .expect("sign");
    UnparsedPublicKey::new(&ECDSA_P256K1_SHA256_ASN1, &public)
        .verify(MESSAGE, &sig)
        .expect("aws-lc verifies");
}
