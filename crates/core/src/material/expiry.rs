//! Expiry of imported key material: once a material's ValidTo passes, it is taken away exactly
//! as DeleteImportedKeyMaterial takes it (the key becomes PendingImport, its ciphertexts stop
//! decrypting until the same material is imported again).
//!
//! Run by the scheduler on the node holding its lease; each pass is idempotent. Every material is
//! emptied with a compare-and-swap on the key row read before its materials, so a re-import (or
//! any other change of the key) racing the sweep makes the sweep skip that key until the next
//! pass re-reads it, and two sweeps racing empty it once.

use crate::key::Key;
use crate::material::imported;
use crate::{error, Kms};
use ferrokms_store::StoreError;
use ferrokms_types::KmsError;

/// Materials expired per pass at most; the next pass takes the rest.
const BATCH: u32 = 100;

/// One pass: empties every imported material past its ValidTo now. Returns how many.
pub async fn expire_materials(kms: &Kms) -> Result<usize, KmsError> {
    let now = kms.now_ms();
    let due = kms
        .store()
        .expired_key_materials(now, BATCH)
        .await
        .map_err(error::store)?;
    let mut expired = 0;
    for (key_row, version) in due {
        let key = Key::from_row(key_row)?;
        let _turn = kms.lock_key_writes(key.id()).await;
        // Read after the key row: a material changed since then also moved the key's row
        // version, so the write below cannot land on a stale decision.
        let versions = kms
            .store()
            .list_key_versions(key.id())
            .await
            .map_err(error::store)?;
        let Some(row) = versions.iter().find(|v| v.version == version.version) else {
            continue;
        };
        let still_due = row.valid_to.is_some_and(|t| t <= now) && !row.wrapped_material.is_empty();
        if !still_due {
            continue;
        }
        let emptied = imported::emptied(row);
        match imported::write(kms, &key, versions, &emptied).await {
            Ok(stored) => {
                expired += 1;
                tracing::info!(
                    key = stored.arn(),
                    "imported key material expired and was deleted"
                );
                kms.service_event(
                    crate::service_events::DELETE_EXPIRED_KEY_MATERIAL,
                    &stored.row,
                )
                .await;
            }
            // Changed or destroyed since it was read: the next pass reads it afresh.
            Err(StoreError::Conflict | StoreError::NotFound) => continue,
            Err(other) => return Err(error::store(other)),
        }
    }
    Ok(expired)
}
