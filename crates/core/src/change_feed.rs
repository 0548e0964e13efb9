//! Following the store's change feed: every change to a key, its tags, an alias, an identity
//! policy or an identity, made by any node or the admin command, is a row the store's triggers
//! wrote in the changing transaction. This process reads the rows after the last it saw and drops
//! what it cached of each (see [`crate::cache`]).
//!
//! When it reads: at once when PostgreSQL notifies that a changing transaction committed, and at
//! the latest every `POLL_INTERVAL` (SQLite cannot notify another process; a notification may be
//! lost with its connection). Each successful read keeps the caches following for
//! `FOLLOW_LEASE`: when the feed cannot be read (an error, or a store that does not answer at
//! all), the caches fall back to their short expiry within that lease, and when it can be read
//! again they are emptied first.
//!
//! Gaps: on PostgreSQL two transactions may commit their rows out of `seq` order, so a reader
//! can see 12 while 11 is still to commit (or was rolled back and will never appear). The
//! [`Cursor`] keeps every gap it has seen open for `GAP_GRACE` and reads from below the oldest
//! open one, so a late row is still applied. A transaction that commits more than `GAP_GRACE`
//! after writing its row is missed; `FOLLOWED_TTL` bounds what that costs.

use crate::Kms;
use ferrokms_store::ChangeRow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest wait between two reads of the feed.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// How long a gap in the feed's sequence stays open for a late commit.
pub const GAP_GRACE: Duration = Duration::from_secs(10);
/// Rows of the feed are kept this long (seconds), then pruned by whichever node gets there.
const RETENTION_SECS: i64 = 3600;
/// How often this node prunes.
const PRUNE_INTERVAL: Duration = Duration::from_secs(300);
/// A read of the feed that takes longer is abandoned (and the caches stop following): a store
/// that does not answer must not hold the follower forever.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Rows read at most per query; a full batch is followed by another read at once.
const BATCH: u32 = 1000;
/// A starting node reads this far back, so a change that committed just before it started, out
/// of order, is not missed.
const START_WINDOW: i64 = 1000;
/// Open gaps are bounded: past this many the oldest is closed early.
const MAX_GAPS: usize = 10_000;

/// Where a reader is in the feed: every `seq` up to `seen` has been applied or is an open gap.
#[derive(Debug)]
pub struct Cursor {
    seen: i64,
    /// Gaps below `seen` not yet filled, with when they were first seen.
    gaps: BTreeMap<i64, Instant>,
}

impl Cursor {
    /// A reader that has applied everything up to `seq`.
    pub fn after(seq: i64) -> Self {
        Cursor {
            seen: seq,
            gaps: BTreeMap::new(),
        }
    }

    /// The `seq` to read after: just below the oldest open gap, or the last seen.
    pub fn read_after(&self) -> i64 {
        self.gaps
            .keys()
            .next()
            .map_or(self.seen, |oldest| oldest - 1)
    }

    /// Takes the rows read after [`read_after`](Self::read_after) and returns those not applied
    /// before; gaps older than `GAP_GRACE` at `now` are closed.
    pub fn accept(&mut self, rows: Vec<ChangeRow>, now: Instant) -> Vec<ChangeRow> {
        let mut fresh = Vec::with_capacity(rows.len());
        for row in rows {
            if row.seq > self.seen {
                let from = (self.seen + 1).max(row.seq - MAX_GAPS as i64);
                for missing in from..row.seq {
                    self.gaps.insert(missing, now);
                }
                while self.gaps.len() > MAX_GAPS {
                    self.gaps.pop_first();
                }
                self.seen = row.seq;
                fresh.push(row);
            } else if self.gaps.remove(&row.seq).is_some() {
                fresh.push(row);
            }
        }
        self.gaps
            .retain(|_, first_seen| now.duration_since(*first_seen) < GAP_GRACE);
        fresh
    }
}

/// Follows the feed until `stop` turns true.
pub fn spawn_follower(
    kms: Arc<Kms>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut cursor: Option<Cursor> = None;
        let mut pruned = Instant::now();
        loop {
            let round = tokio::time::timeout(READ_TIMEOUT, read_round(&kms, &mut cursor));
            match round
                .await
                .unwrap_or(Err(ferrokms_store::StoreError::Backend(
                    "the change feed did not answer in time".into(),
                ))) {
                Ok(more) => {
                    kms.caches().renew_following();
                    if more {
                        continue;
                    }
                }
                Err(e) => {
                    if kms.caches().following() {
                        tracing::warn!(
                            error = %e,
                            "cannot read the change feed; caches fall back to their short expiry"
                        );
                        kms.caches().stop_following();
                    }
                }
            }
            if pruned.elapsed() >= PRUNE_INTERVAL {
                pruned = Instant::now();
                let before = kms.now_ms() / 1000 - RETENTION_SECS;
                // A failure is retried at the next interval; the rows only take space meanwhile.
                let _ = kms.store().prune_changes(before).await;
            }
            tokio::select! {
                _ = kms.store().wait_for_changes(POLL_INTERVAL) => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    })
}

/// Reads one batch and applies it; says whether a full batch was read (more may follow).
async fn read_round(
    kms: &Kms,
    cursor: &mut Option<Cursor>,
) -> Result<bool, ferrokms_store::StoreError> {
    let store = kms.store();
    let cursor = match cursor {
        Some(c) => c,
        None => {
            let last = store.last_change().await?;
            cursor.insert(Cursor::after((last - START_WINDOW).max(0)))
        }
    };
    let rows = store.changes_after(cursor.read_after(), BATCH).await?;
    let full = rows.len() == BATCH as usize;
    let fresh = cursor.accept(rows, Instant::now());
    kms.caches().apply_changes(&fresh);
    Ok(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64) -> ChangeRow {
        ChangeRow {
            seq,
            kind: "key".into(),
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            name: format!("k{seq}"),
        }
    }

    fn seqs(rows: &[ChangeRow]) -> Vec<i64> {
        rows.iter().map(|r| r.seq).collect()
    }

    #[test]
    fn rows_in_order_are_applied_once() {
        let now = Instant::now();
        let mut c = Cursor::after(0);
        assert_eq!(seqs(&c.accept(vec![row(1), row(2)], now)), [1, 2]);
        assert_eq!(c.read_after(), 2);
        // Read again from the same place (a retried round): nothing new.
        assert!(c.accept(vec![row(1), row(2)], now).is_empty());
    }

    /// PostgreSQL may commit seq 11 after seq 12: the reader sees 12, keeps 11 open and reads
    /// from below it, and applies 11 when it commits.
    #[test]
    fn a_late_commit_below_a_seen_row_is_applied() {
        let now = Instant::now();
        let mut c = Cursor::after(10);
        assert_eq!(seqs(&c.accept(vec![row(12)], now)), [12]);
        assert_eq!(c.read_after(), 10);
        assert_eq!(seqs(&c.accept(vec![row(11), row(12)], now)), [11]);
        assert_eq!(c.read_after(), 12);
    }

    /// A rolled-back transaction's seq never appears: its gap closes after the grace period
    /// and reading moves on.
    #[test]
    fn a_gap_closes_after_the_grace_period() {
        let start = Instant::now();
        let mut c = Cursor::after(0);
        c.accept(vec![row(2)], start);
        assert_eq!(c.read_after(), 0);
        c.accept(vec![row(2)], start + GAP_GRACE);
        assert_eq!(c.read_after(), 2);
    }

    #[test]
    fn open_gaps_are_bounded() {
        let now = Instant::now();
        let mut c = Cursor::after(0);
        c.accept(vec![row(1_000_000)], now);
        assert_eq!(c.gaps.len(), MAX_GAPS);
        assert_eq!(c.read_after(), 1_000_000 - MAX_GAPS as i64 - 1);
        assert_eq!(seqs(&c.accept(vec![row(1_000_001)], now)), [1_000_001]);
        assert_eq!(c.gaps.len(), MAX_GAPS);
    }
}
