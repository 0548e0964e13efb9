//! The admin commands (`ferrokms principal ...`): they open the data dir directly, so they work
//! whether or not a server is running on it, and print JSON shaped like `aws iam`'s answers.

use crate::cli::{AccountArgs, PrincipalCommand, StoreArgs, UserArgs};
use crate::server;
use ferrokms_core::clock::SystemClock;
use ferrokms_core::principals::{self, Credentials};
use ferrokms_core::{identities, Kms};
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
            let users = identities::list_users(&kms, &a.account_id)
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
            identities::delete_user(&kms, account, name)
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
        PrincipalCommand::PutPolicy(p) => {
            let document = read_document(&p.policy_document)?;
            let (kms, account, name) = user(&p.policy.user).await?;
            identities::put_policy(&kms, account, name, &p.policy.policy_name, &document)
                .await
                .map_err(text)?;
            return Ok(());
        }
        PrincipalCommand::GetPolicy(p) => {
            let (kms, account, name) = user(&p.user).await?;
            let document = identities::get_policy(&kms, account, name, &p.policy_name)
                .await
                .map_err(text)?;
            let parsed: Value = serde_json::from_str(&document).unwrap_or(Value::String(document));
            json!({ "UserName": name, "PolicyName": p.policy_name, "PolicyDocument": parsed })
        }
        PrincipalCommand::ListPolicies(u) => {
            let (kms, account, name) = user(&u).await?;
            json!({ "PolicyNames": identities::list_policies(&kms, account, name).await.map_err(text)? })
        }
        PrincipalCommand::DeletePolicy(p) => {
            let (kms, account, name) = user(&p.user).await?;
            identities::delete_policy(&kms, account, name, &p.policy_name)
                .await
                .map_err(text)?;
            return Ok(());
        }
    };
    println!("{}", serde_json::to_string_pretty(&out).map_err(text)?);
    Ok(())
}

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

async fn open(store: &StoreArgs) -> Result<Kms, String> {
    server::open(
        &store.data_dir,
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
