//! ListKeys: the account's keys in the caller's Region, paged.

use super::{check_marker, page, DEFAULT_LIMIT};
use crate::access::authz::AuthorizedKey;
use crate::pipeline::Operation;
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::shapes::keys::{KeyListEntry, ListKeysRequest, ListKeysResponse};
use ferrokms_types::KmsError;

pub struct ListKeys;

#[async_trait]
impl Operation for ListKeys {
    const NAME: &'static str = "ListKeys";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(500);
    const ACTION: &'static str = "kms:ListKeys";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = true;
    type Input = ListKeysRequest;
    type Output = ListKeysResponse;

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        _: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        check_marker(input.marker.as_deref())?;
        if !input.lists_own_keys() {
            // Only OTHER_ACCOUNTS_VIA_RAM: keys shared through AWS Resource Access Manager, which
            // ferrokms does not have, so there are none.
            return Ok(ListKeysResponse {
                keys: Vec::new(),
                truncated: false,
                next_marker: None,
            });
        }
        let limit = input.limit.unwrap_or(DEFAULT_LIMIT) as usize;
        let rows = kms
            .store()
            .list_keys(
                &caller.account_id,
                &caller.region,
                input.marker.as_deref(),
                limit as u32 + 1,
            )
            .await
            .map_err(error::store)?;
        let page = page(rows, limit, |r| r.key_id.clone());
        Ok(ListKeysResponse {
            keys: page
                .items
                .into_iter()
                .map(|r| KeyListEntry {
                    key_id: crate::key::visible_key_id(&r.key_id).to_string(),
                    key_arn: r.arn,
                })
                .collect(),
            truncated: page.next_marker.is_some(),
            next_marker: page.next_marker,
        })
    }
}
