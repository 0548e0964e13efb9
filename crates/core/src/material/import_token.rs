//! The import token of GetParametersForImport: everything ImportKeyMaterial needs to unwrap the
//! caller's material (the wrapping private key, its spec and algorithm), the key it is for and
//! its expiry, sealed under the root key.
//!
//! Self-contained on purpose: nothing is stored when parameters are handed out, so any node of a
//! cluster can take the import and an abandoned token costs nothing. The seal (AES-256-GCM under
//! the root key, bound to its purpose) makes a tampered or forged token fail to open; the key ARN
//! inside makes a token for another key (or account or Region) useless.
//!
//! Sealed layout (plaintext, v1): `1` ‖ expiry (i64 BE, epoch ms) ‖ algorithm (u8) ‖ wrapping key
//! spec (u8) ‖ ARN length (u16 BE) ‖ ARN ‖ PKCS#8 private key.

use crate::error;
use ferrokms_crypto::{RootSecrets, SecretBytes};
use ferrokms_types::enums::{WrappingAlgorithm, WrappingKeySpec};
use ferrokms_types::KmsError;
use zeroize::Zeroizing;

/// How long a token (and its public key) may be used: AWS's 24 hours.
pub const TOKEN_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

const FORMAT_V1: u8 = 1;

/// An opened token.
pub struct ImportToken {
    pub key_arn: String,
    pub algorithm: WrappingAlgorithm,
    pub wrapping_key_spec: WrappingKeySpec,
    pub expires_ms: i64,
    pub private_key: SecretBytes,
}

impl std::fmt::Debug for ImportToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportToken")
            .field("key_arn", &self.key_arn)
            .field("algorithm", &self.algorithm)
            .field("expires_ms", &self.expires_ms)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl ImportToken {
    /// Seals the token under the root key.
    pub fn seal(&self, root: &RootSecrets) -> Result<Vec<u8>, KmsError> {
        let arn = self.key_arn.as_bytes();
        let arn_len = u16::try_from(arn.len()).map_err(|_| KmsError::internal())?;
        let mut plain = Zeroizing::new(Vec::with_capacity(16 + arn.len() + self.private_key.len()));
        plain.push(FORMAT_V1);
        plain.extend_from_slice(&self.expires_ms.to_be_bytes());
        plain.push(index_of(WrappingAlgorithm::ALL, self.algorithm));
        plain.push(index_of(WrappingKeySpec::ALL, self.wrapping_key_spec));
        plain.extend_from_slice(&arn_len.to_be_bytes());
        plain.extend_from_slice(arn);
        plain.extend_from_slice(self.private_key.expose());
        root.seal_import_token(&plain).map_err(error::crypto)
    }

    /// Opens a token for the key `key_arn` at `now_ms`: InvalidImportTokenException when it does
    /// not open, is malformed or names another key; ExpiredImportTokenException past its expiry.
    pub fn open(
        root: &RootSecrets,
        token: &[u8],
        key_arn: &str,
        now_ms: i64,
    ) -> Result<Self, KmsError> {
        let plain = root.open_import_token(token).map_err(|_| invalid())?;
        let opened = parse(plain.expose()).ok_or_else(invalid)?;
        if opened.key_arn != key_arn {
            return Err(invalid());
        }
        if now_ms >= opened.expires_ms {
            return Err(KmsError::ExpiredImportToken(
                "The import token is expired. Use GetParametersForImport to get a new import token and public key.".into(),
            ));
        }
        Ok(opened)
    }
}

fn invalid() -> KmsError {
    KmsError::InvalidImportToken(
        "The import token is invalid or is associated with a different KMS key.".into(),
    )
}

fn index_of<T: PartialEq>(all: &[T], value: T) -> u8 {
    // Both enums have a handful of values: the index always fits.
    all.iter().position(|v| *v == value).unwrap_or(0) as u8
}

fn parse(plain: &[u8]) -> Option<ImportToken> {
    let (&format, rest) = plain.split_first()?;
    if format != FORMAT_V1 || rest.len() < 12 {
        return None;
    }
    let (expiry, rest) = rest.split_at(8);
    let expires_ms = i64::from_be_bytes(expiry.try_into().ok()?);
    let algorithm = *WrappingAlgorithm::ALL.get(usize::from(rest[0]))?;
    let wrapping_key_spec = *WrappingKeySpec::ALL.get(usize::from(rest[1]))?;
    let arn_len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
    let rest = &rest[4..];
    if rest.len() < arn_len {
        return None;
    }
    let (arn, private_key) = rest.split_at(arn_len);
    Some(ImportToken {
        key_arn: String::from_utf8(arn.to_vec()).ok()?,
        algorithm,
        wrapping_key_spec,
        expires_ms,
        private_key: SecretBytes::new(private_key.to_vec()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/k";

    fn token(expires_ms: i64) -> ImportToken {
        ImportToken {
            key_arn: ARN.into(),
            algorithm: WrappingAlgorithm::RsaAesKeyWrapSha256,
            wrapping_key_spec: WrappingKeySpec::Rsa3072,
            expires_ms,
            private_key: SecretBytes::new(b"private key bytes".to_vec()),
        }
    }

    fn name(r: Result<ImportToken, KmsError>) -> &'static str {
        match r {
            Ok(_) => "ok",
            Err(e) => e.wire_name(),
        }
    }

    #[test]
    fn a_token_opens_for_its_key_until_it_expires() {
        let (_, root) = ferrokms_crypto::RootKey::generate().unwrap().split();
        let sealed = token(1_000).seal(&root).unwrap();
        let opened = ImportToken::open(&root, &sealed, ARN, 999).unwrap();
        assert_eq!(opened.key_arn, ARN);
        assert_eq!(opened.algorithm, WrappingAlgorithm::RsaAesKeyWrapSha256);
        assert_eq!(opened.wrapping_key_spec, WrappingKeySpec::Rsa3072);
        assert_eq!(opened.private_key.expose(), b"private key bytes");
        assert!(!format!("{opened:?}").contains("private key bytes"));

        assert_eq!(
            name(ImportToken::open(&root, &sealed, ARN, 1_000)),
            "ExpiredImportTokenException"
        );
    }

    #[test]
    fn tampered_foreign_and_misdirected_tokens_are_invalid() {
        let (_, root) = ferrokms_crypto::RootKey::generate().unwrap().split();
        let sealed = token(1_000).seal(&root).unwrap();
        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert_eq!(
            name(ImportToken::open(&root, &tampered, ARN, 0)),
            "InvalidImportTokenException"
        );
        let (_, other_root) = ferrokms_crypto::RootKey::generate().unwrap().split();
        assert_eq!(
            name(ImportToken::open(&other_root, &sealed, ARN, 0)),
            "InvalidImportTokenException"
        );
        assert_eq!(
            name(ImportToken::open(
                &root,
                &sealed,
                "arn:aws:kms:us-east-1:111122223333:key/x",
                0
            )),
            "InvalidImportTokenException"
        );
        assert_eq!(
            name(ImportToken::open(&root, b"junk", ARN, 0)),
            "InvalidImportTokenException"
        );
        // A blob sealed under the root key for another purpose does not open as a token.
        let material = root.seal_session_token(&[0; 32]).unwrap();
        assert_eq!(
            name(ImportToken::open(&root, &material, ARN, 0)),
            "InvalidImportTokenException"
        );
    }
}
