//! Grants through aws-sdk-kms: a grant opens exactly its operations at once, constraints hold,
//! revoking and retiring close it at once, and a grantee can pass on only what it holds.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{GrantConstraints, GrantOperation};
use aws_sdk_kms::Client;
use common::*;

async fn user(server: &TestServer, name: &str) -> (Client, String) {
    user_with_policy(server, ACCOUNT, name, None).await
}

async fn encrypt_code(kms: &Client, key: &str, ec: Option<(&str, &str)>) -> String {
    let mut call = kms.encrypt().key_id(key).plaintext(Blob::new("x"));
    if let Some((k, v)) = ec {
        call = call.encryption_context(k, v);
    }
    match call.send().await {
        Ok(_) => "ok".into(),
        Err(e) => code(&e),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_opens_exactly_its_operations_and_revoking_closes_them() {
    let server = TestServer::start().await;
    let admin = server.client();
    let key = create_key(&admin).await;
    let (bob, bob_arn) = user(&server, "bob").await;
    assert_eq!(
        encrypt_code(&bob, &key, None).await,
        "AccessDeniedException"
    );

    let grant = admin
        .create_grant()
        .key_id(&key)
        .grantee_principal(&bob_arn)
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::Decrypt)
        .name("bob-app")
        .send()
        .await
        .unwrap();
    let grant_id = grant.grant_id().unwrap().to_string();
    assert_eq!(grant_id.len(), 64);
    // The same name and parameters: the same grant.
    let again = admin
        .create_grant()
        .key_id(&key)
        .grantee_principal(&bob_arn)
        .operations(GrantOperation::Decrypt)
        .operations(GrantOperation::Encrypt)
        .name("bob-app")
        .send()
        .await
        .unwrap();
    assert_eq!(again.grant_id(), Some(grant_id.as_str()));

    assert_eq!(encrypt_code(&bob, &key, None).await, "ok");
    // The grant's token is accepted at once; a token ferrokms did not issue is refused.
    let token = grant.grant_token().unwrap();
    assert_eq!(token.len(), 64);
    let with_token = bob
        .encrypt()
        .key_id(&key)
        .plaintext(aws_sdk_kms::primitives::Blob::new(b"x".to_vec()))
        .grant_tokens(token)
        .send()
        .await;
    assert!(with_token.is_ok(), "{with_token:?}");
    let err = bob
        .encrypt()
        .key_id(&key)
        .plaintext(aws_sdk_kms::primitives::Blob::new(b"x".to_vec()))
        .grant_tokens("not-a-token-ferrokms-issued")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidGrantTokenException");
    let blob = encrypt(&bob, &key, b"by grant").await;
    assert_eq!(decrypt(&bob, &blob).await, b"by grant");
    let err = bob
        .generate_data_key()
        .key_id(&key)
        .number_of_bytes(16)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    let err = bob.describe_key().key_id(&key).send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");

    let listed = admin.list_grants().key_id(&key).send().await.unwrap();
    assert_eq!(listed.grants().len(), 1);
    let entry = &listed.grants()[0];
    assert_eq!(entry.grantee_principal(), Some(bob_arn.as_str()));
    assert_eq!(entry.key_id(), Some(key_arn(&key).as_str()));
    assert_eq!(entry.name(), Some("bob-app"));
    assert_eq!(entry.operations().len(), 2);

    admin
        .revoke_grant()
        .key_id(&key)
        .grant_id(&grant_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        encrypt_code(&bob, &key, None).await,
        "AccessDeniedException"
    );
    let err = admin
        .revoke_grant()
        .key_id(&key)
        .grant_id(&grant_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotFoundException");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constraints_retiring_and_grants_of_grants() {
    let server = TestServer::start().await;
    let admin = server.client();
    let key = create_key(&admin).await;
    let (carol, carol_arn) = user(&server, "carol").await;
    let (dave, dave_arn) = user(&server, "dave").await;
    let (erin, erin_arn) = user(&server, "erin").await;

    let constraints = GrantConstraints::builder()
        .encryption_context_equals("Department", "IT")
        .build();
    let grant = admin
        .create_grant()
        .key_id(&key)
        .grantee_principal(&carol_arn)
        .retiring_principal(&dave_arn)
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::CreateGrant)
        .constraints(constraints.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        encrypt_code(&carol, &key, Some(("Department", "IT"))).await,
        "ok"
    );
    assert_eq!(
        encrypt_code(&carol, &key, Some(("Department", "HR"))).await,
        "AccessDeniedException"
    );
    assert_eq!(
        encrypt_code(&carol, &key, None).await,
        "AccessDeniedException"
    );

    // carol may pass on Encrypt with the same constraints, not Decrypt, not unconstrained.
    let sub = carol
        .create_grant()
        .key_id(key_arn(&key))
        .grantee_principal(&erin_arn)
        .operations(GrantOperation::Encrypt)
        .constraints(constraints.clone())
        .send()
        .await;
    assert!(sub.is_ok(), "{sub:?}");
    assert_eq!(
        encrypt_code(&erin, &key, Some(("Department", "IT"))).await,
        "ok"
    );
    let wider = carol
        .create_grant()
        .key_id(&key)
        .grantee_principal(&erin_arn)
        .operations(GrantOperation::Decrypt);
    assert_eq!(
        code(&wider.constraints(constraints).send().await.unwrap_err()),
        "AccessDeniedException"
    );

    // The retiring principal needs no policy: the grant says it may retire it.
    let retirable = admin
        .list_retirable_grants()
        .retiring_principal(&dave_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(retirable.grants().len(), 1);
    dave.retire_grant()
        .grant_token(grant.grant_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        encrypt_code(&carol, &key, Some(("Department", "IT"))).await,
        "AccessDeniedException"
    );
    let err = dave
        .retire_grant()
        .grant_token(grant.grant_token().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidGrantTokenException");
    // Nobody else may retire erin's grant.
    let erins = admin
        .list_grants()
        .key_id(&key)
        .grantee_principal(&erin_arn)
        .send()
        .await
        .unwrap();
    let erin_grant = erins.grants()[0].grant_id().unwrap().to_string();
    let err = erin
        .retire_grant()
        .key_id(key_arn(&key))
        .grant_id(&erin_grant)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    admin
        .retire_grant()
        .key_id(key_arn(&key))
        .grant_id(&erin_grant)
        .send()
        .await
        .unwrap();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retirable_grants_are_listed_per_region() {
    let server = TestServer::start().await;
    let (east, west) = (server.client(), server.client_in("eu-west-1"));
    let (_, dave_arn) = user(&server, "dave").await;
    let east_key = create_key(&east).await;
    let west_key = create_key(&west).await;
    for (kms, key) in [(&east, &east_key), (&west, &west_key)] {
        let grant = kms
            .create_grant()
            .key_id(key)
            .grantee_principal(&dave_arn)
            .retiring_principal(&dave_arn);
        grant
            .operations(GrantOperation::Encrypt)
            .send()
            .await
            .unwrap();
    }
    let listed = west
        .list_retirable_grants()
        .retiring_principal(&dave_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.grants().len(), 1);
    let arn = listed.grants()[0].key_id().unwrap();
    assert!(
        arn.starts_with("arn:aws:kms:eu-west-1:") && arn.ends_with(&west_key),
        "{arn}"
    );
    server.shutdown().await;
}

/// Grants to AWS service principals: the members are taken and checked, and since ferrokms has
/// no service principals a grant to one is refused, never silently made to nobody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_principal_members_are_answered() {
    let server = TestServer::start().await;
    let kms = server.client();
    let key = create_key(&kms).await;
    expect_err(
        kms.create_grant()
            .key_id(&key)
            .grantee_service_principal("dynamodb.amazonaws.com")
            .retiring_principal(&server.admin.arn)
            .operations(GrantOperation::Decrypt)
            .send()
            .await,
        "UnsupportedOperationException",
    );
    let both = expect_err(
        kms.create_grant()
            .key_id(&key)
            .grantee_principal(&server.admin.arn)
            .grantee_service_principal("dynamodb.amazonaws.com")
            .operations(GrantOperation::Decrypt)
            .send()
            .await,
        "ValidationException",
    );
    assert!(both.contains("but not both"), "{both}");
    let bad = expect_err(
        kms.list_grants()
            .key_id(&key)
            .grantee_service_principal("not a principal")
            .send()
            .await,
        "ValidationException",
    );
    assert!(bad.contains("granteeServicePrincipal"), "{bad}");
    expect_err(
        kms.list_retirable_grants()
            .retiring_service_principal("dynamodb.amazonaws.com")
            .send()
            .await,
        "ValidationException",
    );
    server.shutdown().await;
}
