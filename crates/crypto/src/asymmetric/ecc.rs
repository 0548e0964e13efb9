//! ECC_NIST_P256/P384/P521 through aws-lc-rs: ECDSA with the curve's hash (SHA-256, SHA-384,
//! SHA-512) and DER signatures, and ECDH returning the x-coordinate of the shared point.
//!
//! One PKCS#8 key serves both usages: it loads as an ECDSA key pair for SIGN_VERIFY and as an
//! agreement key for KEY_AGREEMENT.

use aws_lc_rs::agreement::{self, ParsedPublicKey, ParsedPublicKeyFormat};
use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, EcdsaVerificationAlgorithm, KeyPair,
    UnparsedPublicKey,
};
use ferrokms_types::enums::MessageType;
use zeroize::Zeroizing;

use super::encoding::sequence_body;
use crate::{CryptoError, SecretBytes};

/// The NIST curves.
#[derive(Clone, Copy, Debug)]
pub(super) enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    fn signing(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            Curve::P521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
        }
    }

    fn verification(self) -> &'static EcdsaVerificationAlgorithm {
        match self {
            Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1,
            Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1,
            Curve::P521 => &signature::ECDSA_P521_SHA512_ASN1,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            Curve::P256 => &digest::SHA256,
            Curve::P384 => &digest::SHA384,
            Curve::P521 => &digest::SHA512,
        }
    }

    /// DER AlgorithmIdentifier `{ id-ecPublicKey, namedCurve }` that opens this curve's SPKI.
    fn algorithm_id(self) -> &'static [u8] {
        match self {
            Curve::P256 => &[
                0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
                0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
            ],
            Curve::P384 => &[
                0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
                0x81, 0x04, 0x00, 0x22,
            ],
            Curve::P521 => &[
                0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
                0x81, 0x04, 0x00, 0x23,
            ],
        }
    }

    fn agreement(self) -> &'static agreement::Algorithm {
        match self {
            Curve::P256 => &agreement::ECDH_P256,
            Curve::P384 => &agreement::ECDH_P384,
            Curve::P521 => &agreement::ECDH_P521,
        }
    }
}

pub(super) fn generate(curve: Curve) -> Result<SecretBytes, CryptoError> {
    let der = EcdsaKeyPair::generate(curve.signing())
        .and_then(|k| k.to_pkcs8v1())
        .map_err(|_| CryptoError::Internal("EC key generation failed"))?;
    Ok(SecretBytes::from_zeroizing(Zeroizing::new(
        der.as_ref().to_vec(),
    )))
}

fn key_pair(curve: Curve, pkcs8: &[u8]) -> Result<EcdsaKeyPair, CryptoError> {
    EcdsaKeyPair::from_pkcs8(curve.signing(), pkcs8).map_err(|_| CryptoError::InvalidKeyMaterial)
}

pub(super) fn public_key_der(curve: Curve, pkcs8: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let der: PublicKeyX509Der = key_pair(curve, pkcs8)?
        .public_key()
        .as_der()
        .map_err(|_| CryptoError::Internal("EC public key encoding failed"))?;
    Ok(der.as_ref().to_vec())
}

pub(super) fn sign(
    curve: Curve,
    message_type: MessageType,
    pkcs8: &[u8],
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let key = key_pair(curve, pkcs8)?;
    let sig = match message_type {
        MessageType::Raw => key.sign(&SystemRandom::new(), message),
        MessageType::Digest => key.sign_digest(&import_digest(curve, message)?),
        MessageType::ExternalMu => return Err(CryptoError::UnsupportedMessageType),
    }
    .map_err(|_| CryptoError::Internal("ECDSA signing failed"))?;
    Ok(sig.as_ref().to_vec())
}

pub(super) fn verify(
    curve: Curve,
    message_type: MessageType,
    spki: &[u8],
    message: &[u8],
    sig: &[u8],
) -> Result<bool, CryptoError> {
    let key = UnparsedPublicKey::new(curve.verification(), spki);
    Ok(match message_type {
        MessageType::Raw => key.verify(message, sig).is_ok(),
        MessageType::Digest => key
            .verify_digest(&import_digest(curve, message)?, sig)
            .is_ok(),
        MessageType::ExternalMu => return Err(CryptoError::UnsupportedMessageType),
    })
}

/// ECDH with a peer key given as DER SubjectPublicKeyInfo on the same curve (aws-lc-rs also
/// takes bare points; AWS does not, so neither does this).
pub(super) fn derive(
    curve: Curve,
    pkcs8: &[u8],
    peer_spki: &[u8],
) -> Result<SecretBytes, CryptoError> {
    let private = agreement::PrivateKey::from_private_key_der(curve.agreement(), pkcs8)
        .map_err(|_| CryptoError::InvalidKeyMaterial)?;
    // aws-lc's parser tolerates bytes after the SubjectPublicKeyInfo and explicit curve
    // parameters; AWS's format is DER with the named curve, so require exactly that prefix.
    let named = sequence_body(peer_spki).is_some_and(|b| b.starts_with(curve.algorithm_id()));
    if !named {
        return Err(CryptoError::InvalidPublicKey);
    }
    let peer = ParsedPublicKey::try_from(agreement::UnparsedPublicKey::new(
        curve.agreement(),
        peer_spki,
    ))
    .map_err(|_| CryptoError::InvalidPublicKey)?;
    if peer.format() != ParsedPublicKeyFormat::X509 {
        return Err(CryptoError::InvalidPublicKey);
    }
    agreement::agree(&private, peer, CryptoError::InvalidPublicKey, |secret| {
        Ok(SecretBytes::from_zeroizing(Zeroizing::new(secret.to_vec())))
    })
}

fn import_digest(curve: Curve, message: &[u8]) -> Result<Digest, CryptoError> {
    Digest::import_less_safe(message, curve.digest()).map_err(|_| {
        CryptoError::InvalidMessageLength {
            expected: curve.digest().output_len(),
            actual: message.len(),
        }
    })
}
