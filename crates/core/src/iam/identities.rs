//! Managing identities after creation, as `aws iam` does: listing and deleting users and roles,
//! adding and removing users' access keys, and inline identity policies of users and roles. Used
//! by the admin commands; every change is visible to a running server at once (see the identity
//! version in the store).

use crate::iam::principals::{
    check_iam_name, check_name, new_access_key, user_arn, Credentials, PrincipalError,
};
use crate::{error, Kms};
use ferrokms_store::{PrincipalRow, StoreError};

/// IAM's limit on an inline user policy's size, in characters (whitespace excluded by IAM; we
/// count it, which is stricter).
pub const MAX_POLICY_CHARS: usize = 2048 * 5;

/// Users sign with access keys; roles are assumed through STS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    User,
    Role,
}

impl PrincipalKind {
    pub fn arn(self, account_id: &str, name: &str) -> String {
        match self {
            PrincipalKind::User => user_arn(account_id, name),
            PrincipalKind::Role => crate::iam::roles::role_arn(account_id, name),
        }
    }

    /// Which kind an ARN names; `None` for anything but a user or a role.
    pub fn of(arn: &str) -> Option<Self> {
        let resource = arn.splitn(6, ':').nth(5)?;
        if resource.starts_with("user/") {
            Some(PrincipalKind::User)
        } else if resource.starts_with("role/") {
            Some(PrincipalKind::Role)
        } else {
            None
        }
    }
}

pub(crate) fn store_err(what: String) -> impl FnOnce(StoreError) -> PrincipalError {
    move |e| match e {
        StoreError::NotFound => PrincipalError::NotFound(what),
        StoreError::AlreadyExists => PrincipalError::AlreadyExists,
        other => PrincipalError::Kms(error::store(other)),
    }
}

/// The stored user `name` of `account_id`.
pub async fn user(kms: &Kms, account_id: &str, name: &str) -> Result<PrincipalRow, PrincipalError> {
    principal(kms, PrincipalKind::User, account_id, name).await
}

/// The stored user or role `name` of `account_id`.
pub async fn principal(
    kms: &Kms,
    kind: PrincipalKind,
    account_id: &str,
    name: &str,
) -> Result<PrincipalRow, PrincipalError> {
    check_name(name)?;
    let arn = kind.arn(account_id, name);
    let row = kms
        .store()
        .get_principal(&arn)
        .await
        .map_err(store_err(arn.clone()))?;
    row.ok_or(PrincipalError::NotFound(arn))
}

/// The users, or the roles, of an account, ordered by ARN.
pub async fn list(
    kms: &Kms,
    kind: PrincipalKind,
    account_id: &str,
) -> Result<Vec<PrincipalRow>, PrincipalError> {
    let all = kms
        .store()
        .list_principals(account_id)
        .await
        .map_err(store_err(account_id.to_string()))?;
    Ok(all
        .into_iter()
        .filter(|p| PrincipalKind::of(&p.arn) == Some(kind))
        .collect())
}

/// Deletes a user (with its access keys) or a role (ending its sessions), with its policies;
/// requests made with its credentials stop authenticating. Policies and grants naming it then
/// name its unique id (`deleted_principals`).
pub async fn delete(
    kms: &Kms,
    kind: PrincipalKind,
    account_id: &str,
    name: &str,
) -> Result<(), PrincipalError> {
    let found = principal(kms, kind, account_id, name).await?;
    kms.store()
        .delete_principal(&found.arn)
        .await
        .map_err(store_err(found.arn.clone()))?;
    crate::iam::deleted_principals::rebind(kms, &found)
        .await
        .map_err(PrincipalError::Kms)
}

/// The user's access keys, with its ARN.
async fn user_keys(
    kms: &Kms,
    account_id: &str,
    name: &str,
) -> Result<(String, Vec<String>), PrincipalError> {
    let user = user(kms, account_id, name).await?;
    let rows = kms
        .store()
        .list_access_keys(&user.arn)
        .await
        .map_err(store_err(user.arn.clone()))?;
    Ok((
        user.arn,
        rows.into_iter().map(|k| k.access_key_id).collect(),
    ))
}

/// The principal's inline policies as (name, document), with its ARN.
async fn policies_of(
    kms: &Kms,
    kind: PrincipalKind,
    account_id: &str,
    name: &str,
) -> Result<(String, Vec<(String, String)>), PrincipalError> {
    let user = principal(kms, kind, account_id, name).await?;
    let policies = kms
        .store()
        .list_principal_policies(&user.arn)
        .await
        .map_err(store_err(user.arn.clone()))?;
    Ok((user.arn, policies))
}

/// A further access key for an existing user (for rotation without downtime).
pub async fn create_access_key(
    kms: &Kms,
    account_id: &str,
    name: &str,
) -> Result<Credentials, PrincipalError> {
    let user = user(kms, account_id, name).await?;
    let (row, secret) = new_access_key(kms, &user.arn, account_id)?;
    kms.store()
        .insert_access_key(&row)
        .await
        .map_err(store_err(user.arn.clone()))?;
    Ok(Credentials {
        arn: user.arn,
        access_key_id: row.access_key_id,
        secret_access_key: secret,
    })
}

/// Removes an access key of the user; requests signed with it stop authenticating.
pub async fn delete_access_key(
    kms: &Kms,
    account_id: &str,
    name: &str,
    access_key_id: &str,
) -> Result<(), PrincipalError> {
    let (arn, keys) = user_keys(kms, account_id, name).await?;
    if !keys.iter().any(|k| k == access_key_id) {
        return Err(PrincipalError::NotFound(format!(
            "access key {access_key_id} of {arn}"
        )));
    }
    kms.store()
        .delete_access_key(access_key_id)
        .await
        .map_err(store_err(access_key_id.to_string()))
}

/// The user's access key ids.
pub async fn list_access_keys(
    kms: &Kms,
    account_id: &str,
    name: &str,
) -> Result<Vec<String>, PrincipalError> {
    Ok(user_keys(kms, account_id, name).await?.1)
}

/// Policy names follow IAM: 1–128 of letters, digits and `+=,.@_-`.
fn check_policy_name(name: &str) -> Result<(), PrincipalError> {
    check_iam_name("policy", name, 128)
}

/// An identity policy in the IAM policy language (no Principal element), within IAM's size limit.
fn check_policy_document(document: &str) -> Result<(), PrincipalError> {
    if document.chars().count() > MAX_POLICY_CHARS {
        return Err(PrincipalError::MalformedPolicy(format!(
            "longer than {MAX_POLICY_CHARS} characters"
        )));
    }
    ferrokms_policy::Policy::parse_as(document, ferrokms_policy::PolicyKind::Identity)
        .map(|_| ())
        .map_err(|e| PrincipalError::MalformedPolicy(e.to_string()))
}

/// Attaches (or replaces) an inline policy of the user or role.
pub async fn put_policy(
    kms: &Kms,
    kind: PrincipalKind,
    account_id: &str,
    name: &str,
    policy_name: &str,
    document: &str,
) -> Result<(), PrincipalError> {
    check_policy_name(policy_name)?;
    check_policy_document(document)?;
    let user = principal(kms, kind, account_id, name).await?;
    let now = kms.now_ms();
    kms.store()
        .put_principal_policy(&user.arn, policy_name, document, now)
        .await
        .map_err(store_err(user.arn.clone()))
}

pub async fn get_policy(
    kms: &Kms,
    kind: PrincipalKind,
    account_id: &str,
    name: &str,
    policy_name: &str,
) -> Result<String, PrincipalError> {
    let (arn, policies) = policies_of(kms, kind, account_id, name).await?;
    let found = policies
        .into_iter()
        .find(|(n, _)| n == policy_name)
        .map(|(_, doc)| doc);
    found.ok_or_else(|| PrincipalError::NotFound(format!("policy {policy_name} of {arn}")))
}

pub async fn list_policies(
    kms: &Kms,
    kind: PrincipalKind,
    account_id: &str,
    name: &str,
) -> Result<Vec<String>, PrincipalError> {
    let (_, policies) = policies_of(kms, kind, account_id, name).await?;
    Ok(policies.into_iter().map(|(n, _)| n).collect())
}

pub async fn delete_policy(
    kms: &Kms,
    kind: PrincipalKind,
    account_id: &str,
    name: &str,
    policy_name: &str,
) -> Result<(), PrincipalError> {
    let user = principal(kms, kind, account_id, name).await?;
    let what = format!("policy {policy_name} of {}", user.arn);
    kms.store()
        .delete_principal_policy(&user.arn, policy_name)
        .await
        .map_err(store_err(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_and_names_are_checked() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#;
        assert!(check_policy_document(ok).is_ok());
        let with_principal =
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]}"#;
        assert!(check_policy_document(with_principal).is_err());
        assert!(check_policy_document("not json").is_err());
        assert!(check_policy_document("[]").is_err());
        assert!(check_policy_name("kms-read").is_ok());
        assert!(check_policy_name("").is_err());
        assert!(check_policy_name("a b").is_err());
    }
}
