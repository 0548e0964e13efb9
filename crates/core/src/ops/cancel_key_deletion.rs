//! CancelKeyDeletion: PendingDeletion → Disabled, as AWS leaves a key whose deletion was cancelled.

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::enums::KeyState;
use ferrokms_types::shapes::keys::{CancelKeyDeletionResponse, KeyIdRequest};
use ferrokms_types::KmsError;

pub struct CancelKeyDeletion;

#[async_trait]
impl Operation for CancelKeyDeletion {
    const NAME: &'static str = "CancelKeyDeletion";
    const ACTION: &'static str = "kms:CancelKeyDeletion";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = KeyIdRequest;
    type Output = CancelKeyDeletionResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::PendingDeletionOnly,
        )])
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        _: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        let updated = super::modify_key(kms, &key.key, StateRule::PendingDeletionOnly, |row| {
            row.state = KeyState::Disabled.as_str().into();
            row.deletion_date = None;
            row.pending_window_days = None;
        })
        .await?;
        Ok(CancelKeyDeletionResponse {
            key_id: updated.arn().to_string(),
        })
    }
}
