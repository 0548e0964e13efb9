//! GenerateRandom: 1–1024 random bytes from the system CSPRNG (aws-lc), or, with a
//! CustomKeyStoreId, from the generator of that HSM key store's token (which must be
//! connected; external key stores have none to offer, as at AWS).

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
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        _: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        super::refuse_recipient(&input.recipient)?;
        let Some(n) = input.number_of_bytes else {
            return Err(KmsError::Validation(
                "1 validation error detected: Value null at 'numberOfBytes' failed to satisfy constraint: Member must not be null".into(),
            ));
        };
        if let Some(id) = &input.custom_key_store_id {
            let bytes = from_token(kms, caller, id, n as usize).await?;
            return Ok(GenerateRandomResponse {
                plaintext: SecretBlob::new(bytes),
            });
        }
        let bytes = ferrokms_crypto::random_bytes(n as usize).map_err(error::crypto)?;
        Ok(GenerateRandomResponse {
            plaintext: SecretBlob::new(bytes.expose().to_vec()),
        })
    }
}

/// `n` random bytes from the token of the caller's HSM key store `id`.
async fn from_token(kms: &Kms, caller: &Caller, id: &str, n: usize) -> Result<Vec<u8>, KmsError> {
    use crate::key_stores::rows;
    let row = rows::load(kms, caller, id).await?;
    if row.store_type != ferrokms_types::enums::CustomKeyStoreType::AwsCloudhsm.as_str() {
        return Err(KmsError::UnsupportedOperation(
            "GenerateRandom does not support external key stores.".into(),
        ));
    }
    let session = kms.key_stores().session(&row, || rows::pin(kms, &row)).await?;
    let drawn = crate::blocking::run(move || session.random(n)).await?;
    drawn.map_err(|e| {
        tracing::warn!(custom_key_store_id = %id, error = %e, "the token's generator failed");
        KmsError::CustomKeyStoreInvalidState(format!(
            "Custom key store '{id}' could not reach its token; it may need reconnecting."
        ))
    })
}
