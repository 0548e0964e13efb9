//! Background work: destroying the material of keys whose deletion date has passed, and rotating
//! keys whose automatic rotation is due (`rotation::rotate_due_keys`). Runs on an interval; each
//! pass is idempotent, so a pass interrupted by a crash is simply done again.
//!
//! In a cluster every node runs the scheduler, but a pass runs only on the node holding the
//! store's `key-deletion` lease (taken for three intervals, renewed every pass), so the work is
//! done once; if that node dies, another takes the lease over when it expires. Each key is
//! destroyed only if its row is unchanged since it was read (`destroy_key_if_version`), so even
//! two passes racing destroy a key once, and never one whose deletion was just cancelled.
//! Rotation works the same way under its own `key-rotation` lease (so the two kinds of work
//! may land on different nodes), each rotation a compare-and-swap on the row it read.

use crate::clock::DAY_MS;
use crate::key::Key;
use crate::ops::schedule_key_deletion::DEFAULT_WINDOW_DAYS;
use crate::{error, Kms};
use ferrokms_store::{KeyRow, StoreError};
use ferrokms_types::enums::KeyState;
use ferrokms_types::KmsError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Keys destroyed per pass at most; the next pass takes the rest.
const BATCH: u32 = 100;

/// One pass: starts the waiting period of multi-Region primary keys whose replicas are all gone,
/// then destroys every key due for deletion now. Returns how many were destroyed.
pub async fn delete_due_keys(kms: &Kms) -> Result<usize, KmsError> {
    release_primaries(kms).await?;
    let now = kms.now_ms();
    let due = kms
        .store()
        .keys_due_for_deletion(now, BATCH)
        .await
        .map_err(error::store)?;
    let mut destroyed = 0;
    for key in &due {
        if has_replicas(kms, key).await? {
            // A replica was made while its primary's deletion was being scheduled: the primary
            // must outlive its replicas, so it waits for them as ScheduleKeyDeletion would have.
            set_deletion(kms, key, KeyState::PendingReplicaDeletion, None).await?;
            continue;
        }
        match kms
            .destroy_key(&key.account_id, &key.region, &key.key_id, key.row_version)
            .await
        {
            Ok(()) => destroyed += 1,
            // Another node (or an earlier pass) got there first, or the key changed since it was
            // read (its deletion cancelled): the next pass reads it afresh.
            Err(KmsError::NotFound(_) | KmsError::KmsInvalidState(_)) => continue,
            Err(e) => return Err(e),
        }
        tracing::info!(key = %key.arn, "key material destroyed after its waiting period");
        if let Some(id) = &key.custom_key_store_id {
            // After the row: a crash in between leaves a token object no key names, never a
            // key whose material is gone.
            crate::key_stores::keys::destroy(kms, key, id).await;
        }
        kms.service_event(crate::service_events::DELETE_KEY, key)
            .await;
        // The key is gone; its last use would only linger (a failure here leaves a stale row).
        if let Err(e) = kms.last_usage().forget(kms.store(), &key.arn).await {
            tracing::warn!(key = %key.arn, error = %e, "forgetting a destroyed key's last use failed");
        }
    }
    Ok(destroyed)
}

/// Multi-Region primary keys scheduled for deletion wait in PendingReplicaDeletion until their
/// last replica is destroyed; then their waiting period starts (PendingDeletion, dated). Checked
/// every pass rather than when a replica is destroyed, so a crash in between loses nothing.
async fn release_primaries(kms: &Kms) -> Result<(), KmsError> {
    let waiting = kms
        .store()
        .keys_in_state(KeyState::PendingReplicaDeletion.as_str(), BATCH)
        .await
        .map_err(error::store)?;
    for key in &waiting {
        if has_replicas(kms, key).await? {
            continue;
        }
        let days = key
            .pending_window_days
            .map_or(DEFAULT_WINDOW_DAYS, i64::from);
        let date = kms.now_ms() + days * DAY_MS;
        set_deletion(kms, key, KeyState::PendingDeletion, Some(date)).await?;
        tracing::info!(key = %key.arn, "last replica deleted; the primary key's waiting period starts");
    }
    Ok(())
}

/// Whether `key` is a multi-Region primary key with a replica in another Region.
async fn has_replicas(kms: &Kms, key: &KeyRow) -> Result<bool, KmsError> {
    let Some(family) = &key.multi_region_id else {
        return Ok(false);
    };
    if key.primary_region.as_deref() != Some(key.region.as_str()) {
        return Ok(false);
    }
    let related = kms
        .store()
        .multi_region_keys(&key.account_id, family)
        .await
        .map_err(error::store)?;
    Ok(related.len() > 1)
}

/// Moves a key to `state` with `deletion_date` if its row is unchanged since read; if it changed
/// (deletion cancelled, another node did it), the next pass reads it afresh.
async fn set_deletion(
    kms: &Kms,
    key: &KeyRow,
    state: KeyState,
    deletion_date: Option<i64>,
) -> Result<(), KmsError> {
    let mut row = key.clone();
    row.state = state.as_str().into();
    row.deletion_date = deletion_date;
    match kms.store().update_key(&row).await {
        Ok(stored) => {
            kms.key_written(&Key::from_row(stored)?);
            Ok(())
        }
        Err(StoreError::Conflict | StoreError::NotFound) => Ok(()),
        Err(other) => Err(error::store(other)),
    }
}

/// What the scheduler has done, for metrics.
#[derive(Debug, Default)]
pub struct SchedulerStats {
    pub runs: AtomicU64,
    pub failures: AtomicU64,
    pub keys_destroyed: AtomicU64,
    pub keys_rotated: AtomicU64,
}

/// The lease that makes one node of a cluster the one that deletes keys.
pub const DELETION_LEASE: &str = "key-deletion";
/// The lease that makes one node of a cluster the one that rotates keys.
pub const ROTATION_LEASE: &str = "key-rotation";

/// Whether this node (`holder`) may run the pass of lease `name` now: it holds, renews or takes
/// over the lease for three intervals.
async fn lease(kms: &Kms, name: &str, holder: &str, every: Duration) -> Result<bool, KmsError> {
    let ttl = i64::try_from(every.as_millis().saturating_mul(3)).unwrap_or(i64::MAX);
    kms.store()
        .try_acquire_lease(name, holder, kms.now_ms(), ttl)
        .await
        .map_err(error::store)
}

/// The rotation pass, if this node holds (or takes) the rotation lease.
async fn rotation_pass(kms: &Kms, holder: &str, every: Duration) -> Result<usize, KmsError> {
    if lease(kms, ROTATION_LEASE, holder, every).await? {
        crate::material::rotation::rotate_due_keys(kms).await
    } else {
        Ok(0)
    }
}

/// Runs passes every `every` until `stop` turns true: deletion on the node holding the deletion
/// lease, rotation on the node holding the rotation lease.
/// `holder` names this node (unique per process).
pub fn spawn(
    kms: Arc<Kms>,
    every: Duration,
    holder: String,
    stats: Arc<SchedulerStats>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match rotation_pass(&kms, &holder, every).await {
                Ok(n) => {
                    stats.keys_rotated.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) => {
                    stats.failures.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %e, "key rotation pass failed");
                }
            }
            let pass = match lease(&kms, DELETION_LEASE, &holder, every).await {
                Ok(true) => {
                    stats.runs.fetch_add(1, Ordering::Relaxed);
                    let expired = crate::material::expiry::expire_materials(&kms).await;
                    expired.and(delete_due_keys(&kms).await)
                }
                Ok(false) => Ok(0),
                Err(e) => Err(e),
            };
            match pass {
                Ok(n) => {
                    stats.keys_destroyed.fetch_add(n as u64, Ordering::Relaxed);
                }
                Err(e) => {
                    stats.failures.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %e, "key deletion pass failed");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => {
                    // Let another node take over at once rather than after the lease expires.
                    let _ = kms.store().release_lease(DELETION_LEASE, &holder).await;
                    let _ = kms.store().release_lease(ROTATION_LEASE, &holder).await;
                    return;
                }
            }
        }
    })
}
