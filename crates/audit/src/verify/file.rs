//! Checking the records of one log file: each line's own hash, its link to
//! the line before, and its sequence number, while hashing the whole file
//! for comparison with its digest.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use super::report::Problem;
use super::sequence::{Loc, SeqTracker};
use crate::digest::SummaryBuilder;
use crate::error::IoContext;
use crate::record::{decode_head, Hash};
use crate::scan::LineReader;
use crate::AuditError;

/// What one pass over a log file found.
#[derive(Debug)]
pub(crate) struct ScannedFile {
    /// SHA-256 of the file's bytes.
    pub sha256: Hash,
    /// Size of the file.
    pub bytes: u64,
    /// Complete lines (valid or not): what a digest counts as records.
    pub lines: u64,
    /// Lines that are not valid records.
    pub altered: u64,
    /// The valid records.
    pub summary: SummaryBuilder,
    /// `prev` of the first line, if it is a valid record.
    pub first_prev: Option<Hash>,
    /// Bytes of an incomplete last line (open file only).
    pub torn_tail: u64,
    /// The hash the next record must carry as `prev`, if known.
    pub next_prev: Option<Hash>,
    /// The highest sequence number of a valid record.
    pub max_seq: Option<u64>,
    /// Whether the record asked for (seq and hash) was found.
    pub found_wanted: bool,
}

/// Reads `dir/name` (index `file` in the report) checking every record.
/// `expected_prev` is the hash the first record must link to, if known.
/// In a closed file an incomplete last line is an altered record; in the
/// open one it is a write in progress. `want` is a record (seq, hash) to
/// look for: the checkpoint's.
#[allow(clippy::too_many_arguments)] // one pass, several outputs; a struct would only rename them
pub(crate) fn scan_log(
    dir: &Path,
    name: &str,
    file: usize,
    expected_prev: Option<Hash>,
    want: Option<(u64, Hash)>,
    closed: bool,
    tracker: &mut SeqTracker,
    problems: &mut Vec<Problem>,
) -> Result<ScannedFile, AuditError> {
    let path = dir.join(name);
    let handle = File::open(&path).at(&path)?;
    let mut reader = LineReader::new(BufReader::new(handle), true);
    let mut out = ScannedFile {
        sha256: [0; 32],
        bytes: 0,
        lines: 0,
        altered: 0,
        summary: SummaryBuilder::default(),
        first_prev: None,
        torn_tail: 0,
        next_prev: expected_prev,
        max_seq: None,
        found_wanted: false,
    };
    let mut buf = Vec::new();
    while let Some(line) = reader.next_line(&mut buf).at(&path)? {
        let at = Loc {
            file,
            line: line.no,
        };
        if !line.complete && !closed {
            out.torn_tail = line.end - line.start;
            break;
        }
        out.lines += 1;
        let head = if line.oversize {
            Err(("line too long", None))
        } else if !line.complete {
            Err(("incomplete last line", None))
        } else {
            decode_head(&buf).map_err(|d| (d.reason, d.declared_hash))
        };
        match head {
            Err((reason, declared_hash)) => {
                problems.push(Problem::RecordAltered {
                    file: name.to_owned(),
                    line: line.no,
                    reason: reason.to_owned(),
                });
                tracker.altered(at);
                out.altered += 1;
                // If only the event was edited, the line still declares the
                // hash the next record links to.
                out.next_prev = declared_hash;
            }
            Ok(head) => {
                if out.next_prev.is_some_and(|p| p != head.prev) {
                    tracker.chain_break(at);
                }
                tracker.observe(head.seq, at);
                if line.no == 1 {
                    out.first_prev = Some(head.prev);
                }
                out.summary
                    .add(head.seq, &head.prev, &head.hash, head.event_ms);
                out.next_prev = Some(head.hash);
                out.max_seq = out.max_seq.max(Some(head.seq));
                out.found_wanted |= want == Some((head.seq, head.hash));
            }
        }
    }
    out.bytes = reader.offset();
    out.sha256 = reader.finish();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{encode_record, GENESIS_PREV};

    fn scan(data: &[u8], closed: bool) -> (ScannedFile, Vec<Problem>) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("f"), data).expect("write");
        let mut tracker = SeqTracker::default();
        tracker.restart_after(Some(0));
        let mut problems = Vec::new();
        let scanned = scan_log(
            dir.path(),
            "f",
            0,
            Some(GENESIS_PREV),
            None,
            closed,
            &mut tracker,
            &mut problems,
        )
        .expect("scan");
        problems.extend(tracker.finish(&["f".to_owned()]));
        (scanned, problems)
    }

    fn three() -> Vec<u8> {
        let mut data = Vec::new();
        let h = encode_record(1, &GENESIS_PREV, b"{}", &mut data);
        let h = encode_record(2, &h, b"{}", &mut data);
        encode_record(3, &h, b"{}", &mut data);
        data
    }

    #[test]
    fn a_valid_file_has_no_problem() {
        let data = three();
        let (s, p) = scan(&data, true);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!((s.lines, s.bytes), (3, data.len() as u64));
        assert_eq!(s.sha256, ferrokms_crypto::sha256(&data));
        assert_eq!(s.first_prev, Some(GENESIS_PREV));
    }

    #[test]
    fn a_torn_tail_is_a_problem_only_when_closed() {
        let mut data = three();
        data.extend_from_slice(b"{\"seq\":4");
        let (s, p) = scan(&data, false);
        assert!(p.is_empty());
        assert_eq!(s.torn_tail, 8);
        let (_, p) = scan(&data, true);
        assert!(
            matches!(&p[..], [Problem::RecordAltered { line: 4, .. }]),
            "{p:?}"
        );
    }
}
