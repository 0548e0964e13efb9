//! What a deleted user or role leaves behind. AWS binds a policy or grant that names a principal
//! by ARN to that principal's unique id; once the principal is deleted, the policy shows the id
//! (`AIDA…`, `AROA…`) where the ARN was, and a new principal created with the same name is not
//! named by it (security review finding 8: a re-created role must not inherit what the old one
//! was given). ferrokms does the same when the principal is deleted: every key policy and role
//! trust policy naming its ARN in a Principal or NotPrincipal element gets the unique id there
//! instead, and grants naming it as grantee or retiring principal name the id.
//!
//! This runs after the principal's row is gone, so a principal re-created meanwhile is not
//! named either. A policy written afterwards that names the ARN names the new principal, as a
//! policy naming a principal that does not exist yet would.

use crate::key::Key;
use crate::{error, iam::principals, Kms};
use ferrokms_store::{PrincipalRow, StoreError};
use ferrokms_types::KmsError;
use serde_json::Value;

/// Keys read per page while looking for policies naming the principal.
const PAGE: u32 = 100;

/// Rebinds every policy and grant naming `deleted` (just removed from the store) to its id.
pub async fn rebind(kms: &Kms, deleted: &PrincipalRow) -> Result<(), KmsError> {
    let id = principals::unique_id(deleted);
    let arn = deleted.arn.as_str();
    let mut after: Option<String> = None;
    loop {
        let page = kms
            .store()
            .keys_with_policy_containing(arn, after.as_deref(), PAGE)
            .await
            .map_err(error::store)?;
        for row in &page {
            rebind_key_policy(kms, row.clone(), arn, &id).await?;
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after = Some(last.key_id.clone()),
            _ => break,
        }
    }
    let roles = kms
        .store()
        .roles_with_trust_policy_containing(arn)
        .await
        .map_err(error::store)?;
    for role in roles {
        let Some(trust) = role.assume_role_policy.as_deref() else {
            continue;
        };
        if let Some(rebound) = rebind_document(trust, arn, &id) {
            match kms
                .store()
                .update_assume_role_policy(&role.arn, &rebound)
                .await
            {
                Ok(()) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(error::store(e)),
            }
        }
    }
    kms.store()
        .rebind_grant_principals(arn, &id)
        .await
        .map_err(error::store)?;
    Ok(())
}

/// Rewrites one key's policy, compare-and-swap, re-reading the key when another writer won.
async fn rebind_key_policy(
    kms: &Kms,
    mut row: ferrokms_store::KeyRow,
    arn: &str,
    id: &str,
) -> Result<(), KmsError> {
    loop {
        let Some(rebound) = rebind_document(&row.policy, arn, id) else {
            return Ok(());
        };
        let next = ferrokms_store::KeyRow {
            policy: rebound,
            ..row.clone()
        };
        match kms.store().update_key(&next).await {
            Ok(stored) => {
                kms.key_written(&Key::from_row(stored)?);
                return Ok(());
            }
            Err(StoreError::Conflict) => {
                match kms
                    .store()
                    .get_key(&row.account_id, &row.region, &row.key_id)
                    .await
                    .map_err(error::store)?
                {
                    Some(fresh) => row = fresh,
                    None => return Ok(()),
                }
            }
            Err(StoreError::NotFound) => return Ok(()),
            Err(e) => return Err(error::store(e)),
        }
    }
}

/// The policy document with `arn` replaced by `id` wherever a statement's Principal or
/// NotPrincipal names it as an `AWS` principal; `None` if it names it nowhere (or is not JSON).
pub fn rebind_document(text: &str, arn: &str, id: &str) -> Option<String> {
    let mut doc: Value = serde_json::from_str(text).ok()?;
    let mut changed = false;
    let statements = match doc.get_mut("Statement")? {
        Value::Array(items) => items.iter_mut().collect::<Vec<_>>(),
        single @ Value::Object(_) => vec![single],
        _ => return None,
    };
    for statement in statements {
        for element in ["Principal", "NotPrincipal"] {
            let Some(aws) = statement.get_mut(element).and_then(|p| p.get_mut("AWS")) else {
                continue;
            };
            let names: Vec<&mut Value> = match aws {
                Value::Array(items) => items.iter_mut().collect(),
                one => vec![one],
            };
            for name in names {
                if name.as_str() == Some(arn) {
                    *name = Value::String(id.to_string());
                    changed = true;
                }
            }
        }
    }
    changed.then(|| serde_json::to_string_pretty(&doc).ok())?
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

    #[test]
    fn only_principal_elements_are_rebound() {
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Principal":{{"AWS":["{ALICE}","arn:aws:iam::111122223333:user/bob"]}},"Action":"kms:*","Resource":"*"}},
                {{"Effect":"Deny","NotPrincipal":{{"AWS":"{ALICE}"}},"Action":"kms:*","Resource":"*",
                  "Condition":{{"StringEquals":{{"aws:PrincipalArn":"{ALICE}"}}}}}}]}}"#
        );
        let rebound = rebind_document(&text, ALICE, "AIDAALICE").expect("named");
        let doc: Value = serde_json::from_str(&rebound).unwrap();
        assert_eq!(
            doc["Statement"][0]["Principal"]["AWS"],
            serde_json::json!(["AIDAALICE", "arn:aws:iam::111122223333:user/bob"])
        );
        assert_eq!(doc["Statement"][1]["NotPrincipal"]["AWS"], "AIDAALICE");
        assert_eq!(
            doc["Statement"][1]["Condition"]["StringEquals"]["aws:PrincipalArn"], ALICE,
            "conditions compare strings, as at AWS"
        );
        let other = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice2"},"Action":"kms:*","Resource":"*"}}"#;
        assert_eq!(rebind_document(other, ALICE, "AIDAALICE"), None);
    }
}
