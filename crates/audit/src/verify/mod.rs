//! [`verify`]: proves the trail intact under a public key, or says exactly
//! where it is not.
//!
//! Files are taken in number order. For each: the digest's signature, the
//! log file it names, the previous digest it names (and that digest's
//! hash); then every record of the log file (own hash, link to the record
//! before, sequence number); then the digest's statements against what the
//! file holds. The newest file may be open: its records are checked and
//! the report says it is not yet signed.
//!
//! With `from`, checking starts at the first file whose latest event is at
//! or after that instant; the digest just before it, when present, is
//! still checked and links the start to the rest of the trail.
//!
//! Last, the trail must reach the record its signed checkpoint (beside the
//! directory, `checkpoint.rs`) names as the last one acknowledged: records
//! cut from the end of the open file, or files deleted, show there.
//!
//! Verification reads only; it is blocking (run it off the async runtime).

mod file;
mod report;
mod sequence;

use std::path::Path;
use std::time::SystemTime;

use ferrokms_crypto::verify_audit_signature;

use crate::checkpoint::{checkpoint_path, read_checkpoint, Checkpoint, CheckpointReadError};
use crate::clock::system_time_to_ms;
use crate::digest::{read_digest, read_signature, DigestLink, DigestReadError, ReadDigest};
use crate::naming::{self, Entry};
use crate::record::{parse_hex_hash, Hash, GENESIS_PREV};
use crate::times::{format_rfc3339, parse_rfc3339};
use crate::AuditError;
use file::{scan_log, ScannedFile};
use sequence::{Loc, SeqTracker};

pub use report::{Problem, VerifyReport};

/// Checks the trail in `dir` against `public_key_der` (DER
/// `SubjectPublicKeyInfo` of the Ed25519 audit key, e.g. from
/// [`crate::read_public_key`] or [`crate::public_key_from_pem`]), from the
/// beginning or from the first file reaching `from`.
///
/// Integrity findings are in the report; an error means the check could
/// not run (unreadable directory or file, malformed key).
pub fn verify(
    dir: &Path,
    public_key_der: &[u8],
    from: Option<SystemTime>,
) -> Result<VerifyReport, AuditError> {
    verify_with(
        dir,
        public_key_der,
        VerifyOptions {
            from,
            ..VerifyOptions::default()
        },
    )
}

/// What [`verify_with`] checks beyond the files.
#[derive(Clone, Copy, Debug, Default)]
pub struct VerifyOptions {
    /// Start at the first file reaching this instant (see [`verify`]).
    pub from: Option<SystemTime>,
    /// The trail has been checkpointed before (its owner recorded that), so
    /// a missing checkpoint is a problem, even beside an empty trail.
    pub checkpoint_required: bool,
}

/// [`verify`] with options.
pub fn verify_with(
    dir: &Path,
    public_key_der: &[u8],
    options: VerifyOptions,
) -> Result<VerifyReport, AuditError> {
    let from = options.from;
    if !is_ed25519_spki(public_key_der) {
        return Err(AuditError::InvalidPublicKey(
            "not an Ed25519 SubjectPublicKeyInfo",
        ));
    }
    // Read before the files: a live writer only adds records after it.
    let checkpoint = read_checkpoint(dir, public_key_der);
    // A removed directory is an empty trail when a checkpoint says it held records.
    let entries =
        if !dir.exists() && (options.checkpoint_required || matches!(checkpoint, Ok(Some(_)))) {
            Vec::new()
        } else {
            naming::list(dir)?.entries
        };
    let mut v = Verifier {
        dir,
        key: public_key_der,
        report: VerifyReport {
            public_key_sha256: hex::encode(ferrokms_crypto::sha256(public_key_der)),
            ..VerifyReport::default()
        },
        tracker: SeqTracker::default(),
        names: Vec::new(),
        expected_digest: None,
        expected_prev: None,
        checkpoint: None,
        reached_checkpoint: false,
        max_seq: None,
    };
    match checkpoint {
        Ok(None) if options.checkpoint_required => {
            v.report.problems.push(Problem::CheckpointMissing {
                file: checkpoint_path(dir).display().to_string(),
            });
        }
        Ok(c) => v.checkpoint = c,
        Err(CheckpointReadError::Io(e)) => return Err(e),
        Err(CheckpointReadError::Invalid(reason)) => {
            v.report.problems.push(Problem::CheckpointUnusable {
                file: checkpoint_path(dir).display().to_string(),
                reason,
            });
        }
    }
    let start = match from {
        Some(t) => start_index(dir, &entries, system_time_to_ms(t)),
        None => 0,
    };
    let Some(first) = entries.get(start) else {
        v.check_checkpoint(&entries);
        return Ok(v.report);
    };
    v.set_up_start(
        start.checked_sub(1).and_then(|i| entries.get(i)),
        first,
        from.is_some(),
    )?;
    let newest = entries.len() - 1;
    for (i, entry) in entries.iter().enumerate().skip(start) {
        if i > start {
            v.check_numbering(&entries[i - 1], entry);
        }
        v.check_entry(entry, i == newest)?;
    }
    let names = std::mem::take(&mut v.names);
    let tracker = std::mem::take(&mut v.tracker);
    v.report.problems.extend(tracker.finish(&names));
    v.check_checkpoint(&entries);
    Ok(v.report)
}

/// Whether `der` has the shape of an Ed25519 `SubjectPublicKeyInfo`.
fn is_ed25519_spki(der: &[u8]) -> bool {
    const HEADER: [u8; 12] = [
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.len() == 44 && der.starts_with(&HEADER)
}

/// The first file whose latest event is not before `from_ms` (a file
/// without a readable digest counts as reaching it).
fn start_index(dir: &Path, entries: &[Entry], from_ms: i64) -> usize {
    entries
        .iter()
        .position(|e| {
            !e.has_digest
                || read_digest(dir, e).map_or(true, |d| {
                    d.digest
                        .latest_event_time
                        .as_deref()
                        .and_then(parse_rfc3339)
                        .is_none_or(|latest| latest >= from_ms)
                })
        })
        .unwrap_or(entries.len())
}

struct Verifier<'a> {
    dir: &'a Path,
    key: &'a [u8],
    report: VerifyReport,
    tracker: SeqTracker,
    /// Log file names by index, as the tracker refers to them.
    names: Vec<String>,
    /// The digest the next digest must name: `None` when unknown,
    /// `Some(None)` at the start of the trail.
    expected_digest: Option<Option<DigestLink>>,
    /// The hash the next record must carry as `prev`, when known.
    expected_prev: Option<Hash>,
    /// The last acknowledged record, as the checkpoint states it.
    checkpoint: Option<Checkpoint>,
    /// Whether that record was found in the file the checkpoint names.
    reached_checkpoint: bool,
    /// The highest sequence number of a valid record found.
    max_seq: Option<u64>,
}

impl Verifier<'_> {
    /// Reports the checkpoint's record missing unless it was found (or its
    /// file was left out by `from`).
    fn check_checkpoint(&mut self, entries: &[Entry]) {
        let Some(Checkpoint {
            log_file: Some(file),
            last_seq,
            ..
        }) = &self.checkpoint
        else {
            return;
        };
        self.report.checkpoint_seq = Some(*last_seq);
        let checked = self.report.files_checked.contains(file);
        let skipped = !checked && entries.iter().any(|e| e.has_log && e.log_name() == *file);
        if self.reached_checkpoint || skipped {
            return;
        }
        self.report
            .problems
            .push(Problem::AcknowledgedRecordsMissing {
                file: file.clone(),
                file_present: checked,
                last_seq: *last_seq,
                trail_last_seq: self.max_seq,
            });
    }

    /// Sets what the first checked file must continue from.
    fn set_up_start(
        &mut self,
        before: Option<&Entry>,
        first: &Entry,
        partial: bool,
    ) -> Result<(), AuditError> {
        match before {
            Some(prev) if prev.number + 1 == first.number && prev.has_digest => {
                if let Some(d) = self.read_checked_digest(prev)? {
                    self.continue_after(prev, &d.0, d.1);
                }
            }
            Some(prev) => self.check_numbering(prev, first),
            None if first.number == 1 => {
                self.expected_digest = Some(None);
                self.expected_prev = Some(GENESIS_PREV);
                self.tracker.restart_after(Some(0));
            }
            // The beginning was removed; with `from` that is retention.
            None if !partial => self.report.problems.push(Problem::FilesMissing {
                first_number: 1,
                last_number: first.number - 1,
                next_file: first.log_name(),
            }),
            None => {}
        }
        Ok(())
    }

    /// Expects the next file to continue from `entry`'s digest.
    fn continue_after(&mut self, entry: &Entry, d: &ReadDigest, trusted: bool) {
        self.expected_digest = Some(Some(d.link(entry.digest_name())));
        if trusted {
            self.expected_prev = parse_hex_hash(d.digest.last_record_hash.as_bytes());
            self.tracker.restart_after(Some(d.digest.last_seq));
        }
    }

    fn check_numbering(&mut self, prev: &Entry, entry: &Entry) {
        if entry.number == prev.number {
            self.report.problems.push(Problem::DuplicateFileNumber {
                number: entry.number,
                file: entry.log_name(),
            });
        } else if entry.number != prev.number + 1 {
            self.report.problems.push(Problem::FilesMissing {
                first_number: prev.number + 1,
                last_number: entry.number - 1,
                next_file: entry.log_name(),
            });
            // Already reported: do not report the same hole again as
            // missing records and broken links.
            self.expected_digest = None;
            self.expected_prev = None;
            self.tracker.restart_after(None);
        }
    }

    fn check_entry(&mut self, entry: &Entry, newest: bool) -> Result<(), AuditError> {
        let log_name = entry.log_name();
        let digest_name = entry.digest_name();
        let digest = if entry.has_digest {
            self.read_checked_digest(entry)?
        } else {
            if newest && entry.has_log {
                self.report.unsigned_file = Some(log_name.clone());
            } else if entry.has_log {
                self.report.problems.push(Problem::DigestMissing {
                    file: log_name.clone(),
                });
            }
            None
        };
        if let Some((d, _)) = &digest {
            if d.digest.log_file != log_name {
                self.report.problems.push(Problem::DigestForOtherFile {
                    digest: digest_name.clone(),
                    names: d.digest.log_file.clone(),
                });
            }
            self.check_digest_link(&digest_name, d);
        }
        if entry.has_log {
            let file = self.names.len();
            self.names.push(log_name.clone());
            self.report.files_checked.push(log_name.clone());
            let closed = entry.has_digest || !newest;
            let want = self
                .checkpoint
                .as_ref()
                .filter(|c| c.log_file.as_deref() == Some(log_name.as_str()))
                .map(|c| (c.last_seq, c.last_hash));
            let scanned = scan_log(
                self.dir,
                &log_name,
                file,
                self.expected_prev,
                want,
                closed,
                &mut self.tracker,
                &mut self.report.problems,
            )?;
            self.report.records_checked += scanned.lines;
            self.reached_checkpoint |= scanned.found_wanted;
            self.max_seq = self.max_seq.max(scanned.max_seq);
            if !closed {
                self.report.torn_tail_bytes = scanned.torn_tail;
            }
            self.expected_prev = scanned.next_prev;
            if let Some((d, trusted)) = &digest {
                self.compare(&digest_name, &log_name, d, &scanned);
                if *trusted {
                    let end = Loc {
                        file,
                        line: scanned.lines + 1,
                    };
                    self.tracker.expect_through(d.digest.last_seq, end);
                    self.expected_prev = parse_hex_hash(d.digest.last_record_hash.as_bytes());
                }
            }
        } else {
            self.report
                .problems
                .push(Problem::LogFileMissing { file: log_name });
            // Already reported: continue from what the digest signed, if trusted.
            match &digest {
                Some((d, true)) => {
                    self.expected_prev = parse_hex_hash(d.digest.last_record_hash.as_bytes());
                    self.tracker.restart_after(Some(d.digest.last_seq));
                }
                _ => {
                    self.expected_prev = None;
                    self.tracker.restart_after(None);
                }
            }
        }
        self.expected_digest = digest.map(|(d, _)| Some(d.link(digest_name)));
        Ok(())
    }

    /// Reads `entry`'s digest and checks its signature. `None` (with a
    /// problem reported) if it cannot be parsed; the flag says whether the
    /// signature verified.
    fn read_checked_digest(
        &mut self,
        entry: &Entry,
    ) -> Result<Option<(ReadDigest, bool)>, AuditError> {
        let digest_name = entry.digest_name();
        let d = match read_digest(self.dir, entry) {
            Ok(d) => d,
            Err(DigestReadError::Io(e)) => return Err(e),
            Err(DigestReadError::Invalid(reason)) => {
                self.report.problems.push(Problem::DigestUnreadable {
                    digest: digest_name,
                    reason,
                });
                return Ok(None);
            }
        };
        let trusted = match read_signature(self.dir, entry)? {
            None => {
                self.report.problems.push(Problem::DigestSignatureMissing {
                    digest: digest_name,
                });
                false
            }
            Some(sig) if verify_audit_signature(self.key, &d.bytes, &sig) => {
                self.report.digests_verified += 1;
                true
            }
            Some(_) => {
                let other_key = d.digest.public_key_sha256 != self.report.public_key_sha256;
                self.report.problems.push(Problem::DigestSignatureInvalid {
                    digest: digest_name,
                    other_key,
                });
                false
            }
        };
        Ok(Some((d, trusted)))
    }

    /// Checks that `d` names the digest before it, with its exact hash.
    fn check_digest_link(&mut self, digest_name: &str, d: &ReadDigest) {
        let Some(expected) = &self.expected_digest else {
            return;
        };
        let found = &d.digest.previous_digest_file;
        match (expected, found) {
            (None, None) => {}
            (Some(e), Some(f)) if e.file == *f => {
                if d.digest.previous_digest_sha256.as_deref()
                    != Some(hex::encode(e.sha256).as_str())
                {
                    self.report.problems.push(Problem::PreviousDigestAltered {
                        digest: digest_name.to_owned(),
                        previous: f.clone(),
                    });
                }
            }
            _ => self.report.problems.push(Problem::DigestChainBroken {
                digest: digest_name.to_owned(),
                expected: expected.as_ref().map(|e| e.file.clone()),
                found: found.clone(),
            }),
        }
    }

    /// Compares a digest's statements with the log file as found.
    fn compare(&mut self, digest_name: &str, log_name: &str, d: &ReadDigest, s: &ScannedFile) {
        let dg = &d.digest;
        let sha = hex::encode(s.sha256);
        if sha != dg.log_file_sha256 || s.bytes != dg.log_file_bytes {
            self.report.problems.push(Problem::LogFileAltered {
                file: log_name.to_owned(),
                detail: format!(
                    "signed: sha256 {} of {} bytes; found: sha256 {} of {} bytes",
                    dg.log_file_sha256, dg.log_file_bytes, sha, s.bytes
                ),
            });
        }
        let mut checks: Vec<(&'static str, String, String)> = vec![(
            "recordCount",
            dg.record_count.to_string(),
            s.lines.to_string(),
        )];
        // With altered lines, which records are first and last is unknown:
        // the altered lines are already reported.
        if let Some(sum) = s
            .summary
            .finish(s.sha256, s.bytes)
            .filter(|_| s.altered == 0)
        {
            checks.extend([
                (
                    "firstSeq",
                    dg.first_seq.to_string(),
                    sum.first_seq.to_string(),
                ),
                ("lastSeq", dg.last_seq.to_string(), sum.last_seq.to_string()),
                (
                    "firstRecordHash",
                    dg.first_record_hash.clone(),
                    hex::encode(sum.first_hash),
                ),
                (
                    "lastRecordHash",
                    dg.last_record_hash.clone(),
                    hex::encode(sum.last_hash),
                ),
                (
                    "earliestEventTime",
                    opt(&dg.earliest_event_time),
                    opt(&sum.earliest_ms.map(format_rfc3339)),
                ),
                (
                    "latestEventTime",
                    opt(&dg.latest_event_time),
                    opt(&sum.latest_ms.map(format_rfc3339)),
                ),
            ]);
        }
        if let Some(first_prev) = s.first_prev {
            checks.push((
                "previousRecordHash",
                dg.previous_record_hash.clone(),
                hex::encode(first_prev),
            ));
        }
        for (field, signed, found) in checks {
            if signed != found {
                self.report.problems.push(Problem::DigestMismatch {
                    digest: digest_name.to_owned(),
                    field,
                    signed,
                    found,
                });
            }
        }
    }
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "none".to_owned())
}
