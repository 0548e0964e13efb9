//! Regression tests for the holes the security review found (issue 12), each tried the way the
//! reviewer tried it: with aws-sdk-kms, or with raw signed HTTP where a client cannot send the input.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::Client;
use base64::Engine;
use common::*;
use serde_json::json;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A key whose policy names only the server's administrator: nobody else may touch it, whatever
/// his identity policy says.
async fn admin_only_key(server: &TestServer) -> String {
    let admin = server.client();
    let key = create_key(&admin).await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"kms:*","Resource":"*"}}]}}"#,
        server.admin.arn
    );
    admin
        .put_key_policy()
        .key_id(&key)
        .policy(policy)
        .send()
        .await
        .expect("admin-only policy");
    key
}

async fn alias_target(kms: &Client, alias: &str) -> Option<String> {
    kms.list_aliases()
        .send()
        .await
        .unwrap()
        .aliases()
        .iter()
        .find(|a| a.alias_name() == Some(alias))
        .and_then(|a| a.target_key_id().map(str::to_string))
}

/// Finding 1 (critical): a user with `kms:*` in his identity policy but no access to the alias's
/// current key could re-point the alias at his own key (and read what was encrypted under it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_and_delete_alias_need_the_current_key() {
    let server = TestServer::start().await;
    let admin = server.client();
    let payments = admin_only_key(&server).await;
    admin
        .create_alias()
        .alias_name("alias/prod-payments")
        .target_key_id(&payments)
        .send()
        .await
        .unwrap();
    let (mallory, _) = user_with_policy(&server, ACCOUNT, "mallory", Some(ALL_KMS)).await;
    let his = create_key(&mallory).await;

    expect_err(
        mallory
            .update_alias()
            .alias_name("alias/prod-payments")
            .target_key_id(&his)
            .send()
            .await,
        "AccessDeniedException",
    );
    expect_err(
        mallory
            .delete_alias()
            .alias_name("alias/prod-payments")
            .send()
            .await,
        "AccessDeniedException",
    );
    assert_eq!(
        alias_target(&admin, "alias/prod-payments").await.as_deref(),
        Some(payments.as_str())
    );

    // Allowed on the alias and on both keys, the administrator moves it.
    let other = create_key(&admin).await;
    admin
        .update_alias()
        .alias_name("alias/prod-payments")
        .target_key_id(&other)
        .send()
        .await
        .expect("the administrator may move the alias");
    assert_eq!(
        alias_target(&admin, "alias/prod-payments").await.as_deref(),
        Some(other.as_str())
    );
    server.shutdown().await;
}

/// Finding 1: the alias's own permission comes from the identity policy on the alias ARN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_alias_needs_the_alias_in_the_identity_policy() {
    let server = TestServer::start().await;
    let admin = server.client();
    let (k1, k2) = (create_key(&admin).await, create_key(&admin).await);
    admin
        .create_alias()
        .alias_name("alias/app")
        .target_key_id(&k1)
        .send()
        .await
        .unwrap();
    // kms:UpdateAlias on both keys, but not on the alias.
    let keys_only = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"kms:UpdateAlias","Resource":["{}","{}"]}}]}}"#,
        key_arn(&k1),
        key_arn(&k2)
    );
    let (ops, _) = user_with_policy(&server, ACCOUNT, "ops", Some(&keys_only)).await;
    expect_err(
        ops.update_alias()
            .alias_name("alias/app")
            .target_key_id(&k2)
            .send()
            .await,
        "AccessDeniedException",
    );
    let with_alias = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"kms:UpdateAlias","Resource":["{}","{}","{}"]}}]}}"#,
        key_arn(&k1),
        key_arn(&k2),
        alias_arn("alias/app")
    );
    let (ops2, _) = user_with_policy(&server, ACCOUNT, "ops2", Some(&with_alias)).await;
    ops2.update_alias()
        .alias_name("alias/app")
        .target_key_id(&k2)
        .send()
        .await
        .expect("allowed on the alias and both keys");
    server.shutdown().await;
}

fn deny_all_but(exempt: &[String]) -> String {
    let exempt: Vec<String> = exempt.iter().map(|p| format!("\"{p}\"")).collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},
            {{"Effect":"Deny","NotPrincipal":{{"AWS":[{}]}},"Action":"kms:*","Resource":"*"}}]}}"#,
        exempt.join(",")
    )
}

/// Finding 2 (high): `NotPrincipal: [admin, account root]` exempted every user of the account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_principal_with_the_account_exempts_only_those_listed() {
    let server = TestServer::start().await;
    let admin = server.client();
    let (bob, _) = user_with_policy(&server, ACCOUNT, "bob", Some(ALL_KMS)).await;
    for account_entry in [format!("arn:aws:iam::{ACCOUNT}:root"), ACCOUNT.to_string()] {
        let key = create_key(&admin).await;
        admin
            .put_key_policy()
            .key_id(&key)
            .policy(deny_all_but(&[
                server.admin.arn.clone(),
                account_entry.clone(),
            ]))
            .send()
            .await
            .expect("policy");
        let denied = bob
            .encrypt()
            .key_id(&key)
            .plaintext(Blob::new("x"))
            .send()
            .await;
        expect_err(denied, "AccessDeniedException");
        encrypt(&admin, &key, b"the admin is exempt").await;
    }
    server.shutdown().await;
}

/// Finding 3 (high): a principal of another account that a key policy allows `kms:*` may use the
/// key, but not manage it, alias it or replicate it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_operations_refuse_other_accounts() {
    let server = TestServer::start().await;
    let admin = server.client();
    let key = admin
        .create_key()
        .multi_region(true)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    let shared = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OTHER_ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    );
    admin
        .put_key_policy()
        .key_id(&key)
        .policy(&shared)
        .send()
        .await
        .unwrap();
    let (eve, _) = user_with_policy(&server, OTHER_ACCOUNT, "eve", Some(ALL_KMS)).await;
    let arn = key_arn(&key);

    // Cross-account use: Yes.
    let blob = encrypt(&eve, &arn, b"shared").await;
    assert_eq!(decrypt(&eve, &blob).await, b"shared");
    eve.describe_key().key_id(&arn).send().await.unwrap();

    // Cross-account use: No.
    let denied = "AccessDeniedException";
    expect_err(
        eve.put_key_policy()
            .key_id(&arn)
            .policy(&shared)
            .send()
            .await,
        denied,
    );
    expect_err(
        eve.schedule_key_deletion()
            .key_id(&arn)
            .pending_window_in_days(7)
            .send()
            .await,
        denied,
    );
    expect_err(eve.disable_key().key_id(&arn).send().await, denied);
    expect_err(eve.enable_key().key_id(&arn).send().await, denied);
    expect_err(
        eve.update_key_description()
            .key_id(&arn)
            .description("mine")
            .send()
            .await,
        denied,
    );
    let tag = aws_sdk_kms::types::Tag::builder()
        .tag_key("owner")
        .tag_value("eve")
        .build()
        .unwrap();
    expect_err(
        eve.tag_resource().key_id(&arn).tags(tag).send().await,
        denied,
    );
    expect_err(eve.enable_key_rotation().key_id(&arn).send().await, denied);
    expect_err(eve.rotate_key_on_demand().key_id(&arn).send().await, denied);
    expect_err(
        eve.create_alias()
            .alias_name("alias/borrowed")
            .target_key_id(&arn)
            .send()
            .await,
        denied,
    );
    expect_err(
        eve.replicate_key()
            .key_id(&arn)
            .replica_region("us-west-2")
            .send()
            .await,
        denied,
    );

    // Nothing changed.
    let m = admin.describe_key().key_id(&key).send().await.unwrap();
    let m = m.key_metadata().unwrap();
    assert!(m.enabled());
    assert!(m.deletion_date().is_none());
    assert!(m
        .multi_region_configuration()
        .is_none_or(|c| c.replica_keys().is_empty()));
    server.shutdown().await;
}

/// Finding 6 (medium): another account listed this account's grants by naming a retiring
/// principal of this account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_retirable_grants_refuses_another_accounts_principal() {
    let server = TestServer::start().await;
    let admin = server.client();
    let key = create_key(&admin).await;
    let (dave, dave_arn) = user_with_policy(&server, ACCOUNT, "dave", Some(ALL_KMS)).await;
    admin
        .create_grant()
        .key_id(&key)
        .grantee_principal(&dave_arn)
        .retiring_principal(&dave_arn)
        .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
        .send()
        .await
        .unwrap();
    let listed = dave
        .list_retirable_grants()
        .retiring_principal(&dave_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.grants().len(), 1);

    let (eve, _) = user_with_policy(&server, OTHER_ACCOUNT, "eve", Some(ALL_KMS)).await;
    expect_err(
        eve.list_retirable_grants()
            .retiring_principal(&dave_arn)
            .send()
            .await,
        "AccessDeniedException",
    );
    server.shutdown().await;
}

fn last_event(server: &TestServer, name: &str) -> ferrokms_audit::AuditEvent {
    ferrokms_audit::query(
        &server.dir.path().join("audit"),
        ferrokms_audit::QueryFilter::default(),
    )
    .expect("query")
    .map(|r| r.expect("record").event)
    .filter(|e| e.event_name == name)
    .last()
    .unwrap_or_else(|| panic!("no {name} event"))
}

/// Finding 7 (medium): a member differing only in case (`keyId` beside `KeyId`) is ignored by the
/// operation, as by AWS's case-sensitive JSON protocol, and the audit records what was used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_records_the_members_the_operation_used() {
    let server = TestServer::start().await;
    let admin = server.client();
    let (own, victim) = (create_key(&admin).await, create_key(&admin).await);

    let answer = call(
        &server,
        "Encrypt",
        &json!({"KeyId": own, "keyId": victim, "Plaintext": b64(b"x")}),
    )
    .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(answer.json()["KeyId"], key_arn(&own));
    let event = last_event(&server, "Encrypt");
    let params = event.request_parameters.expect("parameters");
    assert_eq!(params["keyId"], json!(own));
    assert_eq!(event.resources.len(), 1);
    assert_eq!(event.resources[0].arn, key_arn(&own));

    let blob = admin
        .encrypt()
        .key_id(&own)
        .plaintext(Blob::new("salary"))
        .encryption_context("record", "ceo-salary")
        .send()
        .await
        .unwrap();
    let blob = blob.ciphertext_blob().unwrap().as_ref().to_vec();
    let answer = call(
        &server,
        "Decrypt",
        &json!({
            "CiphertextBlob": b64(&blob),
            "EncryptionContext": {"record": "ceo-salary"},
            "encryptionContext": {"record": "my-own-timesheet"},
        }),
    )
    .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let params = last_event(&server, "Decrypt")
        .request_parameters
        .expect("parameters");
    assert_eq!(params["encryptionContext"], json!({"record": "ceo-salary"}));
    server.shutdown().await;
}

/// Finding 9 (low): `kms:ReEncryptOnSameKey` compared request strings, so naming the same key by
/// alias or ARN, or leaving SourceKeyId out, escaped a Deny.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_encrypt_on_same_key_compares_keys_not_strings() {
    let server = TestServer::start().await;
    let admin = server.client();
    let key = create_key(&admin).await;
    let other = create_key(&admin).await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},
            {{"Effect":"Deny","Principal":{{"AWS":"*"}},"Action":"kms:ReEncrypt*","Resource":"*",
              "Condition":{{"Bool":{{"kms:ReEncryptOnSameKey":"true"}}}}}}]}}"#
    );
    admin
        .put_key_policy()
        .key_id(&key)
        .policy(policy)
        .send()
        .await
        .unwrap();
    admin
        .create_alias()
        .alias_name("alias/same")
        .target_key_id(&key)
        .send()
        .await
        .unwrap();
    let blob = Blob::new(encrypt(&admin, &key, b"x").await);

    let attempts: [(Option<String>, String); 4] = [
        (None, key.clone()),
        (Some(key.clone()), "alias/same".into()),
        (Some("alias/same".into()), key_arn(&key)),
        (None, alias_arn("alias/same")),
    ];
    for (source, destination) in attempts {
        let mut request = admin
            .re_encrypt()
            .ciphertext_blob(blob.clone())
            .destination_key_id(&destination);
        if let Some(source) = &source {
            request = request.source_key_id(source);
        }
        let result = request.send().await;
        assert!(
            matches!(&result, Err(e) if code(e) == "AccessDeniedException"),
            "source {source:?} → {destination}: {result:?}"
        );
    }
    // Onto another key: the condition is false, so the Deny does not apply.
    admin
        .re_encrypt()
        .ciphertext_blob(blob)
        .destination_key_id(&other)
        .send()
        .await
        .expect("re-encrypting onto another key");
    server.shutdown().await;
}

/// Contention is never an error: 64 concurrent DisableKey/EnableKey calls on one key all succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_writers_on_one_key_all_succeed() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create_key(&kms).await;
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let (kms, id) = (kms.clone(), id.clone());
            tokio::spawn(async move {
                if i % 2 == 0 {
                    kms.disable_key()
                        .key_id(id)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| format!("{e:?}"))
                } else {
                    kms.enable_key()
                        .key_id(id)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| format!("{e:?}"))
                }
            })
        })
        .collect();
    let mut failures = Vec::new();
    for t in tasks {
        if let Err(e) = t.await.expect("task") {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        failures.first()
    );
    server.shutdown().await;
}

/// Finding 12 (low): a presigned request whose signed payload hash is `UNSIGNED-PAYLOAD` ran with
/// any body (a presigned DescribeKey with another KeyId). AWS allows that for S3 only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_unsigned_payload_is_refused() {
    use aws_sigv4::http_request::{
        sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    };
    use aws_sigv4::sign::v4;

    let server = TestServer::start().await;
    let admin = server.client();
    let (mine, theirs) = (create_key(&admin).await, create_key(&admin).await);
    let addr = server.addr();
    let headers = vec![
        ("host".to_string(), addr.to_string()),
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
        (
            "x-amz-target".to_string(),
            "TrentService.DescribeKey".to_string(),
        ),
        (
            "x-amz-content-sha256".to_string(),
            "UNSIGNED-PAYLOAD".to_string(),
        ),
    ];
    let identity = aws_credential_types::Credentials::new(
        server.admin.access_key_id.clone(),
        server.admin.secret_access_key.clone(),
        None,
        None,
        "test",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(std::time::Duration::from_secs(300));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("kms")
        .time(std::time::SystemTime::now())
        .settings(settings)
        .build()
        .expect("signing params")
        .into();
    let signable = SignableRequest::new(
        "POST",
        "/",
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::UnsignedPayload,
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let query: Vec<String> = instructions
        .params()
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    let path = format!("/?{}", query.join("&"));
    for key in [&mine, &theirs] {
        let body = serde_json::to_vec(&json!({"KeyId": key})).unwrap();
        let answer = raw_request(addr, "POST", &path, &headers, &body).await;
        answer.assert_error("InvalidSignatureException");
    }
    server.shutdown().await;
}

fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Finding 12 (low): any well-formed Region name was accepted (`zz-fake-9`). Only AWS's Regions
/// (or those the operator lists with `--regions`) are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_aws_does_not_have_is_refused() {
    let server = TestServer::start().await;
    let fake = client(&server.endpoint(), &server.admin, "zz-fake-9");
    let message = expect_err(fake.list_keys().send().await, "InvalidSignatureException");
    assert_eq!(message, "Credential should be scoped to a valid region.");
    for region in ["eu-west-1", "cn-north-1", "us-gov-west-1"] {
        client(&server.endpoint(), &server.admin, region)
            .list_keys()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{region}: {e:?}"));
    }
    server.shutdown().await;
}

/// Finding 8 (medium), for policies and grants: what named a deleted user names its unique id
/// afterwards, as at AWS, so a user re-created with the same name inherits neither the key
/// policy's permissions nor the grant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recreated_user_inherits_no_policy_or_grant() {
    use ferrokms_core::iam::identities::{self, PrincipalKind};
    let server = TestServer::start().await;
    let admin = server.client();
    let (carol, carol_arn) = user_with_policy(&server, OTHER_ACCOUNT, "carol", Some(ALL_KMS)).await;
    let by_policy = create_key(&admin).await;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},
        {{"Effect":"Allow","Principal":{{"AWS":"{carol_arn}"}},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}}]}}"#
    );
    admin
        .put_key_policy()
        .key_id(&by_policy)
        .policy(&policy)
        .send()
        .await
        .expect("policy naming carol");
    let by_grant = create_key(&admin).await;
    admin
        .create_grant()
        .key_id(&by_grant)
        .grantee_principal(&carol_arn)
        .operations(aws_sdk_kms::types::GrantOperation::Encrypt)
        .send()
        .await
        .expect("grant to carol");
    let keys = [by_policy.clone(), by_grant.clone()];
    let tries = |client: Client| {
        let keys = keys.clone();
        async move {
            let mut answers = Vec::new();
            for key in &keys {
                let r = client
                    .encrypt()
                    .key_id(key_arn(key))
                    .plaintext(Blob::new("x"))
                    .send()
                    .await;
                answers.push(r.map(|_| "ok".to_string()).unwrap_or_else(|e| code(&e)));
            }
            answers
        }
    };
    let kms = &server.running.kms;
    let old_id = kms
        .store()
        .get_principal(&carol_arn)
        .await
        .unwrap()
        .and_then(|p| p.unique_id)
        .expect("carol's id");
    assert_eq!(tries(carol).await, ["ok", "ok"]);

    identities::delete(kms, PrincipalKind::User, OTHER_ACCOUNT, "carol")
        .await
        .expect("delete carol");
    let (new_carol, _) = user_with_policy(&server, OTHER_ACCOUNT, "carol", Some(ALL_KMS)).await;
    assert_eq!(
        tries(new_carol).await,
        ["AccessDeniedException", "AccessDeniedException"]
    );

    let shown = admin
        .get_key_policy()
        .key_id(&by_policy)
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .to_string();
    assert!(
        shown.contains(&old_id) && !shown.contains(&carol_arn),
        "{shown}"
    );
    admin
        .put_key_policy()
        .key_id(&by_policy)
        .policy(&shown)
        .send()
        .await
        .expect("the policy as shown can be put back");
    let grants = admin.list_grants().key_id(&by_grant).send().await.unwrap();
    assert_eq!(
        grants.grants()[0].grantee_principal(),
        Some(old_id.as_str())
    );
    server.shutdown().await;
}
