//! Background work: destroying the material of keys whose deletion date has passed. Runs on an
//! interval; each pass is idempotent, so a pass interrupted by a crash is simply done again.

use crate::{error, Kms};
use ferrokms_types::KmsError;
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
            .destroy_key(&key.account_id, &key.region, &key.key_id)
            .await
        {
            Ok(()) => destroyed += 1,
            // Another node (or an earlier pass) got there first.
            Err(KmsError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        }
        tracing::info!(key = %key.arn, "key material destroyed after its waiting period");
    }
    Ok(destroyed)
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
