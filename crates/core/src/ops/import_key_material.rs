//! ImportKeyMaterial: unwraps the caller's material with the import token's private key, checks
//! it fits the key spec, and stores it wrapped under the root key.
//!
//! The material is recognised by a keyed digest (see `imported`): re-importing the same bytes
//! restores deleted or expired material (and may change its expiry); different bytes where the
//! key expects known material are IncorrectKeyMaterialException. ImportType NEW_KEY_MATERIAL on a
//! symmetric key that already has material adds a material waiting to be rotated in (a row above
//! the current version, rotation type unset: AWS's PENDING_ROTATION), which RotateKeyOnDemand
//! makes current.

use crate::access::authz::AuthorizedKey;
use crate::key::Key;
use crate::key_state::StateRule;
use crate::material::import_token::ImportToken;
use crate::material::imported::{self, IMPORTED};
use crate::pipeline::{KeyTarget, Operation};
use crate::{blocking, error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_crypto::SecretBytes;
use ferrokms_store::{KeyVersionRow, StoreError};
use ferrokms_types::enums::{ExpirationModel, ImportType, KeySpec};
use ferrokms_types::shapes::import::{ImportKeyMaterialRequest, ImportKeyMaterialResponse};
use ferrokms_types::KmsError;

pub struct ImportKeyMaterial;

/// ValidTo may be at most this far ahead: AWS's 365 days.
pub const MAX_VALID_FOR_MS: i64 = 365 * 24 * 60 * 60 * 1000;

#[async_trait]
impl Operation for ImportKeyMaterial {
    const NAME: &'static str = "ImportKeyMaterial";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(15);
    const ACTION: &'static str = "kms:ImportKeyMaterial";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = ImportKeyMaterialRequest;
    type Output = ImportKeyMaterialResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::Import,
        )])
    }

    fn conditions(input: &Self::Input, _: &str, context: &mut ferrokms_policy::Context) {
        let model = input
            .expiration_model
            .as_deref()
            .unwrap_or(ExpirationModel::KeyMaterialExpires.as_str());
        context.insert("kms:ExpirationModel", model);
        if let Some(ms) = input.valid_to_ms() {
            context.insert_epoch("kms:ValidTo", ms.div_euclid(1000));
        }
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?.key;
        imported::check_external(&key)?;
        let now = kms.now_ms();
        let expiry = expiry(&input, now)?;
        let symmetric = key.spec == KeySpec::SymmetricDefault;
        if !symmetric
            && (input.import_type.is_some()
                || input.key_material_id.is_some()
                || input.key_material_description.is_some())
        {
            return Err(KmsError::Validation(
                "ImportType, KeyMaterialId and KeyMaterialDescription are only valid for symmetric encryption keys.".into(),
            ));
        }
        let token = input
            .import_token
            .as_ref()
            .map(|b| b.0.as_slice())
            .unwrap_or_default();
        let token = ImportToken::open(kms.secrets(), token, key.arn(), now)?;
        let encrypted = input
            .encrypted_key_material
            .as_ref()
            .map(|b| b.0.clone())
            .unwrap_or_default();
        let material = blocking::run(move || {
            ferrokms_crypto::import::unwrap_key_material(
                token.algorithm,
                token.wrapping_key_spec,
                &token.private_key,
                &encrypted,
            )
        })
        .await?
        .map_err(|_| KmsError::InvalidCiphertext(String::new()))?;
        ferrokms_crypto::import::check_key_material(key.spec, &material).map_err(|_| {
            KmsError::IncorrectKeyMaterial(format!(
                "The key material is not valid {} key material.",
                key.spec.as_str()
            ))
        })?;
        let material_id = imported::material_id(kms, key.key_id(), &material);
        let digest = imported::material_digest(kms, key.key_id(), &material);
        let plan = Plan {
            input: &input,
            material: &material,
            material_id: &material_id,
            digest: &digest,
            expiry,
            now,
        };
        let stored = store_material(kms, key, &plan).await?;
        Ok(ImportKeyMaterialResponse {
            key_id: stored.arn().to_string(),
            key_material_id: material_id,
        })
    }
}

/// What the request asks for, once checked.
struct Plan<'a> {
    input: &'a ImportKeyMaterialRequest,
    material: &'a SecretBytes,
    material_id: &'a str,
    digest: &'a [u8],
    expiry: (ExpirationModel, Option<i64>),
    now: i64,
}

/// ExpirationModel (default KEY_MATERIAL_EXPIRES) and ValidTo as AWS pairs them: required with
/// KEY_MATERIAL_EXPIRES, in the future and at most 365 days ahead; forbidden otherwise.
fn expiry(
    input: &ImportKeyMaterialRequest,
    now: i64,
) -> Result<(ExpirationModel, Option<i64>), KmsError> {
    let model = input
        .expiration_model
        .as_deref()
        .and_then(ExpirationModel::parse)
        .unwrap_or(ExpirationModel::KeyMaterialExpires);
    let valid_to = input.valid_to_ms();
    if input.valid_to.is_some() && valid_to.is_none() {
        return Err(KmsError::Validation(
            "ValidTo is not a valid timestamp.".into(),
        ));
    }
    match (model, valid_to) {
        (ExpirationModel::KeyMaterialExpires, None) => Err(KmsError::Validation(
            "A ValidTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES".into(),
        )),
        (ExpirationModel::KeyMaterialDoesNotExpire, Some(_)) => Err(KmsError::Validation(
            "A ValidTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE"
                .into(),
        )),
        (ExpirationModel::KeyMaterialExpires, Some(t)) if t <= now => Err(KmsError::Validation(
            "The ValidTo date must be in the future.".into(),
        )),
        (ExpirationModel::KeyMaterialExpires, Some(t)) if t - now > MAX_VALID_FOR_MS => Err(
            KmsError::Validation("The ValidTo date must be at most 365 days from now.".into()),
        ),
        (model, valid_to) => Ok((model, valid_to)),
    }
}

/// Chooses the material row the import goes to and writes it with the key, retrying the
/// compare-and-swap when another writer changed the key in between.
async fn store_material(kms: &Kms, key: Key, plan: &Plan<'_>) -> Result<Key, KmsError> {
    let _turn = kms.lock_key_writes(key.id()).await;
    let mut key = key;
    for attempt in 0..imported::ATTEMPTS {
        let versions = kms
            .store()
            .list_key_versions(key.id())
            .await
            .map_err(error::store)?;
        let primary = primary_versions(kms, &key).await?;
        let row = target_row(kms, &key, &versions, plan, primary.as_deref())?;
        match imported::write(kms, &key, versions, &row).await {
            Ok(stored) => return Ok(stored),
            Err(StoreError::Conflict) => {
                imported::back_off(attempt).await;
                let r = &key.row;
                key = kms.key_in(&r.account_id, &r.region, &r.key_id).await?;
                StateRule::Import.check(key.state, key.arn())?;
            }
            Err(other) => return Err(imported::store_error(other, &key)),
        }
    }
    tracing::warn!(key = key.arn(), "import kept conflicting");
    Err(KmsError::internal())
}

/// The materials of a multi-Region replica's primary key (`None` for any other key).
async fn primary_versions(kms: &Kms, key: &Key) -> Result<Option<Vec<KeyVersionRow>>, KmsError> {
    let (Some(family), false) = (key.row.multi_region_id.as_deref(), key.is_primary()) else {
        return Ok(None);
    };
    let related = kms
        .store()
        .multi_region_keys(&key.row.account_id, family)
        .await
        .map_err(error::store)?;
    let Some(primary) = related
        .iter()
        .find(|r| Some(&r.region) == key.row.primary_region.as_ref())
    else {
        return Ok(Some(Vec::new()));
    };
    kms.store()
        .list_key_versions(&primary.key_id)
        .await
        .map(Some)
        .map_err(error::store)
}

/// The row the material is written as: the row it was imported as before (EXISTING_KEY_MATERIAL,
/// the default once anything was imported), the first row of a key that never had material, or a
/// new row waiting to be rotated in (NEW_KEY_MATERIAL on a key with material).
fn target_row(
    kms: &Kms,
    key: &Key,
    versions: &[KeyVersionRow],
    plan: &Plan<'_>,
    primary: Option<&[KeyVersionRow]>,
) -> Result<KeyVersionRow, KmsError> {
    if let Some(primary) = primary {
        let base = replica_row(key, versions, primary, plan)?;
        return imported_row(kms, key, base, plan);
    }
    let ever_imported = versions.iter().any(|v| v.material_digest.is_some());
    let import_type = plan
        .input
        .import_type
        .as_deref()
        .and_then(ImportType::parse)
        .unwrap_or(if ever_imported {
            ImportType::ExistingKeyMaterial
        } else {
            ImportType::NewKeyMaterial
        });
    let known = versions
        .iter()
        .find(|v| imported::same_digest(v.material_digest.as_deref(), plan.digest));
    let base = match import_type {
        ImportType::ExistingKeyMaterial => {
            if let Some(wanted) = &plan.input.key_material_id {
                if wanted != plan.material_id {
                    return Err(incorrect(
                        "The key material does not match the KeyMaterialId in the request.",
                    ));
                }
            }
            match known {
                Some(row) => row.clone(),
                None => return Err(incorrect("The key material is not the key material previously imported into this KMS key.")),
            }
        }
        ImportType::NewKeyMaterial => {
            if plan.input.key_material_id.is_some() {
                return Err(KmsError::Validation(
                    "You cannot specify a KeyMaterialId with ImportType NEW_KEY_MATERIAL.".into(),
                ));
            }
            if known.is_some() {
                return Err(incorrect("The key material is already associated with this KMS key: import it with ImportType EXISTING_KEY_MATERIAL."));
            }
            if !ever_imported {
                current_row(key, versions)?
            } else if key.spec == KeySpec::SymmetricDefault {
                pending_rotation_row(key, versions, plan.now)
            } else {
                return Err(incorrect("The key material of an asymmetric or HMAC key cannot be changed after its first import."));
            }
        }
    };
    imported_row(kms, key, base, plan)
}

/// `base` holding the plan's material, with its expiry and description.
fn imported_row(
    kms: &Kms,
    key: &Key,
    base: KeyVersionRow,
    plan: &Plan<'_>,
) -> Result<KeyVersionRow, KmsError> {
    let (model, valid_to) = plan.expiry;
    let description = plan
        .input
        .key_material_description
        .clone()
        .or(base.material_description.clone());
    Ok(KeyVersionRow {
        wrapped_material: kms.wrap_material(key.id(), base.version, plan.material)?,
        material_id: plan.material_id.to_string(),
        import_state: Some(IMPORTED.into()),
        expiration_model: Some(model.as_str().into()),
        valid_to,
        material_description: description,
        material_digest: Some(plan.digest.to_vec()),
        ..base
    })
}

/// The row of a multi-Region replica the material goes to. As at AWS, new material is imported
/// into the primary key, then the same material into each replica: a replica takes only
/// material its primary has, as the version the primary has it as (a material the primary
/// holds waiting to be rotated in becomes the replica's waiting one too).
fn replica_row(
    key: &Key,
    versions: &[KeyVersionRow],
    primary: &[KeyVersionRow],
    plan: &Plan<'_>,
) -> Result<KeyVersionRow, KmsError> {
    let import_type = plan
        .input
        .import_type
        .as_deref()
        .and_then(ImportType::parse);
    if import_type == Some(ImportType::NewKeyMaterial) {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} is a multi-Region replica key. Import new key material into its primary key, then the same key material into this key with ImportType EXISTING_KEY_MATERIAL.",
            key.arn()
        )));
    }
    if let Some(wanted) = &plan.input.key_material_id {
        if wanted != plan.material_id {
            return Err(incorrect(
                "The key material does not match the KeyMaterialId in the request.",
            ));
        }
    }
    let Some(theirs) = primary
        .iter()
        .find(|v| imported::same_digest(v.material_digest.as_deref(), plan.digest))
    else {
        return Err(incorrect("The key material is not key material of this key's multi-Region primary key. Import it into the primary key first."));
    };
    Ok(
        match versions.iter().find(|v| v.version == theirs.version) {
            Some(ours) => ours.clone(),
            None => KeyVersionRow {
                key_id: key.id().to_string(),
                version: theirs.version,
                created_at: plan.now,
                ..KeyVersionRow::default()
            },
        },
    )
}

fn incorrect(message: &str) -> KmsError {
    KmsError::IncorrectKeyMaterial(message.to_string())
}

fn current_row(key: &Key, versions: &[KeyVersionRow]) -> Result<KeyVersionRow, KmsError> {
    versions
        .iter()
        .find(|v| v.version == key.row.current_version)
        .cloned()
        .ok_or_else(|| error::corrupt("current key version"))
}

/// A new material above every existing one, not yet current (rotation type unset).
fn pending_rotation_row(key: &Key, versions: &[KeyVersionRow], now: i64) -> KeyVersionRow {
    let top = versions.iter().map(|v| v.version).max().unwrap_or(0);
    KeyVersionRow {
        key_id: key.id().to_string(),
        version: top.max(key.row.current_version) + 1,
        created_at: now,
        ..KeyVersionRow::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(model: Option<&str>, valid_to_s: Option<f64>) -> ImportKeyMaterialRequest {
        ImportKeyMaterialRequest {
            expiration_model: model.map(Into::into),
            valid_to: valid_to_s,
            ..Default::default()
        }
    }

    #[test]
    fn expiry_is_checked_as_aws_checks_it() {
        let now = 1_000_000_000;
        let day = 86_400.0;
        let at = |days: f64| Some(now as f64 / 1000.0 + days * day);
        let verdict = |model, valid_to| match expiry(&request(model, valid_to), now) {
            Ok((m, t)) => format!("{}:{}", m.as_str(), t.is_some()),
            Err(e) => e.wire_name().to_string(),
        };
        assert_eq!(verdict(None, at(1.0)), "KEY_MATERIAL_EXPIRES:true");
        assert_eq!(verdict(None, None), "ValidationException");
        assert_eq!(verdict(None, at(-1.0)), "ValidationException");
        assert_eq!(verdict(None, at(365.0)), "KEY_MATERIAL_EXPIRES:true");
        assert_eq!(verdict(None, at(365.01)), "ValidationException");
        let never = Some("KEY_MATERIAL_DOES_NOT_EXPIRE");
        assert_eq!(verdict(never, None), "KEY_MATERIAL_DOES_NOT_EXPIRE:false");
        assert_eq!(verdict(never, at(1.0)), "ValidationException");
    }
}
