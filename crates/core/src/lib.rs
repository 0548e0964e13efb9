//! The service layer of ferrokms: one small unit per operation under `ops/`, driven by one generic
//! pipeline (`pipeline`): parse → validate → resolve keys → authorise → check state and usage →
//! charge the request quotas → run (or answer a dry run). Authorisation comes before the state
//! check: a caller without access is answered AccessDeniedException whatever the key's state. No
//! HTTP here: the server hands in an authenticated caller and a JSON body, and writes the audit
//! event.
//!
//! Beside them, by concern: `iam/` (users, roles, access keys, sessions), `access/` (authorisation:
//! key policies, identity policies, grants, condition keys), `material/` (key material, imports,
//! expiry, rotation), `quotas/`, and the key itself (`key`, `key_state`).

pub mod access;
pub mod algorithms;
pub mod audit;
pub mod blocking;
pub mod bootstrap;
pub mod cache;
pub mod caller;
pub mod change_feed;
pub mod clock;
pub mod error;
pub mod iam;
pub mod key;
pub mod key_state;
pub mod key_stores;
pub mod last_usage;
pub mod material;
pub mod ops;
pub mod pipeline;
pub mod quotas;
pub mod registry;
pub mod scheduler;
pub mod service;
pub mod service_events;
#[cfg(test)]
mod testing;

pub use caller::{Caller, Connection, RoleSession};
pub use service::Kms;
