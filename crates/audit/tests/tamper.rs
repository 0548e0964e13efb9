//! Tampering with the trail, one way at a time: `verify` must catch each
//! and name the file and record (or digest) concerned.
//!
//! Every test starts from three closed files of five records each:
//! file 1 holds seq 1..5, file 2 seq 6..10, file 3 seq 11..15.

mod common;

use std::fs;

use common::{at_ms, Trail, BASE_MS};
use ferrokms_audit::{public_key_to_pem, read_public_key, verify, AuditSigningKey, Problem};

async fn three_files() -> Trail {
    let trail = Trail::new();
    trail.fill(0, 3, 5, false).await;
    assert_eq!(trail.logs().len(), 3);
    let report = trail.verify();
    assert!(report.is_intact(), "{report}");
    trail
}

fn stem(name: &str) -> String {
    name.split('.').next().expect("stem").to_owned()
}

fn has(problems: &[Problem], pred: impl Fn(&Problem) -> bool) -> bool {
    problems.iter().any(pred)
}

#[tokio::test]
async fn an_edited_byte_in_a_record_is_named_by_file_and_line() {
    let trail = three_files().await;
    let file2 = trail.logs()[1].clone();
    let mut lines = trail.lines(&file2);
    let at = lines[2]
        .windows(7)
        .position(|w| w == b"Decrypt")
        .expect("event name");
    lines[2][at + 6] = b'T';
    trail.write_lines(&file2, &lines);

    let report = trail.verify();
    let p = &report.problems;
    assert!(
        has(
            p,
            |x| matches!(x, Problem::RecordAltered { file, line: 3, .. } if *file == file2)
        ),
        "{report}"
    );
    assert!(has(
        p,
        |x| matches!(x, Problem::LogFileAltered { file, .. } if *file == file2)
    ));
    // Only file 2 is concerned.
    assert!(
        p.iter().all(|x| x.to_string().contains(&stem(&file2))),
        "{report}"
    );
}

#[tokio::test]
async fn a_record_forged_with_a_recomputed_hash_breaks_the_chain() {
    let trail = three_files().await;
    let file2 = trail.logs()[1].clone();
    let mut lines = trail.lines(&file2);
    // Rewrite line 2's event and give it a correct hash of its own.
    let text = String::from_utf8(lines[1].clone()).expect("utf8");
    let body_end = text.len() - 1 - 75;
    let body = text[..body_end].replace("Encrypt", "Decrypt");
    let hash = hex::encode(ferrokms_crypto::sha256(body.as_bytes()));
    lines[1] = format!("{body},\"hash\":\"{hash}\"}}\n").into_bytes();
    trail.write_lines(&file2, &lines);

    let report = trail.verify();
    assert!(
        has(
            &report.problems,
            |x| matches!(x, Problem::ChainBroken { file, line: 3 } if *file == file2)
        ),
        "{report}"
    );
    assert!(has(
        &report.problems,
        |x| matches!(x, Problem::LogFileAltered { file, .. } if *file == file2)
    ));
}

#[tokio::test]
async fn a_deleted_line_is_named_by_file_line_and_seq() {
    let trail = three_files().await;
    let file2 = trail.logs()[1].clone();
    let mut lines = trail.lines(&file2);
    lines.remove(2); // seq 8
    trail.write_lines(&file2, &lines);

    let report = trail.verify();
    let p = &report.problems;
    assert!(
        has(
            p,
            |x| matches!(x, Problem::RecordsMissing { file, line: 3, first_seq: 8, last_seq: 8 } if *file == file2)
        ),
        "{report}"
    );
    assert!(has(p, |x| matches!(
        x,
        Problem::DigestMismatch {
            field: "recordCount",
            ..
        }
    )));
    assert!(
        !has(p, |x| matches!(x, Problem::ChainBroken { .. })),
        "{report}"
    );
}

#[tokio::test]
async fn the_deleted_last_line_of_a_closed_file_is_found_through_its_digest() {
    let trail = three_files().await;
    let file2 = trail.logs()[1].clone();
    let mut lines = trail.lines(&file2);
    lines.pop(); // seq 10
    trail.write_lines(&file2, &lines);

    let report = trail.verify();
    assert!(
        has(
            &report.problems,
            |x| matches!(x, Problem::RecordsMissing { file, line: 5, first_seq: 10, last_seq: 10 } if *file == file2)
        ),
        "{report}"
    );
}

#[tokio::test]
async fn two_swapped_lines_are_reported_out_of_order() {
    let trail = three_files().await;
    let file2 = trail.logs()[1].clone();
    let mut lines = trail.lines(&file2);
    lines.swap(1, 2); // seq 7 and 8
    trail.write_lines(&file2, &lines);

    let report = trail.verify();
    let p = &report.problems;
    assert!(
        has(
            p,
            |x| matches!(x, Problem::RecordsOutOfOrder { file, first_line: 3, first_seq: 7, .. } if *file == file2)
        ),
        "{report}"
    );
    assert!(
        !has(p, |x| matches!(x, Problem::RecordsMissing { .. })),
        "{report}"
    );
    assert!(has(p, |x| matches!(x, Problem::LogFileAltered { .. })));
}

#[tokio::test]
async fn a_deleted_closed_file_is_named_by_number() {
    let trail = three_files().await;
    let file2 = trail.logs()[1].clone();
    let s = stem(&file2);
    for suffix in [".jsonl", ".digest.json", ".digest.sig"] {
        fs::remove_file(trail.path(&format!("{s}{suffix}"))).expect("rm");
    }
    let file3 = trail.logs()[1].clone();

    let report = trail.verify();
    assert_eq!(
        report.problems,
        vec![Problem::FilesMissing {
            first_number: 2,
            last_number: 2,
            next_file: file3
        }],
        "{report}"
    );
}

#[tokio::test]
async fn a_deleted_log_file_whose_digest_remains_is_named() {
    let trail = three_files().await;
    let file2 = trail.logs()[1].clone();
    fs::remove_file(trail.path(&file2)).expect("rm");
    let report = trail.verify();
    assert_eq!(
        report.problems,
        vec![Problem::LogFileMissing { file: file2 }],
        "{report}"
    );
}

#[tokio::test]
async fn the_first_file_deleted_is_missing_from_the_start() {
    let trail = three_files().await;
    let s = stem(&trail.logs()[0]);
    for suffix in [".jsonl", ".digest.json", ".digest.sig"] {
        fs::remove_file(trail.path(&format!("{s}{suffix}"))).expect("rm");
    }
    let report = trail.verify();
    assert!(
        has(&report.problems, |x| matches!(
            x,
            Problem::FilesMissing {
                first_number: 1,
                last_number: 1,
                ..
            }
        )),
        "{report}"
    );
}

#[tokio::test]
async fn an_edited_digest_fails_its_signature_and_the_next_link() {
    let trail = three_files().await;
    let digest2 = trail.digests()[1].clone();
    let digest3 = trail.digests()[2].clone();
    let text = fs::read_to_string(trail.path(&digest2)).expect("read");
    fs::write(
        trail.path(&digest2),
        text.replace("\"recordCount\": 5", "\"recordCount\": 4"),
    )
    .expect("write");

    let report = trail.verify();
    let p = &report.problems;
    assert!(
        has(
            p,
            |x| matches!(x, Problem::DigestSignatureInvalid { digest, other_key: false } if *digest == digest2)
        ),
        "{report}"
    );
    assert!(has(
        p,
        |x| matches!(x, Problem::PreviousDigestAltered { digest, previous } if *digest == digest3 && *previous == digest2)
    ));
    assert!(has(
        p,
        |x| matches!(x, Problem::DigestMismatch { digest, field: "recordCount", .. } if *digest == digest2)
    ));
}

#[tokio::test]
async fn a_deleted_signature_is_named() {
    let trail = three_files().await;
    let s = stem(&trail.logs()[0]);
    fs::remove_file(trail.path(&format!("{s}.digest.sig"))).expect("rm");
    let report = trail.verify();
    assert_eq!(
        report.problems,
        vec![Problem::DigestSignatureMissing {
            digest: format!("{s}.digest.json")
        }]
    );
}

#[tokio::test]
async fn a_replaced_public_key_fails_every_signature() {
    let trail = three_files().await;
    let (other, _) = AuditSigningKey::generate().expect("key");
    fs::write(
        trail.path("audit-public-key.pem"),
        public_key_to_pem(&other.public_key_der()),
    )
    .expect("write");
    let key = read_public_key(&trail.dir).expect("pem");
    let report = verify(&trail.dir, &key, None).expect("verify");
    let invalid = report
        .problems
        .iter()
        .filter(|x| {
            matches!(
                x,
                Problem::DigestSignatureInvalid {
                    other_key: true,
                    ..
                }
            )
        })
        .count();
    assert_eq!(invalid, 3, "{report}");
    assert_eq!(report.digests_verified, 0);
    // And the server refuses to write under the substituted key.
    let err = ferrokms_audit::AuditLog::open(&trail.dir, trail.signer(), trail.options())
        .await
        .expect_err("key mismatch");
    assert!(matches!(err, ferrokms_audit::AuditError::KeyMismatch));
}

#[tokio::test]
async fn reordered_files_are_detected() {
    let trail = three_files().await;
    let logs = trail.logs();
    let (s2, s3) = (stem(&logs[1]), stem(&logs[2]));
    // Swap the names of files 2 and 3 (logs, digests and signatures).
    for suffix in [".jsonl", ".digest.json", ".digest.sig"] {
        let (a, b) = (
            trail.path(&format!("{s2}{suffix}")),
            trail.path(&format!("{s3}{suffix}")),
        );
        let tmp = trail.path("swap.tmp");
        fs::rename(&a, &tmp).expect("rename");
        fs::rename(&b, &a).expect("rename");
        fs::rename(&tmp, &b).expect("rename");
    }
    let report = trail.verify();
    let p = &report.problems;
    assert!(
        has(
            p,
            |x| matches!(x, Problem::DigestForOtherFile { digest, .. } if *digest == format!("{s2}.digest.json"))
        ),
        "{report}"
    );
    assert!(
        has(
            p,
            |x| matches!(x, Problem::RecordsOutOfOrder { file, first_seq: 6, last_seq: 10, .. } if *file == format!("{s3}.jsonl"))
        ),
        "{report}"
    );
}

#[tokio::test]
async fn tampering_in_the_open_file_is_caught_too() {
    let trail = Trail::new();
    let log = trail.fill(0, 2, 5, true).await.expect("open");
    let open = trail.logs()[1].clone();
    let mut lines = trail.lines(&open);
    lines.remove(1);
    trail.write_lines(&open, &lines);
    let report = trail.verify();
    assert_eq!(report.unsigned_file.as_deref(), Some(open.as_str()));
    assert!(
        has(
            &report.problems,
            |x| matches!(x, Problem::RecordsMissing { file, line: 2, first_seq: 7, .. } if *file == open)
        ),
        "{report}"
    );
    drop(log);
}

#[tokio::test]
async fn from_starts_at_the_first_file_reaching_the_date() {
    let trail = three_files().await;
    // Event n is at BASE + n minutes: file 1 ends at minute 4, file 2 at 9.
    let from = Some(at_ms(BASE_MS + 7 * 60_000));

    // A record altered in file 1 is outside the range checked...
    let file1 = trail.logs()[0].clone();
    let mut lines = trail.lines(&file1);
    lines[0][10] ^= 1;
    trail.write_lines(&file1, &lines);
    let report = verify(&trail.dir, &trail.public_key, from).expect("verify");
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.files_checked, trail.logs()[1..].to_vec());
    assert_eq!(report.digests_verified, 3, "digest 1 still links the start");
    assert!(!trail.verify().is_intact());

    // ...but the digest before the start is still checked.
    let digest1 = trail.digests()[0].clone();
    let text = fs::read_to_string(trail.path(&digest1)).expect("read");
    fs::write(
        trail.path(&digest1),
        text.replace("\"firstSeq\": 1", "\"firstSeq\": 2"),
    )
    .expect("write");
    let report = verify(&trail.dir, &trail.public_key, from).expect("verify");
    assert!(
        has(
            &report.problems,
            |x| matches!(x, Problem::DigestSignatureInvalid { digest, .. } if *digest == digest1)
        ),
        "{report}"
    );
}

#[tokio::test]
async fn from_tolerates_files_removed_before_the_date() {
    let trail = three_files().await;
    let s = stem(&trail.logs()[0]);
    for suffix in [".jsonl", ".digest.json", ".digest.sig"] {
        fs::remove_file(trail.path(&format!("{s}{suffix}"))).expect("rm");
    }
    let from = Some(at_ms(BASE_MS + 7 * 60_000));
    let report = verify(&trail.dir, &trail.public_key, from).expect("verify");
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.files_checked.len(), 2);
}
