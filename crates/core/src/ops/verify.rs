//! Verify: checks a signature with the public key of a SIGN_VERIFY key. A signature that does not
//! verify is KMSInvalidSignatureException, as at AWS (SignatureValid is true whenever Verify
//! answers).

use super::sign::signing_conditions;
use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{algorithms, error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_types::enums::KeyUsage;
use ferrokms_types::shapes::signing::{VerifyRequest, VerifyResponse};
use ferrokms_types::KmsError;

pub struct Verify;

#[async_trait]
impl Operation for Verify {
    const NAME: &'static str = "Verify";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Cryptographic;
    const ACTION: &'static str = "kms:Verify";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    const TRACKS_LAST_USAGE: bool = true;
    type Input = VerifyRequest;
    type Output = VerifyResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            true,
            Self::ACTION,
            StateRule::Cryptographic,
        )
        .with_usage(KeyUsage::SignVerify)])
    }

    fn conditions(input: &Self::Input, _: &str, context: &mut Context) {
        signing_conditions(
            input.signing_algorithm.as_deref(),
            input.message_type.as_deref(),
            context,
        );
    }

    fn dry_run(input: &Self::Input) -> bool {
        input.dry_run == Some(true)
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        let message = input.message.unwrap_or_default();
        let (algorithm, message_type) = algorithms::signing(
            &key.key,
            input.signing_algorithm.as_deref(),
            input.message_type.as_deref(),
            message.expose().len(),
        )?;
        let spec = key.key.spec;
        let public_key = kms.public_key(&key).await?;
        let signature = input.signature.map(|s| s.0).unwrap_or_default();
        let valid = ferrokms_crypto::asymmetric::verify_with_public_key(
            spec,
            algorithm,
            message_type,
            &public_key,
            message.expose(),
            &signature,
        )
        .map_err(|e| error::crypto_for(e, spec, algorithm.as_str()))?;
        if !valid {
            return Err(KmsError::KmsInvalidSignature(String::new()));
        }
        Ok(VerifyResponse {
            key_id: key.key.arn().to_string(),
            signature_valid: true,
            signing_algorithm: algorithm,
        })
    }
}
