//! GetKeyLastUsage through aws-sdk-kms: a key's last successful cryptographic operation with its
//! request id and audit event id, both keys of a ReEncrypt, failures and non-cryptographic calls
//! not counted, TrackingStartDate, and uses surviving a restart (flushed at shutdown).

mod common;

use aws_sdk_kms::operation::RequestId;
use aws_sdk_kms::primitives::Blob;
use common::*;
use ferrokms_audit::{query, QueryFilter};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_use_names_the_operation_request_and_audit_event() {
    let server = TestServer::start().await;
    let kms = server.client();
    let before = now_ms();
    let key = create_key(&kms).await;

    // Not used yet: KeyLastUsage is empty; tracking began before (or when) the key was created.
    let fresh = kms
        .get_key_last_usage()
        .key_id(&key)
        .send()
        .await
        .expect("GetKeyLastUsage");
    assert_eq!(fresh.key_id(), Some(key.as_str()));
    let usage = fresh
        .key_last_usage()
        .expect("KeyLastUsage is present, empty");
    assert_eq!(usage.operation(), None);
    assert_eq!(usage.timestamp(), None);
    let created = millis(fresh.key_creation_date().expect("KeyCreationDate"));
    let tracking = millis(fresh.tracking_start_date().expect("TrackingStartDate"));
    assert_eq!(
        tracking, created,
        "tracking started before this key existed"
    );
    assert!(created >= before - 1000);

    let encrypted = kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"hello".as_slice()))
        .send()
        .await
        .expect("Encrypt");
    let request_id = encrypted.request_id().expect("request id").to_string();
    let used = kms
        .get_key_last_usage()
        .key_id(key_arn(&key))
        .send()
        .await
        .expect("GetKeyLastUsage by ARN");
    let usage = used.key_last_usage().expect("KeyLastUsage");
    assert_eq!(usage.operation().map(|o| o.as_str()), Some("Encrypt"));
    assert_eq!(usage.kms_request_id(), Some(request_id.as_str()));
    let at = millis(usage.timestamp().expect("Timestamp"));
    assert!(at >= created && at <= now_ms() + 1000);

    // Reads, management and failures are not uses.
    kms.describe_key()
        .key_id(&key)
        .send()
        .await
        .expect("DescribeKey");
    expect_err(
        kms.decrypt()
            .key_id(&key)
            .ciphertext_blob(Blob::new(vec![1u8; 80]))
            .send()
            .await,
        "InvalidCiphertextException",
    );
    let still = kms
        .get_key_last_usage()
        .key_id(&key)
        .send()
        .await
        .expect("get");
    assert_eq!(
        still.key_last_usage().and_then(|u| u.kms_request_id()),
        Some(request_id.as_str())
    );

    // Aliases are not accepted, as at AWS; unknown keys are NotFound.
    kms.create_alias()
        .alias_name("alias/used")
        .target_key_id(&key)
        .send()
        .await
        .expect("CreateAlias");
    expect_err(
        kms.get_key_last_usage().key_id("alias/used").send().await,
        "NotFoundException",
    );
    expect_err(
        kms.get_key_last_usage()
            .key_id("1234abcd-12ab-34cd-56ef-1234567890ab")
            .send()
            .await,
        "NotFoundException",
    );

    // The event id is the audit trail's event of that Encrypt.
    let event_id = usage
        .cloud_trail_event_id()
        .expect("CloudTrailEventId")
        .to_string();
    let dir = server.shutdown().await;
    let event = query(&dir.path().join("audit"), QueryFilter::default())
        .expect("query")
        .map(|r| r.expect("record").event)
        .find(|e| e.event_id == event_id)
        .expect("the event named by CloudTrailEventId");
    assert_eq!(event.event_name, "Encrypt");
    assert_eq!(event.request_id, request_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_encrypt_uses_both_keys_and_uses_survive_a_restart() {
    let server = TestServer::start().await;
    let kms = server.client();
    let source = create_key(&kms).await;
    let destination = create_key(&kms).await;
    let ciphertext = encrypt(&kms, &source, b"moving").await;
    kms.re_encrypt()
        .ciphertext_blob(Blob::new(ciphertext))
        .destination_key_id(&destination)
        .send()
        .await
        .expect("ReEncrypt");
    for key in [&source, &destination] {
        let out = kms
            .get_key_last_usage()
            .key_id(key)
            .send()
            .await
            .expect("get");
        assert_eq!(
            out.key_last_usage()
                .and_then(|u| u.operation())
                .map(|o| o.as_str()),
            Some("ReEncrypt"),
            "key {key}"
        );
    }

    // A clean shutdown flushes the uses held in memory; a restart reads them back.
    let dir = server.shutdown().await;
    let running = start_in(dir.path()).await;
    let creds = read_credentials_file(&dir.path().join("credentials"));
    let kms = client(&running.endpoint(), &creds, REGION);
    let out = kms
        .get_key_last_usage()
        .key_id(&destination)
        .send()
        .await
        .expect("get after restart");
    assert_eq!(
        out.key_last_usage()
            .and_then(|u| u.operation())
            .map(|o| o.as_str()),
        Some("ReEncrypt")
    );
    running.shutdown().await;
}
