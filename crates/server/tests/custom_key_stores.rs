//! HSM key stores through aws-sdk-kms, over a real SoftHSM2 token: the lifecycle, a wrong PIN,
//! and the PIN kept out of everything the server writes.
//!
//! Runs when FERROKMS_TEST_SOFTHSM_MODULE names the SoftHSM2 module (scripts/test.sh sets it);
//! required under CI. A PKCS#11 module reads its configuration once per process, so every test
//! of this binary puts its token in one SoftHSM2 directory, each under a label of its own.

mod common;

use common::{config_for, expect_err, read_credentials_file, Creds, DataDir};
use ferrokms_core::key_stores::HsmCluster;
use ferrokms_server::server::{self, Running};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

const PIN: &str = "kmsuser-pin-8s2k";

/// The SoftHSM2 directory of this process: (module path, directory), None without SoftHSM2.
fn softhsm() -> Option<&'static (PathBuf, tempfile::TempDir)> {
    static DIR: OnceLock<Option<(PathBuf, tempfile::TempDir)>> = OnceLock::new();
    DIR.get_or_init(|| {
        let Ok(module) = std::env::var("FERROKMS_TEST_SOFTHSM_MODULE") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "FERROKMS_TEST_SOFTHSM_MODULE is required under CI"
            );
            eprintln!(
                "note: FERROKMS_TEST_SOFTHSM_MODULE unset; the HSM key store tests are skipped"
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("tokens")).expect("token dir");
        let conf = dir.path().join("softhsm2.conf");
        let text = format!(
            "directories.tokendir = {}\n",
            dir.path().join("tokens").display()
        );
        std::fs::write(&conf, text).expect("conf");
        // Before any thread initialises the module (the first test to get here does it).
        std::env::set_var("SOFTHSM2_CONF", &conf);
        Some((PathBuf::from(module), dir))
    })
    .as_ref()
}

/// A server declaring cluster `cluster-234567abcdefg` on a new token labelled `label`.
async fn server_with_token(label: &str) -> Option<(Running, DataDir, Creds, String)> {
    let (module, dir) = softhsm()?;
    let status = Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            PIN,
            "--so-pin",
            "so-pin-77",
        ])
        .status()
        .expect("softhsm2-util runs");
    assert!(status.success(), "token {label} initialised");
    let anchor = dir.path().join(format!("{label}.pem"));
    let pem = "-----BEGIN CERTIFICATE-----\nMIIBfzCCASWgAwIBAgIUZmVycm9rbXM=\n-----END CERTIFICATE-----\n";
    std::fs::write(&anchor, pem).expect("anchor");
    let spec = format!(
        "id=cluster-234567abcdefg,module={},token={label},trust-anchor={}",
        module.display(),
        anchor.display()
    );
    let data = DataDir::new();
    let mut config = config_for(data.path()).await;
    config.hsm_clusters = vec![HsmCluster::from_flag(&spec).expect("cluster flag")];
    let running = server::start(config).await.expect("server starts");
    let admin = read_credentials_file(running.new_credentials.as_ref().expect("credentials"));
    Some((running, data, admin, pem.to_string()))
}

async fn state(kms: &aws_sdk_kms::Client, id: &str) -> (String, Option<String>) {
    let out = kms
        .describe_custom_key_stores()
        .custom_key_store_id(id)
        .send()
        .await
        .expect("describe");
    let store = &out.custom_key_stores()[0];
    (
        store
            .connection_state()
            .expect("state")
            .as_str()
            .to_string(),
        store
            .connection_error_code()
            .map(|c| c.as_str().to_string()),
    )
}

#[tokio::test]
async fn an_hsm_key_store_connects_with_its_pin_only() {
    let Some((running, data, admin, anchor)) = server_with_token("sdk-lifecycle").await else {
        return;
    };
    let kms = common::client(&running.endpoint(), &admin, common::REGION);
    let create = |password: &'static str, name: &'static str| {
        kms.create_custom_key_store()
            .custom_key_store_name(name)
            .cloud_hsm_cluster_id("cluster-234567abcdefg")
            .trust_anchor_certificate(anchor.clone())
            .key_store_password(password)
            .send()
    };
    let id = create("wrong-pin-1", "sdk-store")
        .await
        .expect("create")
        .custom_key_store_id()
        .expect("id")
        .to_string();
    expect_err(
        create(PIN, "sdk-store").await,
        "CustomKeyStoreNameInUseException",
    );
    assert_eq!(state(&kms, &id).await, ("DISCONNECTED".into(), None));

    kms.connect_custom_key_store()
        .custom_key_store_id(&id)
        .send()
        .await
        .expect("connect");
    let failed = (
        "FAILED".to_string(),
        Some("INVALID_CREDENTIALS".to_string()),
    );
    assert_eq!(state(&kms, &id).await, failed);
    expect_err(
        kms.connect_custom_key_store()
            .custom_key_store_id(&id)
            .send()
            .await,
        "CustomKeyStoreInvalidStateException",
    );
    kms.disconnect_custom_key_store()
        .custom_key_store_id(&id)
        .send()
        .await
        .expect("disconnect");
    kms.update_custom_key_store()
        .custom_key_store_id(&id)
        .key_store_password(PIN)
        .send()
        .await
        .expect("new PIN");
    kms.connect_custom_key_store()
        .custom_key_store_id(&id)
        .send()
        .await
        .expect("connect");
    assert_eq!(state(&kms, &id).await, ("CONNECTED".into(), None));
    let random = kms
        .generate_random()
        .number_of_bytes(64)
        .custom_key_store_id(&id)
        .send()
        .await
        .expect("random from the token");
    assert_eq!(random.plaintext().expect("bytes").as_ref().len(), 64);

    expect_err(
        kms.delete_custom_key_store()
            .custom_key_store_id(&id)
            .send()
            .await,
        "CustomKeyStoreInvalidStateException",
    );
    kms.disconnect_custom_key_store()
        .custom_key_store_id(&id)
        .send()
        .await
        .expect("disconnect");
    kms.delete_custom_key_store()
        .custom_key_store_id(&id)
        .send()
        .await
        .expect("delete");
    expect_err(
        kms.describe_custom_key_stores()
            .custom_key_store_id(&id)
            .send()
            .await,
        "CustomKeyStoreNotFoundException",
    );

    // The PIN is nowhere in the data dir: neither the store nor the audit trail holds it.
    running.shutdown().await;
    for entry in walk(data.path()) {
        // SQLite's -wal and -shm files may go while the walk runs.
        let Ok(bytes) = std::fs::read(&entry) else {
            continue;
        };
        assert!(
            !bytes.windows(PIN.len()).any(|w| w == PIN.as_bytes()),
            "the PIN is in {}",
            entry.display()
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
