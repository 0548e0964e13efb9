//! Explicit conversions of internal errors into the API's error. Internal detail is logged here
//! and never reaches the wire; a failed open or unwrap is InvalidCiphertextException, nothing more.
//! The caller's mistakes the crypto layer reports (an algorithm the key spec lacks, a digest of
//! the wrong length, a plaintext too long, a malformed peer key) are ValidationException or
//! InvalidKeyUsageException, never KMSInternalException.

use crate::algorithms;
use ferrokms_crypto::CryptoError;
use ferrokms_store::StoreError;
use ferrokms_types::enums::KeySpec;
use ferrokms_types::KmsError;

/// A store failure seen by an operation that did not expect it (NotFound and AlreadyExists are
/// handled where they mean something).
pub fn store(err: StoreError) -> KmsError {
    match err {
        StoreError::NotFound => KmsError::NotFound("The resource does not exist.".into()),
        StoreError::AlreadyExists => KmsError::AlreadyExists("The resource already exists.".into()),
        StoreError::LimitExceeded => KmsError::LimitExceeded("A limit was exceeded.".into()),
        other => {
            tracing::error!(error = %other, "store failure");
            KmsError::internal()
        }
    }
}

/// A crypto failure outside a keyed operation (or where the operation has no algorithm name).
pub fn crypto(err: CryptoError) -> KmsError {
    crypto_with(err, None)
}

/// A crypto failure of an operation with a key of `spec` and the algorithm named `algorithm`,
/// answered with AWS's messages.
pub fn crypto_for(err: CryptoError, spec: KeySpec, algorithm: &str) -> KmsError {
    crypto_with(err, Some((spec, algorithm)))
}

fn crypto_with(err: CryptoError, used: Option<(KeySpec, &str)>) -> KmsError {
    match (err, used) {
        (CryptoError::InvalidCiphertext, _) => KmsError::InvalidCiphertext(String::new()),
        (CryptoError::UnsupportedAlgorithm, Some((spec, algorithm))) => {
            algorithms::incompatible(algorithm, spec)
        }
        (CryptoError::UnsupportedAlgorithm, None) => KmsError::InvalidKeyUsage(
            "The key spec does not support this algorithm or operation.".into(),
        ),
        (CryptoError::UnsupportedMessageType, _) => {
            KmsError::Validation("The signing algorithm does not accept this message type.".into())
        }
        (CryptoError::InvalidMessageLength { .. }, Some((_, algorithm))) => {
            algorithms::bad_digest(algorithm)
        }
        (CryptoError::InvalidMessageLength { expected, actual }, None) => KmsError::Validation(
            format!("The message is {actual} bytes; the algorithm takes {expected}."),
        ),
        (CryptoError::PlaintextTooLong { max }, Some((spec, algorithm))) => {
            algorithms::plaintext_too_long(algorithm, spec, max)
        }
        (CryptoError::PlaintextTooLong { max }, None) => KmsError::Validation(format!(
            "The plaintext is longer than the {max} bytes this key and algorithm encrypt."
        )),
        // AWS answers a peer key that is not a DER SubjectPublicKeyInfo on the key's curve with
        // a ValidationException that carries no message.
        (CryptoError::InvalidPublicKey, _) => KmsError::Validation(String::new()),
        (CryptoError::InvalidKeyMaterial, _) => corrupt("key material"),
        (other, _) => {
            tracing::error!(error = %other, "crypto failure");
            KmsError::internal()
        }
    }
}

/// A stored value that does not parse: data corruption or a newer schema; never the caller's fault.
pub fn corrupt(what: &str) -> KmsError {
    tracing::error!(what, "stored value does not parse");
    KmsError::internal()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Caller mistakes the crypto layer catches are never internal errors.
    #[test]
    fn caller_mistakes_are_validation_or_key_usage() {
        let spec = KeySpec::EccNistP256;
        let cases = [
            (
                CryptoError::UnsupportedAlgorithm,
                "InvalidKeyUsageException",
            ),
            (CryptoError::UnsupportedMessageType, "ValidationException"),
            (
                CryptoError::InvalidMessageLength {
                    expected: 32,
                    actual: 31,
                },
                "ValidationException",
            ),
            (
                CryptoError::PlaintextTooLong { max: 190 },
                "ValidationException",
            ),
            (CryptoError::InvalidPublicKey, "ValidationException"),
            (CryptoError::InvalidCiphertext, "InvalidCiphertextException"),
        ];
        for (err, want) in cases {
            let text = err.to_string();
            assert_eq!(
                crypto_for(err, spec, "ECDSA_SHA_256").wire_name(),
                want,
                "{text}"
            );
        }
        assert_eq!(
            crypto(CryptoError::InvalidPublicKey).wire_name(),
            "ValidationException"
        );
        assert_eq!(
            crypto(CryptoError::InvalidKeyMaterial).wire_name(),
            "KMSInternalException"
        );
        assert_eq!(
            crypto_for(CryptoError::UnsupportedAlgorithm, spec, "ECDSA_SHA_384").message(),
            "Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256."
        );
    }
}
