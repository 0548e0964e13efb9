//! The algorithm a request names, checked against the key it is for, with AWS's answers: an
//! algorithm the key spec lacks is InvalidKeyUsageException ("Algorithm X is incompatible with
//! key spec Y."), a message or plaintext of the wrong size is ValidationException. Everything here
//! is decided from the key spec table (`ferrokms_types::key_specs`) before any key material is
//! unwrapped; the pipeline has already checked the key's usage.

use crate::key::Key;
use ferrokms_types::enums::{
    EncapsulationAlgorithmSpec, EncryptionAlgorithm, KeyAgreementAlgorithmSpec, KeySpec,
    MacAlgorithmSpec, MessageType, SigningAlgorithmSpec,
};
use ferrokms_types::key_specs::{self, MessageLen};
use ferrokms_types::KmsError;

/// AWS's answer to an algorithm the key spec does not support.
pub fn incompatible(algorithm: &str, spec: KeySpec) -> KmsError {
    KmsError::InvalidKeyUsage(format!(
        "Algorithm {algorithm} is incompatible with key spec {}.",
        spec.as_str()
    ))
}

/// AWS's answer to a DIGEST (or EXTERNAL_MU) message of the wrong length.
pub fn bad_digest(algorithm: &str) -> KmsError {
    KmsError::Validation(format!(
        "Digest is invalid length for algorithm {algorithm}."
    ))
}

/// AWS's answer to a plaintext longer than an asymmetric key and algorithm encrypt.
pub fn plaintext_too_long(algorithm: &str, spec: KeySpec, max: usize) -> KmsError {
    KmsError::Validation(format!(
        "Algorithm {algorithm} and key spec {} cannot encrypt data larger than {max} bytes.",
        spec.as_str()
    ))
}

/// AWS refuses an encryption context with asymmetric encryption: it has nowhere to bind it.
pub fn context_refused() -> KmsError {
    KmsError::Validation(
        "EncryptionContext is not supported when encrypting/decrypting with asymmetric CMKs."
            .into(),
    )
}

/// A required enum member the validator has already checked; absent or unknown here would be a
/// validation bug, answered as the validator would.
fn parsed<T>(
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    field: &str,
) -> Result<T, KmsError> {
    value.and_then(parse).ok_or_else(|| {
        KmsError::Validation(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// The encryption algorithm of Encrypt, Decrypt and ReEncrypt: SYMMETRIC_DEFAULT when none is
/// named, which only symmetric keys take; asymmetric keys need one of their own.
pub fn encryption(key: &Key, requested: Option<&str>) -> Result<EncryptionAlgorithm, KmsError> {
    let algorithm = requested
        .and_then(EncryptionAlgorithm::parse)
        .unwrap_or(EncryptionAlgorithm::SymmetricDefault);
    if key.algorithms().encryption.contains(&algorithm) {
        Ok(algorithm)
    } else {
        Err(incompatible(algorithm.as_str(), key.spec))
    }
}

/// Whether a named encryption algorithm is an asymmetric one (the ciphertext is then the raw
/// RSAES-OAEP or SM2PKE output, which does not name its key).
pub fn is_asymmetric_encryption(requested: Option<&str>) -> bool {
    requested
        .and_then(EncryptionAlgorithm::parse)
        .is_some_and(|a| a != EncryptionAlgorithm::SymmetricDefault)
}

/// AWS's plaintext limit of an asymmetric key and algorithm.
pub fn check_plaintext(
    spec: KeySpec,
    algorithm: EncryptionAlgorithm,
    len: usize,
) -> Result<(), KmsError> {
    match key_specs::max_plaintext_len(spec, algorithm) {
        Some(max) if len > max => Err(plaintext_too_long(algorithm.as_str(), spec, max)),
        Some(_) => Ok(()),
        None => Err(incompatible(algorithm.as_str(), spec)),
    }
}

/// The signing algorithm and message type of Sign and Verify, and whether the message's length
/// fits them (DIGEST: the hash length; EXTERNAL_MU: 64 bytes).
pub fn signing(
    key: &Key,
    algorithm: Option<&str>,
    message_type: Option<&str>,
    message_len: usize,
) -> Result<(SigningAlgorithmSpec, MessageType), KmsError> {
    let algorithm = parsed(algorithm, SigningAlgorithmSpec::parse, "signingAlgorithm")?;
    if !key.algorithms().signing.contains(&algorithm) {
        return Err(incompatible(algorithm.as_str(), key.spec));
    }
    let message_type = message_type
        .and_then(MessageType::parse)
        .unwrap_or(MessageType::Raw);
    match key_specs::message_len(algorithm, message_type) {
        None => Err(KmsError::Validation(format!(
            "MessageType {} is not supported with signing algorithm {}.",
            message_type.as_str(),
            algorithm.as_str()
        ))),
        Some(MessageLen::Exactly(n)) if n != message_len => Err(bad_digest(algorithm.as_str())),
        Some(MessageLen::UpTo(max)) if message_len > max => Err(KmsError::Validation(format!(
            "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to {max}"
        ))),
        Some(_) => Ok((algorithm, message_type)),
    }
}

/// The MAC algorithm of GenerateMac and VerifyMac: the one of the key's HMAC spec.
pub fn mac(key: &Key, algorithm: Option<&str>) -> Result<MacAlgorithmSpec, KmsError> {
    let algorithm = parsed(algorithm, MacAlgorithmSpec::parse, "macAlgorithm")?;
    if key.algorithms().mac.contains(&algorithm) {
        Ok(algorithm)
    } else {
        Err(incompatible(algorithm.as_str(), key.spec))
    }
}

/// The key agreement algorithm of DeriveSharedSecret.
pub fn key_agreement(
    key: &Key,
    algorithm: Option<&str>,
) -> Result<KeyAgreementAlgorithmSpec, KmsError> {
    let algorithm = parsed(
        algorithm,
        KeyAgreementAlgorithmSpec::parse,
        "keyAgreementAlgorithm",
    )?;
    if key.algorithms().key_agreement.contains(&algorithm) {
        Ok(algorithm)
    } else {
        Err(incompatible(algorithm.as_str(), key.spec))
    }
}

/// The encapsulation algorithm of Encapsulate and Decapsulate.
pub fn encapsulation(
    key: &Key,
    algorithm: Option<&str>,
) -> Result<EncapsulationAlgorithmSpec, KmsError> {
    let algorithm = parsed(
        algorithm,
        EncapsulationAlgorithmSpec::parse,
        "encapsulationAlgorithm",
    )?;
    if key.algorithms().encapsulation.contains(&algorithm) {
        Ok(algorithm)
    } else {
        Err(incompatible(algorithm.as_str(), key.spec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::key_of;
    use ferrokms_types::enums::KeyUsage;

    #[test]
    fn asymmetric_keys_need_an_encryption_algorithm() {
        let rsa = key_of(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
        let err = encryption(&rsa, None).unwrap_err();
        assert_eq!(err.wire_name(), "InvalidKeyUsageException");
        assert_eq!(
            err.message(),
            "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048."
        );
        assert_eq!(
            encryption(&rsa, Some("RSAES_OAEP_SHA_1")).unwrap(),
            EncryptionAlgorithm::RsaesOaepSha1
        );
        let aes = key_of(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
        assert!(encryption(&aes, Some("RSAES_OAEP_SHA_256")).is_err());
        assert!(encryption(&aes, None).is_ok());
    }

    #[test]
    fn rsa_plaintext_limit_is_aws_s() {
        let alg = EncryptionAlgorithm::RsaesOaepSha256;
        assert!(check_plaintext(KeySpec::Rsa2048, alg, 190).is_ok());
        let err = check_plaintext(KeySpec::Rsa2048, alg, 191).unwrap_err();
        assert_eq!(err.wire_name(), "ValidationException");
        assert_eq!(
            err.message(),
            "Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot encrypt data larger than 190 bytes."
        );
    }

    #[test]
    fn digest_lengths_and_message_types() {
        let p256 = key_of(KeySpec::EccNistP256, KeyUsage::SignVerify);
        assert!(signing(&p256, Some("ECDSA_SHA_256"), Some("DIGEST"), 32).is_ok());
        let err = signing(&p256, Some("ECDSA_SHA_256"), Some("DIGEST"), 48).unwrap_err();
        assert_eq!(
            err.message(),
            "Digest is invalid length for algorithm ECDSA_SHA_256."
        );
        let err = signing(&p256, Some("ECDSA_SHA_384"), None, 10).unwrap_err();
        assert_eq!(err.wire_name(), "InvalidKeyUsageException");
        let err = signing(&p256, Some("ECDSA_SHA_256"), Some("EXTERNAL_MU"), 64).unwrap_err();
        assert_eq!(err.wire_name(), "ValidationException");
        let mldsa = key_of(KeySpec::MlDsa65, KeyUsage::SignVerify);
        assert!(signing(&mldsa, Some("ML_DSA_SHAKE_256"), Some("EXTERNAL_MU"), 64).is_ok());
        assert!(signing(&mldsa, Some("ML_DSA_SHAKE_256"), Some("DIGEST"), 64).is_err());
        let ed = key_of(KeySpec::EccNistEdwards25519, KeyUsage::SignVerify);
        assert!(signing(&ed, Some("ED25519_PH_SHA_512"), Some("RAW"), 64).is_err());
        assert!(signing(&ed, Some("ED25519_PH_SHA_512"), Some("DIGEST"), 64).is_ok());
    }

    #[test]
    fn mac_algorithm_must_match_the_hmac_spec() {
        let hmac = key_of(KeySpec::Hmac384, KeyUsage::GenerateVerifyMac);
        assert!(mac(&hmac, Some("HMAC_SHA_384")).is_ok());
        assert_eq!(
            mac(&hmac, Some("HMAC_SHA_256")).unwrap_err().message(),
            "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_384."
        );
    }
}
