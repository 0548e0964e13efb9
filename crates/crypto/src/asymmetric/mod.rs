//! Every AWS KMS key spec other than SYMMETRIC_DEFAULT: key generation, public keys, Sign and
//! Verify, RSA and SM2 encryption, HMAC, ECDH, ML-KEM and data key pairs.
//!
//! This module is the seam the service layer (and later an HSM-backed key store) calls. It
//! checks the request against [`ferrokms_types::key_specs`] (algorithm for the spec, message
//! type, digest length, plaintext limit), then dispatches by key spec to one file per family.
//! It does not know a key's *usage*: refusing Sign on an ENCRYPT_DECRYPT key is the caller's job.
//!
//! # Key material
//!
//! [`generate_key`] returns the private key (or HMAC key) in one form per spec, and every other
//! function takes it back in that form:
//!
//! | key spec | stored form |
//! | --- | --- |
//! | RSA_2048/3072/4096 | PKCS#8 `PrivateKeyInfo` DER (RFC 5208) |
//! | ECC_NIST_P256/P384/P521, ECC_SECG_P256K1, SM2 | PKCS#8 DER, `id-ecPublicKey` with the named curve |
//! | ECC_NIST_EDWARDS25519 | PKCS#8 v1 DER (RFC 8410) |
//! | ML_DSA_44/65/87 | PKCS#8 DER in seed form: the 32-byte seed ξ (RFC 9881) |
//! | ML_KEM_512/768/1024 | PKCS#8 DER in seed form: the 64-byte seed d‖z (RFC 9935) |
//! | HMAC_224/256/384/512 | the raw key: 28, 32, 48 or 64 random bytes |
//! | SYMMETRIC_DEFAULT | 32 random bytes (see [`crate::ciphertext`]) |
//!
//! So the stored form of an asymmetric key is exactly what GenerateDataKeyPair returns as
//! `PrivateKeyPlaintext`, and public keys are DER SubjectPublicKeyInfo as GetPublicKey returns
//! them. Key generation is synchronous and RSA_4096 can take seconds: run it on a blocking thread.
//!
//! # Libraries
//!
//! aws-lc-rs does RSA, ECDSA and ECDH on the NIST curves, Ed25519, HMAC, ML-DSA with RAW
//! messages and ML-KEM encapsulation. RustCrypto crates do the rest: `k256` (secp256k1 ECDSA),
//! `sm2` (SM2DSA, SM2PKE, ECDH on the SM2 curve), `ed25519-dalek` (Ed25519ph: aws-lc-rs exposes
//! none), `ml-dsa` (signing and verifying an external μ: aws-lc-rs has no such entry point) and
//! `ml-kem` (key pairs from a seed: aws-lc-rs only generates random ones). Where two libraries
//! share a key spec the tests check one against the other.

mod ecc;
mod ed25519;
pub(crate) mod encoding;
mod hmac;
mod mldsa;
mod mlkem;
mod rsa;
mod secp256k1;
mod sm2;
#[cfg(test)]
mod tests;

use ferrokms_types::enums::{
    DataKeyPairSpec, EncryptionAlgorithm, KeyAgreementAlgorithmSpec, KeySpec, MacAlgorithmSpec,
    MessageType, SigningAlgorithmSpec,
};
use ferrokms_types::key_specs::{self, MessageLen};

use crate::{generate_symmetric_key, CryptoError, SecretBytes};

/// A key pair made by [`generate_data_key_pair`].
#[derive(Debug)]
pub struct DataKeyPair {
    /// The private key as PKCS#8 DER (RFC 5958); ML-KEM keys in seed form.
    pub private_key: SecretBytes,
    /// The public key as DER SubjectPublicKeyInfo (RFC 5280).
    pub public_key: Vec<u8>,
}

/// Which implementation handles a key spec.
#[derive(Clone, Copy)]
enum Family {
    Symmetric,
    Hmac,
    Rsa(rsa::Size),
    Ecc(ecc::Curve),
    Secp256k1,
    Ed25519,
    Sm2,
    MlDsa(mldsa::Level),
    MlKem(mlkem::Level),
}

fn family(spec: KeySpec) -> Family {
    match spec {
        KeySpec::SymmetricDefault => Family::Symmetric,
        KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => Family::Hmac,
        KeySpec::Rsa2048 => Family::Rsa(rsa::Size::Rsa2048),
        KeySpec::Rsa3072 => Family::Rsa(rsa::Size::Rsa3072),
        KeySpec::Rsa4096 => Family::Rsa(rsa::Size::Rsa4096),
        KeySpec::EccNistP256 => Family::Ecc(ecc::Curve::P256),
        KeySpec::EccNistP384 => Family::Ecc(ecc::Curve::P384),
        KeySpec::EccNistP521 => Family::Ecc(ecc::Curve::P521),
        KeySpec::EccSecgP256k1 => Family::Secp256k1,
        KeySpec::EccNistEdwards25519 => Family::Ed25519,
        KeySpec::Sm2 => Family::Sm2,
        KeySpec::MlDsa44 => Family::MlDsa(mldsa::Level::MlDsa44),
        KeySpec::MlDsa65 => Family::MlDsa(mldsa::Level::MlDsa65),
        KeySpec::MlDsa87 => Family::MlDsa(mldsa::Level::MlDsa87),
        KeySpec::MlKem512 => Family::MlKem(mlkem::Level::MlKem512),
        KeySpec::MlKem768 => Family::MlKem(mlkem::Level::MlKem768),
        KeySpec::MlKem1024 => Family::MlKem(mlkem::Level::MlKem1024),
    }
}

/// New key material for `spec`, in the form the module docs list. Synchronous; RSA_4096 may
/// take seconds, so call it from a blocking thread.
pub fn generate_key(spec: KeySpec) -> Result<SecretBytes, CryptoError> {
    match family(spec) {
        Family::Symmetric => generate_symmetric_key(),
        Family::Hmac => hmac::generate(spec),
        Family::Rsa(size) => rsa::generate(size),
        Family::Ecc(curve) => ecc::generate(curve),
        Family::Secp256k1 => secp256k1::generate(),
        Family::Ed25519 => ed25519::generate(),
        Family::Sm2 => sm2::generate(),
        Family::MlDsa(level) => mldsa::generate(level),
        Family::MlKem(level) => mlkem::generate(level),
    }
}

/// The public key of an asymmetric key as DER SubjectPublicKeyInfo, exactly as GetPublicKey
/// returns it. [`CryptoError::UnsupportedAlgorithm`] for symmetric and HMAC specs.
pub fn public_key_der(spec: KeySpec, private_key: &SecretBytes) -> Result<Vec<u8>, CryptoError> {
    let key = private_key.expose();
    match family(spec) {
        Family::Symmetric | Family::Hmac => Err(CryptoError::UnsupportedAlgorithm),
        Family::Rsa(size) => rsa::public_key_der(size, key),
        Family::Ecc(curve) => ecc::public_key_der(curve, key),
        Family::Secp256k1 => secp256k1::public_key_der(key),
        Family::Ed25519 => ed25519::public_key_der(key),
        Family::Sm2 => sm2::public_key_der(key),
        Family::MlDsa(level) => mldsa::public_key_der(level, key),
        Family::MlKem(level) => mlkem::public_key_der(level, key),
    }
}

/// Signs `message` (a message, a digest or ML-DSA's μ, as `message_type` says) with the private
/// key of `spec`. DIGEST messages are signed as the precomputed hash, without hashing again,
/// except that ED25519_PH_SHA_512 applies Ed25519ph's own SHA-512 pre-hash to them as AWS does.
pub fn sign(
    spec: KeySpec,
    alg: SigningAlgorithmSpec,
    message_type: MessageType,
    private_key: &SecretBytes,
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    check_message(spec, alg, message_type, message)?;
    let key = private_key.expose();
    match family(spec) {
        Family::Symmetric | Family::Hmac | Family::MlKem(_) => {
            Err(CryptoError::UnsupportedAlgorithm)
        }
        Family::Rsa(size) => rsa::sign(size, alg, message_type, key, message),
        Family::Ecc(curve) => ecc::sign(curve, message_type, key, message),
        Family::Secp256k1 => secp256k1::sign(message_type, key, message),
        Family::Ed25519 => ed25519::sign(alg, key, message),
        Family::Sm2 => sm2::sign(message_type, key, message),
        Family::MlDsa(level) => mldsa::sign(level, message_type, key, message),
    }
}

/// Verifies `signature` over `message` with the public half of `private_key`. A signature that
/// does not verify, or does not even parse, is `Ok(false)`; errors are reserved for requests
/// that are wrong whatever the signature (algorithm, message type, digest length).
pub fn verify(
    spec: KeySpec,
    alg: SigningAlgorithmSpec,
    message_type: MessageType,
    private_key: &SecretBytes,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    check_message(spec, alg, message_type, message)?;
    let public_key = public_key_der(spec, private_key)?;
    verify_with_public_key(spec, alg, message_type, &public_key, message, signature)
}

/// [`verify`] with the public key as DER SubjectPublicKeyInfo (as [`public_key_der`] makes it).
pub fn verify_with_public_key(
    spec: KeySpec,
    alg: SigningAlgorithmSpec,
    message_type: MessageType,
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    check_message(spec, alg, message_type, message)?;
    match family(spec) {
        Family::Symmetric | Family::Hmac | Family::MlKem(_) => {
            Err(CryptoError::UnsupportedAlgorithm)
        }
        Family::Rsa(size) => rsa::verify(size, alg, message_type, public_key, message, signature),
        Family::Ecc(curve) => ecc::verify(curve, message_type, public_key, message, signature),
        Family::Secp256k1 => secp256k1::verify(message_type, public_key, message, signature),
        Family::Ed25519 => ed25519::verify(alg, public_key, message, signature),
        Family::Sm2 => sm2::verify(message_type, public_key, message, signature),
        Family::MlDsa(level) => mldsa::verify(level, message_type, public_key, message, signature),
    }
}

/// Encrypts `plaintext` to the public half of `private_key` with RSAES-OAEP or SM2PKE.
/// SYMMETRIC_DEFAULT is not handled here but by [`crate::ciphertext`].
pub fn encrypt(
    spec: KeySpec,
    alg: EncryptionAlgorithm,
    private_key: &SecretBytes,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    check_encryption(spec, alg, Some(plaintext))?;
    let public_key = public_key_der(spec, private_key)?;
    encrypt_with_public_key(spec, alg, &public_key, plaintext)
}

/// [`encrypt`] with the public key as DER SubjectPublicKeyInfo: what a holder of the downloaded
/// public key does outside KMS. SM2PKE ciphertexts are DER (GM/T 0009: x, y, C3, C2).
pub fn encrypt_with_public_key(
    spec: KeySpec,
    alg: EncryptionAlgorithm,
    public_key: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    check_encryption(spec, alg, Some(plaintext))?;
    match family(spec) {
        Family::Rsa(size) => rsa::encrypt(size, alg, public_key, plaintext),
        Family::Sm2 => sm2::encrypt(public_key, plaintext),
        _ => Err(CryptoError::UnsupportedAlgorithm),
    }
}

/// Decrypts an RSAES-OAEP or SM2PKE ciphertext. Anything that does not decrypt is
/// [`CryptoError::InvalidCiphertext`] without detail. SM2PKE accepts the DER form and the raw
/// C1‖C3‖C2 concatenation.
pub fn decrypt(
    spec: KeySpec,
    alg: EncryptionAlgorithm,
    private_key: &SecretBytes,
    ciphertext: &[u8],
) -> Result<SecretBytes, CryptoError> {
    check_encryption(spec, alg, None)?;
    let key = private_key.expose();
    match family(spec) {
        Family::Rsa(size) => rsa::decrypt(size, alg, key, ciphertext),
        Family::Sm2 => sm2::decrypt(key, ciphertext),
        _ => Err(CryptoError::UnsupportedAlgorithm),
    }
}

/// HMAC of `message` under an HMAC key of `spec`.
pub fn generate_mac(
    spec: KeySpec,
    alg: MacAlgorithmSpec,
    key: &SecretBytes,
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    check_mac(spec, alg)?;
    hmac::sign(spec, alg, key.expose(), message)
}

/// Whether `mac` is the HMAC of `message`, compared in constant time.
pub fn verify_mac(
    spec: KeySpec,
    alg: MacAlgorithmSpec,
    key: &SecretBytes,
    message: &[u8],
    mac: &[u8],
) -> Result<bool, CryptoError> {
    check_mac(spec, alg)?;
    hmac::verify(spec, alg, key.expose(), message, mac)
}

/// ECDH between the private key of `spec` and a peer's DER SubjectPublicKeyInfo on the same
/// curve: the raw shared secret (the x-coordinate of the shared point), as DeriveSharedSecret
/// returns it. A peer key that is malformed, on another curve or off the curve is
/// [`CryptoError::InvalidPublicKey`].
pub fn derive_shared_secret(
    spec: KeySpec,
    alg: KeyAgreementAlgorithmSpec,
    private_key: &SecretBytes,
    peer_public_key: &[u8],
) -> Result<SecretBytes, CryptoError> {
    if !key_specs::supports_key_agreement(spec, alg) {
        return Err(CryptoError::UnsupportedAlgorithm);
    }
    let key = private_key.expose();
    match family(spec) {
        Family::Ecc(curve) => ecc::derive(curve, key, peer_public_key),
        Family::Sm2 => sm2::derive(key, peer_public_key),
        _ => Err(CryptoError::UnsupportedAlgorithm),
    }
}

/// ML-KEM encapsulation to the public half of `private_key`: (ciphertext, 32-byte shared secret).
pub fn encapsulate(
    spec: KeySpec,
    private_key: &SecretBytes,
) -> Result<(Vec<u8>, SecretBytes), CryptoError> {
    if !matches!(family(spec), Family::MlKem(_)) {
        return Err(CryptoError::UnsupportedAlgorithm);
    }
    let public_key = public_key_der(spec, private_key)?;
    encapsulate_with_public_key(spec, &public_key)
}

/// [`encapsulate`] with the public key as DER SubjectPublicKeyInfo.
pub fn encapsulate_with_public_key(
    spec: KeySpec,
    public_key: &[u8],
) -> Result<(Vec<u8>, SecretBytes), CryptoError> {
    match family(spec) {
        Family::MlKem(level) => mlkem::encapsulate(level, public_key),
        _ => Err(CryptoError::UnsupportedAlgorithm),
    }
}

/// ML-KEM decapsulation. A ciphertext of the wrong length is [`CryptoError::InvalidCiphertext`];
/// one of the right length always yields a secret (ML-KEM's implicit rejection), which differs
/// from the encapsulated one if the ciphertext was altered.
pub fn decapsulate(
    spec: KeySpec,
    private_key: &SecretBytes,
    ciphertext: &[u8],
) -> Result<SecretBytes, CryptoError> {
    match family(spec) {
        Family::MlKem(level) => mlkem::decapsulate(level, private_key.expose(), ciphertext),
        _ => Err(CryptoError::UnsupportedAlgorithm),
    }
}

/// A data key pair of `spec`: the private key as PKCS#8 DER and the public key as DER
/// SubjectPublicKeyInfo, as GenerateDataKeyPair returns them. Synchronous like [`generate_key`].
pub fn generate_data_key_pair(spec: DataKeyPairSpec) -> Result<DataKeyPair, CryptoError> {
    let key_spec = spec.key_spec();
    let private_key = generate_key(key_spec)?;
    let public_key = public_key_der(key_spec, &private_key)?;
    Ok(DataKeyPair {
        private_key,
        public_key,
    })
}

fn check_message(
    spec: KeySpec,
    alg: SigningAlgorithmSpec,
    message_type: MessageType,
    message: &[u8],
) -> Result<(), CryptoError> {
    if !key_specs::supports_signing(spec, alg) {
        return Err(CryptoError::UnsupportedAlgorithm);
    }
    let actual = message.len();
    match key_specs::message_len(alg, message_type) {
        None => Err(CryptoError::UnsupportedMessageType),
        Some(MessageLen::Exactly(expected)) if actual != expected => {
            Err(CryptoError::InvalidMessageLength { expected, actual })
        }
        Some(MessageLen::UpTo(expected)) if actual > expected => {
            Err(CryptoError::InvalidMessageLength { expected, actual })
        }
        Some(_) => Ok(()),
    }
}

fn check_encryption(
    spec: KeySpec,
    alg: EncryptionAlgorithm,
    plaintext: Option<&[u8]>,
) -> Result<(), CryptoError> {
    if spec == KeySpec::SymmetricDefault || !key_specs::supports_encryption(spec, alg) {
        return Err(CryptoError::UnsupportedAlgorithm);
    }
    let max = key_specs::max_plaintext_len(spec, alg).ok_or(CryptoError::UnsupportedAlgorithm)?;
    match plaintext {
        Some(p) if p.len() > max => Err(CryptoError::PlaintextTooLong { max }),
        _ => Ok(()),
    }
}

fn check_mac(spec: KeySpec, alg: MacAlgorithmSpec) -> Result<(), CryptoError> {
    if key_specs::supports_mac(spec, alg) {
        Ok(())
    } else {
        Err(CryptoError::UnsupportedAlgorithm)
    }
}
