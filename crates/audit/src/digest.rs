//! Digest files: the signed summary of one closed log file, and the link
//! that chains each digest to the one before.
//!
//! A digest (`<stem>.digest.json`, pretty-printed JSON ending in a newline)
//! names its log file and states its SHA-256, size, record count, first and
//! last sequence numbers and record hashes, the record hash it continues
//! from, the range of event times, and the file name and SHA-256 of the
//! previous digest. `<stem>.digest.sig` holds the raw 64-byte Ed25519
//! signature of the digest file's exact bytes. Deleting, editing, renaming
//! or reordering any closed file therefore breaks a signed statement.

use std::path::Path;

use ferrokms_crypto::AuditSigningKey;
use serde::{Deserialize, Serialize};

use crate::error::IoContext;
use crate::fsutil::{sync_dir, write_replace};
use crate::naming::{Entry, DIGEST_SUFFIX, LOG_SUFFIX, SIG_SUFFIX};
use crate::record::Hash;
use crate::times::format_rfc3339;
use crate::AuditError;

/// `digestVersion` written today.
pub(crate) const DIGEST_VERSION: u32 = 1;
/// `signatureAlgorithm` of every digest.
pub(crate) const SIGNATURE_ALGORITHM: &str = "Ed25519";

/// The contents of a digest file (field names as written, camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Digest {
    pub digest_version: u32,
    pub log_file: String,
    pub log_file_sha256: String,
    pub log_file_bytes: u64,
    pub record_count: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    pub previous_record_hash: String,
    pub first_record_hash: String,
    pub last_record_hash: String,
    pub earliest_event_time: Option<String>,
    pub latest_event_time: Option<String>,
    pub digest_time: String,
    pub previous_digest_file: Option<String>,
    pub previous_digest_sha256: Option<String>,
    pub public_key_sha256: String,
    pub signature_algorithm: String,
}

/// What a digest says about a log file, gathered while writing or reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileSummary {
    pub sha256: Hash,
    pub bytes: u64,
    pub records: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    pub prev_hash: Hash,
    pub first_hash: Hash,
    pub last_hash: Hash,
    pub earliest_ms: Option<i64>,
    pub latest_ms: Option<i64>,
}

/// Accumulates the record-level part of a [`FileSummary`].
#[derive(Debug, Clone, Default)]
pub(crate) struct SummaryBuilder {
    records: u64,
    first: Option<(u64, Hash, Hash)>,
    last: Option<(u64, Hash)>,
    earliest_ms: Option<i64>,
    latest_ms: Option<i64>,
}

impl SummaryBuilder {
    /// Notes a record appended to the file.
    pub fn add(&mut self, seq: u64, prev: &Hash, hash: &Hash, event_ms: Option<i64>) {
        self.records += 1;
        self.first.get_or_insert((seq, *prev, *hash));
        self.last = Some((seq, *hash));
        if let Some(ms) = event_ms {
            self.earliest_ms = Some(self.earliest_ms.map_or(ms, |e| e.min(ms)));
            self.latest_ms = Some(self.latest_ms.map_or(ms, |l| l.max(ms)));
        }
    }

    pub fn records(&self) -> u64 {
        self.records
    }

    /// The summary, given the file's hash and size; `None` without records.
    pub fn finish(&self, sha256: Hash, bytes: u64) -> Option<FileSummary> {
        let (first_seq, prev_hash, first_hash) = self.first?;
        let (last_seq, last_hash) = self.last?;
        Some(FileSummary {
            sha256,
            bytes,
            records: self.records,
            first_seq,
            last_seq,
            prev_hash,
            first_hash,
            last_hash,
            earliest_ms: self.earliest_ms,
            latest_ms: self.latest_ms,
        })
    }
}

/// A written digest as the next one refers to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DigestLink {
    pub file: String,
    pub sha256: Hash,
}

/// Writes and signs the digest of log file `stem` and makes both files
/// durable. Returns the link for the next digest.
pub(crate) fn write_digest(
    dir: &Path,
    stem: &str,
    summary: &FileSummary,
    previous: Option<&DigestLink>,
    signer: &AuditSigningKey,
    now_ms: i64,
) -> Result<DigestLink, AuditError> {
    let digest = Digest {
        digest_version: DIGEST_VERSION,
        log_file: format!("{stem}{LOG_SUFFIX}"),
        log_file_sha256: hex::encode(summary.sha256),
        log_file_bytes: summary.bytes,
        record_count: summary.records,
        first_seq: summary.first_seq,
        last_seq: summary.last_seq,
        previous_record_hash: hex::encode(summary.prev_hash),
        first_record_hash: hex::encode(summary.first_hash),
        last_record_hash: hex::encode(summary.last_hash),
        earliest_event_time: summary.earliest_ms.map(format_rfc3339),
        latest_event_time: summary.latest_ms.map(format_rfc3339),
        digest_time: format_rfc3339(now_ms),
        previous_digest_file: previous.map(|p| p.file.clone()),
        previous_digest_sha256: previous.map(|p| hex::encode(p.sha256)),
        public_key_sha256: hex::encode(ferrokms_crypto::sha256(&signer.public_key_der())),
        signature_algorithm: SIGNATURE_ALGORITHM.to_owned(),
    };
    let mut body = serde_json::to_vec_pretty(&digest)?;
    body.push(b'\n');
    let signature = signer.sign(&body);
    let digest_name = format!("{stem}{DIGEST_SUFFIX}");
    // The signature lands first: a digest without its signature is never
    // visible, and a crash in between leaves no digest, so the file is
    // closed again on the next start.
    write_replace(dir, &format!("{stem}{SIG_SUFFIX}"), &signature)?;
    write_replace(dir, &digest_name, &body)?;
    sync_dir(dir)?;
    Ok(DigestLink {
        file: digest_name,
        sha256: ferrokms_crypto::sha256(&body),
    })
}

/// A digest as read from disk.
#[derive(Debug, Clone)]
pub(crate) struct ReadDigest {
    pub bytes: Vec<u8>,
    pub digest: Digest,
}

impl ReadDigest {
    pub fn link(&self, file: String) -> DigestLink {
        DigestLink {
            file,
            sha256: ferrokms_crypto::sha256(&self.bytes),
        }
    }
}

/// Why a digest could not be used.
#[derive(Debug)]
pub(crate) enum DigestReadError {
    Io(AuditError),
    Invalid(String),
}

/// Reads and parses the digest of `entry`.
pub(crate) fn read_digest(dir: &Path, entry: &Entry) -> Result<ReadDigest, DigestReadError> {
    let path = dir.join(entry.digest_name());
    let bytes = std::fs::read(&path)
        .at(&path)
        .map_err(DigestReadError::Io)?;
    let digest: Digest = serde_json::from_slice(&bytes)
        .map_err(|e| DigestReadError::Invalid(format!("not a digest: {e}")))?;
    if digest.digest_version != DIGEST_VERSION {
        return Err(DigestReadError::Invalid(format!(
            "unknown digestVersion {}",
            digest.digest_version
        )));
    }
    Ok(ReadDigest { bytes, digest })
}

/// Reads the signature of `entry`'s digest; `Ok(None)` if there is none.
pub(crate) fn read_signature(dir: &Path, entry: &Entry) -> Result<Option<Vec<u8>>, AuditError> {
    let path = dir.join(entry.sig_name());
    match std::fs::read(&path) {
        Ok(sig) => Ok(Some(sig)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AuditError::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::naming;

    #[test]
    fn written_digests_read_back_and_verify() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (key, _) = AuditSigningKey::generate().expect("key");
        let mut b = SummaryBuilder::default();
        b.add(1, &[0; 32], &[1; 32], Some(2_000));
        b.add(2, &[1; 32], &[2; 32], Some(1_000));
        let summary = b.finish([9; 32], 300).expect("records");
        assert_eq!((summary.first_seq, summary.last_seq), (1, 2));
        assert_eq!(
            (summary.earliest_ms, summary.latest_ms),
            (Some(1_000), Some(2_000))
        );
        let stem = naming::stem(1, 0);
        let link = write_digest(dir.path(), &stem, &summary, None, &key, 5_000).expect("write");
        let entry = Entry {
            number: 1,
            stem,
            has_log: true,
            has_digest: true,
            has_sig: true,
        };
        let read = read_digest(dir.path(), &entry).expect("read");
        assert_eq!(read.link(link.file.clone()), link);
        assert_eq!(read.digest.record_count, 2);
        assert_eq!(read.digest.previous_digest_file, None);
        let sig = read_signature(dir.path(), &entry)
            .expect("io")
            .expect("present");
        assert!(ferrokms_crypto::verify_audit_signature(
            &key.public_key_der(),
            &read.bytes,
            &sig
        ));
    }

    #[test]
    fn no_summary_without_records() {
        assert!(SummaryBuilder::default().finish([0; 32], 0).is_none());
    }
}
