//! Decrypt. A symmetric ciphertext names its key (a KeyId, when given, must be that key); an
//! RSAES-OAEP or SM2PKE ciphertext names nothing, so the request names the key (KeyId) and the
//! algorithm (EncryptionAlgorithm), as AWS requires. Without an asymmetric algorithm the blob is
//! read as a symmetric ciphertext, so a raw RSA ciphertext is InvalidCiphertextException, as at AWS.

use crate::access::authz::AuthorizedKey;
use crate::access::conditions::encryption_context_conditions;
use crate::key_state::StateRule;
use crate::pipeline::{KeySource, KeyTarget, Operation};
use crate::{algorithms, blocking, error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_crypto::SecretBytes;
use ferrokms_policy::Context;
use ferrokms_types::enums::{EncryptionAlgorithm, KeyUsage};
use ferrokms_types::shapes::crypto::{DecryptRequest, DecryptResponse};
use ferrokms_types::shapes::EncryptionContext;
use ferrokms_types::{KmsError, SecretBlob};

pub struct Decrypt;

#[async_trait]
impl Operation for Decrypt {
    const NAME: &'static str = "Decrypt";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Cryptographic;
    const ACTION: &'static str = "kms:Decrypt";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    const TRACKS_LAST_USAGE: bool = true;
    type Input = DecryptRequest;
    type Output = DecryptResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        let blob = input
            .ciphertext_blob
            .as_ref()
            .map(|b| b.0.as_slice())
            .unwrap_or_default();
        Ok(vec![decryption_target(
            blob,
            input.key_id.clone(),
            input.encryption_algorithm.as_deref(),
            input.ignores_ciphertext(),
            "KeyId",
            Self::ACTION,
        )?])
    }

    fn encryption_context<'a>(input: &'a Self::Input, _: &str) -> Option<&'a EncryptionContext> {
        input.encryption_context.as_ref()
    }

    fn conditions(input: &Self::Input, _: &str, context: &mut Context) {
        encryption_context_conditions(input.encryption_context.as_ref(), context);
        let algorithm = input
            .encryption_algorithm
            .as_deref()
            .unwrap_or("SYMMETRIC_DEFAULT");
        context.insert("kms:EncryptionAlgorithm", algorithm);
    }

    fn dry_run(input: &Self::Input) -> bool {
        input.dry_run == Some(true)
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        super::refuse_recipient(&input.recipient)?;
        let key = super::only(keys)?;
        let algorithm = algorithms::encryption(&key.key, input.encryption_algorithm.as_deref())?;
        let blob = input.ciphertext_blob.map(|b| b.0).unwrap_or_default();
        let context = input.encryption_context.unwrap_or_default();
        let material_id = super::ciphertext_material_id(kms, &key, algorithm, &blob).await?;
        let plaintext = open_with(kms, &key, algorithm, blob, &context).await?;
        Ok(DecryptResponse {
            key_id: key.key.arn().to_string(),
            plaintext: SecretBlob::new(plaintext.expose().to_vec()),
            encryption_algorithm: algorithm,
            key_material_id: material_id,
        })
    }
}

/// The key a Decrypt (or ReEncrypt's source) uses. With an asymmetric algorithm, or in a dry run
/// that ignores the ciphertext, it is the key the request names in `key_field` (required then);
/// otherwise the key the ciphertext names.
pub(crate) fn decryption_target(
    blob: &[u8],
    requested: Option<String>,
    algorithm: Option<&str>,
    ignore_ciphertext: bool,
    key_field: &str,
    action: &'static str,
) -> Result<KeyTarget, KmsError> {
    if !ignore_ciphertext && !algorithms::is_asymmetric_encryption(algorithm) {
        return ciphertext_target(blob, requested, action);
    }
    if requested.is_none() {
        return Err(KmsError::Validation(format!(
            "{key_field} must not be null"
        )));
    }
    Ok(
        KeyTarget::field(&requested, true, action, StateRule::Cryptographic)
            .with_usage(KeyUsage::EncryptDecrypt),
    )
}

/// The key a symmetric ciphertext names, as a target of `action`. A blob that does not parse is
/// InvalidCiphertextException before any key is looked up.
pub(crate) fn ciphertext_target(
    blob: &[u8],
    requested: Option<String>,
    action: &'static str,
) -> Result<KeyTarget, KmsError> {
    let header = ferrokms_crypto::ciphertext::peek(blob).map_err(error::crypto)?;
    Ok(KeyTarget {
        source: KeySource::Ciphertext {
            name: header.key_id,
            requested,
        },
        action,
        states: StateRule::Cryptographic,
        usage: Some(KeyUsage::EncryptDecrypt),
    })
}

/// Decrypts with `algorithm` (already checked against the key's spec); shared by Decrypt and
/// ReEncrypt. Asymmetric ciphertexts take no encryption context.
pub(crate) async fn open_with(
    kms: &Kms,
    key: &AuthorizedKey,
    algorithm: EncryptionAlgorithm,
    blob: Vec<u8>,
    context: &EncryptionContext,
) -> Result<SecretBytes, KmsError> {
    if algorithm == EncryptionAlgorithm::SymmetricDefault {
        return open(kms, key, &blob, context).await;
    }
    if !context.is_empty() {
        return Err(algorithms::context_refused());
    }
    let spec = key.key.spec;
    let material = super::current_material(kms, key).await?;
    let opened = blocking::for_spec(spec, move || {
        ferrokms_crypto::asymmetric::decrypt(spec, algorithm, &material, &blob)
    })
    .await?;
    opened.map_err(|e| error::crypto_for(e, spec, algorithm.as_str()))
}

/// Opens a symmetric ciphertext with the version of the key it names.
pub(crate) async fn open(
    kms: &Kms,
    key: &AuthorizedKey,
    blob: &[u8],
    context: &EncryptionContext,
) -> Result<SecretBytes, KmsError> {
    if let Some(store) = key.key.row.custom_key_store_id.as_deref() {
        return crate::key_stores::keys::open(kms, &key.key, store, blob, context).await;
    }
    let header = ferrokms_crypto::ciphertext::peek(blob).map_err(error::crypto)?;
    let material = kms.key_material(key, i64::from(header.key_version)).await?;
    ferrokms_crypto::ciphertext::open(blob, &material, context).map_err(error::crypto)
}
