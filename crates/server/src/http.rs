//! The HTTP front door of the AWS JSON 1.1 protocol: `POST /` with `X-Amz-Target:
//! TrentService.<Operation>`. Caps the body before hashing it, authenticates, routes, and writes
//! every error as `{"__type", "message"}` with AWS's status.

use crate::auth::Authenticator;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use ferrokms_core::Kms;
use ferrokms_types::KmsError;
use http::{header, HeaderValue, Request, StatusCode};
use http_body_util::BodyExt;
use std::sync::Arc;

/// The largest request body read: well above the largest KMS request (a 128 KiB key policy,
/// JSON-escaped), far below what could exhaust memory.
pub const MAX_BODY_BYTES: usize = 1 << 20;

const TARGET_PREFIX: &str = "TrentService.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

pub struct App {
    pub kms: Arc<Kms>,
    pub auth: Authenticator,
}

pub fn router(app: Arc<App>) -> Router {
    // Every path and method reaches the endpoint, so that even a wrong one is answered in AWS's shape.
    Router::new()
        .route("/", any(kms_endpoint))
        .fallback(kms_endpoint)
        .with_state(app)
}

async fn kms_endpoint(State(app): State<Arc<App>>, request: Request<Body>) -> Response {
    let request_id = request_id();
    let (parts, body) = request.into_parts();
    let (status, content_type, body) = match read_body(body).await {
        Ok(body) if crate::sts::is_sts(&parts) => {
            let (status, xml) = crate::sts::serve(&app, &parts, &body, &request_id).await;
            (status, "text/xml", xml.into_bytes())
        }
        Ok(body) => match serve(&app, &parts, &body).await {
            Ok(json) => (200, CONTENT_TYPE, json),
            Err(err) => (err.http_status(), CONTENT_TYPE, err.to_json_body()),
        },
        Err(err) => (err.http_status(), CONTENT_TYPE, err.to_json_body()),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    response
}

/// Reads the whole body, refusing more than `MAX_BODY_BYTES` before anything hashes it.
async fn read_body(body: Body) -> Result<bytes::Bytes, KmsError> {
    Ok(http_body_util::Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|_| {
            KmsError::Validation(format!("The request body exceeds {MAX_BODY_BYTES} bytes."))
        })?
        .to_bytes())
}

/// A random UUID for `x-amzn-RequestId`, from the userspace generator (uuid's own v4 makes a
/// system call per id).
fn request_id() -> String {
    let mut bytes = [0u8; 16];
    if let Ok(random) = ferrokms_crypto::random_bytes(16) {
        bytes.copy_from_slice(random.expose());
    }
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

async fn serve(app: &App, parts: &http::request::Parts, body: &[u8]) -> Result<Vec<u8>, KmsError> {
    // Authentication comes first, as at AWS: an unsigned request learns nothing else.
    let mut caller = app.auth.authenticate(parts, body, "kms").await?;
    if let Some(connection) = parts.extensions.get::<ferrokms_core::Connection>() {
        caller.source_ip = Some(connection.peer.ip());
        caller.secure_transport = connection.tls;
    }
    if parts.method != http::Method::POST || parts.uri.path() != "/" {
        return Err(KmsError::UnknownOperation(String::new()));
    }
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(operation) = target.strip_prefix(TARGET_PREFIX) else {
        return Err(KmsError::UnknownOperation(String::new()));
    };
    app.kms.handle(operation, &caller, body).await
}
