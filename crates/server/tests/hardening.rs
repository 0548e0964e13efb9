//! What an unauthenticated client cannot do to the server (security review findings 4, 5, 10 and
//! 13): grow its memory, metrics, audit trail or log with made-up operation names; send heads of
//! any size; hold connections open with partial or silent requests; open connections without
//! bound; forge fields of the log line; or find the data dir's files readable by others.

mod common;

use common::{raw_request, TestServer};
use std::sync::{Arc, Mutex, OnceLock};

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
