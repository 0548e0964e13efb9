//! GenerateDataKeyPair: a fresh key pair for use outside KMS: the private key as PKCS#8 DER in
//! plaintext and sealed under a symmetric key with the request's encryption context (exactly as
//! GenerateDataKey seals a data key, so Decrypt of PrivateKeyCiphertextBlob returns the PKCS#8),
//! and the public key as DER SubjectPublicKeyInfo.

use super::encrypt::seal;
use super::generate_data_key::data_key_target;
use crate::access::authz::AuthorizedKey;
use crate::access::conditions::encryption_context_conditions;
use crate::pipeline::{KeyTarget, Operation};
use crate::{blocking, error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_crypto::asymmetric::DataKeyPair;
use ferrokms_policy::Context;
use ferrokms_types::enums::{DataKeyPairSpec, EncryptionAlgorithm, KeySpec};
use ferrokms_types::shapes::key_pairs::{GenerateDataKeyPairRequest, GenerateDataKeyPairResponse};
use ferrokms_types::shapes::EncryptionContext;
use ferrokms_types::{Blob, KmsError, SecretBlob};

pub struct GenerateDataKeyPair;

#[async_trait]
impl Operation for GenerateDataKeyPair {
    const NAME: &'static str = "GenerateDataKeyPair";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> =
        crate::quotas::QuotaRule::DataKeyPair(requested_spec);
    const ACTION: &'static str = "kms:GenerateDataKeyPair";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    const TRACKS_LAST_USAGE: bool = true;
    type Input = GenerateDataKeyPairRequest;
    type Output = GenerateDataKeyPairResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![data_key_target(&input.key_id, Self::ACTION)])
    }

    fn encryption_context<'a>(input: &'a Self::Input, _: &str) -> Option<&'a EncryptionContext> {
        input.encryption_context.as_ref()
    }

    fn conditions(input: &Self::Input, _: &str, context: &mut Context) {
        key_pair_conditions(input, context);
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
        let (spec, pair, ciphertext) = new_key_pair(kms, &key, &input).await?;
        Ok(GenerateDataKeyPairResponse {
            private_key_ciphertext_blob: Blob(ciphertext),
            private_key_plaintext: SecretBlob::new(pair.private_key.expose().to_vec()),
            public_key: Blob(pair.public_key),
            key_id: key.key.arn().to_string(),
            key_pair_spec: spec,
            key_material_id: super::current_material_id(kms, &key).await?,
        })
    }
}

/// The encryption-context keys and kms:DataKeyPairSpec; shared with the WithoutPlaintext variant.
/// The data key pair spec a request asks for, whose shared request quota it draws on.
pub(crate) fn requested_spec(input: &GenerateDataKeyPairRequest) -> Option<DataKeyPairSpec> {
    input
        .key_pair_spec
        .as_deref()
        .and_then(DataKeyPairSpec::parse)
}

pub(crate) fn key_pair_conditions(input: &GenerateDataKeyPairRequest, context: &mut Context) {
    encryption_context_conditions(input.encryption_context.as_ref(), context);
    if let Some(spec) = &input.key_pair_spec {
        context.insert("kms:DataKeyPairSpec", spec.as_str());
    }
}

/// A fresh key pair (generated on the blocking pool: RSA_4096 takes seconds) and its private key
/// sealed under `key`; shared with GenerateDataKeyPairWithoutPlaintext.
pub(crate) async fn new_key_pair(
    kms: &Kms,
    key: &AuthorizedKey,
    input: &GenerateDataKeyPairRequest,
) -> Result<(DataKeyPairSpec, DataKeyPair, Vec<u8>), KmsError> {
    // Only symmetric encryption keys seal data keys; refuse before spending seconds on RSA_4096.
    if key.key.spec != KeySpec::SymmetricDefault {
        return Err(crate::algorithms::incompatible(
            EncryptionAlgorithm::SymmetricDefault.as_str(),
            key.key.spec,
        ));
    }
    let spec = input
        .key_pair_spec
        .as_deref()
        .and_then(DataKeyPairSpec::parse)
        .ok_or_else(|| {
            KmsError::Validation(
                "1 validation error detected: Value null at 'keyPairSpec' failed to satisfy constraint: Member must not be null".into(),
            )
        })?;
    let pair = blocking::run(move || ferrokms_crypto::asymmetric::generate_data_key_pair(spec))
        .await?
        .map_err(error::crypto)?;
    let context = input.encryption_context.clone().unwrap_or_default();
    let ciphertext = seal(kms, key, &context, pair.private_key.expose()).await?;
    Ok((spec, pair, ciphertext))
}
