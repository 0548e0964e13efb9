//! GetKeyPolicy: the key's policy document, as stored.

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::shapes::policies::{
    GetKeyPolicyRequest, GetKeyPolicyResponse, DEFAULT_POLICY_NAME,
};
use ferrokms_types::KmsError;

pub struct GetKeyPolicy;

#[async_trait]
impl Operation for GetKeyPolicy {
    const NAME: &'static str = "GetKeyPolicy";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(1000);
    const ACTION: &'static str = "kms:GetKeyPolicy";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = true;
    type Input = GetKeyPolicyRequest;
    type Output = GetKeyPolicyResponse;

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
        _: &Kms,
        _: &Caller,
        _: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        Ok(GetKeyPolicyResponse {
            policy: key.key.row.policy.clone(),
            policy_name: DEFAULT_POLICY_NAME.into(),
        })
    }
}
