//! RotateKeyOnDemand: a new current key material now, whatever the automatic schedule (which it
//! leaves alone). At most 25 per key (AWS's limit); refused with ConflictException while an
//! automatic rotation is due within 20 minutes. Keys with imported material rotate to the
//! newest imported material waiting to be rotated in. The rotation completes in the request.

use crate::access::authz::AuthorizedKey;
use crate::key::Key;
use crate::key_state::StateRule;
use crate::material::rotation::{self, CONFLICT_WINDOW_MS, ON_DEMAND_LIMIT};
use crate::pipeline::{KeyTarget, Operation};
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::enums::RotationType;
use ferrokms_types::shapes::keys::KeyIdRequest;
use ferrokms_types::shapes::rotation::RotateKeyOnDemandResponse;
use ferrokms_types::KmsError;

pub struct RotateKeyOnDemand;

#[async_trait]
impl Operation for RotateKeyOnDemand {
    const NAME: &'static str = "RotateKeyOnDemand";
    const ACTION: &'static str = "kms:RotateKeyOnDemand";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = KeyIdRequest;
    type Output = RotateKeyOnDemandResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::Rotation,
        )])
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        _: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        rotation::check_rotatable(&key.key, false)?;
        rotate_on_demand(kms, &key.key).await?;
        Ok(RotateKeyOnDemandResponse {
            key_id: key.key.id().to_string(),
        })
    }
}

/// Rotates `key` on demand, re-reading it and deciding again whenever another writer changed it
/// first (so that the limit holds under concurrent requests too).
pub(crate) async fn rotate_on_demand(kms: &Kms, key: &Key) -> Result<Key, KmsError> {
    let mut current = key.clone();
    for attempt in 0..16u64 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(attempt)).await;
            let r = &current.row;
            let row = kms
                .store()
                .get_key(&r.account_id, &r.region, &r.key_id)
                .await
                .map_err(error::store)?
                .ok_or_else(|| KmsError::NotFound(format!("Key '{}' does not exist", key.arn())))?;
            current = Key::from_row(row)?;
            StateRule::Rotation.check(current.state, current.arn())?;
        }
        check_limit_and_schedule(kms, &current).await?;
        if let Some(rotated) =
            rotation::rotate_once(kms, &current, RotationType::OnDemand, None).await?
        {
            return Ok(rotated);
        }
    }
    tracing::warn!(key = key.arn(), "on-demand rotation kept conflicting");
    Err(KmsError::internal())
}

async fn check_limit_and_schedule(kms: &Kms, key: &Key) -> Result<(), KmsError> {
    let versions = kms
        .store()
        .list_key_versions(key.id())
        .await
        .map_err(error::store)?;
    let done = versions
        .iter()
        .filter(|v| v.rotation_type.as_deref() == Some(RotationType::OnDemand.as_str()))
        .count();
    if done >= ON_DEMAND_LIMIT {
        return Err(KmsError::LimitExceeded(format!(
            "{} has reached the maximum of {ON_DEMAND_LIMIT} on-demand rotations.",
            key.arn()
        )));
    }
    let schedule = kms
        .store()
        .get_key_rotation(key.id())
        .await
        .map_err(error::store)?;
    let soon = kms.now_ms().saturating_add(CONFLICT_WINDOW_MS);
    if let Some(next) = schedule
        .filter(|s| s.enabled)
        .and_then(|s| s.next_rotation_date)
    {
        if next <= soon {
            return Err(KmsError::Conflict(format!(
                "An automatic rotation of {} is in progress or scheduled to begin within the next 20 minutes. Try again later.",
                key.arn()
            )));
        }
    }
    Ok(())
}
