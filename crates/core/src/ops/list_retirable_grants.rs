//! ListRetirableGrants: the grants a principal may retire, across keys, paged.

use super::{check_marker, page, DEFAULT_LIMIT};
use crate::access::authz::AuthorizedKey;
use crate::pipeline::Operation;
use crate::{access::grants, error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::ids::principal_account;
use ferrokms_types::shapes::grants::{ListGrantsResponse, ListRetirableGrantsRequest};
use ferrokms_types::KmsError;

pub struct ListRetirableGrants;

#[async_trait]
impl Operation for ListRetirableGrants {
    const NAME: &'static str = "ListRetirableGrants";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(100);
    const ACTION: &'static str = "kms:ListRetirableGrants";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = true;
    type Input = ListRetirableGrantsRequest;
    type Output = ListGrantsResponse;

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        _: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        check_marker(input.marker.as_deref())?;
        let limit = input.limit.unwrap_or(DEFAULT_LIMIT) as usize;
        let retiring = crate::access::grants::iam_principal(
            input.retiring_principal.as_deref(),
            input.retiring_service_principal.as_deref(),
            ("RetiringPrincipal", "RetiringServicePrincipal"),
            KmsError::Validation,
        )?
        .ok_or_else(|| {
            KmsError::Validation(
                "You must specify either RetiringPrincipal or RetiringServicePrincipal.".into(),
            )
        })?
        .to_string();
        // AWS: "You must specify a principal in your AWS account." Naming another account's
        // principal would list that account's grants (keys, grantees, constraints).
        if principal_account(&retiring) != Some(caller.account_id.as_str()) {
            return Err(KmsError::AccessDenied(format!(
                "User: {} is not authorized to perform: {} on resource: {retiring} because the \
                 retiring principal must be in the caller's AWS account",
                caller.principal_arn,
                Self::ACTION
            )));
        }
        let rows = kms
            .store()
            .list_retirable_grants(&retiring, input.marker.as_deref(), limit as u32 + 1)
            .await
            .map_err(error::store)?;
        // The store lists across Regions; like AWS, answer for the caller's Region only. Paging
        // follows the store's order, so a page may hold fewer entries than the limit.
        let page = page(rows, limit, |g| g.grant_id.clone());
        let mut grants = Vec::with_capacity(page.items.len());
        for g in page.items {
            match kms
                .key_by_row_id(&g.issuing_account, &caller.region, &g.key_id)
                .await
            {
                Ok(key) => grants.push(grants::entry(g, key.arn())),
                Err(KmsError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(ListGrantsResponse {
            grants,
            truncated: page.next_marker.is_some(),
            next_marker: page.next_marker,
        })
    }
}
