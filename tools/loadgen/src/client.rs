//! HTTP/1.1 keep-alive connections (hyper's connection-level client) and the closed loop each
//! connection task runs: send the next pooled request, read the whole response, record, repeat.

use crate::histogram::Histogram;
use crate::signer::{Check, Pool, Signed};
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// Every how many successful responses a connection parses and checks the body.
const CHECK_EVERY: u64 = 1000;

pub type Sender = SendRequest<Full<Bytes>>;

/// Opens one keep-alive HTTP/1.1 connection; its driver runs as its own task.
pub async fn connect(addr: SocketAddr) -> Result<Sender, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    // Latency is the point: do not let Nagle hold small requests back.
    stream
        .set_nodelay(true)
        .map_err(|e| format!("set_nodelay: {e}"))?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake with {addr}: {e}"))?;
    tokio::spawn(async move {
        // The connection ends when the sender is dropped or the server closes it; either way the
        // request that needed it has already reported the error.
        let _ = connection.await;
    });
    Ok(sender)
}

/// Sends one signed request and returns the status and the whole body.
pub async fn send(sender: &mut Sender, signed: &Signed) -> Result<(StatusCode, Bytes), String> {
    let mut request = Request::new(Full::new(signed.body.clone()));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = http::Uri::from_static("/");
    *request.headers_mut() = signed.headers.clone();
    sender
        .ready()
        .await
        .map_err(|e| format!("connection: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("response body: {e}"))?
        .to_bytes();
    Ok((status, body))
}

/// Where a connection task sends its requests, and whether it checks the answers (not when the
/// requests are replayed to the ceiling server, which answers `{}`).
#[derive(Clone, Copy)]
pub struct Destination {
    pub addr: SocketAddr,
    pub check_bodies: bool,
}

/// What one connection task saw.
#[derive(Default)]
pub struct Outcome {
    pub latency: Histogram,
    pub ok: u64,
    /// Error responses by `__type` (or status), transport failures as "transport: ...".
    pub errors: BTreeMap<String, u64>,
}

impl Outcome {
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn merge(&mut self, other: &Outcome) {
        self.latency.merge(&other.latency);
        self.ok += other.ok;
        for (kind, n) in &other.errors {
            *self.errors.entry(kind.clone()).or_default() += n;
        }
    }

    fn error(&mut self, kind: String) {
        *self.errors.entry(kind).or_default() += 1;
    }
}

/// The closed loop of one connection until `deadline`: a request started before the deadline is
/// finished and counted. On a transport error the connection is reopened. With `check_bodies`,
/// every CHECK_EVERY-th answer's body is checked too.
pub async fn run(
    to: Destination,
    mut sender: Option<Sender>,
    pool: Arc<Pool>,
    first: usize,
    stride: usize,
    deadline: Instant,
    timeout: Duration,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut generation = pool.generation();
    let mut requests = pool.snapshot();
    let mut next = first;
    while Instant::now() < deadline {
        let mut conn = match sender.take() {
            Some(s) => s,
            None => match connect(to.addr).await {
                Ok(s) => s,
                Err(e) => {
                    outcome.error(format!("transport: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if pool.generation() != generation {
            generation = pool.generation();
            requests = pool.snapshot();
        }
        let signed = &requests[next % requests.len()];
        next = next.wrapping_add(stride);
        let started = Instant::now();
        match tokio::time::timeout(timeout, send(&mut conn, signed)).await {
            Err(_) => outcome.error(format!("transport: no response within {timeout:?}")),
            Ok(Err(e)) => outcome.error(format!("transport: {e}")),
            Ok(Ok((status, body))) => {
                let elapsed = started.elapsed();
                if status == StatusCode::OK {
                    outcome.ok += 1;
                    outcome.latency.record(elapsed.as_nanos() as u64);
                    if to.check_bodies && outcome.ok % CHECK_EVERY == 1 {
                        if let Err(e) = check(&signed.check, &body) {
                            outcome.error(format!("bad response: {e}"));
                        }
                    }
                } else {
                    outcome.error(error_kind(status, &body));
                }
                sender = Some(conn);
            }
        }
    }
    outcome
}

/// `__type` of an AWS JSON error body, else the status.
pub fn error_kind(status: StatusCode, body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("__type").and_then(|t| t.as_str()).map(str::to_owned))
        .map_or_else(|| format!("HTTP {status}"), |t| format!("{t} ({status})"))
}

fn check(check: &Check, body: &[u8]) -> Result<(), String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    match check {
        Check::HasField(field) => match value.get(*field).and_then(|v| v.as_str()) {
            Some(text) if !text.is_empty() => Ok(()),
            _ => Err(format!("no {field}")),
        },
        Check::PlaintextIs(expected) => match value.get("Plaintext").and_then(|v| v.as_str()) {
            Some(text) if text == expected => Ok(()),
            _ => Err("Plaintext differs from what was encrypted".to_owned()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_kind_names_the_aws_exception() {
        let body = br#"{"__type":"DisabledException","message":"key is disabled"}"#;
        assert_eq!(
            error_kind(StatusCode::BAD_REQUEST, body),
            "DisabledException (400 Bad Request)"
        );
        assert_eq!(
            error_kind(StatusCode::BAD_GATEWAY, b"<html>"),
            "HTTP 502 Bad Gateway"
        );
    }

    #[test]
    fn checks_look_at_the_body() {
        let ok = br#"{"CiphertextBlob":"AAAA","KeyId":"k"}"#;
        assert!(check(&Check::HasField("CiphertextBlob"), ok).is_ok());
        assert!(check(&Check::HasField("Plaintext"), ok).is_err());
        let plain = br#"{"Plaintext":"aGk="}"#;
        assert!(check(&Check::PlaintextIs("aGk=".into()), plain).is_ok());
        assert!(check(&Check::PlaintextIs("aGl=".into()), plain).is_err());
    }
}
