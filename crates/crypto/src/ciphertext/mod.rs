//! The customer-facing ciphertext blob of symmetric `Encrypt`,
//! `GenerateDataKey` and friends.
//!
//! Each blob names the key and key version that sealed it (so the service
//! can find the material before anything is decrypted, see [`peek`]) and
//! carries its own random salt and nonce. A fresh AES-256 key is derived per
//! message with HKDF-SHA256 from the key version's material, the salt, and a
//! label naming this format, the key id and the version. The whole header
//! and the canonical encryption context are the GCM associated data, so a
//! change to any byte of the blob or to the context fails to open.
//!
//! A key version whose AES key stays inside an HSM token derives the
//! message key there instead (the `token` submodule): same layout, another
//! derivation.
//!
//! The byte layout is in the `header` submodule and, in full, in
//! `docs/ciphertext-format.md`.

mod header;
mod token;

use std::collections::BTreeMap;

pub use header::{Header, FIXED_OVERHEAD, MAX_KEY_ID_LEN};
pub use token::{Cmac, SoftwareCmac, CMAC_LEN};

/// What a key version's message keys are derived from.
#[derive(Clone, Copy)]
pub enum VersionSecret<'a> {
    /// The version's 32 bytes of material, held by ferrokms: HKDF-SHA256.
    Material(&'a SecretBytes),
    /// An AES-256 key inside an HSM token, reached through its CMAC: the counter-mode KDF of
    /// NIST SP 800-108 (see `token`).
    Token(&'a dyn Cmac),
}

use crate::random::fill_random;
use crate::symmetric::{AeadKey, KEY_LEN, NONCE_LEN, TAG_LEN};
use crate::{encode_encryption_context, CryptoError, SecretBytes};
use header::{key_id_len_byte, Parsed, SALT_LEN};

/// Largest plaintext AWS KMS encrypts directly.
pub const MAX_PLAINTEXT_LEN: usize = 4096;
/// Largest ciphertext blob AWS KMS accepts; longer input is refused unread.
pub const MAX_BLOB_LEN: usize = 6144;

/// HKDF info label: binds derived keys to this format and purpose.
const DATA_KEY_LABEL: &[u8] = b"ferrokms ciphertext v1 data key\0";

/// Reads the header of `blob` without decrypting anything, so the caller can
/// look up and unwrap the named key version. The whole blob's structure is
/// checked; a malformed one is [`CryptoError::InvalidCiphertext`]. The
/// header is not authenticated until [`open`] succeeds.
pub fn peek(blob: &[u8]) -> Result<Header, CryptoError> {
    header::parse(blob).map(|p| p.header)
}

/// Encrypts `plaintext` under `key_material` (a key version's 32 bytes),
/// binding `encryption_context`.
///
/// The caller enforces AWS's request limits; this refuses, as
/// [`CryptoError::Internal`], only what would break the format: material
/// that is not 32 bytes, a key id outside 1..=64 bytes, plaintext over
/// [`MAX_PLAINTEXT_LEN`]. The blob is [`FIXED_OVERHEAD`] + key id length +
/// plaintext length bytes.
pub fn seal(
    key_id: &str,
    key_version: u32,
    key_material: &SecretBytes,
    encryption_context: &BTreeMap<String, String>,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    seal_under(
        key_id,
        key_version,
        VersionSecret::Material(key_material),
        encryption_context,
        plaintext,
    )
}

/// [`seal`] under either kind of key version secret.
pub fn seal_under(
    key_id: &str,
    key_version: u32,
    secret: VersionSecret<'_>,
    encryption_context: &BTreeMap<String, String>,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    // One draw from the generator for both: each call has a fixed cost on the hot path.
    let mut fresh = [0u8; SALT_LEN + NONCE_LEN];
    fill_random(&mut fresh)?;
    let (salt_bytes, nonce_bytes) = fresh.split_at(SALT_LEN);
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    salt.copy_from_slice(salt_bytes);
    nonce.copy_from_slice(nonce_bytes);
    let header = Header {
        key_id: key_id.to_owned(),
        key_version,
    };
    seal_with(
        &header,
        &salt,
        &nonce,
        secret,
        encryption_context,
        plaintext,
    )
}

/// [`seal`] with the salt and nonce given; separate so the format's
/// known-answer test can be deterministic. Never reuse a salt.
fn seal_with(
    header: &Header,
    salt: &[u8; SALT_LEN],
    nonce: &[u8; NONCE_LEN],
    secret: VersionSecret<'_>,
    encryption_context: &BTreeMap<String, String>,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if plaintext.len() > MAX_PLAINTEXT_LEN {
        return Err(CryptoError::Internal("plaintext exceeds 4096 bytes"));
    }
    let mut blob = header::write(header, salt, nonce, plaintext.len() + TAG_LEN)?;
    let key = message_key(secret, header, salt)?;
    let aad = aad(&blob, encryption_context);
    key.seal_append(nonce, &aad, plaintext, &mut blob)?;
    Ok(blob)
}

/// Decrypts a blob made by [`seal`], given the material of the key version
/// its header names and the same encryption context. Any mismatch — wrong
/// material, context, or a single changed byte — is
/// [`CryptoError::InvalidCiphertext`].
pub fn open(
    blob: &[u8],
    key_material: &SecretBytes,
    encryption_context: &BTreeMap<String, String>,
) -> Result<SecretBytes, CryptoError> {
    open_under(
        blob,
        VersionSecret::Material(key_material),
        encryption_context,
    )
}

/// [`open`] under either kind of key version secret.
pub fn open_under(
    blob: &[u8],
    secret: VersionSecret<'_>,
    encryption_context: &BTreeMap<String, String>,
) -> Result<SecretBytes, CryptoError> {
    let Parsed {
        header,
        header_bytes,
        salt,
        nonce,
        sealed,
    } = header::parse(blob)?;
    let key = message_key(secret, &header, salt)?;
    key.open(&nonce, &aad(header_bytes, encryption_context), sealed)
}

/// This message's AES-256 key, from whichever secret the key version has.
fn message_key(
    secret: VersionSecret<'_>,
    header: &Header,
    salt: &[u8],
) -> Result<AeadKey, CryptoError> {
    match secret {
        VersionSecret::Material(material) => data_key(material, header, salt),
        VersionSecret::Token(prf) => token::data_key(prf, header, salt),
    }
}

/// Derives this message's AES-256 key: HKDF-SHA256 with the key version's
/// material as input, the blob's salt, and info = label ‖ key id length (1)
/// ‖ key id ‖ key version (u32 BE).
fn data_key(material: &SecretBytes, header: &Header, salt: &[u8]) -> Result<AeadKey, CryptoError> {
    if material.len() != KEY_LEN {
        return Err(CryptoError::Internal("key material must be 32 bytes"));
    }
    let id_len = [key_id_len_byte(&header.key_id)?];
    let version = header.key_version.to_be_bytes();
    let info: [&[u8]; 4] = [DATA_KEY_LABEL, &id_len, header.key_id.as_bytes(), &version];
    AeadKey::derive(material.expose(), salt, &info)
}

/// The GCM associated data: the header bytes, then the canonical context.
fn aad(header_bytes: &[u8], ctx: &BTreeMap<String, String>) -> Vec<u8> {
    let mut out = header_bytes.to_vec();
    out.extend_from_slice(&encode_encryption_context(ctx));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate_symmetric_key;
    use crate::testing::hex;

    /// The test vector of `docs/ciphertext-format.md`; reproduced by an
    /// independent implementation of that document before being recorded.
    const KAT_BLOB: &str = concat!(
        "464b0124",
        "31323334616263642d313261622d333463642d353665662d313233343536373839306162",
        "00000002",
        "1111111111111111111111111111111111111111111111111111111111111111",
        "222222222222222222222222",
        "b957f2515f2d22494024",
        "c91e378a782e4dfebea78e514d53656b",
    );

    const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn material() -> SecretBytes {
        generate_symmetric_key().expect("rng")
    }

    fn is_invalid<T>(r: Result<T, CryptoError>) -> bool {
        matches!(r, Err(CryptoError::InvalidCiphertext))
    }

    /// Guards the v1 format as a whole (layout, KDF label and info, AAD,
    /// context encoding): blobs already held by clients must keep opening.
    #[test]
    fn format_v1_known_answer() {
        let header = Header {
            key_id: KEY_ID.into(),
            key_version: 2,
        };
        let material = SecretBytes::new((0u8..32).collect());
        let context = ctx(&[("purpose", "kat"), ("a", "bc")]);
        let salt = [0x11u8; SALT_LEN];
        let nonce = [0x22u8; NONCE_LEN];
        let secret = VersionSecret::Material(&material);
        let blob =
            seal_with(&header, &salt, &nonce, secret, &context, b"hello, kms").expect("seal");
        let expected = hex(KAT_BLOB);
        assert_eq!(blob, expected);
        let opened = open(&expected, &material, &context).expect("open");
        assert_eq!(opened.expose(), b"hello, kms");
    }

    /// The same message under a token key whose value is the material above: the header is
    /// the same, the body is the counter-mode CMAC derivation's (docs/ciphertext-format.md).
    /// Reproduced with Python's `cryptography` (CMAC, AESGCM) before being recorded.
    #[test]
    fn token_derivation_known_answer() {
        let header = Header {
            key_id: KEY_ID.into(),
            key_version: 2,
        };
        let token_key = SoftwareCmac::new(&SecretBytes::new((0u8..32).collect())).expect("key");
        let secret = VersionSecret::Token(&token_key);
        let context = ctx(&[("purpose", "kat"), ("a", "bc")]);
        let (salt, nonce) = ([0x11u8; SALT_LEN], [0x22u8; NONCE_LEN]);
        let blob =
            seal_with(&header, &salt, &nonce, secret, &context, b"hello, kms").expect("seal");
        let software = hex(KAT_BLOB);
        let body_at = software.len() - 10 - TAG_LEN;
        assert_eq!(blob[..body_at], software[..body_at], "same header");
        assert_eq!(
            blob[body_at..],
            hex("564ed6858cdfc9009499965cc9e6f2bac10a13fd31b3da2f16cd")[..]
        );
        let opened = open_under(&blob, secret, &context).expect("open");
        assert_eq!(opened.expose(), b"hello, kms");
        // Neither derivation opens the other's blob.
        let material = SecretBytes::new((0u8..32).collect());
        assert!(is_invalid(open(&blob, &material, &context)));
        assert!(is_invalid(open_under(&software, secret, &context)));
    }

    #[test]
    fn round_trip_at_several_lengths() {
        let key = material();
        let context = ctx(&[("purpose", "test"), ("tenant", "42")]);
        for len in [0, 1, 15, 16, 17, 32, 1024, MAX_PLAINTEXT_LEN] {
            let plaintext: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let blob = seal(KEY_ID, 3, &key, &context, &plaintext).expect("seal");
            assert_eq!(blob.len(), FIXED_OVERHEAD + KEY_ID.len() + len);
            let back = open(&blob, &key, &context).expect("open");
            assert_eq!(back.expose(), plaintext.as_slice());
        }
    }

    #[test]
    fn overhead_is_small_and_the_largest_blob_fits_the_aws_limit() {
        assert_eq!(FIXED_OVERHEAD + KEY_ID.len(), 104);
        let key = material();
        let long_id = "m".repeat(MAX_KEY_ID_LEN);
        let big = vec![0xabu8; MAX_PLAINTEXT_LEN];
        let blob = seal(&long_id, u32::MAX, &key, &BTreeMap::new(), &big).expect("seal");
        assert!(blob.len() <= MAX_BLOB_LEN);
        assert_eq!(
            open(&blob, &key, &BTreeMap::new()).expect("open").expose(),
            big.as_slice()
        );
    }

    #[test]
    fn peek_reads_key_id_and_version() {
        let blob = seal(KEY_ID, 7, &material(), &BTreeMap::new(), b"x").expect("seal");
        let header = peek(&blob).expect("peek");
        assert_eq!(header.key_id, KEY_ID);
        assert_eq!(header.key_version, 7);
    }

    #[test]
    fn every_bit_flip_fails_to_open() {
        let key = material();
        let context = ctx(&[("k", "v")]);
        let blob = seal(KEY_ID, 1, &key, &context, b"attack at dawn").expect("seal");
        for i in 0..blob.len() {
            for bit in 0..8 {
                let mut bad = blob.clone();
                bad[i] ^= 1 << bit;
                assert!(is_invalid(open(&bad, &key, &context)), "byte {i} bit {bit}");
            }
            let mut bad = blob.clone();
            bad[i] ^= 0xff;
            assert!(is_invalid(open(&bad, &key, &context)), "byte {i} inverted");
        }
    }

    #[test]
    fn every_truncation_and_any_extension_fails() {
        let key = material();
        let blob = seal(KEY_ID, 1, &key, &BTreeMap::new(), b"attack at dawn").expect("seal");
        for n in 0..blob.len() {
            assert!(
                is_invalid(open(&blob[..n], &key, &BTreeMap::new())),
                "length {n}"
            );
        }
        for extra in [&[0u8][..], &[0, 0, 0, 0], &blob] {
            let longer = [blob.as_slice(), extra].concat();
            assert!(is_invalid(open(&longer, &key, &BTreeMap::new())));
        }
    }

    #[test]
    fn wrong_context_fails() {
        let key = material();
        let sealed_with = ctx(&[("department", "finance"), ("year", "2024")]);
        let blob = seal(KEY_ID, 1, &key, &sealed_with, b"payroll").expect("seal");
        for other in [
            ctx(&[("department", "finance"), ("year", "2025")]),
            ctx(&[("department", "finance")]),
            ctx(&[("department", "finance"), ("year", "2024"), ("x", "")]),
            ctx(&[("Department", "finance"), ("year", "2024")]),
            BTreeMap::new(),
        ] {
            assert!(is_invalid(open(&blob, &key, &other)), "{other:?}");
        }
        assert!(open(&blob, &key, &sealed_with).is_ok());
    }

    #[test]
    fn regrouped_context_strings_do_not_collide() {
        let key = material();
        for (sealed_with, opened_with) in [
            (ctx(&[("a", "bc")]), ctx(&[("ab", "c")])),
            (ctx(&[("a", "b"), ("c", "d")]), ctx(&[("a", "bcd")])),
            (ctx(&[("a", "")]), ctx(&[("", "a")])),
        ] {
            let blob = seal(KEY_ID, 1, &key, &sealed_with, b"p").expect("seal");
            assert!(is_invalid(open(&blob, &key, &opened_with)));
            let blob = seal(KEY_ID, 1, &key, &opened_with, b"p").expect("seal");
            assert!(is_invalid(open(&blob, &key, &sealed_with)));
        }
    }

    #[test]
    fn absent_context_is_empty_context_but_not_an_empty_pair() {
        // The API has no separate "absent": like AWS, no context and an empty
        // one are the same. A pair of empty strings is a different context.
        let key = material();
        let none = BTreeMap::new();
        let empty_pair = ctx(&[("", "")]);
        let blob = seal(KEY_ID, 1, &key, &none, b"p").expect("seal");
        assert!(open(&blob, &key, &BTreeMap::new()).is_ok());
        assert!(is_invalid(open(&blob, &key, &empty_pair)));
        let blob = seal(KEY_ID, 1, &key, &empty_pair, b"p").expect("seal");
        assert!(is_invalid(open(&blob, &key, &none)));
        assert!(open(&blob, &key, &empty_pair).is_ok());
    }

    #[test]
    fn wrong_key_material_fails() {
        let blob = seal(KEY_ID, 1, &material(), &BTreeMap::new(), b"p").expect("seal");
        assert!(is_invalid(open(&blob, &material(), &BTreeMap::new())));
    }

    #[test]
    fn rewritten_key_version_in_header_fails() {
        let key = material();
        let blob = seal(KEY_ID, 1, &key, &BTreeMap::new(), b"p").expect("seal");
        let at = 4 + KEY_ID.len();
        let mut bad = blob.clone();
        bad[at..at + 4].copy_from_slice(&2u32.to_be_bytes());
        // The header still parses and names version 2 ...
        assert_eq!(peek(&bad).expect("peek").key_version, 2);
        // ... but it is authenticated, and bound into the derived key.
        assert!(is_invalid(open(&bad, &key, &BTreeMap::new())));
    }

    #[test]
    fn rewritten_key_id_in_header_fails() {
        let key = material();
        let blob = seal(KEY_ID, 1, &key, &BTreeMap::new(), b"p").expect("seal");
        let other = "ffffffff-12ab-34cd-56ef-1234567890ab";
        let mut bad = blob.clone();
        bad[4..4 + other.len()].copy_from_slice(other.as_bytes());
        assert_eq!(peek(&bad).expect("peek").key_id, other);
        assert!(is_invalid(open(&bad, &key, &BTreeMap::new())));
    }

    #[test]
    fn material_of_another_version_fails() {
        let (v1, v2) = (material(), material());
        let blob = seal(KEY_ID, 1, &v1, &BTreeMap::new(), b"p").expect("seal");
        assert!(is_invalid(open(&blob, &v2, &BTreeMap::new())));
        assert!(open(&blob, &v1, &BTreeMap::new()).is_ok());
    }

    #[test]
    fn same_material_under_another_key_id_or_version_derives_another_key() {
        // Even if two key versions shared material, a blob sealed for one
        // and relabelled as the other must not open.
        let key = material();
        let blob = seal(KEY_ID, 1, &key, &BTreeMap::new(), b"p").expect("seal");
        let reference = open(&blob, &key, &BTreeMap::new()).expect("open");
        assert_eq!(reference.expose(), b"p");
        let p = header::parse(&blob).expect("parse");
        let same = data_key(&key, &p.header, p.salt).expect("derive");
        let other_version = Header {
            key_version: 2,
            ..p.header.clone()
        };
        let other = data_key(&key, &other_version, p.salt).expect("derive");
        let aad = aad(p.header_bytes, &BTreeMap::new());
        assert!(same.open(&p.nonce, &aad, p.sealed).is_ok());
        assert!(is_invalid(other.open(&p.nonce, &aad, p.sealed)));
    }

    #[test]
    fn peek_and_open_refuse_garbage_without_panicking() {
        let key = material();
        let mut garbage: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"F".to_vec(),
            b"FK".to_vec(),
            b"FK\x01".to_vec(),
            b"FK\x01\x24".to_vec(),
            vec![0u8; 200],
            vec![0xffu8; 200],
            // The start of a real AWS KMS blob is foreign here.
            [&[0x01u8, 0x02, 0x02, 0x00, 0x78][..], &[0x11; 180]].concat(),
            b"not a ciphertext blob at all, just some text".to_vec(),
        ];
        for n in [1, 50, 103, 104, 105, 500] {
            garbage.push(crate::random_bytes(n).expect("rng").into_vec());
            let tail = crate::random_bytes(n).expect("rng").into_vec();
            garbage.push([&b"FK\x01\x24"[..], &tail].concat());
        }
        for blob in &garbage {
            assert!(is_invalid(peek(blob)), "{blob:02x?}");
            assert!(is_invalid(open(blob, &key, &BTreeMap::new())));
        }
    }

    #[test]
    fn two_encryptions_of_the_same_plaintext_differ() {
        let key = material();
        let a = seal(KEY_ID, 1, &key, &BTreeMap::new(), b"same").expect("seal");
        let b = seal(KEY_ID, 1, &key, &BTreeMap::new(), b"same").expect("seal");
        assert_ne!(a, b);
        let (pa, pb) = (header::parse(&a).expect("a"), header::parse(&b).expect("b"));
        assert_ne!(pa.salt, pb.salt);
        assert_ne!(pa.nonce, pb.nonce);
        assert_ne!(pa.sealed, pb.sealed);
    }

    #[test]
    fn seal_refuses_what_the_format_cannot_carry() {
        let key = material();
        let none = BTreeMap::new();
        let too_big = vec![0u8; MAX_PLAINTEXT_LEN + 1];
        assert!(matches!(
            seal(KEY_ID, 1, &key, &none, &too_big),
            Err(CryptoError::Internal(_))
        ));
        for id in [String::new(), "k".repeat(MAX_KEY_ID_LEN + 1)] {
            assert!(matches!(
                seal(&id, 1, &key, &none, b"p"),
                Err(CryptoError::Internal(_))
            ));
        }
        for len in [0, 16, 31, 33, 64] {
            let short = SecretBytes::new(vec![1u8; len]);
            assert!(matches!(
                seal(KEY_ID, 1, &short, &none, b"p"),
                Err(CryptoError::Internal(_))
            ));
        }
    }

    #[test]
    fn open_with_material_of_wrong_length_is_internal() {
        let blob = seal(KEY_ID, 1, &material(), &BTreeMap::new(), b"p").expect("seal");
        let short = SecretBytes::new(vec![1u8; 16]);
        assert!(matches!(
            open(&blob, &short, &BTreeMap::new()),
            Err(CryptoError::Internal(_))
        ));
    }
}
