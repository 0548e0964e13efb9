//! What [`crate::verify`] found: a [`VerifyReport`] and its [`Problem`]s.
//!
//! Every problem names the file (and, for records, the line and sequence
//! numbers) where the trail stops being what was signed, so an operator
//! can go straight to it. The `Display` texts are meant for the CLI.

use std::fmt;

/// One way in which the trail differs from what was written and signed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The line is not the record that was written: its hash does not match
    /// its contents, or it is not a record at all.
    RecordAltered {
        /// Log file name.
        file: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong with the line.
        reason: String,
    },
    /// Records that should be here are not: deleted (or moved elsewhere
    /// where they were not found).
    RecordsMissing {
        /// Log file where the gap shows.
        file: String,
        /// The line before which they are missing (one past the last line
        /// when they are missing from the end of the file).
        line: u64,
        /// First missing sequence number.
        first_seq: u64,
        /// Last missing sequence number.
        last_seq: u64,
    },
    /// Records found after records that follow them in the trail: lines or
    /// files moved.
    RecordsOutOfOrder {
        /// Log file where the displaced records are.
        file: String,
        /// Their first line.
        first_line: u64,
        /// Their last line.
        last_line: u64,
        /// First sequence number.
        first_seq: u64,
        /// Last sequence number.
        last_seq: u64,
    },
    /// Records whose sequence numbers were already seen: copies.
    RecordsDuplicated {
        /// Log file where the copies are.
        file: String,
        /// First line of the copies.
        first_line: u64,
        /// Last line of the copies.
        last_line: u64,
        /// First sequence number.
        first_seq: u64,
        /// Last sequence number.
        last_seq: u64,
    },
    /// A record does not carry the hash of the record before it, and
    /// nothing else explains why: the record before was replaced (with a
    /// recomputed hash), or this one was.
    ChainBroken {
        /// Log file name.
        file: String,
        /// Line of the record whose `prev` does not match.
        line: u64,
    },
    /// The log file's bytes are not those its digest signed.
    LogFileAltered {
        /// Log file name.
        file: String,
        /// SHA-256 and size, as signed and as found.
        detail: String,
    },
    /// A field of a digest disagrees with its log file.
    DigestMismatch {
        /// Digest file name.
        digest: String,
        /// The field (`recordCount`, `lastRecordHash`, …).
        field: &'static str,
        /// The value signed.
        signed: String,
        /// The value found in the log file.
        found: String,
    },
    /// A digest file cannot be read as a digest.
    DigestUnreadable {
        /// Digest file name.
        digest: String,
        /// Why.
        reason: String,
    },
    /// A digest's signature does not verify under the public key given.
    DigestSignatureInvalid {
        /// Digest file name.
        digest: String,
        /// Whether the digest says it was signed by another key than the
        /// one given (a replaced public key, or a digest from elsewhere).
        other_key: bool,
    },
    /// A digest has no signature file.
    DigestSignatureMissing {
        /// Digest file name.
        digest: String,
    },
    /// A log file other than the newest has no digest: it was never closed
    /// properly, or its digest was deleted.
    DigestMissing {
        /// Log file name.
        file: String,
    },
    /// A digest describes another log file than the one it sits beside:
    /// files renamed or reordered.
    DigestForOtherFile {
        /// Digest file name.
        digest: String,
        /// The log file the digest names.
        names: String,
    },
    /// A digest names another previous digest than the one before it.
    DigestChainBroken {
        /// Digest file name.
        digest: String,
        /// The previous digest present in the directory (if any).
        expected: Option<String>,
        /// The previous digest this digest names (if any).
        found: Option<String>,
    },
    /// The previous digest's bytes are not those the next digest signed.
    PreviousDigestAltered {
        /// The digest that names it.
        digest: String,
        /// The altered previous digest.
        previous: String,
    },
    /// A digest is present but its log file is not.
    LogFileMissing {
        /// The missing log file.
        file: String,
    },
    /// Whole files (log and digest) are absent from the numbering.
    FilesMissing {
        /// First missing file number.
        first_number: u64,
        /// Last missing file number.
        last_number: u64,
        /// The file after the hole.
        next_file: String,
    },
    /// The signed checkpoint names a last acknowledged record that the
    /// trail no longer holds: records cut from the end of the newest file,
    /// or the file (or every file) deleted.
    AcknowledgedRecordsMissing {
        /// The log file the checkpoint names.
        file: String,
        /// Whether that file is still there (shortened) or gone.
        file_present: bool,
        /// The last acknowledged sequence number.
        last_seq: u64,
        /// The highest sequence number the trail still holds.
        trail_last_seq: Option<u64>,
    },
    /// The trail has been checkpointed before, but the checkpoint beside
    /// the directory is gone: what followed the last digest may be lost.
    CheckpointMissing {
        /// Where the checkpoint should be.
        file: String,
    },
    /// The checkpoint beside the directory cannot be read, or its signature
    /// does not verify (edited, or from another key).
    CheckpointUnusable {
        /// The checkpoint's path.
        file: String,
        /// Why.
        reason: String,
    },
    /// Two files carry the same number.
    DuplicateFileNumber {
        /// The number.
        number: u64,
        /// The second file with it.
        file: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RecordAltered { file, line, reason } => {
                write!(f, "{file} line {line}: record altered ({reason})")
            }
            Self::RecordsMissing {
                file,
                line,
                first_seq,
                last_seq,
            } => write!(
                f,
                "{file} line {line}: {} missing before this line",
                seq_range(*first_seq, *last_seq)
            ),
            Self::RecordsOutOfOrder {
                file,
                first_line,
                last_line,
                first_seq,
                last_seq,
            } => {
                write!(
                    f,
                    "{file} {}: {} out of order (moved after later records)",
                    line_range(*first_line, *last_line),
                    seq_range(*first_seq, *last_seq)
                )
            }
            Self::RecordsDuplicated {
                file,
                first_line,
                last_line,
                first_seq,
                last_seq,
            } => {
                write!(
                    f,
                    "{file} {}: {} duplicated",
                    line_range(*first_line, *last_line),
                    seq_range(*first_seq, *last_seq)
                )
            }
            Self::ChainBroken { file, line } => write!(
                f,
                "{file} line {line}: chain broken (this record or the one before it was replaced)"
            ),
            Self::LogFileAltered { file, detail } => {
                write!(f, "{file}: file altered since it was signed ({detail})")
            }
            Self::DigestMismatch {
                digest,
                field,
                signed,
                found,
            } => {
                write!(
                    f,
                    "{digest}: {field} signed as {signed}, log file has {found}"
                )
            }
            Self::DigestUnreadable { digest, reason } => {
                write!(f, "{digest}: unreadable ({reason})")
            }
            Self::DigestSignatureInvalid { digest, other_key } => {
                if *other_key {
                    write!(
                        f,
                        "{digest}: signature invalid (signed by another key than the one given)"
                    )
                } else {
                    write!(f, "{digest}: signature invalid (digest altered)")
                }
            }
            Self::DigestSignatureMissing { digest } => {
                write!(f, "{digest}: signature file missing")
            }
            Self::DigestMissing { file } => write!(f, "{file}: closed file without digest"),
            Self::DigestForOtherFile { digest, names } => {
                write!(
                    f,
                    "{digest}: describes {names} (files renamed or reordered)"
                )
            }
            Self::DigestChainBroken {
                digest,
                expected,
                found,
            } => write!(
                f,
                "{digest}: names {} as previous digest, but the previous one present is {}",
                found.as_deref().unwrap_or("none"),
                expected.as_deref().unwrap_or("none")
            ),
            Self::PreviousDigestAltered { digest, previous } => {
                write!(
                    f,
                    "{previous}: altered (its SHA-256 differs from the one {digest} signed)"
                )
            }
            Self::LogFileMissing { file } => write!(f, "{file}: missing (its digest is present)"),
            Self::FilesMissing {
                first_number,
                last_number,
                next_file,
            } => {
                let which = if first_number == last_number {
                    format!("file number {first_number} is")
                } else {
                    format!("file numbers {first_number}..{last_number} are")
                };
                write!(f, "{which} missing (log and digest) before {next_file}")
            }
            Self::AcknowledgedRecordsMissing {
                file,
                file_present,
                last_seq,
                trail_last_seq,
            } => {
                let state = if *file_present {
                    "is shortened"
                } else {
                    "is missing"
                };
                let ends = trail_last_seq.map_or_else(
                    || "holds no record".to_owned(),
                    |s| format!("ends at record seq {s}"),
                );
                write!(
                    f,
                    "{file}: {state}: record seq {last_seq} was acknowledged in it (signed checkpoint), but the trail {ends}"
                )
            }
            Self::CheckpointMissing { file } => write!(
                f,
                "checkpoint {file}: missing, though the trail has been checkpointed before"
            ),
            Self::CheckpointUnusable { file, reason } => {
                write!(f, "checkpoint {file}: unusable ({reason})")
            }
            Self::DuplicateFileNumber { number, file } => {
                write!(f, "{file}: another file already has number {number}")
            }
        }
    }
}

fn seq_range(first: u64, last: u64) -> String {
    if first == last {
        format!("record seq {first}")
    } else {
        format!("records seq {first}..{last}")
    }
}

fn line_range(first: u64, last: u64) -> String {
    if first == last {
        format!("line {first}")
    } else {
        format!("lines {first}..{last}")
    }
}

/// The outcome of [`crate::verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Log files checked, in trail order.
    pub files_checked: Vec<String>,
    /// Records checked.
    pub records_checked: u64,
    /// Digests whose signature verified.
    pub digests_verified: u64,
    /// The newest log file when it is still open: its chain was checked,
    /// but it is not signed yet.
    pub unsigned_file: Option<String>,
    /// Bytes of an incomplete last line in the open file (a write in
    /// progress, or a crash that the next start repairs); not a problem.
    pub torn_tail_bytes: u64,
    /// The last acknowledged record the signed checkpoint names, when
    /// there is one (and a record was written).
    pub checkpoint_seq: Option<u64>,
    /// SHA-256 (hex) of the public key the signatures were checked against.
    pub public_key_sha256: String,
    /// Everything that is not as written and signed; empty if intact.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// Whether no problem was found.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} files, {} records, {} signed digests checked against key sha256:{}",
            self.files_checked.len(),
            self.records_checked,
            self.digests_verified,
            self.public_key_sha256
        )?;
        if let Some(seq) = self.checkpoint_seq {
            writeln!(f, "checkpoint: last acknowledged record seq {seq}")?;
        }
        if let Some(file) = &self.unsigned_file {
            writeln!(f, "{file}: open, chain checked, not yet signed")?;
        }
        for p in &self.problems {
            writeln!(f, "PROBLEM {p}")?;
        }
        if self.is_intact() {
            writeln!(f, "trail intact")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_name_file_and_line() {
        let p = Problem::RecordsMissing {
            file: "audit-0000000002-20250102T030405Z.jsonl".into(),
            line: 7,
            first_seq: 41,
            last_seq: 41,
        };
        assert_eq!(
            p.to_string(),
            "audit-0000000002-20250102T030405Z.jsonl line 7: record seq 41 missing before this line"
        );
        let report = VerifyReport {
            problems: vec![p],
            ..VerifyReport::default()
        };
        assert!(!report.is_intact());
        assert!(report.to_string().contains("PROBLEM"));
    }
}
