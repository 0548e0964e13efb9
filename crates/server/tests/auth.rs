//! Authentication (SigV4) and this stage's authorisation rule: every authenticated principal of
//! the key's account may use its keys, and no other.

mod common;

use aws_sdk_kms::primitives::Blob;
use common::*;
use std::time::{Duration, SystemTime};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_access_key_is_unrecognized_client() {
    let server = TestServer::start().await;
    let stranger = Creds {
        arn: String::new(),
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
    };
    let kms = client(&server.endpoint(), &stranger, REGION);
    expect_err(kms.list_keys().send().await, "UnrecognizedClientException");
    let r = Signed::new(&stranger, "ListKeys", b"{}")
        .send(server.addr())
        .await;
    assert_eq!(
        r.assert_error("UnrecognizedClientException"),
        "The security token included in the request is invalid."
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_is_invalid_signature() {
    let server = TestServer::start().await;
    let mut forged = server.admin.clone();
    forged.secret_access_key = format!("{}x", &forged.secret_access_key[1..]);
    let kms = client(&server.endpoint(), &forged, REGION);
    let msg = expect_err(kms.list_keys().send().await, "InvalidSignatureException");
    assert!(
        msg.starts_with("The request signature we calculated does not match"),
        "{msg}"
    );
    // The real secret works.
    server.client().list_keys().send().await.expect("ListKeys");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_authorization_is_missing_authentication_token() {
    let server = TestServer::start().await;
    let headers = vec![
        ("host".to_string(), server.addr().to_string()),
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
        (
            "x-amz-target".to_string(),
            "TrentService.ListKeys".to_string(),
        ),
    ];
    let r = raw_request(server.addr(), "POST", "/", &headers, b"{}").await;
    assert_eq!(
        r.assert_error("MissingAuthenticationTokenException"),
        "Missing Authentication Token"
    );
    // Not even the method or the operation is looked at before authentication.
    let host = vec![("host".to_string(), server.addr().to_string())];
    let r = raw_request(server.addr(), "GET", "/", &host, b"").await;
    r.assert_error("MissingAuthenticationTokenException");
    server.shutdown().await;
}

/// `http.rs` means to answer any method and path with an AWS JSON error (it checks
/// `method != POST || path != "/"` itself), but the router only routes `/`, so every other path
/// gets the framework's bare 404: no JSON body, no `application/x-amz-json-1.1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_path_gets_an_aws_json_error() {
    let server = TestServer::start().await;
    let host = vec![("host".to_string(), server.addr().to_string())];
    let r = raw_request(server.addr(), "GET", "/nowhere", &host, b"").await;
    r.assert_error("MissingAuthenticationTokenException");
    // Signed, to another path: the operation is unknown there.
    let signed = Signed::new(&server.admin, "ListKeys", b"{}");
    let headers = signed.headers(server.addr());
    let r = raw_request(server.addr(), "POST", "/other", &headers, b"{}").await;
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.1"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_authorization_is_incomplete_signature() {
    let server = TestServer::start().await;
    for value in [
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=AKIA/20240101/us-east-1/kms/aws4_request",
        "AWS4-HMAC-SHA256 garbage",
    ] {
        let headers = vec![
            ("host".to_string(), server.addr().to_string()),
            (
                "x-amz-target".to_string(),
                "TrentService.ListKeys".to_string(),
            ),
            ("x-amz-date".to_string(), "20240101T000000Z".to_string()),
            ("authorization".to_string(), value.to_string()),
        ];
        let r = raw_request(server.addr(), "POST", "/", &headers, b"{}").await;
        r.assert_error("IncompleteSignatureException");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_signed_ten_minutes_ago_has_an_expired_signature() {
    let server = TestServer::start().await;
    let mut req = Signed::new(&server.admin, "ListKeys", b"{}");
    req.time = SystemTime::now() - Duration::from_secs(600);
    let msg = req
        .send(server.addr())
        .await
        .assert_error("InvalidSignatureException");
    assert!(msg.contains("Signature expired"), "{msg}");

    let mut req = Signed::new(&server.admin, "ListKeys", b"{}");
    req.time = SystemTime::now() + Duration::from_secs(600);
    req.send(server.addr())
        .await
        .assert_error("InvalidSignatureException");

    // Four minutes of skew either way is accepted.
    for skew in [-240i64, 240] {
        let mut req = Signed::new(&server.admin, "ListKeys", b"{}");
        req.time = if skew < 0 {
            SystemTime::now() - Duration::from_secs(240)
        } else {
            SystemTime::now() + Duration::from_secs(240)
        };
        let r = req.send(server.addr()).await;
        assert_eq!(r.status, 200, "skew {skew}: {:?}", r.json());
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_change_after_signing_is_refused() {
    let server = TestServer::start().await;
    let id = create_key(&server.client()).await;
    let body = format!(r#"{{"KeyId":"{id}"}}"#);

    // Sanity: the untouched request passes.
    let signed = Signed::new(&server.admin, "DisableKey", body.as_bytes());
    let headers = signed.headers(server.addr());
    let r = raw_request(server.addr(), "POST", "/", &headers, body.as_bytes()).await;
    assert_eq!(r.status, 200, "{:?}", r.json());

    // Another body under the same signature.
    let other = format!(r#"{{"KeyId":"{id}" }}"#);
    let r = raw_request(server.addr(), "POST", "/", &headers, other.as_bytes()).await;
    r.assert_error("InvalidSignatureException");

    // Another operation under the same signature (the replay the signed target prevents).
    let replay: Vec<_> = headers
        .iter()
        .map(|(n, v)| {
            if n == "x-amz-target" {
                (n.clone(), "TrentService.ScheduleKeyDeletion".to_string())
            } else {
                (n.clone(), v.clone())
            }
        })
        .collect();
    let r = raw_request(server.addr(), "POST", "/", &replay, body.as_bytes()).await;
    r.assert_error("InvalidSignatureException");

    // A target added after signing, outside the signed headers.
    let mut unsigned = Signed::new(&server.admin, "x", body.as_bytes());
    unsigned.target = None;
    let mut headers = unsigned.headers(server.addr());
    headers.push((
        "x-amz-target".to_string(),
        "TrentService.ScheduleKeyDeletion".to_string(),
    ));
    let r = raw_request(server.addr(), "POST", "/", &headers, body.as_bytes()).await;
    r.assert_error("IncompleteSignatureException");

    let state = server
        .client()
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_state()
        .cloned();
    assert_eq!(state, Some(aws_sdk_kms::types::KeyState::Disabled));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_must_name_kms_and_a_region() {
    let server = TestServer::start().await;
    let mut req = Signed::new(&server.admin, "ListKeys", b"{}");
    req.service = "s3";
    req.send(server.addr())
        .await
        .assert_error("InvalidSignatureException");
    let mut req = Signed::new(&server.admin, "ListKeys", b"{}");
    req.region = "US_EAST_1";
    req.send(server.addr())
        .await
        .assert_error("InvalidSignatureException");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_tokens_are_not_accepted_for_long_term_keys() {
    let server = TestServer::start().await;
    let config = aws_sdk_kms::config::Builder::new()
        .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
        .region(aws_sdk_kms::config::Region::new(REGION))
        .endpoint_url(server.endpoint())
        .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            server.admin.access_key_id.clone(),
            server.admin.secret_access_key.clone(),
            Some("a-session-token".into()),
            None,
            "test",
        ))
        .build();
    let kms = aws_sdk_kms::Client::from_conf(config);
    expect_err(kms.list_keys().send().await, "UnrecognizedClientException");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn principal_created_while_running_works_at_once() {
    let server = TestServer::start().await;
    let admin = server.client();
    let id = create_key(&admin).await;
    let blob = encrypt(&admin, &id, b"shared").await;

    let bob = server.create_user(ACCOUNT, "bob").await;
    assert_eq!(bob.arn, format!("arn:aws:iam::{ACCOUNT}:user/bob"));
    assert!(bob.access_key_id.starts_with("AKIA"));
    let kms = client(&server.endpoint(), &bob, REGION);
    // Same account: bob sees and uses the administrator's keys.
    assert_eq!(decrypt(&kms, &blob).await, b"shared");
    let keys = kms.list_keys().send().await.unwrap();
    assert_eq!(keys.keys().len(), 1);
    let mine = encrypt(&kms, &key_arn(&id), b"from bob").await;
    assert_eq!(decrypt(&admin, &mine).await, b"from bob");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_account_is_denied() {
    let server = TestServer::start().await;
    let admin = server.client();
    let id = create_key(&admin).await;
    admin
        .create_alias()
        .alias_name("alias/owned")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    let blob = encrypt(&admin, &id, b"private").await;

    let eve = server.create_user(OTHER_ACCOUNT, "eve").await;
    let kms = client(&server.endpoint(), &eve, REGION);
    let arn = key_arn(&id);

    let msg = expect_err(
        kms.encrypt()
            .key_id(&arn)
            .plaintext(Blob::new("x"))
            .send()
            .await,
        "AccessDeniedException",
    );
    let expected = format!(
        "User: arn:aws:iam::{OTHER_ACCOUNT}:user/eve is not authorized to perform: kms:Encrypt on resource: {arn}"
    );
    assert!(msg.starts_with(&expected), "{msg}");

    let msg = expect_err(
        kms.decrypt()
            .ciphertext_blob(Blob::new(blob.clone()))
            .send()
            .await,
        "AccessDeniedException",
    );
    assert!(msg.contains("kms:Decrypt"), "{msg}");
    expect_err(
        kms.describe_key().key_id(&arn).send().await,
        "AccessDeniedException",
    );
    expect_err(
        kms.describe_key()
            .key_id(alias_arn("alias/owned"))
            .send()
            .await,
        "AccessDeniedException",
    );
    expect_err(
        kms.generate_data_key()
            .key_id(&arn)
            .number_of_bytes(16)
            .send()
            .await,
        "AccessDeniedException",
    );
    expect_err(
        kms.disable_key().key_id(&arn).send().await,
        "AccessDeniedException",
    );
    expect_err(
        kms.schedule_key_deletion().key_id(&arn).send().await,
        "AccessDeniedException",
    );
    expect_err(
        kms.tag_resource()
            .key_id(&arn)
            .tags(
                aws_sdk_kms::types::Tag::builder()
                    .tag_key("a")
                    .tag_value("b")
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
        "AccessDeniedException",
    );
    // A bare key id resolves in eve's own account, where there is no such key.
    expect_err(
        kms.describe_key().key_id(&id).send().await,
        "NotFoundException",
    );
    // Eve's account is empty; her own keys are hers.
    assert!(kms.list_keys().send().await.unwrap().keys().is_empty());
    assert!(kms
        .list_aliases()
        .send()
        .await
        .unwrap()
        .aliases()
        .is_empty());
    let hers = kms.create_key().send().await.unwrap();
    let hers = hers.key_metadata().unwrap();
    assert_eq!(hers.aws_account_id(), Some(OTHER_ACCOUNT));
    let her_blob = encrypt(&kms, hers.arn().unwrap(), b"eve's").await;
    assert_eq!(decrypt(&kms, &her_blob).await, b"eve's");
    expect_err(
        admin
            .decrypt()
            .ciphertext_blob(Blob::new(her_blob))
            .send()
            .await,
        "AccessDeniedException",
    );

    // Nothing eve did changed the key.
    let m = admin.describe_key().key_id(&id).send().await.unwrap();
    assert!(m.key_metadata().unwrap().enabled());
    assert_eq!(decrypt(&admin, &blob).await, b"private");
    server.shutdown().await;
}
