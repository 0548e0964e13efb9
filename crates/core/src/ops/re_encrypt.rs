//! ReEncrypt: decrypt under the source key and encrypt under the destination key without the
//! plaintext leaving the server. Needs kms:ReEncryptFrom on the source, kms:ReEncryptTo on the
//! destination. Either side may be symmetric or asymmetric (RSA, SM2), as at AWS: an asymmetric
//! source needs SourceKeyId and SourceEncryptionAlgorithm, an asymmetric destination its
//! DestinationEncryptionAlgorithm, and the plaintext must fit the destination's limit.

use super::decrypt::{decryption_target, open_with};
use super::encrypt::seal_with;
use crate::access::authz::AuthorizedKey;
use crate::access::conditions::encryption_context_conditions;
use crate::key::Key;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{algorithms, Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_types::enums::{EncryptionAlgorithm, KeyUsage};
use ferrokms_types::shapes::crypto::{ReEncryptRequest, ReEncryptResponse};
use ferrokms_types::shapes::EncryptionContext;
use ferrokms_types::{Blob, KmsError};

pub struct ReEncrypt;

#[async_trait]
impl Operation for ReEncrypt {
    const NAME: &'static str = "ReEncrypt";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Cryptographic;
    const ACTION: &'static str = "kms:ReEncrypt*";
    const CROSS_ACCOUNT: bool = true;
    const READ_ONLY: bool = true;
    const TRACKS_LAST_USAGE: bool = true;
    type Input = ReEncryptRequest;
    type Output = ReEncryptResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        let blob = input
            .ciphertext_blob
            .as_ref()
            .map(|b| b.0.as_slice())
            .unwrap_or_default();
        let source = decryption_target(
            blob,
            input.source_key_id.clone(),
            input.source_encryption_algorithm.as_deref(),
            input.ignores_ciphertext(),
            "SourceKeyId",
            "kms:ReEncryptFrom",
        )?;
        let destination = KeyTarget::field(
            &input.destination_key_id,
            true,
            "kms:ReEncryptTo",
            StateRule::Cryptographic,
        )
        .with_usage(KeyUsage::EncryptDecrypt);
        Ok(vec![source, destination])
    }

    fn encryption_context<'a>(
        input: &'a Self::Input,
        action: &str,
    ) -> Option<&'a EncryptionContext> {
        if action == "kms:ReEncryptFrom" {
            input.source_encryption_context.as_ref()
        } else {
            input.destination_encryption_context.as_ref()
        }
    }

    /// kms:ReEncryptFrom is judged on the source context, kms:ReEncryptTo on the destination's.
    fn conditions(input: &Self::Input, action: &str, context: &mut Context) {
        let (ec, algorithm) = if action == "kms:ReEncryptFrom" {
            (
                input.source_encryption_context.as_ref(),
                input.source_encryption_algorithm.as_deref(),
            )
        } else {
            (
                input.destination_encryption_context.as_ref(),
                input.destination_encryption_algorithm.as_deref(),
            )
        };
        encryption_context_conditions(ec, context);
        context.insert(
            "kms:EncryptionAlgorithm",
            algorithm.unwrap_or("SYMMETRIC_DEFAULT"),
        );
    }

    /// kms:ReEncryptOnSameKey compares the keys themselves — the one that encrypted the
    /// ciphertext and the destination however the request names it (id, ARN, alias) — never the
    /// request's strings.
    fn key_conditions(keys: &[Key], _: &str, context: &mut Context) {
        if let [source, destination] = keys {
            context.insert_bool("kms:ReEncryptOnSameKey", source.arn() == destination.arn());
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
        let mut keys = keys.into_iter();
        let (Some(source), Some(destination)) = (keys.next(), keys.next()) else {
            return Err(KmsError::internal());
        };
        let source_algorithm =
            algorithms::encryption(&source.key, input.source_encryption_algorithm.as_deref())?;
        let destination_algorithm = algorithms::encryption(
            &destination.key,
            input.destination_encryption_algorithm.as_deref(),
        )?;
        let blob = input.ciphertext_blob.map(|b| b.0).unwrap_or_default();
        let source_material_id =
            super::ciphertext_material_id(kms, &source, source_algorithm, &blob).await?;
        let plaintext = open_with(
            kms,
            &source,
            source_algorithm,
            blob,
            &input.source_encryption_context.unwrap_or_default(),
        )
        .await?;
        let context = input.destination_encryption_context.unwrap_or_default();
        let ciphertext = seal_with(
            kms,
            &destination,
            destination_algorithm,
            &context,
            plaintext.expose(),
        )
        .await?;
        Ok(ReEncryptResponse {
            ciphertext_blob: Blob(ciphertext),
            source_key_id: source.key.arn().to_string(),
            key_id: destination.key.arn().to_string(),
            source_encryption_algorithm: source_algorithm,
            destination_encryption_algorithm: destination_algorithm,
            source_key_material_id: source_material_id,
            destination_key_material_id: if destination_algorithm
                == EncryptionAlgorithm::SymmetricDefault
            {
                Some(super::current_material_id(kms, &destination).await?)
            } else {
                None
            },
        })
    }
}
