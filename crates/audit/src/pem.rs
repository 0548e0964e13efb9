//! The exported public key: `audit-public-key.pem` in the audit directory,
//! a standard `PUBLIC KEY` PEM (DER `SubjectPublicKeyInfo`, RFC 7468) that
//! `openssl pkeyutl -verify -pubin` reads.
//!
//! A verifier should take the key from somewhere the server cannot rewrite
//! (a copy made when the key was created); the copy in the directory is a
//! convenience, and [`crate::verify`] takes the key as an argument for that
//! reason.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::error::IoContext;
use crate::AuditError;

/// Name of the public key file in the audit directory.
pub const PUBLIC_KEY_FILE: &str = "audit-public-key.pem";

const BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
const END: &str = "-----END PUBLIC KEY-----";

/// `der` (a `SubjectPublicKeyInfo`) as PEM text, lines of 64 characters.
pub fn public_key_to_pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + 64);
    out.push_str(BEGIN);
    out.push('\n');
    for chunk in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// The DER key inside a `PUBLIC KEY` PEM text (surrounding text ignored).
pub fn public_key_from_pem(pem: &str) -> Result<Vec<u8>, AuditError> {
    let start = pem
        .find(BEGIN)
        .ok_or(AuditError::InvalidPublicKey("no BEGIN PUBLIC KEY line"))?
        + BEGIN.len();
    let len = pem[start..]
        .find(END)
        .ok_or(AuditError::InvalidPublicKey("no END PUBLIC KEY line"))?;
    let b64: String = pem[start..start + len]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(b64)
        .map_err(|_| AuditError::InvalidPublicKey("PEM body is not base64"))
}

/// Reads and decodes `audit-public-key.pem` from `dir`.
pub fn read_public_key(dir: &Path) -> Result<Vec<u8>, AuditError> {
    let path = dir.join(PUBLIC_KEY_FILE);
    let text = std::fs::read_to_string(&path).at(&path)?;
    public_key_from_pem(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip() {
        let der: Vec<u8> = (0u8..100).collect();
        let pem = public_key_to_pem(&der);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert_eq!(public_key_from_pem(&pem).expect("decode"), der);
        assert!(public_key_from_pem("garbage").is_err());
    }
}
