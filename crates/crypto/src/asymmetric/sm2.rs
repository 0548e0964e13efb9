//! SM2 (GB/T 32918, GM/T 0003) through the RustCrypto `sm2` crate: SM2DSA signatures, SM2PKE
//! encryption and ECDH on the SM2 curve.
//!
//! - SM2DSA uses AWS's default distinguishing ID `1234567812345678`. With RAW messages the
//!   signed value is e = SM3(Z_A ‖ M); with DIGEST the caller supplies that 32-byte e, computed
//!   with the same ID, and it is signed as is. Signatures are DER `SEQUENCE { r, s }`.
//! - SM2PKE writes GM/T 0009's DER `SEQUENCE { x, y, C3, C2 }` (C1‖C3‖C2 order, SM3) and
//!   decrypts that or the raw C1‖C3‖C2 octets.
//! - ECDH returns the x-coordinate of d·Q, as for the NIST curves.

use ferrokms_types::enums::MessageType;
use sm2::dsa::signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};
use sm2::dsa::signature::{RandomizedSigner, Verifier};
use sm2::dsa::{Signature, SigningKey, VerifyingKey};
use sm2::elliptic_curve::point::AffineCoordinates;
use sm2::pkcs8::der::Decode;
use sm2::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use sm2::pke::{Cipher, DecryptingKey, EncryptingKey, Mode};
use sm2::{ProjectivePoint, PublicKey, SecretKey};
use zeroize::Zeroizing;

use crate::random::{fill_random, SystemRng};
use crate::{CryptoError, SecretBytes};

/// The distinguishing ID AWS KMS uses for SM2DSA (GM/T 0009's default).
pub(crate) const DIST_ID: &str = "1234567812345678";

pub(super) fn generate() -> Result<SecretBytes, CryptoError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    for _ in 0..64 {
        fill_random(bytes.as_mut_slice())?;
        if let Ok(key) = SecretKey::from_slice(bytes.as_slice()) {
            let der = key
                .to_pkcs8_der()
                .map_err(|_| CryptoError::Internal("SM2 PKCS#8 encoding failed"))?;
            return Ok(SecretBytes::from_zeroizing(Zeroizing::new(
                der.as_bytes().to_vec(),
            )));
        }
    }
    Err(CryptoError::Internal("no valid SM2 scalar drawn"))
}

fn secret_key(pkcs8: &[u8]) -> Result<SecretKey, CryptoError> {
    SecretKey::from_pkcs8_der(pkcs8).map_err(|_| CryptoError::InvalidKeyMaterial)
}

fn public_key(spki: &[u8]) -> Result<PublicKey, CryptoError> {
    PublicKey::from_public_key_der(spki).map_err(|_| CryptoError::InvalidPublicKey)
}

pub(super) fn public_key_der(pkcs8: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let der = secret_key(pkcs8)?
        .public_key()
        .to_public_key_der()
        .map_err(|_| CryptoError::Internal("SM2 public key encoding failed"))?;
    Ok(der.as_bytes().to_vec())
}

pub(super) fn sign(
    message_type: MessageType,
    pkcs8: &[u8],
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let key = SigningKey::new(DIST_ID, &secret_key(pkcs8)?)
        .map_err(|_| CryptoError::InvalidKeyMaterial)?;
    let sig: Signature = match message_type {
        MessageType::Raw => key.try_sign_with_rng(&mut SystemRng, message),
        MessageType::Digest => key.sign_prehash_with_rng(&mut SystemRng, message),
        MessageType::ExternalMu => return Err(CryptoError::UnsupportedMessageType),
    }
    .map_err(|_| CryptoError::Internal("SM2DSA signing failed"))?;
    Ok(sig.to_der().as_bytes().to_vec())
}

pub(super) fn verify(
    message_type: MessageType,
    spki: &[u8],
    message: &[u8],
    sig: &[u8],
) -> Result<bool, CryptoError> {
    let key =
        VerifyingKey::new(DIST_ID, public_key(spki)?).map_err(|_| CryptoError::InvalidPublicKey)?;
    let Ok(sig) = Signature::from_der(sig) else {
        return Ok(false);
    };
    Ok(match message_type {
        MessageType::Raw => key.verify(message, &sig).is_ok(),
        MessageType::Digest => key.verify_prehash(message, &sig).is_ok(),
        MessageType::ExternalMu => return Err(CryptoError::UnsupportedMessageType),
    })
}

/// SM2PKE has no empty ciphertext (its KDF output would be empty); AWS requires at least one
/// plaintext byte anyway, so an empty plaintext is refused as a contract violation.
pub(super) fn encrypt(spki: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if plaintext.is_empty() {
        return Err(CryptoError::Internal(
            "SM2PKE needs at least one plaintext byte",
        ));
    }
    EncryptingKey::new_with_mode(public_key(spki)?, Mode::C1C3C2)
        .encrypt_der(&mut SystemRng, plaintext)
        .map_err(|_| CryptoError::Internal("SM2 encryption failed"))
}

pub(super) fn decrypt(pkcs8: &[u8], ciphertext: &[u8]) -> Result<SecretBytes, CryptoError> {
    let key = DecryptingKey::new_with_mode(secret_key(pkcs8)?.to_nonzero_scalar(), Mode::C1C3C2);
    let cipher: Cipher<'_> = match ciphertext.first() {
        Some(0x30) => Cipher::from_der(ciphertext).map_err(|_| CryptoError::InvalidCiphertext)?,
        _ => Cipher::from_slice(ciphertext, Mode::C1C3C2)
            .map_err(|_| CryptoError::InvalidCiphertext)?,
    };
    // Zeroizing from the start: on a failed check the buffer holds unauthenticated plaintext.
    let mut out = Zeroizing::new(vec![0u8; cipher.c2().len()]);
    let len = key
        .decrypt_cipher_with_buf(&cipher, &mut out)
        .map_err(|_| CryptoError::InvalidCiphertext)?;
    out.truncate(len);
    Ok(SecretBytes::from_zeroizing(out))
}

pub(super) fn derive(pkcs8: &[u8], peer_spki: &[u8]) -> Result<SecretBytes, CryptoError> {
    let secret = secret_key(pkcs8)?;
    let peer = public_key(peer_spki)?;
    let shared =
        (ProjectivePoint::from(*peer.as_affine()) * *secret.to_nonzero_scalar()).to_affine();
    // The group has prime order and both factors are non-zero, so the point is never the
    // identity and its x-coordinate is defined.
    let x = Zeroizing::new(shared.x());
    Ok(SecretBytes::from_zeroizing(Zeroizing::new(x.to_vec())))
}
