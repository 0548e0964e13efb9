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
    ferrokms_core::iam::identities::delete_policy(
        &server.running.kms,
        ferrokms_core::iam::identities::PrincipalKind::User,
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

/// The signing key file of a data dir, rewritten as a version before the audit checkpoint
/// wrote it (the bare base64 of the key wrapped with the legacy associated data).
fn make_signing_key_legacy(dir: &std::path::Path) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let path = dir.join("audit-signing.key");
    let text = std::fs::read_to_string(&path).unwrap();
    let encoded = text
        .trim()
        .strip_prefix("checkpointed ")
        .expect("a started server's key is checkpointed");
    let (root, _) = ferrokms_server::data_dir::load_or_create_root_key(
        dir,
        &ferrokms_server::data_dir::RootKeySource::default(),
    )
    .unwrap();
    let (_, secrets) = root.split();
    let pkcs8 = secrets
        .unwrap_audit_signing_key(
            ferrokms_crypto::AuditKeyState::Checkpointed,
            &b64.decode(encoded).unwrap(),
        )
        .unwrap();
    let legacy = secrets
        .wrap_audit_signing_key(ferrokms_crypto::AuditKeyState::Legacy, pkcs8.expose())
        .unwrap();
    std::fs::write(&path, b64.encode(legacy)).unwrap();
}

fn checkpoint(dir: &std::path::Path) -> std::path::PathBuf {
    ferrokms_audit::checkpoint_path(&dir.join("audit"))
}

async fn start_err(dir: &std::path::Path) -> String {
    match ferrokms_server::server::start(config_for(dir).await).await {
        Ok(_) => panic!("the server started"),
        Err(e) => e,
    }
}

/// A data dir from a version without the checkpoint (a trail of files, no checkpoint) starts and
/// gets one; from then on a deleted checkpoint, or a deleted trail, keeps the server from
/// starting until the operator accepts the loss, and verify reports it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_trail_starts_and_is_checkpointed_from_then_on() {
    let server = TestServer::start().await;
    create_key(&server.client()).await;
    let dir = server.shutdown().await;
    let dir = dir.path();
    std::fs::remove_file(checkpoint(dir)).unwrap();
    make_signing_key_legacy(dir);

    // The upgrade: the trail had no checkpoint, and that is not a loss.
    let running = start_in(dir).await;
    assert!(checkpoint(dir).exists(), "the first start writes one");
    let key_file = std::fs::read_to_string(dir.join("audit-signing.key")).unwrap();
    assert!(key_file.starts_with("checkpointed "), "{key_file}");
    running.shutdown().await;

    // Now a missing checkpoint is a lost tail, for start and for verify.
    std::fs::remove_file(checkpoint(dir)).unwrap();
    let err = start_err(dir).await;
    assert!(
        err.contains("checkpoint") && err.contains("--accept-audit-tail-loss"),
        "{err}"
    );
    let public_key = ferrokms_audit::read_public_key(&dir.join("audit")).unwrap();
    let options = ferrokms_audit::VerifyOptions {
        checkpoint_required: true,
        ..Default::default()
    };
    let report = ferrokms_audit::verify_with(&dir.join("audit"), &public_key, options).unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| matches!(p, ferrokms_audit::Problem::CheckpointMissing { .. })),
        "{report}"
    );
    // The trail without the key's word is intact: the key file is what says it had one.
    assert!(verify(&dir.join("audit"), &public_key, None)
        .unwrap()
        .is_intact());

    // Removing the whole trail as well does not make it look new.
    std::fs::remove_dir_all(dir.join("audit")).unwrap();
    let err = start_err(dir).await;
    assert!(err.contains("--accept-audit-tail-loss"), "{err}");

    // The operator accepts; the trail goes on, checkpointed again.
    let mut cfg = config_for(dir).await;
    cfg.accept_audit_tail_loss = true;
    let running = ferrokms_server::server::start(cfg).await.expect("starts");
    assert!(checkpoint(dir).exists());
    running.shutdown().await;
    start_in(dir).await.shutdown().await;
}

/// Turning a checkpointed key file back into a legacy one (to hide a deleted checkpoint) needs
/// the root key: the file's state is bound into its wrapping.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpointed_key_file_cannot_be_made_legacy_without_the_root_key() {
    let server = TestServer::start().await;
    let dir = server.shutdown().await;
    let dir = dir.path();
    let path = dir.join("audit-signing.key");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.trim().strip_prefix("checkpointed ").unwrap()).unwrap();
    std::fs::remove_file(checkpoint(dir)).unwrap();
    let err = start_err(dir).await;
    assert!(err.contains("does not open with this root key"), "{err}");
}
