//! The single writer: one thread that owns the open log file, chains
//! records, rolls files and acknowledges appends once they are on disk.
//!
//! Group commit: the thread takes the first waiting command, then every
//! command already queued behind it (up to [`MAX_BATCH_BYTES`]), writes
//! their lines with one `write` and one `fdatasync`, and only then answers
//! them all. While it syncs, new appends queue up and form the next batch,
//! so many concurrent requests share one disk flush.
//!
//! It is a plain thread rather than a tokio task because every step is a
//! blocking file-system call; appenders wait on a oneshot channel and never
//! block the runtime. Once a write or sync fails the writer refuses every
//! later event ([`AuditError::WriterFailed`]): after a failed `fdatasync`
//! what reached the disk is unknown, and the next start repairs the file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;

use ferrokms_crypto::AuditSigningKey;
use tokio::sync::oneshot;
use tracing::{error, info};

use crate::checkpoint::{Checkpoint, CheckpointWriter};
use crate::record::encode_record;
use crate::segment::{Chain, Segment};
use crate::{AuditError, AuditOptions};

/// A batch is written once its lines reach this size, even if more appends
/// are queued, so acknowledgements are not held back by a flood.
pub(crate) const MAX_BATCH_BYTES: usize = 1 << 20;

/// Reply channel of one command.
pub(crate) type Ack = oneshot::Sender<Result<(), AuditError>>;

/// What appenders and `close` send to the writer.
pub(crate) enum Command {
    Append {
        /// The event, already serialised (compact JSON).
        event_json: Vec<u8>,
        /// Its `eventTime`, for the digest's time range.
        event_ms: Option<i64>,
        ack: Ack,
    },
    Close {
        ack: Ack,
    },
}

/// Counters shared with [`crate::AuditLog::stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub records: AtomicU64,
    pub bytes: AtomicU64,
    pub syncs: AtomicU64,
    pub files_closed: AtomicU64,
    /// Set once the writer has stopped accepting events.
    pub closed: AtomicBool,
}

pub(crate) struct Writer {
    dir: PathBuf,
    signer: AuditSigningKey,
    options: AuditOptions,
    counters: Arc<Counters>,
    chain: Chain,
    checkpoint: CheckpointWriter,
    segment: Option<Segment>,
    /// Lines staged for the next write, and who waits for them.
    pending: Vec<u8>,
    pending_records: u64,
    acks: Vec<Ack>,
    /// Why the writer stopped writing, if it did.
    failed: Option<String>,
}

impl Writer {
    pub fn new(
        dir: PathBuf,
        signer: AuditSigningKey,
        options: AuditOptions,
        counters: Arc<Counters>,
        chain: Chain,
    ) -> Self {
        Self {
            checkpoint: CheckpointWriter::new(&dir, &signer),
            dir,
            signer,
            options,
            counters,
            chain,
            segment: None,
            pending: Vec::new(),
            pending_records: 0,
            acks: Vec::new(),
            failed: None,
        }
    }

    /// Serves commands until `close` or until every handle is dropped;
    /// either way the open file is closed with its digest.
    pub fn run(mut self, rx: Receiver<Command>) {
        loop {
            let first = match rx.recv_timeout(self.options.roll_check_interval) {
                Ok(command) => command,
                Err(RecvTimeoutError::Timeout) => {
                    self.roll_if_old();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.shutdown();
                    return;
                }
            };
            self.roll_if_old();
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Append {
                        event_json,
                        event_ms,
                        ack,
                    } => {
                        self.stage(&event_json, event_ms, ack);
                        if self.pending.len() >= MAX_BATCH_BYTES {
                            self.flush();
                        }
                    }
                    Command::Close { ack } => {
                        let result = self.shutdown();
                        let _ = ack.send(result);
                        // Whatever was queued after the close is refused.
                        while let Ok(late) = rx.try_recv() {
                            let ack = match late {
                                Command::Append { ack, .. } | Command::Close { ack } => ack,
                            };
                            let _ = ack.send(Err(AuditError::Closed));
                        }
                        return;
                    }
                }
                next = rx.try_recv().ok();
            }
            self.flush();
        }
    }

    /// Chains one event onto the pending batch, rolling to a new file
    /// first if the line would take the open one past its size limit.
    fn stage(&mut self, event_json: &[u8], event_ms: Option<i64>, ack: Ack) {
        if let Some(reason) = &self.failed {
            let _ = ack.send(Err(AuditError::WriterFailed(reason.clone())));
            return;
        }
        let seq = self.chain.next_seq;
        let prev = self.chain.last_hash;
        let start = self.pending.len();
        let hash = encode_record(seq, &prev, event_json, &mut self.pending);
        let line_len = (self.pending.len() - start) as u64;
        let full = self.segment.as_ref().is_some_and(|s| {
            // `records` and `bytes` include what is staged but not yet written.
            s.records() > 0 && s.bytes() + line_len > self.options.max_file_bytes
        });
        if full {
            let line = self.pending.split_off(start);
            self.flush();
            self.roll();
            self.pending.extend_from_slice(&line);
        }
        if self.failed.is_none() {
            if let Err(e) = self.ensure_segment() {
                self.fail(&e);
            }
        }
        let (Some(segment), None) = (self.segment.as_mut(), &self.failed) else {
            self.pending
                .truncate(self.pending.len().saturating_sub(line_len as usize));
            let reason = self.failed.clone().unwrap_or_default();
            let _ = ack.send(Err(AuditError::WriterFailed(reason)));
            return;
        };
        let line_start = self.pending.len() - line_len as usize;
        segment.note_record(&self.pending[line_start..], seq, &prev, &hash, event_ms);
        self.chain.next_seq += 1;
        self.chain.last_hash = hash;
        self.pending_records += 1;
        self.acks.push(ack);
    }

    fn ensure_segment(&mut self) -> Result<(), AuditError> {
        if self.segment.is_none() {
            let number = self.chain.next_file_number;
            let segment = Segment::create(&self.dir, number, self.options.clock.now_ms())?;
            self.chain.next_file_number += 1;
            self.segment = Some(segment);
        }
        Ok(())
    }

    /// Writes and syncs the pending batch, records its last record in the
    /// checkpoint, then acknowledges it.
    fn flush(&mut self) {
        if self.pending.is_empty() || self.failed.is_some() {
            return;
        }
        let result = match self.segment.as_mut() {
            Some(segment) => segment
                .write_and_sync(&self.dir, &self.pending)
                .map(|()| segment.log_name()),
            None => Err(AuditError::WriterFailed("no open log file".to_owned())),
        };
        // Only what is on disk is checkpointed, and nothing is acknowledged
        // before the checkpoint names it: an acknowledged record cut from
        // the trail later is always seen.
        let result = result.and_then(|log_file| {
            let head = Checkpoint {
                log_file: Some(log_file),
                last_seq: self.chain.next_seq - 1,
                last_hash: self.chain.last_hash,
            };
            self.checkpoint
                .write(&head, &self.signer, self.options.clock.now_ms())
        });
        match result {
            Ok(()) => {
                self.counters
                    .bytes
                    .fetch_add(self.pending.len() as u64, Ordering::Relaxed);
                self.counters
                    .records
                    .fetch_add(self.pending_records, Ordering::Relaxed);
                self.counters.syncs.fetch_add(1, Ordering::Relaxed);
                for ack in self.acks.drain(..) {
                    let _ = ack.send(Ok(()));
                }
                self.pending.clear();
                self.pending_records = 0;
            }
            Err(e) => self.fail(&e),
        }
    }

    /// Closes the open file with its digest; the next record starts a new one.
    fn roll(&mut self) {
        let Some(segment) = self.segment.take() else {
            return;
        };
        if self.failed.is_some() {
            return;
        }
        let name = segment.log_name();
        let now = self.options.clock.now_ms();
        match segment.close(
            &self.dir,
            self.chain.prev_digest.as_ref(),
            &self.signer,
            now,
        ) {
            Ok(Some(link)) => {
                info!(file = %name, "audit log file closed and signed");
                self.chain.prev_digest = Some(link);
                self.counters.files_closed.fetch_add(1, Ordering::Relaxed);
            }
            // An empty file: nothing to sign; reuse its number for the next.
            Ok(None) => {
                let _ = std::fs::remove_file(self.dir.join(&name));
                self.chain.next_file_number -= 1;
            }
            Err(e) => self.fail(&e),
        }
    }

    fn roll_if_old(&mut self) {
        let now = self.options.clock.now_ms();
        let age_limit = i64::try_from(self.options.max_file_age.as_millis()).unwrap_or(i64::MAX);
        let old = self
            .segment
            .as_ref()
            .is_some_and(|s| now.saturating_sub(s.opened_ms()) >= age_limit);
        if old {
            self.flush();
            self.roll();
        }
    }

    /// Writes what is pending and closes the open file with its digest.
    fn shutdown(&mut self) -> Result<(), AuditError> {
        self.flush();
        self.roll();
        self.counters.closed.store(true, Ordering::SeqCst);
        match &self.failed {
            Some(reason) => Err(AuditError::WriterFailed(reason.clone())),
            None => Ok(()),
        }
    }

    /// Stops writing for good and fails everything waiting.
    fn fail(&mut self, cause: &AuditError) {
        let reason = cause.to_string();
        error!(error = %reason, "audit log writer failed; no further events will be recorded");
        for ack in self.acks.drain(..) {
            let _ = ack.send(Err(AuditError::WriterFailed(reason.clone())));
        }
        self.pending.clear();
        self.pending_records = 0;
        self.failed = Some(reason);
    }
}
