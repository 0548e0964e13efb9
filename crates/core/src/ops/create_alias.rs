//! CreateAlias: a new alias name for a key of the caller's account and Region.

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_store::{AliasRow, StoreError};
use ferrokms_types::ids::{alias_arn, check_alias_name};
use ferrokms_types::shapes::aliases::AliasTargetRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct CreateAlias;

#[async_trait]
impl Operation for CreateAlias {
    const NAME: &'static str = "CreateAlias";
    const ACTION: &'static str = "kms:CreateAlias";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = AliasTargetRequest;
    type Output = Empty;

    /// AWS: kms:CreateAlias on the alias (identity policy) and on the key (key policy).
    fn aliases(input: &Self::Input) -> Vec<&str> {
        input.alias_name.as_deref().into_iter().collect()
    }

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
        let now = kms.now_ms();
        let row = AliasRow {
            account_id: caller.account_id.clone(),
            region: caller.region.clone(),
            alias_name: name.clone(),
            target_key_id: key.key.id().to_string(),
            creation_date: now,
            last_updated_date: now,
        };
        match kms.store().insert_alias(&row).await {
            Ok(()) => {
                kms.alias_written(&caller.account_id, &caller.region, &name);
                Ok(Empty {})
            }
            Err(StoreError::AlreadyExists) => Err(KmsError::AlreadyExists(format!(
                "An alias with the name {} already exists",
                alias_arn(&caller.region, &caller.account_id, &name)
            ))),
            Err(other) => Err(error::store(other)),
        }
    }
}

/// The key an alias is to point at: a key id or key ARN, never another alias.
pub(crate) fn alias_target(
    target: &Option<String>,
    action: &'static str,
) -> Result<KeyTarget, KmsError> {
    if target
        .as_deref()
        .is_some_and(|t| t.starts_with("alias/") || t.contains(":alias/"))
    {
        return Err(KmsError::Validation(
            "Aliases must refer to keys. Not aliases".into(),
        ));
    }
    Ok(KeyTarget::field(target, false, action, StateRule::Manage))
}
