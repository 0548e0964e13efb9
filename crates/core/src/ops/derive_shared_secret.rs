//! DeriveSharedSecret: ECDH between a KEY_AGREEMENT key's private key and a peer's public key
//! (DER SubjectPublicKeyInfo on the same curve). Returns the raw shared secret, as AWS does; a
//! peer key that is malformed, on another curve or off the curve is a ValidationException.

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{algorithms, error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_types::enums::KeyUsage;
use ferrokms_types::shapes::key_agreement::{
    DeriveSharedSecretRequest, DeriveSharedSecretResponse,
};
use ferrokms_types::{KmsError, SecretBlob};

pub struct DeriveSharedSecret;

#[async_trait]
impl Operation for DeriveSharedSecret {
    const NAME: &'static str = "DeriveSharedSecret";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Cryptographic;
    const ACTION: &'static str = "kms:DeriveSharedSecret";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    const TRACKS_LAST_USAGE: bool = true;
    type Input = DeriveSharedSecretRequest;
    type Output = DeriveSharedSecretResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            true,
            Self::ACTION,
            StateRule::Cryptographic,
        )
        .with_usage(KeyUsage::KeyAgreement)])
    }

    fn conditions(input: &Self::Input, _: &str, context: &mut Context) {
        if let Some(algorithm) = &input.key_agreement_algorithm {
            context.insert("kms:KeyAgreementAlgorithm", algorithm.as_str());
        }
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
        super::refuse_recipient(&input.recipient)?;
        let key = super::only(keys)?;
        let algorithm =
            algorithms::key_agreement(&key.key, input.key_agreement_algorithm.as_deref())?;
        let spec = key.key.spec;
        let material = super::current_material(kms, &key).await?;
        let peer = input.public_key.map(|k| k.0).unwrap_or_default();
        let secret =
            ferrokms_crypto::asymmetric::derive_shared_secret(spec, algorithm, &material, &peer)
                .map_err(|e| error::crypto_for(e, spec, algorithm.as_str()))?;
        Ok(DeriveSharedSecretResponse {
            key_id: key.key.arn().to_string(),
            shared_secret: SecretBlob::new(secret.expose().to_vec()),
            key_agreement_algorithm: algorithm,
            key_origin: key.key.origin,
        })
    }
}
