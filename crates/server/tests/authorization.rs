//! Key policies and identity policies decide together, as at AWS: least privilege holds, an
//! explicit deny wins, a key policy may name a user directly, and another account needs both the
//! key policy and its own identity policy.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::Client;
use common::*;

async fn user(server: &TestServer, account: &str, name: &str, policy: Option<&str>) -> Client {
    user_with_policy(server, account, name, policy).await.0
}

fn allow(action: &str, resource: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}]}}"#
    )
}

async fn encrypt_code(kms: &Client, key: &str) -> String {
    match kms
        .encrypt()
        .key_id(key)
        .plaintext(Blob::new("x"))
        .send()
        .await
    {
        Ok(_) => "ok".into(),
        Err(e) => code(&e),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn least_privilege_holds() {
    let server = TestServer::start().await;
    let admin = server.client();
    let (k1, k2) = (create_key(&admin).await, create_key(&admin).await);
    let app = user(
        &server,
        ACCOUNT,
        "app",
        Some(&allow("kms:Encrypt", &key_arn(&k1))),
    )
    .await;

    assert_eq!(encrypt_code(&app, &k1).await, "ok");
    assert_eq!(encrypt_code(&app, &k2).await, "AccessDeniedException");
    let blob = encrypt(&admin, &k1, b"secret").await;
    let err = app
        .decrypt()
        .ciphertext_blob(Blob::new(blob))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    let err = app.describe_key().key_id(&k1).send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    let err = app.list_keys().send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    let err = app.create_key().send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");

    let nobody = user(&server, ACCOUNT, "nobody", None).await;
    assert_eq!(encrypt_code(&nobody, &k1).await, "AccessDeniedException");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_policy_can_allow_a_user_directly_and_an_explicit_deny_wins() {
    let server = TestServer::start().await;
    let admin = server.client();
    let key = create_key(&admin).await;
    let direct = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/carol"}},"Action":"kms:Encrypt","Resource":"*"}},
            {{"Effect":"Deny","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/dave"}},"Action":"kms:Encrypt","Resource":"*"}}]}}"#
    );
    admin
        .put_key_policy()
        .key_id(&key)
        .policy(direct)
        .send()
        .await
        .unwrap();

    // carol has no identity policy: the key policy names her, which is enough in the key's account.
    let carol = user(&server, ACCOUNT, "carol", None).await;
    assert_eq!(encrypt_code(&carol, &key).await, "ok");
    // dave's identity policy allows everything; the key policy's explicit deny wins.
    let dave = user(&server, ACCOUNT, "dave", Some(ALL_KMS)).await;
    assert_eq!(encrypt_code(&dave, &key).await, "AccessDeniedException");
    // An explicit deny in an identity policy wins over the key policy's allow too.
    let deny_own = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"},{"Effect":"Deny","Action":"kms:Encrypt","Resource":"*"}]}"#;
    let erin = user(&server, ACCOUNT, "erin", Some(deny_own)).await;
    assert_eq!(encrypt_code(&erin, &key).await, "AccessDeniedException");
    erin.describe_key().key_id(&key).send().await.unwrap();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_account_needs_both_the_key_policy_and_the_callers_policy() {
    let server = TestServer::start().await;
    let admin = server.client();
    let key = create_key(&admin).await;
    let arn = key_arn(&key);
    let outsider = user(&server, OTHER_ACCOUNT, "partner", Some(ALL_KMS)).await;
    let shy = user(&server, OTHER_ACCOUNT, "shy", None).await;

    // The default key policy trusts only the key's own account.
    assert_eq!(encrypt_code(&outsider, &arn).await, "AccessDeniedException");
    let shared = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{OTHER_ACCOUNT}:root"}},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*"}}]}}"#
    );
    admin
        .put_key_policy()
        .key_id(&key)
        .policy(shared)
        .send()
        .await
        .unwrap();
    // Both sides allow: works. The key policy allows but the caller's own account does not: denied.
    assert_eq!(encrypt_code(&outsider, &arn).await, "ok");
    assert_eq!(encrypt_code(&shy, &arn).await, "AccessDeniedException");
    // Only the actions the key policy shares.
    let err = outsider
        .describe_key()
        .key_id(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    let blob = encrypt(&admin, &key, b"shared").await;
    let out = outsider
        .decrypt()
        .ciphertext_blob(Blob::new(blob))
        .send()
        .await
        .unwrap();
    assert_eq!(out.plaintext().unwrap().as_ref(), b"shared");
    server.shutdown().await;
}

fn allow_if(action: &str, condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*","Condition":{condition}}}]}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_tags_aliases_source_ip_and_transport_are_condition_keys() {
    let server = TestServer::start().await;
    let admin = server.client();
    let key = create_key(&admin).await;

    // ABAC on the key's tags: allowed once the key carries the tag, at once.
    let tagged = allow_if(
        "kms:Encrypt",
        r#"{"StringEquals":{"aws:ResourceTag/Project":"alpha"}}"#,
    );
    let abac = user(&server, ACCOUNT, "abac", Some(&tagged)).await;
    assert_eq!(encrypt_code(&abac, &key).await, "AccessDeniedException");
    let tag = aws_sdk_kms::types::Tag::builder()
        .tag_key("Project")
        .tag_value("alpha")
        .build()
        .unwrap();
    admin
        .tag_resource()
        .key_id(&key)
        .tags(tag)
        .send()
        .await
        .unwrap();
    assert_eq!(encrypt_code(&abac, &key).await, "ok");
    admin
        .untag_resource()
        .key_id(&key)
        .tag_keys("Project")
        .send()
        .await
        .unwrap();
    assert_eq!(encrypt_code(&abac, &key).await, "AccessDeniedException");

    // The key's aliases.
    let by_alias = allow_if(
        "kms:Encrypt",
        r#"{"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/app"}}"#,
    );
    let aliased = user(&server, ACCOUNT, "aliased", Some(&by_alias)).await;
    assert_eq!(encrypt_code(&aliased, &key).await, "AccessDeniedException");
    admin
        .create_alias()
        .alias_name("alias/app")
        .target_key_id(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(encrypt_code(&aliased, &key).await, "ok");

    // Where the request comes from, and how.
    let local = allow_if(
        "kms:Encrypt",
        r#"{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}"#,
    );
    let elsewhere = allow_if(
        "kms:Encrypt",
        r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
    );
    let tls_only = allow_if("kms:Encrypt", r#"{"Bool":{"aws:SecureTransport":"true"}}"#);
    let (a, b, c) = (
        user(&server, ACCOUNT, "local", Some(&local)).await,
        user(&server, ACCOUNT, "elsewhere", Some(&elsewhere)).await,
        user(&server, ACCOUNT, "tlsonly", Some(&tls_only)).await,
    );
    assert_eq!(encrypt_code(&a, &key).await, "ok");
    assert_eq!(encrypt_code(&b, &key).await, "AccessDeniedException");
    assert_eq!(
        encrypt_code(&c, &key).await,
        "AccessDeniedException",
        "this server speaks plain HTTP"
    );
    server.shutdown().await;
}
