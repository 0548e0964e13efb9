//! The crate's single error type.
//!
//! Deliberately coarse: a caller learns only *that* a ciphertext was refused,
//! never why (which byte, which check), so the service layer cannot leak an
//! oracle even by accident. Failures of the crypto library itself are kept
//! apart so they can be answered as an internal error and logged.

/// What can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// Any malformed blob, failed AEAD open or failed unwrap. Carries no detail
    /// on purpose.
    #[error("invalid ciphertext")]
    InvalidCiphertext,
    /// A failure of the crypto library (random generator, key setup) or a
    /// caller passing arguments this crate's contract forbids (wrong key
    /// length, oversized input, malformed root key text). The text is static
    /// and never contains secret data.
    #[error("internal crypto error: {0}")]
    Internal(&'static str),
}
