//! What the table-driven pipeline tests share: one service layer over an in-memory store, and
//! the keys of each kind the tables name.

#![allow(dead_code)] // each test crate uses its own part

use ferrokms_core::clock::ManualClock;
use ferrokms_core::{Caller, Kms};
use ferrokms_crypto::RootKey;
use ferrokms_store::sqlite::SqliteStore;
use ferrokms_store::Store;
use serde_json::{json, Value};
use std::sync::Arc;

pub const ACCOUNT: &str = "111122223333";
pub const ME: &str = "arn:aws:iam::111122223333:user/admin";
pub const START_MS: i64 = 1_800_000_000_000;

/// Reads a table under testdata/: its non-blank, non-comment lines with their line numbers.
pub fn table_lines(name: &str) -> Vec<(usize, String)> {
    let path = format!("{}/../../testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

/// Replaces each `$NAME` of `body`, longest names first so `$OTHER` does not eat `$OTHERBLOB`.
pub fn fill(body: &str, values: &std::collections::HashMap<&str, String>) -> String {
    let mut names: Vec<&&str> = values.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut body = body.to_string();
    for name in names {
        body = body.replace(*name, &values[*name]);
    }
    body
}

/// One server's worth of service layer over a shared store. Each cell runs on a fresh `Kms`
/// (fresh caches) over the same store and root key, so it sees the state just written.
pub struct Bench {
    pub store: Arc<SqliteStore>,
    pub root: String,
    pub clock: Arc<ManualClock>,
    pub caller: Caller,
}

impl Bench {
    pub async fn new() -> Bench {
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

    pub fn kms(&self) -> Kms {
        let root = RootKey::from_encoded(&self.root).expect("root");
        Kms::new(self.store.clone(), root, self.clock.clone())
    }

    pub async fn call(&self, operation: &str, body: &Value) -> Result<Value, (String, String)> {
        self.call_as(&self.caller, operation, body).await
    }

    /// Sends a request as `caller`: the wire name and message of an error, or the answer.
    pub async fn call_as(
        &self,
        caller: &Caller,
        operation: &str,
        body: &Value,
    ) -> Result<Value, (String, String)> {
        let bytes = serde_json::to_vec(body).expect("json");
        match ferrokms_core::registry::dispatch(&self.kms(), operation, caller, &bytes)
            .await
            .result
        {
            Ok(out) => Ok(serde_json::from_slice(&out).expect("answer is JSON")),
            Err(e) => Err((e.wire_name().to_string(), e.message().to_string())),
        }
    }

    pub async fn ok(&self, operation: &str, body: Value) -> Value {
        self.call(operation, &body)
            .await
            .unwrap_or_else(|e| panic!("{operation}: {e:?}"))
    }

    pub async fn create_key(&self, spec: &str, usage: &str) -> String {
        let out = self
            .ok("CreateKey", json!({"KeySpec": spec, "KeyUsage": usage}))
            .await;
        out["KeyMetadata"]["KeyId"]
            .as_str()
            .expect("id")
            .to_string()
    }

    pub async fn encrypt(&self, key: &str) -> String {
        let out = self
            .ok("Encrypt", json!({"KeyId": key, "Plaintext": "aGVsbG8="}))
            .await;
        out["CiphertextBlob"].as_str().expect("blob").to_string()
    }

    /// Puts the key into `state` directly in the store (as the lifecycle would).
    pub async fn set_state(&self, key_id: &str, state: &str) {
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
pub async fn key_of_kind(bench: &Bench, kind: &str) -> String {
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
