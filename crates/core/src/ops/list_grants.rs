//! ListGrants: a key's grants, optionally one grant or one grantee's, paged.

use super::{check_marker, page, DEFAULT_LIMIT};
use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{access::grants, error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::shapes::grants::{ListGrantsRequest, ListGrantsResponse};
use ferrokms_types::KmsError;

pub struct ListGrants;

#[async_trait]
impl Operation for ListGrants {
    const NAME: &'static str = "ListGrants";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(100);
    const ACTION: &'static str = "kms:ListGrants";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    type Input = ListGrantsRequest;
    type Output = ListGrantsResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::Any,
        )])
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        check_marker(input.marker.as_deref())?;
        crate::access::grants::iam_principal(
            input.grantee_principal.as_deref(),
            input.grantee_service_principal.as_deref(),
            ("GranteePrincipal", "GranteeServicePrincipal"),
            KmsError::Validation,
        )?;
        let key = super::only(keys)?;
        let limit = input.limit.unwrap_or(DEFAULT_LIMIT) as usize;
        let rows = kms
            .store()
            .list_grants(
                key.key.id(),
                input.grant_id.as_deref(),
                input.grantee_principal.as_deref(),
                input.marker.as_deref(),
                limit as u32 + 1,
            )
            .await
            .map_err(error::store)?;
        let page = page(rows, limit, |g| g.grant_id.clone());
        let arn = key.key.arn();
        let grants = page
            .items
            .into_iter()
            .map(|g| grants::entry(g, arn))
            .collect();
        Ok(ListGrantsResponse {
            grants,
            truncated: page.next_marker.is_some(),
            next_marker: page.next_marker,
        })
    }
}
