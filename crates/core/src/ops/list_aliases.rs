//! ListAliases: the account's aliases in the caller's Region, or those of one key; paged.

use super::{check_marker, page, DEFAULT_LIMIT};
use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::ids::alias_arn;
use ferrokms_types::shapes::aliases::{AliasListEntry, ListAliasesRequest, ListAliasesResponse};
use ferrokms_types::{KmsError, Timestamp};

pub struct ListAliases;

#[async_trait]
impl Operation for ListAliases {
    const NAME: &'static str = "ListAliases";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(500);
    const ACTION: &'static str = "kms:ListAliases";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = true;
    type Input = ListAliasesRequest;
    type Output = ListAliasesResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(match input.key_id {
            Some(_) => vec![KeyTarget::field(
                &input.key_id,
                false,
                Self::ACTION,
                StateRule::Any,
            )],
            None => Vec::new(),
        })
    }

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        check_marker(input.marker.as_deref())?;
        let key_id = keys.first().map(|k| k.key.id().to_string());
        let limit = input.limit.unwrap_or(DEFAULT_LIMIT) as usize;
        let rows = kms
            .store()
            .list_aliases(
                &caller.account_id,
                &caller.region,
                key_id.as_deref(),
                input.marker.as_deref(),
                limit as u32 + 1,
            )
            .await
            .map_err(error::store)?;
        let page = page(rows, limit, |r| r.alias_name.clone());
        let aliases = page
            .items
            .into_iter()
            .map(|r| AliasListEntry {
                alias_arn: alias_arn(&r.region, &r.account_id, &r.alias_name),
                alias_name: r.alias_name,
                target_key_id: Some(crate::key::visible_key_id(&r.target_key_id).to_string()),
                creation_date: Timestamp(r.creation_date),
                last_updated_date: Timestamp(r.last_updated_date),
            })
            .collect();
        Ok(ListAliasesResponse {
            aliases,
            truncated: page.next_marker.is_some(),
            next_marker: page.next_marker,
        })
    }
}
