//! ML_DSA_44/65/87 (FIPS 204) with ML_DSA_SHAKE_256: pure ML-DSA with an empty context.
//!
//! RAW messages are signed and verified by aws-lc-rs. aws-lc-rs has no entry point for an
//! externally computed μ (FIPS 204, section 6.2: μ = SHAKE256(SHAKE256(pk, 64) ‖ 0x00 ‖ 0x00 ‖ M,
//! 64) for an empty context), so EXTERNAL_MU goes through RustCrypto's `ml-dsa`, whose
//! `sign_mu_randomized` and `verify_mu` start from μ. Both sign hedged (fresh randomness per
//! signature), and a signature from either verifies under the other for the same message.
//!
//! Both libraries are fed the same 32-byte seed ξ, kept in seed-form PKCS#8.

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::signature::{
    KeyPair, PqdsaKeyPair, PqdsaSigningAlgorithm, PqdsaVerificationAlgorithm, UnparsedPublicKey,
    ML_DSA_44, ML_DSA_44_SIGNING, ML_DSA_65, ML_DSA_65_SIGNING, ML_DSA_87, ML_DSA_87_SIGNING,
};
use ferrokms_types::enums::MessageType;
use ml_dsa::common::array::{typenum::U64, Array};
use ml_dsa::{
    EncodedSignature, EncodedVerifyingKey, ExpandedSigningKey, MlDsa44, MlDsa65, MlDsa87,
    MlDsaParams, Seed, Signature, VerifyingKey,
};
use zeroize::Zeroizing;

use super::encoding::{
    key_from_spki, seed_from_pkcs8, seed_pkcs8, Oid, OID_ML_DSA_44, OID_ML_DSA_65, OID_ML_DSA_87,
};
use crate::random::{fill_random, SystemRng};
use crate::{CryptoError, SecretBytes};

/// μ as `ml-dsa` takes it.
type Mu = Array<u8, U64>;

/// Length of the seed ξ.
const SEED_LEN: usize = 32;

/// The ML-DSA parameter sets.
#[derive(Clone, Copy, Debug)]
pub(super) enum Level {
    MlDsa44,
    MlDsa65,
    MlDsa87,
}

impl Level {
    fn oid(self) -> Oid {
        match self {
            Level::MlDsa44 => OID_ML_DSA_44,
            Level::MlDsa65 => OID_ML_DSA_65,
            Level::MlDsa87 => OID_ML_DSA_87,
        }
    }

    fn signing(self) -> &'static PqdsaSigningAlgorithm {
        match self {
            Level::MlDsa44 => &ML_DSA_44_SIGNING,
            Level::MlDsa65 => &ML_DSA_65_SIGNING,
            Level::MlDsa87 => &ML_DSA_87_SIGNING,
        }
    }

    fn verification(self) -> &'static PqdsaVerificationAlgorithm {
        match self {
            Level::MlDsa44 => &ML_DSA_44,
            Level::MlDsa65 => &ML_DSA_65,
            Level::MlDsa87 => &ML_DSA_87,
        }
    }

    /// Length of the encoded public key (FIPS 204, table 2).
    fn public_key_len(self) -> usize {
        match self {
            Level::MlDsa44 => 1312,
            Level::MlDsa65 => 1952,
            Level::MlDsa87 => 2592,
        }
    }
}

pub(super) fn generate(level: Level) -> Result<SecretBytes, CryptoError> {
    let mut seed = Zeroizing::new([0u8; SEED_LEN]);
    fill_random(seed.as_mut_slice())?;
    Ok(SecretBytes::from_zeroizing(seed_pkcs8(
        level.oid(),
        seed.as_slice(),
    )))
}

fn key_pair(level: Level, pkcs8: &[u8]) -> Result<PqdsaKeyPair, CryptoError> {
    let seed = seed_from_pkcs8(level.oid(), SEED_LEN, pkcs8)?;
    PqdsaKeyPair::from_seed(level.signing(), seed).map_err(|_| CryptoError::InvalidKeyMaterial)
}

pub(super) fn public_key_der(level: Level, pkcs8: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let der: PublicKeyX509Der = key_pair(level, pkcs8)?
        .public_key()
        .as_der()
        .map_err(|_| CryptoError::Internal("ML-DSA public key encoding failed"))?;
    Ok(der.as_ref().to_vec())
}

pub(super) fn sign(
    level: Level,
    message_type: MessageType,
    pkcs8: &[u8],
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    match message_type {
        MessageType::Raw => {
            let key = key_pair(level, pkcs8)?;
            let mut sig = vec![0u8; level.signing().signature_len()];
            let len = key
                .sign(message, &mut sig)
                .map_err(|_| CryptoError::Internal("ML-DSA signing failed"))?;
            sig.truncate(len);
            Ok(sig)
        }
        MessageType::ExternalMu => {
            let seed = seed_from_pkcs8(level.oid(), SEED_LEN, pkcs8)?;
            match level {
                Level::MlDsa44 => sign_mu::<MlDsa44>(seed, message),
                Level::MlDsa65 => sign_mu::<MlDsa65>(seed, message),
                Level::MlDsa87 => sign_mu::<MlDsa87>(seed, message),
            }
        }
        MessageType::Digest => Err(CryptoError::UnsupportedMessageType),
    }
}

pub(super) fn verify(
    level: Level,
    message_type: MessageType,
    spki: &[u8],
    message: &[u8],
    sig: &[u8],
) -> Result<bool, CryptoError> {
    let raw = key_from_spki(level.oid(), level.public_key_len(), spki)?;
    match message_type {
        MessageType::Raw => Ok(UnparsedPublicKey::new(level.verification(), raw)
            .verify(message, sig)
            .is_ok()),
        MessageType::ExternalMu => Ok(match level {
            Level::MlDsa44 => verify_mu::<MlDsa44>(raw, message, sig),
            Level::MlDsa65 => verify_mu::<MlDsa65>(raw, message, sig),
            Level::MlDsa87 => verify_mu::<MlDsa87>(raw, message, sig),
        }),
        MessageType::Digest => Err(CryptoError::UnsupportedMessageType),
    }
}

/// Hedged ML-DSA.Sign from a precomputed 64-byte μ.
fn sign_mu<P: MlDsaParams>(seed: &[u8], mu: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let seed: Zeroizing<Seed> =
        Zeroizing::new(Seed::try_from(seed).map_err(|_| CryptoError::InvalidKeyMaterial)?);
    let mu = Mu::try_from(mu).map_err(|_| CryptoError::InvalidMessageLength {
        expected: 64,
        actual: mu.len(),
    })?;
    let sig = ExpandedSigningKey::<P>::from_seed(&seed)
        .sign_mu_randomized(&mu, &mut SystemRng)
        .map_err(|_| CryptoError::Internal("ML-DSA signing failed"))?;
    Ok(sig.encode().to_vec())
}

/// ML-DSA.Verify from a precomputed μ; any malformed input is a failed verification.
fn verify_mu<P: MlDsaParams>(raw_public_key: &[u8], mu: &[u8], sig: &[u8]) -> bool {
    let (Ok(key), Ok(mu), Ok(sig)) = (
        EncodedVerifyingKey::<P>::try_from(raw_public_key),
        Mu::try_from(mu),
        EncodedSignature::<P>::try_from(sig),
    ) else {
        return false;
    };
    let Some(sig) = Signature::<P>::decode(&sig) else {
        return false;
    };
    VerifyingKey::<P>::decode(&key).verify_mu(&mu, &sig)
}
