//! [`AuditError`]: what can go wrong while opening, writing, verifying or
//! querying the audit trail.
//!
//! Integrity findings of [`crate::verify`] are not errors: they are the
//! report's [`crate::Problem`]s. An error here means the operation itself
//! could not be carried out (I/O, a closed or failed log, a corrupt file that
//! blocks recovery). Messages name files and lines, never event contents.

use std::io;
use std::path::PathBuf;

/// Why an audit operation could not be carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Reading or writing a file of the audit directory failed.
    #[error("audit I/O error on {path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// An earlier write or sync failed; the log refuses every later event,
    /// because what reached the disk is no longer known. The text says what
    /// failed first.
    #[error("audit log failed and records nothing more: {0}")]
    WriterFailed(String),
    /// The log was closed; no more events are accepted.
    #[error("audit log is closed")]
    Closed,
    /// A file needed to continue the chain cannot be read as written by
    /// ferrokms (for example the newest digest is not valid JSON or its
    /// signature does not verify). Run `verify` for the full picture.
    #[error("audit file {file} is unusable: {reason}")]
    Corrupt {
        /// File name inside the audit directory.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The trail ends before the last record it acknowledged (as its
    /// signed checkpoint states): records were cut from the end of the open
    /// file, files or the checkpoint were deleted. The log does not open
    /// (so the shortened file is not signed as if whole) unless
    /// [`crate::AuditOptions::accept_tail_loss`] is set.
    #[error("audit trail lost acknowledged records: {0}")]
    TailLost(String),
    /// The audit directory's `audit-public-key.pem` is not the public key of
    /// the signing key given to [`crate::AuditLog::open`].
    #[error("audit-public-key.pem in the audit directory belongs to another signing key")]
    KeyMismatch,
    /// A public key that is not an Ed25519 `SubjectPublicKeyInfo` (DER, or
    /// PEM `PUBLIC KEY`).
    #[error("invalid audit public key: {0}")]
    InvalidPublicKey(&'static str),
    /// The event could not be serialised as JSON.
    #[error("audit event could not be serialised: {0}")]
    Encode(#[from] serde_json::Error),
}

impl AuditError {
    /// An [`AuditError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Attaches a path to an `io::Result`.
pub(crate) trait IoContext<T> {
    fn at(self, path: &std::path::Path) -> Result<T, AuditError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T, AuditError> {
        self.map_err(|e| AuditError::io(path, e))
    }
}
