//! The last successful cryptographic use of each key (GetKeyLastUsage), kept off the hot path:
//! a request only updates an in-memory map; [`LastUsage::flush`] writes what changed to the store
//! in one transaction, on an interval and at shutdown. The store keeps the newest use whatever
//! order nodes flush in, and a read takes the newer of this node's unflushed use and the stored
//! one, so a node always sees its own uses at once and other nodes' within a flush interval.
//!
//! A crash loses at most one interval of uses. That is the documented trade: the audit trail
//! holds every use durably; this is a convenience view of it.

use crate::error;
use ferrokms_store::{KeyUsageRow, Store};
use ferrokms_types::KmsError;
use std::collections::HashMap;
use std::sync::Mutex;

/// The setting naming when this deployment began tracking uses (epoch ms).
const TRACKING_START_SETTING: &str = "key_last_usage_tracking_start";

/// This node's uses not yet written to the store, by key ARN.
#[derive(Debug, Default)]
pub struct LastUsage {
    unflushed: Mutex<HashMap<String, KeyUsageRow>>,
}

impl LastUsage {
    /// Notes a use; the newest use per key is kept.
    pub fn record(&self, used: KeyUsageRow) {
        let mut map = self.unflushed.lock().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(&used.key_arn) {
            Some(old) if old.used_at > used.used_at => {}
            Some(old) => *old = used,
            None => {
                map.insert(used.key_arn.clone(), used);
            }
        }
    }

    /// Writes the unflushed uses to the store; on failure they are kept for the next flush
    /// (unless newer uses of the same keys arrived meanwhile). Returns how many were written.
    pub async fn flush(&self, store: &dyn Store) -> Result<usize, KmsError> {
        let taken: Vec<KeyUsageRow> = {
            let mut map = self.unflushed.lock().unwrap_or_else(|p| p.into_inner());
            map.drain().map(|(_, used)| used).collect()
        };
        if taken.is_empty() {
            return Ok(0);
        }
        match store.record_key_usage(&taken).await {
            Ok(()) => Ok(taken.len()),
            Err(e) => {
                let n = taken.len();
                for used in taken {
                    self.record(used);
                }
                tracing::warn!(error = %e, uses = n, "writing key last usage failed; kept for the next flush");
                Err(error::store(e))
            }
        }
    }

    /// The last use of `key_arn`: the newer of this node's unflushed use and the stored one.
    pub async fn get(
        &self,
        store: &dyn Store,
        key_arn: &str,
    ) -> Result<Option<KeyUsageRow>, KmsError> {
        let local = {
            let map = self.unflushed.lock().unwrap_or_else(|p| p.into_inner());
            map.get(key_arn).cloned()
        };
        let stored = store.get_key_usage(key_arn).await.map_err(error::store)?;
        Ok(match (local, stored) {
            (Some(l), Some(s)) if s.used_at > l.used_at => Some(s),
            (Some(l), _) => Some(l),
            (None, s) => s,
        })
    }

    /// Forgets every use of a destroyed key, here and in the store.
    pub async fn forget(&self, store: &dyn Store, key_arn: &str) -> Result<(), KmsError> {
        self.unflushed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key_arn);
        store.delete_key_usage(key_arn).await.map_err(error::store)
    }
}

/// Flushes `kms`'s uses every `every` until `stop` turns true, then once more, so a clean
/// shutdown loses none.
pub fn spawn_flusher(
    kms: std::sync::Arc<crate::Kms>,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let stopping = tokio::select! {
                _ = tokio::time::sleep(every) => false,
                _ = stop.changed() => true,
            };
            // A failure is logged by flush and retried on the next round.
            let _ = kms.last_usage().flush(kms.store()).await;
            if stopping || *stop.borrow() {
                return;
            }
        }
    })
}

/// When this deployment began tracking key uses: recorded by the first node that asks, and the
/// same for every node after that (if two nodes race, both then read the one that was stored).
pub async fn tracking_start(store: &dyn Store, now_ms: i64) -> Result<i64, KmsError> {
    if let Some(start) = read_start(store).await? {
        return Ok(start);
    }
    store
        .set_setting(TRACKING_START_SETTING, &now_ms.to_string())
        .await
        .map_err(error::store)?;
    Ok(read_start(store).await?.unwrap_or(now_ms))
}

async fn read_start(store: &dyn Store) -> Result<Option<i64>, KmsError> {
    let text = store
        .get_setting(TRACKING_START_SETTING)
        .await
        .map_err(error::store)?;
    Ok(text.and_then(|t| t.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrokms_store::SqliteStore;

    fn used(arn: &str, operation: &str, at: i64) -> KeyUsageRow {
        KeyUsageRow {
            key_arn: arn.into(),
            operation: operation.into(),
            used_at: at,
            request_id: format!("r{at}"),
            event_id: format!("e{at}"),
        }
    }

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("s.db"))
            .await
            .expect("open");
        (dir, store)
    }

    #[tokio::test]
    async fn unflushed_uses_are_seen_at_once_and_flushed_once() {
        let (_dir, store) = store().await;
        let usage = LastUsage::default();
        usage.record(used("k1", "Encrypt", 10));
        usage.record(used("k1", "Decrypt", 5)); // older: ignored
        usage.record(used("k2", "Sign", 7));
        assert_eq!(
            usage.get(&store, "k1").await.expect("get"),
            Some(used("k1", "Encrypt", 10))
        );
        assert_eq!(store.get_key_usage("k1").await.expect("stored"), None);

        assert_eq!(usage.flush(&store).await.expect("flush"), 2);
        assert_eq!(usage.flush(&store).await.expect("flush again"), 0);
        assert_eq!(
            store.get_key_usage("k1").await.expect("stored"),
            Some(used("k1", "Encrypt", 10))
        );
    }

    #[tokio::test]
    async fn a_read_takes_the_newer_of_memory_and_store() {
        let (_dir, store) = store().await;
        // Another node flushed a newer use than this node's unflushed one.
        store
            .record_key_usage(&[used("k", "GenerateMac", 50)])
            .await
            .expect("record");
        let usage = LastUsage::default();
        usage.record(used("k", "VerifyMac", 40));
        assert_eq!(
            usage
                .get(&store, "k")
                .await
                .expect("get")
                .map(|u| u.operation),
            Some("GenerateMac".into())
        );
        // Flushing the older use does not overwrite the newer stored one.
        usage.flush(&store).await.expect("flush");
        assert_eq!(
            store
                .get_key_usage("k")
                .await
                .expect("get")
                .map(|u| u.used_at),
            Some(50)
        );
        usage.forget(&store, "k").await.expect("forget");
        assert_eq!(usage.get(&store, "k").await.expect("get"), None);
    }

    #[tokio::test]
    async fn tracking_start_is_recorded_once() {
        let (_dir, store) = store().await;
        assert_eq!(tracking_start(&store, 100).await.expect("first"), 100);
        assert_eq!(tracking_start(&store, 900).await.expect("later"), 100);
    }
}
