//! HMAC_224/256/384/512 through aws-lc-rs: GenerateMac and VerifyMac with HMAC_SHA_224/256/384/512.
//!
//! New keys are as long as the spec says (28, 32, 48 or 64 bytes). Stored keys are accepted from
//! that length up to the hash's block size (64 or 128 bytes): a shorter key is weaker than the
//! spec promises, and a longer one HMAC would hash down anyway. Anything else is refused as not
//! this spec's key. (Imported HMAC material, when that exists, must fit the same range.)

use aws_lc_rs::hmac;
use ferrokms_types::enums::{KeySpec, MacAlgorithmSpec};
use ferrokms_types::key_specs;
use subtle::ConstantTimeEq;

use crate::{random_bytes, CryptoError, SecretBytes};

pub(super) fn generate(spec: KeySpec) -> Result<SecretBytes, CryptoError> {
    let len = key_specs::hmac_key_len(spec).ok_or(CryptoError::UnsupportedAlgorithm)?;
    random_bytes(len)
}

pub(super) fn algorithm(alg: MacAlgorithmSpec) -> (hmac::Algorithm, usize) {
    match alg {
        MacAlgorithmSpec::HmacSha224 => (hmac::HMAC_SHA224, 64),
        MacAlgorithmSpec::HmacSha256 => (hmac::HMAC_SHA256, 64),
        MacAlgorithmSpec::HmacSha384 => (hmac::HMAC_SHA384, 128),
        MacAlgorithmSpec::HmacSha512 => (hmac::HMAC_SHA512, 128),
    }
}

pub(super) fn sign(
    spec: KeySpec,
    alg: MacAlgorithmSpec,
    key: &[u8],
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let (algorithm, block_len) = algorithm(alg);
    let min = key_specs::hmac_key_len(spec).ok_or(CryptoError::UnsupportedAlgorithm)?;
    if key.len() < min || key.len() > block_len {
        return Err(CryptoError::InvalidKeyMaterial);
    }
    Ok(tag(algorithm, key, message))
}

/// The full-length HMAC of `message` under `key`, whatever the key's length.
pub(super) fn tag(algorithm: hmac::Algorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(algorithm, key), message)
        .as_ref()
        .to_vec()
}

pub(super) fn verify(
    spec: KeySpec,
    alg: MacAlgorithmSpec,
    key: &[u8],
    message: &[u8],
    mac: &[u8],
) -> Result<bool, CryptoError> {
    let expected = sign(spec, alg, key, message)?;
    // The MAC length is public (it follows from the algorithm), so only the contents are
    // compared in constant time.
    Ok(expected.len() == mac.len() && bool::from(expected.ct_eq(mac)))
}
