//! What each key spec may do, as AWS KMS documents it: the key usages CreateKey accepts, the
//! algorithm lists DescribeKey and GetPublicKey show for a (spec, usage) pair, the plaintext limits
//! of Encrypt, and the message lengths Sign and Verify accept per message type.
//!
//! Pure data with no crypto, so the service layer validates a request (and answers AWS's
//! ValidationException or InvalidKeyUsageException) before any key material is touched, and the
//! crypto crate checks the same table before it signs. Every `match` is exhaustive: a key spec or
//! algorithm added to the enums does not compile until it has a row here.

use crate::enums::{
    DataKeyPairSpec, EncapsulationAlgorithmSpec, EncryptionAlgorithm, KeyAgreementAlgorithmSpec,
    KeySpec, KeyUsage, MacAlgorithmSpec, MessageType, SigningAlgorithmSpec,
};

/// Largest message Sign and Verify accept with [`MessageType::Raw`] (AWS: 4096 bytes).
pub const MAX_RAW_MESSAGE_LEN: usize = 4096;

/// Length of ML-DSA's message representative μ (FIPS 204, section 6.2).
pub const EXTERNAL_MU_LEN: usize = 64;

/// The key usages CreateKey accepts for `spec`, the default (when there is one) first.
pub fn key_usages(spec: KeySpec) -> &'static [KeyUsage] {
    use KeyUsage::*;
    match spec {
        KeySpec::SymmetricDefault => &[EncryptDecrypt],
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &[EncryptDecrypt, SignVerify],
        KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::EccNistP521 => {
            &[SignVerify, KeyAgreement]
        }
        KeySpec::EccSecgP256k1 | KeySpec::EccNistEdwards25519 => &[SignVerify],
        KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => {
            &[GenerateVerifyMac]
        }
        KeySpec::Sm2 => &[EncryptDecrypt, SignVerify, KeyAgreement],
        KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => &[SignVerify],
        KeySpec::MlKem512 | KeySpec::MlKem768 | KeySpec::MlKem1024 => &[EncapsulateDecapsulate],
    }
}

/// Whether CreateKey accepts `usage` for `spec`.
pub fn is_valid_usage(spec: KeySpec, usage: KeyUsage) -> bool {
    key_usages(spec).contains(&usage)
}

/// Whether the spec is a key pair (GetPublicKey works on it).
pub fn is_asymmetric(spec: KeySpec) -> bool {
    !matches!(
        spec,
        KeySpec::SymmetricDefault
            | KeySpec::Hmac224
            | KeySpec::Hmac256
            | KeySpec::Hmac384
            | KeySpec::Hmac512
    )
}

/// The algorithm lists of a key's metadata. Each list is empty unless the usage calls for it;
/// AWS omits empty lists from DescribeKey and GetPublicKey.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Algorithms {
    pub encryption: &'static [EncryptionAlgorithm],
    pub signing: &'static [SigningAlgorithmSpec],
    pub mac: &'static [MacAlgorithmSpec],
    pub key_agreement: &'static [KeyAgreementAlgorithmSpec],
    pub encapsulation: &'static [EncapsulationAlgorithmSpec],
}

const NONE: Algorithms = Algorithms {
    encryption: &[],
    signing: &[],
    mac: &[],
    key_agreement: &[],
    encapsulation: &[],
};

const fn encryption(list: &'static [EncryptionAlgorithm]) -> Algorithms {
    Algorithms {
        encryption: list,
        ..NONE
    }
}

const fn signing(list: &'static [SigningAlgorithmSpec]) -> Algorithms {
    Algorithms {
        signing: list,
        ..NONE
    }
}

const fn mac(list: &'static [MacAlgorithmSpec]) -> Algorithms {
    Algorithms { mac: list, ..NONE }
}

const ECDH: Algorithms = Algorithms {
    key_agreement: &[KeyAgreementAlgorithmSpec::Ecdh],
    ..NONE
};

const RSA_SIGNING: &[SigningAlgorithmSpec] = {
    use SigningAlgorithmSpec::*;
    &[
        RsassaPkcs1V15Sha256,
        RsassaPkcs1V15Sha384,
        RsassaPkcs1V15Sha512,
        RsassaPssSha256,
        RsassaPssSha384,
        RsassaPssSha512,
    ]
};

/// The algorithms a key of `spec` created for `usage` supports, or `None` when CreateKey would
/// refuse that pair.
pub fn algorithms(spec: KeySpec, usage: KeyUsage) -> Option<Algorithms> {
    use EncryptionAlgorithm as E;
    use KeyUsage as U;
    use SigningAlgorithmSpec as S;
    if !is_valid_usage(spec, usage) {
        return None;
    }
    Some(match (spec, usage) {
        (KeySpec::SymmetricDefault, _) => encryption(&[E::SymmetricDefault]),
        (KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096, U::EncryptDecrypt) => {
            encryption(&[E::RsaesOaepSha1, E::RsaesOaepSha256])
        }
        (KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096, _) => signing(RSA_SIGNING),
        (KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::EccNistP521, U::KeyAgreement) => {
            ECDH
        }
        (KeySpec::EccNistP256 | KeySpec::EccSecgP256k1, _) => signing(&[S::EcdsaSha256]),
        (KeySpec::EccNistP384, _) => signing(&[S::EcdsaSha384]),
        (KeySpec::EccNistP521, _) => signing(&[S::EcdsaSha512]),
        (KeySpec::EccNistEdwards25519, _) => signing(&[S::Ed25519Sha512, S::Ed25519PhSha512]),
        (KeySpec::Hmac224, _) => mac(&[MacAlgorithmSpec::HmacSha224]),
        (KeySpec::Hmac256, _) => mac(&[MacAlgorithmSpec::HmacSha256]),
        (KeySpec::Hmac384, _) => mac(&[MacAlgorithmSpec::HmacSha384]),
        (KeySpec::Hmac512, _) => mac(&[MacAlgorithmSpec::HmacSha512]),
        (KeySpec::Sm2, U::EncryptDecrypt) => encryption(&[E::Sm2pke]),
        (KeySpec::Sm2, U::KeyAgreement) => ECDH,
        (KeySpec::Sm2, _) => signing(&[S::Sm2dsa]),
        (KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87, _) => signing(&[S::MlDsaShake256]),
        (KeySpec::MlKem512 | KeySpec::MlKem768 | KeySpec::MlKem1024, _) => Algorithms {
            encapsulation: &[EncapsulationAlgorithmSpec::MlKem],
            ..NONE
        },
    })
}

/// Whether a key of `spec` supports the signing algorithm `alg` (for any usage).
pub fn supports_signing(spec: KeySpec, alg: SigningAlgorithmSpec) -> bool {
    algorithms(spec, KeyUsage::SignVerify).is_some_and(|a| a.signing.contains(&alg))
}

/// Whether a key of `spec` supports the encryption algorithm `alg`.
pub fn supports_encryption(spec: KeySpec, alg: EncryptionAlgorithm) -> bool {
    algorithms(spec, KeyUsage::EncryptDecrypt).is_some_and(|a| a.encryption.contains(&alg))
}

/// Whether a key of `spec` supports the MAC algorithm `alg`.
pub fn supports_mac(spec: KeySpec, alg: MacAlgorithmSpec) -> bool {
    algorithms(spec, KeyUsage::GenerateVerifyMac).is_some_and(|a| a.mac.contains(&alg))
}

/// Whether a key of `spec` supports the key agreement algorithm `alg`.
pub fn supports_key_agreement(spec: KeySpec, alg: KeyAgreementAlgorithmSpec) -> bool {
    algorithms(spec, KeyUsage::KeyAgreement).is_some_and(|a| a.key_agreement.contains(&alg))
}

/// The largest plaintext Encrypt accepts for `spec` with `alg` (AWS's table in the Encrypt API
/// reference), or `None` when the key spec does not support the algorithm.
///
/// For RSA this is the OAEP bound `k − 2·hLen − 2` (k the modulus length in bytes).
pub fn max_plaintext_len(spec: KeySpec, alg: EncryptionAlgorithm) -> Option<usize> {
    use EncryptionAlgorithm as E;
    Some(match (spec, alg) {
        (KeySpec::SymmetricDefault, E::SymmetricDefault) => 4096,
        (KeySpec::Rsa2048, E::RsaesOaepSha1) => 214,
        (KeySpec::Rsa2048, E::RsaesOaepSha256) => 190,
        (KeySpec::Rsa3072, E::RsaesOaepSha1) => 342,
        (KeySpec::Rsa3072, E::RsaesOaepSha256) => 318,
        (KeySpec::Rsa4096, E::RsaesOaepSha1) => 470,
        (KeySpec::Rsa4096, E::RsaesOaepSha256) => 446,
        (KeySpec::Sm2, E::Sm2pke) => 1024,
        _ => return None,
    })
}

/// The exact length of `Message` with [`MessageType::Digest`] for `alg`, or `None` when the
/// algorithm does not accept digests (Ed25519 pure and ML-DSA).
///
/// ED25519_PH_SHA_512 takes a 64-byte SHA-512 digest, which KMS hashes once more as Ed25519ph's
/// pre-hash (FIPS 186-5, 7.8.1); SM2DSA takes the 32-byte SM3 value `e = SM3(Z_A ‖ M)`.
pub fn digest_len(alg: SigningAlgorithmSpec) -> Option<usize> {
    use SigningAlgorithmSpec::*;
    match alg {
        RsassaPssSha256 | RsassaPkcs1V15Sha256 | EcdsaSha256 | Sm2dsa => Some(32),
        RsassaPssSha384 | RsassaPkcs1V15Sha384 | EcdsaSha384 => Some(48),
        RsassaPssSha512 | RsassaPkcs1V15Sha512 | EcdsaSha512 | Ed25519PhSha512 => Some(64),
        MlDsaShake256 | Ed25519Sha512 => None,
    }
}

/// What Sign and Verify accept as `Message` for an algorithm and message type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageLen {
    /// Any length up to [`MAX_RAW_MESSAGE_LEN`].
    UpTo(usize),
    /// Exactly this many bytes.
    Exactly(usize),
}

/// How long `Message` may be for `alg` with `message_type`, or `None` when the algorithm does
/// not accept that message type: ED25519_SHA_512 takes RAW only, ED25519_PH_SHA_512 DIGEST only,
/// ML_DSA_SHAKE_256 RAW or EXTERNAL_MU, every other algorithm RAW or DIGEST.
pub fn message_len(alg: SigningAlgorithmSpec, message_type: MessageType) -> Option<MessageLen> {
    use SigningAlgorithmSpec::*;
    match (alg, message_type) {
        (Ed25519PhSha512, MessageType::Raw) => None,
        (_, MessageType::Raw) => Some(MessageLen::UpTo(MAX_RAW_MESSAGE_LEN)),
        (MlDsaShake256, MessageType::ExternalMu) => Some(MessageLen::Exactly(EXTERNAL_MU_LEN)),
        (_, MessageType::ExternalMu) => None,
        (_, MessageType::Digest) => digest_len(alg).map(MessageLen::Exactly),
    }
}

/// Length in bytes of the key material of an HMAC key spec (AWS: 224, 256, 384 or 512 bits), or
/// `None` for other specs.
pub fn hmac_key_len(spec: KeySpec) -> Option<usize> {
    match spec {
        KeySpec::Hmac224 => Some(28),
        KeySpec::Hmac256 => Some(32),
        KeySpec::Hmac384 => Some(48),
        KeySpec::Hmac512 => Some(64),
        _ => None,
    }
}

impl DataKeyPairSpec {
    /// The key spec whose key pair this data key pair spec generates.
    pub fn key_spec(self) -> KeySpec {
        match self {
            DataKeyPairSpec::Rsa2048 => KeySpec::Rsa2048,
            DataKeyPairSpec::Rsa3072 => KeySpec::Rsa3072,
            DataKeyPairSpec::Rsa4096 => KeySpec::Rsa4096,
            DataKeyPairSpec::EccNistP256 => KeySpec::EccNistP256,
            DataKeyPairSpec::EccNistP384 => KeySpec::EccNistP384,
            DataKeyPairSpec::EccNistP521 => KeySpec::EccNistP521,
            DataKeyPairSpec::EccSecgP256k1 => KeySpec::EccSecgP256k1,
            DataKeyPairSpec::Sm2 => KeySpec::Sm2,
            DataKeyPairSpec::EccNistEdwards25519 => KeySpec::EccNistEdwards25519,
            DataKeyPairSpec::MlKem512 => KeySpec::MlKem512,
            DataKeyPairSpec::MlKem768 => KeySpec::MlKem768,
            DataKeyPairSpec::MlKem1024 => KeySpec::MlKem1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_has_a_usage_and_every_valid_pair_has_algorithms() {
        for &spec in KeySpec::ALL {
            assert!(!key_usages(spec).is_empty(), "{spec:?}");
            for &usage in KeyUsage::ALL {
                let algs = algorithms(spec, usage);
                assert_eq!(
                    algs.is_some(),
                    is_valid_usage(spec, usage),
                    "{spec:?} {usage:?}"
                );
                if let Some(a) = algs {
                    let lists = [
                        a.encryption.len(),
                        a.signing.len(),
                        a.mac.len(),
                        a.key_agreement.len(),
                        a.encapsulation.len(),
                    ];
                    assert_eq!(lists.iter().filter(|n| **n > 0).count(), 1, "{spec:?}");
                }
            }
        }
    }

    #[test]
    fn aws_key_usage_table() {
        use KeyUsage::*;
        assert_eq!(key_usages(KeySpec::Rsa3072), &[EncryptDecrypt, SignVerify]);
        assert_eq!(
            key_usages(KeySpec::EccNistP521),
            &[SignVerify, KeyAgreement]
        );
        assert_eq!(key_usages(KeySpec::EccSecgP256k1), &[SignVerify]);
        assert_eq!(key_usages(KeySpec::EccNistEdwards25519), &[SignVerify]);
        assert_eq!(key_usages(KeySpec::Hmac384), &[GenerateVerifyMac]);
        assert_eq!(
            key_usages(KeySpec::Sm2),
            &[EncryptDecrypt, SignVerify, KeyAgreement]
        );
        assert_eq!(key_usages(KeySpec::MlDsa65), &[SignVerify]);
        assert_eq!(key_usages(KeySpec::MlKem1024), &[EncapsulateDecapsulate]);
        assert!(!is_valid_usage(KeySpec::EccSecgP256k1, KeyAgreement));
        assert!(!is_valid_usage(KeySpec::SymmetricDefault, SignVerify));
    }

    #[test]
    fn describe_key_algorithm_lists() {
        use SigningAlgorithmSpec as S;
        let sign = |spec| algorithms(spec, KeyUsage::SignVerify).map(|a| a.signing);
        assert_eq!(sign(KeySpec::EccNistP384), Some(&[S::EcdsaSha384][..]));
        assert_eq!(sign(KeySpec::EccSecgP256k1), Some(&[S::EcdsaSha256][..]));
        assert_eq!(
            sign(KeySpec::EccNistEdwards25519),
            Some(&[S::Ed25519Sha512, S::Ed25519PhSha512][..])
        );
        assert_eq!(sign(KeySpec::MlDsa44), Some(&[S::MlDsaShake256][..]));
        assert_eq!(sign(KeySpec::Rsa2048).map(<[_]>::len), Some(6));
        let rsa = algorithms(KeySpec::Rsa4096, KeyUsage::EncryptDecrypt).expect("valid");
        assert_eq!(
            rsa.encryption,
            &[
                EncryptionAlgorithm::RsaesOaepSha1,
                EncryptionAlgorithm::RsaesOaepSha256
            ]
        );
        let sm2 = algorithms(KeySpec::Sm2, KeyUsage::KeyAgreement).expect("valid");
        assert_eq!(sm2.key_agreement, &[KeyAgreementAlgorithmSpec::Ecdh]);
        let kem = algorithms(KeySpec::MlKem768, KeyUsage::EncapsulateDecapsulate).expect("valid");
        assert_eq!(kem.encapsulation, &[EncapsulationAlgorithmSpec::MlKem]);
        assert!(supports_mac(KeySpec::Hmac224, MacAlgorithmSpec::HmacSha224));
        assert!(!supports_mac(
            KeySpec::Hmac224,
            MacAlgorithmSpec::HmacSha256
        ));
        assert!(supports_signing(KeySpec::Sm2, S::Sm2dsa));
        assert!(!supports_signing(KeySpec::EccNistP256, S::EcdsaSha384));
        assert!(supports_encryption(
            KeySpec::Sm2,
            EncryptionAlgorithm::Sm2pke
        ));
        assert!(supports_key_agreement(
            KeySpec::EccNistP256,
            KeyAgreementAlgorithmSpec::Ecdh
        ));
        assert!(!supports_key_agreement(
            KeySpec::EccNistEdwards25519,
            KeyAgreementAlgorithmSpec::Ecdh
        ));
    }

    /// The RSA rows are the OAEP bound k − 2·hLen − 2 (SHA-1: 20 bytes, SHA-256: 32 bytes).
    #[test]
    fn rsa_plaintext_limits_follow_the_oaep_bound() {
        for (spec, k) in [
            (KeySpec::Rsa2048, 256),
            (KeySpec::Rsa3072, 384),
            (KeySpec::Rsa4096, 512),
        ] {
            for (alg, h) in [
                (EncryptionAlgorithm::RsaesOaepSha1, 20),
                (EncryptionAlgorithm::RsaesOaepSha256, 32),
            ] {
                assert_eq!(max_plaintext_len(spec, alg), Some(k - 2 * h - 2));
            }
            assert_eq!(max_plaintext_len(spec, EncryptionAlgorithm::Sm2pke), None);
        }
        assert_eq!(
            max_plaintext_len(KeySpec::Sm2, EncryptionAlgorithm::Sm2pke),
            Some(1024)
        );
    }

    #[test]
    fn message_lengths_per_message_type() {
        use SigningAlgorithmSpec as S;
        let raw = Some(MessageLen::UpTo(4096));
        assert_eq!(message_len(S::EcdsaSha384, MessageType::Raw), raw);
        assert_eq!(
            message_len(S::EcdsaSha384, MessageType::Digest),
            Some(MessageLen::Exactly(48))
        );
        assert_eq!(message_len(S::EcdsaSha384, MessageType::ExternalMu), None);
        assert_eq!(message_len(S::Ed25519Sha512, MessageType::Digest), None);
        assert_eq!(message_len(S::Ed25519PhSha512, MessageType::Raw), None);
        assert_eq!(
            message_len(S::Ed25519PhSha512, MessageType::Digest),
            Some(MessageLen::Exactly(64))
        );
        assert_eq!(message_len(S::MlDsaShake256, MessageType::Digest), None);
        assert_eq!(
            message_len(S::MlDsaShake256, MessageType::ExternalMu),
            Some(MessageLen::Exactly(64))
        );
        assert_eq!(
            message_len(S::Sm2dsa, MessageType::Digest),
            Some(MessageLen::Exactly(32))
        );
        for &alg in SigningAlgorithmSpec::ALL {
            assert!(
                MessageType::ALL
                    .iter()
                    .any(|&mt| message_len(alg, mt).is_some()),
                "{alg:?} accepts no message type"
            );
        }
    }

    #[test]
    fn hmac_key_lengths_are_the_spec_bits() {
        assert_eq!(hmac_key_len(KeySpec::Hmac224), Some(28));
        assert_eq!(hmac_key_len(KeySpec::Hmac512), Some(64));
        assert_eq!(hmac_key_len(KeySpec::Rsa2048), None);
    }

    #[test]
    fn every_data_key_pair_spec_is_an_asymmetric_key_spec_of_the_same_name() {
        for &spec in DataKeyPairSpec::ALL {
            assert!(is_asymmetric(spec.key_spec()));
            assert_eq!(spec.as_str(), spec.key_spec().as_str());
        }
    }
}
