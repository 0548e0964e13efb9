//! Randomness from aws-lc's system generator: salts, nonces and new keys.

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
    fn symmetric_keys_are_32_bytes_and_distinct() {
        let a = generate_symmetric_key().expect("rng");
        let b = generate_symmetric_key().expect("rng");
        assert_eq!(a.len(), SYMMETRIC_KEY_LEN);
        assert!(!a.ct_eq(b.expose()));
    }
}
