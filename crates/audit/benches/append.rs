//! Append throughput with concurrent appenders: each iteration spawns
//! `n` appends at once and waits for all, so the writer can group-commit
//! them into few `fdatasync`s. Files go to a temporary directory on the
//! same disk as the target directory's temp (`TMPDIR`).
//!
//! `cargo bench -p ferrokms-audit --bench append`

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ferrokms_audit::{AuditEvent, AuditLog, AuditOptions, AuditSigningKey, Resource, UserIdentity};
use serde_json::json;

/// A typical Encrypt event (about 900 bytes as a record).
fn event(n: usize) -> AuditEvent {
    let key = "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
    AuditEvent {
        user_identity: UserIdentity {
            identity_type: "IAMUser".into(),
            principal_id: "AIDAEXAMPLEPRINCIPAL".into(),
            arn: "arn:aws:iam::111122223333:user/app".into(),
            account_id: "111122223333".into(),
            access_key_id: Some("AKIAEXAMPLEACCESSKEY".into()),
            ..UserIdentity::default()
        },
        event_time: "2025-01-01T00:00:00Z".into(),
        event_name: "Encrypt".into(),
        aws_region: "eu-west-1".into(),
        source_ip_address: "10.0.0.1".into(),
        user_agent: "aws-sdk-rust/1.0 os/linux lang/rust".into(),
        request_parameters: Some(json!({"keyId": key, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"})),
        request_id: format!("6f1e2d3c-0000-4000-8000-{n:012}"),
        event_id: format!("7a1e2d3c-0000-4000-8000-{n:012}"),
        resources: vec![Resource::kms_key("111122223333", key)],
        recipient_account_id: "111122223333".into(),
        ..AuditEvent::default()
    }
}

fn append(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let (key, _) = AuditSigningKey::generate().expect("key");
    let log = rt
        .block_on(AuditLog::open(dir.path(), key, AuditOptions::default()))
        .expect("open");

    let mut group = c.benchmark_group("append");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for concurrency in [1usize, 16, 64, 256] {
        group.throughput(Throughput::Elements(concurrency as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(concurrency),
            &concurrency,
            |b, &n| {
                b.iter(|| {
                    rt.block_on(async {
                        let tasks: Vec<_> = (0..n)
                            .map(|i| {
                                let log = log.clone();
                                tokio::spawn(async move { log.append(&event(i)).await })
                            })
                            .collect();
                        for t in tasks {
                            t.await.expect("task").expect("append");
                        }
                    })
                });
            },
        );
    }
    group.finish();
    let stats = log.stats();
    eprintln!(
        "records {} in {} fdatasyncs ({:.1} records per sync), {} bytes, {} files closed",
        stats.records_written,
        stats.syncs,
        stats.records_written as f64 / stats.syncs.max(1) as f64,
        stats.bytes_written,
        stats.files_closed
    );
    rt.block_on(log.close()).expect("close");
}

criterion_group!(benches, append);
criterion_main!(benches);
