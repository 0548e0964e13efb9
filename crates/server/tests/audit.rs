//! The audit trail through a real client: every request — success, failure, denial,
//! authentication failure — produces exactly one CloudTrail-shaped event, on disk before the
//! answer, with no plaintext; the trail verifies after a clean shutdown.

mod common;

use aws_sdk_kms::operation::RequestId;
use aws_sdk_kms::primitives::Blob;
use common::*;
use ferrokms_audit::{query, verify, AuditEvent, QueryFilter};

fn events(dir: &std::path::Path) -> Vec<AuditEvent> {
    query(&dir.join("audit"), QueryFilter::default())
        .expect("query")
        .map(|r| r.expect("readable record").event)
        .collect()
}

#[tokio::test]
async fn every_request_is_one_event_with_cloudtrail_fields() {
    let server = TestServer::start().await;
    let admin = server.client();
    let before = events(server.dir.path()).len();
    const SECRET: &[u8] = b"audit-plaintext-needle-5f2c";

    let created = admin
        .create_key()
        .description("audited")
        .send()
        .await
        .unwrap();
    let key_id = created.key_metadata().unwrap().key_id().to_string();
    let create_request = created.request_id().unwrap().to_string();
    let encrypted = admin
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(SECRET))
        .encryption_context("Department", "IT")
        .send()
        .await
        .unwrap();
    let encrypt_request = encrypted.request_id().unwrap().to_string();
    let missing = admin.describe_key().key_id("alias/nope").send().await;
    expect_err(missing, "NotFoundException");
    // A user without permissions: denied, and audited as such.
    let nobody = server.create_user(ACCOUNT, "nobody").await;
    ferrokms_core::identities::delete_policy(
        &server.running.kms,
        ferrokms_core::identities::PrincipalKind::User,
        ACCOUNT,
        "nobody",
        "test-kms-all",
    )
    .await
    .unwrap();
    let denied = client(&server.endpoint(), &nobody, REGION)
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(SECRET))
        .send()
        .await;
    expect_err(denied, "AccessDeniedException");
    // A wrong secret: authentication fails, and is audited with the claimed key id only.
    let forged = Creds {
        secret_access_key: "wrong-secret".into(),
        ..server.admin.clone()
    };
    let unauthenticated = client(&server.endpoint(), &forged, REGION)
        .list_keys()
        .send()
        .await;
    expect_err(unauthenticated, "InvalidSignatureException");

    let all = events(server.dir.path());
    let new: Vec<&AuditEvent> = all[before..].iter().collect();
    let names: Vec<&str> = new.iter().map(|e| e.event_name.as_str()).collect();
    assert_eq!(
        names,
        ["CreateKey", "Encrypt", "DescribeKey", "Encrypt", "ListKeys"],
        "one event per request, in order"
    );
    let (create, encrypt, describe, deny, unauth) = (new[0], new[1], new[2], new[3], new[4]);
    assert_eq!(create.request_id, create_request);
    assert!(!create.read_only);
    assert_eq!(create.resources[0].arn, key_arn(&key_id), "the created key");
    assert_eq!(
        create.response_elements.as_ref().unwrap()["keyMetadata"]["keyId"],
        key_id.as_str()
    );
    assert_eq!(encrypt.request_id, encrypt_request);
    assert_eq!(encrypt.event_source, "kms.amazonaws.com");
    assert_eq!(encrypt.aws_region, REGION);
    assert!(encrypt.read_only);
    assert_eq!(encrypt.resources[0].arn, key_arn(&key_id));
    assert_eq!(encrypt.recipient_account_id, ACCOUNT);
    assert_eq!(encrypt.user_identity.identity_type, "IAMUser");
    assert_eq!(encrypt.user_identity.arn, server.admin.arn);
    assert_eq!(
        encrypt.user_identity.access_key_id.as_deref(),
        Some(server.admin.access_key_id.as_str())
    );
    assert_eq!(encrypt.source_ip_address, "127.0.0.1");
    assert!(
        encrypt.user_agent.contains("aws-sdk-rust"),
        "{}",
        encrypt.user_agent
    );
    let parameters = encrypt.request_parameters.as_ref().unwrap();
    assert_eq!(parameters["keyId"], key_id.as_str());
    assert_eq!(parameters["encryptionContext"]["Department"], "IT");
    assert!(parameters.get("plaintext").is_none());
    assert_eq!(encrypt.response_elements, None);
    assert_eq!(encrypt.error_code, None);
    assert_eq!(describe.error_code.as_deref(), Some("NotFoundException"));
    assert_eq!(deny.error_code.as_deref(), Some("AccessDeniedException"));
    assert!(deny
        .error_message
        .as_deref()
        .unwrap()
        .contains("is not authorized"));
    assert_eq!(deny.user_identity.arn, nobody.arn);
    assert_eq!(
        deny.resources[0].arn,
        key_arn(&key_id),
        "denials name the key"
    );
    assert_eq!(
        unauth.error_code.as_deref(),
        Some("InvalidSignatureException")
    );
    assert_eq!(unauth.user_identity.identity_type, "Unknown");
    assert_eq!(
        unauth.user_identity.access_key_id.as_deref(),
        Some(server.admin.access_key_id.as_str())
    );
    assert_eq!(
        unauth.additional_event_data,
        Some(serde_json::json!({"signatureVerified": false})),
        "a claimed access key id is marked unverified"
    );
    assert_eq!(
        encrypt.additional_event_data, None,
        "an authenticated request needs no such mark"
    );
    let ids: std::collections::HashSet<&str> = new.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids.len(), new.len(), "event ids are unique");

    let dir = server.shutdown().await;
    for entry in walk(dir.path()) {
        // Files may vanish while walking (the store's WAL after its checkpoint).
        let Ok(bytes) = std::fs::read(&entry) else {
            continue;
        };
        assert!(
            !bytes.windows(SECRET.len()).any(|w| w == SECRET),
            "plaintext found in {}",
            entry.display()
        );
    }
    let public_key = ferrokms_audit::read_public_key(&dir.path().join("audit")).unwrap();
    let report = verify(&dir.path().join("audit"), &public_key, None).unwrap();
    assert!(report.is_intact(), "{report}");
    assert!(
        report.digests_verified >= 1,
        "shutdown signs the open file: {report}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
