//! ferrokms-crypto: the only crate that touches aws-lc-rs.
//!
//! It owns every cryptographic decision of the server so the rest of the
//! workspace handles only opaque blobs and [`SecretBytes`]:
//!
//! - [`SecretBytes`]: zeroizing, unprintable container for secrets;
//! - [`random_bytes`] / [`generate_symmetric_key`]: the system CSPRNG;
//! - [`RootKey`]: wraps key material and stored secrets at rest, through
//!   purpose-named methods only ([`MaterialWrapping`], [`RootSecrets`]);
//! - [`ciphertext`]: the customer-facing blob of symmetric encryption,
//!   specified byte by byte in `docs/ciphertext-format.md`;
//! - [`encode_encryption_context`]: the canonical bytes of a context;
//! - [`asymmetric`]: every other key spec (RSA, ECC, Ed25519, SM2, ML-DSA,
//!   ML-KEM, HMAC): key generation, public keys, Sign/Verify, RSA and SM2
//!   encryption, MAC, ECDH, KEM and data key pairs.
//!
//! The primitives themselves (AES-256-GCM, HKDF-SHA256) sit behind the
//! private `symmetric` module, the seam where a hardware-backed
//! implementation can later take over.

pub mod asymmetric;
mod audit_signing;
pub mod ciphertext;
mod context;
mod error;
pub mod import;
mod random;
mod root_key;
mod secret;
mod symmetric;
#[cfg(test)]
mod testing;

pub use audit_signing::{
    verify_audit_signature, AuditSigningKey, Sha256Hasher, AUDIT_SIGNATURE_LEN,
};
pub use context::encode_encryption_context;
pub use error::CryptoError;
pub use random::{generate_symmetric_key, random_bytes, SYMMETRIC_KEY_LEN};
pub use root_key::{AuditKeyState, MaterialWrapping, RootKey, RootSecrets, WRAP_OVERHEAD};
pub use secret::SecretBytes;

/// SHA-256 of `data`, for identifiers derived from names (not for secrets or signatures).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The service shares these across request tasks.
    #[test]
    fn shared_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<RootKey>();
        assert_send_sync::<MaterialWrapping>();
        assert_send_sync::<RootSecrets>();
        assert_send_sync::<SecretBytes>();
        assert_send_sync::<CryptoError>();
        assert_send_sync::<ciphertext::Header>();
        assert_send_sync::<asymmetric::DataKeyPair>();
    }
}
