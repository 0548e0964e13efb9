//! DeleteImportedKeyMaterial: takes imported material away (the current one unless KeyMaterialId
//! names another). The key becomes PendingImport (unless it is pending deletion), its ciphertexts
//! stop decrypting, and only the same material can be imported again, which restores them.

use crate::access::authz::AuthorizedKey;
use crate::key::Key;
use crate::key_state::StateRule;
use crate::material::imported;
use crate::pipeline::{KeyTarget, Operation};
use crate::{error, material::materials, Caller, Kms};
use async_trait::async_trait;
use ferrokms_store::StoreError;
use ferrokms_types::shapes::import::{
    DeleteImportedKeyMaterialRequest, DeleteImportedKeyMaterialResponse,
};
use ferrokms_types::KmsError;

pub struct DeleteImportedKeyMaterial;

#[async_trait]
impl Operation for DeleteImportedKeyMaterial {
    const NAME: &'static str = "DeleteImportedKeyMaterial";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(15);
    const ACTION: &'static str = "kms:DeleteImportedKeyMaterial";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = DeleteImportedKeyMaterialRequest;
    type Output = DeleteImportedKeyMaterialResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::DeleteImport,
        )])
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?.key;
        imported::check_external(&key)?;
        let (key, material_id) = delete(kms, key, input.key_material_id.as_deref()).await?;
        Ok(DeleteImportedKeyMaterialResponse {
            key_id: key.arn().to_string(),
            key_material_id: material_id,
        })
    }
}

/// Empties the named (or current) material together with the key's state change, retrying the
/// compare-and-swap when another writer changed the key in between. Deleting material that is
/// already gone changes nothing and succeeds.
async fn delete(kms: &Kms, mut key: Key, wanted: Option<&str>) -> Result<(Key, String), KmsError> {
    let _turn = kms.lock_key_writes(key.id()).await;
    for attempt in 0..imported::ATTEMPTS {
        let versions = kms
            .store()
            .list_key_versions(key.id())
            .await
            .map_err(error::store)?;
        let row = match wanted {
            Some(id) => versions.iter().find(|v| v.material_id == id),
            None => versions
                .iter()
                .find(|v| v.version == key.row.current_version),
        };
        let Some(row) = row.cloned() else {
            return Err(KmsError::NotFound(format!(
                "Key material {} does not exist for {}.",
                wanted.unwrap_or("(current)"),
                key.arn()
            )));
        };
        let material_id = materials::material_id(&row);
        if row.wrapped_material.is_empty() {
            return Ok((key, material_id));
        }
        match imported::write(kms, &key, versions, &imported::emptied(&row)).await {
            Ok(stored) => {
                tracing::info!(key = stored.arn(), "imported key material deleted");
                return Ok((stored, material_id));
            }
            Err(StoreError::Conflict) => {
                imported::back_off(attempt).await;
                let r = &key.row;
                key = kms.key_in(&r.account_id, &r.region, &r.key_id).await?;
                StateRule::DeleteImport.check(key.state, key.arn())?;
            }
            Err(other) => return Err(imported::store_error(other, &key)),
        }
    }
    tracing::warn!(
        key = key.arn(),
        "deletion of imported material kept conflicting"
    );
    Err(KmsError::internal())
}
