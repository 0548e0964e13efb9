//! CreateKey: a new key of any key spec with its first key version of AWS-generated material
//! (a private key in its stored form, an HMAC key, or 32 random bytes), wrapped under the root key.
//! KeyUsage defaults to ENCRYPT_DECRYPT only for SYMMETRIC_DEFAULT, as at AWS; a (spec, usage)
//! pair the key spec table does not list is a ValidationException. `MultiRegion` makes a
//! multi-Region primary key (id `mrk-...`) that ReplicateKey can copy into other Regions. Origin
//! EXTERNAL makes a key with no material yet (PendingImport, see `imported`). `CustomKeyStoreId`
//! with Origin AWS_CLOUDHSM makes a key whose AES key is generated inside the store's HSM token
//! (see `key_stores::keys`). External key stores are refused with AWS's exceptions.

use crate::access::authz::AuthorizedKey;
use crate::key::{new_multi_region_key_id, stored_key_id};
use crate::pipeline::Operation;
use crate::{
    access::key_policy, blocking, error, material::imported, material::materials, Caller, Kms,
};
use async_trait::async_trait;
use ferrokms_policy::Context;
use ferrokms_store::{KeyRow, KeyVersionRow, Tag};
use ferrokms_types::enums::{KeySpec, KeyState, KeyUsage, Origin};
use ferrokms_types::ids::{key_arn, new_key_id};
use ferrokms_types::key_specs;
use ferrokms_types::shapes::keys::{CreateKeyRequest, CreateKeyResponse};
use ferrokms_types::KmsError;

pub struct CreateKey;

/// AWS's limit of tags per key.
pub const MAX_TAGS: usize = 50;

#[async_trait]
impl Operation for CreateKey {
    const NAME: &'static str = "CreateKey";
    const ACTION: &'static str = "kms:CreateKey";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;

    fn created_key(output: &Self::Output) -> Option<&str> {
        Some(&output.key_metadata.arn)
    }

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
        let key_store = match &input.custom_key_store_id {
            Some(id) => Some(custom_key_store(kms, caller, &input, spec, id).await?),
            None => None,
        };
        check_supported(&input, spec)?;
        if input.tags.as_ref().is_some_and(|t| !t.is_empty()) {
            // AWS: "To use the Tags parameter, kms:TagResource (IAM policy)".
            let mut context = crate::access::conditions::caller(caller, kms.now_ms());
            Self::conditions(&input, "", &mut context);
            crate::access::authz::authorize_account(kms, caller, "kms:TagResource", &context)
                .await?;
        }
        let origin = origin_of(&input);
        let tags = tags_of(&input)?;
        let multi_region = input.multi_region == Some(true);
        let key_id = if multi_region {
            new_multi_region_key_id()
        } else {
            new_key_id()
        };
        let arn = key_arn(&caller.region, &caller.account_id, &key_id);
        let policy = policy_of(
            input.policy,
            input.bypass_policy_lockout_safety_check,
            caller,
            &arn,
        )?;
        let now = kms.now_ms();
        // A fresh id never holds an `@`, so it always has a store id.
        let stored_id = stored_key_id(&caller.region, &key_id).ok_or_else(KmsError::internal)?;
        let (version, state) = if let Some(store) = &key_store {
            // The material is the token's AES key, generated first: a crash before the row is
            // written leaves an unused token object, never a key without material.
            crate::key_stores::keys::generate(kms, store, &stored_id).await?;
            let in_token = KeyVersionRow {
                key_id: stored_id.clone(),
                version: 1,
                created_at: now,
                material_id: materials::new_material_id()?,
                ..KeyVersionRow::default()
            };
            (in_token, KeyState::Enabled)
        } else if origin == Origin::External {
            // No material until ImportKeyMaterial brings it.
            let pending = KeyVersionRow {
                key_id: stored_id.clone(),
                version: 1,
                created_at: now,
                import_state: Some(imported::PENDING_IMPORT.into()),
                ..KeyVersionRow::default()
            };
            (pending, KeyState::PendingImport)
        } else {
            let material = new_material(spec).await?;
            let generated = KeyVersionRow {
                key_id: stored_id.clone(),
                version: 1,
                wrapped_material: kms.wrap_material(&stored_id, 1, &material)?,
                created_at: now,
                material_id: materials::new_material_id()?,
                ..KeyVersionRow::default()
            };
            (generated, KeyState::Enabled)
        };
        let row = KeyRow {
            arn,
            key_id: stored_id,
            account_id: caller.account_id.clone(),
            region: caller.region.clone(),
            description: input.description.unwrap_or_default(),
            key_usage: usage.as_str().into(),
            key_spec: spec.as_str().into(),
            origin: origin.as_str().into(),
            state: state.as_str().into(),
            policy,
            creation_date: now,
            deletion_date: None,
            pending_window_days: None,
            current_version: 1,
            multi_region,
            multi_region_id: multi_region.then_some(key_id),
            primary_region: multi_region.then(|| caller.region.clone()),
            custom_key_store_id: key_store.as_ref().map(|s| s.custom_key_store_id.clone()),
            row_version: 1,
        };
        if let Err(e) = kms.store().insert_key(&row, &version, &tags).await {
            if let Some(id) = &row.custom_key_store_id {
                crate::key_stores::keys::destroy(kms, &row, id).await;
            }
            return Err(error::store(e));
        }
        let key = crate::key::Key::from_row(row)?;
        Ok(CreateKeyResponse {
            key_metadata: kms.key_metadata(&key).await?,
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
    let usage = match input.key_usage.as_deref().and_then(KeyUsage::parse) {
        Some(usage) => usage,
        None if spec == KeySpec::SymmetricDefault => KeyUsage::EncryptDecrypt,
        None => {
            return Err(KmsError::Validation(format!(
                "You must specify a KeyUsage value when KeySpec is {}",
                spec.as_str()
            )))
        }
    };
    if !key_specs::is_valid_usage(spec, usage) {
        return Err(KmsError::Validation(format!(
            "KeyUsage {} is not compatible with KeySpec {}",
            usage.as_str(),
            spec.as_str()
        )));
    }
    Ok((spec, usage))
}

/// Fresh key material of `spec`. Key pairs are generated on the blocking pool: RSA_4096 can take
/// seconds, and the server keeps serving meanwhile.
async fn new_material(spec: KeySpec) -> Result<ferrokms_crypto::SecretBytes, KmsError> {
    let material = if spec == KeySpec::SymmetricDefault {
        ferrokms_crypto::generate_symmetric_key()
    } else {
        blocking::run(move || ferrokms_crypto::asymmetric::generate_key(spec)).await?
    };
    material.map_err(error::crypto)
}

/// The caller's custom key store `id` that a new key goes in, checked against AWS's rules: only
/// single-Region SYMMETRIC_DEFAULT keys of Origin AWS_CLOUDHSM, in an HSM key store (external
/// key stores are not offered yet). Whether it is connected is checked when the key is made.
async fn custom_key_store(
    kms: &Kms,
    caller: &Caller,
    input: &CreateKeyRequest,
    spec: KeySpec,
    id: &str,
) -> Result<ferrokms_store::CustomKeyStoreRow, KmsError> {
    let store = crate::key_stores::rows::load(kms, caller, id).await?;
    if store.store_type != ferrokms_types::enums::CustomKeyStoreType::AwsCloudhsm.as_str() {
        return Err(KmsError::UnsupportedOperation(
            "Keys in external key stores are not available in this version of ferrokms.".into(),
        ));
    }
    if origin_of(input) != Origin::AwsCloudhsm {
        return Err(KmsError::Validation(
            "A key in an AWS CloudHSM key store needs Origin AWS_CLOUDHSM.".into(),
        ));
    }
    if spec != KeySpec::SymmetricDefault {
        return Err(KmsError::UnsupportedOperation(format!(
            "KeySpec {} is not supported in custom key stores: they hold only SYMMETRIC_DEFAULT keys.",
            spec.as_str()
        )));
    }
    if input.multi_region == Some(true) {
        return Err(KmsError::UnsupportedOperation(
            "Multi-Region keys cannot be created in a custom key store.".into(),
        ));
    }
    if input.xks_key_id.is_some() {
        return Err(KmsError::Validation(
            "XksKeyId is valid only for keys in an external key store.".into(),
        ));
    }
    Ok(store)
}

fn origin_of(input: &CreateKeyRequest) -> Origin {
    input
        .origin
        .as_deref()
        .and_then(Origin::parse)
        .unwrap_or(Origin::AwsKms)
}

fn check_supported(input: &CreateKeyRequest, spec: KeySpec) -> Result<(), KmsError> {
    if input.xks_key_id.is_some() {
        return Err(KmsError::Validation(
            "XksKeyId requires a CustomKeyStoreId of an external key store.".into(),
        ));
    }
    let origin = origin_of(input);
    if origin == Origin::External && !imported::accepts_imported_material(spec) {
        return Err(KmsError::UnsupportedOperation(format!(
            "KeySpec {} does not support Origin EXTERNAL.",
            spec.as_str()
        )));
    }
    if origin == Origin::AwsCloudhsm && input.custom_key_store_id.is_none() {
        return Err(KmsError::Validation(
            "Origin AWS_CLOUDHSM needs the CustomKeyStoreId of an AWS CloudHSM key store.".into(),
        ));
    }
    let in_store = origin == Origin::AwsCloudhsm && input.custom_key_store_id.is_some();
    if !matches!(origin, Origin::AwsKms | Origin::External) && !in_store {
        return Err(KmsError::UnsupportedOperation(format!(
            "Origin {} is not supported by this ferrokms version.",
            origin.as_str()
        )));
    }
    Ok(())
}

/// The policy of a new key (CreateKey, ReplicateKey): the one given, which must parse and, unless
/// the caller bypasses the check, let the caller manage the key; else AWS's default policy.
pub(crate) fn policy_of(
    given: Option<String>,
    bypass_lockout_check: Option<bool>,
    caller: &Caller,
    arn: &str,
) -> Result<String, KmsError> {
    match given {
        Some(text) => {
            let policy = key_policy::parse(&text)?;
            if bypass_lockout_check != Some(true) {
                key_policy::check_lockout(&policy, caller, arn)?;
            }
            Ok(text)
        }
        None => Ok(default_policy(&caller.account_id)),
    }
}

fn tags_of(input: &CreateKeyRequest) -> Result<Vec<Tag>, KmsError> {
    new_key_tags(input.tags.as_deref())
}

/// The tags of a new key (CreateKey, ReplicateKey), at most [`MAX_TAGS`].
pub(crate) fn new_key_tags(
    tags: Option<&[ferrokms_types::shapes::Tag]>,
) -> Result<Vec<Tag>, KmsError> {
    let tags = super::tag_resource::store_tags(tags.unwrap_or_default())?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn request(spec: Option<&str>, usage: Option<&str>) -> CreateKeyRequest {
        CreateKeyRequest {
            key_spec: spec.map(Into::into),
            key_usage: usage.map(Into::into),
            ..Default::default()
        }
    }

    fn verdict(spec: Option<&str>, usage: Option<&str>) -> Result<(KeySpec, KeyUsage), String> {
        spec_and_usage(&request(spec, usage))
            .map_err(|e| format!("{}: {}", e.wire_name(), e.message()))
    }

    #[test]
    fn usage_defaults_to_encrypt_decrypt_only_for_symmetric_keys() {
        assert_eq!(
            verdict(None, None),
            Ok((KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt))
        );
        assert_eq!(
            verdict(Some("RSA_2048"), None),
            Err(
                "ValidationException: You must specify a KeyUsage value when KeySpec is RSA_2048"
                    .into()
            )
        );
        assert_eq!(
            verdict(Some("HMAC_256"), None),
            Err(
                "ValidationException: You must specify a KeyUsage value when KeySpec is HMAC_256"
                    .into()
            )
        );
    }

    #[test]
    fn every_spec_takes_exactly_the_usages_of_the_table() {
        for spec in KeySpec::ALL {
            for usage in KeyUsage::ALL {
                let got = verdict(Some(spec.as_str()), Some(usage.as_str()));
                if key_specs::is_valid_usage(*spec, *usage) {
                    assert_eq!(got, Ok((*spec, *usage)));
                } else {
                    assert_eq!(
                        got,
                        Err(format!(
                            "ValidationException: KeyUsage {} is not compatible with KeySpec {}",
                            usage.as_str(),
                            spec.as_str()
                        ))
                    );
                }
            }
        }
    }

    #[test]
    fn customer_master_key_spec_is_the_same_parameter() {
        let mut r = request(None, Some("SIGN_VERIFY"));
        r.customer_master_key_spec = Some("ECC_SECG_P256K1".into());
        assert_eq!(
            spec_and_usage(&r).ok(),
            Some((KeySpec::EccSecgP256k1, KeyUsage::SignVerify))
        );
        r.key_spec = Some("ECC_SECG_P256K1".into());
        assert!(spec_and_usage(&r).is_err());
    }
}
