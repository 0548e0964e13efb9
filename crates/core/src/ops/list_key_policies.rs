//! ListKeyPolicies: a key has exactly one policy, named "default".

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::shapes::policies::{
    ListKeyPoliciesRequest, ListKeyPoliciesResponse, DEFAULT_POLICY_NAME,
};
use ferrokms_types::KmsError;

pub struct ListKeyPolicies;

#[async_trait]
impl Operation for ListKeyPolicies {
    const NAME: &'static str = "ListKeyPolicies";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(100);
    const ACTION: &'static str = "kms:ListKeyPolicies";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = true;
    type Input = ListKeyPoliciesRequest;
    type Output = ListKeyPoliciesResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
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
        input: Self::Input,
        _: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        super::check_marker(input.marker.as_deref())?;
        // The only name sorts before any marker we could have handed out for it.
        let names = match input.marker.as_deref() {
            Some(m) if m >= DEFAULT_POLICY_NAME => Vec::new(),
            _ => vec![DEFAULT_POLICY_NAME.to_string()],
        };
        Ok(ListKeyPoliciesResponse {
            policy_names: names,
            next_marker: None,
            truncated: false,
        })
    }
}
