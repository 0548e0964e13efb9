//! GetPublicKey: the public key of an asymmetric key as DER SubjectPublicKeyInfo, with its key
//! spec, usage and the algorithm list of that usage (so that the key is not misused outside
//! KMS). Symmetric and HMAC keys have no public key: UnsupportedOperationException.

use crate::access::authz::AuthorizedKey;
use crate::key::listed;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::shapes::key_pairs::{GetPublicKeyRequest, GetPublicKeyResponse};
use ferrokms_types::{Blob, KmsError};

pub struct GetPublicKey;

#[async_trait]
impl Operation for GetPublicKey {
    const NAME: &'static str = "GetPublicKey";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(2000);
    const ACTION: &'static str = "kms:GetPublicKey";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    type Input = GetPublicKeyRequest;
    type Output = GetPublicKeyResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            true,
            Self::ACTION,
            StateRule::Cryptographic,
        )])
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        _: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        if !key.key.is_asymmetric() {
            return Err(KmsError::UnsupportedOperation(format!(
                "{} key spec is {} which is not valid for GetPublicKey.",
                key.key.arn(),
                key.key.spec.as_str()
            )));
        }
        let public_key = kms.public_key(&key).await?;
        let algorithms = key.key.algorithms();
        Ok(GetPublicKeyResponse {
            key_id: key.key.arn().to_string(),
            public_key: Blob(public_key.to_vec()),
            customer_master_key_spec: key.key.customer_master_key_spec(),
            key_spec: key.key.spec,
            key_usage: key.key.usage,
            encryption_algorithms: listed(algorithms.encryption),
            signing_algorithms: listed(algorithms.signing),
            key_agreement_algorithms: listed(algorithms.key_agreement),
            encapsulation_algorithms: listed(algorithms.encapsulation),
        })
    }
}
