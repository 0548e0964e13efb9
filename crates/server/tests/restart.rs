//! Durability across a graceful restart on the same data dir, and the data dir's permissions.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeyState, Tag};
use common::*;
use ferrokms_server::data_dir::RootKeySource;
use ferrokms_server::server::{self, ServerConfig};
use std::collections::HashMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_survives_a_restart() {
    let server = TestServer::start().await;
    let admin_creds = server.admin.clone();
    let kms = server.client();
    let bob = server.create_user(ACCOUNT, "bob").await;

    let described = kms
        .create_key()
        .description("survivor")
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("a")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let a = described.key_metadata().unwrap().clone();
    let a_id = a.key_id().to_string();
    let b_id = create_key(&kms).await;
    let disabled = create_key(&kms).await;
    let pending = create_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/my-app-key")
        .target_key_id(&a_id)
        .send()
        .await
        .unwrap();
    kms.create_alias()
        .alias_name("alias/other")
        .target_key_id(&b_id)
        .send()
        .await
        .unwrap();
    kms.tag_resource()
        .key_id(&a_id)
        .tags(
            Tag::builder()
                .tag_key("env")
                .tag_value("prod")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let ctx: HashMap<String, String> = [("purpose".to_string(), "restart".to_string())].into();
    let blob_a = kms
        .encrypt()
        .key_id("alias/my-app-key")
        .plaintext(Blob::new("HelloWorld"))
        .set_encryption_context(Some(ctx.clone()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone();
    let data_key = kms
        .generate_data_key()
        .key_id(&b_id)
        .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
        .send()
        .await
        .unwrap();
    let blob_disabled = encrypt(&kms, &disabled, b"later").await;
    kms.disable_key().key_id(&disabled).send().await.unwrap();
    let scheduled = kms
        .schedule_key_deletion()
        .key_id(&pending)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    let deletion_date = millis(scheduled.deletion_date().unwrap());

    let dir = server.shutdown().await;
    let credentials_before = std::fs::read(dir.path().join("credentials")).unwrap();

    // Same data dir, a new ephemeral port.
    let running = start_in(dir.path()).await;
    assert!(
        running.new_credentials.is_none(),
        "no new administrator on a later start"
    );
    let endpoint = running.endpoint();
    assert_eq!(
        std::fs::read(dir.path().join("credentials")).unwrap(),
        credentials_before,
        "the credentials file is left alone"
    );
    let kms = client(&endpoint, &admin_creds, REGION);

    // Keys, their metadata and states.
    let listed: Vec<String> = kms
        .list_keys()
        .send()
        .await
        .expect("old admin credentials still work")
        .keys()
        .iter()
        .map(|k| k.key_id().unwrap().to_string())
        .collect();
    let mut expected = vec![
        a_id.clone(),
        b_id.clone(),
        disabled.clone(),
        pending.clone(),
    ];
    expected.sort();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    assert_eq!(listed_sorted, expected);
    let again = kms.describe_key().key_id(&a_id).send().await.unwrap();
    assert_eq!(again.key_metadata(), Some(&a));
    let d = kms.describe_key().key_id(&disabled).send().await.unwrap();
    assert_eq!(
        d.key_metadata().unwrap().key_state(),
        Some(&KeyState::Disabled)
    );
    let p = kms.describe_key().key_id(&pending).send().await.unwrap();
    let p = p.key_metadata().unwrap();
    assert_eq!(p.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(millis(p.deletion_date().unwrap()), deletion_date);
    assert_eq!(p.pending_deletion_window_in_days(), Some(7));

    // Aliases and tags.
    let aliases = kms.list_aliases().send().await.unwrap();
    let mut pairs: Vec<(String, String)> = aliases
        .aliases()
        .iter()
        .map(|e| {
            (
                e.alias_name().unwrap().to_string(),
                e.target_key_id().unwrap().to_string(),
            )
        })
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            ("alias/my-app-key".to_string(), a_id.clone()),
            ("alias/other".to_string(), b_id.clone())
        ]
    );
    let tags = kms.list_resource_tags().key_id(&a_id).send().await.unwrap();
    let mut tags: Vec<(String, String)> = tags
        .tags()
        .iter()
        .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        [
            ("env".to_string(), "prod".to_string()),
            ("team".to_string(), "a".to_string())
        ]
    );

    // Ciphertexts decrypt, through the alias too.
    let out = kms
        .decrypt()
        .ciphertext_blob(blob_a)
        .set_encryption_context(Some(ctx))
        .key_id("alias/my-app-key")
        .send()
        .await
        .expect("old ciphertext decrypts");
    assert_eq!(out.plaintext().unwrap().as_ref(), b"HelloWorld");
    assert_eq!(
        decrypt(&kms, data_key.ciphertext_blob().unwrap().as_ref()).await,
        data_key.plaintext().unwrap().as_ref()
    );
    expect_err(
        kms.decrypt()
            .ciphertext_blob(Blob::new(blob_disabled.clone()))
            .send()
            .await,
        "DisabledException",
    );
    kms.enable_key().key_id(&disabled).send().await.unwrap();
    assert_eq!(decrypt(&kms, &blob_disabled).await, b"later");

    // Another principal's credentials survive as well, and new work is durable too.
    let bob_kms = client(&endpoint, &bob, REGION);
    assert_eq!(bob_kms.list_keys().send().await.unwrap().keys().len(), 4);
    let fresh = encrypt(&bob_kms, "alias/other", b"after restart").await;
    running.shutdown().await;

    let running = start_in(dir.path()).await;
    assert!(running.new_credentials.is_none());
    let kms = client(&running.endpoint(), &admin_creds, REGION);
    assert_eq!(decrypt(&kms, &fresh).await, b"after restart");
    running.shutdown().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_in_the_data_dir_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start().await;
    let dir = server.dir.path().to_path_buf();
    let mode = |name: &str| {
        std::fs::metadata(dir.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("root.key"), 0o600, "root.key");
    assert_eq!(mode("credentials"), 0o600, "credentials");
    assert_eq!(mode(""), 0o700, "data dir");
    // The credentials file is an AWS shared-credentials file with a default profile.
    let text = std::fs::read_to_string(dir.join("credentials")).unwrap();
    assert!(text.contains("[default]"), "{text}");
    assert!(server.admin.access_key_id.starts_with("AKIA"));
    assert_eq!(server.admin.secret_access_key.len(), 40);
    assert_eq!(
        server.admin.arn,
        format!("arn:aws:iam::{ACCOUNT}:user/admin"),
        "{text}"
    );
    let dir_handle = server.shutdown().await;
    // Still owner-only after a restart.
    let running = start_in(dir_handle.path()).await;
    assert_eq!(mode("root.key"), 0o600);
    assert_eq!(mode("credentials"), 0o600);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_root_key_is_refused() {
    let server = TestServer::start().await;
    create_key(&server.client()).await;
    let dir = server.shutdown().await;
    let mut cfg = ServerConfig::new(dir.path().to_path_buf());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.store = common::postgres_store_for(dir.path()).await;
    cfg.root_key = RootKeySource {
        inline: Some(ferrokms_crypto::RootKey::generate().unwrap().encode()),
        file: None,
    };
    let err = match server::start(cfg).await {
        Ok(running) => {
            running.shutdown().await;
            panic!("a server started over a store with another root key");
        }
        Err(e) => e,
    };
    assert!(err.contains("root key"), "{err}");
    // The right key still opens it.
    let running = start_in(dir.path()).await;
    running.shutdown().await;
}
