//! Encrypt: up to 4096 bytes under a symmetric key's newest version (the ferrokms ciphertext
//! format), or a short plaintext under an RSA or SM2 key's public key (raw RSAES-OAEP / SM2PKE
//! output, as AWS returns it, which anyone holding the public key can produce too).

use crate::access::authz::AuthorizedKey;
use crate::access::conditions::encryption_context_conditions;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{algorithms, blocking, error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_types::enums::{EncryptionAlgorithm, KeySpec, KeyUsage};
use ferrokms_types::shapes::crypto::{EncryptRequest, EncryptResponse};
use ferrokms_types::shapes::EncryptionContext;
use ferrokms_types::{Blob, KmsError};

pub struct Encrypt;

#[async_trait]
impl Operation for Encrypt {
    const NAME: &'static str = "Encrypt";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Cryptographic;
    const ACTION: &'static str = "kms:Encrypt";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    const TRACKS_LAST_USAGE: bool = true;
    type Input = EncryptRequest;
    type Output = EncryptResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            true,
            Self::ACTION,
            StateRule::Cryptographic,
        )
        .with_usage(KeyUsage::EncryptDecrypt)])
    }

    fn encryption_context<'a>(input: &'a Self::Input, _: &str) -> Option<&'a EncryptionContext> {
        input.encryption_context.as_ref()
    }

    fn conditions(input: &Self::Input, _: &str, context: &mut Context) {
        encryption_context_conditions(input.encryption_context.as_ref(), context);
        let algorithm = input
            .encryption_algorithm
            .as_deref()
            .unwrap_or("SYMMETRIC_DEFAULT");
        context.insert("kms:EncryptionAlgorithm", algorithm);
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
        let algorithm = algorithms::encryption(&key.key, input.encryption_algorithm.as_deref())?;
        let plaintext = input.plaintext.unwrap_or_default();
        let context = input.encryption_context.unwrap_or_default();
        let blob = seal_with(kms, &key, algorithm, &context, plaintext.expose()).await?;
        Ok(EncryptResponse {
            ciphertext_blob: Blob(blob),
            key_id: key.key.arn().to_string(),
            encryption_algorithm: algorithm,
        })
    }
}

/// Encrypts under `key` with `algorithm` (already checked against the key's spec); shared by
/// Encrypt and ReEncrypt.
pub(crate) async fn seal_with(
    kms: &Kms,
    key: &AuthorizedKey,
    algorithm: EncryptionAlgorithm,
    context: &EncryptionContext,
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsError> {
    if algorithm == EncryptionAlgorithm::SymmetricDefault {
        return seal(kms, key, context, plaintext).await;
    }
    if !context.is_empty() {
        return Err(algorithms::context_refused());
    }
    let spec = key.key.spec;
    algorithms::check_plaintext(spec, algorithm, plaintext.len())?;
    let material = super::current_material(kms, key).await?;
    let plaintext = plaintext.to_vec();
    let sealed = blocking::for_spec(spec, move || {
        let plaintext = zeroize::Zeroizing::new(plaintext);
        ferrokms_crypto::asymmetric::encrypt(spec, algorithm, &material, &plaintext)
    })
    .await?;
    sealed.map_err(|e| error::crypto_for(e, spec, algorithm.as_str()))
}

/// Seals bytes under a symmetric key's current version; shared by Encrypt, ReEncrypt and the
/// data keys. Any other key spec is refused as AWS refuses SYMMETRIC_DEFAULT for it.
pub(crate) async fn seal(
    kms: &Kms,
    key: &AuthorizedKey,
    context: &EncryptionContext,
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsError> {
    if key.key.spec != KeySpec::SymmetricDefault {
        return Err(algorithms::incompatible(
            EncryptionAlgorithm::SymmetricDefault.as_str(),
            key.key.spec,
        ));
    }
    if let Some(store) = key.key.row.custom_key_store_id.as_deref() {
        return crate::key_stores::keys::seal(kms, &key.key, store, context, plaintext).await;
    }
    let version = key.key.row.current_version;
    let material = kms.key_material(key, version).await?;
    let version = u32::try_from(version).map_err(|_| error::corrupt("key version"))?;
    ferrokms_crypto::ciphertext::seal(
        &key.key.ciphertext_name(),
        version,
        &material,
        context,
        plaintext,
    )
    .map_err(error::crypto)
}
