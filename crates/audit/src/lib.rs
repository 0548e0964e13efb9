//! ferrokms-audit: the audit trail, one CloudTrail-shaped event per API
//! request, kept so that it cannot be quietly altered (issue 5).
//!
//! - [`AuditLog`] appends events to JSON Lines files in one directory; each
//!   record carries the hash of the one before (the chain runs across
//!   files), an append returns only once its record is synced to disk
//!   (group commit), and every closed file gets a digest signed with the
//!   Ed25519 [`AuditSigningKey`], whose public key is exported as
//!   `audit-public-key.pem`. With each group commit a signed checkpoint
//!   beside the directory names the last acknowledged record, so records
//!   cut from the end of the trail are seen too (`checkpoint.rs`).
//! - [`verify`] proves the trail intact under that public key, or names
//!   the file and record that was altered, removed or moved.
//! - [`query`] streams the events matching a filter.
//!
//! The formats are specified in `docs/audit.md`, with how a third party
//! checks them with openssl. The writer (one thread, group commit) is in
//! `writer.rs`, recovery after a crash in `recovery.rs`.
//!
//! Events never carry secrets (the caller's duty, asserted in debug
//! builds) and their contents are never logged.

mod checkpoint;
mod clock;
mod digest;
mod error;
mod event;
mod fsutil;
mod log;
mod naming;
mod pem;
mod query;
mod record;
mod recovery;
mod scan;
mod segment;
mod times;
mod verify;
mod writer;

pub use checkpoint::checkpoint_path;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::AuditError;
pub use event::{
    AuditEvent, Resource, UserIdentity, EVENT_SOURCE, EVENT_TYPE_API_CALL,
    EVENT_TYPE_SERVICE_EVENT, EVENT_VERSION, RESOURCE_TYPE_KMS_KEY,
};
pub use ferrokms_crypto::AuditSigningKey;
pub use log::{AuditLog, AuditOptions, AuditStats, CheckpointExpectation};
pub use pem::{public_key_from_pem, public_key_to_pem, read_public_key, PUBLIC_KEY_FILE};
pub use query::{query, AuditRecord, QueryFilter, QueryIter};
pub use verify::{verify, verify_with, Problem, VerifyOptions, VerifyReport};
