//! Imported key material (Origin EXTERNAL) as the service keeps it: how imported material is
//! named and recognised, what a key's state is given its materials, and taking material away
//! (DeleteImportedKeyMaterial and expiry share it).
//!
//! A key's materials are its `key_versions` rows. A row whose `wrapped_material` is empty has no
//! material in ferrokms (never imported, deleted or expired); its KeyMaterialId and keyed digest
//! stay, so only the same material can be imported into it again. As at AWS, a key with any
//! material missing is PendingImport, and becomes Enabled again once every material is back.

use crate::key::Key;
use crate::{error, Kms};
use ferrokms_crypto::SecretBytes;
use ferrokms_store::{KeyRow, KeyVersionRow, StoreError};
use ferrokms_types::enums::{KeySpec, KeyState, Origin};
use ferrokms_types::KmsError;

pub const IMPORTED: &str = "IMPORTED";
pub const PENDING_IMPORT: &str = "PENDING_IMPORT";

/// The key specs AWS lets a key with Origin EXTERNAL have.
pub fn accepts_imported_material(spec: KeySpec) -> bool {
    use KeySpec::*;
    matches!(
        spec,
        SymmetricDefault
            | Hmac224
            | Hmac256
            | Hmac384
            | Hmac512
            | Rsa2048
            | Rsa3072
            | Rsa4096
            | EccNistP256
            | EccNistP384
            | EccNistP521
            | EccSecgP256k1
            | Sm2
    )
}

/// The import operations work on EXTERNAL keys only, as at AWS.
pub fn check_external(key: &Key) -> Result<(), KmsError> {
    if key.origin == Origin::External {
        return Ok(());
    }
    Err(KmsError::UnsupportedOperation(format!(
        "{} origin is {} which is not valid for this operation.",
        key.arn(),
        key.origin.as_str()
    )))
}

/// The KeyMaterialId of imported material: derived from the key id and the material (as AWS
/// derives it), keyed under the root key so the id reveals nothing about the material. `key_id`
/// is the id clients see, which related multi-Region keys share: the same material has the same
/// id (and digest) in each of them.
pub fn material_id(kms: &Kms, key_id: &str, material: &SecretBytes) -> String {
    hex::encode(keyed(
        kms,
        b"ferrokms imported-material-id",
        key_id,
        material,
    ))
}

/// The digest that recognises the same material when it is imported again.
pub fn material_digest(kms: &Kms, key_id: &str, material: &SecretBytes) -> Vec<u8> {
    keyed(kms, b"ferrokms imported-material-digest", key_id, material).to_vec()
}

fn keyed(kms: &Kms, label: &[u8], key_id: &str, material: &SecretBytes) -> [u8; 32] {
    let mut data = zeroize::Zeroizing::new(Vec::with_capacity(key_id.len() + 1 + material.len()));
    data.extend_from_slice(key_id.as_bytes());
    data.push(0);
    data.extend_from_slice(material.expose());
    kms.secrets().keyed_digest(label, &data)
}

/// Whether a stored digest is this material's, in constant time.
pub fn same_digest(stored: Option<&[u8]>, digest: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    stored.is_some_and(|s| s.len() == digest.len() && bool::from(s.ct_eq(digest)))
}

/// The key's state once its materials are `versions`: PendingImport while any material is
/// missing, Enabled when the last one comes back to a PendingImport key, otherwise unchanged
/// (a Disabled key stays Disabled; a key pending deletion keeps that state, as AWS says).
pub fn state_after(current: KeyState, versions: &[KeyVersionRow]) -> KeyState {
    if current == KeyState::PendingDeletion {
        return current;
    }
    if versions.iter().any(|v| v.wrapped_material.is_empty()) {
        KeyState::PendingImport
    } else if current == KeyState::PendingImport {
        KeyState::Enabled
    } else {
        current
    }
}

/// `versions` with `row` in place of the row of its version (or added).
pub fn with_row(mut versions: Vec<KeyVersionRow>, row: &KeyVersionRow) -> Vec<KeyVersionRow> {
    match versions.iter_mut().find(|v| v.version == row.version) {
        Some(slot) => *slot = row.clone(),
        None => versions.push(row.clone()),
    }
    versions
}

/// Writes the key (its state following its materials) and one material row together, with
/// compare-and-swap on the key row `key` was read as. `Conflict` means another writer changed
/// the key in between: the caller reads again and decides again.
pub async fn write(
    kms: &Kms,
    key: &Key,
    versions: Vec<KeyVersionRow>,
    row: &KeyVersionRow,
) -> Result<Key, StoreError> {
    let versions = with_row(versions, row);
    let mut next: KeyRow = (*key.row).clone();
    next.state = state_after(key.state, &versions).as_str().to_string();
    let stored = kms.store().update_key_with_version(&next, row).await?;
    let key = Key::from_row(stored).map_err(|_| StoreError::Backend("stored key".into()))?;
    kms.key_written(&key);
    Ok(key)
}

/// The row with its material taken away: the id and digest stay so that only the same material
/// can come back; the expiry goes with the material.
pub fn emptied(row: &KeyVersionRow) -> KeyVersionRow {
    KeyVersionRow {
        wrapped_material: Vec::new(),
        import_state: Some(PENDING_IMPORT.into()),
        expiration_model: None,
        valid_to: None,
        ..row.clone()
    }
}

/// How many compare-and-swap rounds a writer tries before giving up.
pub const ATTEMPTS: u64 = 8;

/// Backs off a little before the next compare-and-swap round.
pub async fn back_off(attempt: u64) {
    tokio::time::sleep(std::time::Duration::from_millis(attempt + 1)).await;
}

/// A store error of a write that is not a conflict.
pub fn store_error(err: StoreError, key: &Key) -> KmsError {
    match err {
        StoreError::NotFound => KmsError::NotFound(format!("Key '{}' does not exist", key.arn())),
        other => error::store(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(version: i64, material: &[u8]) -> KeyVersionRow {
        KeyVersionRow {
            key_id: "k".into(),
            version,
            wrapped_material: material.to_vec(),
            ..KeyVersionRow::default()
        }
    }

    #[test]
    fn a_key_is_pending_import_while_any_material_is_missing() {
        use KeyState::*;
        let full = [row(1, b"a"), row(2, b"b")];
        let gap = [row(1, b"a"), row(2, b"")];
        assert_eq!(state_after(PendingImport, &full), Enabled);
        assert_eq!(state_after(Enabled, &full), Enabled);
        assert_eq!(state_after(Disabled, &full), Disabled);
        assert_eq!(state_after(Enabled, &gap), PendingImport);
        assert_eq!(state_after(Disabled, &gap), PendingImport);
        assert_eq!(state_after(PendingDeletion, &gap), PendingDeletion);
        assert_eq!(state_after(PendingDeletion, &full), PendingDeletion);
    }

    #[test]
    fn emptied_rows_keep_their_identity_only() {
        let full = KeyVersionRow {
            material_id: "id".into(),
            material_digest: Some(vec![1; 32]),
            import_state: Some(IMPORTED.into()),
            expiration_model: Some("KEY_MATERIAL_EXPIRES".into()),
            valid_to: Some(5),
            ..row(1, b"m")
        };
        let e = emptied(&full);
        assert!(e.wrapped_material.is_empty());
        assert_eq!(e.material_id, "id");
        assert_eq!(e.material_digest, full.material_digest);
        assert_eq!(e.import_state.as_deref(), Some(PENDING_IMPORT));
        assert_eq!((e.expiration_model, e.valid_to), (None, None));
        assert!(same_digest(full.material_digest.as_deref(), &[1; 32]));
        assert!(!same_digest(full.material_digest.as_deref(), &[2; 32]));
        assert!(!same_digest(None, &[1; 32]));
    }
}
