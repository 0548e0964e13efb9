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

/// The caller's side of one authorisation: its identity policies (those of the role, for a role
/// session) and its session policy, evaluated for one request, ready to be combined with a
/// resource-based policy (a key policy, a role's trust policy).
pub(crate) struct Authorizer<'a> {
    request: Request<'a>,
    identity: Vec<Decision>,
    /// The session policy's decision, for a role session that has one.
    session: Option<Decision>,
}

impl<'a> Authorizer<'a> {
    pub(crate) async fn new(
        kms: &Kms,
        caller: &'a Caller,
        action: &'a str,
        resource: &'a str,
        context: &'a Context,
    ) -> Result<Self, KmsError> {
        let policies = kms.identity_policies(caller.identity_arn()).await?;
        let request = Request {
            principal_arn: &caller.principal_arn,
            principal_account: &caller.account_id,
            action,
            resource,
            context,
        };
        let identity = policies
            .iter()
            .map(|p| p.evaluate_as(&request, PolicyKind::Identity))
            .collect();
        let session = caller
            .session
            .as_ref()
            .and_then(|s| s.policy.as_ref())
            .map(|p| p.evaluate_as(&request, PolicyKind::Identity));
        Ok(Self {
            request,
            identity,
            session,
        })
    }

    /// AWS's combination with a resource-based policy (see `ferrokms_policy::decide`), then the
    /// session policy, which can only take away: it must allow too.
    pub(crate) fn decide(&self, resource_policy: &Policy, same_account: bool) -> Decision {
        let from_resource = resource_policy.evaluate_as(&self.request, PolicyKind::Resource);
        self.limit_by_session(decide(from_resource, &self.identity, same_account))
    }

    pub(crate) fn allows(&self, resource_policy: &Policy, same_account: bool) -> bool {
        self.decide(resource_policy, same_account).is_allow()
    }

    /// For requests that name no resource: identity policies alone.
    fn decide_identity_only(&self) -> Decision {
        let decision = if self.identity.contains(&Decision::ExplicitDeny) {
            Decision::ExplicitDeny
        } else if self.identity.iter().any(|d| d.is_allow()) {
            Decision::Allow {
                via_account_root: false,
            }
        } else {
            Decision::ImplicitDeny
        };
        self.limit_by_session(decision)
    }

    fn limit_by_session(&self, decision: Decision) -> Decision {
        match (decision, self.session) {
            (Decision::ExplicitDeny, _) | (_, None) => decision,
            (_, Some(Decision::ExplicitDeny)) => Decision::ExplicitDeny,
            (_, Some(Decision::ImplicitDeny)) => Decision::ImplicitDeny,
            (allow_or_implicit, Some(Decision::Allow { .. })) => allow_or_implicit,
        }
    }

    /// Whether a session policy is what left the request implicitly denied.
    fn session_denies(&self) -> bool {
        self.session == Some(Decision::ImplicitDeny)
    }
}

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
    let authorizer = Authorizer::new(kms, caller, action, key.arn(), context).await?;
    let same_account = caller.account_id == key.row.account_id;
    match authorizer.decide(&key_policy, same_account) {
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
            match crate::access::grants::allowing(kms, caller, &key, action, encryption_context)
                .await?
            {
                Some(grant) => Ok(AuthorizedKey {
                    key,
                    action,
                    via_grant: Some(grant),
                    _proof: Proof,
                }),
                None => {
                    let from_key =
                        key_policy.evaluate_as(&authorizer.request, PolicyKind::Resource);
                    let reason = if authorizer.session_denies() {
                        format!("because no session policy allows the {action} action")
                    } else {
                        implicit_reason(action, from_key)
                    };
                    Err(denied(caller, action, key.arn(), &reason))
                }
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
    authorize_identity(kms, caller, action, "*", context).await
}

/// A resource authorised by identity policies alone: `*` for account-level actions, an alias ARN
/// for the alias operations.
pub async fn authorize_identity(
    kms: &Kms,
    caller: &Caller,
    action: &'static str,
    resource: &str,
    context: &Context,
) -> Result<(), KmsError> {
    let authorizer = Authorizer::new(kms, caller, action, resource, context).await?;
    match authorizer.decide_identity_only() {
        Decision::Allow { .. } => Ok(()),
        Decision::ExplicitDeny => Err(denied(
            caller,
            action,
            resource,
            "with an explicit deny in an identity-based policy",
        )),
        Decision::ImplicitDeny => {
            let kind = if authorizer.session_denies() {
                "session"
            } else {
                "identity-based"
            };
            Err(denied(
                caller,
                action,
                resource,
                &format!("because no {kind} policy allows the {action} action"),
            ))
        }
    }
}

/// The refusal of an operation AWS does not allow across accounts, on a key of another account
/// (whatever the key's policy says).
pub fn not_cross_account(caller: &Caller, action: &str, resource: &str) -> KmsError {
    denied(
        caller,
        action,
        resource,
        "because this operation cannot be performed on a KMS key in a different AWS account",
    )
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
