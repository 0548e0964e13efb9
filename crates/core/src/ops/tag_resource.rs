//! TagResource: add or overwrite tags of a key (at most 50 per key; `aws:` keys are reserved).

use super::create_key::MAX_TAGS;
use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_store::{StoreError, Tag};
use ferrokms_types::shapes::tags::TagResourceRequest;
use ferrokms_types::shapes::{Empty, Tag as WireTag};
use ferrokms_types::KmsError;

pub struct TagResource;

#[async_trait]
impl Operation for TagResource {
    const NAME: &'static str = "TagResource";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(10);
    const ACTION: &'static str = "kms:TagResource";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = TagResourceRequest;
    type Output = Empty;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::Manage,
        )])
    }

    fn conditions(input: &Self::Input, _: &str, context: &mut Context) {
        request_tag_conditions(input.tags.as_deref().unwrap_or_default(), context);
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        let tags = store_tags(input.tags.as_deref().unwrap_or_default())?;
        match kms.store().put_tags(key.key.id(), &tags, MAX_TAGS).await {
            Ok(()) => {
                kms.tags_written(key.key.id());
                Ok(Empty {})
            }
            Err(StoreError::LimitExceeded) => Err(KmsError::LimitExceeded(format!(
                "A key can have at most {MAX_TAGS} tags."
            ))),
            Err(other) => Err(error::store(other)),
        }
    }
}

/// `aws:RequestTag/<key>` for each tag of the request, and `aws:TagKeys`.
pub(crate) fn request_tag_conditions(tags: &[WireTag], context: &mut Context) {
    for t in tags {
        if let (Some(k), Some(v)) = (&t.tag_key, &t.tag_value) {
            context.insert(&format!("aws:RequestTag/{k}"), v.as_str());
        }
    }
    context.insert_multi(
        "aws:TagKeys",
        tags.iter()
            .filter_map(|t| t.tag_key.clone())
            .collect::<Vec<_>>(),
    );
}

/// Wire tags (validated as present) → stored tags; the last value of a repeated key wins.
pub(crate) fn store_tags(tags: &[WireTag]) -> Result<Vec<Tag>, KmsError> {
    let mut out: Vec<Tag> = Vec::with_capacity(tags.len());
    for t in tags {
        let key = t.tag_key.clone().unwrap_or_default();
        if key.starts_with("aws:") {
            return Err(KmsError::Tag(
                "Tags beginning with aws: are reserved.".into(),
            ));
        }
        let value = t.tag_value.clone().unwrap_or_default();
        out.retain(|existing| existing.key != key);
        out.push(Tag { key, value });
    }
    Ok(out)
}
