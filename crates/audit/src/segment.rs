//! The state that continues from record to record and file to file
//! ([`Chain`]), and the one log file open for appending ([`Segment`]).
//!
//! A segment keeps the running SHA-256 and summary of everything handed to
//! it, so closing it writes the digest without reading the file back.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use ferrokms_crypto::{AuditSigningKey, Sha256Hasher};

use crate::digest::{write_digest, DigestLink, SummaryBuilder};
use crate::error::IoContext;
use crate::fsutil::create_append;
use crate::naming::{self, LOG_SUFFIX};
use crate::record::{Hash, GENESIS_PREV};
use crate::AuditError;

/// Where the next record and the next file continue the trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chain {
    /// Sequence number of the next record.
    pub next_seq: u64,
    /// Hash of the last record written (the next record's `prev`).
    pub last_hash: Hash,
    /// Number of the next log file.
    pub next_file_number: u64,
    /// The digest of the last closed file, which the next digest names.
    pub prev_digest: Option<DigestLink>,
}

impl Chain {
    /// The start of an empty trail.
    pub fn genesis() -> Self {
        Self {
            next_seq: 1,
            last_hash: GENESIS_PREV,
            next_file_number: 1,
            prev_digest: None,
        }
    }
}

/// The log file being appended to.
pub(crate) struct Segment {
    file: File,
    stem: String,
    hasher: Sha256Hasher,
    /// Bytes handed to the segment (written or about to be).
    bytes: u64,
    summary: SummaryBuilder,
    opened_ms: i64,
}

impl Segment {
    /// Creates log file `number`, stamped with `now_ms`.
    pub fn create(dir: &Path, number: u64, now_ms: i64) -> Result<Self, AuditError> {
        let stem = naming::stem(number, now_ms);
        let file = create_append(dir, &format!("{stem}{LOG_SUFFIX}"))?;
        Ok(Self {
            file,
            stem,
            hasher: Sha256Hasher::new(),
            bytes: 0,
            summary: SummaryBuilder::default(),
            opened_ms: now_ms,
        })
    }

    /// Accounts for one record line (with its newline) that the caller
    /// will write with [`Segment::write_and_sync`].
    pub fn note_record(
        &mut self,
        line: &[u8],
        seq: u64,
        prev: &Hash,
        hash: &Hash,
        event_ms: Option<i64>,
    ) {
        self.hasher.update(line);
        self.bytes += line.len() as u64;
        self.summary.add(seq, prev, hash, event_ms);
    }

    /// Appends `data` and waits until it is on disk (`fdatasync`).
    pub fn write_and_sync(&mut self, dir: &Path, data: &[u8]) -> Result<(), AuditError> {
        let path = dir.join(self.log_name());
        self.file.write_all(data).at(&path)?;
        self.file.sync_data().at(&path)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn records(&self) -> u64 {
        self.summary.records()
    }

    pub fn opened_ms(&self) -> i64 {
        self.opened_ms
    }

    pub fn log_name(&self) -> String {
        format!("{}{LOG_SUFFIX}", self.stem)
    }

    /// Writes the signed digest of the (fully written and synced) file.
    /// Returns `None` if the file has no records; it is then left as is
    /// (the next start removes it).
    pub fn close(
        self,
        dir: &Path,
        previous: Option<&DigestLink>,
        signer: &AuditSigningKey,
        now_ms: i64,
    ) -> Result<Option<DigestLink>, AuditError> {
        let Some(summary) = self.summary.finish(self.hasher.finish(), self.bytes) else {
            return Ok(None);
        };
        write_digest(dir, &self.stem, &summary, previous, signer, now_ms).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::encode_record;

    #[test]
    fn closing_a_segment_digests_what_was_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (key, _) = AuditSigningKey::generate().expect("key");
        let mut seg = Segment::create(dir.path(), 1, 0).expect("create");
        let mut buf = Vec::new();
        let h = encode_record(1, &GENESIS_PREV, b"{}", &mut buf);
        seg.note_record(&buf, 1, &GENESIS_PREV, &h, None);
        seg.write_and_sync(dir.path(), &buf).expect("write");
        assert_eq!((seg.records(), seg.bytes()), (1, buf.len() as u64));
        let name = seg.log_name();
        let link = seg
            .close(dir.path(), None, &key, 1)
            .expect("close")
            .expect("has records");
        assert!(link.file.ends_with(".digest.json"));
        let on_disk = std::fs::read(dir.path().join(name)).expect("read");
        assert_eq!(on_disk, buf);
        let digest = std::fs::read_to_string(dir.path().join(&link.file)).expect("digest");
        assert!(digest.contains(&hex::encode(ferrokms_crypto::sha256(&buf))));
    }

    #[test]
    fn an_empty_segment_has_no_digest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (key, _) = AuditSigningKey::generate().expect("key");
        let seg = Segment::create(dir.path(), 1, 0).expect("create");
        assert_eq!(seg.close(dir.path(), None, &key, 1).expect("close"), None);
    }
}
