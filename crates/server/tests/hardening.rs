//! What an unauthenticated client cannot do to the server (security review findings 4, 5, 10 and
//! 13): grow its memory, metrics, audit trail or log with made-up operation names; send heads of
//! any size; hold connections open with partial or silent requests; open connections without
//! bound; forge fields of the log line; or find the data dir's files readable by others.

mod common;

use common::{raw_request, TestServer};
use ferrokms_server::listener::Limits;
use ferrokms_server::server::{self, ServerConfig};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server over a fresh temp dir with the given connection limits.
async fn start_with(limits: Limits) -> (common::DataDir, server::Running) {
    let dir = common::DataDir::new();
    let mut cfg = ServerConfig::new(dir.path().to_path_buf());
    cfg.listen = "127.0.0.1:0".parse().expect("address");
    cfg.store = common::postgres_store_for(dir.path()).await;
    cfg.limits = limits;
    let running = server::start(cfg).await.expect("server starts");
    (dir, running)
}

fn unsigned(target: &str) -> Vec<(String, String)> {
    vec![
        ("host".into(), "localhost".into()),
        ("content-type".into(), "application/x-amz-json-1.1".into()),
        ("x-amz-target".into(), target.into()),
    ]
}

#[tokio::test]
async fn made_up_operation_names_do_not_grow_metrics_or_audit_events() {
    let server = TestServer::start().await;
    let before = raw_request(server.addr(), "GET", "/metrics", &[], b"").await;
    for i in 0..200 {
        let target = format!("TrentService.Made{i}Up{}", "A".repeat(8 * 1024));
        let answer = raw_request(server.addr(), "POST", "/", &unsigned(&target), b"{}").await;
        answer.assert_error("MissingAuthenticationTokenException");
    }
    let after = raw_request(server.addr(), "GET", "/metrics", &[], b"").await;
    assert_eq!(after.status, 200);
    let text = String::from_utf8_lossy(&after.body);
    assert!(
        after.body.len() < before.body.len() + 4 * 1024,
        "metrics grew from {} to {} bytes",
        before.body.len(),
        after.body.len()
    );
    assert!(text.contains(
        "ferrokms_requests_total{operation=\"unknown\",outcome=\"MissingAuthenticationTokenException\"} 200\n"
    ));
    assert!(!text.contains("Made1Up"), "a claimed name became a label");

    let dir = server.shutdown().await;
    let events = ferrokms_audit::query(
        &dir.path().join("audit"),
        ferrokms_audit::QueryFilter::default(),
    )
    .expect("query")
    .map(|r| r.expect("readable record").event)
    .collect::<Vec<_>>();
    let made_up: Vec<_> = events
        .iter()
        .filter(|e| e.event_name.starts_with("Made"))
        .collect();
    assert_eq!(made_up.len(), 200, "each attempt is still recorded");
    for event in made_up {
        assert!(
            event.event_name.len() <= ferrokms_server::operation::MAX_CLAIMED_BYTES + 3,
            "eventName of {} bytes",
            event.event_name.len()
        );
        assert!(event.event_name.ends_with("..."), "{}", event.event_name);
    }
}

/// Sends `head` (no body), reading the answer while still writing: the server may answer and
/// close before taking it all. Returns what was read.
async fn send_head(addr: SocketAddr, head: Vec<u8>) -> Vec<u8> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        let _ = write.write_all(&head).await;
        write
    });
    let mut bytes = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), read.read_to_end(&mut bytes)).await;
    writer.abort();
    bytes
}

#[tokio::test]
async fn oversized_request_heads_are_refused_with_431() {
    let server = TestServer::start().await;
    for size in [20 * 1024, 400 * 1024] {
        let head = format!(
            "POST / HTTP/1.1\r\nhost: localhost\r\nx-amz-target: TrentService.{}\r\ncontent-length: 2\r\n\r\n{{}}",
            "A".repeat(size)
        );
        let answer = send_head(server.addr(), head.into_bytes()).await;
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.starts_with("HTTP/1.1 431 "),
            "a {size}-byte header: {text:?}"
        );
    }
    // A head of ordinary size is still served.
    let answer = raw_request(
        server.addr(),
        "POST",
        "/",
        &unsigned("TrentService.ListKeys"),
        b"{}",
    )
    .await;
    answer.assert_error("MissingAuthenticationTokenException");
    server.shutdown().await;
}

/// Reads until the peer closes, and returns how long that took (or `None` past `within`).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut sink = [0u8; 1024];
    let closed = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });
    closed.await.ok().map(|()| started.elapsed())
}

#[tokio::test]
async fn partial_and_silent_connections_are_closed_after_their_timeouts() {
    let (_dir, running) = start_with(Limits {
        header_read_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        max_connections: 100,
    })
    .await;
    let mut partial = TcpStream::connect(running.addr).await.expect("connect");
    partial
        .write_all(b"POST / HTTP/1.1\r\nhost: localhost\r\nx-amz-tar")
        .await
        .expect("write");
    let took = closed_within(&mut partial, Duration::from_secs(8)).await;
    assert!(took.is_some(), "a partial request head was kept open");

    // Nothing sent at all: not even the protocol is known; the idle timeout closes it.
    let mut silent = TcpStream::connect(running.addr).await.expect("connect");
    let took = closed_within(&mut silent, Duration::from_secs(8)).await;
    assert!(took.is_some(), "a silent connection was kept open");

    // A request sent in time is answered as ever; then the kept-alive connection, idle, closes.
    let mut kept = TcpStream::connect(running.addr).await.expect("connect");
    assert_eq!(healthz_on(&mut kept).await, 200);
    let took = closed_within(&mut kept, Duration::from_secs(8)).await;
    eprintln!("keep-alive closed after {took:?}");
    assert!(
        took.is_some(),
        "an idle kept-alive connection was kept open"
    );
    running.shutdown().await;
}

/// GET /healthz on an open keep-alive connection; returns the status.
async fn healthz_on(stream: &mut TcpStream) -> u16 {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .expect("write");
    let mut bytes = Vec::new();
    let mut buf = [0u8; 1024];
    // "ok\n" is the whole body: read until it has arrived.
    while !bytes.ends_with(b"ok\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("answer in time")
            .expect("read");
        assert!(n > 0, "closed: {:?}", String::from_utf8_lossy(&bytes));
        bytes.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&bytes)[9..12]
        .parse()
        .expect("status")
}

#[tokio::test]
async fn connections_past_the_limit_are_answered_503_and_the_others_still_served() {
    let (_dir, running) = start_with(Limits {
        header_read_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
        max_connections: 3,
    })
    .await;
    let mut first = TcpStream::connect(running.addr).await.expect("connect");
    assert_eq!(healthz_on(&mut first).await, 200);
    let second = TcpStream::connect(running.addr).await.expect("connect");
    let _third = TcpStream::connect(running.addr).await.expect("connect");
    // Let the server accept both before the next one arrives.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let over = raw_request(running.addr, "GET", "/healthz", &[], b"").await;
    assert_eq!(
        over.status,
        503,
        "{:?}",
        String::from_utf8_lossy(&over.body)
    );
    assert_eq!(over.error_type(), "ServiceUnavailableException");

    // The connections within the limit are served all along.
    assert_eq!(healthz_on(&mut first).await, 200);
    // A connection that closes frees its place.
    drop(second);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answer = raw_request(running.addr, "GET", "/healthz", &[], b"").await;
    assert_eq!(answer.status, 200);
    running.shutdown().await;
}

/// A log writer into memory, installed once for this test binary.
fn captured_log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_env_filter(tracing_subscriber::EnvFilter::new("ferrokms_server=info"))
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        log
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_claimed_operation_cannot_forge_fields_of_the_log_line() {
    let log = captured_log();
    let server = TestServer::start().await;
    let forged =
        "TrentService.Encrypt principal=arn:aws:iam::111122223333:root status=200 outcome=ok";
    let answer = raw_request(server.addr(), "POST", "/", &unsigned(forged), b"{}").await;
    answer.assert_error("MissingAuthenticationTokenException");
    let request_id = answer
        .header("x-amzn-requestid")
        .expect("request id")
        .to_string();
    let text = String::from_utf8_lossy(&log.lock().expect("log")).to_string();
    let line = text
        .lines()
        .find(|l| l.contains(&request_id) && l.contains("request"))
        .unwrap_or_else(|| panic!("no log line for {request_id} in {text}"));
    assert_eq!(line.matches(" outcome=").count(), 1, "{line}");
    assert_eq!(line.matches(" status=").count(), 1, "{line}");
    assert_eq!(line.matches(" principal=").count(), 1, "{line}");
    assert!(line.contains("principal=\"-\""), "{line}");
    assert!(
        line.contains("outcome=\"MissingAuthenticationTokenException\"")
            || line.contains("outcome=MissingAuthenticationTokenException"),
        "{line}"
    );
    server.shutdown().await;
}

/// Every file under `dir` with its mode, and every directory.
fn modes(dir: &Path) -> Vec<(std::path::PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        out.push((path.clone(), meta.permissions().mode() & 0o777));
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).expect("list").flatten() {
                pending.push(entry.path());
            }
        }
    }
    out
}

#[tokio::test]
async fn everything_in_the_data_dir_is_owner_only() {
    let server = TestServer::start().await;
    let key = common::create_key(&server.client()).await;
    common::encrypt(&server.client(), &key, b"x").await;
    let check = |dir: &Path| {
        let all = modes(dir);
        assert!(
            all.iter().any(|(p, _)| p.ends_with("ferrokms.db"))
                || common::store_env_for(dir).is_some()
        );
        for (path, mode) in all {
            let wanted = if path.is_dir() { 0o700 } else { 0o600 };
            assert_eq!(mode, wanted, "{} is {mode:o}", path.display());
        }
    };
    check(server.dir.path());
    let dir = server.shutdown().await;
    check(dir.path());
}
