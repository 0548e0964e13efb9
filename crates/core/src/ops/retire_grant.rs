//! RetireGrant: a grant's retiring principal (or its grantee, when the grant includes
//! RetireGrant, or the issuing account through its policies) ends it. Named by its token, or by
//! key and grant id. Its permission comes from the grant itself, so it authorises in `run`.

use crate::access::authz::{self, AuthorizedKey};
use crate::pipeline::Operation;
use crate::{access::grants, error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_store::{GrantRow, StoreError};
use ferrokms_types::shapes::grants::RetireGrantRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct RetireGrant;

#[async_trait]
impl Operation for RetireGrant {
    const NAME: &'static str = "RetireGrant";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(50);
    const ACTION: &'static str = "kms:RetireGrant";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = false;
    const SELF_AUTHORIZED: bool = true;
    type Input = RetireGrantRequest;
    type Output = Empty;

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        _: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let grant = find(kms, caller, &input).await?;
        let may_retire = grant
            .retiring_principal
            .as_deref()
            .is_some_and(|p| caller.is_named_by(p))
            || (caller.is_named_by(&grant.grantee_principal)
                && grants::operations(&grant)
                    .iter()
                    .any(|op| op == "RetireGrant"));
        if !may_retire {
            // Otherwise the key's own policies must allow kms:RetireGrant.
            let key = kms
                .key_by_row_id(&grant.issuing_account, &caller.region, &grant.key_id)
                .await?;
            authz::authorize(kms, caller, key, Self::ACTION, &Context::new(), None).await?;
        }
        if input.dry_run == Some(true) {
            return Err(KmsError::DryRunOperation(
                "The request would have succeeded, but the DryRun option is set.".into(),
            ));
        }
        match kms
            .store()
            .delete_grant(&grant.key_id, &grant.grant_id)
            .await
        {
            Ok(()) | Err(StoreError::NotFound) => Ok(Empty {}),
            Err(other) => Err(error::store(other)),
        }
    }
}

async fn find(
    kms: &Kms,
    caller: &Caller,
    input: &RetireGrantRequest,
) -> Result<GrantRow, KmsError> {
    if let Some(token) = &input.grant_token {
        return kms
            .store()
            .get_grant_by_token(token)
            .await
            .map_err(error::store)?
            .ok_or_else(|| KmsError::InvalidGrantToken("The grant token is not valid.".into()));
    }
    let (Some(key_id), Some(grant_id)) = (&input.key_id, &input.grant_id) else {
        return Err(KmsError::Validation(
            "Specify a GrantToken, or both KeyId and GrantId.".into(),
        ));
    };
    let key = kms.resolve(caller, key_id, false).await?;
    kms.store()
        .get_grant(key.id(), grant_id)
        .await
        .map_err(error::store)?
        .ok_or_else(|| KmsError::NotFound(format!("Grant id {grant_id} not found")))
}
