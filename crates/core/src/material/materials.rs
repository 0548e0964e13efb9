//! Key materials (key versions) as the lifecycle features see them: their KeyMaterialId.
//!
//! AWS names each key material of a key with a 64-hex-character KeyMaterialId. ferrokms gives
//! material it generates a random one when it is created; material imported by a caller gets
//! an id derived from the key and the material itself (see the import operations), so importing
//! the same bytes again finds the same id.

use crate::key::Key;
use crate::{error, Kms};
use ferrokms_store::KeyVersionRow;
use ferrokms_types::enums::{ExpirationModel, KeySpec, Origin};
use ferrokms_types::shapes::keys::KeyMetadata;
use ferrokms_types::{KmsError, Timestamp};

/// A fresh random KeyMaterialId for material ferrokms generates.
pub fn new_material_id() -> Result<String, KmsError> {
    let bytes = ferrokms_crypto::random_bytes(32).map_err(error::crypto)?;
    Ok(hex::encode(bytes.expose()))
}

/// The KeyMaterialId of a stored version. Rows stored before ids existed have none: theirs is
/// derived from the key id and version, so it is stable across reads and nodes.
pub fn material_id(version: &KeyVersionRow) -> String {
    if !version.material_id.is_empty() {
        return version.material_id.clone();
    }
    let mut input = b"ferrokms key material id\0".to_vec();
    input.extend_from_slice(version.key_id.as_bytes());
    input.push(0);
    input.extend_from_slice(&version.version.to_be_bytes());
    hex::encode(ferrokms_crypto::sha256(&input))
}

/// A key's KeyMetadata with what its materials add: CurrentKeyMaterialId for symmetric
/// encryption keys (once an EXTERNAL key has had material), and for EXTERNAL keys the current
/// material's ExpirationModel and the earliest ValidTo of the materials it holds.
pub async fn metadata(kms: &Kms, key: &Key) -> Result<KeyMetadata, KmsError> {
    let mut m = key.metadata(&kms.related_regions(key).await?);
    if let Some(id) = &key.row.custom_key_store_id {
        m.cloud_hsm_cluster_id = crate::key_stores::keys::cluster_of(kms, &key.row, id).await?;
    }
    let symmetric = key.spec == KeySpec::SymmetricDefault;
    let external = key.origin == Origin::External;
    if !symmetric && !external {
        return Ok(m);
    }
    let versions = kms
        .store()
        .list_key_versions(key.id())
        .await
        .map_err(error::store)?;
    let current = versions
        .iter()
        .find(|v| v.version == key.row.current_version);
    if let Some(current) = current {
        if symmetric && !(external && current.material_digest.is_none()) {
            m.current_key_material_id = Some(material_id(current));
        }
        if external {
            m.expiration_model = current
                .expiration_model
                .as_deref()
                .and_then(ExpirationModel::parse);
        }
    }
    if external {
        m.valid_to = versions
            .iter()
            .filter(|v| !v.wrapped_material.is_empty())
            .filter_map(|v| v.valid_to)
            .min()
            .map(Timestamp);
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_lowercase_hex_and_stable() {
        let fresh = new_material_id().expect("id");
        assert_eq!(fresh.len(), 64);
        assert!(fresh
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(fresh, new_material_id().expect("id"));

        let old = KeyVersionRow {
            key_id: "k".into(),
            version: 2,
            ..KeyVersionRow::default()
        };
        assert_eq!(material_id(&old), material_id(&old.clone()));
        assert_eq!(material_id(&old).len(), 64);
        let other = KeyVersionRow {
            version: 3,
            ..old.clone()
        };
        assert_ne!(material_id(&old), material_id(&other));
        let stored = KeyVersionRow {
            material_id: fresh.clone(),
            ..old
        };
        assert_eq!(material_id(&stored), fresh);
    }
}
