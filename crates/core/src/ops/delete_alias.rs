//! DeleteAlias: the key itself is unaffected.

use crate::authz::AuthorizedKey;
use crate::pipeline::Operation;
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_store::StoreError;
use ferrokms_types::ids::alias_arn;
use ferrokms_types::shapes::aliases::DeleteAliasRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct DeleteAlias;

#[async_trait]
impl Operation for DeleteAlias {
    const NAME: &'static str = "DeleteAlias";
    const ACTION: &'static str = "kms:DeleteAlias";
    type Input = DeleteAliasRequest;
    type Output = Empty;

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        _: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let name = input.alias_name.unwrap_or_default();
        match kms
            .store()
            .delete_alias(&caller.account_id, &caller.region, &name)
            .await
        {
            Ok(()) => {
                kms.alias_written(&caller.account_id, &caller.region, &name);
                Ok(Empty {})
            }
            Err(StoreError::NotFound) => Err(KmsError::NotFound(format!(
                "Alias {} is not found.",
                alias_arn(&caller.region, &caller.account_id, &name)
            ))),
            Err(other) => Err(error::store(other)),
        }
    }
}
