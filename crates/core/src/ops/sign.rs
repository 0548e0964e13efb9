//! Sign: a signature over a message (RAW, up to 4096 bytes), its digest (DIGEST) or ML-DSA's μ
//! (EXTERNAL_MU) with the private key of a SIGN_VERIFY key.

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{algorithms, blocking, error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_types::enums::KeyUsage;
use ferrokms_types::shapes::signing::{SignRequest, SignResponse};
use ferrokms_types::{Blob, KmsError};

pub struct Sign;

#[async_trait]
impl Operation for Sign {
    const NAME: &'static str = "Sign";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Cryptographic;
    const ACTION: &'static str = "kms:Sign";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    const TRACKS_LAST_USAGE: bool = true;
    type Input = SignRequest;
    type Output = SignResponse;

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
        let material = super::current_material(kms, &key).await?;
        let signature = blocking::for_spec(spec, move || {
            ferrokms_crypto::asymmetric::sign(
                spec,
                algorithm,
                message_type,
                &material,
                message.expose(),
            )
        })
        .await?
        .map_err(|e| error::crypto_for(e, spec, algorithm.as_str()))?;
        Ok(SignResponse {
            key_id: key.key.arn().to_string(),
            signature: Blob(signature),
            signing_algorithm: algorithm,
        })
    }
}

/// kms:SigningAlgorithm and kms:MessageType (RAW when the request names none); shared with Verify.
pub(crate) fn signing_conditions(
    algorithm: Option<&str>,
    message_type: Option<&str>,
    context: &mut Context,
) {
    if let Some(algorithm) = algorithm {
        context.insert("kms:SigningAlgorithm", algorithm);
    }
    context.insert("kms:MessageType", message_type.unwrap_or("RAW"));
}
