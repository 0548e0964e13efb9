//! Changes to a key's automatic rotation schedule (EnableKeyRotation, DisableKeyRotation), made
//! with the key's compare-and-swap so that a rotation step that read the key before the change
//! cannot apply the old schedule.

use crate::clock::DAY_MS;
use crate::key::Key;
use crate::key_state::StateRule;
use crate::{error, Kms};
use ferrokms_store::{KeyRotationRow, StoreError};
use ferrokms_types::KmsError;

/// Applies `change` (current schedule, now → new schedule, or `None` for "nothing to write") to
/// the key's schedule, re-reading the key and re-checking `rule` when another writer got there
/// first.
pub async fn update_schedule(
    kms: &Kms,
    key: &Key,
    rule: StateRule,
    change: impl Fn(Option<&KeyRotationRow>, i64) -> Option<KeyRotationRow>,
) -> Result<(), KmsError> {
    let _turn = kms.lock_key_writes(key.id()).await;
    let mut current = key.clone();
    for attempt in 0..16u64 {
        if attempt > 0 {
            // Another process won the race; back off a little before reading again.
            tokio::time::sleep(std::time::Duration::from_millis(attempt)).await;
        }
        let schedule = kms
            .store()
            .get_key_rotation(current.id())
            .await
            .map_err(error::store)?;
        let Some(new) = change(schedule.as_ref(), kms.now_ms()) else {
            return Ok(());
        };
        match kms
            .store()
            .update_key_with_rotation(&current.row, &new)
            .await
        {
            Ok(stored) => {
                kms.key_written(&Key::from_row(stored)?);
                return Ok(());
            }
            Err(StoreError::Conflict) => {
                // Straight from the store: a cached row may be the stale one that conflicted.
                let r = &current.row;
                let row = kms
                    .store()
                    .get_key(&r.account_id, &r.region, &r.key_id)
                    .await
                    .map_err(error::store)?;
                let Some(row) = row else {
                    return Err(gone(key));
                };
                current = Key::from_row(row)?;
                rule.check(current.state, current.arn())?;
            }
            Err(StoreError::NotFound) => return Err(gone(key)),
            Err(other) => return Err(error::store(other)),
        }
    }
    tracing::warn!(key = key.arn(), "rotation schedule update kept conflicting");
    Err(KmsError::internal())
}

fn gone(key: &Key) -> KmsError {
    KmsError::NotFound(format!("Key '{}' does not exist", key.arn()))
}

/// The next rotation date when the period of an enabled schedule changes: the new period
/// counted from the same start as the old one (the last automatic rotation, or enabling), as
/// AWS does; a date already past means the key is due now.
pub fn next_after_period_change(old: &KeyRotationRow, new_period_days: i64, now: i64) -> i64 {
    let Some(next) = old.next_rotation_date else {
        return now.saturating_add(new_period_days * DAY_MS);
    };
    let start = next.saturating_sub(i64::from(old.period_days) * DAY_MS);
    start.saturating_add(new_period_days * DAY_MS).max(now)
}
