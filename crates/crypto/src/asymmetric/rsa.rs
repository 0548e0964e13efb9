//! RSA_2048/3072/4096 through aws-lc-rs: RSASSA-PSS and RSASSA-PKCS1-v1_5 signatures with
//! SHA-256/384/512, and RSAES-OAEP with SHA-1 or SHA-256 (MGF1 with the same hash, empty label).
//!
//! PSS uses a salt as long as the digest, as AWS does. Keys are PKCS#8; the modulus must have
//! the spec's size, so material of another size is refused rather than silently used.

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    KeySize, OaepAlgorithm, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256,
};
use aws_lc_rs::signature::{self, KeyPair, RsaEncoding, RsaParameters, UnparsedPublicKey};
use ferrokms_types::enums::{EncryptionAlgorithm, MessageType, SigningAlgorithmSpec};
use zeroize::Zeroizing;

use crate::{CryptoError, SecretBytes};

/// The RSA key specs.
#[derive(Clone, Copy, Debug)]
pub(super) enum Size {
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

impl Size {
    fn key_size(self) -> KeySize {
        match self {
            Size::Rsa2048 => KeySize::Rsa2048,
            Size::Rsa3072 => KeySize::Rsa3072,
            Size::Rsa4096 => KeySize::Rsa4096,
        }
    }

    /// Modulus length in bytes.
    fn len(self) -> usize {
        self.key_size().len()
    }
}

/// The aws-lc-rs padding, verification parameters and digest of a signing algorithm.
fn signing_scheme(
    alg: SigningAlgorithmSpec,
) -> Result<
    (
        &'static dyn RsaEncoding,
        &'static RsaParameters,
        &'static digest::Algorithm,
    ),
    CryptoError,
> {
    use SigningAlgorithmSpec as S;
    Ok(match alg {
        S::RsassaPssSha256 => (
            &signature::RSA_PSS_SHA256,
            &signature::RSA_PSS_2048_8192_SHA256,
            &digest::SHA256,
        ),
        S::RsassaPssSha384 => (
            &signature::RSA_PSS_SHA384,
            &signature::RSA_PSS_2048_8192_SHA384,
            &digest::SHA384,
        ),
        S::RsassaPssSha512 => (
            &signature::RSA_PSS_SHA512,
            &signature::RSA_PSS_2048_8192_SHA512,
            &digest::SHA512,
        ),
        S::RsassaPkcs1V15Sha256 => (
            &signature::RSA_PKCS1_SHA256,
            &signature::RSA_PKCS1_2048_8192_SHA256,
            &digest::SHA256,
        ),
        S::RsassaPkcs1V15Sha384 => (
            &signature::RSA_PKCS1_SHA384,
            &signature::RSA_PKCS1_2048_8192_SHA384,
            &digest::SHA384,
        ),
        S::RsassaPkcs1V15Sha512 => (
            &signature::RSA_PKCS1_SHA512,
            &signature::RSA_PKCS1_2048_8192_SHA512,
            &digest::SHA512,
        ),
        _ => return Err(CryptoError::UnsupportedAlgorithm),
    })
}

fn oaep(alg: EncryptionAlgorithm) -> Result<&'static OaepAlgorithm, CryptoError> {
    match alg {
        EncryptionAlgorithm::RsaesOaepSha1 => Ok(&OAEP_SHA1_MGF1SHA1),
        EncryptionAlgorithm::RsaesOaepSha256 => Ok(&OAEP_SHA256_MGF1SHA256),
        _ => Err(CryptoError::UnsupportedAlgorithm),
    }
}

pub(super) fn generate(size: Size) -> Result<SecretBytes, CryptoError> {
    let key = signature::RsaKeyPair::generate(size.key_size())
        .map_err(|_| CryptoError::Internal("RSA key generation failed"))?;
    let der: Pkcs8V1Der = key
        .as_der()
        .map_err(|_| CryptoError::Internal("RSA PKCS#8 encoding failed"))?;
    Ok(SecretBytes::from_zeroizing(Zeroizing::new(
        der.as_ref().to_vec(),
    )))
}

fn key_pair(size: Size, pkcs8: &[u8]) -> Result<signature::RsaKeyPair, CryptoError> {
    let key =
        signature::RsaKeyPair::from_pkcs8(pkcs8).map_err(|_| CryptoError::InvalidKeyMaterial)?;
    if key.public_modulus_len() != size.len() {
        return Err(CryptoError::InvalidKeyMaterial);
    }
    Ok(key)
}

pub(super) fn public_key_der(size: Size, pkcs8: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let der: PublicKeyX509Der = key_pair(size, pkcs8)?
        .public_key()
        .as_der()
        .map_err(|_| CryptoError::Internal("RSA public key encoding failed"))?;
    Ok(der.as_ref().to_vec())
}

pub(super) fn sign(
    size: Size,
    alg: SigningAlgorithmSpec,
    message_type: MessageType,
    pkcs8: &[u8],
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let (encoding, _, digest_alg) = signing_scheme(alg)?;
    let key = key_pair(size, pkcs8)?;
    let mut sig = vec![0u8; key.public_modulus_len()];
    let signed = match message_type {
        MessageType::Raw => key.sign(encoding, &SystemRandom::new(), message, &mut sig),
        MessageType::Digest => {
            let digest = import_digest(message, digest_alg)?;
            key.sign_digest(encoding, &digest, &mut sig)
        }
        MessageType::ExternalMu => return Err(CryptoError::UnsupportedMessageType),
    };
    signed.map_err(|_| CryptoError::Internal("RSA signing failed"))?;
    Ok(sig)
}

pub(super) fn verify(
    size: Size,
    alg: SigningAlgorithmSpec,
    message_type: MessageType,
    spki: &[u8],
    message: &[u8],
    sig: &[u8],
) -> Result<bool, CryptoError> {
    let (_, params, digest_alg) = signing_scheme(alg)?;
    check_public_key(size, spki)?;
    let key = UnparsedPublicKey::new(params, spki);
    Ok(match message_type {
        MessageType::Raw => key.verify(message, sig).is_ok(),
        MessageType::Digest => {
            let digest = import_digest(message, digest_alg)?;
            key.verify_digest(&digest, sig).is_ok()
        }
        MessageType::ExternalMu => return Err(CryptoError::UnsupportedMessageType),
    })
}

pub(super) fn encrypt(
    size: Size,
    alg: EncryptionAlgorithm,
    spki: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let oaep_alg = oaep(alg)?;
    let key = OaepPublicEncryptingKey::new(check_public_key(size, spki)?)
        .map_err(|_| CryptoError::InvalidPublicKey)?;
    let max = key.max_plaintext_size(oaep_alg);
    if plaintext.len() > max {
        return Err(CryptoError::PlaintextTooLong { max });
    }
    let mut out = vec![0u8; key.ciphertext_size()];
    let len = key
        .encrypt(oaep_alg, plaintext, &mut out, None)
        .map_err(|_| CryptoError::Internal("RSA-OAEP encryption failed"))?
        .len();
    out.truncate(len);
    Ok(out)
}

pub(super) fn decrypt(
    size: Size,
    alg: EncryptionAlgorithm,
    pkcs8: &[u8],
    ciphertext: &[u8],
) -> Result<SecretBytes, CryptoError> {
    let oaep_alg = oaep(alg)?;
    let private =
        PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(|_| CryptoError::InvalidKeyMaterial)?;
    if private.key_size_bytes() != size.len() {
        return Err(CryptoError::InvalidKeyMaterial);
    }
    let key = OaepPrivateDecryptingKey::new(private)
        .map_err(|_| CryptoError::Internal("RSA-OAEP key setup failed"))?;
    if ciphertext.len() != key.key_size_bytes() {
        return Err(CryptoError::InvalidCiphertext);
    }
    // Zeroizing from the start: the buffer holds plaintext once decryption succeeds.
    let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
    let len = key
        .decrypt(oaep_alg, ciphertext, &mut out, None)
        .map_err(|_| CryptoError::InvalidCiphertext)?
        .len();
    out.truncate(len);
    Ok(SecretBytes::from_zeroizing(out))
}

/// Parses a DER SubjectPublicKeyInfo and checks its modulus has the spec's size.
fn check_public_key(size: Size, spki: &[u8]) -> Result<PublicEncryptingKey, CryptoError> {
    let key = PublicEncryptingKey::from_der(spki).map_err(|_| CryptoError::InvalidPublicKey)?;
    if key.key_size_bytes() != size.len() {
        return Err(CryptoError::InvalidPublicKey);
    }
    Ok(key)
}

fn import_digest(message: &[u8], alg: &'static digest::Algorithm) -> Result<Digest, CryptoError> {
    Digest::import_less_safe(message, alg).map_err(|_| CryptoError::InvalidMessageLength {
        expected: alg.output_len(),
        actual: message.len(),
    })
}
