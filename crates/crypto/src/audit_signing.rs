//! The cryptography of the audit trail: the Ed25519 key that signs digest
//! files, and the streaming SHA-256 that hashes log files.
//!
//! The audit crate must not touch aws-lc-rs itself, so everything it needs
//! lives here. The private key travels only as PKCS#8 in [`SecretBytes`]
//! (the server keeps it wrapped under the root key); the public key leaves
//! as a DER `SubjectPublicKeyInfo`, the form `openssl pkey -pubin` reads, so
//! third parties can check digests without ferrokms.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use zeroize::Zeroizing;

use crate::{CryptoError, SecretBytes};

/// Length in bytes of an Ed25519 signature.
pub const AUDIT_SIGNATURE_LEN: usize = 64;

/// The Ed25519 key that signs audit digest files. Not `Clone`; `Debug`
/// prints a redaction marker only.
pub struct AuditSigningKey {
    pair: Ed25519KeyPair,
}

impl AuditSigningKey {
    /// A new random key, with its PKCS#8 (v2) encoding for storage.
    pub fn generate() -> Result<(Self, SecretBytes), CryptoError> {
        let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| CryptoError::Internal("audit key generation failed"))?;
        // `Document` wipes its own buffer on drop; the copy is zeroizing too.
        let pkcs8 = SecretBytes::from_zeroizing(Zeroizing::new(doc.as_ref().to_vec()));
        let key = Self::from_pkcs8(pkcs8.expose())?;
        Ok((key, pkcs8))
    }

    /// Loads a key from PKCS#8 v1 or v2 (as `openssl genpkey -algorithm
    /// ED25519` writes it, in DER).
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|_| CryptoError::Internal("audit key is not an Ed25519 PKCS#8 key"))?;
        Ok(Self { pair })
    }

    /// The Ed25519 signature of `message` ([`AUDIT_SIGNATURE_LEN`] bytes).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }

    /// The public key as DER `SubjectPublicKeyInfo` (44 bytes).
    pub fn public_key_der(&self) -> Vec<u8> {
        match self.pair.public_key().as_der() {
            Ok(der) => der.as_ref().to_vec(),
            // Marshalling a valid Ed25519 point cannot fail; should the
            // library ever refuse, the fixed RFC 8410 prefix gives the same bytes.
            Err(_) => {
                let mut der = ED25519_SPKI_PREFIX.to_vec();
                der.extend_from_slice(self.pair.public_key().as_ref());
                der
            }
        }
    }
}

impl fmt::Debug for AuditSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditSigningKey(<redacted>)")
    }
}

/// The DER header of an Ed25519 `SubjectPublicKeyInfo` (RFC 8410), before
/// the 32 key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Whether `signature` is a valid Ed25519 signature of `message` under the
/// key `public_key_der` (DER `SubjectPublicKeyInfo`). A malformed key or
/// signature is simply `false`.
pub fn verify_audit_signature(public_key_der: &[u8], message: &[u8], signature: &[u8]) -> bool {
    // Only SPKI is accepted: a bare 32-byte key would be read too by
    // aws-lc, and the contract is one encoding.
    if public_key_der.len() != ED25519_SPKI_PREFIX.len() + 32
        || public_key_der[..ED25519_SPKI_PREFIX.len()] != ED25519_SPKI_PREFIX
    {
        return false;
    }
    UnparsedPublicKey::new(&ED25519, public_key_der)
        .verify(message, signature)
        .is_ok()
}

/// SHA-256 computed piece by piece, for files too large to hold in memory.
#[derive(Clone)]
pub struct Sha256Hasher {
    ctx: aws_lc_rs::digest::Context,
}

impl Sha256Hasher {
    /// A hasher that has seen nothing yet.
    pub fn new() -> Self {
        Self {
            ctx: aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256),
        }
    }

    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    /// The SHA-256 of everything fed so far.
    pub fn finish(self) -> [u8; 32] {
        let digest = self.ctx.finish();
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_ref());
        out
    }
}

impl Default for Sha256Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Sha256Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sha256Hasher")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::hex;

    #[test]
    fn signatures_verify_under_the_exported_key_only() {
        let (key, _) = AuditSigningKey::generate().expect("generate");
        let (other, _) = AuditSigningKey::generate().expect("generate");
        let sig = key.sign(b"digest");
        assert_eq!(sig.len(), AUDIT_SIGNATURE_LEN);
        let der = key.public_key_der();
        assert_eq!(der.len(), 44);
        assert!(verify_audit_signature(&der, b"digest", &sig));
        assert!(!verify_audit_signature(&der, b"digesT", &sig));
        assert!(!verify_audit_signature(
            &other.public_key_der(),
            b"digest",
            &sig
        ));
        let mut bad = sig.clone();
        bad[0] ^= 1;
        assert!(!verify_audit_signature(&der, b"digest", &bad));
        assert!(!verify_audit_signature(&der[12..], b"digest", &sig));
        assert!(!verify_audit_signature(b"", b"digest", &sig));
    }

    #[test]
    fn pkcs8_round_trip_keeps_the_key() {
        let (key, pkcs8) = AuditSigningKey::generate().expect("generate");
        let again = AuditSigningKey::from_pkcs8(pkcs8.expose()).expect("parse");
        assert_eq!(key.public_key_der(), again.public_key_der());
        assert!(AuditSigningKey::from_pkcs8(b"not a key").is_err());
    }

    /// RFC 8032 section 7.1, TEST 2, in a PKCS#8 v1 wrapper (as openssl writes it).
    #[test]
    fn rfc8032_known_answer() {
        let mut pkcs8 = hex("302e020100300506032b657004220420");
        pkcs8.extend(hex(
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        ));
        let key = AuditSigningKey::from_pkcs8(&pkcs8).expect("parse");
        let mut spki = ED25519_SPKI_PREFIX.to_vec();
        spki.extend(hex(
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        ));
        assert_eq!(key.public_key_der(), spki);
        let expected = hex(
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
             085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        );
        assert_eq!(key.sign(&[0x72]), expected);
        assert!(verify_audit_signature(&spki, &[0x72], &expected));
    }

    #[test]
    fn streaming_hash_equals_one_shot() {
        let mut h = Sha256Hasher::new();
        h.update(b"ab");
        h.update(b"c");
        assert_eq!(h.finish(), crate::sha256(b"abc"));
        assert_eq!(
            Sha256Hasher::default().finish().to_vec(),
            hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
    }

    #[test]
    fn debug_is_redacted() {
        let (key, _) = AuditSigningKey::generate().expect("generate");
        assert_eq!(format!("{key:?}"), "AuditSigningKey(<redacted>)");
    }
}
