//! ScheduleKeyDeletion: the key goes to PendingDeletion for 7–30 days (default 30); the scheduler
//! destroys its material when the date passes. A multi-Region primary key that still has replicas
//! goes to PendingReplicaDeletion instead, with no date: its waiting period starts when the
//! scheduler sees its last replica destroyed (see `scheduler::release_primaries`).

use crate::access::authz::AuthorizedKey;
use crate::clock::DAY_MS;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_types::enums::KeyState;
use ferrokms_types::shapes::keys::{ScheduleKeyDeletionRequest, ScheduleKeyDeletionResponse};
use ferrokms_types::{KmsError, Timestamp};

pub struct ScheduleKeyDeletion;

pub const MIN_WINDOW_DAYS: i64 = 7;
pub const MAX_WINDOW_DAYS: i64 = 30;
pub const DEFAULT_WINDOW_DAYS: i64 = 30;

#[async_trait]
impl Operation for ScheduleKeyDeletion {
    const NAME: &'static str = "ScheduleKeyDeletion";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(15);
    const ACTION: &'static str = "kms:ScheduleKeyDeletion";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = ScheduleKeyDeletionRequest;
    type Output = ScheduleKeyDeletionResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::Manage,
        )])
    }

    fn conditions(input: &Self::Input, _: &str, context: &mut Context) {
        let days = input.pending_window_in_days.unwrap_or(DEFAULT_WINDOW_DAYS);
        context.insert_number("kms:ScheduleKeyDeletionPendingWindowInDays", days as f64);
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let days = input.pending_window_in_days.unwrap_or(DEFAULT_WINDOW_DAYS);
        if !(MIN_WINDOW_DAYS..=MAX_WINDOW_DAYS).contains(&days) {
            return Err(KmsError::Validation(format!(
                "1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value between {MIN_WINDOW_DAYS} and {MAX_WINDOW_DAYS}"
            )));
        }
        let key = super::only(keys)?;
        let waits_for_replicas =
            key.key.is_primary() && kms.related_regions(&key.key).await?.len() > 1;
        let (state, deletion_date) = if waits_for_replicas {
            (KeyState::PendingReplicaDeletion, None)
        } else {
            (
                KeyState::PendingDeletion,
                Some(kms.now_ms() + days * DAY_MS),
            )
        };
        let updated = super::modify_key(kms, &key.key, StateRule::Manage, |row| {
            row.state = state.as_str().into();
            row.deletion_date = deletion_date;
            row.pending_window_days = Some(days as i32);
        })
        .await?;
        Ok(ScheduleKeyDeletionResponse {
            key_id: updated.arn().to_string(),
            deletion_date: deletion_date.map(Timestamp),
            key_state: updated.state,
            pending_window_in_days: days as i32,
        })
    }
}
