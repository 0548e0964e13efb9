//! Decapsulate: the shared secret inside an ML-KEM ciphertext, with the private key of an
//! ENCAPSULATE_DECAPSULATE key. A ciphertext of the wrong length is InvalidCiphertextException;
//! one of the right length always decapsulates (ML-KEM's implicit rejection), to a different
//! secret when it was altered.

use super::encapsulate::kem_target;
use crate::access::authz::AuthorizedKey;
use crate::pipeline::{KeyTarget, Operation};
use crate::{algorithms, error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::shapes::key_agreement::{DecapsulateRequest, DecapsulateResponse};
use ferrokms_types::{KmsError, SecretBlob};

pub struct Decapsulate;

#[async_trait]
impl Operation for Decapsulate {
    const NAME: &'static str = "Decapsulate";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Cryptographic;
    const ACTION: &'static str = "kms:Decapsulate";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    type Input = DecapsulateRequest;
    type Output = DecapsulateResponse;

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
        let material = super::current_material(kms, &key).await?;
        let ciphertext = input
            .shared_secret_ciphertext_blob
            .map(|c| c.0)
            .unwrap_or_default();
        let secret = ferrokms_crypto::asymmetric::decapsulate(spec, &material, &ciphertext)
            .map_err(|e| error::crypto_for(e, spec, algorithm.as_str()))?;
        Ok(DecapsulateResponse {
            key_id: key.key.arn().to_string(),
            shared_secret: SecretBlob::new(secret.expose().to_vec()),
            encapsulation_algorithm: algorithm,
        })
    }
}
