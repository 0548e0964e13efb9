//! The admin commands (`ferrokms principal ...`, `ferrokms role ...`): they open the data dir
//! directly, so they work whether or not a server is running on it, and print JSON shaped like
//! `aws iam`'s answers.

use crate::audit_trail;
use crate::cli::{
    AccountArgs, AuditCommand, PolicyArgs, PrincipalCommand, PutPolicyArgs, RoleCommand, StoreArgs,
    UserArgs,
};
use crate::server;
use ferrokms_core::clock::SystemClock;
use ferrokms_core::iam::identities::PrincipalKind;
use ferrokms_core::iam::principals::{self, Credentials};
use ferrokms_core::{iam::identities, iam::roles, Kms};
use ferrokms_types::Timestamp;
use serde_json::{json, Value};
use std::sync::Arc;

pub async fn principal(command: PrincipalCommand) -> Result<(), String> {
    let out = match command {
        PrincipalCommand::Create(u) => {
            let kms = open(&u.account.store).await?;
            let creds = principals::create_user(&kms, &u.account.account_id, &u.name)
                .await
                .map_err(text)?;
            let (arn, id, secret) = credentials(&creds)?;
            json!({ "Arn": arn, "AccessKeyId": id, "SecretAccessKey": secret })
        }
        PrincipalCommand::List(a) => {
            let kms = open(&a.store).await?;
            let users = identities::list(&kms, PrincipalKind::User, &a.account_id)
                .await
                .map_err(text)?;
            let users: Vec<Value> = users
                .into_iter()
                .map(|u| json!({ "UserName": u.name, "Arn": u.arn, "CreateDate": Timestamp(u.created_at) }))
                .collect();
            json!({ "Users": users })
        }
        PrincipalCommand::Delete(u) => {
            let (kms, account, name) = user(&u).await?;
            identities::delete(&kms, PrincipalKind::User, account, name)
                .await
                .map_err(text)?;
            return Ok(());
        }
        PrincipalCommand::CreateAccessKey(u) => {
            let (kms, account, name) = user(&u).await?;
            let creds = identities::create_access_key(&kms, account, name)
                .await
                .map_err(text)?;
            let (_, id, secret) = credentials(&creds)?;
            json!({ "AccessKey": { "UserName": name, "AccessKeyId": id, "SecretAccessKey": secret, "Status": "Active" } })
        }
        PrincipalCommand::ListAccessKeys(u) => {
            let (kms, account, name) = user(&u).await?;
            let ids = identities::list_access_keys(&kms, account, name)
                .await
                .map_err(text)?;
            let keys: Vec<Value> = ids
                .into_iter()
                .map(|id| json!({ "UserName": name, "AccessKeyId": id, "Status": "Active" }))
                .collect();
            json!({ "AccessKeyMetadata": keys })
        }
        PrincipalCommand::DeleteAccessKey(k) => {
            let (kms, account, name) = user(&k.user).await?;
            identities::delete_access_key(&kms, account, name, &k.access_key_id)
                .await
                .map_err(text)?;
            return Ok(());
        }
        PrincipalCommand::PutPolicy(p) => return put_policy(PrincipalKind::User, &p).await,
        PrincipalCommand::GetPolicy(p) => get_policy(PrincipalKind::User, &p).await?,
        PrincipalCommand::ListPolicies(u) => list_policies(PrincipalKind::User, &u).await?,
        PrincipalCommand::DeletePolicy(p) => return delete_policy(PrincipalKind::User, &p).await,
    };
    println!("{}", serde_json::to_string_pretty(&out).map_err(text)?);
    Ok(())
}

pub async fn role(command: RoleCommand) -> Result<(), String> {
    let out = match command {
        RoleCommand::Create(c) => {
            let document = read_document(&c.assume_role_policy_document)?;
            let (kms, account, name) = user(&c.role).await?;
            let row = roles::create_role(&kms, account, name, &document)
                .await
                .map_err(text)?;
            json!({ "Role": role_json(&row) })
        }
        RoleCommand::List(a) => {
            let kms = open(&a.store).await?;
            let rows = identities::list(&kms, PrincipalKind::Role, &a.account_id)
                .await
                .map_err(text)?;
            json!({ "Roles": rows.iter().map(role_json).collect::<Vec<_>>() })
        }
        RoleCommand::Delete(u) => {
            let (kms, account, name) = user(&u).await?;
            identities::delete(&kms, PrincipalKind::Role, account, name)
                .await
                .map_err(text)?;
            return Ok(());
        }
        RoleCommand::UpdateAssumeRolePolicy(u) => {
            let document = read_document(&u.policy_document)?;
            let (kms, account, name) = user(&u.role).await?;
            roles::update_trust_policy(&kms, account, name, &document)
                .await
                .map_err(text)?;
            return Ok(());
        }
        RoleCommand::PutPolicy(p) => return put_policy(PrincipalKind::Role, &p).await,
        RoleCommand::GetPolicy(p) => get_policy(PrincipalKind::Role, &p).await?,
        RoleCommand::ListPolicies(u) => list_policies(PrincipalKind::Role, &u).await?,
        RoleCommand::DeletePolicy(p) => return delete_policy(PrincipalKind::Role, &p).await,
    };
    println!("{}", serde_json::to_string_pretty(&out).map_err(text)?);
    Ok(())
}

/// A role as `aws iam get-role` shows it.
fn role_json(row: &ferrokms_store::PrincipalRow) -> Value {
    let trust = row.assume_role_policy.as_deref().unwrap_or("{}");
    let trust: Value = serde_json::from_str(trust).unwrap_or(Value::String(trust.into()));
    json!({
        "RoleName": row.name,
        "RoleId": ferrokms_core::iam::principals::unique_id(row),
        "Arn": row.arn,
        "CreateDate": Timestamp(row.created_at),
        "AssumeRolePolicyDocument": trust,
        "MaxSessionDuration": ferrokms_core::iam::sessions::MAX_DURATION_SECONDS,
    })
}

/// `UserName` or `RoleName`, as `aws iam` labels the owner of a policy.
fn name_field(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::User => "UserName",
        PrincipalKind::Role => "RoleName",
    }
}

async fn put_policy(kind: PrincipalKind, p: &PutPolicyArgs) -> Result<(), String> {
    let document = read_document(&p.policy_document)?;
    let (kms, account, name) = user(&p.policy.user).await?;
    identities::put_policy(&kms, kind, account, name, &p.policy.policy_name, &document)
        .await
        .map_err(text)
}

async fn get_policy(kind: PrincipalKind, p: &PolicyArgs) -> Result<Value, String> {
    let (kms, account, name) = user(&p.user).await?;
    let document = identities::get_policy(&kms, kind, account, name, &p.policy_name)
        .await
        .map_err(text)?;
    let parsed: Value = serde_json::from_str(&document).unwrap_or(Value::String(document));
    Ok(json!({ name_field(kind): name, "PolicyName": p.policy_name, "PolicyDocument": parsed }))
}

async fn list_policies(kind: PrincipalKind, u: &UserArgs) -> Result<Value, String> {
    let (kms, account, name) = user(u).await?;
    let names = identities::list_policies(&kms, kind, account, name)
        .await
        .map_err(text)?;
    Ok(json!({ "PolicyNames": names }))
}

async fn delete_policy(kind: PrincipalKind, p: &PolicyArgs) -> Result<(), String> {
    let (kms, account, name) = user(&p.user).await?;
    identities::delete_policy(&kms, kind, account, name, &p.policy_name)
        .await
        .map_err(text)
}

/// `ferrokms audit verify|query`: read-only, blocking file work off the async threads.
pub async fn audit(command: AuditCommand) -> Result<(), String> {
    tokio::task::spawn_blocking(move || audit_blocking(command))
        .await
        .map_err(text)?
}

fn audit_blocking(command: AuditCommand) -> Result<(), String> {
    match command {
        AuditCommand::Verify(v) => {
            // With the data dir's key, its wrapping also says whether the trail must have a
            // checkpoint; a public key given alone cannot say.
            let (public_key, checkpoint_required) = match &v.public_key {
                Some(path) => {
                    let pem = std::fs::read_to_string(path)
                        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    (
                        ferrokms_audit::public_key_from_pem(&pem).map_err(text)?,
                        false,
                    )
                }
                None => audit_trail::public_key(&v.store.data_dir, &v.store.root_key_source())?,
            };
            let dir = audit_trail::audit_dir(&v.store.data_dir);
            let options = ferrokms_audit::VerifyOptions {
                from: v.from,
                checkpoint_required,
            };
            let report = ferrokms_audit::verify_with(&dir, &public_key, options).map_err(text)?;
            println!("{report}");
            if report.is_intact() {
                Ok(())
            } else {
                Err(format!(
                    "the audit trail in {} is not intact",
                    dir.display()
                ))
            }
        }
        AuditCommand::Query(q) => {
            let filter = ferrokms_audit::QueryFilter {
                key_id: q.key_id,
                principal: q.principal,
                event_name: q.event,
                since: q.since,
            };
            let dir = audit_trail::audit_dir(&q.store.data_dir);
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            for record in ferrokms_audit::query(&dir, filter).map_err(text)? {
                // A damaged line is reported and skipped; `audit verify` says what happened.
                let record = match record {
                    Ok(record) => record,
                    Err(e) => {
                        eprintln!("ferrokms: skipping an unreadable record: {e}");
                        continue;
                    }
                };
                let line = serde_json::to_string(&record.event).map_err(text)?;
                writeln!(out, "{line}").map_err(text)?;
            }
            Ok(())
        }
    }
}

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

async fn open(store: &StoreArgs) -> Result<Kms, String> {
    server::open(
        &store.data_dir,
        store.store.as_deref(),
        &store.root_key_source(),
        Arc::new(SystemClock),
    )
    .await
}

async fn user(u: &UserArgs) -> Result<(Kms, &str, &str), String> {
    let AccountArgs { store, account_id } = &u.account;
    Ok((open(store).await?, account_id.as_str(), u.name.as_str()))
}

fn credentials(creds: &Credentials) -> Result<(&str, &str, &str), String> {
    let secret = std::str::from_utf8(creds.secret_access_key.expose()).map_err(text)?;
    Ok((&creds.arn, &creds.access_key_id, secret))
}

/// `file://PATH` reads the file, as the AWS CLI does; anything else is the document itself.
fn read_document(arg: &str) -> Result<String, String> {
    match arg.strip_prefix("file://") {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}")),
        None => Ok(arg.to_string()),
    }
}
