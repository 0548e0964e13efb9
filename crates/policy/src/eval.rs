//! Evaluating one policy against one request, and [`decide`]: AWS KMS's rule for combining the key
//! policy's decision with the caller's identity policies.
//!
//! Within one policy a matching Deny statement wins over any Allow; with no matching statement the
//! answer is an implicit deny. A statement matches when its principal (key policies only), action,
//! resource and every condition match.

use std::borrow::Cow;

use crate::context::{normalize_key, Context, Value};
use crate::document::{Effect, Policy, PolicyKind, Statement, Targets, Who};
use crate::principal::Match;

/// What is being asked: who, which action, on which key, with which condition keys.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The caller, e.g. `arn:aws:iam::111122223333:user/alice`, `...:role/r`, `...:root`.
    pub principal_arn: &'a str,
    /// The caller's account id.
    pub principal_account: &'a str,
    /// The action, e.g. `kms:Encrypt`.
    pub action: &'a str,
    /// The key ARN.
    pub resource: &'a str,
    /// Condition keys. `aws:PrincipalArn` and `aws:PrincipalAccount` default to the two fields
    /// above when the context does not set them.
    pub context: &'a Context,
}

impl<'a> Request<'a> {
    /// The value of a condition key (already normalised), with the principal defaults.
    pub(crate) fn value(&self, key: &str) -> Option<Cow<'a, Value>> {
        if let Some(v) = self.context.get(key) {
            return Some(Cow::Borrowed(v));
        }
        let fallback = match normalize_key(key).as_str() {
            "aws:principalarn" => self.principal_arn,
            "aws:principalaccount" => self.principal_account,
            _ => return None,
        };
        Some(Cow::Owned(Value::Single(fallback.to_string())))
    }

    /// The text a `${key}` policy variable stands for: the key's single value, if it has one.
    pub(crate) fn variable(&self, key: &str) -> Option<Cow<'a, str>> {
        match self.value(key)? {
            Cow::Borrowed(Value::Single(s)) => Some(Cow::Borrowed(s.as_str())),
            Cow::Owned(Value::Single(s)) => Some(Cow::Owned(s)),
            _ => None,
        }
    }
}

/// The outcome of one policy, or of [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Some Allow statement matched and no Deny did. `via_account_root` is true when every matching
    /// Allow named the caller only through its account (`"111122223333"` or `...:root`): the key
    /// policy then delegates to the account's IAM policies rather than allowing by itself.
    Allow {
        /// See above; always false for identity policies.
        via_account_root: bool,
    },
    /// A Deny statement matched.
    ExplicitDeny,
    /// Nothing matched.
    ImplicitDeny,
}

impl Decision {
    /// True for any [`Decision::Allow`].
    pub fn is_allow(self) -> bool {
        matches!(self, Self::Allow { .. })
    }
}

impl Policy {
    /// Evaluates as a key policy if any statement has Principal/NotPrincipal, else as an identity
    /// policy.
    pub fn evaluate(&self, req: &Request<'_>) -> Decision {
        let kind = if self.statements.iter().any(Statement::has_principal) {
            PolicyKind::Resource
        } else {
            PolicyKind::Identity
        };
        self.evaluate_as(req, kind)
    }

    /// Evaluates as `kind`. As a key policy, a statement without Principal matches nobody; as an
    /// identity policy, Principal elements are ignored (the policy is about its own principal).
    pub fn evaluate_as(&self, req: &Request<'_>, kind: PolicyKind) -> Decision {
        let mut allow = Match::No;
        for s in &self.statements {
            let who = match kind {
                PolicyKind::Identity => Match::Direct,
                PolicyKind::Resource => principal_match(s, req),
            };
            if who == Match::No
                || !action_matches(&s.actions, req.action)
                || !resource_matches(&s.resources, req)
                || !s.conditions.iter().all(|c| c.holds(req))
            {
                continue;
            }
            match s.effect {
                Effect::Deny => return Decision::ExplicitDeny,
                Effect::Allow => allow = allow.max(who),
            }
        }
        match allow {
            Match::No => Decision::ImplicitDeny,
            Match::ViaAccount => Decision::Allow {
                via_account_root: true,
            },
            Match::Direct => Decision::Allow {
                via_account_root: false,
            },
        }
    }
}

fn principal_match(s: &Statement, req: &Request<'_>) -> Match {
    match &s.who {
        None => Match::No,
        Some(Who::Principal(p)) => p.matches(req.principal_arn, req.principal_account),
        Some(Who::NotPrincipal(p)) => {
            if p.exempts(req.principal_arn, req.principal_account) {
                Match::No
            } else {
                Match::Direct
            }
        }
    }
}

/// Actions compare case-insensitively, with wildcards.
fn action_matches(t: &Targets, action: &str) -> bool {
    let none = |_: &str| None;
    t.patterns.iter().any(|p| p.matches(action, true, &none)) != t.not
}

/// Resources compare case-sensitively, with wildcards and policy variables.
fn resource_matches(t: &Targets, req: &Request<'_>) -> bool {
    let lookup = |k: &str| req.variable(k);
    t.patterns
        .iter()
        .any(|p| p.is_star() || p.matches(req.resource, false, &lookup))
        != t.not
}

/// AWS KMS's authorisation rule, given each policy's own decision:
///
/// 1. An explicit deny in the key policy or any identity policy wins.
/// 2. Same account: allowed if the key policy allows the caller directly
///    (`Allow { via_account_root: false }`), or if it allows through the account root
///    (`via_account_root: true`, the default key policy's delegation to IAM) and an identity policy
///    allows.
/// 3. Cross account: the key policy must allow the caller (through its account or by name) and one
///    of the caller's identity policies must allow too.
///
/// Otherwise [`Decision::ImplicitDeny`]. An Allow result carries `via_account_root: true` when the
/// access relied on an identity policy. (Grants are outside this function.)
pub fn decide(
    key_policy: Decision,
    identity_policies: &[Decision],
    same_account: bool,
) -> Decision {
    if key_policy == Decision::ExplicitDeny || identity_policies.contains(&Decision::ExplicitDeny) {
        return Decision::ExplicitDeny;
    }
    let identity_allows = identity_policies.iter().any(|d| d.is_allow());
    match key_policy {
        Decision::Allow {
            via_account_root: false,
        } if same_account => key_policy,
        Decision::Allow { .. } if identity_allows => Decision::Allow {
            via_account_root: true,
        },
        _ => Decision::ImplicitDeny,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOW: Decision = Decision::Allow {
        via_account_root: false,
    };
    const VIA_ROOT: Decision = Decision::Allow {
        via_account_root: true,
    };
    const DENY: Decision = Decision::ExplicitDeny;
    const NONE: Decision = Decision::ImplicitDeny;

    #[test]
    fn decide_table() {
        let cases: &[(Decision, &[Decision], bool, Decision)] = &[
            (ALLOW, &[], true, ALLOW),
            (ALLOW, &[DENY], true, DENY),
            (DENY, &[ALLOW], true, DENY),
            (VIA_ROOT, &[], true, NONE),
            (VIA_ROOT, &[NONE], true, NONE),
            (VIA_ROOT, &[NONE, ALLOW], true, VIA_ROOT),
            (NONE, &[ALLOW], true, NONE),
            (ALLOW, &[], false, NONE),
            (ALLOW, &[ALLOW], false, VIA_ROOT),
            (VIA_ROOT, &[ALLOW], false, VIA_ROOT),
            (VIA_ROOT, &[ALLOW, DENY], false, DENY),
            (NONE, &[ALLOW], false, NONE),
        ];
        for (i, (key, ids, same, want)) in cases.iter().enumerate() {
            assert_eq!(decide(*key, ids, *same), *want, "case {i}");
        }
    }

    #[test]
    fn principal_defaults_feed_conditions_and_variables() {
        let ctx = Context::new();
        let req = Request {
            principal_arn: "arn:aws:iam::111122223333:user/alice",
            principal_account: "111122223333",
            action: "kms:Encrypt",
            resource: "arn:aws:kms:us-east-1:111122223333:key/k",
            context: &ctx,
        };
        assert_eq!(
            req.variable("aws:PrincipalAccount").as_deref(),
            Some("111122223333")
        );
        assert!(req.value("aws:principalarn").is_some());
        assert!(req.value("aws:username").is_none());
    }
}
