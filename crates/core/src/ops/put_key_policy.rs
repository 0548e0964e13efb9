//! PutKeyPolicy: replaces the key's policy after checking the document and, unless bypassed, that
//! it does not lock the caller out of the key.

use crate::access::authz::AuthorizedKey;
use crate::access::key_policy;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::shapes::policies::PutKeyPolicyRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct PutKeyPolicy;

#[async_trait]
impl Operation for PutKeyPolicy {
    const NAME: &'static str = "PutKeyPolicy";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(15);
    const ACTION: &'static str = "kms:PutKeyPolicy";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = PutKeyPolicyRequest;
    type Output = Empty;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        super::check_policy_name(input.policy_name.as_deref())?;
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::Any,
        )])
    }

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        let text = input.policy.unwrap_or_default();
        let policy = key_policy::parse(&text)?;
        if input.bypass_policy_lockout_safety_check != Some(true) {
            key_policy::check_lockout(&policy, caller, key.key.arn())?;
        }
        super::modify_key(kms, &key.key, StateRule::Any, |row| {
            row.policy = text.clone()
        })
        .await?;
        Ok(Empty {})
    }
}
