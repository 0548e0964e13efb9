//! DeleteAlias: the key itself is unaffected.
//!
//! AWS requires kms:DeleteAlias on the alias (identity policy) and on the key it points at (key
//! policy). The deletion is conditional on that key; if the alias moved meanwhile, the key it
//! points at now is authorised in turn.

use super::update_alias::{after_alias_write, current_target};
use crate::access::authz::AuthorizedKey;
use crate::pipeline::{KeyTarget, Operation};
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::ids::check_alias_name;
use ferrokms_types::shapes::aliases::DeleteAliasRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct DeleteAlias;

#[async_trait]
impl Operation for DeleteAlias {
    const NAME: &'static str = "DeleteAlias";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(15);
    const ACTION: &'static str = "kms:DeleteAlias";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
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
            let written = kms
                .store()
                .delete_alias(&caller.account_id, &caller.region, &name, key.key.id())
                .await;
            match after_alias_write(kms, caller, &name, Self::ACTION, written).await? {
                None => return Ok(Empty {}),
                Some(moved) => key = moved,
            }
        }
    }
}
