//! HSM key stores through aws-sdk-kms, over a real SoftHSM2 token: the lifecycle, a wrong PIN,
//! the PIN kept out of everything the server writes, and KMS keys inside the token.
//!
//! Runs when FERROKMS_TEST_SOFTHSM_MODULE names the SoftHSM2 module (scripts/test.sh sets it);
//! required under CI. A PKCS#11 module reads its configuration once per process, so every test
//! of this binary puts its token in one SoftHSM2 directory, each under a label of its own.

mod common;

use aws_sdk_kms::types::{DataKeySpec, KeySpec, KeyState, KeyUsageType, OriginType};
use common::{config_for, expect_err, read_credentials_file, Creds, DataDir};
use ferrokms_core::key_stores::HsmCluster;
use ferrokms_server::server::{self, Running};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

const PIN: &str = "kmsuser-pin-8s2k";

/// The token labels of this binary's tests, all made before any test loads the module: SoftHSM2
/// reads its token directory when the module initialises, and a token written while another
/// thread of the process is using the module may not be found.
const TOKENS: [&str; 3] = ["sdk-lifecycle", "sdk-keys", "sdk-in-use"];

/// The SoftHSM2 directory of this process, its tokens made: (module path, directory), None
/// without SoftHSM2.
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
        for label in TOKENS {
            let status = Command::new("softhsm2-util")
                .args(["--init-token", "--free", "--label", label, "--pin", PIN])
                .args(["--so-pin", "so-pin-77"])
                .stdout(std::process::Stdio::null())
                .status()
                .expect("softhsm2-util runs");
            assert!(status.success(), "token {label} initialised");
        }
        Some((PathBuf::from(module), dir))
    })
    .as_ref()
}

/// A server declaring cluster `cluster-234567abcdefg` on the token labelled `label` (one of
/// [`TOKENS`]).
async fn server_with_token(label: &str) -> Option<(Running, DataDir, Creds, String)> {
    assert!(TOKENS.contains(&label), "{label} is made up front");
    let (module, dir) = softhsm()?;
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

async fn connected_store(kms: &aws_sdk_kms::Client, anchor: &str, name: &str) -> String {
    let id = kms
        .create_custom_key_store()
        .custom_key_store_name(name)
        .cloud_hsm_cluster_id("cluster-234567abcdefg")
        .trust_anchor_certificate(anchor)
        .key_store_password(PIN)
        .send()
        .await
        .expect("create")
        .custom_key_store_id()
        .expect("id")
        .to_string();
    kms.connect_custom_key_store()
        .custom_key_store_id(&id)
        .send()
        .await
        .expect("connect");
    id
}

fn blob(bytes: &[u8]) -> aws_sdk_kms::primitives::Blob {
    aws_sdk_kms::primitives::Blob::new(bytes)
}

async fn key_state(kms: &aws_sdk_kms::Client, key: &str) -> KeyState {
    let out = kms
        .describe_key()
        .key_id(key)
        .send()
        .await
        .expect("describe");
    out.key_metadata()
        .expect("metadata")
        .key_state()
        .expect("state")
        .clone()
}

/// Decrypts `ciphertext`, sealed with the context `purpose=test`, and checks its plaintext.
async fn open_in_context(
    kms: &aws_sdk_kms::Client,
    ciphertext: &aws_sdk_kms::primitives::Blob,
) -> aws_sdk_kms::operation::decrypt::DecryptOutput {
    let opened = kms
        .decrypt()
        .ciphertext_blob(ciphertext.clone())
        .encryption_context("purpose", "test")
        .send()
        .await
        .expect("decrypt");
    assert_eq!(
        opened.plaintext().expect("plaintext").as_ref(),
        b"inside the HSM"
    );
    opened
}

/// Whether SoftHSM2's token `label` holds the AES key of KMS key `key_id` (a session of this
/// process: the server's login is shared, so the same PIN logs it in).
fn token_has_key(label: &str, key_id: &str) -> bool {
    let (module, _) = softhsm().expect("softhsm");
    let session = ferrokms_hsm::HsmSession::open(module, label, PIN.as_bytes()).expect("session");
    session.has_key(key_id).expect("looked up")
}

#[tokio::test]
async fn keys_inside_an_hsm_key_store_live_and_die_in_the_token() {
    const TOKEN: &str = "sdk-keys";
    let Some((running, _data, admin, anchor)) = server_with_token(TOKEN).await else {
        return;
    };
    let kms = common::client(&running.endpoint(), &admin, common::REGION);
    let store = connected_store(&kms, &anchor, "keys-store").await;
    let in_store = || {
        kms.create_key()
            .custom_key_store_id(&store)
            .origin(OriginType::AwsCloudhsm)
    };
    expect_err(
        kms.create_key().custom_key_store_id(&store).send().await,
        "ValidationException",
    );
    expect_err(
        in_store()
            .key_spec(KeySpec::EccNistP256)
            .key_usage(KeyUsageType::SignVerify)
            .send()
            .await,
        "UnsupportedOperationException",
    );
    expect_err(
        in_store().multi_region(true).send().await,
        "UnsupportedOperationException",
    );

    let created = in_store().send().await.expect("CreateKey in the store");
    let m = created.key_metadata().expect("metadata");
    let key = m.key_id().to_string();
    assert_eq!(m.custom_key_store_id(), Some(store.as_str()));
    assert_eq!(m.cloud_hsm_cluster_id(), Some("cluster-234567abcdefg"));
    assert_eq!(m.origin(), Some(&OriginType::AwsCloudhsm));
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert!(token_has_key(TOKEN, &key), "the AES key is in the token");

    // Encrypt, Decrypt, data keys and ReEncrypt, with the message keys derived in the token.
    let sealed = kms
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"inside the HSM"))
        .encryption_context("purpose", "test")
        .send()
        .await
        .expect("encrypt");
    let ciphertext = sealed.ciphertext_blob().expect("blob").clone();
    let opened = open_in_context(&kms, &ciphertext).await;
    assert_eq!(opened.key_id(), Some(m.arn().expect("arn")));
    expect_err(
        kms.decrypt()
            .ciphertext_blob(ciphertext.clone())
            .send()
            .await,
        "InvalidCiphertextException",
    );
    let data_key = kms
        .generate_data_key()
        .key_id(&key)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .expect("data key");
    let again = kms
        .decrypt()
        .ciphertext_blob(data_key.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("decrypt the data key");
    assert_eq!(again.plaintext(), data_key.plaintext());
    let outside = common::create_key(&kms).await;
    let moved = kms
        .re_encrypt()
        .ciphertext_blob(ciphertext.clone())
        .source_encryption_context("purpose", "test")
        .destination_key_id(&outside)
        .send()
        .await
        .expect("re-encrypt out of the store");
    let back = kms
        .re_encrypt()
        .ciphertext_blob(moved.ciphertext_blob().expect("blob").clone())
        .destination_key_id(&key)
        .send()
        .await
        .expect("re-encrypt into the store");
    let plain = common::decrypt(&kms, back.ciphertext_blob().expect("blob").as_ref()).await;
    assert_eq!(plain, b"inside the HSM");
    expect_err(
        kms.enable_key_rotation().key_id(&key).send().await,
        "UnsupportedOperationException",
    );

    // Disconnected: the key is Unavailable and refuses to work; the store cannot go.
    kms.disconnect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .expect("disconnect");
    assert_eq!(key_state(&kms, &key).await, KeyState::Unavailable);
    expect_err(
        kms.encrypt()
            .key_id(&key)
            .plaintext(blob(b"x"))
            .send()
            .await,
        "KMSInvalidStateException",
    );
    expect_err(
        in_store().send().await,
        "CustomKeyStoreInvalidStateException",
    );
    expect_err(
        kms.delete_custom_key_store()
            .custom_key_store_id(&store)
            .send()
            .await,
        "CustomKeyStoreHasCMKsException",
    );
    kms.connect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .expect("reconnect");
    assert_eq!(key_state(&kms, &key).await, KeyState::Enabled);
    open_in_context(&kms, &ciphertext).await;

    // Deletion: after the waiting period (cut short here) the token's key goes too, and then
    // the store can be deleted.
    kms.schedule_key_deletion()
        .key_id(&key)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("schedule deletion");
    let core = &running.kms;
    let row = core
        .store()
        .get_key(common::ACCOUNT, common::REGION, &key)
        .await
        .expect("read")
        .expect("the key row");
    let due = ferrokms_store::KeyRow {
        deletion_date: Some(1),
        ..row
    };
    core.store().update_key(&due).await.expect("make it due");
    ferrokms_core::scheduler::delete_due_keys(core)
        .await
        .expect("sweep");
    expect_err(
        kms.describe_key().key_id(&key).send().await,
        "NotFoundException",
    );
    assert!(!token_has_key(TOKEN, &key), "the token's key is destroyed");
    kms.disconnect_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .expect("disconnect");
    kms.delete_custom_key_store()
        .custom_key_store_id(&store)
        .send()
        .await
        .expect("delete the empty store");
    running.shutdown().await;
}

/// Encrypt and Decrypt running while the store is disconnected and connected again, over and
/// over: every answer is a success or KMSInvalidStateException (the key is Unavailable), never
/// an internal error, and every ciphertext made decrypts once the store is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disconnecting_while_keys_are_in_use_fails_cleanly() {
    let Some((running, _data, admin, anchor)) = server_with_token("sdk-in-use").await else {
        return;
    };
    let kms = common::client(&running.endpoint(), &admin, common::REGION);
    let store = connected_store(&kms, &anchor, "busy-store").await;
    let key = kms
        .create_key()
        .custom_key_store_id(&store)
        .origin(OriginType::AwsCloudhsm)
        .send()
        .await
        .expect("key")
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_string();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (kms, key, stop) = (kms.clone(), key.clone(), stop.clone());
            tokio::spawn(async move {
                let (mut sealed, mut refused) = (Vec::new(), 0);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    match kms
                        .encrypt()
                        .key_id(&key)
                        .plaintext(blob(b"busy"))
                        .send()
                        .await
                    {
                        Ok(out) => sealed.push(out.ciphertext_blob().expect("blob").clone()),
                        Err(e) => {
                            assert_eq!(common::code(&e), "KMSInvalidStateException", "{e:?}");
                            refused += 1;
                        }
                    }
                    if let Some(last) = sealed.last() {
                        match kms.decrypt().ciphertext_blob(last.clone()).send().await {
                            Ok(out) => assert_eq!(out.plaintext().expect("pt").as_ref(), b"busy"),
                            Err(e) => {
                                assert_eq!(common::code(&e), "KMSInvalidStateException", "{e:?}")
                            }
                        }
                    }
                }
                (sealed, refused)
            })
        })
        .collect();
    for _ in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        kms.disconnect_custom_key_store()
            .custom_key_store_id(&store)
            .send()
            .await
            .expect("disconnect");
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        kms.connect_custom_key_store()
            .custom_key_store_id(&store)
            .send()
            .await
            .expect("connect");
    }
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut sealed, mut refused) = (Vec::new(), 0);
    for worker in workers {
        let (s, r) = worker.await.expect("no panic");
        sealed.extend(s);
        refused += r;
    }
    assert!(!sealed.is_empty(), "some encryptions ran while connected");
    eprintln!(
        "{} sealed, {refused} refused while disconnected",
        sealed.len()
    );
    assert_eq!(state(&kms, &store).await, ("CONNECTED".into(), None));
    for ciphertext in sealed {
        common::decrypt(&kms, ciphertext.as_ref()).await;
    }
    running.shutdown().await;
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
