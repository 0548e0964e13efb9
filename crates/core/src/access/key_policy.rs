//! Key policy documents: parsed with the IAM policy language (so a malformed one is refused with
//! a message saying what is wrong), and AWS's policy lockout safety check — a new policy must
//! still let the caller change the policy later, unless the caller bypasses the check.

use crate::Caller;
use ferrokms_policy::{Context, Policy, PolicyKind, Request};
use ferrokms_types::KmsError;

/// Parses a key policy (Principal required in every statement).
pub fn parse(text: &str) -> Result<Policy, KmsError> {
    Policy::parse_as(text, PolicyKind::Resource)
        .map_err(|e| KmsError::MalformedPolicyDocument(e.to_string()))
}

/// The lockout safety check: refuses a policy under which the caller could not call
/// PutKeyPolicy on the key again. An allow through the account (`arn:aws:iam::ACCOUNT:root`)
/// counts, since the account's IAM policies can then grant it.
pub fn check_lockout(policy: &Policy, caller: &Caller, key_arn: &str) -> Result<(), KmsError> {
    let mut context = Context::new();
    context.insert("kms:CallerAccount", &caller.account_id);
    let request = Request {
        principal_arn: &caller.principal_arn,
        principal_account: &caller.account_id,
        action: "kms:PutKeyPolicy",
        resource: key_arn,
        context: &context,
    };
    if policy
        .evaluate_as(&request, PolicyKind::Resource)
        .is_allow()
    {
        return Ok(());
    }
    Err(KmsError::MalformedPolicyDocument(
        "The new key policy will not allow you to update the key policy in the future.".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            principal_arn: "arn:aws:iam::111122223333:user/alice".into(),
            account_id: "111122223333".into(),
            access_key_id: "AKIA".into(),
            region: "us-east-1".into(),
            ..Caller::default()
        }
    }

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/k";

    fn policy(principal: &str, action: &str) -> Policy {
        parse(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"{action}","Resource":"*"}}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn lockout_check_passes_direct_and_account_allows() {
        assert!(check_lockout(
            &policy("arn:aws:iam::111122223333:root", "kms:*"),
            &caller(),
            KEY
        )
        .is_ok());
        assert!(check_lockout(
            &policy("arn:aws:iam::111122223333:user/alice", "kms:PutKeyPolicy"),
            &caller(),
            KEY
        )
        .is_ok());
    }

    #[test]
    fn lockout_check_refuses_a_policy_that_shuts_the_caller_out() {
        let err = check_lockout(
            &policy("arn:aws:iam::111122223333:user/bob", "kms:*"),
            &caller(),
            KEY,
        )
        .unwrap_err();
        assert_eq!(err.wire_name(), "MalformedPolicyDocumentException");
        let err = check_lockout(
            &policy("arn:aws:iam::111122223333:root", "kms:Encrypt"),
            &caller(),
            KEY,
        )
        .unwrap_err();
        assert_eq!(err.wire_name(), "MalformedPolicyDocumentException");
    }

    #[test]
    fn malformed_policies_say_what_is_wrong() {
        let err = parse(
            r#"{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"kms:*","Resource":"*"}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.wire_name(), "MalformedPolicyDocumentException");
        assert!(err.message().contains("Effect"), "{}", err.message());
        assert!(parse("not json").is_err());
        // A key policy statement needs a Principal.
        assert!(
            parse(r#"{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#).is_err()
        );
    }
}
