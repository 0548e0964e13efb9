//! Authorisation, and the proof value it produces. `AuthorizedKey` can only be made here, and key
//! material can only be unwrapped with one (see `Kms::key_material`), so no operation reaches key
//! bytes without passing this step.
//!
//! AWS's model: the key policy and the caller's identity (IAM) policies are evaluated for the
//! request and combined by `ferrokms_policy::decide` — an explicit deny anywhere wins; in the
//! key's account the key policy must allow the caller, directly or by delegating to the account
//! (`arn:aws:iam::ACCOUNT:root`) so that an identity policy can allow; from another account both
//! the key policy and the caller's identity policy must allow. Operations that name no key are
//! authorised by identity policies alone. What the policies leave implicitly denied, a grant of
//! the key to the caller may allow (an explicit deny is final).

use crate::key::Key;
use crate::{Caller, Kms};
use ferrokms_policy::{decide, Context, Decision, Policy, PolicyKind, Request};
use ferrokms_types::KmsError;
use std::sync::Arc;

/// A key the caller has been authorised to act on with `action`.
#[derive(Debug)]
pub struct AuthorizedKey {
    pub key: Key,
    pub action: &'static str,
    /// The grant that allowed the request, when the policies alone did not.
    pub via_grant: Option<ferrokms_store::GrantRow>,
    _proof: Proof,
}

/// Unforgeable outside this module.
#[derive(Debug)]
struct Proof;

/// Authorises `action` on `key` for `caller`, with the request's condition context.
pub async fn authorize(
    kms: &Kms,
    caller: &Caller,
    key: Key,
    action: &'static str,
    context: &Context,
    encryption_context: Option<&ferrokms_types::shapes::EncryptionContext>,
) -> Result<AuthorizedKey, KmsError> {
    let key_policy = kms.key_policy(&key)?;
    let identity = kms.identity_policies(&caller.principal_arn).await?;
    let request = Request {
        principal_arn: &caller.principal_arn,
        principal_account: &caller.account_id,
        action,
        resource: key.arn(),
        context,
    };
    let from_key = key_policy.evaluate_as(&request, PolicyKind::Resource);
    let from_identity: Vec<Decision> = identity
        .iter()
        .map(|p| p.evaluate_as(&request, PolicyKind::Identity))
        .collect();
    let same_account = caller.account_id == key.row.account_id;
    match decide(from_key, &from_identity, same_account) {
        Decision::Allow { .. } => Ok(AuthorizedKey {
            key,
            action,
            via_grant: None,
            _proof: Proof,
        }),
        Decision::ExplicitDeny => Err(denied(
            caller,
            action,
            key.arn(),
            "with an explicit deny in a policy",
        )),
        Decision::ImplicitDeny => {
            // What the policies do not allow, a grant may.
            match crate::grants::allowing(kms, caller, &key, action, encryption_context).await? {
                Some(grant) => Ok(AuthorizedKey {
                    key,
                    action,
                    via_grant: Some(grant),
                    _proof: Proof,
                }),
                None => Err(denied(
                    caller,
                    action,
                    key.arn(),
                    &implicit_reason(action, from_key),
                )),
            }
        }
    }
}

/// Account-level actions that name no key (CreateKey, ListKeys, ListAliases, GenerateRandom):
/// the caller's identity policies must allow and none may deny.
pub async fn authorize_account(
    kms: &Kms,
    caller: &Caller,
    action: &'static str,
    context: &Context,
) -> Result<(), KmsError> {
    let identity = kms.identity_policies(&caller.principal_arn).await?;
    let request = Request {
        principal_arn: &caller.principal_arn,
        principal_account: &caller.account_id,
        action,
        resource: "*",
        context,
    };
    let decisions: Vec<Decision> = identity
        .iter()
        .map(|p| p.evaluate_as(&request, PolicyKind::Identity))
        .collect();
    if decisions.contains(&Decision::ExplicitDeny) {
        return Err(denied(
            caller,
            action,
            "*",
            "with an explicit deny in an identity-based policy",
        ));
    }
    if decisions.iter().any(|d| d.is_allow()) {
        return Ok(());
    }
    Err(denied(
        caller,
        action,
        "*",
        &format!("because no identity-based policy allows the {action} action"),
    ))
}

fn implicit_reason(action: &str, from_key: Decision) -> String {
    match from_key {
        Decision::Allow { .. } => {
            format!("because no identity-based policy allows the {action} action")
        }
        _ => format!("because no resource-based policy allows the {action} action"),
    }
}

/// AWS's wording of a denial.
fn denied(caller: &Caller, action: &str, resource: &str, reason: &str) -> KmsError {
    KmsError::AccessDenied(format!(
        "User: {} is not authorized to perform: {action} on resource: {resource} {reason}",
        caller.principal_arn
    ))
}

/// Parses stored policies; a stored policy that no longer parses denies rather than fails open.
pub(crate) fn parse_stored(text: &str, kind: PolicyKind) -> Option<Policy> {
    match Policy::parse_as(text, kind) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::error!(error = %e, "a stored policy does not parse; it allows nothing");
            None
        }
    }
}

pub(crate) type Policies = Arc<Vec<Policy>>;
