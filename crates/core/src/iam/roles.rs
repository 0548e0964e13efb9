//! Roles: principals without access keys, used through STS AssumeRole. A role has a trust policy
//! (who may assume it: a resource-based policy whose resource is the role itself) and inline
//! identity policies like a user's (see `identities`).

use crate::iam::identities::{principal, store_err, PrincipalKind};
use crate::iam::principals::{check_name, PrincipalError};
use crate::Kms;
use ferrokms_policy::{Policy, PolicyKind};
use ferrokms_store::PrincipalRow;
use ferrokms_types::ids::is_account_id;

/// IAM's limit on a trust policy, in characters.
pub const MAX_TRUST_POLICY_CHARS: usize = 2048;

/// The ARN of role `name` of `account_id`.
pub fn role_arn(account_id: &str, name: &str) -> String {
    format!("arn:aws:iam::{account_id}:role/{name}")
}

/// The account and name of a role ARN (`arn:<partition>:iam::<account>:role/<name>`).
pub fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _, "iam", "", account, rest] = parts.as_slice() else {
        return None;
    };
    let name = rest.strip_prefix("role/")?;
    (is_account_id(account) && check_name(name).is_ok()).then_some((*account, name))
}

/// Parses a trust policy. As in IAM, its statements name a Principal and no Resource (the
/// resource is the role itself); it is then evaluated like any resource-based policy.
pub fn parse_trust_policy(text: &str) -> Result<Policy, String> {
    if text.chars().count() > MAX_TRUST_POLICY_CHARS {
        return Err(format!("longer than {MAX_TRUST_POLICY_CHARS} characters"));
    }
    let mut document: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let statements = match document.get_mut("Statement") {
        Some(serde_json::Value::Array(items)) => items.iter_mut().collect::<Vec<_>>(),
        Some(one @ serde_json::Value::Object(_)) => vec![one],
        _ => return Err("Statement must be an object or a list of objects".into()),
    };
    for (i, statement) in statements.into_iter().enumerate() {
        let Some(fields) = statement.as_object_mut() else {
            return Err(format!("Statement[{i}]: a statement must be a JSON object"));
        };
        if let Some(field) = ["Resource", "NotResource"]
            .into_iter()
            .find(|f| fields.contains_key(*f))
        {
            return Err(format!(
                "Statement[{i}]: Has prohibited field {field} (a trust policy's resource is the role)"
            ));
        }
        fields.insert("Resource".into(), serde_json::Value::String("*".into()));
    }
    Policy::parse_as(&document.to_string(), PolicyKind::Resource).map_err(|e| e.to_string())
}

/// Creates the role `arn:aws:iam::<account>:role/<name>` with its trust policy.
pub async fn create_role(
    kms: &Kms,
    account_id: &str,
    name: &str,
    trust_policy: &str,
) -> Result<PrincipalRow, PrincipalError> {
    check_name(name)?;
    if !is_account_id(account_id) {
        return Err(PrincipalError::InvalidName(format!(
            "invalid account id {account_id:?}: 12 digits"
        )));
    }
    parse_trust_policy(trust_policy).map_err(PrincipalError::MalformedPolicy)?;
    let row = PrincipalRow {
        arn: role_arn(account_id, name),
        account_id: account_id.into(),
        name: name.into(),
        created_at: kms.now_ms(),
        assume_role_policy: Some(trust_policy.into()),
        unique_id: Some(crate::iam::principals::random_id("AROA").map_err(PrincipalError::Kms)?),
    };
    kms.store()
        .insert_principal(&row, None)
        .await
        .map_err(store_err(row.arn.clone()))?;
    Ok(row)
}

/// Replaces a role's trust policy; sessions already issued keep working until they expire.
pub async fn update_trust_policy(
    kms: &Kms,
    account_id: &str,
    name: &str,
    trust_policy: &str,
) -> Result<(), PrincipalError> {
    parse_trust_policy(trust_policy).map_err(PrincipalError::MalformedPolicy)?;
    let role = principal(kms, PrincipalKind::Role, account_id, name).await?;
    kms.store()
        .update_assume_role_policy(&role.arn, trust_policy)
        .await
        .map_err(store_err(role.arn.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::111122223333:role/deployer"),
            Some(("111122223333", "deployer"))
        );
        assert_eq!(parse_role_arn("arn:aws:iam::111122223333:user/alice"), None);
        assert_eq!(parse_role_arn("arn:aws:iam::1111:role/x"), None);
        assert_eq!(parse_role_arn("arn:aws:iam::111122223333:role/a b"), None);
    }

    #[test]
    fn trust_policies_name_principals_and_no_resource() {
        let ok = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}}"#;
        assert!(parse_trust_policy(ok).is_ok());
        let with_resource = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}"#;
        assert!(parse_trust_policy(with_resource)
            .unwrap_err()
            .contains("prohibited field Resource"));
        let no_principal = r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#;
        assert!(parse_trust_policy(no_principal).is_err());
        assert!(parse_trust_policy("[]").is_err());
        assert!(parse_trust_policy("nope").is_err());
    }
}
