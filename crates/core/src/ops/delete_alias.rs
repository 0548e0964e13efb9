//! DeleteAlias: the key itself is unaffected.
//!
//! AWS requires kms:DeleteAlias on the alias (identity policy) and on the key it points at (key
//! policy). The deletion is conditional on that key; if the alias moved meanwhile, the key it
//! points at now is authorised in turn.

use super::update_alias::current_target;
use crate::authz::AuthorizedKey;
use crate::pipeline::{authorize_target, KeyTarget, Operation};
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_store::StoreError;
use ferrokms_types::ids::{alias_arn, check_alias_name};
use ferrokms_types::shapes::aliases::DeleteAliasRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct DeleteAlias;

#[async_trait]
impl Operation for DeleteAlias {
    const NAME: &'static str = "DeleteAlias";
    const ACTION: &'static str = "kms:DeleteAlias";
    const CROSS_ACCOUNT: bool = false;
    type Input = DeleteAliasRequest;
    type Output = Empty;

    fn aliases(input: &Self::Input) -> Vec<&str> {
        input.alias_name.as_deref().into_iter().collect()
    }

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        check_alias_name(input.alias_name.as_deref().unwrap_or_default())?;
        Ok(vec![current_target(&input.alias_name, Self::ACTION)])
    }

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let mut key = super::only(keys)?;
        let name = input.alias_name.unwrap_or_default();
        loop {
            let deleted = kms
                .store()
                .delete_alias(&caller.account_id, &caller.region, &name, key.key.id())
                .await;
            match deleted {
                Ok(()) => {
                    kms.alias_written(&caller.account_id, &caller.region, &name);
                    return Ok(Empty {});
                }
                Err(StoreError::NotFound) => {
                    return Err(KmsError::NotFound(format!(
                        "Alias {} is not found.",
                        alias_arn(&caller.region, &caller.account_id, &name)
                    )))
                }
                Err(StoreError::Conflict) => {
                    kms.alias_written(&caller.account_id, &caller.region, &name);
                    let target = current_target(&Some(name.clone()), Self::ACTION);
                    key = authorize_target(kms, caller, target).await?;
                }
                Err(other) => return Err(error::store(other)),
            }
        }
    }
}
