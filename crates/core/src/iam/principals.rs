//! Principals and their access keys. Secret access keys are stored only wrapped under the root
//! key and are unwrapped to verify a signature.

use crate::{error, Kms};
use ferrokms_crypto::SecretBytes;
use ferrokms_store::{AccessKeyRow, PrincipalRow, StoreError};
use ferrokms_types::ids::is_account_id;
use ferrokms_types::KmsError;
use std::fmt;

/// A new principal's credentials, shown once.
pub struct Credentials {
    pub arn: String,
    pub access_key_id: String,
    pub secret_access_key: SecretBytes,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Credentials({}, {}, <redacted>)",
            self.arn, self.access_key_id
        )
    }
}

/// The principal behind an access key, and the key's secret.
pub struct AccessKey {
    pub principal_arn: String,
    pub account_id: String,
    pub secret_access_key: SecretBytes,
}

#[derive(Debug)]
pub enum PrincipalError {
    InvalidName(String),
    AlreadyExists,
    NotFound(String),
    MalformedPolicy(String),
    Kms(KmsError),
}

impl fmt::Display for PrincipalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrincipalError::InvalidName(m) => f.write_str(m),
            PrincipalError::AlreadyExists => {
                f.write_str("a principal with that name already exists")
            }
            PrincipalError::NotFound(what) => write!(f, "{what} does not exist"),
            PrincipalError::MalformedPolicy(m) => write!(f, "malformed policy document: {m}"),
            PrincipalError::Kms(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for PrincipalError {}

/// IAM user names: 1–64 of letters, digits and `+=,.@_-`.
pub(crate) fn check_name(name: &str) -> Result<(), PrincipalError> {
    check_iam_name("principal", name, 64)
}

/// IAM's names (users, inline policies): 1–`max` of letters, digits and `+=,.@_-`.
pub(crate) fn check_iam_name(what: &str, name: &str, max: usize) -> Result<(), PrincipalError> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b);
    if (1..=max).contains(&name.len()) && name.bytes().all(allowed) {
        return Ok(());
    }
    Err(PrincipalError::InvalidName(format!(
        "invalid {what} name {name:?}: use 1-{max} letters, digits and +=,.@_-"
    )))
}

/// Creates the user `arn:aws:iam::<account>:user/<name>` with one access key.
pub async fn create_user(
    kms: &Kms,
    account_id: &str,
    name: &str,
) -> Result<Credentials, PrincipalError> {
    check_name(name)?;
    if !is_account_id(account_id) {
        return Err(PrincipalError::InvalidName(format!(
            "invalid account id {account_id:?}: 12 digits"
        )));
    }
    let arn = user_arn(account_id, name);
    let (key, secret) = new_access_key(kms, &arn, account_id)?;
    let access_key_id = key.access_key_id.clone();
    let now = kms.now_ms();
    let principal = PrincipalRow {
        arn: arn.clone(),
        account_id: account_id.into(),
        name: name.into(),
        created_at: now,
        assume_role_policy: None,
        unique_id: Some(random_id("AIDA").map_err(PrincipalError::Kms)?),
    };
    match kms.store().insert_principal(&principal, Some(&key)).await {
        Ok(()) => Ok(Credentials {
            arn,
            access_key_id,
            secret_access_key: secret,
        }),
        Err(StoreError::AlreadyExists) => Err(PrincipalError::AlreadyExists),
        Err(other) => Err(PrincipalError::Kms(error::store(other))),
    }
}

/// The ARN of user `name` of `account_id`.
pub fn user_arn(account_id: &str, name: &str) -> String {
    format!("arn:aws:iam::{account_id}:user/{name}")
}

/// A fresh access key for `principal_arn`: the row to store (secret wrapped) and the secret.
pub(crate) fn new_access_key(
    kms: &Kms,
    principal_arn: &str,
    account_id: &str,
) -> Result<(AccessKeyRow, SecretBytes), PrincipalError> {
    let access_key_id = new_access_key_id().map_err(PrincipalError::Kms)?;
    let secret = new_secret().map_err(PrincipalError::Kms)?;
    let wrapped = kms
        .secrets()
        .wrap_access_secret(&access_key_id, &secret)
        .map_err(|e| PrincipalError::Kms(error::crypto(e)))?;
    let row = AccessKeyRow {
        access_key_id,
        principal_arn: principal_arn.into(),
        account_id: account_id.into(),
        wrapped_secret: wrapped,
        created_at: kms.now_ms(),
    };
    Ok((row, secret))
}

/// Looks up an access key for SigV4 verification.
pub async fn access_key(kms: &Kms, access_key_id: &str) -> Result<Option<AccessKey>, KmsError> {
    let Some(row) = kms
        .store()
        .get_access_key(access_key_id)
        .await
        .map_err(error::store)?
    else {
        return Ok(None);
    };
    let secret = kms
        .secrets()
        .unwrap_access_secret(access_key_id, &row.wrapped_secret)
        .map_err(|_| error::corrupt("wrapped secret access key"))?;
    Ok(Some(AccessKey {
        principal_arn: row.principal_arn,
        account_id: row.account_id,
        secret_access_key: secret,
    }))
}

/// The upper-case base32 alphabet AWS's access key ids and unique ids use.
const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn id_tail(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(16)
        .map(|b| ID_ALPHABET[(*b as usize) % 32] as char)
        .collect()
}

/// `AKIA` and 16 characters of the base32 alphabet, as AWS access key ids look.
fn new_access_key_id() -> Result<String, KmsError> {
    random_id("AKIA")
}

/// `prefix` and 16 random characters of the base32 alphabet (`ASIA…` for session keys).
pub(crate) fn random_id(prefix: &str) -> Result<String, KmsError> {
    let bytes = ferrokms_crypto::random_bytes(16).map_err(error::crypto)?;
    Ok(format!("{prefix}{}", id_tail(bytes.expose())))
}

/// The unique id of a user or role: the one given at creation, or for a principal made before
/// ids were stored, the one derived from its ARN as then.
pub fn unique_id(row: &PrincipalRow) -> String {
    match &row.unique_id {
        Some(id) => id.clone(),
        None if row.assume_role_policy.is_some() => derived_id("AROA", &row.arn),
        None => derived_id("AIDA", &row.arn),
    }
}

/// `prefix` and 16 characters derived from `arn`: a stable unique id (`AIDA…` for users,
/// `AROA…` for roles), as STS shows them.
pub fn derived_id(prefix: &str, arn: &str) -> String {
    format!(
        "{prefix}{}",
        id_tail(&ferrokms_crypto::sha256(arn.as_bytes()))
    )
}

/// 40 characters of the base64 alphabet (30 random bytes, 240 bits), as AWS secrets look.
pub(crate) fn new_secret() -> Result<SecretBytes, KmsError> {
    use base64::Engine;
    let bytes = ferrokms_crypto::random_bytes(30).map_err(error::crypto)?;
    let text = base64::engine::general_purpose::STANDARD.encode(bytes.expose());
    Ok(SecretBytes::new(text.into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_iam_rules() {
        assert!(check_name("app-reader_1@x.y").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn access_key_ids_and_secrets_look_like_aws() {
        let id = new_access_key_id().unwrap();
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("AKIA"));
        let secret = new_secret().unwrap();
        assert_eq!(secret.expose().len(), 40);
    }
}
