//! Shared fixtures of the integration tests: the test identity, a KMS-shaped body, a fixed clock,
//! and turning a client-side request into the `Parts` a server would see.

#![allow(dead_code)] // each test binary uses a different subset

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::request::Parts;

pub const ACCESS_KEY_ID: &str = "AKIAFERROKMSTEST0001";
pub const SECRET: &str = "ferrokms/Test+Secret/Key0123456789abcdefg";
pub const SESSION_TOKEN: &str = "FwoGZXIvYXdzEBYaD/session+token==";
pub const REGION: &str = "us-east-1";
pub const SERVICE: &str = "kms";
pub const ENDPOINT: &str = "127.0.0.1:4599";
pub const TARGET: &str = "TrentService.Encrypt";
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
pub const BODY: &[u8] = br#"{"KeyId":"alias/ferrokms-test","Plaintext":"aGVsbG8gd29ybGQ="}"#;

/// 2024-01-01T00:00:00Z, when every test request is signed.
pub const SIGNED_AT_SECS: u64 = 1_704_067_200;

pub fn signed_at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(SIGNED_AT_SECS)
}

/// The request head as an HTTP/1.1 server receives it: origin-form target (path and query only)
/// and a `Host` header carrying the client URI's authority.
pub fn as_received_http1<B>(request: &http::Request<B>) -> Parts {
    let uri = request.uri();
    let target = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut parts = http::Request::builder()
        .method(request.method().clone())
        .uri(target)
        .body(())
        .expect("valid request")
        .into_parts()
        .0;
    parts.headers = request.headers().clone();
    if let Some(authority) = uri.authority() {
        if !parts.headers.contains_key(http::header::HOST) {
            let host = authority
                .as_str()
                .parse()
                .expect("authority is a header value");
            parts.headers.insert(http::header::HOST, host);
        }
    }
    parts
}

/// The request head as an HTTP/2 server receives it: absolute URI with the authority, no `Host`.
pub fn as_received_http2<B>(request: &http::Request<B>) -> Parts {
    let mut parts = http::Request::builder()
        .method(request.method().clone())
        .uri(request.uri().clone())
        .body(())
        .expect("valid request")
        .into_parts()
        .0;
    parts.headers = request.headers().clone();
    parts.headers.remove(http::header::HOST);
    parts
}
