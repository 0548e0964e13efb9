//! The accept loop: plain HTTP or TLS (rustls), HTTP/1.1 and HTTP/2, and graceful shutdown — stop
//! accepting, let requests in flight finish (bounded), then return.
//!
//! Every connection is bounded, so that no client can hold the server's memory or file
//! descriptors: request heads are capped at [`MAX_HEADER_BYTES`] (answered 431), a head must
//! arrive within the header-read timeout, a TLS handshake within the same time, an idle
//! connection is closed (see `crate::idle`), and past the connection limit a new connection is
//! answered 503 and closed (over TLS it is closed at once: a handshake is the cost the limit
//! saves).

use crate::idle::{Activity, Watched};
use axum::Router;
use ferrokms_core::Connection;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// How long requests in flight may take to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest request head (request line and headers) read, in bytes. AWS's own front ends
/// refuse heads of a few tens of KiB; the largest a KMS client sends (SigV4 headers and a session
/// token) is a few KiB.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// How many refusals (503 answers past the connection limit) may be in progress at once; past
/// that, a connection over the limit is closed without an answer.
const MAX_REFUSALS: usize = 64;
/// How long a refusal may take to write its answer and let the client read it.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(1);

/// What one connection may take.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long a client has to send a request's whole head (from the connection's opening or
    /// the previous answer), and to finish a TLS handshake.
    pub header_read_timeout: Duration,
    /// How long a connection may stay open with nothing moving and no request in flight.
    pub idle_timeout: Duration,
    /// How many connections are served at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 4096,
        }
    }
}

/// Builds the TLS acceptor from PEM files (certificate chain, private key).
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    let certs = rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::File::open(cert).map_err(|e| format!("cannot open {}: {e}", cert.display()))?,
    ))
    .collect::<Result<Vec<_>, _>>()
    .map_err(|e| format!("cannot read certificates from {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", cert.display()));
    }
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(
        std::fs::File::open(key).map_err(|e| format!("cannot open {}: {e}", key.display()))?,
    ))
    .map_err(|e| format!("cannot read private key from {}: {e}", key.display()))?
    .ok_or_else(|| format!("no private key in {}", key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS configuration: {e}"))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| format!("TLS certificate and key do not fit together: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `router` on `listener` until `stop` turns true, then drains.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    let builder = Arc::new(builder(&limits));
    let mut refusal_log = RefusalLog::default();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            refuse(stream, tls.is_some(), &refusals, &mut refusal_log);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            peer,
            tls: tls.is_some(),
        };
        let activity = Activity::new();
        let in_flight = activity.clone();
        let service = TowerToHyperService::new(
            router
                .clone()
                .map_request(move |mut request: http::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(connection);
                    request
                })
                .map_future(move |answer| {
                    let busy = in_flight.request();
                    async move {
                        let answer = answer.await;
                        drop(busy);
                        answer
                    }
                }),
        );
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let builder = builder.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let stream = Watched::new(stream, activity.clone());
            let served = async {
                match tls {
                    Some(acceptor) => {
                        let handshake = tokio::time::timeout(
                            limits.header_read_timeout,
                            acceptor.accept(stream),
                        );
                        let tls_stream = match handshake.await {
                            Ok(Ok(tls_stream)) => tls_stream,
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                return Ok(());
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake timed out");
                                return Ok(());
                            }
                        };
                        let conn = builder
                            .serve_connection(TokioIo::new(tls_stream), service)
                            .into_owned();
                        watcher.watch(conn).await
                    }
                    None => {
                        let conn = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .into_owned();
                        watcher.watch(conn).await
                    }
                }
            };
            // Dropping the connection's future closes it.
            let result = tokio::select! {
                result = served => result,
                _ = activity.idle(limits.idle_timeout) => {
                    tracing::debug!(%peer, "idle connection closed");
                    Ok(())
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("requests still in flight after the drain timeout"),
    }
}

/// The connection builder: HTTP/1.1 and HTTP/2, heads capped and timed.
fn builder(limits: &Limits) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // The buffer a head must fit in; past it hyper answers 431 and closes.
        .max_buf_size(MAX_HEADER_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(MAX_HEADER_BYTES as u32);
    builder
}

/// Answers a connection past the limit with 503 and closes it, within [`REFUSAL_TIMEOUT`]; over
/// TLS, or when too many refusals are under way already, closes it at once.
fn refuse(stream: TcpStream, tls: bool, refusals: &Arc<Semaphore>, log: &mut RefusalLog) {
    log.note();
    if tls {
        return;
    }
    let Ok(permit) = refusals.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let _ = tokio::time::timeout(REFUSAL_TIMEOUT, answer_unavailable(stream)).await;
    });
}

/// Refusals are logged at most once per [`RefusalLog::INTERVAL`], with their count: a flood of
/// connections must not become a flood of log lines.
#[derive(Default)]
struct RefusalLog {
    since_last: u64,
    last: Option<tokio::time::Instant>,
}

impl RefusalLog {
    const INTERVAL: Duration = Duration::from_secs(10);

    fn note(&mut self) {
        self.since_last += 1;
        if self.last.is_none_or(|at| at.elapsed() >= Self::INTERVAL) {
            tracing::warn!(
                refused = self.since_last,
                "connection limit reached; connections past it are refused"
            );
            self.since_last = 0;
            self.last = Some(tokio::time::Instant::now());
        }
    }
}

async fn answer_unavailable(mut stream: TcpStream) -> std::io::Result<()> {
    const BODY: &str = r#"{"__type":"ServiceUnavailableException","message":"The server has too many open connections; retry later."}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    stream.write_all(answer.as_bytes()).await?;
    stream.shutdown().await?;
    // Read what the client sent until it closes (bounded by the caller's timeout): closing with
    // unread bytes would reset the connection and could destroy the answer before it is read.
    let mut sink = [0u8; 4096];
    while stream.read(&mut sink).await? > 0 {}
    Ok(())
}
