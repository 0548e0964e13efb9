//! The checkpoint: a signed statement of the last acknowledged record,
//! rewritten with every group commit, so that records cut from the end of
//! the trail (or whole files deleted) do not go unnoticed.
//!
//! Digests protect closed files only. Without a checkpoint, someone who
//! stops the server uncleanly and cuts records off the open file (or
//! deletes it, or the whole directory) leaves a trail that verifies, and
//! the next start would sign the shortened file. The checkpoint names the
//! last record acknowledged to a client (its file, sequence number and
//! hash); [`crate::verify`] and recovery check that the trail still reaches
//! it.
//!
//! It lives *beside* the audit directory (`<dir>.checkpoint`, e.g.
//! `DATA_DIR/audit.checkpoint`), so removing the directory leaves it behind.
//! Format: line 1 is compact JSON, line 2 the base64 Ed25519 signature of
//! line 1's bytes (without its newline) under the digests' key.
//!
//! It is written after the records' `fdatasync` and before the appends are
//! acknowledged, so it never names a record that is not on disk. To keep
//! that to one small extra write per group commit, the writer overwrites
//! the file in place: always [`SLOT`] bytes (padded) at offset 0, then
//! `fdatasync`; the size never changes, so the sync flushes one block and
//! no metadata. A process killed mid-write cannot tear it (the kernel
//! finishes the copy); a power cut could only tear it if the disk tore a
//! single sector write, and a torn checkpoint is reported, never trusted.
//! At start-up it is replaced whole (temporary file and rename).
//!
//! Limit: someone who kept an older checkpoint file can put it back after
//! cutting records written since; only a copy of the checkpoint kept
//! elsewhere catches that.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ferrokms_crypto::{verify_audit_signature, AuditSigningKey};
use serde::{Deserialize, Serialize};

use crate::error::IoContext;
use crate::fsutil::{sync_dir, write_replace};
use crate::record::{parse_hex_hash, Hash};
use crate::times::format_rfc3339;
use crate::AuditError;

/// `checkpointVersion` written today.
const CHECKPOINT_VERSION: u32 = 1;
/// Appended to the audit directory's name to name the checkpoint.
const CHECKPOINT_SUFFIX: &str = ".checkpoint";
/// The size every checkpoint is padded to (with spaces after the
/// signature line): one disk sector, so an in-place rewrite never changes
/// the file's size. The contents take about 420 bytes.
pub(crate) const SLOT: usize = 512;

/// Where the checkpoint of the audit directory `dir` is kept: beside it,
/// as `<dir>.checkpoint` (inside it only when `dir` has no name, e.g. `.`).
pub fn checkpoint_path(dir: &Path) -> PathBuf {
    match dir.file_name() {
        Some(name) => {
            let mut file = name.to_os_string();
            file.push(CHECKPOINT_SUFFIX);
            dir.with_file_name(file)
        }
        None => dir.join(format!("audit{CHECKPOINT_SUFFIX}")),
    }
}

/// The last acknowledged record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    /// The log file holding it; `None` before the first record.
    pub log_file: Option<String>,
    /// Its sequence number (0 before the first record).
    pub last_seq: u64,
    /// Its hash.
    pub last_hash: Hash,
}

/// The checkpoint as written (field names camelCase).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Body {
    checkpoint_version: u32,
    log_file: Option<String>,
    last_seq: u64,
    last_record_hash: String,
    checkpoint_time: String,
    public_key_sha256: String,
}

/// Writes checkpoints of one audit directory with one key.
pub(crate) struct CheckpointWriter {
    parent: PathBuf,
    name: String,
    public_key_sha256: String,
    /// The checkpoint file, opened on the first in-place write.
    file: Option<File>,
}

impl CheckpointWriter {
    pub fn new(dir: &Path, signer: &AuditSigningKey) -> Self {
        let path = checkpoint_path(dir);
        let parent = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self {
            parent,
            name,
            public_key_sha256: hex::encode(ferrokms_crypto::sha256(&signer.public_key_der())),
            file: None,
        }
    }

    /// Overwrites the checkpoint (which [`Self::write_durably`] created) in
    /// place with `checkpoint`; durable once this returns.
    pub fn write(
        &mut self,
        checkpoint: &Checkpoint,
        signer: &AuditSigningKey,
        now_ms: i64,
    ) -> Result<(), AuditError> {
        let bytes = self.encode(checkpoint, signer, now_ms)?;
        let path = self.parent.join(&self.name);
        if self.file.is_none() {
            let file = OpenOptions::new().write(true).open(&path).at(&path)?;
            self.file = Some(file);
        }
        let Some(file) = self.file.as_mut() else {
            return Err(AuditError::WriterFailed("checkpoint not open".to_owned()));
        };
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.write_all(&bytes))
            .and_then(|()| file.sync_data())
            .at(&path)
    }

    /// The checkpoint's bytes: JSON line, signature line, padding to [`SLOT`].
    fn encode(
        &self,
        checkpoint: &Checkpoint,
        signer: &AuditSigningKey,
        now_ms: i64,
    ) -> Result<Vec<u8>, AuditError> {
        let body = Body {
            checkpoint_version: CHECKPOINT_VERSION,
            log_file: checkpoint.log_file.clone(),
            last_seq: checkpoint.last_seq,
            last_record_hash: hex::encode(checkpoint.last_hash),
            checkpoint_time: format_rfc3339(now_ms),
            public_key_sha256: self.public_key_sha256.clone(),
        };
        let mut bytes = serde_json::to_vec(&body)?;
        let signature = STANDARD.encode(signer.sign(&bytes));
        bytes.push(b'\n');
        bytes.extend_from_slice(signature.as_bytes());
        bytes.push(b'\n');
        if bytes.len() < SLOT {
            bytes.resize(SLOT - 1, b' ');
            bytes.push(b'\n');
        }
        Ok(bytes)
    }

    /// Replaces the checkpoint whole (temporary file, rename, directory
    /// sync): at start-up, where the extra syncs cost nothing.
    pub fn write_durably(
        &self,
        checkpoint: &Checkpoint,
        signer: &AuditSigningKey,
        now_ms: i64,
    ) -> Result<(), AuditError> {
        let bytes = self.encode(checkpoint, signer, now_ms)?;
        std::fs::create_dir_all(&self.parent).at(&self.parent)?;
        write_replace(&self.parent, &self.name, &bytes)?;
        sync_dir(&self.parent)
    }
}

/// Why a checkpoint could not be used.
#[derive(Debug)]
pub(crate) enum CheckpointReadError {
    Io(AuditError),
    /// Not a checkpoint, or its signature does not verify under the key.
    Invalid(String),
}

/// Reads and checks the checkpoint of `dir` against `public_key`;
/// `Ok(None)` when there is none.
pub(crate) fn read_checkpoint(
    dir: &Path,
    public_key: &[u8],
) -> Result<Option<Checkpoint>, CheckpointReadError> {
    let path = checkpoint_path(dir);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CheckpointReadError::Io(AuditError::io(path, e))),
    };
    let invalid = |reason: &str| CheckpointReadError::Invalid(reason.to_owned());
    // Lines after the signature are padding.
    let mut lines = bytes.split(|&b| b == b'\n');
    let (Some(body), Some(signature)) = (lines.next(), lines.next()) else {
        return Err(invalid("not a checkpoint (expected two lines)"));
    };
    let signature = STANDARD
        .decode(signature)
        .map_err(|_| invalid("signature line is not base64"))?;
    if !verify_audit_signature(public_key, body, &signature) {
        return Err(invalid("signature does not verify under the audit key"));
    }
    let parsed: Body = serde_json::from_slice(body).map_err(|_| invalid("not a checkpoint"))?;
    if parsed.checkpoint_version != CHECKPOINT_VERSION {
        return Err(invalid("unknown checkpointVersion"));
    }
    let last_hash = parse_hex_hash(parsed.last_record_hash.as_bytes())
        .ok_or_else(|| invalid("lastRecordHash is not a SHA-256"))?;
    Ok(Some(Checkpoint {
        log_file: parsed.log_file,
        last_seq: parsed.last_seq,
        last_hash,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkpoint_sits_beside_the_directory() {
        assert_eq!(
            checkpoint_path(Path::new("/data/audit")),
            PathBuf::from("/data/audit.checkpoint")
        );
        assert_eq!(
            checkpoint_path(Path::new("/data/audit/")),
            PathBuf::from("/data/audit.checkpoint")
        );
    }

    #[test]
    fn a_written_checkpoint_reads_back_only_under_its_key() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("audit");
        let (key, _) = AuditSigningKey::generate().expect("key");
        let cp = Checkpoint {
            log_file: Some("audit-0000000001-20250101T000000Z.jsonl".into()),
            last_seq: 7,
            last_hash: [3; 32],
        };
        let w = CheckpointWriter::new(&dir, &key);
        w.write_durably(&cp, &key, 0).expect("write");
        let read = read_checkpoint(&dir, &key.public_key_der()).expect("read");
        assert_eq!(read, Some(cp));
        let (other, _) = AuditSigningKey::generate().expect("key");
        assert!(matches!(
            read_checkpoint(&dir, &other.public_key_der()),
            Err(CheckpointReadError::Invalid(_))
        ));
        assert!(!tmp.path().join("audit.checkpoint.tmp").exists());
        assert_eq!(
            std::fs::metadata(checkpoint_path(&dir))
                .expect("meta")
                .len(),
            SLOT as u64
        );
    }

    #[test]
    fn in_place_rewrites_keep_the_size_and_read_back() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("audit");
        let (key, _) = AuditSigningKey::generate().expect("key");
        let mut w = CheckpointWriter::new(&dir, &key);
        let genesis = Checkpoint {
            log_file: None,
            last_seq: 0,
            last_hash: [0; 32],
        };
        w.write_durably(&genesis, &key, 0).expect("create");
        let cp = Checkpoint {
            log_file: Some("audit-0000000001-20250101T000000Z.jsonl".into()),
            last_seq: u64::MAX,
            last_hash: [7; 32],
        };
        w.write(&cp, &key, i64::from(i32::MAX) * 1000)
            .expect("rewrite");
        let path = checkpoint_path(&dir);
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), SLOT as u64);
        assert_eq!(
            read_checkpoint(&dir, &key.public_key_der()).expect("read"),
            Some(cp)
        );
    }

    #[test]
    fn an_edited_checkpoint_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("audit");
        let (key, _) = AuditSigningKey::generate().expect("key");
        let cp = Checkpoint {
            log_file: None,
            last_seq: 12,
            last_hash: [1; 32],
        };
        CheckpointWriter::new(&dir, &key)
            .write_durably(&cp, &key, 0)
            .expect("write");
        let path = checkpoint_path(&dir);
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, text.replace("\"lastSeq\":12", "\"lastSeq\":2")).expect("edit");
        assert!(matches!(
            read_checkpoint(&dir, &key.public_key_der()),
            Err(CheckpointReadError::Invalid(_))
        ));
    }
}
