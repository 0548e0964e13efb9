//! Grants: per-key permissions for a grantee principal, limited to some operations and, through
//! constraints, to some encryption contexts. They are looked up when the policies do not allow a
//! request (an explicit deny still wins), never cached, so a revoked grant stops working at once.

use crate::key::Key;
use crate::{error, Caller, Kms};
use ferrokms_store::GrantRow;
use ferrokms_types::shapes::grants::{GrantConstraints, GrantListEntry};
use ferrokms_types::shapes::EncryptionContext;
use ferrokms_types::{KmsError, Timestamp};

/// The grant operation an IAM action corresponds to (`kms:Encrypt` → `Encrypt`).
pub fn operation_of(action: &str) -> &str {
    action.strip_prefix("kms:").unwrap_or(action)
}

/// Whether a request with encryption context `ec` satisfies a grant's constraints.
pub fn constraints_hold(
    constraints: Option<&GrantConstraints>,
    ec: Option<&EncryptionContext>,
) -> bool {
    let Some(c) = constraints else { return true };
    let empty = EncryptionContext::new();
    let ec = ec.unwrap_or(&empty);
    if let Some(equals) = &c.encryption_context_equals {
        if equals != ec {
            return false;
        }
    }
    if let Some(subset) = &c.encryption_context_subset {
        if !subset.iter().all(|(k, v)| ec.get(k) == Some(v)) {
            return false;
        }
    }
    true
}

pub fn operations(row: &GrantRow) -> Vec<String> {
    serde_json::from_str(&row.operations).unwrap_or_default()
}

pub fn constraints(row: &GrantRow) -> Option<GrantConstraints> {
    row.constraints
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
}

/// A grant of `key` to the caller that allows `action` for this encryption context, if any.
pub(crate) async fn allowing(
    kms: &Kms,
    caller: &Caller,
    key: &Key,
    action: &str,
    ec: Option<&EncryptionContext>,
) -> Result<Option<GrantRow>, KmsError> {
    // A grant names a user, a role (and so every session of it), or one role session.
    let mut rows = kms
        .store()
        .grants_for_grantee(key.id(), &caller.principal_arn)
        .await
        .map_err(error::store)?;
    if caller.session.is_some() {
        rows.extend(
            kms.store()
                .grants_for_grantee(key.id(), caller.identity_arn())
                .await
                .map_err(error::store)?,
        );
    }
    let wanted = operation_of(action);
    // Constraints limit the operations that take an encryption context; a CreateGrant through a
    // constrained grant must instead carry the same constraints (checked by CreateGrant).
    let constrained = !matches!(wanted, "CreateGrant" | "RetireGrant" | "DescribeKey");
    Ok(rows.into_iter().find(|row| {
        operations(row).iter().any(|op| op == wanted)
            && (!constrained || constraints_hold(constraints(row).as_ref(), ec))
    }))
}

/// A stored grant as ListGrants shows it; `key_arn` is the key's ARN.
pub fn entry(row: GrantRow, key_arn: &str) -> GrantListEntry {
    GrantListEntry {
        operations: operations(&row),
        constraints: constraints(&row),
        key_id: key_arn.to_string(),
        grant_id: row.grant_id,
        name: row.name,
        creation_date: Timestamp(row.creation_date),
        grantee_principal: row.grantee_principal,
        retiring_principal: row.retiring_principal,
        issuing_account: format!("arn:aws:iam::{}:root", row.issuing_account),
    }
}

/// The IAM principal of a request member pair such as GranteePrincipal and
/// GranteeServicePrincipal, of which AWS takes at most one. ferrokms has no AWS service
/// principals: no caller is one and no grant can name one, so a service principal is refused
/// with `service_refusal` (the IAM principal's absence is the caller's to judge).
pub(crate) fn iam_principal<'a>(
    principal: Option<&'a str>,
    service: Option<&str>,
    members: (&str, &str),
    service_refusal: fn(String) -> KmsError,
) -> Result<Option<&'a str>, KmsError> {
    let (member, service_member) = members;
    match (principal, service) {
        (Some(_), Some(_)) => Err(KmsError::Validation(format!(
            "You must specify either {member} or {service_member}, but not both."
        ))),
        (_, Some(_)) => Err(service_refusal(format!(
            "{service_member} is only usable by AWS service principals, and ferrokms has none."
        ))),
        (principal, None) => Ok(principal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ec(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn constraints_as_aws_defines_them() {
        let equals = GrantConstraints {
            encryption_context_equals: Some(ec(&[("a", "1")])),
            ..Default::default()
        };
        assert!(constraints_hold(Some(&equals), Some(&ec(&[("a", "1")]))));
        assert!(!constraints_hold(
            Some(&equals),
            Some(&ec(&[("a", "1"), ("b", "2")]))
        ));
        assert!(!constraints_hold(Some(&equals), None));
        let subset = GrantConstraints {
            encryption_context_subset: Some(ec(&[("a", "1")])),
            ..Default::default()
        };
        assert!(constraints_hold(
            Some(&subset),
            Some(&ec(&[("a", "1"), ("b", "2")]))
        ));
        assert!(!constraints_hold(Some(&subset), Some(&ec(&[("a", "2")]))));
        assert!(!constraints_hold(Some(&subset), Some(&ec(&[("A", "1")]))));
        assert!(constraints_hold(None, None));
    }
}
