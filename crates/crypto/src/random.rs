//! Randomness from aws-lc's system generator: salts, nonces and new keys.
//!
//! [`SystemRng`] hands the same generator to the RustCrypto crates (k256, sm2, ml-dsa), so every
//! random byte of this crate comes from one source.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::{CryptoError, SecretBytes};

/// Length in bytes of a symmetric key (AES-256).
pub const SYMMETRIC_KEY_LEN: usize = 32;

/// `n` bytes from the system CSPRNG, held as a secret.
pub fn random_bytes(n: usize) -> Result<SecretBytes, CryptoError> {
    let mut buf = Zeroizing::new(vec![0u8; n]);
    fill_random(&mut buf)?;
    Ok(SecretBytes::from_zeroizing(buf))
}

/// Fresh material for a symmetric key version: 32 random bytes.
pub fn generate_symmetric_key() -> Result<SecretBytes, CryptoError> {
    random_bytes(SYMMETRIC_KEY_LEN)
}

/// Fills `out` from the system CSPRNG.
pub(crate) fn fill_random(out: &mut [u8]) -> Result<(), CryptoError> {
    SystemRandom::new()
        .fill(out)
        .map_err(|_| CryptoError::Internal("system random generator failed"))
}

/// aws-lc's system generator behind `rand_core`'s fallible traits, for the RustCrypto crates.
pub(crate) struct SystemRng;

/// The system generator failed; carries nothing else.
#[derive(Debug)]
pub(crate) struct RngFailure;

impl std::fmt::Display for RngFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("system random generator failed")
    }
}

impl std::error::Error for RngFailure {}

impl rand_core::TryRng for SystemRng {
    type Error = RngFailure;

    fn try_next_u32(&mut self) -> Result<u32, RngFailure> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, RngFailure> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RngFailure> {
        fill_random(dst).map_err(|_| RngFailure)
    }
}

impl rand_core::TryCryptoRng for SystemRng {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_bytes_has_requested_length() {
        for n in [0, 1, 12, 32, 1024] {
            assert_eq!(random_bytes(n).expect("rng").len(), n);
        }
    }

    #[test]
    fn system_rng_fills_through_rand_core() {
        use rand_core::TryRng;
        let mut a = [0u8; 32];
        let mut b = [0u8; 32];
        SystemRng.try_fill_bytes(&mut a).expect("rng");
        SystemRng.try_fill_bytes(&mut b).expect("rng");
        assert_ne!(a, b);
        assert_ne!(SystemRng.try_next_u64().expect("rng"), 0);
    }

    #[test]
    fn symmetric_keys_are_32_bytes_and_distinct() {
        let a = generate_symmetric_key().expect("rng");
        let b = generate_symmetric_key().expect("rng");
        assert_eq!(a.len(), SYMMETRIC_KEY_LEN);
        assert!(!a.ct_eq(b.expose()));
    }
}
