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
//! acknowledged, through a temporary file, its `fsync` and a rename, so it
//! never names a record that is not on disk and a crash leaves the old or
//! the new one whole. The directory is not synced each time: a lost rename
//! leaves the previous checkpoint, which names an older record, and the
//! trail still reaches that.
//!
//! Limit: someone who kept an older checkpoint file can put it back after
//! cutting records written since; only a copy of the checkpoint kept
//! elsewhere catches that.

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
        }
    }

    /// Replaces the checkpoint with `checkpoint` (durable once this returns,
    /// except that the rename itself may be lost in a crash, see the module).
    pub fn write(
        &self,
        checkpoint: &Checkpoint,
        signer: &AuditSigningKey,
        now_ms: i64,
    ) -> Result<(), AuditError> {
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
        write_replace(&self.parent, &self.name, &bytes)
    }

    /// Like [`Self::write`], then also syncs the directory holding the
    /// checkpoint (at start-up, where one more sync costs nothing).
    pub fn write_durably(
        &self,
        checkpoint: &Checkpoint,
        signer: &AuditSigningKey,
        now_ms: i64,
    ) -> Result<(), AuditError> {
        std::fs::create_dir_all(&self.parent).at(&self.parent)?;
        self.write(checkpoint, signer, now_ms)?;
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
