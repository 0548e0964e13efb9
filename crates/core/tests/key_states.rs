//! Every cell of AWS's key state table, as data (`testdata/key-states.txt`): each operation that
//! acts on an existing key is sent through the whole pipeline against a key put into each of the
//! eight key states, and must answer as the table says.

use ferrokms_core::clock::ManualClock;
use ferrokms_core::{Caller, Kms};
use ferrokms_crypto::RootKey;
use ferrokms_store::sqlite::SqliteStore;
use ferrokms_store::Store;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

const STATES: [&str; 8] = [
    "Enabled",
    "Disabled",
    "PendingDeletion",
    "PendingImport",
    "Unavailable",
    "PendingReplicaDeletion",
    "Creating",
    "Updating",
];
const ACCOUNT: &str = "111122223333";
const ME: &str = "arn:aws:iam::111122223333:user/admin";
const START_MS: i64 = 1_800_000_000_000;

struct Row {
    line: usize,
    operation: String,
    kind: String,
    cells: Vec<String>,
    body: String,
}

fn table() -> Vec<Row> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/key-states.txt");
    let text = std::fs::read_to_string(path).expect("testdata/key-states.txt");
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (head, body) = line
            .split_once('|')
            .unwrap_or_else(|| panic!("line {line_no}: no '|' before the request"));
        let words: Vec<&str> = head.split_whitespace().collect();
        assert_eq!(words.len(), 2 + STATES.len(), "line {line_no}: {head}");
        for cell in &words[2..] {
            assert!(
                ["ok", "D", "I"].contains(cell),
                "line {line_no}: cell {cell}"
            );
        }
        rows.push(Row {
            line: line_no,
            operation: words[0].into(),
            kind: words[1].into(),
            cells: words[2..].iter().map(|c| c.to_string()).collect(),
            body: body.trim().into(),
        });
    }
    rows
}

/// One server's worth of service layer over a shared store. Each cell runs on a fresh `Kms`
/// (fresh caches) over the same store and root key, so it sees the state just written.
struct Bench {
    store: Arc<SqliteStore>,
    root: String,
    clock: Arc<ManualClock>,
    caller: Caller,
}

impl Bench {
    async fn new() -> Bench {
        let store = Arc::new(SqliteStore::open_in_memory().await.expect("store"));
        let root = RootKey::generate().expect("root").encode();
        let bench = Bench {
            store,
            root,
            clock: Arc::new(ManualClock::new(START_MS)),
            caller: Caller {
                principal_arn: ME.into(),
                account_id: ACCOUNT.into(),
                access_key_id: "AKIATEST".into(),
                region: "us-east-1".into(),
                ..Caller::default()
            },
        };
        ferrokms_core::bootstrap::ensure_admin(&bench.kms(), ACCOUNT)
            .await
            .expect("admin");
        bench
    }

    fn kms(&self) -> Kms {
        let root = RootKey::from_encoded(&self.root).expect("root");
        Kms::new(self.store.clone(), root, self.clock.clone())
    }

    async fn call(&self, operation: &str, body: &Value) -> Result<Value, (String, String)> {
        let bytes = serde_json::to_vec(body).expect("json");
        match self
            .kms()
            .handle(operation, &self.caller, &bytes)
            .await
            .result
        {
            Ok(out) => Ok(serde_json::from_slice(&out).expect("answer is JSON")),
            Err(e) => Err((e.wire_name().to_string(), e.message().to_string())),
        }
    }

    async fn ok(&self, operation: &str, body: Value) -> Value {
        self.call(operation, &body)
            .await
            .unwrap_or_else(|e| panic!("{operation}: {e:?}"))
    }

    async fn create_key(&self, spec: &str, usage: &str) -> String {
        let out = self
            .ok("CreateKey", json!({"KeySpec": spec, "KeyUsage": usage}))
            .await;
        out["KeyMetadata"]["KeyId"]
            .as_str()
            .expect("id")
            .to_string()
    }

    async fn encrypt(&self, key: &str) -> String {
        let out = self
            .ok("Encrypt", json!({"KeyId": key, "Plaintext": "aGVsbG8="}))
            .await;
        out["CiphertextBlob"].as_str().expect("blob").to_string()
    }

    /// Puts the key into `state` directly in the store (as the lifecycle would).
    async fn set_state(&self, key_id: &str, state: &str) {
        // A multi-Region key's row is named by its key id and Region.
        let row_id = if key_id.starts_with("mrk-") {
            format!("{key_id}@us-east-1")
        } else {
            key_id.to_string()
        };
        let mut row = self
            .store
            .get_key(ACCOUNT, "us-east-1", &row_id)
            .await
            .expect("get")
            .expect("key exists");
        row.state = state.into();
        let pending = state == "PendingDeletion";
        row.deletion_date = pending.then_some(START_MS + 7 * 86_400_000);
        row.pending_window_days = pending.then_some(7);
        self.store.update_key(&row).await.expect("set state");
    }
}

/// The key under test for a row's kind, made fresh (Enabled).
async fn key_of_kind(bench: &Bench, kind: &str) -> String {
    match kind {
        "symmetric" | "as-destination" => {
            bench
                .create_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
                .await
        }
        "sign" => bench.create_key("ECC_NIST_P256", "SIGN_VERIFY").await,
        "hmac" => bench.create_key("HMAC_256", "GENERATE_VERIFY_MAC").await,
        "agree" => bench.create_key("ECC_NIST_P256", "KEY_AGREEMENT").await,
        "kem" => {
            bench
                .create_key("ML_KEM_768", "ENCAPSULATE_DECAPSULATE")
                .await
        }
        "external" => {
            let out = bench.ok("CreateKey", json!({"Origin": "EXTERNAL"})).await;
            out["KeyMetadata"]["KeyId"]
                .as_str()
                .expect("id")
                .to_string()
        }
        "mrk" => {
            let out = bench.ok("CreateKey", json!({"MultiRegion": true})).await;
            out["KeyMetadata"]["KeyId"]
                .as_str()
                .expect("id")
                .to_string()
        }
        other => panic!("unknown key kind {other}"),
    }
}

/// The class of an answer: "D", "I", or "ok" for anything that got past the state check.
fn class(answer: &Result<Value, (String, String)>) -> &'static str {
    match answer {
        Err((code, _)) if code == "DisabledException" => "D",
        Err((code, _)) if code == "KMSInvalidStateException" => "I",
        _ => "ok",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cell_of_the_key_state_table() {
    let bench = Bench::new().await;
    let other = bench
        .create_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
        .await;
    let other_blob = bench.encrypt(&other).await;
    bench
        .ok(
            "CreateAlias",
            json!({"AliasName": "alias/state-update", "TargetKeyId": other}),
        )
        .await;
    let agreement = bench.create_key("ECC_NIST_P256", "KEY_AGREEMENT").await;
    let public = bench.ok("GetPublicKey", json!({"KeyId": agreement})).await["PublicKey"]
        .as_str()
        .expect("public key")
        .to_string();
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                       "Action": "kms:*", "Resource": "*"}]
    })
    .to_string();

    let rows = table();
    assert!(rows.len() > 30, "the table lists every key operation");
    let mut mismatches = Vec::new();
    let mut cells = 0;
    for row in &rows {
        for (state, want) in STATES.iter().zip(&row.cells) {
            let key = key_of_kind(&bench, &row.kind).await;
            let mut fill: HashMap<&str, String> = HashMap::new();
            fill.insert("$KEY", key.clone());
            fill.insert("$OTHERBLOB", other_blob.clone());
            fill.insert("$OTHER", other.clone());
            fill.insert("$PUB", public.clone());
            fill.insert("$M", "aGVsbG8=".into());
            fill.insert("$ME", ME.into());
            fill.insert("$POLICY", policy.replace('"', "\\\""));
            if row.body.contains("$BLOB") {
                fill.insert("$BLOB", bench.encrypt(&key).await);
            }
            if row.body.contains("$GRANT") {
                let grant = bench
                    .ok(
                        "CreateGrant",
                        json!({"KeyId": key, "GranteePrincipal": ME, "Operations": ["Encrypt"]}),
                    )
                    .await;
                fill.insert("$GRANT", grant["GrantId"].as_str().expect("grant").into());
            }
            // Longest placeholders first, so $OTHER does not eat $OTHERBLOB.
            let mut names: Vec<&&str> = fill.keys().collect();
            names.sort_by_key(|n| std::cmp::Reverse(n.len()));
            let mut body = row.body.clone();
            for name in names {
                body = body.replace(*name, &fill[*name]);
            }
            let body: Value = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("line {}: request is not JSON: {e}", row.line));

            bench.set_state(&key, state).await;
            let answer = bench.call(&row.operation, &body).await;
            cells += 1;
            if class(&answer) != want {
                mismatches.push(format!(
                    "line {} {} ({}) in {state}: want {want}, got {answer:?}",
                    row.line, row.operation, row.kind
                ));
            }
            // A state answer names the key and says why, as AWS's messages do.
            if let Err((code, message)) = &answer {
                if code == "DisabledException" || code == "KMSInvalidStateException" {
                    assert!(message.contains(&key), "line {}: {message}", row.line);
                }
            }
            // A created alias would collide with the next cell's.
            let _ = bench
                .call("DeleteAlias", &json!({"AliasName": "alias/state-test"}))
                .await;
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {cells} cells differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn every_key_operation_of_the_registry_is_in_the_table() {
    let listed: std::collections::HashSet<String> =
        table().into_iter().map(|row| row.operation).collect();
    // Operations that act on no existing key (or only on an alias or a grant by token).
    let keyless = [
        "CreateKey",
        "ListKeys",
        "GenerateRandom",
        "DeleteAlias",
        "ListRetirableGrants",
        "RetireGrant",
        "ConnectCustomKeyStore",
        "CreateCustomKeyStore",
        "DeleteCustomKeyStore",
        "DescribeCustomKeyStores",
        "DisconnectCustomKeyStore",
        "UpdateCustomKeyStore",
    ];
    let missing: Vec<&str> = ferrokms_core::registry::names()
        .filter(|name| !keyless.contains(name) && !listed.contains(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "not in testdata/key-states.txt: {missing:?}"
    );
}
