//! What every request is served with, and what one request leaves behind: the shared state the
//! protocol front doors (AWS JSON 1.1 in `http`, STS's Query protocol in `sts`) hand to the
//! service, and the exchange they fill in for the log line, the metrics and the audit event.

use crate::auth::Authenticator;
use crate::metrics::Metrics;
use ferrokms_audit::AuditLog;
use ferrokms_core::{Caller, Kms};
use std::sync::Arc;

/// The server's shared state.
pub struct App {
    pub kms: Arc<Kms>,
    pub auth: Authenticator,
    pub metrics: Metrics,
    pub audit: AuditLog,
}

/// What the endpoint learned of a request, for the log line, the metrics and the audit trail.
#[derive(Default)]
pub struct Exchange {
    pub operation: String,
    pub caller: Option<Caller>,
    pub audit: Option<ferrokms_core::audit::AuditFacts>,
    /// The error message answered, when the request failed.
    pub error_message: Option<String>,
}
