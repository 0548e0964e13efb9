//! The service layer of ferrokms: one small unit per operation under `ops/`, driven by one generic
//! pipeline (`pipeline`): parse → validate → resolve keys → authorise → check state and usage →
//! charge the request quotas → run (or answer a dry run). Authorisation comes before the state
//! check: a caller without access is answered AccessDeniedException whatever the key's state. No
//! HTTP here: the server hands in an authenticated caller and a JSON body, and writes the audit
//! event.

pub mod algorithms;
pub mod audit;
pub mod authz;
pub mod blocking;
pub mod bootstrap;
pub mod cache;
pub mod caller;
pub mod clock;
pub mod conditions;
pub mod deleted_principals;
pub mod error;
pub mod expiry;
pub mod grants;
pub mod identities;
pub mod import_token;
pub mod imported;
pub mod key;
pub mod key_policy;
pub mod key_state;
pub mod last_usage;
pub mod materials;
pub mod ops;
pub mod pipeline;
pub mod principals;
pub mod quotas;
pub mod registry;
pub mod roles;
pub mod rotation;
pub mod scheduler;
pub mod service;
pub mod service_events;
pub mod sessions;
#[cfg(test)]
mod testing;

pub use caller::{Caller, Connection, RoleSession};
pub use service::Kms;
