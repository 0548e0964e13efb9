//! The Prometheus text exposition at `/metrics`: requests by operation and outcome, a latency
//! histogram per operation, scheduler passes, audit bytes and records written, keys by state, and
//! requests throttled by request quota.
//!
//! Counting happens on the request path, so it is a few atomic adds under a briefly held lock of
//! a small map; formatting happens only when scraped.
//!
//! Every label is a `&'static str` from a fixed set — an operation the registry knows (or
//! `unknown`, see `crate::operation`), an outcome that is `ok` or an AWS error code, a request
//! quota's name (`ferrokms_core::quotas::Quota::name`) — so no
//! client, however many names it makes up, can add a series.

use ferrokms_core::scheduler::SchedulerStats;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// One operation's latency histogram.
struct Histogram {
    /// Cumulative counts per bucket are computed at scrape time from these per-bucket counts.
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// Sum of latencies in microseconds.
    sum_us: AtomicU64,
}

impl Histogram {
    fn new() -> Self {
        Histogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
        }
    }

    fn observe(&self, latency: Duration) {
        let seconds = latency.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us
            .fetch_add(latency.as_micros() as u64, Ordering::Relaxed);
    }
}

#[derive(Default)]
pub struct Metrics {
    /// operation → outcome → requests. Outcome is `ok` or the AWS error code.
    requests: Mutex<BTreeMap<&'static str, BTreeMap<&'static str, u64>>>,
    latency: Mutex<BTreeMap<&'static str, Arc<Histogram>>>,
    pub scheduler: Arc<SchedulerStats>,
}

/// Values read from elsewhere at scrape time.
pub struct Gauges {
    /// (state, count) of every key.
    pub keys_by_state: Vec<(String, i64)>,
    pub audit_bytes: u64,
    pub audit_records: u64,
    /// (quota name, requests throttled) of every quota that throttled any.
    pub throttled: Vec<(&'static str, u64)>,
}

impl Metrics {
    /// Counts a request; `operation` is mapped to its label (an unknown one to `unknown`).
    pub fn record(&self, operation: &str, outcome: &'static str, latency: Duration) {
        let operation = crate::operation::metric_label(operation);
        if let Ok(mut requests) = self.requests.lock() {
            *requests
                .entry(operation)
                .or_default()
                .entry(outcome)
                .or_default() += 1;
        }
        let histogram = match self.latency.lock() {
            Ok(mut map) => map
                .entry(operation)
                .or_insert_with(|| Arc::new(Histogram::new()))
                .clone(),
            Err(_) => return,
        };
        histogram.observe(latency);
    }

    /// The exposition text.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        out.push_str("# HELP ferrokms_requests_total API requests by operation and outcome (ok or the AWS error code).\n# TYPE ferrokms_requests_total counter\n");
        if let Ok(requests) = self.requests.lock() {
            let pairs = requests
                .iter()
                .flat_map(|(op, outcomes)| outcomes.iter().map(move |(o, n)| (op, o, n)));
            for (operation, outcome, n) in pairs {
                let _ = writeln!(
                    out,
                    "ferrokms_requests_total{{operation=\"{}\",outcome=\"{}\"}} {n}",
                    label(operation),
                    label(outcome)
                );
            }
        }
        out.push_str("# HELP ferrokms_request_duration_seconds Request latency by operation.\n# TYPE ferrokms_request_duration_seconds histogram\n");
        let histograms: Vec<(&str, Arc<Histogram>)> = match self.latency.lock() {
            Ok(map) => map.iter().map(|(k, v)| (*k, v.clone())).collect(),
            Err(_) => Vec::new(),
        };
        for (operation, h) in histograms {
            let op = label(operation);
            let mut cumulative = 0;
            for (bound, bucket) in BUCKETS.iter().zip(&h.buckets) {
                cumulative += bucket.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "ferrokms_request_duration_seconds_bucket{{operation=\"{op}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = h.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "ferrokms_request_duration_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {count}"
            );
            let sum = h.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "ferrokms_request_duration_seconds_sum{{operation=\"{op}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "ferrokms_request_duration_seconds_count{{operation=\"{op}\"}} {count}"
            );
        }
        out.push_str("# HELP ferrokms_throttled_requests_total Requests refused with ThrottlingException, by request quota.\n# TYPE ferrokms_throttled_requests_total counter\n");
        for (quota, n) in &gauges.throttled {
            let _ = writeln!(
                out,
                "ferrokms_throttled_requests_total{{quota=\"{}\"}} {n}",
                label(quota)
            );
        }
        out.push_str("# HELP ferrokms_keys Keys by state.\n# TYPE ferrokms_keys gauge\n");
        for (state, n) in &gauges.keys_by_state {
            let _ = writeln!(out, "ferrokms_keys{{state=\"{}\"}} {n}", label(state));
        }
        out.push_str("# HELP ferrokms_throttled_requests_total Requests refused with ThrottlingException, by request quota.\n# TYPE ferrokms_throttled_requests_total counter\n");
        for (quota, n) in &gauges.throttled {
            let _ = writeln!(
                out,
                "ferrokms_throttled_requests_total{{quota=\"{}\"}} {n}",
                label(quota)
            );
        }
        let counters = [
            (
                "ferrokms_scheduler_runs_total",
                "Background scheduler passes.",
                self.scheduler.runs.load(Ordering::Relaxed),
            ),
            (
                "ferrokms_scheduler_failures_total",
                "Background scheduler passes that failed.",
                self.scheduler.failures.load(Ordering::Relaxed),
            ),
            (
                "ferrokms_keys_destroyed_total",
                "Keys whose material the scheduler destroyed.",
                self.scheduler.keys_destroyed.load(Ordering::Relaxed),
            ),
            (
                "ferrokms_keys_rotated_total",
                "Keys whose material the scheduler rotated automatically.",
                self.scheduler.keys_rotated.load(Ordering::Relaxed),
            ),
            (
                "ferrokms_audit_bytes_total",
                "Bytes written to the audit trail.",
                gauges.audit_bytes,
            ),
            (
                "ferrokms_audit_records_total",
                "Events written to the audit trail.",
                gauges.audit_records,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        out
    }
}

/// A label value escaped as the exposition format requires.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_counts_requests_and_buckets_latencies() {
        let m = Metrics::default();
        m.record("Encrypt", "ok", Duration::from_micros(700));
        m.record("Encrypt", "ok", Duration::from_millis(3));
        m.record("Encrypt", "AccessDeniedException", Duration::from_millis(1));
        m.record("", "UnrecognizedClientException", Duration::from_millis(1));
        m.record(
            "NoSuchOperation",
            "UnknownOperationException",
            Duration::from_millis(1),
        );
        let text = m.render(&Gauges {
            keys_by_state: vec![("Enabled".into(), 3)],
            audit_bytes: 10,
            audit_records: 2,
            throttled: vec![("symmetric", 4)],
        });
        assert!(text.contains("ferrokms_requests_total{operation=\"Encrypt\",outcome=\"ok\"} 2\n"));
        assert!(text.contains(
            "ferrokms_requests_total{operation=\"unknown\",outcome=\"UnrecognizedClientException\"} 1\n"
        ));
        assert!(text.contains(
            "ferrokms_requests_total{operation=\"unknown\",outcome=\"UnknownOperationException\"} 1\n"
        ));
        assert!(!text.contains("NoSuchOperation"));
        assert!(text.contains(
            "ferrokms_request_duration_seconds_bucket{operation=\"Encrypt\",le=\"0.001\"} 2\n"
        ));
        assert!(text.contains(
            "ferrokms_request_duration_seconds_bucket{operation=\"Encrypt\",le=\"0.005\"} 3\n"
        ));
        assert!(text.contains("ferrokms_request_duration_seconds_count{operation=\"Encrypt\"} 3\n"));
        assert!(text.contains("ferrokms_keys{state=\"Enabled\"} 3\n"));
        assert!(text.contains("ferrokms_audit_bytes_total 10\n"));
        assert!(text.contains("ferrokms_throttled_requests_total{quota=\"symmetric\"} 4\n"));
        assert_eq!(label("a\"b\\"), "a\\\"b\\\\");
    }
}
