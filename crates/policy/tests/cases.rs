//! Runs every evaluation case under `testdata/policy/*.json` (format in that folder's README) and
//! reports all failures at once, each with its file, name and one-line reason.

use std::path::{Path, PathBuf};

use ferrokms_policy::{decide, Context, Decision, Policy, PolicyKind, Request};
use serde_json::{json, Value};

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const KEY: &str = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/policy")
}

/// `policy`, or `statement` wrapped in a 2012-10-17 document.
fn document(case: &Value, policy: &str, statement: &str) -> Option<String> {
    if let Some(p) = case.get(policy) {
        return Some(match p {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
    }
    case.get(statement)
        .map(|s| json!({"Version": "2012-10-17", "Statement": s}).to_string())
}

fn kind(case: &Value) -> Option<PolicyKind> {
    match case.get("kind").and_then(Value::as_str) {
        Some("resource") => Some(PolicyKind::Resource),
        Some("identity") => Some(PolicyKind::Identity),
        _ => None,
    }
}

fn context(v: Option<&Value>) -> Result<Context, String> {
    let mut c = Context::new();
    let Some(map) = v.and_then(Value::as_object) else {
        return Ok(c);
    };
    for (k, v) in map {
        match v {
            Value::String(s) => c.insert(k, s.clone()),
            Value::Bool(b) => c.insert_bool(k, *b),
            Value::Number(n) => c.insert_number(k, n.as_f64().ok_or("bad number")?),
            Value::Array(items) => {
                let items: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                c.insert_multi(k, items.ok_or("multivalued keys take strings")?)
            }
            _ => return Err(format!("bad context value for {k}")),
        };
    }
    Ok(c)
}

fn decision_name(d: Decision) -> &'static str {
    match d {
        Decision::Allow {
            via_account_root: false,
        } => "Allow",
        Decision::Allow {
            via_account_root: true,
        } => "AllowViaAccountRoot",
        Decision::ExplicitDeny => "ExplicitDeny",
        Decision::ImplicitDeny => "ImplicitDeny",
    }
}

fn parse(text: &str, kind: Option<PolicyKind>) -> Result<Policy, String> {
    match kind {
        Some(k) => Policy::parse_as(text, k),
        None => Policy::parse(text),
    }
    .map_err(|e| e.to_string())
}

/// Runs one case: Ok(()) or a description of what differed.
fn run(case: &Value) -> Result<(), String> {
    let str_field = |name: &str| case.get(name).and_then(Value::as_str);
    if let Some(want) = str_field("error").or(str_field("error_prefix")) {
        let exact = str_field("error").is_some();
        let text = document(case, "document", "statement").ok_or("error case without document")?;
        return match parse(&text, kind(case)) {
            Ok(_) => Err(format!("parsed, expected error {want:?}")),
            Err(got) if got == want || (!exact && got.starts_with(want)) => Ok(()),
            Err(got) => Err(format!("error {got:?}, expected {want:?}")),
        };
    }
    let want = str_field("expect").ok_or("case has neither expect nor error")?;
    let empty = json!({});
    let r = case.get("request").unwrap_or(&empty);
    let principal = r.get("principal").and_then(Value::as_str).unwrap_or(ALICE);
    let account = match r.get("account").and_then(Value::as_str) {
        Some(a) => a.to_string(),
        None => principal.split(':').nth(4).unwrap_or("").to_string(),
    };
    let resource = r.get("resource").and_then(Value::as_str).unwrap_or(KEY);
    let ctx = context(r.get("context"))?;
    let req = Request {
        principal_arn: principal,
        principal_account: &account,
        action: r
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or("kms:Encrypt"),
        resource,
        context: &ctx,
    };
    let got = if let Some(key_text) = document(case, "key_policy", "key_statement") {
        let key =
            parse(&key_text, Some(PolicyKind::Resource))?.evaluate_as(&req, PolicyKind::Resource);
        let mut ids = Vec::new();
        for p in case
            .get("identity_policies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let text = match p {
                Value::Object(o) if o.contains_key("Statement") => p.to_string(),
                other => json!({"Version": "2012-10-17", "Statement": other}).to_string(),
            };
            ids.push(
                parse(&text, Some(PolicyKind::Identity))?.evaluate_as(&req, PolicyKind::Identity),
            );
        }
        let key_account = resource.split(':').nth(4).unwrap_or("");
        decide(key, &ids, key_account == account)
    } else {
        let text = document(case, "policy", "statement").ok_or("case without policy")?;
        // Parsed without the Principal rule so evaluate_as can be tested on any document.
        let policy = parse(&text, None)?;
        match kind(case) {
            Some(k) => policy.evaluate_as(&req, k),
            None => policy.evaluate(&req),
        }
    };
    if decision_name(got) == want {
        Ok(())
    } else {
        Err(format!("got {}, expected {want}", decision_name(got)))
    }
}

#[test]
fn policy_cases() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("testdata/policy exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let (mut total, mut failures) = (0, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable case file");
        let cases: Vec<Value> = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not a JSON list of cases: {e}", file.display()));
        let fname = file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        for case in &cases {
            total += 1;
            let name = case.get("name").and_then(Value::as_str).unwrap_or("?");
            assert!(
                case.get("why").and_then(Value::as_str).is_some(),
                "{fname}: {name}: no why"
            );
            if let Err(e) = run(case) {
                let why = case.get("why").and_then(Value::as_str).unwrap_or("");
                failures.push(format!("{fname}: {name}: {e} (why: {why})"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total >= 80, "only {total} cases");
    println!("{total} policy cases passed");
}
