//! Request quotas through aws-sdk-kms (retries off, so every throttle is seen): AWS's defaults
//! throttle a burst past 5 CreateAlias a second with AWS's ThrottlingException, per account and
//! Region; a tiny symmetric quota throttles a burst of cryptographic operations but never a
//! steady rate within it, leaves the other kinds of keys alone, and is charged to the calling
//! account when the key is another's; `/metrics` counts every throttle by quota.

mod common;

use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use common::*;
use ferrokms_server::server::{self, ServerConfig};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

const THROTTLED: &str =
    "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.";

/// A server with `quotas` (AWS's defaults if empty), as `serve --quota` would set them.
async fn server_with(quotas: &[&str]) -> TestServer {
    let dir = common::DataDir::new();
    let mut cfg = ServerConfig::new(dir.path().to_path_buf());
    cfg.listen = "127.0.0.1:0".parse().expect("address");
    cfg.store = postgres_store_for(dir.path()).await;
    for item in quotas {
        cfg.quotas
            .apply(item, ferrokms_core::registry::is_quota_name)
            .expect("a valid --quota");
    }
    let running = server::start(cfg).await.expect("server starts");
    let admin = read_credentials_file(running.new_credentials.as_ref().expect("credentials"));
    TestServer {
        dir,
        running,
        admin,
    }
}

/// "ok", or the error code of a throttle after checking it is AWS's: HTTP 400 with its message.
fn outcome<O, E: ProvideErrorMetadata>(
    result: Result<O, SdkError<E, aws_sdk_kms::config::http::HttpResponse>>,
) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(err) => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            let code = err.code().unwrap_or("<no code>").to_string();
            if code == "ThrottlingException" {
                assert_eq!(err.message(), Some(THROTTLED));
                assert_eq!(status, Some(400));
            }
            code
        }
    }
}

/// The outcomes of every request of a burst.
async fn all(mut burst: JoinSet<String>) -> Vec<String> {
    let mut outcomes = Vec::new();
    while let Some(done) = burst.join_next().await {
        outcomes.push(done.expect("request task"));
    }
    outcomes
}

fn count(outcomes: &[String], what: &str) -> usize {
    outcomes.iter().filter(|o| *o == what).count()
}

/// The value of `ferrokms_throttled_requests_total{quota="<quota>"}`, 0 when absent.
async fn throttled_metric(server: &TestServer, quota: &str) -> usize {
    let answer = raw_request(server.addr(), "GET", "/metrics", &[], b"").await;
    let text = String::from_utf8_lossy(&answer.body).to_string();
    let series = format!("ferrokms_throttled_requests_total{{quota=\"{quota}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&series))
        .map(|n| n.parse().expect("a count"))
        .unwrap_or(0)
}

/// Most requests a quota of `rate` a second admits from full in `elapsed`.
fn most_admitted(rate: f64, elapsed: Duration) -> usize {
    (rate + rate * elapsed.as_secs_f64()).floor() as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_default_quotas_throttle_a_burst_of_create_alias_per_account_and_region() {
    let server = server_with(&[]).await;
    let admin = server.client();
    let key = create_key(&admin).await;

    let started = Instant::now();
    let mut burst = JoinSet::new();
    for i in 0..20 {
        let admin = admin.clone();
        let key = key.clone();
        burst.spawn(async move {
            let sent = admin
                .create_alias()
                .alias_name(format!("alias/burst-{i}"))
                .target_key_id(key)
                .send()
                .await;
            outcome(sent)
        });
    }
    let outcomes = all(burst).await;
    let elapsed = started.elapsed();
    let throttled = count(&outcomes, "ThrottlingException");
    assert_eq!(count(&outcomes, "ok") + throttled, 20, "{outcomes:?}");
    assert!(
        count(&outcomes, "ok") <= most_admitted(5.0, elapsed),
        "AWS admits 5 CreateAlias a second: {outcomes:?} in {elapsed:?}"
    );
    assert!(throttled > 0);
    assert_eq!(throttled_metric(&server, "CreateAlias").await, throttled);

    // Another quota of the same account, the same quota in another Region and in another
    // account are untouched.
    assert_eq!(
        outcome(admin.describe_key().key_id(&key).send().await),
        "ok"
    );
    let west = server.client_in("us-west-2");
    let west_key = create_key(&west).await;
    let sent = west
        .create_alias()
        .alias_name("alias/west")
        .target_key_id(west_key)
        .send()
        .await;
    assert_eq!(outcome(sent), "ok");
    let other = client(
        &server.endpoint(),
        &server.create_user(OTHER_ACCOUNT, "other").await,
        REGION,
    );
    let other_key = create_key(&other).await;
    let sent = other
        .create_alias()
        .alias_name("alias/other")
        .target_key_id(other_key)
        .send()
        .await;
    assert_eq!(outcome(sent), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_symmetric_quota_throttles_bursts_but_never_a_steady_rate_within_it() {
    let server = server_with(&["symmetric=5"]).await;
    let admin = server.client();
    let key = create_key(&admin).await;
    let shared = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OTHER_ACCOUNT}:root"}},"Action":"kms:Encrypt","Resource":"*"}}]}}"#
    );
    admin
        .put_key_policy()
        .key_id(&key)
        .policy(shared)
        .send()
        .await
        .expect("put key policy");
    let signing = admin
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .expect("create ECC key")
        .key_metadata
        .expect("metadata")
        .key_id;

    // 4 a second, within the 5: never throttled, however the requests bunch up.
    let mut ticks = tokio::time::interval(Duration::from_millis(250));
    for _ in 0..8 {
        ticks.tick().await;
        let sent = admin
            .encrypt()
            .key_id(&key)
            .plaintext(Blob::new("steady"))
            .send()
            .await;
        assert_eq!(outcome(sent), "ok");
    }
    assert_eq!(throttled_metric(&server, "symmetric").await, 0);

    // A burst of Encrypt and GenerateRandom, which share the symmetric quota.
    let started = Instant::now();
    let mut burst = JoinSet::new();
    for _ in 0..15 {
        let (client, key) = (admin.clone(), key.clone());
        burst.spawn(async move {
            let sent = client
                .encrypt()
                .key_id(key)
                .plaintext(Blob::new("burst"))
                .send()
                .await;
            outcome(sent)
        });
        let client = admin.clone();
        burst.spawn(
            async move { outcome(client.generate_random().number_of_bytes(16).send().await) },
        );
    }
    let outcomes = all(burst).await;
    let elapsed = started.elapsed();
    let throttled = count(&outcomes, "ThrottlingException");
    assert_eq!(count(&outcomes, "ok") + throttled, 30, "{outcomes:?}");
    assert!(
        count(&outcomes, "ok") <= most_admitted(5.0, elapsed),
        "{outcomes:?} in {elapsed:?}"
    );
    assert!(throttled > 0);

    // ECC keys have their own quota, and another account using this key draws on its own.
    let signed = admin
        .sign()
        .key_id(&signing)
        .message(Blob::new("m"))
        .message_type(MessageType::Raw)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await;
    assert_eq!(outcome(signed), "ok");
    let other = client(
        &server.endpoint(),
        &server.create_user(OTHER_ACCOUNT, "partner").await,
        REGION,
    );
    let mut exhausted = false;
    for _ in 0..20 {
        let sent = admin.generate_random().number_of_bytes(16).send().await;
        if outcome(sent) == "ThrottlingException" {
            exhausted = true;
            break;
        }
    }
    assert!(exhausted, "the key owner's symmetric quota is spent");
    let sent = other
        .encrypt()
        .key_id(key_arn(&key))
        .plaintext(Blob::new("theirs"))
        .send()
        .await;
    assert_eq!(outcome(sent), "ok");

    assert_eq!(throttled_metric(&server, "symmetric").await, throttled + 1);
    assert_eq!(throttled_metric(&server, "ecc").await, 0);
}

/// A request that acts in two Regions draws on the quota of both: ReplicateKey counts in the
/// replica's Region too, UpdatePrimaryRegion in the new primary's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_region_operations_count_in_both_regions() {
    // One request per 100 s: a spent quota stays spent for the whole test.
    let server = server_with(&["ReplicateKey=0.01", "UpdatePrimaryRegion=0.01"]).await;
    let (east, west) = (server.client(), server.client_in("eu-west-1"));
    let primary = |client: aws_sdk_kms::Client| async move {
        let out = client.create_key().multi_region(true).send().await;
        out.expect("CreateKey")
            .key_metadata()
            .unwrap()
            .key_id()
            .to_string()
    };
    let in_east = primary(east.clone()).await;
    let in_west = primary(west.clone()).await;

    let sent = east
        .replicate_key()
        .key_id(&in_east)
        .replica_region("eu-west-1")
        .send()
        .await;
    assert_eq!(outcome(sent), "ok");
    // eu-west-1's ReplicateKey quota went to the replica made there.
    let sent = west
        .replicate_key()
        .key_id(&in_west)
        .replica_region("ap-south-1")
        .send()
        .await;
    assert_eq!(outcome(sent), "ThrottlingException");

    // The same for UpdatePrimaryRegion, called in us-east-1, moving the primary to eu-west-1.
    let sent = east
        .update_primary_region()
        .key_id(&in_east)
        .primary_region("eu-west-1")
        .send()
        .await;
    assert_eq!(outcome(sent), "ok");
    let sent = west
        .update_primary_region()
        .key_id(&in_east)
        .primary_region("us-east-1")
        .send()
        .await;
    assert_eq!(outcome(sent), "ThrottlingException");
    assert_eq!(throttled_metric(&server, "ReplicateKey").await, 1);
    assert_eq!(throttled_metric(&server, "UpdatePrimaryRegion").await, 1);
}
