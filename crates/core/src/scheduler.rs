//! Background work: destroying the material of keys whose deletion date has passed. Runs on an
//! interval; each pass is idempotent, so a pass interrupted by a crash is simply done again.
//!
//! In a cluster every node runs the scheduler, but a pass runs only on the node holding the
//! store's `key-deletion` lease (taken for three intervals, renewed every pass), so the work is
//! done once; if that node dies, another takes the lease over when it expires. Each key is
//! destroyed only if its row is unchanged since it was read (`destroy_key_if_version`), so even
//! two passes racing destroy a key once, and never one whose deletion was just cancelled.

use crate::{error, Kms};
use ferrokms_types::KmsError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Keys destroyed per pass at most; the next pass takes the rest.
const BATCH: u32 = 100;

/// One pass: destroys every key due for deletion now. Returns how many were destroyed.
pub async fn delete_due_keys(kms: &Kms) -> Result<usize, KmsError> {
    let now = kms.now_ms();
    let due = kms
        .store()
        .keys_due_for_deletion(now, BATCH)
        .await
        .map_err(error::store)?;
    let mut destroyed = 0;
    for key in &due {
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
    }
    Ok(destroyed)
}

/// What the scheduler has done, for metrics.
#[derive(Debug, Default)]
pub struct SchedulerStats {
    pub runs: AtomicU64,
    pub failures: AtomicU64,
    pub keys_destroyed: AtomicU64,
}

/// The lease that makes one node of a cluster the one that deletes keys.
pub const DELETION_LEASE: &str = "key-deletion";

/// Whether this node (`holder`) may run the deletion pass now: it holds, renews or takes over
/// the lease for three intervals.
async fn lease(kms: &Kms, holder: &str, every: Duration) -> Result<bool, KmsError> {
    let ttl = i64::try_from(every.as_millis().saturating_mul(3)).unwrap_or(i64::MAX);
    kms.store()
        .try_acquire_lease(DELETION_LEASE, holder, kms.now_ms(), ttl)
        .await
        .map_err(error::store)
}

/// Runs passes every `every` until `stop` turns true, on the node holding the deletion lease.
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
            let pass = match lease(&kms, &holder, every).await {
                Ok(true) => {
                    stats.runs.fetch_add(1, Ordering::Relaxed);
                    let expired = crate::expiry::expire_materials(&kms).await;
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
                    return;
                }
            }
        }
    })
}
