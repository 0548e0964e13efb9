//! Key management through aws-sdk-kms: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey,
//! UpdateKeyDescription, ScheduleKeyDeletion, CancelKeyDeletion, and the Region boundary.

mod common;

use aws_sdk_kms::types::{
    EncryptionAlgorithmSpec, KeyManagerType, KeySpec, KeyState, KeyUsageType, OriginType, Tag,
};
use common::*;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

// CustomerMasterKeySpec is deprecated in the model but still a member AWS answers with.
#[allow(deprecated)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_returns_every_metadata_field() {
    let server = TestServer::start().await;
    let kms = server.client();
    let before = now_ms();
    let out = kms
        .create_key()
        .description("My application key")
        .key_usage(KeyUsageType::EncryptDecrypt)
        .origin(OriginType::AwsKms)
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("payments")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateKey");
    let after = now_ms();
    let m = out.key_metadata().expect("KeyMetadata");

    let id = m.key_id();
    assert!(uuid_like(id), "key id {id}");
    assert_eq!(m.aws_account_id(), Some(ACCOUNT));
    assert_eq!(m.arn(), Some(key_arn(id).as_str()));
    let created = millis(m.creation_date().expect("CreationDate"));
    // The wire carries seconds with a fraction; allow a second of rounding either side.
    assert!(
        created >= before - 1000 && created <= after + 1000,
        "{created} not in [{before}, {after}]"
    );
    assert!(m.enabled());
    assert_eq!(m.description(), Some("My application key"));
    assert_eq!(m.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert_eq!(m.deletion_date(), None);
    assert_eq!(m.origin(), Some(&OriginType::AwsKms));
    assert_eq!(m.key_manager(), Some(&KeyManagerType::Customer));
    assert_eq!(
        m.customer_master_key_spec(),
        Some(&aws_sdk_kms::types::CustomerMasterKeySpec::SymmetricDefault)
    );
    assert_eq!(m.key_spec(), Some(&KeySpec::SymmetricDefault));
    assert_eq!(
        m.encryption_algorithms(),
        &[EncryptionAlgorithmSpec::SymmetricDefault]
    );
    assert!(m.signing_algorithms().is_empty());
    assert_eq!(m.multi_region(), Some(false));
    assert_eq!(m.pending_deletion_window_in_days(), None);
    assert_eq!(m.custom_key_store_id(), None);
    assert_eq!(m.valid_to(), None);

    // DescribeKey answers the same metadata.
    let d = kms
        .describe_key()
        .key_id(id)
        .send()
        .await
        .expect("DescribeKey");
    assert_eq!(d.key_metadata(), Some(m));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_defaults_to_an_empty_description() {
    let server = TestServer::start().await;
    let kms = server.client();
    let out = kms.create_key().send().await.expect("CreateKey");
    let m = out.key_metadata().unwrap();
    assert_eq!(m.description(), Some(""));
    assert!(m.enabled());
    assert!(m.deletion_date().is_none());
    assert_eq!(m.key_spec(), Some(&KeySpec::SymmetricDefault));
    assert_eq!(m.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    );
    let explicit = kms
        .create_key()
        .policy(policy)
        .key_spec(KeySpec::SymmetricDefault)
        .send()
        .await
        .expect("CreateKey SYMMETRIC_DEFAULT");
    assert_eq!(
        explicit.key_metadata().unwrap().key_spec(),
        Some(&KeySpec::SymmetricDefault)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_refuses_what_ferrokms_does_not_offer() {
    let server = TestServer::start().await;
    let kms = server.client();
    // Every key spec but SYMMETRIC_DEFAULT needs its KeyUsage (tests/asymmetric.rs makes them).
    for spec in [KeySpec::Rsa2048, KeySpec::EccNistP256, KeySpec::Hmac256] {
        expect_err(
            kms.create_key().key_spec(spec.clone()).send().await,
            "ValidationException",
        );
    }
    // AWS_CLOUDHSM needs its store (tests/custom_key_stores.rs); external key stores are not
    // offered yet.
    expect_err(
        kms.create_key()
            .origin(OriginType::AwsCloudhsm)
            .send()
            .await,
        "ValidationException",
    );
    expect_err(
        kms.create_key()
            .origin(OriginType::ExternalKeyStore)
            .send()
            .await,
        "UnsupportedOperationException",
    );
    expect_err(
        kms.create_key()
            .custom_key_store_id("cks-1234567890abcdef0")
            .send()
            .await,
        "CustomKeyStoreNotFoundException",
    );
    // A symmetric key cannot sign.
    expect_err(
        kms.create_key()
            .key_usage(KeyUsageType::SignVerify)
            .send()
            .await,
        "ValidationException",
    );
    // A key policy must at least be a JSON document with a Statement.
    for policy in ["not json", "[]", r#"{"Version": "2012-10-17"}"#] {
        expect_err(
            kms.create_key().policy(policy).send().await,
            "MalformedPolicyDocumentException",
        );
    }
    // Tags beginning with aws: are reserved.
    expect_err(
        kms.create_key()
            .tags(
                Tag::builder()
                    .tag_key("aws:x")
                    .tag_value("y")
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
        "TagException",
    );
    // Nothing was created by the refused requests.
    let keys = kms.list_keys().send().await.unwrap();
    assert!(keys.keys().is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_key_accepts_every_identifier_form() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/describe-me")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    for reference in [
        id.clone(),
        key_arn(&id),
        "alias/describe-me".to_string(),
        alias_arn("alias/describe-me"),
    ] {
        let out = kms
            .describe_key()
            .key_id(&reference)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DescribeKey {reference}: {e:?}"));
        assert_eq!(out.key_metadata().unwrap().key_id(), id, "{reference}");
    }
    let missing = "11111111-2222-3333-4444-555555555555";
    let msg = expect_err(
        kms.describe_key().key_id(missing).send().await,
        "NotFoundException",
    );
    assert!(msg.contains(missing), "{msg}");
    expect_err(
        kms.describe_key()
            .key_id("alias/no-such-alias")
            .send()
            .await,
        "NotFoundException",
    );
    expect_err(
        kms.describe_key()
            .key_id("arn:aws:kms:us-east-1:111122223333:nonsense")
            .send()
            .await,
        "InvalidArnException",
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_keys_pages_with_limit_one() {
    let server = TestServer::start().await;
    let kms = server.client();
    let mut created = Vec::new();
    for _ in 0..3 {
        created.push(create_key(&kms).await);
    }

    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = kms
            .list_keys()
            .limit(1)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("ListKeys");
        pages += 1;
        assert_eq!(out.keys().len(), 1, "page {pages}");
        for k in out.keys() {
            let id = k.key_id().unwrap().to_string();
            assert_eq!(k.key_arn(), Some(key_arn(&id).as_str()));
            seen.push(id);
        }
        if pages < 3 {
            assert!(out.truncated(), "page {pages} should be truncated");
            assert!(out.next_marker().is_some(), "page {pages} needs a marker");
        } else {
            assert!(!out.truncated(), "last page is not truncated");
            assert_eq!(out.next_marker(), None);
        }
        match out.next_marker() {
            Some(m) => marker = Some(m.to_string()),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    let mut a = seen.clone();
    a.sort();
    a.dedup();
    assert_eq!(a.len(), 3, "each key exactly once: {seen:?}");
    created.sort();
    assert_eq!(a, created);

    // Without a limit, one page with all three.
    let all = kms.list_keys().send().await.unwrap();
    assert_eq!(all.keys().len(), 3);
    assert!(!all.truncated());
    assert_eq!(all.next_marker(), None);

    // A limit of two: two pages of two and one.
    let first = kms.list_keys().limit(2).send().await.unwrap();
    assert_eq!(first.keys().len(), 2);
    assert!(first.truncated());
    let second = kms
        .list_keys()
        .limit(2)
        .marker(first.next_marker().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.keys().len(), 1);
    assert!(!second.truncated());

    expect_err(kms.list_keys().limit(0).send().await, "ValidationException");
    expect_err(
        kms.list_keys().limit(1001).send().await,
        "ValidationException",
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_and_enable_key() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;

    kms.disable_key()
        .key_id(&id)
        .send()
        .await
        .expect("DisableKey");
    let m = describe(&kms, &id).await;
    assert!(!m.enabled());
    assert_eq!(m.key_state(), Some(&KeyState::Disabled));
    // Disabling twice is fine, as at AWS.
    kms.disable_key()
        .key_id(key_arn(&id))
        .send()
        .await
        .expect("DisableKey by ARN");

    kms.enable_key()
        .key_id(key_arn(&id))
        .send()
        .await
        .expect("EnableKey");
    let m = describe(&kms, &id).await;
    assert!(m.enabled());
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    kms.enable_key()
        .key_id(&id)
        .send()
        .await
        .expect("EnableKey again");

    expect_err(
        kms.enable_key()
            .key_id("11111111-2222-3333-4444-555555555555")
            .send()
            .await,
        "NotFoundException",
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_key_description() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    kms.update_key_description()
        .key_id(&id)
        .description("new words")
        .send()
        .await
        .expect("UpdateKeyDescription");
    assert_eq!(describe(&kms, &id).await.description(), Some("new words"));
    kms.update_key_description()
        .key_id(key_arn(&id))
        .description("")
        .send()
        .await
        .expect("empty description");
    assert_eq!(describe(&kms, &id).await.description(), Some(""));
    expect_err(
        kms.update_key_description()
            .key_id(&id)
            .description("x".repeat(8193))
            .send()
            .await,
        "ValidationException",
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_and_cancel_key_deletion() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;

    let before = now_ms();
    let out = kms
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("ScheduleKeyDeletion");
    let after = now_ms();
    assert_eq!(out.key_id(), Some(key_arn(&id).as_str()));
    assert_eq!(out.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(out.pending_window_in_days(), Some(7));
    let date = millis(out.deletion_date().expect("DeletionDate"));
    assert!(
        date >= before + 7 * DAY_MS - 1000 && date <= after + 7 * DAY_MS + 1000,
        "deletion date {date} is not 7 days after {before}"
    );

    let m = describe(&kms, &id).await;
    assert_eq!(m.key_state(), Some(&KeyState::PendingDeletion));
    assert!(!m.enabled());
    assert_eq!(m.pending_deletion_window_in_days(), Some(7));
    assert_eq!(millis(m.deletion_date().expect("DeletionDate")), date);

    // Scheduling again, or enabling, is refused while pending deletion.
    expect_err(
        kms.schedule_key_deletion().key_id(&id).send().await,
        "KMSInvalidStateException",
    );
    expect_err(
        kms.enable_key().key_id(&id).send().await,
        "KMSInvalidStateException",
    );

    let out = kms
        .cancel_key_deletion()
        .key_id(&id)
        .send()
        .await
        .expect("CancelKeyDeletion");
    assert_eq!(out.key_id(), Some(key_arn(&id).as_str()));
    let m = describe(&kms, &id).await;
    assert_eq!(m.key_state(), Some(&KeyState::Disabled));
    assert!(!m.enabled());
    assert_eq!(m.deletion_date(), None);
    assert_eq!(m.pending_deletion_window_in_days(), None);
    expect_err(
        kms.cancel_key_deletion().key_id(&id).send().await,
        "KMSInvalidStateException",
    );
    kms.enable_key()
        .key_id(&id)
        .send()
        .await
        .expect("EnableKey");
    assert!(describe(&kms, &id).await.enabled());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_key_deletion_window_is_7_to_30_days_default_30() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    for days in [6, 31, 0] {
        let msg = expect_err(
            kms.schedule_key_deletion()
                .key_id(&id)
                .pending_window_in_days(days)
                .send()
                .await,
            "ValidationException",
        );
        assert!(msg.contains("pendingWindowInDays"), "{msg}");
    }
    assert_eq!(
        describe(&kms, &id).await.key_state(),
        Some(&KeyState::Enabled)
    );
    let before = now_ms();
    let out = kms
        .schedule_key_deletion()
        .key_id(&id)
        .send()
        .await
        .expect("default window");
    assert_eq!(out.pending_window_in_days(), Some(30));
    let date = millis(out.deletion_date().unwrap());
    assert!((date - (before + 30 * DAY_MS)).abs() < 60_000, "{date}");

    let other = create_key(&kms).await;
    let out = kms
        .schedule_key_deletion()
        .key_id(key_arn(&other))
        .pending_window_in_days(30)
        .send()
        .await
        .expect("30 days by ARN");
    assert_eq!(out.pending_window_in_days(), Some(30));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_live_in_the_region_of_the_signature() {
    let server = TestServer::start().await;
    let east = server.client();
    let west = server.client_in("eu-west-1");
    let id = create_key(&east).await;

    expect_err(
        west.describe_key().key_id(&id).send().await,
        "NotFoundException",
    );
    expect_err(
        west.describe_key().key_id(key_arn(&id)).send().await,
        "NotFoundException",
    );
    expect_err(
        west.encrypt()
            .key_id(&id)
            .plaintext(aws_sdk_kms::primitives::Blob::new("x"))
            .send()
            .await,
        "NotFoundException",
    );
    assert!(west.list_keys().send().await.unwrap().keys().is_empty());

    // A key made in eu-west-1 has an eu-west-1 ARN and is invisible from us-east-1.
    let west_key = west.create_key().send().await.unwrap();
    let m = west_key.key_metadata().unwrap();
    assert_eq!(
        m.arn().unwrap(),
        format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/{}", m.key_id())
    );
    expect_err(
        east.describe_key().key_id(m.key_id()).send().await,
        "NotFoundException",
    );
    assert_eq!(east.list_keys().send().await.unwrap().keys().len(), 1);
    server.shutdown().await;
}

async fn describe(kms: &aws_sdk_kms::Client, id: &str) -> aws_sdk_kms::types::KeyMetadata {
    kms.describe_key()
        .key_id(id)
        .send()
        .await
        .expect("DescribeKey")
        .key_metadata()
        .expect("KeyMetadata")
        .clone()
}

fn uuid_like(id: &str) -> bool {
    let parts: Vec<_> = id.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && id.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

/// ListKeys `ResourceOwners`: SELF lists the account's keys; OTHER_ACCOUNTS_VIA_RAM alone lists
/// none (ferrokms has no AWS RAM shares); other values are refused as the model's enum. Raw
/// signed requests: the aws-sdk-kms this workspace locks predates the member.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_keys_takes_resource_owners() {
    let server = TestServer::start().await;
    let key = create_key(&server.client()).await;
    let list = |owners: serde_json::Value| {
        let server = &server;
        async move {
            call(
                server,
                "ListKeys",
                &serde_json::json!({"ResourceOwners": owners}),
            )
            .await
        }
    };
    let ids = |answer: &RawResponse| -> Vec<String> {
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        answer.json()["Keys"]
            .as_array()
            .expect("Keys")
            .iter()
            .map(|k| k["KeyId"].as_str().expect("KeyId").to_string())
            .collect()
    };
    assert!(ids(&list(serde_json::json!(["SELF"])).await).contains(&key));
    assert!(ids(&list(serde_json::json!(["SELF", "OTHER_ACCOUNTS_VIA_RAM"])).await).contains(&key));
    assert!(ids(&list(serde_json::json!(["OTHER_ACCOUNTS_VIA_RAM"])).await).is_empty());
    let message = list(serde_json::json!(["x"]))
        .await
        .assert_error("ValidationException");
    assert!(message.contains("resourceOwners.1.member"), "{message}");
    list(serde_json::json!([]))
        .await
        .assert_error("ValidationException");
    list(serde_json::json!([{"x": 1}]))
        .await
        .assert_error("SerializationException");
    server.shutdown().await;
}
