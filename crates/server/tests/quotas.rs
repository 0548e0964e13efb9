//! Request quotas through aws-sdk-kms (its retries off, so a throttled call comes back as is):
//! a burst past a quota is ThrottlingException with AWS's message, the metric counts it, quotas
//! are independent of each other, and AWS's defaults are what a server starts with.

mod common;

use aws_sdk_kms::primitives::Blob;
use common::{client, create_key, postgres_store_for, raw_request, read_credentials_file, REGION};
use ferrokms_core::quotas::{QuotaConfig, THROTTLING_MESSAGE};
use ferrokms_server::server::{self, Running, ServerConfig};

/// A server with `quotas`, and its administrator's client.
async fn start(quotas: QuotaConfig) -> (tempfile::TempDir, Running, aws_sdk_kms::Client) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = ServerConfig::new(dir.path().to_path_buf());
    cfg.listen = "127.0.0.1:0".parse().expect("address");
    cfg.store = postgres_store_for(dir.path()).await;
    cfg.quotas = quotas;
    let running = server::start(cfg).await.expect("server starts");
    let creds = read_credentials_file(running.new_credentials.as_ref().expect("credentials"));
    let kms = client(&running.endpoint(), &creds, REGION);
    (dir, running, kms)
}

async fn throttled_metric(running: &Running, quota: &str) -> u64 {
    let answer = raw_request(running.addr, "GET", "/metrics", &[], b"").await;
    let text = String::from_utf8_lossy(&answer.body).to_string();
    let line = format!("ferrokms_throttled_requests_total{{quota=\"{quota}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&line))
        .unwrap_or_else(|| panic!("no {line} in metrics"))
        .parse()
        .expect("a count")
}

#[tokio::test]
async fn a_burst_past_the_symmetric_quota_is_throttled_and_counted() {
    let mut quotas = QuotaConfig::default();
    quotas.set("symmetric=5").unwrap();
    let (_dir, running, kms) = start(quotas).await;
    let key = create_key(&kms).await;

    let mut throttled = 0;
    for _ in 0..20 {
        let result = kms
            .encrypt()
            .key_id(&key)
            .plaintext(Blob::new("hello"))
            .send()
            .await;
        if let Err(e) = result {
            let status = e.raw_response().map(|r| r.status().as_u16());
            let message = common::expect_err::<(), _>(Err(e), "ThrottlingException");
            assert_eq!(message, THROTTLING_MESSAGE);
            assert_eq!(status, Some(400));
            throttled += 1;
        }
    }
    assert!(throttled >= 10, "only {throttled} of 20 throttled at 5/s");
    assert_eq!(throttled_metric(&running, "symmetric").await, throttled);
    // Other quotas are counted apart: key management still works while Encrypt is throttled,
    // and GenerateRandom (the symmetric quota too) is refused.
    kms.describe_key()
        .key_id(&key)
        .send()
        .await
        .expect("DescribeKey");
    let random = kms.generate_random().number_of_bytes(16).send().await;
    common::expect_err(random, "ThrottlingException");
    assert_eq!(throttled_metric(&running, "rsa").await, 0);
    running.shutdown().await;
}

#[tokio::test]
async fn the_defaults_are_aws_quotas() {
    let (_dir, running, kms) = start(QuotaConfig::default()).await;
    let key = create_key(&kms).await;
    // 50 encryptions are far under the symmetric quota of 5,500 per second.
    for _ in 0..50 {
        common::encrypt(&kms, &key, b"hello").await;
    }
    assert_eq!(throttled_metric(&running, "symmetric").await, 0);
    // CreateAlias: 5 per second. Twelve in a row admit the five of the bucket plus what it
    // refills while they run, and throttle the rest.
    let started = std::time::Instant::now();
    let mut admitted = 0u64;
    for i in 0..12 {
        let result = kms
            .create_alias()
            .alias_name(format!("alias/q{i}"))
            .target_key_id(&key)
            .send()
            .await;
        match result {
            Ok(_) => admitted += 1,
            Err(e) => {
                let message = common::expect_err::<(), _>(Err(e), "ThrottlingException");
                assert_eq!(message, THROTTLING_MESSAGE);
            }
        }
    }
    let refilled = (started.elapsed().as_secs_f64() * 5.0).ceil() as u64;
    assert!(admitted >= 5, "only {admitted} CreateAlias admitted");
    assert!(
        admitted <= 5 + refilled,
        "{admitted} CreateAlias admitted in {:?}",
        started.elapsed()
    );
    if admitted < 12 {
        assert_eq!(
            throttled_metric(&running, "CreateAlias").await,
            12 - admitted
        );
    }
    running.shutdown().await;
}

#[tokio::test]
async fn quotas_off_never_throttle() {
    let (_dir, running, kms) = start(QuotaConfig::off()).await;
    let key = create_key(&kms).await;
    for i in 0..12 {
        kms.create_alias()
            .alias_name(format!("alias/off{i}"))
            .target_key_id(&key)
            .send()
            .await
            .expect("CreateAlias");
    }
    assert_eq!(throttled_metric(&running, "CreateAlias").await, 0);
    running.shutdown().await;
}
