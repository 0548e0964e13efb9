//! Encapsulate: ML-KEM encapsulation to an ENCAPSULATE_DECAPSULATE key's public key: a fresh
//! 32-byte shared secret and the ciphertext that Decapsulate (or any holder of the private key)
//! turns back into it.

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{algorithms, error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::enums::KeyUsage;
use ferrokms_types::shapes::key_agreement::{EncapsulateRequest, EncapsulateResponse};
use ferrokms_types::{Blob, KmsError, SecretBlob};

pub struct Encapsulate;

#[async_trait]
impl Operation for Encapsulate {
    const NAME: &'static str = "Encapsulate";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Cryptographic;
    const ACTION: &'static str = "kms:Encapsulate";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    type Input = EncapsulateRequest;
    type Output = EncapsulateResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![kem_target(&input.key_id, Self::ACTION)])
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
        let algorithm =
            algorithms::encapsulation(&key.key, input.encapsulation_algorithm.as_deref())?;
        let spec = key.key.spec;
        let public_key = kms.public_key(&key).await?;
        let (ciphertext, secret) =
            ferrokms_crypto::asymmetric::encapsulate_with_public_key(spec, &public_key)
                .map_err(|e| error::crypto_for(e, spec, algorithm.as_str()))?;
        Ok(EncapsulateResponse {
            key_id: key.key.arn().to_string(),
            shared_secret: SecretBlob::new(secret.expose().to_vec()),
            shared_secret_ciphertext_blob: Blob(ciphertext),
            encapsulation_algorithm: algorithm,
        })
    }
}

/// The key of Encapsulate and Decapsulate.
pub(crate) fn kem_target(key_id: &Option<String>, action: &'static str) -> KeyTarget {
    KeyTarget::field(key_id, true, action, StateRule::Cryptographic)
        .with_usage(KeyUsage::EncapsulateDecapsulate)
}
