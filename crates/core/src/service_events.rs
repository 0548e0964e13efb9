//! What the service does on its own, for the audit trail: the background work (a key destroyed
//! after its waiting period, an automatic rotation, imported material expiring) is recorded as
//! CloudTrail records it, as an `AwsServiceEvent` invoked by KMS rather than a caller's request.
//!
//! The core only names the event; the server, which owns the audit trail, implements
//! [`ServiceEvents`] and installs it with [`crate::Kms::set_service_events`]. Without one (tests,
//! admin commands) events are only logged.

use async_trait::async_trait;

/// One service event: its CloudTrail `eventName` and the key it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEvent {
    /// `DeleteKey`, `RotateKey` or `DeleteExpiredKeyMaterial`, as CloudTrail names them.
    pub name: &'static str,
    pub key_arn: String,
    pub account_id: String,
    pub region: String,
    /// When it happened (epoch ms, the service clock).
    pub at_ms: i64,
}

/// Where service events go.
#[async_trait]
pub trait ServiceEvents: Send + Sync {
    /// Records the event durably; the error says why it could not be.
    async fn record(&self, event: ServiceEvent) -> Result<(), String>;
}

/// Names of the events, in one place.
pub const DELETE_KEY: &str = "DeleteKey";
pub const ROTATE_KEY: &str = "RotateKey";
pub const DELETE_EXPIRED_KEY_MATERIAL: &str = "DeleteExpiredKeyMaterial";
