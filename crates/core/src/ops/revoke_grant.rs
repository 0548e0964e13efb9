//! RevokeGrant: the key's administrators withdraw a grant; it stops working at once.

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_store::StoreError;
use ferrokms_types::shapes::grants::RevokeGrantRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct RevokeGrant;

#[async_trait]
impl Operation for RevokeGrant {
    const NAME: &'static str = "RevokeGrant";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(50);
    const ACTION: &'static str = "kms:RevokeGrant";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = false;
    type Input = RevokeGrantRequest;
    type Output = Empty;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::Any,
        )])
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
        let key = super::only(keys)?;
        let grant_id = input.grant_id.unwrap_or_default();
        match kms.store().delete_grant(key.key.id(), &grant_id).await {
            Ok(()) => Ok(Empty {}),
            Err(StoreError::NotFound) => {
                Err(KmsError::NotFound(format!("Grant id {grant_id} not found")))
            }
            Err(other) => Err(error::store(other)),
        }
    }
}
