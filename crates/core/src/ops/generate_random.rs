//! GenerateRandom: 1–1024 random bytes from the system CSPRNG (aws-lc).

use crate::access::authz::AuthorizedKey;
use crate::pipeline::Operation;
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::shapes::crypto::{GenerateRandomRequest, GenerateRandomResponse};
use ferrokms_types::{KmsError, SecretBlob};

pub struct GenerateRandom;

#[async_trait]
impl Operation for GenerateRandom {
    const NAME: &'static str = "GenerateRandom";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Cryptographic;
    const ACTION: &'static str = "kms:GenerateRandom";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = true;
    type Input = GenerateRandomRequest;
    type Output = GenerateRandomResponse;

    async fn run(
        _: &Kms,
        _: &Caller,
        input: Self::Input,
        _: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        super::refuse_recipient(&input.recipient)?;
        if let Some(id) = &input.custom_key_store_id {
            return Err(KmsError::CustomKeyStoreNotFound(format!(
                "Custom key store {id} does not exist."
            )));
        }
        let Some(n) = input.number_of_bytes else {
            return Err(KmsError::Validation(
                "1 validation error detected: Value null at 'numberOfBytes' failed to satisfy constraint: Member must not be null".into(),
            ));
        };
        let bytes = ferrokms_crypto::random_bytes(n as usize).map_err(error::crypto)?;
        Ok(GenerateRandomResponse {
            plaintext: SecretBlob::new(bytes.expose().to_vec()),
        })
    }
}
