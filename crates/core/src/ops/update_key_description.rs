//! UpdateKeyDescription.

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::shapes::keys::UpdateKeyDescriptionRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct UpdateKeyDescription;

#[async_trait]
impl Operation for UpdateKeyDescription {
    const NAME: &'static str = "UpdateKeyDescription";
    const ACTION: &'static str = "kms:UpdateKeyDescription";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = UpdateKeyDescriptionRequest;
    type Output = Empty;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::Manage,
        )])
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        let description = input.description.unwrap_or_default();
        super::modify_key(kms, &key.key, StateRule::Manage, |row| {
            row.description = description.clone()
        })
        .await?;
        Ok(Empty {})
    }
}
