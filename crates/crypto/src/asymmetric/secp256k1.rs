//! ECC_SECG_P256K1 through `k256`: ECDSA_SHA_256 with DER signatures.
//!
//! Signing is RFC 6979 with added randomness from the system generator (hedged), and `k256`
//! always emits low-S signatures. Verification accepts either S: ECDSA itself does, and AWS's
//! Verify is plain ECDSA, not Bitcoin's low-S rule, so a high S is normalised before checking.

use ferrokms_types::enums::MessageType;
use k256::ecdsa::signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};
use k256::ecdsa::signature::{RandomizedSigner, Verifier};
use k256::ecdsa::{Signature, SigningKey, VerifyingKey};
use k256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use k256::{PublicKey, SecretKey};
use zeroize::Zeroizing;

use crate::random::{fill_random, SystemRng};
use crate::{CryptoError, SecretBytes};

pub(super) fn generate() -> Result<SecretBytes, CryptoError> {
    let secret = random_secret_key()?;
    let der = secret
        .to_pkcs8_der()
        .map_err(|_| CryptoError::Internal("secp256k1 PKCS#8 encoding failed"))?;
    Ok(SecretBytes::from_zeroizing(Zeroizing::new(
        der.as_bytes().to_vec(),
    )))
}

/// A uniformly random scalar in [1, n−1]: 32 random bytes, drawn again in the (2⁻¹²⁸-likely)
/// case they are zero or not below the group order.
fn random_secret_key() -> Result<SecretKey, CryptoError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    for _ in 0..64 {
        fill_random(bytes.as_mut_slice())?;
        if let Ok(key) = SecretKey::from_slice(bytes.as_slice()) {
            return Ok(key);
        }
    }
    Err(CryptoError::Internal("no valid secp256k1 scalar drawn"))
}

fn secret_key(pkcs8: &[u8]) -> Result<SecretKey, CryptoError> {
    SecretKey::from_pkcs8_der(pkcs8).map_err(|_| CryptoError::InvalidKeyMaterial)
}

pub(super) fn public_key_der(pkcs8: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let der = secret_key(pkcs8)?
        .public_key()
        .to_public_key_der()
        .map_err(|_| CryptoError::Internal("secp256k1 public key encoding failed"))?;
    Ok(der.as_bytes().to_vec())
}

pub(super) fn sign(
    message_type: MessageType,
    pkcs8: &[u8],
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let key = SigningKey::from(&secret_key(pkcs8)?);
    let sig: Signature = match message_type {
        MessageType::Raw => key.try_sign_with_rng(&mut SystemRng, message),
        MessageType::Digest => key.sign_prehash_with_rng(&mut SystemRng, message),
        MessageType::ExternalMu => return Err(CryptoError::UnsupportedMessageType),
    }
    .map_err(|_| CryptoError::Internal("secp256k1 signing failed"))?;
    Ok(sig.to_der().as_bytes().to_vec())
}

pub(super) fn verify(
    message_type: MessageType,
    spki: &[u8],
    message: &[u8],
    sig: &[u8],
) -> Result<bool, CryptoError> {
    let public = PublicKey::from_public_key_der(spki).map_err(|_| CryptoError::InvalidPublicKey)?;
    let key = VerifyingKey::from(public);
    let Ok(sig) = Signature::from_der(sig) else {
        return Ok(false);
    };
    let sig = sig.normalize_s();
    Ok(match message_type {
        MessageType::Raw => key.verify(message, &sig).is_ok(),
        MessageType::Digest => key.verify_prehash(message, &sig).is_ok(),
        MessageType::ExternalMu => return Err(CryptoError::UnsupportedMessageType),
    })
}
