//! ML_KEM_512/768/1024 (FIPS 203): Encapsulate, Decapsulate and the public key.
//!
//! AWS returns ML-KEM private keys as seed-form PKCS#8 (the 64-byte d‖z), so that is the stored
//! form too. aws-lc-rs cannot build a key from a seed, so RustCrypto's `ml-kem` expands the seed
//! (ML-KEM.KeyGen_internal) and decapsulates; encapsulation, which needs only the public key,
//! goes through aws-lc-rs. Every round trip thus crosses the two implementations.

use aws_lc_rs::kem::{self, EncapsulationKey};
use ml_kem::{
    Decapsulate, DecapsulationKey, EncapsulationKey as MlKemEncapsulationKey, KeyExport, MlKem1024,
    MlKem512, MlKem768, Seed, TryKeyInit,
};
use zeroize::{Zeroize, Zeroizing};

use super::encoding::{
    key_from_spki, seed_from_pkcs8, seed_pkcs8, spki, Oid, OID_ML_KEM_1024, OID_ML_KEM_512,
    OID_ML_KEM_768,
};
use crate::random::fill_random;
use crate::{CryptoError, SecretBytes};

/// Length of the seed d‖z.
const SEED_LEN: usize = 64;

/// The ML-KEM parameter sets.
#[derive(Clone, Copy, Debug)]
pub(super) enum Level {
    MlKem512,
    MlKem768,
    MlKem1024,
}

impl Level {
    fn oid(self) -> Oid {
        match self {
            Level::MlKem512 => OID_ML_KEM_512,
            Level::MlKem768 => OID_ML_KEM_768,
            Level::MlKem1024 => OID_ML_KEM_1024,
        }
    }

    fn algorithm(self) -> &'static kem::Algorithm {
        match self {
            Level::MlKem512 => &kem::ML_KEM_512,
            Level::MlKem768 => &kem::ML_KEM_768,
            Level::MlKem1024 => &kem::ML_KEM_1024,
        }
    }

    /// Length of the encapsulation key (FIPS 203, table 3).
    fn public_key_len(self) -> usize {
        match self {
            Level::MlKem512 => 800,
            Level::MlKem768 => 1184,
            Level::MlKem1024 => 1568,
        }
    }
}

/// Runs `$body` with `$p` naming the `ml-kem` parameter type of `$level`.
macro_rules! with_params {
    ($level:expr, $p:ident => $body:expr) => {
        match $level {
            Level::MlKem512 => {
                type $p = MlKem512;
                $body
            }
            Level::MlKem768 => {
                type $p = MlKem768;
                $body
            }
            Level::MlKem1024 => {
                type $p = MlKem1024;
                $body
            }
        }
    };
}

pub(super) fn generate(level: Level) -> Result<SecretBytes, CryptoError> {
    let mut seed = Zeroizing::new([0u8; SEED_LEN]);
    fill_random(seed.as_mut_slice())?;
    Ok(SecretBytes::from_zeroizing(seed_pkcs8(
        level.oid(),
        seed.as_slice(),
    )))
}

fn seed(level: Level, pkcs8: &[u8]) -> Result<Zeroizing<Seed>, CryptoError> {
    let bytes = seed_from_pkcs8(level.oid(), SEED_LEN, pkcs8)?;
    Seed::try_from(bytes)
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::InvalidKeyMaterial)
}

pub(super) fn public_key_der(level: Level, pkcs8: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let seed = seed(level, pkcs8)?;
    let raw = with_params!(level, P => {
        DecapsulationKey::<P>::from_seed(*seed).encapsulation_key().to_bytes().to_vec()
    });
    Ok(spki(level.oid(), &raw))
}

pub(super) fn encapsulate(
    level: Level,
    public_key: &[u8],
) -> Result<(Vec<u8>, SecretBytes), CryptoError> {
    let raw = key_from_spki(level.oid(), level.public_key_len(), public_key)?;
    // FIPS 203's encapsulation key check (every coefficient below q), which aws-lc-rs leaves to
    // the encapsulation itself, so that a bad key is the caller's error and not an internal one.
    let valid = with_params!(level, P => MlKemEncapsulationKey::<P>::new_from_slice(raw).is_ok());
    if !valid {
        return Err(CryptoError::InvalidPublicKey);
    }
    let key =
        EncapsulationKey::new(level.algorithm(), raw).map_err(|_| CryptoError::InvalidPublicKey)?;
    let (ciphertext, shared) = key
        .encapsulate()
        .map_err(|_| CryptoError::Internal("ML-KEM encapsulation failed"))?;
    Ok((
        ciphertext.as_ref().to_vec(),
        SecretBytes::from_zeroizing(Zeroizing::new(shared.as_ref().to_vec())),
    ))
}

pub(super) fn decapsulate(
    level: Level,
    pkcs8: &[u8],
    ciphertext: &[u8],
) -> Result<SecretBytes, CryptoError> {
    let seed = seed(level, pkcs8)?;
    with_params!(level, P => {
        let key = DecapsulationKey::<P>::from_seed(*seed);
        let mut shared = key
            .decapsulate_slice(ciphertext)
            .map_err(|_| CryptoError::InvalidCiphertext)?;
        let out = SecretBytes::from_zeroizing(Zeroizing::new(shared.to_vec()));
        shared.as_mut_slice().zeroize();
        Ok(out)
    })
}
