//! UpdateAlias: point an existing alias at another key of the same type and usage.

use super::create_alias::alias_target;
use crate::authz::AuthorizedKey;
use crate::pipeline::{KeyTarget, Operation};
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_store::StoreError;
use ferrokms_types::ids::{alias_arn, check_alias_name};
use ferrokms_types::shapes::aliases::AliasTargetRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct UpdateAlias;

#[async_trait]
impl Operation for UpdateAlias {
    const NAME: &'static str = "UpdateAlias";
    const ACTION: &'static str = "kms:UpdateAlias";
    type Input = AliasTargetRequest;
    type Output = Empty;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        check_alias_name(input.alias_name.as_deref().unwrap_or_default())?;
        Ok(vec![alias_target(&input.target_key_id, Self::ACTION)?])
    }

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        let name = input.alias_name.unwrap_or_default();
        let not_found = || {
            KmsError::NotFound(format!(
                "Alias {} is not found.",
                alias_arn(&caller.region, &caller.account_id, &name)
            ))
        };
        let current = kms
            .store()
            .get_alias(&caller.account_id, &caller.region, &name)
            .await
            .map_err(error::store)?
            .ok_or_else(not_found)?;
        let old = kms
            .key_by_row_id(&caller.account_id, &caller.region, &current.target_key_id)
            .await?;
        if old.usage != key.key.usage || old.spec != key.key.spec {
            return Err(KmsError::Validation(format!(
                "Alias {name} cannot be changed from a key with KeySpec {} and KeyUsage {} to a key with KeySpec {} and KeyUsage {}.",
                old.spec.as_str(), old.usage.as_str(), key.key.spec.as_str(), key.key.usage.as_str()
            )));
        }
        match kms
            .store()
            .update_alias(
                &caller.account_id,
                &caller.region,
                &name,
                key.key.id(),
                kms.now_ms(),
            )
            .await
        {
            Ok(()) => {
                kms.alias_written(&caller.account_id, &caller.region, &name);
                Ok(Empty {})
            }
            Err(StoreError::NotFound) => Err(not_found()),
            Err(other) => Err(error::store(other)),
        }
    }
}
