//! Every cell of AWS's key state table, as data (`testdata/key-states.txt`): each operation that
//! acts on an existing key is sent through the whole pipeline against a key put into each of the
//! eight key states, and must answer as the table says.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::HashMap;

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

struct Row {
    line: usize,
    operation: String,
    kind: String,
    cells: Vec<String>,
    body: String,
}

fn table() -> Vec<Row> {
    let mut rows = Vec::new();
    for (line_no, line) in table_lines("key-states.txt") {
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
            let body: Value = serde_json::from_str(&common::fill(&row.body, &fill))
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
