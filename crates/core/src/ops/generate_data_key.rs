//! GenerateDataKey: a fresh random data key, returned in plaintext and encrypted under the key.

use super::encrypt::seal;
use crate::access::authz::AuthorizedKey;
use crate::access::conditions::encryption_context_conditions;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_crypto::SecretBytes;
use ferrokms_policy::Context;
use ferrokms_types::enums::{DataKeySpec, KeyUsage};
use ferrokms_types::shapes::crypto::{GenerateDataKeyRequest, GenerateDataKeyResponse};
use ferrokms_types::shapes::EncryptionContext;
use ferrokms_types::{Blob, KmsError, SecretBlob};

pub struct GenerateDataKey;

#[async_trait]
impl Operation for GenerateDataKey {
    const NAME: &'static str = "GenerateDataKey";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Cryptographic;
    const ACTION: &'static str = "kms:GenerateDataKey";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    const TRACKS_LAST_USAGE: bool = true;
    type Input = GenerateDataKeyRequest;
    type Output = GenerateDataKeyResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![data_key_target(&input.key_id, Self::ACTION)])
    }

    fn encryption_context<'a>(input: &'a Self::Input, _: &str) -> Option<&'a EncryptionContext> {
        input.encryption_context.as_ref()
    }

    fn conditions(input: &Self::Input, _: &str, context: &mut Context) {
        encryption_context_conditions(input.encryption_context.as_ref(), context);
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
        let (plaintext, ciphertext) = new_data_key(kms, &key, &input).await?;
        Ok(GenerateDataKeyResponse {
            ciphertext_blob: Blob(ciphertext),
            plaintext: SecretBlob::new(plaintext.expose().to_vec()),
            key_id: key.key.arn().to_string(),
            key_material_id: super::current_material_id(kms, &key).await?,
        })
    }
}

pub(crate) fn data_key_target(key_id: &Option<String>, action: &'static str) -> KeyTarget {
    KeyTarget::field(key_id, true, action, StateRule::Cryptographic)
        .with_usage(KeyUsage::EncryptDecrypt)
}

/// The length AWS asks for: exactly one of KeySpec and NumberOfBytes.
fn data_key_length(input: &GenerateDataKeyRequest) -> Result<usize, KmsError> {
    let spec = input.key_spec.as_deref().and_then(DataKeySpec::parse);
    match (spec, input.number_of_bytes) {
        (Some(spec), None) => Ok(spec.byte_len()),
        (None, Some(n)) => Ok(n as usize),
        (Some(_), Some(_)) => Err(KmsError::Validation(
            "Please specify either number of bytes or key spec, not both.".into(),
        )),
        (None, None) => Err(KmsError::Validation(
            "Please specify either number of bytes or key spec.".into(),
        )),
    }
}

/// A fresh data key and its ciphertext; shared with GenerateDataKeyWithoutPlaintext.
pub(crate) async fn new_data_key(
    kms: &Kms,
    key: &AuthorizedKey,
    input: &GenerateDataKeyRequest,
) -> Result<(SecretBytes, Vec<u8>), KmsError> {
    let len = data_key_length(input)?;
    let plaintext = ferrokms_crypto::random_bytes(len).map_err(error::crypto)?;
    let context = input.encryption_context.clone().unwrap_or_default();
    let ciphertext = seal(kms, key, &context, plaintext.expose()).await?;
    Ok((plaintext, ciphertext))
}
