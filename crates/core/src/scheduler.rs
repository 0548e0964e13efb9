//! Background work: destroying the material of keys whose deletion date has passed. Runs on an
//! interval; each pass is idempotent, so a pass interrupted by a crash is simply done again.

use crate::Kms;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Keys destroyed per pass at most; the next pass takes the rest.
const BATCH: u32 = 100;

/// One pass: destroys every key due for deletion now. Returns how many were destroyed.
pub async fn delete_due_keys(kms: &Kms) -> Result<usize, ferrokms_store::StoreError> {
    let due = kms
        .store()
        .keys_due_for_deletion(kms.now_ms(), BATCH)
        .await?;
    for key in &due {
        kms.store().destroy_key(&key.key_id).await?;
        tracing::info!(key = %key.arn, "key material destroyed after its waiting period");
    }
    Ok(due.len())
}

/// Runs passes every `every` until `stop` turns true.
pub fn spawn(
    kms: Arc<Kms>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = delete_due_keys(&kms).await {
                tracing::error!(error = %e, "key deletion pass failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
        }
    })
}
