//! The `ferrokms principal ...` admin commands, run as the real binary against the data dir of a
//! running server: their changes take effect at once (within the identity check interval).

mod common;

use common::{client, code, Creds, TestServer, REGION};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn ferrokms(data_dir: &Path, args: &[&str]) -> (bool, Value, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ferrokms"));
    command
        .args(["principal"])
        .args(args)
        .args(["--data-dir", data_dir.to_str().unwrap()]);
    if let Some(store) = common::store_env_for(data_dir) {
        command.env("FERROKMS_STORE", store);
    }
    let out = command.output().expect("run ferrokms");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.success(),
        json,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Waits until `check` holds (the server notices identity changes within 250 ms).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within 3 s");
}

fn creds_of(json: &Value) -> Creds {
    let key = if json.get("AccessKey").is_some() {
        &json["AccessKey"]
    } else {
        json
    };
    Creds {
        arn: json["Arn"].as_str().unwrap_or_default().to_string(),
        access_key_id: key["AccessKeyId"].as_str().unwrap().to_string(),
        secret_access_key: key["SecretAccessKey"].as_str().unwrap().to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_access_keys_managed_while_the_server_runs() {
    let server = TestServer::start().await;
    let dir = server.dir.path().to_path_buf();
    let endpoint = server.endpoint();

    let (ok, bob, err) = ferrokms(&dir, &["create", "--name", "bob"]);
    assert!(ok, "{err}");
    assert_eq!(bob["Arn"], "arn:aws:iam::111122223333:user/bob");
    let first = creds_of(&bob);
    // Authenticated at once, allowed nothing until a policy says so (as a new IAM user).
    let err = client(&endpoint, &first, REGION)
        .list_keys()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDeniedException");
    let (ok, _, err) = ferrokms(
        &dir,
        &[
            "put-policy",
            "--name",
            "bob",
            "--policy-name",
            "all",
            "--policy-document",
            common::ALL_KMS,
        ],
    );
    assert!(ok, "{err}");
    let bob_client = client(&endpoint, &first, REGION);
    eventually("bob's policy applies", || async {
        bob_client.list_keys().send().await.is_ok()
    })
    .await;

    let (ok, _, err) = ferrokms(&dir, &["create", "--name", "bob"]);
    assert!(!ok && err.contains("already exists"), "{err}");

    let (ok, listed, _) = ferrokms(&dir, &["list"]);
    assert!(ok);
    let names: Vec<&str> = listed["Users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["UserName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "bob"]);

    let (ok, second, err) = ferrokms(&dir, &["create-access-key", "--name", "bob"]);
    assert!(ok, "{err}");
    assert_eq!(second["AccessKey"]["Status"], "Active");
    let second = creds_of(&second);
    client(&endpoint, &second, REGION)
        .list_keys()
        .send()
        .await
        .expect("second key works");
    let (_, keys, _) = ferrokms(&dir, &["list-access-keys", "--name", "bob"]);
    assert_eq!(keys["AccessKeyMetadata"].as_array().unwrap().len(), 2);

    let (ok, _, err) = ferrokms(
        &dir,
        &[
            "delete-access-key",
            "--name",
            "bob",
            "--access-key-id",
            &first.access_key_id,
        ],
    );
    assert!(ok, "{err}");
    let old = client(&endpoint, &first, REGION);
    eventually("the deleted access key stops working", || async {
        matches!(old.list_keys().send().await, Err(e) if code(&e) == "UnrecognizedClientException")
    })
    .await;
    client(&endpoint, &second, REGION)
        .list_keys()
        .send()
        .await
        .expect("the other key still works");

    let (ok, _, err) = ferrokms(&dir, &["delete", "--name", "bob"]);
    assert!(ok, "{err}");
    let gone = client(&endpoint, &second, REGION);
    eventually("the deleted user stops working", || async {
        matches!(gone.list_keys().send().await, Err(e) if code(&e) == "UnrecognizedClientException")
    })
    .await;
    let (ok, _, err) = ferrokms(&dir, &["delete", "--name", "bob"]);
    assert!(!ok && err.contains("does not exist"), "{err}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_policies_put_get_list_delete() {
    let server = TestServer::start().await;
    let dir = server.dir.path().to_path_buf();
    assert!(ferrokms(&dir, &["create", "--name", "carol"]).0);
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}"#;
    let file = dir.join("policy.json");
    std::fs::write(&file, doc).unwrap();
    let file_arg = format!("file://{}", file.display());

    let (ok, _, err) = ferrokms(
        &dir,
        &[
            "put-policy",
            "--name",
            "carol",
            "--policy-name",
            "enc",
            "--policy-document",
            &file_arg,
        ],
    );
    assert!(ok, "{err}");
    let (ok, got, _) = ferrokms(
        &dir,
        &["get-policy", "--name", "carol", "--policy-name", "enc"],
    );
    assert!(ok);
    assert_eq!(
        got["PolicyDocument"]["Statement"][0]["Action"],
        "kms:Encrypt"
    );
    let (_, names, _) = ferrokms(&dir, &["list-policies", "--name", "carol"]);
    assert_eq!(names["PolicyNames"], serde_json::json!(["enc"]));

    let (ok, _, err) = ferrokms(
        &dir,
        &[
            "put-policy",
            "--name",
            "carol",
            "--policy-name",
            "bad",
            "--policy-document",
            "{not json",
        ],
    );
    assert!(!ok && err.contains("malformed policy document"), "{err}");
    let (ok, _, err) = ferrokms(
        &dir,
        &[
            "put-policy",
            "--name",
            "nobody",
            "--policy-name",
            "p",
            "--policy-document",
            doc,
        ],
    );
    assert!(!ok && err.contains("does not exist"), "{err}");

    assert!(
        ferrokms(
            &dir,
            &["delete-policy", "--name", "carol", "--policy-name", "enc"]
        )
        .0
    );
    let (ok, _, err) = ferrokms(
        &dir,
        &["get-policy", "--name", "carol", "--policy-name", "enc"],
    );
    assert!(!ok && err.contains("does not exist"), "{err}");
    server.shutdown().await;
}
