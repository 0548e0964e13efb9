//! ListResourceTags: a key's tags, paged, in every key state.

use super::{check_marker, page, DEFAULT_LIMIT};
use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::shapes::tags::{ListResourceTagsRequest, ListResourceTagsResponse};
use ferrokms_types::shapes::Tag as WireTag;
use ferrokms_types::KmsError;

pub struct ListResourceTags;

#[async_trait]
impl Operation for ListResourceTags {
    const NAME: &'static str = "ListResourceTags";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(2000);
    const ACTION: &'static str = "kms:ListResourceTags";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = true;
    type Input = ListResourceTagsRequest;
    type Output = ListResourceTagsResponse;

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
        let key = super::only(keys)?;
        let limit = input.limit.unwrap_or(DEFAULT_LIMIT) as usize;
        let rows = kms
            .store()
            .list_tags(key.key.id(), input.marker.as_deref(), limit as u32 + 1)
            .await
            .map_err(error::store)?;
        let page = page(rows, limit, |t| t.key.clone());
        let tags = page
            .items
            .into_iter()
            .map(|t| WireTag {
                tag_key: Some(t.key),
                tag_value: Some(t.value),
            })
            .collect();
        Ok(ListResourceTagsResponse {
            tags,
            truncated: page.next_marker.is_some(),
            next_marker: page.next_marker,
        })
    }
}
