//! AWS's authorisation rules per operation, as data (`testdata/authorization.txt`): every row is
//! sent through the whole pipeline allowed exactly its permissions, denied each one in turn, and
//! from another account, and must answer as the table says.

mod common;

use common::*;
use ferrokms_core::iam::identities::{put_policy, PrincipalKind};
use ferrokms_core::Caller;
use serde_json::{json, Value};
use std::collections::HashMap;

const OTHER_ACCOUNT: &str = "444455556666";
const TESTER: &str = "tester";

struct Row {
    line: usize,
    operation: String,
    kind: String,
    cross_account: String,
    permissions: Vec<String>,
    body: String,
}

fn table() -> Vec<Row> {
    table_lines("authorization.txt")
        .into_iter()
        .map(|(line, text)| {
            let (head, body) = text
                .split_once('|')
                .unwrap_or_else(|| panic!("line {line}: no '|' before the request"));
            let words: Vec<&str> = head.split_whitespace().collect();
            assert_eq!(words.len(), 4, "line {line}: {head}");
            assert!(
                ["yes", "no", "-"].contains(&words[2]),
                "line {line}: cross-account {}",
                words[2]
            );
            Row {
                line,
                operation: words[0].into(),
                kind: words[1].into(),
                cross_account: words[2].into(),
                permissions: words[3].split(',').map(str::to_string).collect(),
                body: body.trim().into(),
            }
        })
        .collect()
}

/// A key policy allowing this account and the other one everything: identity policies decide.
fn shared_policy() -> String {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{OTHER_ACCOUNT}:root")},
         "Action": "kms:*", "Resource": "*"}]})
    .to_string()
}

/// An identity policy allowing `actions` on every resource (or nothing KMS, when empty).
fn allowing(actions: &[&String]) -> String {
    let actions: Vec<&str> = if actions.is_empty() {
        vec!["sts:GetCallerIdentity"]
    } else {
        actions.iter().map(|a| a.as_str()).collect()
    };
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": "*"}]})
    .to_string()
}

fn user(account: &str, name: &str) -> Caller {
    Caller {
        principal_arn: format!("arn:aws:iam::{account}:user/{name}"),
        account_id: account.into(),
        access_key_id: "AKIATEST".into(),
        region: "us-east-1".into(),
        ..Caller::default()
    }
}

struct World {
    bench: Bench,
    tester: Caller,
    eve: Caller,
    other: String,
    public: String,
}

impl World {
    async fn new() -> World {
        let bench = Bench::new().await;
        let kms = bench.kms();
        ferrokms_core::iam::principals::create_user(&kms, ACCOUNT, TESTER)
            .await
            .expect("tester");
        ferrokms_core::iam::principals::create_user(&kms, OTHER_ACCOUNT, "eve")
            .await
            .expect("eve");
        let eve = user(OTHER_ACCOUNT, "eve");
        let all = "kms:*".to_string();
        put_policy(
            &kms,
            PrincipalKind::User,
            OTHER_ACCOUNT,
            "eve",
            "p",
            &allowing(&[&all]),
        )
        .await
        .expect("policy");
        let other = bench
            .create_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
            .await;
        bench
            .ok(
                "PutKeyPolicy",
                json!({"KeyId": other, "PolicyName": "default", "Policy": shared_policy()}),
            )
            .await;
        let agreement = bench.create_key("ECC_NIST_P256", "KEY_AGREEMENT").await;
        let public = bench.ok("GetPublicKey", json!({"KeyId": agreement})).await["PublicKey"]
            .as_str()
            .expect("public key")
            .to_string();
        // UpdateAlias moves an existing alias: one in each account, on a key of that account.
        bench
            .ok(
                "CreateAlias",
                json!({"AliasName": "alias/authz-update", "TargetKeyId": other}),
            )
            .await;
        let hers = bench
            .call_as(&eve, "CreateKey", &json!({}))
            .await
            .expect("her key");
        let hers = hers["KeyMetadata"]["KeyId"]
            .as_str()
            .expect("id")
            .to_string();
        bench
            .call_as(
                &eve,
                "CreateAlias",
                &json!({"AliasName": "alias/authz-update", "TargetKeyId": hers}),
            )
            .await
            .expect("her alias");
        World {
            bench,
            tester: user(ACCOUNT, TESTER),
            eve,
            other,
            public,
        }
    }

    async fn allow_tester(&self, actions: &[&String]) {
        put_policy(
            &self.bench.kms(),
            PrincipalKind::User,
            ACCOUNT,
            TESTER,
            "p",
            &allowing(actions),
        )
        .await
        .expect("tester policy");
    }

    /// A fresh key of the row's kind shared with the other account, and the request for `caller`
    /// (naming keys by ARN when the caller is of the other account).
    async fn request(&self, row: &Row, caller: &Caller) -> Value {
        let bench = &self.bench;
        let mut values: HashMap<&str, String> = HashMap::new();
        let foreign = caller.account_id != ACCOUNT;
        let arn = |id: &str| {
            if foreign {
                format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}")
            } else {
                id.to_string()
            }
        };
        if row.kind != "none" {
            let key = key_of_kind(bench, &row.kind).await;
            bench
                .ok(
                    "PutKeyPolicy",
                    json!({"KeyId": key, "PolicyName": "default", "Policy": shared_policy()}),
                )
                .await;
            if row.body.contains("$BLOB") {
                values.insert("$BLOB", bench.encrypt(&key).await);
            }
            if row.body.contains("$GRANT") {
                let grant = bench
                    .ok(
                        "CreateGrant",
                        json!({"KeyId": key, "GranteePrincipal": ME, "RetiringPrincipal": ME,
                               "Operations": ["Encrypt"]}),
                    )
                    .await;
                values.insert("$GRANT", grant["GrantId"].as_str().expect("grant").into());
            }
            if row.body.contains("alias/authz-delete") {
                bench
                    .ok(
                        "CreateAlias",
                        json!({"AliasName": "alias/authz-delete", "TargetKeyId": key}),
                    )
                    .await;
            }
            values.insert("$KEY", arn(&key));
        }
        values.insert("$OTHER", arn(&self.other));
        values.insert("$PUB", self.public.clone());
        values.insert("$M", "aGVsbG8=".into());
        values.insert("$ME", caller.principal_arn.clone());
        values.insert("$POLICY", shared_policy().replace('"', "\\\""));
        serde_json::from_str(&fill(&row.body, &values))
            .unwrap_or_else(|e| panic!("line {}: request is not JSON: {e}", row.line))
    }

    /// Undoes what a request may have made that would collide with the next one.
    async fn tidy(&self, caller: &Caller) {
        for alias in ["alias/authz-test", "alias/authz-delete"] {
            let _ = self
                .bench
                .call_as(caller, "DeleteAlias", &json!({"AliasName": alias}))
                .await;
            let _ = self
                .bench
                .call("DeleteAlias", &json!({"AliasName": alias}))
                .await;
        }
    }
}

fn denied(answer: &Result<Value, (String, String)>) -> bool {
    matches!(answer, Err((code, _)) if code == "AccessDeniedException")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_needs_its_permissions_and_crosses_accounts_as_aws_says() {
    let world = World::new().await;
    let rows = table();
    let mut wrong = Vec::new();
    for row in &rows {
        let what = format!("line {} {}", row.line, row.operation);
        let needed: Vec<&String> = row.permissions.iter().collect();

        world.allow_tester(&needed).await;
        let body = world.request(row, &world.tester).await;
        let answer = world
            .bench
            .call_as(&world.tester, &row.operation, &body)
            .await;
        if denied(&answer) {
            wrong.push(format!("{what}: allowed {needed:?}, got {answer:?}"));
        }
        world.tidy(&world.tester).await;

        for missing in &needed {
            let rest: Vec<&String> = needed.iter().copied().filter(|p| p != missing).collect();
            world.allow_tester(&rest).await;
            let body = world.request(row, &world.tester).await;
            let answer = world
                .bench
                .call_as(&world.tester, &row.operation, &body)
                .await;
            if !denied(&answer) {
                wrong.push(format!("{what}: without {missing}, got {answer:?}"));
            }
            world.tidy(&world.tester).await;
        }

        if row.cross_account != "-" {
            let body = world.request(row, &world.eve).await;
            let answer = world.bench.call_as(&world.eve, &row.operation, &body).await;
            let want_denied = row.cross_account == "no";
            if denied(&answer) != want_denied {
                wrong.push(format!(
                    "{what}: from another account want {}, got {answer:?}",
                    if want_denied { "AccessDenied" } else { "use" }
                ));
            }
            world.tidy(&world.eve).await;
        }
    }
    assert!(
        wrong.is_empty(),
        "{} answers differ from testdata/authorization.txt:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_operation_of_the_registry_is_in_the_table() {
    let listed: std::collections::HashSet<String> =
        table().into_iter().map(|row| row.operation).collect();
    let missing: Vec<&str> = ferrokms_core::registry::names()
        .filter(|name| !listed.contains(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "not in testdata/authorization.txt: {missing:?}"
    );
}
