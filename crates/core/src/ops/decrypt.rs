//! Decrypt: the key is named inside the ciphertext; a KeyId, when given, must be that key.

use crate::authz::AuthorizedKey;
use crate::conditions::encryption_context_conditions;
use crate::key_state::StateRule;
use crate::pipeline::{KeySource, KeyTarget, Operation};
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_crypto::SecretBytes;
use ferrokms_policy::Context;
use ferrokms_types::enums::KeyUsage;
use ferrokms_types::shapes::crypto::{DecryptRequest, DecryptResponse};
use ferrokms_types::shapes::EncryptionContext;
use ferrokms_types::{KmsError, SecretBlob};

pub struct Decrypt;

#[async_trait]
impl Operation for Decrypt {
    const NAME: &'static str = "Decrypt";
    const ACTION: &'static str = "kms:Decrypt";
    type Input = DecryptRequest;
    type Output = DecryptResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        let blob = input
            .ciphertext_blob
            .as_ref()
            .map(|b| b.0.as_slice())
            .unwrap_or_default();
        Ok(vec![ciphertext_target(
            blob,
            input.key_id.clone(),
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
        let algorithm = super::symmetric_algorithm(input.encryption_algorithm.as_deref())?;
        let key = super::only(keys)?;
        let blob = input.ciphertext_blob.map(|b| b.0).unwrap_or_default();
        let plaintext = open(
            kms,
            &key,
            &blob,
            &input.encryption_context.unwrap_or_default(),
        )
        .await?;
        Ok(DecryptResponse {
            key_id: key.key.arn().to_string(),
            plaintext: SecretBlob::new(plaintext.expose().to_vec()),
            encryption_algorithm: algorithm,
        })
    }
}

/// The key a ciphertext names, as a target of `action`. A blob that does not parse is
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

/// Opens a ciphertext with the version of the key it names; shared by Decrypt and ReEncrypt.
pub(crate) async fn open(
    kms: &Kms,
    key: &AuthorizedKey,
    blob: &[u8],
    context: &EncryptionContext,
) -> Result<SecretBytes, KmsError> {
    let header = ferrokms_crypto::ciphertext::peek(blob).map_err(error::crypto)?;
    let material = kms.key_material(key, i64::from(header.key_version)).await?;
    ferrokms_crypto::ciphertext::open(blob, &material, context).map_err(error::crypto)
}
