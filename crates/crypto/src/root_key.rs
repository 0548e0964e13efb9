//! [`RootKey`]: the 256-bit key under which every stored secret is wrapped.
//!
//! Key material and secret access keys never reach the database in the
//! clear; they are sealed here with AES-256-GCM under a fresh random nonce.
//! The caller's `aad` names what is wrapped (purpose, key id, version), so a
//! wrapped blob moved to another row no longer opens.
//!
//! Wrapped layout (documented in `docs/ciphertext-format.md`):
//! `0x01` format byte ‖ 12-byte nonce ‖ ciphertext ‖ 16-byte tag, with the
//! format byte followed by the caller's `aad` as GCM associated data.
//!
//! Random 96-bit nonces under one key are safe up to about 2^32 wraps; a
//! root key wraps one blob per key version or credential, far below that.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::random::fill_random;
use crate::symmetric::{AeadKey, KEY_LEN, NONCE_LEN, TAG_LEN};
use crate::{CryptoError, SecretBytes};

/// First byte of every root-wrapped blob: the wrapping format version.
const WRAP_FORMAT_V1: u8 = 0x01;

/// Bytes a wrap adds to the secret: format byte, nonce and tag.
pub const WRAP_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// The root key. Not `Clone`; `Debug` prints a redaction marker only.
pub struct RootKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
    aead: AeadKey,
}

impl RootKey {
    /// A new random root key.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        fill_random(bytes.as_mut_slice())?;
        Self::from_bytes(bytes)
    }

    /// Parses the content of a `root.key` file or `FERROKMS_ROOT_KEY`:
    /// standard padded base64 of exactly 32 bytes, surrounding whitespace
    /// ignored. Anything else is an error.
    pub fn from_encoded(text: &str) -> Result<Self, CryptoError> {
        const BAD: CryptoError = CryptoError::Internal("root key must be base64 of 32 bytes");
        // Decode into a fixed zeroizing buffer with room to spare, so no heap
        // copy of the key is made and over-long input is caught by length.
        let mut buf = Zeroizing::new([0u8; KEY_LEN + 16]);
        let n = STANDARD
            .decode_slice(text.trim(), buf.as_mut_slice())
            .map_err(|_| BAD)?;
        if n != KEY_LEN {
            return Err(BAD);
        }
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(&buf[..KEY_LEN]);
        Self::from_bytes(bytes)
    }

    /// The key as padded base64 (44 characters), for writing `root.key`.
    /// The returned string is itself the secret: write it and drop it.
    pub fn encode(&self) -> String {
        STANDARD.encode(self.bytes.as_slice())
    }

    /// Seals `secret` under the root key, binding `aad` (for example
    /// `b"key-material\0<key id>\0<version>"`). Returns
    /// [`WRAP_OVERHEAD`] + `secret.len()` bytes.
    pub fn wrap(&self, aad: &[u8], secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let mut out = Vec::with_capacity(WRAP_OVERHEAD + secret.len());
        out.push(WRAP_FORMAT_V1);
        out.extend_from_slice(&nonce);
        self.aead
            .seal_append(&nonce, &gcm_aad(aad), secret, &mut out)?;
        Ok(out)
    }

    /// Opens a blob made by [`RootKey::wrap`] with the same `aad`. Any
    /// mismatch is [`CryptoError::InvalidCiphertext`].
    pub fn unwrap(&self, aad: &[u8], wrapped: &[u8]) -> Result<SecretBytes, CryptoError> {
        let (&format, rest) = wrapped
            .split_first()
            .ok_or(CryptoError::InvalidCiphertext)?;
        if format != WRAP_FORMAT_V1 || rest.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::InvalidCiphertext);
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce: &[u8; NONCE_LEN] = nonce
            .try_into()
            .map_err(|_| CryptoError::InvalidCiphertext)?;
        self.aead.open(nonce, &gcm_aad(aad), sealed)
    }

    /// A digest of `data` keyed under the root key: HMAC-SHA256 under a subkey derived from the
    /// root key for digests only (never the AES-GCM key itself), over `label` ‖ 0 ‖ `data`.
    /// Recognises a secret seen before (imported key material) without storing it, and without
    /// letting anyone who lacks the root key test a guess against the stored digest.
    pub fn keyed_digest(&self, label: &[u8], data: &[u8]) -> [u8; 32] {
        use aws_lc_rs::hmac;
        let root = hmac::Key::new(hmac::HMAC_SHA256, self.bytes.as_slice());
        let subkey = Zeroizing::new(
            hmac::sign(&root, b"ferrokms keyed-digest key")
                .as_ref()
                .to_vec(),
        );
        let key = hmac::Key::new(hmac::HMAC_SHA256, &subkey);
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(label);
        ctx.update(&[0]);
        ctx.update(data);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    fn from_bytes(bytes: Zeroizing<[u8; KEY_LEN]>) -> Result<Self, CryptoError> {
        let aead = AeadKey::new(bytes.as_slice())?;
        Ok(Self { bytes, aead })
    }
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKey(<redacted>)")
    }
}

/// The GCM associated data: the format byte, then the caller's binding.
fn gcm_aad(aad: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + aad.len());
    out.push(WRAP_FORMAT_V1);
    out.extend_from_slice(aad);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const AAD: &[u8] = b"key-material\0d2a3b9c0-0000-4000-8000-000000000001\x001";

    #[test]
    fn wrap_then_unwrap_round_trips() {
        let root = RootKey::generate().expect("root");
        let wrapped = root
            .wrap(AAD, b"thirty-two bytes of key material")
            .expect("wrap");
        assert_eq!(wrapped.len(), WRAP_OVERHEAD + 32);
        let back = root.unwrap(AAD, &wrapped).expect("unwrap");
        assert_eq!(back.expose(), b"thirty-two bytes of key material");
    }

    #[test]
    fn keyed_digests_depend_on_root_label_and_data() {
        let root = RootKey::generate().expect("root");
        let other = RootKey::generate().expect("root");
        let d = root.keyed_digest(b"label", b"data");
        assert_eq!(d, root.keyed_digest(b"label", b"data"));
        assert_ne!(d, root.keyed_digest(b"label", b"datb"));
        assert_ne!(d, root.keyed_digest(b"labem", b"data"));
        // The separator keeps (label, data) pairs apart.
        assert_ne!(
            root.keyed_digest(b"ab", b"c"),
            root.keyed_digest(b"a", b"bc")
        );
        assert_ne!(d, other.keyed_digest(b"label", b"data"));
    }

    #[test]
    fn empty_secret_round_trips() {
        let root = RootKey::generate().expect("root");
        let wrapped = root.wrap(AAD, b"").expect("wrap");
        assert!(root.unwrap(AAD, &wrapped).expect("unwrap").is_empty());
    }

    #[test]
    fn unwrap_with_wrong_aad_fails() {
        let root = RootKey::generate().expect("root");
        let wrapped = root.wrap(AAD, b"secret").expect("wrap");
        for aad in [
            &b"key-material\0d2a3b9c0-0000-4000-8000-000000000001\x002"[..],
            b"secret-access-key\0AKIA",
            b"",
        ] {
            assert!(matches!(
                root.unwrap(aad, &wrapped),
                Err(CryptoError::InvalidCiphertext)
            ));
        }
    }

    #[test]
    fn unwrap_under_another_root_key_fails() {
        let a = RootKey::generate().expect("root");
        let b = RootKey::generate().expect("root");
        let wrapped = a.wrap(AAD, b"secret").expect("wrap");
        assert!(b.unwrap(AAD, &wrapped).is_err());
    }

    #[test]
    fn every_bit_flip_and_truncation_fails() {
        let root = RootKey::generate().expect("root");
        let wrapped = root.wrap(AAD, b"secret").expect("wrap");
        for i in 0..wrapped.len() {
            for bit in 0..8 {
                let mut bad = wrapped.clone();
                bad[i] ^= 1 << bit;
                assert!(root.unwrap(AAD, &bad).is_err(), "byte {i} bit {bit}");
            }
        }
        for n in 0..wrapped.len() {
            assert!(root.unwrap(AAD, &wrapped[..n]).is_err(), "length {n}");
        }
        let mut longer = wrapped.clone();
        longer.push(0);
        assert!(root.unwrap(AAD, &longer).is_err());
    }

    #[test]
    fn two_wraps_of_the_same_secret_differ() {
        let root = RootKey::generate().expect("root");
        assert_ne!(
            root.wrap(AAD, b"same").expect("wrap"),
            root.wrap(AAD, b"same").expect("wrap")
        );
    }

    #[test]
    fn encode_then_from_encoded_is_the_same_key() {
        let root = RootKey::generate().expect("root");
        let text = root.encode();
        assert_eq!(text.len(), 44);
        let again = RootKey::from_encoded(&format!("  \n{text}\r\n\t")).expect("parse");
        let wrapped = root.wrap(AAD, b"x").expect("wrap");
        assert_eq!(again.unwrap(AAD, &wrapped).expect("unwrap").expose(), b"x");
        assert_eq!(again.encode(), text);
    }

    #[test]
    fn from_encoded_rejects_wrong_length_and_non_base64() {
        let ok = STANDARD.encode([5u8; 32]);
        assert!(RootKey::from_encoded(&ok).is_ok());
        let too_short = STANDARD.encode([5u8; 31]);
        let too_long = STANDARD.encode([5u8; 33]);
        let much_too_long = STANDARD.encode([5u8; 64]);
        let unpadded = ok.trim_end_matches('=').to_string();
        let inner_space = format!("{} {}", &ok[..20], &ok[20..]);
        let url_safe = STANDARD
            .encode([0xfbu8; 32])
            .replace('+', "-")
            .replace('/', "_");
        for bad in [
            "",
            "   ",
            too_short.as_str(),
            too_long.as_str(),
            much_too_long.as_str(),
            unpadded.as_str(),
            inner_space.as_str(),
            url_safe.as_str(),
            "not base64 at all!!!!!!!!!!!!!!!!!!!!!!!!!!",
            "0123456789abcdef0123456789abcdef",
        ] {
            assert!(
                matches!(RootKey::from_encoded(bad), Err(CryptoError::Internal(_))),
                "accepted {bad:?}"
            );
        }
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let root = RootKey::from_encoded(&STANDARD.encode([0xabu8; 32])).expect("root");
        let shown = format!("{root:?} {root:#?}");
        assert!(shown.contains("redacted"));
        assert!(!shown.to_lowercase().contains("ab, ab"));
        assert!(!shown.contains("171"));
        assert!(!shown.contains(&root.encode()));
    }
}
