//! GetKeyRotationStatus: whether automatic rotation is on, its period and next date. Keys that
//! cannot rotate automatically (asymmetric, HMAC, imported) answer false, as AWS now does; a key
//! pending deletion answers false too and gets its schedule back if the deletion is cancelled.
//! A multi-Region replica answers with its primary's schedule.

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::material::rotation;
use crate::pipeline::{KeyTarget, Operation};
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::enums::KeyState;
use ferrokms_types::shapes::keys::KeyIdRequest;
use ferrokms_types::shapes::rotation::GetKeyRotationStatusResponse;
use ferrokms_types::{KmsError, Timestamp};

pub struct GetKeyRotationStatus;

#[async_trait]
impl Operation for GetKeyRotationStatus {
    const NAME: &'static str = "GetKeyRotationStatus";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(1000);
    const ACTION: &'static str = "kms:GetKeyRotationStatus";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    type Input = KeyIdRequest;
    type Output = GetKeyRotationStatusResponse;

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
        _: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        let mut answer = GetKeyRotationStatusResponse {
            key_rotation_enabled: false,
            key_id: key.key.arn().to_string(),
            rotation_period_in_days: None,
            next_rotation_date: None,
            // On-demand rotation completes inside its request (see `rotation`): never pending.
            on_demand_rotation_start_date: None,
        };
        if key.key.state == KeyState::PendingDeletion {
            return Ok(answer);
        }
        // A multi-Region replica answers with its primary's schedule, which rotates them all.
        let Some(owner) = rotation::schedule_owner(kms, &key.key).await? else {
            return Ok(answer);
        };
        let schedule = kms
            .store()
            .get_key_rotation(&owner)
            .await
            .map_err(error::store)?;
        if let Some(schedule) = schedule.filter(|s| s.enabled) {
            answer.key_rotation_enabled = true;
            answer.rotation_period_in_days = Some(schedule.period_days);
            answer.next_rotation_date = schedule.next_rotation_date.map(Timestamp);
        }
        Ok(answer)
    }
}
