//! UntagResource: remove tags by key; keys the key does not have are ignored, as AWS does.

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_types::shapes::tags::UntagResourceRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct UntagResource;

#[async_trait]
impl Operation for UntagResource {
    const NAME: &'static str = "UntagResource";
    const ACTION: &'static str = "kms:UntagResource";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = UntagResourceRequest;
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
        context.insert_multi("aws:TagKeys", input.tag_keys.clone().unwrap_or_default());
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        let tag_keys = input.tag_keys.unwrap_or_default();
        kms.store()
            .remove_tags(key.key.id(), &tag_keys)
            .await
            .map_err(error::store)?;
        kms.tags_written(key.key.id());
        Ok(Empty {})
    }
}
