//! The byte layout of a ciphertext blob's header, and nothing else.
//!
//! ```text
//! magic "FK" (2) | format 0x01 (1) | key id length L (1) | key id (L, UTF-8)
//! | key version (4, u32 BE) | salt (32) | nonce (12)      <- header, all in the AAD
//! | AES-256-GCM ciphertext (n) | tag (16)
//! ```
//!
//! Parsing is strict: every length is checked before it is used, nothing
//! trails the tag's position, and any deviation is the same opaque
//! [`CryptoError::InvalidCiphertext`].

use super::MAX_BLOB_LEN;
use crate::symmetric::{NONCE_LEN, TAG_LEN};
use crate::CryptoError;

/// First two bytes of every blob, so foreign data is refused before any
/// cryptography runs.
pub(super) const MAGIC: [u8; 2] = *b"FK";
/// The only format version so far.
pub(super) const FORMAT_V1: u8 = 0x01;
/// Longest key id the format carries (UUIDs are 36, multi-Region ids 36).
pub const MAX_KEY_ID_LEN: usize = 64;
/// Length of the per-message HKDF salt.
pub(super) const SALT_LEN: usize = 32;
/// Header bytes besides the key id: magic, format, id length, version,
/// salt, nonce.
const FIXED_HEADER_LEN: usize = 2 + 1 + 1 + 4 + SALT_LEN + NONCE_LEN;
/// Bytes a blob adds to the plaintext besides the key id (header and tag).
pub const FIXED_OVERHEAD: usize = FIXED_HEADER_LEN + TAG_LEN;

/// What a blob says about the key that sealed it. Not secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The key id (not an ARN or alias) of the KMS key.
    pub key_id: String,
    /// Which version of that key's material was used.
    pub key_version: u32,
}

/// A structurally valid blob, split into its parts (borrowed from the blob).
pub(super) struct Parsed<'a> {
    pub(super) header: Header,
    /// Everything before the GCM ciphertext: the first part of the AAD.
    pub(super) header_bytes: &'a [u8],
    pub(super) salt: &'a [u8],
    pub(super) nonce: [u8; NONCE_LEN],
    /// GCM ciphertext followed by the tag.
    pub(super) sealed: &'a [u8],
}

/// Writes the header for a new blob into a fresh buffer with room for
/// `body_len` more bytes. Refuses key ids outside 1..=64 bytes.
pub(super) fn write(
    header: &Header,
    salt: &[u8; SALT_LEN],
    nonce: &[u8; NONCE_LEN],
    body_len: usize,
) -> Result<Vec<u8>, CryptoError> {
    let id_len = key_id_len_byte(&header.key_id)?;
    let mut out = Vec::with_capacity(FIXED_HEADER_LEN + header.key_id.len() + body_len);
    out.extend_from_slice(&MAGIC);
    out.push(FORMAT_V1);
    out.push(id_len);
    out.extend_from_slice(header.key_id.as_bytes());
    out.extend_from_slice(&header.key_version.to_be_bytes());
    out.extend_from_slice(salt);
    out.extend_from_slice(nonce);
    Ok(out)
}

/// The key id's length as the one-byte prefix, if it is 1..=64 bytes.
pub(super) fn key_id_len_byte(key_id: &str) -> Result<u8, CryptoError> {
    match u8::try_from(key_id.len()) {
        Ok(n) if (1..=MAX_KEY_ID_LEN).contains(&key_id.len()) => Ok(n),
        _ => Err(CryptoError::Internal("key id must be 1 to 64 bytes")),
    }
}

/// Splits `blob` into its parts, checking every field's shape.
pub(super) fn parse(blob: &[u8]) -> Result<Parsed<'_>, CryptoError> {
    if blob.len() > MAX_BLOB_LEN {
        return Err(CryptoError::InvalidCiphertext);
    }
    let mut r = Reader { rest: blob };
    if r.take(MAGIC.len())? != MAGIC || r.take(1)? != [FORMAT_V1] {
        return Err(CryptoError::InvalidCiphertext);
    }
    let id_len = usize::from(r.take(1)?[0]);
    if id_len == 0 || id_len > MAX_KEY_ID_LEN {
        return Err(CryptoError::InvalidCiphertext);
    }
    let key_id = std::str::from_utf8(r.take(id_len)?)
        .map_err(|_| CryptoError::InvalidCiphertext)?
        .to_owned();
    let key_version = u32::from_be_bytes(r.array()?);
    let salt = r.take(SALT_LEN)?;
    let nonce: [u8; NONCE_LEN] = r.array()?;
    let header_len = blob.len() - r.rest.len();
    if r.rest.len() < TAG_LEN {
        return Err(CryptoError::InvalidCiphertext);
    }
    Ok(Parsed {
        header: Header {
            key_id,
            key_version,
        },
        header_bytes: &blob[..header_len],
        salt,
        nonce,
        sealed: r.rest,
    })
}

/// A cursor that fails with `InvalidCiphertext` instead of reading past the end.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CryptoError> {
        if self.rest.len() < n {
            return Err(CryptoError::InvalidCiphertext);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CryptoError> {
        self.take(N)?
            .try_into()
            .map_err(|_| CryptoError::InvalidCiphertext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let header = Header {
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
            key_version: 0x0102_0304,
        };
        let mut blob = write(&header, &[0x5a; SALT_LEN], &[0xa5; NONCE_LEN], 0).expect("write");
        blob.extend_from_slice(b"ct");
        blob.extend_from_slice(&[0xee; TAG_LEN]);
        blob
    }

    #[test]
    fn layout_is_byte_exact() {
        let blob = sample();
        assert_eq!(&blob[0..2], b"FK");
        assert_eq!(blob[2], 0x01);
        assert_eq!(blob[3], 36);
        assert_eq!(&blob[4..40], b"1234abcd-12ab-34cd-56ef-1234567890ab");
        assert_eq!(&blob[40..44], &[1, 2, 3, 4]);
        assert_eq!(&blob[44..76], &[0x5a; SALT_LEN]);
        assert_eq!(&blob[76..88], &[0xa5; NONCE_LEN]);
        assert_eq!(&blob[88..90], b"ct");
        assert_eq!(&blob[90..], &[0xee; TAG_LEN]);
        assert_eq!(FIXED_OVERHEAD + 36, 88 + TAG_LEN);
    }

    #[test]
    fn parse_splits_what_write_wrote() {
        let blob = sample();
        let p = parse(&blob).expect("parse");
        assert_eq!(p.header.key_id, "1234abcd-12ab-34cd-56ef-1234567890ab");
        assert_eq!(p.header.key_version, 0x0102_0304);
        assert_eq!(p.header_bytes, &blob[..88]);
        assert_eq!(p.salt, &[0x5a; SALT_LEN]);
        assert_eq!(p.nonce, [0xa5; NONCE_LEN]);
        assert_eq!(p.sealed.len(), 2 + TAG_LEN);
    }

    #[test]
    fn key_id_lengths_outside_1_to_64_are_refused() {
        let salt = [0; SALT_LEN];
        let nonce = [0; NONCE_LEN];
        for (len, ok) in [(0, false), (1, true), (64, true), (65, false), (300, false)] {
            let header = Header {
                key_id: "k".repeat(len),
                key_version: 1,
            };
            assert_eq!(write(&header, &salt, &nonce, 0).is_ok(), ok, "length {len}");
        }
    }

    #[test]
    fn bad_fields_are_refused() {
        let good = sample();
        let mut cases = Vec::new();
        for (at, value) in [
            (0, b'G'),
            (1, b'k'),
            (2, 0x00),
            (2, 0x02),
            (3, 0),
            (3, 65),
            (3, 255),
        ] {
            let mut bad = good.clone();
            bad[at] = value;
            cases.push(bad);
        }
        let mut not_utf8 = good.clone();
        not_utf8[4] = 0xff;
        cases.push(not_utf8);
        for bad in cases {
            assert!(matches!(parse(&bad), Err(CryptoError::InvalidCiphertext)));
        }
    }

    #[test]
    fn every_truncation_is_refused() {
        let blob = sample();
        let min_len = blob.len() - 2;
        for n in 0..min_len {
            assert!(parse(&blob[..n]).is_err(), "length {n}");
        }
        // An empty GCM ciphertext (empty plaintext) is structurally fine.
        assert!(parse(&blob[..min_len]).is_ok());
    }

    #[test]
    fn blobs_over_the_aws_limit_are_refused() {
        let mut blob = sample();
        blob.resize(MAX_BLOB_LEN, 0);
        assert!(parse(&blob).is_ok());
        blob.push(0);
        assert!(parse(&blob).is_err());
    }
}
