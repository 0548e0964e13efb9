//! Appending and querying: the round trip, group commit under concurrency,
//! filters, and what `close` means for later appends.

mod common;

use std::collections::HashSet;

use common::{at_ms, event, principal, Trail, BASE_MS};
use ferrokms_audit::{query, AuditError, AuditRecord, QueryFilter};

fn all(trail: &Trail, filter: QueryFilter) -> Vec<AuditRecord> {
    query(&trail.dir, filter)
        .expect("query")
        .collect::<Result<Vec<_>, _>>()
        .expect("records")
}

#[tokio::test]
async fn appended_events_come_back_in_order_and_intact() {
    let trail = Trail::new();
    let log = trail.open().await;
    for n in 0..10 {
        log.append(&event(n)).await.expect("append");
    }
    let stats = log.stats();
    assert_eq!(stats.records_written, 10);
    let on_disk: u64 = trail
        .logs()
        .iter()
        .map(|n| std::fs::metadata(trail.path(n)).expect("meta").len())
        .sum();
    assert_eq!(stats.bytes_written, on_disk);

    // Readable while the file is still open.
    let records = all(&trail, QueryFilter::default());
    assert_eq!(records.len(), 10);
    for (n, r) in records.iter().enumerate() {
        assert_eq!(r.event, event(n));
        assert_eq!(r.seq, n as u64 + 1);
        assert_eq!(r.line, n as u64 + 1);
    }
    let open = trail.verify();
    assert!(open.is_intact(), "{open}");
    assert_eq!(
        open.unsigned_file.as_deref(),
        Some(trail.logs()[0].as_str())
    );

    log.close().await.expect("close");
    assert_eq!(log.stats().files_closed, 1);
    let closed = trail.verify();
    assert!(closed.is_intact(), "{closed}");
    assert_eq!(closed.unsigned_file, None);
    assert_eq!((closed.records_checked, closed.digests_verified), (10, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_are_group_committed_and_all_recorded_once() {
    let trail = Trail::new();
    let log = trail.open().await;
    let tasks: Vec<_> = (0..200)
        .map(|n| {
            let log = log.clone();
            tokio::spawn(async move { log.append(&event(n)).await })
        })
        .collect();
    for t in tasks {
        t.await.expect("task").expect("append");
    }
    let stats = log.stats();
    assert_eq!(stats.records_written, 200);
    assert!(
        stats.syncs < 200,
        "every append had its own fdatasync ({} syncs): no group commit",
        stats.syncs
    );
    log.close().await.expect("close");

    let records = all(&trail, QueryFilter::default());
    let ids: HashSet<String> = records.iter().map(|r| r.event.event_id.clone()).collect();
    assert_eq!(records.len(), 200);
    assert_eq!(ids.len(), 200);
    let seqs: Vec<u64> = records.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    let report = trail.verify();
    assert!(report.is_intact(), "{report}");
}

#[tokio::test]
async fn filters_select_by_key_principal_event_name_and_time() {
    let trail = Trail::new();
    trail.fill(0, 3, 10, false).await;
    let ids = |filter| -> Vec<String> {
        all(&trail, filter)
            .into_iter()
            .map(|r| r.event.event_id)
            .collect()
    };
    let evt = |ns: &mut dyn Iterator<Item = usize>| -> Vec<String> {
        ns.map(|n| format!("evt-{n}")).collect()
    };

    // By key id, by key ARN, by alias-free requestParameters.keyId.
    assert_eq!(
        ids(QueryFilter {
            key_id: Some("key-1".into()),
            ..QueryFilter::default()
        }),
        evt(&mut (0..30).filter(|n| n % 2 == 1))
    );
    assert_eq!(
        ids(QueryFilter {
            key_id: Some("arn:aws:kms:eu-west-1:111122223333:key/key-0".into()),
            ..QueryFilter::default()
        }),
        evt(&mut (0..30).filter(|n| n % 2 == 0))
    );
    assert_eq!(
        ids(QueryFilter {
            principal: Some(principal(2)),
            ..QueryFilter::default()
        }),
        evt(&mut (0..30).filter(|n| n % 3 == 2))
    );
    assert_eq!(
        ids(QueryFilter {
            event_name: Some("Decrypt".into()),
            ..QueryFilter::default()
        }),
        evt(&mut (0..30).filter(|n| n % 2 == 1))
    );
    // Event n is at BASE + n minutes; since minute 25 (in the last file).
    assert_eq!(
        ids(QueryFilter {
            since: Some(at_ms(BASE_MS + 25 * 60_000)),
            ..QueryFilter::default()
        }),
        evt(&mut (25..30))
    );
    // All filters together.
    assert_eq!(
        ids(QueryFilter {
            key_id: Some("key-0".into()),
            principal: Some(principal(0)),
            event_name: Some("Encrypt".into()),
            since: Some(at_ms(BASE_MS + 5 * 60_000)),
        }),
        evt(&mut [6, 12, 18, 24].into_iter())
    );
    assert!(ids(QueryFilter {
        key_id: Some("alias/none".into()),
        ..QueryFilter::default()
    })
    .is_empty());
}

#[tokio::test]
async fn close_drains_then_refuses() {
    let trail = Trail::new();
    let log = trail.open().await;
    let pending: Vec<_> = (0..20)
        .map(|n| {
            let log = log.clone();
            tokio::spawn(async move { log.append(&event(n)).await })
        })
        .collect();
    // Let every append reach the queue, then close behind them.
    tokio::task::yield_now().await;
    let results: Vec<_> = {
        let close = log.close();
        let (closed, results) = tokio::join!(close, async {
            let mut out = Vec::new();
            for p in pending {
                out.push(p.await.expect("task"));
            }
            out
        });
        closed.expect("close");
        results
    };
    // Appends queued before the close are recorded; any after it are refused.
    let recorded = results.iter().filter(|r| r.is_ok()).count();
    assert!(results
        .iter()
        .all(|r| matches!(r, Ok(()) | Err(AuditError::Closed))));
    assert_eq!(all(&trail, QueryFilter::default()).len(), recorded);
    assert!(matches!(
        log.append(&event(99)).await,
        Err(AuditError::Closed)
    ));
    log.close().await.expect("closing twice is harmless");
    let report = trail.verify();
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.unsigned_file, None);
}

#[tokio::test]
async fn dropping_every_handle_closes_the_file_with_its_digest() {
    let trail = Trail::new();
    let log = trail.open().await;
    log.append(&event(0)).await.expect("append");
    drop(log);
    common::eventually(|| trail.digests().len() == 1).await;
    let report = trail.verify();
    assert!(report.is_intact(), "{report}");
}

#[tokio::test]
async fn the_public_key_is_exported_as_pem() {
    let trail = Trail::new();
    let log = trail.open().await;
    let from_dir = ferrokms_audit::read_public_key(&trail.dir).expect("pem");
    assert_eq!(from_dir, trail.public_key);
    assert_eq!(log.public_key_der(), trail.public_key.as_slice());
    log.close().await.expect("close");
}
