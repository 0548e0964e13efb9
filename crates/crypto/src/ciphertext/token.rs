//! Per-message keys of a key version whose AES key stays inside an HSM token.
//!
//! The token's key is used only as a pseudorandom function, AES-256-CMAC (NIST SP 800-38B), and
//! each message's AES-256-GCM key is derived from it with the KDF in counter mode of NIST
//! SP 800-108r1: two CMAC blocks, each over
//!
//! ```text
//! counter i (u32 BE, 1 and 2) || label || 0x00 || context || L = 256 (u32 BE)
//! label   = "ferrokms ciphertext v1 token data key"
//! context = key id length (1) || key id || key version (u32 BE) || salt (32)
//! ```
//!
//! so no key ever encrypts more than one message and AES-GCM's limit on invocations under one
//! key with random nonces never comes near; the token key itself never leaves the token. The
//! derived key lives in ferrokms's memory for one call, as the HKDF-derived key of software
//! keys does. `docs/ciphertext-format.md` has the design in full.

use super::header::key_id_len_byte;
use super::Header;
use crate::symmetric::{AeadKey, KEY_LEN};
use crate::{CryptoError, SecretBytes};
use zeroize::Zeroizing;

/// An AES-CMAC tag's length.
pub const CMAC_LEN: usize = 16;

/// SP 800-108 label of the token-derived data keys.
const LABEL: &[u8] = b"ferrokms ciphertext v1 token data key";
/// The derived key's length in bits, the KDF's `[L]_32`.
const OUTPUT_BITS: [u8; 4] = 256u32.to_be_bytes();

/// AES-256-CMAC under a key this crate never sees (an HSM token's key). An implementation that
/// fails answers [`CryptoError::KeyUnreachable`] and reports its own reason itself.
pub trait Cmac {
    fn cmac(&self, data: &[u8]) -> Result<[u8; CMAC_LEN], CryptoError>;
}

/// AES-256-CMAC under a key held in memory: the reference the token's computation is tested
/// against, and the format's known answer.
pub struct SoftwareCmac {
    key: aws_lc_rs::cmac::Key,
}

impl SoftwareCmac {
    pub fn new(key: &SecretBytes) -> Result<Self, CryptoError> {
        let key = aws_lc_rs::cmac::Key::new(aws_lc_rs::cmac::AES_256, key.expose())
            .map_err(|_| CryptoError::Internal("AES-CMAC key must be 32 bytes"))?;
        Ok(SoftwareCmac { key })
    }
}

impl Cmac for SoftwareCmac {
    fn cmac(&self, data: &[u8]) -> Result<[u8; CMAC_LEN], CryptoError> {
        let tag = aws_lc_rs::cmac::sign(&self.key, data)
            .map_err(|_| CryptoError::Internal("AES-CMAC failed"))?;
        tag.as_ref()
            .try_into()
            .map_err(|_| CryptoError::Internal("AES-CMAC tag is not 16 bytes"))
    }
}

/// The message key of `header` and `salt` under `prf`.
pub(super) fn data_key(
    prf: &dyn Cmac,
    header: &Header,
    salt: &[u8],
) -> Result<AeadKey, CryptoError> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    for (i, block) in key.chunks_mut(CMAC_LEN).enumerate() {
        // Two blocks: counters 1 and 2.
        let counter = (i as u32 + 1).to_be_bytes();
        let input = prf_input(&counter, header, salt)?;
        block.copy_from_slice(&prf.cmac(&input)?);
    }
    AeadKey::new(key.as_slice())
}

/// One PRF input of the counter-mode KDF (see the module's documentation).
fn prf_input(counter: &[u8; 4], header: &Header, salt: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let id_len = key_id_len_byte(&header.key_id)?;
    let mut input = Vec::with_capacity(4 + LABEL.len() + 1 + 1 + 64 + 4 + salt.len() + 4);
    input.extend_from_slice(counter);
    input.extend_from_slice(LABEL);
    input.push(0);
    input.push(id_len);
    input.extend_from_slice(header.key_id.as_bytes());
    input.extend_from_slice(&header.key_version.to_be_bytes());
    input.extend_from_slice(salt);
    input.extend_from_slice(&OUTPUT_BITS);
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::hex;

    /// AES-256-CMAC example of NIST SP 800-38B (D.3, Example 10: 64-byte message): the
    /// reference PRF is the standard one.
    #[test]
    fn software_cmac_matches_sp_800_38b() {
        let key = SecretBytes::new(hex(
            "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
        ));
        let message = hex(concat!(
            "6bc1bee22e409f96e93d7e117393172a",
            "ae2d8a571e03ac9c9eb76fac45af8e51",
            "30c81c46a35ce411e5fbc1191a0a52ef",
            "f69f2445df4f9b17ad2b417be66c3710",
        ));
        let tag = SoftwareCmac::new(&key)
            .expect("key")
            .cmac(&message)
            .expect("cmac");
        assert_eq!(tag.to_vec(), hex("e1992190549f6ed5696a2c056c315410"));
    }

    #[test]
    fn prf_inputs_are_laid_out_as_documented() {
        let header = Header {
            key_id: "k1".into(),
            key_version: 7,
        };
        let input = prf_input(&1u32.to_be_bytes(), &header, &[0xaa; 32]).expect("input");
        let mut expected = vec![0, 0, 0, 1];
        expected.extend_from_slice(b"ferrokms ciphertext v1 token data key\0");
        expected.extend_from_slice(&[2, b'k', b'1', 0, 0, 0, 7]);
        expected.extend_from_slice(&[0xaa; 32]);
        expected.extend_from_slice(&[0, 0, 1, 0]);
        assert_eq!(input, expected);
    }
}
