//! Losing the end of the trail after a crash (security review finding 11):
//! records cut from the open file, the open file deleted, every file
//! deleted, or the checkpoint tampered with. `verify` must report each and
//! the next start must refuse to sign the shortened trail; an untampered
//! crash still verifies and recovers.
//!
//! A crash is simulated by leaking the log (`mem::forget`): no close, no
//! digest of the open file. Every test but the first two starts from two
//! files of five records, the second left open (seq 6..10).

mod common;

use std::fs;

use common::{event, Trail};
use ferrokms_audit::{checkpoint_path, AuditError, AuditLog, AuditOptions, Problem};

/// Two files, the second open when the "process" dies.
async fn crashed() -> (Trail, String) {
    let trail = Trail::new();
    let log = trail.fill(0, 2, 5, true).await.expect("open log");
    std::mem::forget(log);
    let open_file = trail.logs()[1].clone();
    assert_eq!(trail.digests().len(), 1, "the open file has no digest");
    (trail, open_file)
}

fn missing(report: &ferrokms_audit::VerifyReport) -> Option<(String, bool, u64, Option<u64>)> {
    report.problems.iter().find_map(|p| match p {
        Problem::AcknowledgedRecordsMissing {
            file,
            file_present,
            last_seq,
            trail_last_seq,
        } => Some((file.clone(), *file_present, *last_seq, *trail_last_seq)),
        _ => None,
    })
}

async fn open_err(trail: &Trail) -> AuditError {
    AuditLog::open(&trail.dir, trail.signer(), trail.options())
        .await
        .expect_err("the start must be refused")
}

#[tokio::test]
async fn an_untampered_crash_verifies_and_recovers() {
    let (trail, _) = crashed().await;
    let report = trail.verify();
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.checkpoint_seq, Some(10));
    let log = trail.open().await;
    assert_eq!(log.tail_loss(), None);
    log.append(&event(10)).await.expect("append");
    log.close().await.expect("close");
    let report = trail.verify();
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.checkpoint_seq, Some(11));
}

#[tokio::test]
async fn the_checkpoint_sits_beside_the_audit_directory() {
    let trail = Trail::new();
    trail.fill(0, 1, 1, false).await;
    assert_eq!(
        checkpoint_path(&trail.dir),
        trail.tmp.path().join("audit.checkpoint")
    );
    assert!(checkpoint_path(&trail.dir).exists());
}

#[tokio::test]
async fn records_cut_from_the_open_file_fail_verify_and_the_start() {
    let (trail, open_file) = crashed().await;
    let lines = trail.lines(&open_file);
    trail.write_lines(&open_file, &lines[..lines.len() - 2]);

    let report = trail.verify();
    assert_eq!(
        missing(&report),
        Some((open_file.clone(), true, 10, Some(8))),
        "{report}"
    );
    assert!(
        report
            .to_string()
            .contains("record seq 10 was acknowledged"),
        "{report}"
    );

    let err = open_err(&trail).await;
    assert!(
        matches!(&err, AuditError::TailLost(d) if d.contains(&open_file)),
        "{err}"
    );
    assert_eq!(
        trail.digests().len(),
        1,
        "the shortened file was not signed as if whole"
    );
    assert_eq!(trail.lines(&open_file).len(), 3);
}

#[tokio::test]
async fn deleting_the_open_file_fails_verify_and_the_start() {
    let (trail, open_file) = crashed().await;
    fs::remove_file(trail.path(&open_file)).expect("rm");

    let report = trail.verify();
    assert_eq!(
        missing(&report),
        Some((open_file.clone(), false, 10, Some(5))),
        "{report}"
    );
    let err = open_err(&trail).await;
    assert!(
        matches!(&err, AuditError::TailLost(d) if d.contains("missing")),
        "{err}"
    );
}

#[tokio::test]
async fn deleting_every_file_fails_verify_and_the_start() {
    let (trail, open_file) = crashed().await;
    for entry in fs::read_dir(&trail.dir).expect("read_dir") {
        fs::remove_file(entry.expect("entry").path()).expect("rm");
    }
    let report = trail.verify();
    assert!(report.files_checked.is_empty());
    assert_eq!(
        missing(&report),
        Some((open_file, false, 10, None)),
        "{report}"
    );
    assert!(report.to_string().contains("holds no record"), "{report}");
    let err = open_err(&trail).await;
    assert!(
        matches!(&err, AuditError::TailLost(d) if d.contains("empty")),
        "{err}"
    );

    // Removing the directory itself is no different: the checkpoint is outside it.
    fs::remove_dir_all(&trail.dir).expect("rm -r");
    assert!(!trail.verify().is_intact());
    assert!(matches!(open_err(&trail).await, AuditError::TailLost(_)));
}

#[tokio::test]
async fn deleting_the_last_closed_file_fails_verify() {
    let trail = Trail::new();
    trail.fill(0, 2, 5, false).await;
    let last = trail.logs()[1].clone();
    let stem = last.trim_end_matches(".jsonl").to_owned();
    for suffix in [".jsonl", ".digest.json", ".digest.sig"] {
        fs::remove_file(trail.path(&format!("{stem}{suffix}"))).expect("rm");
    }
    let report = trail.verify();
    assert_eq!(
        missing(&report),
        Some((last, false, 10, Some(5))),
        "{report}"
    );
    assert!(matches!(open_err(&trail).await, AuditError::TailLost(_)));
}

#[tokio::test]
async fn a_deleted_or_edited_checkpoint_blocks_the_start() {
    let (trail, _) = crashed().await;
    let path = checkpoint_path(&trail.dir);
    let text = fs::read_to_string(&path).expect("checkpoint");
    fs::write(&path, text.replace("\"lastSeq\":10", "\"lastSeq\":8")).expect("edit");
    let report = trail.verify();
    assert!(
        report
            .problems
            .iter()
            .any(|p| matches!(p, Problem::CheckpointUnusable { .. })),
        "{report}"
    );
    assert!(matches!(open_err(&trail).await, AuditError::TailLost(d) if d.contains("unusable")));

    fs::remove_file(&path).expect("rm checkpoint");
    assert!(matches!(open_err(&trail).await, AuditError::TailLost(d) if d.contains("missing")));
}

#[tokio::test]
async fn an_accepted_loss_is_reported_and_the_trail_continues() {
    let (trail, open_file) = crashed().await;
    let lines = trail.lines(&open_file);
    trail.write_lines(&open_file, &lines[..lines.len() - 2]);
    let log = trail
        .open_with(AuditOptions {
            accept_tail_loss: true,
            ..trail.options()
        })
        .await;
    let loss = log.tail_loss().expect("the loss is reported").to_owned();
    assert!(
        loss.contains(&open_file) && loss.contains("seq 10"),
        "{loss}"
    );
    log.append(&event(10)).await.expect("append");
    log.close().await.expect("close");
    // From here the trail is whole again: the shortened file was signed as
    // found, and the new checkpoint names the new head.
    let report = trail.verify();
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.checkpoint_seq, Some(9));
    let log = trail.open().await;
    assert_eq!(log.tail_loss(), None);
    log.close().await.expect("close");
}

/// What a missing checkpoint means is the owner's word: nothing for a trail
/// never checkpointed (an upgrade), a loss for one that was, even when the
/// directory and the checkpoint are both gone.
#[tokio::test]
async fn a_missing_checkpoint_means_what_the_owner_expects() {
    use ferrokms_audit::CheckpointExpectation::{NotYetWritten, Required};
    let (trail, _) = crashed().await;
    fs::remove_file(checkpoint_path(&trail.dir)).expect("rm checkpoint");
    let with = |checkpoint| AuditOptions {
        checkpoint,
        ..trail.options()
    };
    let log = AuditLog::open(&trail.dir, trail.signer(), with(NotYetWritten))
        .await
        .expect("a trail from before checkpoints opens");
    assert_eq!(log.tail_loss(), None);
    log.close().await.expect("close");
    assert!(checkpoint_path(&trail.dir).exists(), "and is checkpointed");

    fs::remove_file(checkpoint_path(&trail.dir)).expect("rm checkpoint");
    fs::remove_dir_all(&trail.dir).expect("rm trail");
    let err = AuditLog::open(&trail.dir, trail.signer(), with(Required))
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, AuditError::TailLost(d) if d.contains("missing")),
        "{err}"
    );
}

/// Under concurrent appends (many group commits), once an append is
/// acknowledged the checkpoint on disk names its record or a later one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_append_is_named_by_the_checkpoint() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    let trail = Trail::new();
    let log = trail.open().await;
    let path = checkpoint_path(&trail.dir);
    let acked = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..300)
        .map(|n| {
            let (log, path, acked) = (log.clone(), path.clone(), acked.clone());
            tokio::spawn(async move {
                log.append(&event(n)).await.expect("append");
                // Every record acknowledged so far has a sequence number at
                // most the checkpoint's, so their count is a lower bound.
                let acked_now = acked.fetch_add(1, Ordering::SeqCst) + 1;
                assert!(checkpoint_seq(&path) >= acked_now);
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("append task");
    }
    log.close().await.expect("close");
    let report = trail.verify();
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.checkpoint_seq, Some(300));
}

/// `lastSeq` of the checkpoint at `path`. It is rewritten in place while
/// this reads it, so a read may catch a write half done: such a read does
/// not parse and is taken again.
fn checkpoint_seq(path: &std::path::Path) -> u64 {
    loop {
        let text = fs::read_to_string(path).expect("read checkpoint");
        let body = text
            .lines()
            .next()
            .and_then(|line| serde_json::from_str::<serde_json::Value>(line).ok());
        if let Some(seq) = body.as_ref().and_then(|b| b["lastSeq"].as_u64()) {
            return seq;
        }
    }
}
