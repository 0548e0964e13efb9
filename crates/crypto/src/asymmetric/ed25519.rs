//! ECC_NIST_EDWARDS25519: ED25519_SHA_512 (pure Ed25519, RAW messages) through aws-lc-rs, and
//! ED25519_PH_SHA_512 (Ed25519ph, HashEdDSA of FIPS 186-5 / RFC 8032 with an empty context)
//! through `ed25519-dalek`, because aws-lc-rs exposes no Ed25519ph.
//!
//! AWS takes ED25519_PH_SHA_512 only with MessageType DIGEST, the caller's 64-byte SHA-512
//! digest, and still applies Ed25519ph's own SHA-512 pre-hash to it: the signed value is
//! PH(digest) = SHA-512(digest). So the 64 input bytes are Ed25519ph's message here.
//!
//! Both libraries load the same key: the 32-byte seed inside the PKCS#8 v1 document.

use aws_lc_rs::encoding::{AsBigEndian, AsDer, Curve25519SeedBin, PublicKeyX509Der};
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use ed25519_dalek::{Digest, Sha512, Signature, SigningKey, VerifyingKey};
use ferrokms_types::enums::SigningAlgorithmSpec;
use zeroize::Zeroizing;

use super::encoding::{key_from_spki, OID_ED25519};
use crate::{CryptoError, SecretBytes};

const PUBLIC_KEY_LEN: usize = 32;

pub(super) fn generate() -> Result<SecretBytes, CryptoError> {
    let der = Ed25519KeyPair::generate()
        .and_then(|k| k.to_pkcs8v1())
        .map_err(|_| CryptoError::Internal("Ed25519 key generation failed"))?;
    Ok(SecretBytes::from_zeroizing(Zeroizing::new(
        der.as_ref().to_vec(),
    )))
}

fn key_pair(pkcs8: &[u8]) -> Result<Ed25519KeyPair, CryptoError> {
    Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| CryptoError::InvalidKeyMaterial)
}

pub(super) fn public_key_der(pkcs8: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let der: PublicKeyX509Der = key_pair(pkcs8)?
        .public_key()
        .as_der()
        .map_err(|_| CryptoError::Internal("Ed25519 public key encoding failed"))?;
    Ok(der.as_ref().to_vec())
}

pub(super) fn sign(
    alg: SigningAlgorithmSpec,
    pkcs8: &[u8],
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let key = key_pair(pkcs8)?;
    match alg {
        SigningAlgorithmSpec::Ed25519Sha512 => Ok(key.sign(message).as_ref().to_vec()),
        SigningAlgorithmSpec::Ed25519PhSha512 => {
            let seed: Curve25519SeedBin = key
                .seed()
                .and_then(|s| s.as_be_bytes())
                .map_err(|_| CryptoError::InvalidKeyMaterial)?;
            let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
                seed.as_ref()
                    .try_into()
                    .map_err(|_| CryptoError::InvalidKeyMaterial)?,
            );
            sign_ph(&seed, message)
        }
        _ => Err(CryptoError::UnsupportedAlgorithm),
    }
}

/// Ed25519ph over `message` (RFC 8032 5.1, empty context).
pub(super) fn sign_ph(seed: &[u8; 32], message: &[u8]) -> Result<Vec<u8>, CryptoError> {
    SigningKey::from_bytes(seed)
        .sign_prehashed(Sha512::new().chain_update(message), None)
        .map(|sig| sig.to_bytes().to_vec())
        .map_err(|_| CryptoError::Internal("Ed25519ph signing failed"))
}

pub(super) fn verify(
    alg: SigningAlgorithmSpec,
    spki: &[u8],
    message: &[u8],
    sig: &[u8],
) -> Result<bool, CryptoError> {
    let raw = key_from_spki(OID_ED25519, PUBLIC_KEY_LEN, spki)?;
    match alg {
        SigningAlgorithmSpec::Ed25519Sha512 => Ok(UnparsedPublicKey::new(&ED25519, raw)
            .verify(message, sig)
            .is_ok()),
        SigningAlgorithmSpec::Ed25519PhSha512 => verify_ph(raw, message, sig),
        _ => Err(CryptoError::UnsupportedAlgorithm),
    }
}

/// Verifies an Ed25519ph signature with a raw 32-byte public key, rejecting small-order keys
/// and non-canonical signatures as aws-lc's pure Ed25519 does.
pub(super) fn verify_ph(raw: &[u8], message: &[u8], sig: &[u8]) -> Result<bool, CryptoError> {
    let raw: &[u8; PUBLIC_KEY_LEN] = raw.try_into().map_err(|_| CryptoError::InvalidPublicKey)?;
    let key = VerifyingKey::from_bytes(raw).map_err(|_| CryptoError::InvalidPublicKey)?;
    let Ok(sig) = Signature::from_slice(sig) else {
        return Ok(false);
    };
    Ok(key
        .verify_prehashed_strict(Sha512::new().chain_update(message), None, &sig)
        .is_ok())
}
