//! Imported key material (BYOK): the RSA wrapping key pairs GetParametersForImport hands out, the
//! unwrapping of what ImportKeyMaterial receives, and the check that the material fits its key
//! spec.
//!
//! AWS's wrapping algorithms, as its developer guide specifies them:
//! - `RSAES_OAEP_SHA_1` / `RSAES_OAEP_SHA_256`: the material is RSAES-OAEP encrypted under the
//!   wrapping public key (MGF1 with the same hash, empty label).
//! - `RSA_AES_KEY_WRAP_SHA_1` / `RSA_AES_KEY_WRAP_SHA_256`: the caller makes an ephemeral 256-bit
//!   AES key, encrypts it with RSAES-OAEP as above and wraps the material under it with AES Key
//!   Wrap with Padding (RFC 5649); EncryptedKeyMaterial is the RSA ciphertext (exactly the
//!   modulus length) followed by the AES-KWP output.
//!
//! - `SM2PKE` with an SM2 wrapping key (AWS offers it in its China Regions): the material is
//!   SM2PKE encrypted under the wrapping public key (GM/T 0009 DER, or C1‖C3‖C2).
//!
//! Every failure to unwrap is [`CryptoError::InvalidCiphertext`] without detail: which step failed
//! would be an oracle on the wrapped bytes.

use aws_lc_rs::key_wrap::{AesKek, KeyWrapPadded, AES_256};
use ferrokms_types::enums::{EncryptionAlgorithm, KeySpec, WrappingAlgorithm, WrappingKeySpec};
use ferrokms_types::key_specs;
use zeroize::Zeroizing;

use crate::{asymmetric, CryptoError, SecretBytes, SYMMETRIC_KEY_LEN};

/// The ephemeral AES key of the RSA_AES_KEY_WRAP algorithms: AWS specifies 256 bits.
const EPHEMERAL_AES_KEY_LEN: usize = 32;

/// A wrapping key pair: the private key as PKCS#8 DER, the public key as DER
/// SubjectPublicKeyInfo (what GetParametersForImport returns as PublicKey).
pub struct WrappingKeyPair {
    pub private_key: SecretBytes,
    pub public_key: Vec<u8>,
}

/// The key spec of a wrapping key pair.
fn key_spec(spec: WrappingKeySpec) -> KeySpec {
    match spec {
        WrappingKeySpec::Rsa2048 => KeySpec::Rsa2048,
        WrappingKeySpec::Rsa3072 => KeySpec::Rsa3072,
        WrappingKeySpec::Rsa4096 => KeySpec::Rsa4096,
        WrappingKeySpec::Sm2 => KeySpec::Sm2,
    }
}

/// The public-key encryption of a wrapping algorithm (the OAEP hash, or SM2PKE).
fn oaep(alg: WrappingAlgorithm) -> Result<EncryptionAlgorithm, CryptoError> {
    match alg {
        WrappingAlgorithm::RsaesOaepSha1 | WrappingAlgorithm::RsaAesKeyWrapSha1 => {
            Ok(EncryptionAlgorithm::RsaesOaepSha1)
        }
        WrappingAlgorithm::RsaesOaepSha256 | WrappingAlgorithm::RsaAesKeyWrapSha256 => {
            Ok(EncryptionAlgorithm::RsaesOaepSha256)
        }
        WrappingAlgorithm::Sm2Pke => Ok(EncryptionAlgorithm::Sm2pke),
        WrappingAlgorithm::RsaesPkcs1V15 => Err(CryptoError::UnsupportedAlgorithm),
    }
}

/// A fresh wrapping key pair. RSA_4096 generation can take seconds: call from a blocking thread.
pub fn generate_wrapping_key(spec: WrappingKeySpec) -> Result<WrappingKeyPair, CryptoError> {
    let spec = key_spec(spec);
    let private_key = asymmetric::generate_key(spec)?;
    let public_key = asymmetric::public_key_der(spec, &private_key)?;
    Ok(WrappingKeyPair {
        private_key,
        public_key,
    })
}

/// Recovers the key material from ImportKeyMaterial's EncryptedKeyMaterial.
pub fn unwrap_key_material(
    alg: WrappingAlgorithm,
    wrapping_spec: WrappingKeySpec,
    wrapping_private_key: &SecretBytes,
    encrypted: &[u8],
) -> Result<SecretBytes, CryptoError> {
    let spec = key_spec(wrapping_spec);
    let sm2 = spec == KeySpec::Sm2;
    if sm2 != (alg == WrappingAlgorithm::Sm2Pke) {
        // SM2PKE goes with an SM2 wrapping key only, and the RSA algorithms with RSA keys.
        return Err(CryptoError::UnsupportedAlgorithm);
    }
    let scheme = oaep(alg)?;
    let decrypt = |ciphertext: &[u8]| {
        asymmetric::decrypt(spec, scheme, wrapping_private_key, ciphertext)
            .map_err(|_| CryptoError::InvalidCiphertext)
    };
    match alg {
        WrappingAlgorithm::RsaesOaepSha1
        | WrappingAlgorithm::RsaesOaepSha256
        | WrappingAlgorithm::Sm2Pke => decrypt(encrypted),
        _ => {
            let modulus_len = modulus_len(spec);
            if encrypted.len() <= modulus_len {
                return Err(CryptoError::InvalidCiphertext);
            }
            let (wrapped_key, wrapped_material) = encrypted.split_at(modulus_len);
            let aes_key = decrypt(wrapped_key)?;
            if aes_key.len() != EPHEMERAL_AES_KEY_LEN {
                return Err(CryptoError::InvalidCiphertext);
            }
            aes_kwp_unwrap(aes_key.expose(), wrapped_material)
        }
    }
}

fn modulus_len(spec: KeySpec) -> usize {
    match spec {
        KeySpec::Rsa3072 => 384,
        KeySpec::Rsa4096 => 512,
        _ => 256,
    }
}

/// AES Key Wrap with Padding (RFC 5649) unwrapping under a 256-bit key encryption key.
pub fn aes_kwp_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<SecretBytes, CryptoError> {
    let kek = AesKek::new(&AES_256, kek).map_err(|_| CryptoError::InvalidCiphertext)?;
    // RFC 5649: the output is at most the input less the 8-byte integrity check value.
    let Some(capacity) = wrapped.len().checked_sub(8) else {
        return Err(CryptoError::InvalidCiphertext);
    };
    let mut out = Zeroizing::new(vec![0u8; capacity.max(8)]);
    let len = kek
        .unwrap_with_padding(wrapped, &mut out)
        .map_err(|_| CryptoError::InvalidCiphertext)?
        .len();
    out.truncate(len);
    Ok(SecretBytes::from_zeroizing(out))
}

/// Whether `material` is key material of `spec` as AWS accepts it for import: SYMMETRIC_DEFAULT
/// exactly 256 bits; HMAC keys from the spec's length to the hash's block size; asymmetric keys
/// a DER PKCS#8 private key of the spec (RSA of the spec's modulus size, ECC on the spec's curve)
/// that this crate can load and use.
pub fn check_key_material(spec: KeySpec, material: &SecretBytes) -> Result<(), CryptoError> {
    let len = material.len();
    if spec == KeySpec::SymmetricDefault {
        return (len == SYMMETRIC_KEY_LEN)
            .then_some(())
            .ok_or(CryptoError::InvalidKeyMaterial);
    }
    if let Some(min) = key_specs::hmac_key_len(spec) {
        let max = if min > 32 { 128 } else { 64 };
        return (min..=max)
            .contains(&len)
            .then_some(())
            .ok_or(CryptoError::InvalidKeyMaterial);
    }
    asymmetric::public_key_der(spec, material)
        .map(|_| ())
        .map_err(|_| CryptoError::InvalidKeyMaterial)
}

/// AES Key Wrap with Padding (RFC 5649) under a 256-bit key: what an importing client does with
/// its ephemeral AES key (used by tests that play that client).
pub fn aes_kwp_wrap(kek: &[u8], material: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let kek = AesKek::new(&AES_256, kek).map_err(|_| CryptoError::Internal("AES-KWP key"))?;
    // The output is the input padded to a multiple of 8 bytes, plus 8.
    let mut out = vec![0u8; material.len() + 16];
    let len = kek
        .wrap_with_padding(material, &mut out)
        .map_err(|_| CryptoError::Internal("AES-KWP wrap failed"))?
        .len();
    out.truncate(len);
    Ok(out)
}

#[cfg(test)]
mod tests;
