//! GenerateDataKeyWithoutPlaintext: as GenerateDataKey, but only the encrypted copy is returned.

use super::generate_data_key::{data_key_target, new_data_key};
use crate::access::authz::AuthorizedKey;
use crate::access::conditions::encryption_context_conditions;
use crate::pipeline::{KeyTarget, Operation};
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_types::shapes::crypto::{
    GenerateDataKeyRequest, GenerateDataKeyWithoutPlaintextResponse,
};
use ferrokms_types::shapes::EncryptionContext;
use ferrokms_types::{Blob, KmsError};

pub struct GenerateDataKeyWithoutPlaintext;

#[async_trait]
impl Operation for GenerateDataKeyWithoutPlaintext {
    const NAME: &'static str = "GenerateDataKeyWithoutPlaintext";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Cryptographic;
    const ACTION: &'static str = "kms:GenerateDataKeyWithoutPlaintext";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    const TRACKS_LAST_USAGE: bool = true;
    /// The request shape is shared with the operation that returns plaintext; a Recipient here
    /// is refused (ValidationException), as the model has none.
    const UNSUPPORTED_MEMBERS: &'static [&'static str] = &["Recipient"];
    type Input = GenerateDataKeyRequest;
    type Output = GenerateDataKeyWithoutPlaintextResponse;

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
        if input.recipient.is_some() {
            return Err(KmsError::Validation(
                "GenerateDataKeyWithoutPlaintext does not take a Recipient.".into(),
            ));
        }
        let key = super::only(keys)?;
        let (_plaintext, ciphertext) = new_data_key(kms, &key, &input).await?;
        Ok(GenerateDataKeyWithoutPlaintextResponse {
            ciphertext_blob: Blob(ciphertext),
            key_id: key.key.arn().to_string(),
            key_material_id: super::current_material_id(kms, &key).await?,
        })
    }
}
