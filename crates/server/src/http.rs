//! The HTTP front door of the AWS JSON 1.1 protocol: `POST /` with `X-Amz-Target:
//! TrentService.<Operation>`. Caps the body before hashing it, authenticates, routes, and writes
//! every error as `{"__type", "message"}` with AWS's status. Every request, whatever its fate,
//! is counted in the metrics and logged in one line.
//!
//! Beside the API: `GET /metrics` (Prometheus text), `GET /healthz` (the process answers) and
//! `GET /readyz` (the store answers; the root key is loaded before the listener opens).

use crate::app::{App, Exchange};
use crate::audit_trail::{self, Ending};
use crate::metrics::Gauges;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use ferrokms_types::KmsError;
use http::{header, HeaderValue, Request, StatusCode};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The largest request body read: well above the largest KMS request (a 128 KiB key policy,
/// JSON-escaped), far below what could exhaust memory.
pub const MAX_BODY_BYTES: usize = 1 << 20;

const TARGET_PREFIX: &str = "TrentService.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

pub fn router(app: Arc<App>) -> Router {
    // Every other path and method reaches the endpoint, so that even a wrong one is answered in
    // AWS's shape.
    Router::new()
        .route("/", any(kms_endpoint))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .fallback(kms_endpoint)
        .with_state(app)
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let keys_by_state = match app.kms.store().count_keys_by_state().await {
        Ok(counts) => counts,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: counting keys failed");
            Vec::new()
        }
    };
    let audit = app.audit.stats();
    let gauges = Gauges {
        keys_by_state,
        audit_bytes: audit.bytes_written,
        audit_records: audit.records_written,
        throttled: app.kms.quotas().throttled(),
    };
    let text = app.metrics.render(&gauges);
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

async fn ready(State(app): State<Arc<App>>) -> Response {
    match app.kms.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the store does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "store unreachable\n").into_response()
        }
    }
}

async fn kms_endpoint(State(app): State<Arc<App>>, request: Request<Body>) -> Response {
    let started = Instant::now();
    let request_id = crate::audit_trail::random_uuid();
    let (parts, body) = request.into_parts();
    let mut exchange = Exchange::default();
    let (status, content_type, body, outcome) = match read_body(body).await {
        Ok(body) if crate::sts::is_sts(&parts) => {
            let (status, xml, outcome) =
                crate::sts::serve(&app, &parts, &body, &request_id, &mut exchange).await;
            (status, "text/xml", xml.into_bytes(), outcome)
        }
        Ok(body) => match serve(&app, &parts, &body, &mut exchange).await {
            Ok(json) => (200, CONTENT_TYPE, json, "ok"),
            Err(err) => failed(err, &mut exchange),
        },
        Err(err) => failed(err, &mut exchange),
    };
    // The event is on disk before the answer leaves; if it cannot be written, the caller is
    // told the request failed rather than have it go unaudited.
    let ending = Ending {
        request_id: &request_id,
        error: (outcome != "ok")
            .then(|| (outcome, exchange.error_message.clone().unwrap_or_default())),
    };
    let event = audit_trail::event(&parts, &exchange, &ending, app.kms.now_ms());
    let (status, content_type, body, outcome) = match app.audit.append(&event).await {
        Ok(()) => {
            if outcome == "ok" {
                note_key_use(&app, &exchange, &event);
            }
            (status, content_type, body, outcome)
        }
        Err(e) => {
            tracing::error!(error = %e, request_id = %request_id, "audit trail write failed");
            failed(KmsError::internal(), &mut exchange)
        }
    };
    let latency = started.elapsed();
    app.metrics.record(&exchange.operation, outcome, latency);
    let key = exchange
        .audit
        .as_ref()
        .and_then(|a| a.resources.first())
        .map(String::as_str)
        .unwrap_or("-");
    let principal = exchange
        .caller
        .as_ref()
        .map(|c| c.principal_arn.as_str())
        .unwrap_or("-");
    // Values a client chose are written with `?` (quoted, escaped), so that none can forge
    // fields of the line.
    tracing::info!(
        request_id = %request_id,
        operation = ?exchange.operation,
        principal = ?principal,
        key = ?key,
        status,
        outcome,
        latency_us = latency.as_micros() as u64,
        "request"
    );
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    response
}

/// Notes a successful cryptographic operation as the last use of each key it touched (both keys
/// of a ReEncrypt), with its request and audit event ids: in memory only, flushed lazily.
fn note_key_use(app: &App, exchange: &Exchange, event: &ferrokms_audit::AuditEvent) {
    let Some(facts) = exchange.audit.as_ref().filter(|f| f.tracks_last_usage) else {
        return;
    };
    let now = app.kms.now_ms();
    for arn in &facts.resources {
        app.kms.last_usage().record(ferrokms_store::KeyUsageRow {
            key_arn: arn.clone(),
            operation: exchange.operation.clone(),
            used_at: now,
            request_id: event.request_id.clone(),
            event_id: event.event_id.clone(),
        });
    }
}

/// The answer to a failed request, noting its message for the audit trail.
fn failed(err: KmsError, exchange: &mut Exchange) -> (u16, &'static str, Vec<u8>, &'static str) {
    exchange.error_message = Some(err.message().to_string());
    (
        err.http_status(),
        CONTENT_TYPE,
        err.to_json_body(),
        err.wire_name(),
    )
}

/// How long a request's body may take to arrive. A request in flight is never closed as idle
/// (see `crate::idle`), so without this a client could hold its connection by sending the body a
/// byte at a time; the largest body arrives in well under a second on any working link.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads the whole body within `BODY_READ_TIMEOUT`, refusing more than `MAX_BODY_BYTES` before
/// anything hashes it.
async fn read_body(body: Body) -> Result<bytes::Bytes, KmsError> {
    let collected = http_body_util::Limited::new(body, MAX_BODY_BYTES).collect();
    let Ok(collected) = tokio::time::timeout(BODY_READ_TIMEOUT, collected).await else {
        return Err(KmsError::Validation(format!(
            "The request body did not arrive within {} seconds.",
            BODY_READ_TIMEOUT.as_secs()
        )));
    };
    Ok(collected
        .map_err(|_| {
            KmsError::Validation(format!("The request body exceeds {MAX_BODY_BYTES} bytes."))
        })?
        .to_bytes())
}

async fn serve(
    app: &App,
    parts: &http::request::Parts,
    body: &[u8],
    exchange: &mut Exchange,
) -> Result<Vec<u8>, KmsError> {
    // The target is read once. It names the operation before authentication, so that a refused
    // request is recorded with what it tried; bounded and escaped because the client chose it
    // (see `crate::operation`).
    let target = parts.headers.get("x-amz-target").map(|v| v.as_bytes());
    if let Some(target) = target {
        let target = String::from_utf8_lossy(target);
        let name = target.strip_prefix(TARGET_PREFIX).unwrap_or(&target);
        exchange.operation = crate::operation::recorded(name);
    }
    // Authentication comes first, as at AWS: an unsigned request learns nothing else.
    let mut caller = app.auth.authenticate(parts, body, "kms").await?;
    if let Some(connection) = parts.extensions.get::<ferrokms_core::Connection>() {
        caller.source_ip = Some(connection.peer.ip());
        caller.secure_transport = connection.tls;
    }
    if parts.method != http::Method::POST || parts.uri.path() != "/" {
        return Err(KmsError::UnknownOperation(String::new()));
    }
    let operation = target
        .and_then(|t| std::str::from_utf8(t).ok())
        .and_then(|t| t.strip_prefix(TARGET_PREFIX));
    let Some(operation) = operation else {
        return Err(KmsError::UnknownOperation(String::new()));
    };
    let handled = ferrokms_core::registry::dispatch(&app.kms, operation, &caller, body).await;
    exchange.caller = Some(caller);
    exchange.audit = Some(handled.audit);
    handled.result
}
