//! The crate's single error type.
//!
//! Deliberately coarse: a caller learns only *that* a ciphertext was refused,
//! never why (which byte, which check), so the service layer cannot leak an
//! oracle even by accident. Failures of the crypto library itself are kept
//! apart so they can be answered as an internal error and logged.
//!
//! The caller's mistakes that AWS answers with a ValidationException or an
//! InvalidKeyUsageException (an algorithm the key spec lacks, a digest of the
//! wrong length, a plaintext too long, a malformed peer key) each have their
//! own variant, so the service maps them without reading messages. A signature
//! or MAC that does not verify is not an error: `verify` returns `false`.

/// What can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// Any malformed blob, failed AEAD open or failed unwrap, any asymmetric
    /// ciphertext that does not decrypt. Carries no detail on purpose.
    #[error("invalid ciphertext")]
    InvalidCiphertext,
    /// A failure of the crypto library (random generator, key setup) or a
    /// caller passing arguments this crate's contract forbids (wrong key
    /// length, oversized input, malformed root key text). The text is static
    /// and never contains secret data.
    #[error("internal crypto error: {0}")]
    Internal(&'static str),
    /// The key spec does not do this operation or algorithm: ECDSA_SHA_384
    /// with an ECC_NIST_P256 key, a MAC with an RSA key, ECDH with Ed25519.
    #[error("the key spec does not support this algorithm or operation")]
    UnsupportedAlgorithm,
    /// The key lives outside this process (an HSM token) and could not be used; whoever
    /// reached for it logged why.
    #[error("the key's token could not be used")]
    KeyUnreachable,
    /// The signing algorithm does not take this message type: RAW with
    /// ED25519_PH_SHA_512, DIGEST with ML-DSA, EXTERNAL_MU with ECDSA.
    #[error("the signing algorithm does not accept this message type")]
    UnsupportedMessageType,
    /// A DIGEST or EXTERNAL_MU message, or a RAW message over 4096 bytes, of a
    /// length the algorithm does not take.
    #[error("message is {actual} bytes; the algorithm takes {expected}")]
    InvalidMessageLength {
        /// The exact length required (for RAW: the maximum).
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A plaintext longer than the key spec and algorithm can encrypt.
    #[error("plaintext is longer than the {max} bytes this key and algorithm encrypt")]
    PlaintextTooLong {
        /// AWS's limit for the key spec and algorithm.
        max: usize,
    },
    /// A public key that is not a DER SubjectPublicKeyInfo of the key's own
    /// curve or parameter set (malformed, another curve, a point off the curve).
    #[error("invalid public key")]
    InvalidPublicKey,
    /// Key material that does not parse as the documented private key form
    /// of its key spec: data corruption, or material made for another spec.
    #[error("key material does not match its key spec")]
    InvalidKeyMaterial,
}
