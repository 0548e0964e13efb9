//! [`AuditLog`]: the handle request tasks append through, its options and
//! its counters.
//!
//! The handle is cheap to clone and to call from many tasks at once: an
//! append serialises its event on the caller's task, queues it for the
//! writer thread and waits for the writer's answer, which comes only once
//! the record is on disk. `writer.rs` explains group commit.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::time::Duration;

use ferrokms_crypto::AuditSigningKey;
use tokio::sync::oneshot;

use crate::clock::{Clock, SystemClock};
use crate::recovery::recover;
use crate::times::parse_rfc3339;
use crate::writer::{Command, Counters, Writer};
use crate::{AuditError, AuditEvent};

/// Bytes reserved for an event's JSON before it is serialised: a cryptographic operation's event
/// is about 1 KiB; larger ones grow the buffer as usual.
const EVENT_CAPACITY: usize = 1536;

/// How the log rolls its files.
#[derive(Clone)]
pub struct AuditOptions {
    /// A file is closed (and signed) before a record would take it past
    /// this size. A single larger record gets a file of its own. Default 64 MiB.
    pub max_file_bytes: u64,
    /// A file is closed once it is this old, even if no event comes
    /// (so the newest events are signed at most this long after they were
    /// written). Default 1 hour.
    pub max_file_age: Duration,
    /// How often an idle writer checks the age of the open file. Default 1 s.
    pub roll_check_interval: Duration,
    /// The time source for file names, ages and digest times.
    pub clock: Arc<dyn Clock>,
    /// Open even if the trail ends before the last record its checkpoint
    /// names ([`AuditError::TailLost`] otherwise): the operator has seen
    /// the loss and accepts that the trail continues from what is left.
    /// What was lost is then in [`AuditLog::tail_loss`]. Default false.
    pub accept_tail_loss: bool,
    /// What a missing checkpoint means. Default [`CheckpointExpectation::IfTrailExists`].
    pub checkpoint: CheckpointExpectation,
}

/// Whether the trail must already have a checkpoint: only its owner knows
/// whether one was ever written (the server records that where an attacker
/// who can edit the directory cannot forge it, see `audit_trail.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CheckpointExpectation {
    /// A trail with files needs one; an empty directory without one is new.
    #[default]
    IfTrailExists,
    /// One was written before: without it the trail has lost its tail,
    /// even when the directory is empty or gone.
    Required,
    /// The trail was written by a version that kept no checkpoint: a
    /// missing one is expected, and written now.
    NotYetWritten,
}

impl Default for AuditOptions {
    fn default() -> Self {
        Self {
            max_file_bytes: 64 << 20,
            max_file_age: Duration::from_secs(3600),
            roll_check_interval: Duration::from_secs(1),
            clock: Arc::new(SystemClock),
            accept_tail_loss: false,
            checkpoint: CheckpointExpectation::default(),
        }
    }
}

impl fmt::Debug for AuditOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditOptions")
            .field("max_file_bytes", &self.max_file_bytes)
            .field("max_file_age", &self.max_file_age)
            .field("roll_check_interval", &self.roll_check_interval)
            .field("accept_tail_loss", &self.accept_tail_loss)
            .field("checkpoint", &self.checkpoint)
            .finish_non_exhaustive()
    }
}

/// Counters since this process opened the log (for metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditStats {
    /// Records written and synced.
    pub records_written: u64,
    /// Bytes of log file written and synced.
    pub bytes_written: u64,
    /// `fdatasync` calls on log files: one per group-committed batch.
    pub syncs: u64,
    /// Files closed with a signed digest.
    pub files_closed: u64,
}

/// The audit trail, open for appending. Clone it freely; all clones share
/// one writer.
#[derive(Clone)]
pub struct AuditLog {
    shared: Arc<Shared>,
}

struct Shared {
    tx: Sender<Command>,
    counters: Arc<Counters>,
    public_key_der: Vec<u8>,
    dir: PathBuf,
    tail_loss: Option<String>,
}

impl AuditLog {
    /// Opens (creating if needed) the audit directory `dir`, continues the
    /// chain from its newest file (repairing and signing a file a crashed
    /// process left open), writes `audit-public-key.pem` and starts the
    /// writer thread. Fails with [`AuditError::KeyMismatch`] if the
    /// directory's public key belongs to another signing key, and with
    /// [`AuditError::Corrupt`] if the newest digest cannot be trusted, and
    /// with [`AuditError::TailLost`] if records the checkpoint names as
    /// acknowledged are gone (see [`AuditOptions::accept_tail_loss`]).
    pub async fn open(
        dir: &Path,
        signer: AuditSigningKey,
        options: AuditOptions,
    ) -> Result<Self, AuditError> {
        let dir = dir.to_path_buf();
        let public_key_der = signer.public_key_der();
        let now = options.clock.now_ms();
        let task_dir = dir.clone();
        let (accept, expectation) = (options.accept_tail_loss, options.checkpoint);
        let (recovered, signer) = tokio::task::spawn_blocking(move || {
            recover(&task_dir, &signer, now, accept, expectation).map(|r| (r, signer))
        })
        .await
        .map_err(|_| AuditError::WriterFailed("audit recovery task panicked".to_owned()))??;
        let counters = Arc::new(Counters::default());
        let (tx, rx) = mpsc::channel();
        let writer = Writer::new(
            dir.clone(),
            signer,
            options,
            counters.clone(),
            recovered.chain,
        );
        std::thread::Builder::new()
            .name("ferrokms-audit-writer".to_owned())
            .spawn(move || writer.run(rx))
            .map_err(|e| AuditError::io(&dir, e))?;
        Ok(Self {
            shared: Arc::new(Shared {
                tx,
                counters,
                public_key_der,
                dir,
                tail_loss: recovered.loss,
            }),
        })
    }

    /// Records `event`. Returns once it is written and synced to disk
    /// (`fdatasync`), together with every other event of its batch; an
    /// error means the event may not be recorded and the request should
    /// fail. The event must contain no secret (checked in debug builds).
    pub async fn append(&self, event: &AuditEvent) -> Result<(), AuditError> {
        debug_assert!(
            event.secret_field().is_none(),
            "audit event carries a secret field: {:?}",
            event.secret_field()
        );
        // Sized for a typical event, so that serialising it does not grow the buffer step by step.
        let mut event_json = Vec::with_capacity(EVENT_CAPACITY);
        serde_json::to_writer(&mut event_json, event)?;
        let event_ms = parse_rfc3339(&event.event_time);
        let (ack, done) = oneshot::channel();
        self.send(Command::Append {
            event_json,
            event_ms,
            ack,
        })?;
        self.wait(done).await
    }

    /// Writes everything queued before this call, closes the open file
    /// with its signed digest and stops the writer; later appends fail with
    /// [`AuditError::Closed`]. Closing twice is harmless.
    pub async fn close(&self) -> Result<(), AuditError> {
        let (ack, done) = oneshot::channel();
        match self.send(Command::Close { ack }) {
            Err(AuditError::Closed) => Ok(()),
            Err(e) => Err(e),
            Ok(()) => match self.wait(done).await {
                Err(AuditError::Closed) => Ok(()),
                other => other,
            },
        }
    }

    /// Counters since the log was opened.
    pub fn stats(&self) -> AuditStats {
        let c = &self.shared.counters;
        AuditStats {
            records_written: c.records.load(Ordering::Relaxed),
            bytes_written: c.bytes.load(Ordering::Relaxed),
            syncs: c.syncs.load(Ordering::Relaxed),
            files_closed: c.files_closed.load(Ordering::Relaxed),
        }
    }

    /// The public key (DER `SubjectPublicKeyInfo`) that verifies the digests.
    pub fn public_key_der(&self) -> &[u8] {
        &self.shared.public_key_der
    }

    /// The audit directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// What was lost from the end of the trail, when it was opened with
    /// [`AuditOptions::accept_tail_loss`] over such a loss.
    pub fn tail_loss(&self) -> Option<&str> {
        self.shared.tail_loss.as_deref()
    }

    fn send(&self, command: Command) -> Result<(), AuditError> {
        if self.shared.counters.closed.load(Ordering::SeqCst) {
            return Err(AuditError::Closed);
        }
        self.shared.tx.send(command).map_err(|_| AuditError::Closed)
    }

    async fn wait(
        &self,
        done: oneshot::Receiver<Result<(), AuditError>>,
    ) -> Result<(), AuditError> {
        match done.await {
            Ok(result) => result,
            // The writer dropped the reply: it has stopped.
            Err(_) if self.shared.counters.closed.load(Ordering::SeqCst) => Err(AuditError::Closed),
            Err(_) => Err(AuditError::WriterFailed("audit writer stopped".to_owned())),
        }
    }
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog")
            .field("dir", &self.shared.dir)
            .field("stats", &self.stats())
            .finish()
    }
}
