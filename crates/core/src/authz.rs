//! Authorisation, and the proof value it produces. `AuthorizedKey` can only be made here, and key
//! material can only be unwrapped with one (see `Kms::key_material`), so no operation reaches key
//! bytes without passing this step.
//!
//! Rule of this stage of the project: every authenticated principal of the key's account may use
//! the key, and no other principal may. Key policies, IAM policies and grants replace it later.

use crate::key::Key;
use crate::Caller;
use ferrokms_types::KmsError;

/// A key the caller has been authorised to act on with `action`.
#[derive(Debug)]
pub struct AuthorizedKey {
    pub key: Key,
    pub action: &'static str,
    _proof: Proof,
}

/// Unforgeable outside this module.
#[derive(Debug)]
struct Proof;

pub fn authorize(
    caller: &Caller,
    key: Key,
    action: &'static str,
) -> Result<AuthorizedKey, KmsError> {
    if caller.account_id != key.row.account_id {
        return Err(access_denied(caller, action, key.arn()));
    }
    Ok(AuthorizedKey {
        key,
        action,
        _proof: Proof,
    })
}

/// AWS's wording of a denial.
pub fn access_denied(caller: &Caller, action: &str, resource: &str) -> KmsError {
    KmsError::AccessDenied(format!(
        "User: {} is not authorized to perform: {action} on resource: {resource} because no resource-based policy allows the {action} action",
        caller.principal_arn
    ))
}

/// Account-level actions that name no key (CreateKey, ListKeys, ListAliases, GenerateRandom):
/// any authenticated principal of this stage may perform them in its own account.
pub fn authorize_account(_caller: &Caller, _action: &'static str) -> Result<(), KmsError> {
    Ok(())
}
