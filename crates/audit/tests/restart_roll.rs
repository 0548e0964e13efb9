//! The chain across process starts and crashes, and rolling files by size
//! and by age.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::time::Duration;

use common::{event, Trail, HOUR_MS};
use ferrokms_audit::{query, AuditError, AuditLog, AuditOptions, AuditSigningKey, QueryFilter};

fn event_ids(trail: &Trail) -> Vec<String> {
    query(&trail.dir, QueryFilter::default())
        .expect("query")
        .map(|r| r.expect("record").event.event_id)
        .collect()
}

fn evt(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|n| format!("evt-{n}")).collect()
}

#[tokio::test]
async fn a_new_process_continues_the_chain_in_a_new_file() {
    let trail = Trail::new();
    trail.fill(0, 1, 5, false).await;
    trail.fill(5, 1, 5, false).await;
    let log = trail.fill(10, 1, 5, true).await.expect("open");
    assert_eq!(trail.logs().len(), 3);
    let report = trail.verify();
    assert!(report.is_intact(), "{report}");
    assert_eq!((report.records_checked, report.digests_verified), (15, 2));
    assert_eq!(
        report.unsigned_file.as_deref(),
        Some(trail.logs()[2].as_str())
    );
    assert_eq!(event_ids(&trail), evt(0..15));
    log.close().await.expect("close");
    assert!(trail.verify().is_intact());
}

#[tokio::test]
async fn after_a_crash_the_torn_line_is_cut_and_the_file_signed() {
    let trail = Trail::new();
    trail.fill(0, 2, 5, false).await;
    // Simulate a crash while file 2 was open: no digest, half a record.
    let logs = trail.logs();
    let last = &logs[1];
    let stem = last.trim_end_matches(".jsonl");
    fs::remove_file(trail.path(&format!("{stem}.digest.json"))).expect("rm digest");
    fs::remove_file(trail.path(&format!("{stem}.digest.sig"))).expect("rm sig");
    let intact_len = fs::metadata(trail.path(last)).expect("meta").len();
    let mut f = OpenOptions::new()
        .append(true)
        .open(trail.path(last))
        .expect("open");
    f.write_all(br#"{"seq":11,"prev":"ab12"#)
        .expect("torn write");
    drop(f);
    let before = trail.verify();
    assert!(
        before.is_intact(),
        "an open file's torn tail is not tampering: {before}"
    );
    assert_eq!(before.torn_tail_bytes, 22);

    let log = trail.open().await;
    assert_eq!(
        fs::metadata(trail.path(last)).expect("meta").len(),
        intact_len
    );
    assert_eq!(
        trail.digests().len(),
        2,
        "the crashed file was closed and signed"
    );
    log.append(&event(10)).await.expect("append");
    log.close().await.expect("close");
    let report = trail.verify();
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.digests_verified, 3);
    assert_eq!(event_ids(&trail), evt(0..11));
}

#[tokio::test]
async fn after_a_crash_with_no_torn_line_the_open_file_is_simply_signed() {
    let trail = Trail::new();
    let log = trail.fill(0, 1, 3, true).await.expect("open");
    // Leak the writer's state as a crash would: no close, no digest.
    std::mem::forget(log);
    assert!(trail.digests().is_empty());
    let log = trail.open().await;
    log.append(&event(3)).await.expect("append");
    log.close().await.expect("close");
    assert_eq!(trail.logs().len(), 2);
    let report = trail.verify();
    assert!(report.is_intact(), "{report}");
    assert_eq!(event_ids(&trail), evt(0..4));
}

#[tokio::test]
async fn another_signing_key_cannot_take_over_the_directory() {
    let trail = Trail::new();
    trail.fill(0, 1, 2, false).await;
    let (intruder, _) = AuditSigningKey::generate().expect("key");
    let err = AuditLog::open(&trail.dir, intruder, trail.options())
        .await
        .expect_err("refused");
    assert!(matches!(err, AuditError::KeyMismatch), "{err}");
}

#[tokio::test]
async fn files_roll_by_size_and_the_chain_spans_them() {
    let trail = Trail::new();
    let options = AuditOptions {
        max_file_bytes: 3000,
        ..trail.options()
    };
    let log = trail.open_with(options).await;
    for n in 0..20 {
        log.append(&event(n)).await.expect("append");
    }
    log.close().await.expect("close");
    let logs = trail.logs();
    assert!(logs.len() >= 5, "{logs:?}");
    for name in &logs {
        let len = fs::metadata(trail.path(name)).expect("meta").len();
        assert!(len <= 3000, "{name} is {len} bytes");
    }
    assert_eq!(log.stats().files_closed, logs.len() as u64);
    let report = trail.verify();
    assert!(report.is_intact(), "{report}");
    assert_eq!(event_ids(&trail), evt(0..20));
}

#[tokio::test]
async fn a_record_larger_than_the_limit_gets_a_file_of_its_own() {
    let trail = Trail::new();
    let log = trail
        .open_with(AuditOptions {
            max_file_bytes: 100,
            ..trail.options()
        })
        .await;
    for n in 0..3 {
        log.append(&event(n)).await.expect("append");
    }
    log.close().await.expect("close");
    assert_eq!(trail.logs().len(), 3);
    assert!(trail.verify().is_intact());
}

#[tokio::test]
async fn files_roll_by_age_on_the_next_append() {
    let trail = Trail::new();
    let log = trail.open().await;
    log.append(&event(0)).await.expect("append");
    trail.clock.advance_ms(HOUR_MS - 1);
    log.append(&event(1)).await.expect("append");
    assert_eq!(trail.logs().len(), 1, "not an hour old yet");
    trail.clock.advance_ms(1);
    log.append(&event(2)).await.expect("append");
    assert_eq!(trail.logs().len(), 2);
    assert_eq!(trail.digests().len(), 1);
    log.close().await.expect("close");
    let report = trail.verify();
    assert!(report.is_intact(), "{report}");
}

#[tokio::test]
async fn an_idle_file_is_closed_and_signed_when_it_gets_old() {
    let trail = Trail::new();
    let log = trail
        .open_with(AuditOptions {
            roll_check_interval: Duration::from_millis(2),
            ..trail.options()
        })
        .await;
    log.append(&event(0)).await.expect("append");
    trail.clock.advance_ms(HOUR_MS);
    common::eventually(|| trail.digests().len() == 1).await;
    let report = trail.verify();
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.unsigned_file, None);
    log.close().await.expect("close");
    assert_eq!(
        trail.logs().len(),
        1,
        "closing with no new event adds no file"
    );
}
