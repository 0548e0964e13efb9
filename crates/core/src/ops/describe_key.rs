//! DescribeKey: a key's metadata, in every state.

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::shapes::keys::{DescribeKeyRequest, DescribeKeyResponse};
use ferrokms_types::KmsError;

pub struct DescribeKey;

#[async_trait]
impl Operation for DescribeKey {
    const NAME: &'static str = "DescribeKey";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(2000);
    const ACTION: &'static str = "kms:DescribeKey";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    type Input = DescribeKeyRequest;
    type Output = DescribeKeyResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            true,
            Self::ACTION,
            StateRule::Any,
        )])
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        _: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        Ok(DescribeKeyResponse {
            key_metadata: kms.key_metadata(&key.key).await?,
        })
    }
}
