//! GenerateDataKeyPairWithoutPlaintext: as GenerateDataKeyPair, but the private key is returned
//! only sealed under the symmetric key (Decrypt it when it is needed).

use super::generate_data_key::data_key_target;
use super::generate_data_key_pair::{key_pair_conditions, new_key_pair};
use crate::access::authz::AuthorizedKey;
use crate::pipeline::{KeyTarget, Operation};
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_types::shapes::key_pairs::{
    GenerateDataKeyPairRequest, GenerateDataKeyPairWithoutPlaintextResponse,
};
use ferrokms_types::shapes::EncryptionContext;
use ferrokms_types::{Blob, KmsError};

pub struct GenerateDataKeyPairWithoutPlaintext;

#[async_trait]
impl Operation for GenerateDataKeyPairWithoutPlaintext {
    const NAME: &'static str = "GenerateDataKeyPairWithoutPlaintext";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> =
        crate::quotas::QuotaRule::DataKeyPair(super::generate_data_key_pair::requested_spec);
    const ACTION: &'static str = "kms:GenerateDataKeyPairWithoutPlaintext";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    const TRACKS_LAST_USAGE: bool = true;
    /// The request shape is shared with the operation that returns plaintext; a Recipient here
    /// is refused (ValidationException), as the model has none.
    const UNSUPPORTED_MEMBERS: &'static [&'static str] = &["Recipient"];
    type Input = GenerateDataKeyPairRequest;
    type Output = GenerateDataKeyPairWithoutPlaintextResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![data_key_target(&input.key_id, Self::ACTION)])
    }

    fn encryption_context<'a>(input: &'a Self::Input, _: &str) -> Option<&'a EncryptionContext> {
        input.encryption_context.as_ref()
    }

    fn conditions(input: &Self::Input, _: &str, context: &mut Context) {
        key_pair_conditions(input, context);
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
                "GenerateDataKeyPairWithoutPlaintext does not take a Recipient.".into(),
            ));
        }
        let key = super::only(keys)?;
        let (spec, pair, ciphertext) = new_key_pair(kms, &key, &input).await?;
        Ok(GenerateDataKeyPairWithoutPlaintextResponse {
            private_key_ciphertext_blob: Blob(ciphertext),
            public_key: Blob(pair.public_key),
            key_id: key.key.arn().to_string(),
            key_pair_spec: spec,
            key_material_id: super::current_material_id(kms, &key).await?,
        })
    }
}
