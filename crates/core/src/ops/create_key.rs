//! CreateKey: a new key with its first key version. This stage offers symmetric
//! (SYMMETRIC_DEFAULT / ENCRYPT_DECRYPT) keys with AWS-generated material; other specs, origins,
//! custom key stores and multi-Region keys are refused with AWS's exceptions.

use crate::authz::AuthorizedKey;
use crate::pipeline::Operation;
use crate::{error, key_policy, Caller, Kms};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_store::{KeyRow, KeyVersionRow, Tag};
use ferrokms_types::enums::{KeySpec, KeyState, KeyUsage, Origin};
use ferrokms_types::ids::{key_arn, new_key_id};
use ferrokms_types::shapes::keys::{CreateKeyRequest, CreateKeyResponse};
use ferrokms_types::KmsError;

pub struct CreateKey;

/// AWS's limit of tags per key.
pub const MAX_TAGS: usize = 50;

#[async_trait]
impl Operation for CreateKey {
    const NAME: &'static str = "CreateKey";
    const ACTION: &'static str = "kms:CreateKey";
    type Input = CreateKeyRequest;
    type Output = CreateKeyResponse;

    fn conditions(input: &Self::Input, _: &str, context: &mut Context) {
        super::tag_resource::request_tag_conditions(
            input.tags.as_deref().unwrap_or_default(),
            context,
        );
        if let Ok((spec, usage)) = spec_and_usage(input) {
            context
                .insert("kms:KeySpec", spec.as_str())
                .insert("kms:KeyUsage", usage.as_str());
        }
        context.insert(
            "kms:KeyOrigin",
            input.origin.as_deref().unwrap_or("AWS_KMS"),
        );
        context.insert(
            "kms:MultiRegion",
            if input.multi_region == Some(true) {
                "true"
            } else {
                "false"
            },
        );
    }

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        _: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let (spec, usage) = spec_and_usage(&input)?;
        check_supported(&input, spec)?;
        let tags = tags_of(&input)?;
        let key_id = new_key_id();
        let arn = key_arn(&caller.region, &caller.account_id, &key_id);
        let policy = match input.policy {
            Some(text) => {
                let policy = key_policy::parse(&text)?;
                if input.bypass_policy_lockout_safety_check != Some(true) {
                    key_policy::check_lockout(&policy, caller, &arn)?;
                }
                text
            }
            None => default_policy(&caller.account_id),
        };
        let now = kms.now_ms();
        let material = ferrokms_crypto::generate_symmetric_key().map_err(error::crypto)?;
        let version = KeyVersionRow {
            key_id: key_id.clone(),
            version: 1,
            wrapped_material: kms.wrap_material(&key_id, 1, &material)?,
            created_at: now,
        };
        let row = KeyRow {
            arn,
            key_id,
            account_id: caller.account_id.clone(),
            region: caller.region.clone(),
            description: input.description.unwrap_or_default(),
            key_usage: usage.as_str().into(),
            key_spec: spec.as_str().into(),
            origin: Origin::AwsKms.as_str().into(),
            state: KeyState::Enabled.as_str().into(),
            policy,
            creation_date: now,
            deletion_date: None,
            pending_window_days: None,
            current_version: 1,
            multi_region: false,
            row_version: 1,
        };
        kms.store()
            .insert_key(&row, &version, &tags)
            .await
            .map_err(error::store)?;
        let key = crate::key::Key::from_row(row)?;
        Ok(CreateKeyResponse {
            key_metadata: key.metadata(),
        })
    }
}

fn spec_and_usage(input: &CreateKeyRequest) -> Result<(KeySpec, KeyUsage), KmsError> {
    if input.key_spec.is_some() && input.customer_master_key_spec.is_some() {
        return Err(KmsError::Validation(
            "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.".into(),
        ));
    }
    let spec_text = input
        .key_spec
        .as_deref()
        .or(input.customer_master_key_spec.as_deref());
    let spec = spec_text
        .and_then(KeySpec::parse)
        .unwrap_or(KeySpec::SymmetricDefault);
    let usage = input
        .key_usage
        .as_deref()
        .and_then(KeyUsage::parse)
        .unwrap_or(KeyUsage::EncryptDecrypt);
    if spec == KeySpec::SymmetricDefault && usage != KeyUsage::EncryptDecrypt {
        return Err(KmsError::Validation(format!(
            "KeyUsage {} is not compatible with KeySpec SYMMETRIC_DEFAULT",
            usage.as_str()
        )));
    }
    Ok((spec, usage))
}

fn check_supported(input: &CreateKeyRequest, spec: KeySpec) -> Result<(), KmsError> {
    if let Some(store_id) = &input.custom_key_store_id {
        return Err(KmsError::CustomKeyStoreNotFound(format!(
            "Custom key store {store_id} does not exist."
        )));
    }
    if input.xks_key_id.is_some() {
        return Err(KmsError::Validation(
            "XksKeyId requires a CustomKeyStoreId of an external key store.".into(),
        ));
    }
    let origin = input
        .origin
        .as_deref()
        .and_then(Origin::parse)
        .unwrap_or(Origin::AwsKms);
    if origin != Origin::AwsKms {
        return Err(KmsError::UnsupportedOperation(format!(
            "Origin {} is not supported by this ferrokms version.",
            origin.as_str()
        )));
    }
    if spec != KeySpec::SymmetricDefault {
        return Err(KmsError::UnsupportedOperation(format!(
            "KeySpec {} is not supported by this ferrokms version.",
            spec.as_str()
        )));
    }
    if input.multi_region == Some(true) {
        return Err(KmsError::UnsupportedOperation(
            "Multi-Region keys are not supported by this ferrokms version.".into(),
        ));
    }
    Ok(())
}

fn tags_of(input: &CreateKeyRequest) -> Result<Vec<Tag>, KmsError> {
    let tags = super::tag_resource::store_tags(input.tags.as_deref().unwrap_or_default())?;
    if tags.len() > MAX_TAGS {
        return Err(KmsError::Tag(format!(
            "A key can have at most {MAX_TAGS} tags."
        )));
    }
    Ok(tags)
}

/// AWS's default key policy: the account may use IAM policies to allow access to the key.
pub fn default_policy(account_id: &str) -> String {
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{account_id}:root") },
            "Action": "kms:*",
            "Resource": "*"
        }]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
