//! [`RootKey`]: the 256-bit key under which every stored secret is wrapped.
//!
//! Key material and secret access keys never reach the database in the
//! clear; they are sealed with AES-256-GCM under a fresh random nonce. Each
//! use binds its own associated data (purpose, key id, version), so a
//! wrapped blob moved to another row, or presented for another purpose, no
//! longer opens.
//!
//! The root key is used only through purpose-named methods, and it comes in
//! two halves ([`RootKey::split`]): [`MaterialWrapping`], the one way to key
//! material, which the service keeps behind its authorisation proof, and
//! [`RootSecrets`], every other use (access keys, session and import tokens,
//! the audit signing key, the store's root key check, keyed digests). No
//! caller can choose associated data, so none can open a blob as anything
//! but what it was sealed as.
//!
//! Wrapped layout (documented in `docs/ciphertext-format.md`):
//! `0x01` format byte ‖ 12-byte nonce ‖ ciphertext ‖ 16-byte tag, with the
//! format byte followed by the purpose's associated data as GCM AAD.
//!
//! Random 96-bit nonces under one key are safe up to about 2^32 wraps; a
//! root key wraps one blob per key version or credential, far below that.

mod uses;

pub use uses::{AuditKeyState, MaterialWrapping, RootSecrets};

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

/// The root key as loaded. Not `Clone`; `Debug` prints a redaction marker only. It can be
/// encoded (to write `root.key`) and split into its two halves, nothing else.
pub struct RootKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
    /// One AES-GCM key for each half, set up when the key is loaded so that a bad key fails
    /// there and splitting cannot.
    material: Sealer,
    secrets: Sealer,
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

    /// The two halves of the root key's use: key material, and everything else. The raw key is
    /// gone after this (zeroized), so neither half can be turned into the other.
    pub fn split(self) -> (MaterialWrapping, RootSecrets) {
        let RootKey {
            bytes,
            material,
            secrets,
        } = self;
        (
            MaterialWrapping::new(material),
            RootSecrets::new(secrets, &bytes),
        )
    }

    fn from_bytes(bytes: Zeroizing<[u8; KEY_LEN]>) -> Result<Self, CryptoError> {
        Ok(RootKey {
            material: Sealer::new(&bytes)?,
            secrets: Sealer::new(&bytes)?,
            bytes,
        })
    }
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RootKey(<redacted>)")
    }
}

/// AES-256-GCM under the root key with the layout above; the associated data is always chosen
/// by a purpose of `uses`, never by a caller outside this module.
struct Sealer {
    aead: AeadKey,
}

impl Sealer {
    fn new(bytes: &[u8; KEY_LEN]) -> Result<Self, CryptoError> {
        Ok(Sealer {
            aead: AeadKey::new(bytes.as_slice())?,
        })
    }

    /// Seals `secret`, binding `aad`. Returns [`WRAP_OVERHEAD`] + `secret.len()` bytes.
    fn seal(&self, aad: &[u8], secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let mut out = Vec::with_capacity(WRAP_OVERHEAD + secret.len());
        out.push(WRAP_FORMAT_V1);
        out.extend_from_slice(&nonce);
        self.aead
            .seal_append(&nonce, &gcm_aad(aad), secret, &mut out)?;
        Ok(out)
    }

    /// Opens a blob made by `seal` with the same `aad`. Any mismatch is
    /// [`CryptoError::InvalidCiphertext`].
    fn open(&self, aad: &[u8], wrapped: &[u8]) -> Result<SecretBytes, CryptoError> {
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
}

/// The GCM associated data: the format byte, then the purpose's binding.
fn gcm_aad(aad: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + aad.len());
    out.push(WRAP_FORMAT_V1);
    out.extend_from_slice(aad);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sealer under a whole root key, for testing the layout itself.
    impl RootKey {
        fn wrap(&self, aad: &[u8], secret: &[u8]) -> Result<Vec<u8>, CryptoError> {
            Sealer::new(&self.bytes)?.seal(aad, secret)
        }
        fn unwrap(&self, aad: &[u8], wrapped: &[u8]) -> Result<SecretBytes, CryptoError> {
            Sealer::new(&self.bytes)?.open(aad, wrapped)
        }
    }

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
