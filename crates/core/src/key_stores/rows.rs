//! Reading and writing a custom key store's row for the operations: the caller's store or AWS's
//! CustomKeyStoreNotFoundException, its PIN unwrapped, its DescribeCustomKeyStores entry, and
//! compare-and-swap writes.

use super::PIN_SECRET;
use crate::{error, Caller, Kms};
use ferrokms_store::{CustomKeyStoreRow, StoreError};
use ferrokms_types::enums::{ConnectionState, CustomKeyStoreType};
use ferrokms_types::shapes::custom_key_stores::CustomKeyStoresListEntry;
use ferrokms_types::{KmsError, Timestamp};

pub(crate) fn not_found(id: &str) -> KmsError {
    KmsError::CustomKeyStoreNotFound(format!("Custom key store '{id}' does not exist."))
}

/// The caller's custom key store `id` (in its account and Region).
pub(crate) async fn load(
    kms: &Kms,
    caller: &Caller,
    id: &str,
) -> Result<CustomKeyStoreRow, KmsError> {
    kms.store()
        .get_custom_key_store(&caller.account_id, &caller.region, id)
        .await
        .map_err(error::store)?
        .ok_or_else(|| not_found(id))
}

/// The token user's PIN of `row`, unwrapped.
pub(crate) fn pin(kms: &Kms, row: &CustomKeyStoreRow) -> Result<Vec<u8>, KmsError> {
    let wrapped = row.wrapped_password.as_deref().ok_or_else(|| {
        tracing::error!(custom_key_store_id = %row.custom_key_store_id, "an HSM key store without a PIN");
        KmsError::internal()
    })?;
    let pin = kms
        .secrets()
        .unwrap_key_store_secret(&row.custom_key_store_id, PIN_SECRET, wrapped)
        .map_err(error::crypto)?;
    Ok(pin.expose().to_vec())
}

/// `pin` wrapped under the root key for the row of store `id`.
pub(crate) fn wrap_pin(kms: &Kms, id: &str, pin: &str) -> Result<Vec<u8>, KmsError> {
    kms.secrets()
        .wrap_key_store_secret(id, PIN_SECRET, pin.as_bytes())
        .map_err(error::crypto)
}

/// The state `row` is in as this node sees it (see [`super`]).
pub(crate) async fn state(
    kms: &Kms,
    row: &CustomKeyStoreRow,
) -> Result<
    (
        ConnectionState,
        Option<ferrokms_types::enums::ConnectionErrorCode>,
    ),
    KmsError,
> {
    kms.key_stores().state(row, || pin(kms, row)).await
}

/// The DescribeCustomKeyStores entry of `row`.
pub(crate) async fn entry(
    kms: &Kms,
    row: &CustomKeyStoreRow,
) -> Result<CustomKeyStoresListEntry, KmsError> {
    let (connection_state, connection_error_code) = state(kms, row).await?;
    let custom_key_store_type = CustomKeyStoreType::parse(&row.store_type).ok_or_else(|| {
        tracing::error!(custom_key_store_id = %row.custom_key_store_id, "a stored custom key store type ferrokms does not know");
        KmsError::internal()
    })?;
    Ok(CustomKeyStoresListEntry {
        custom_key_store_id: row.custom_key_store_id.clone(),
        custom_key_store_name: row.name.clone(),
        custom_key_store_type,
        cloud_hsm_cluster_id: row.cloud_hsm_cluster_id.clone(),
        trust_anchor_certificate: row.trust_anchor_certificate.clone(),
        connection_state,
        connection_error_code,
        creation_date: Timestamp(row.creation_date),
        xks_proxy_configuration: None,
    })
}

/// Writes `row` (compare-and-swap on its row_version). A name taken in the account and Region
/// is AWS's CustomKeyStoreNameInUseException; a lost race, an error asking to retry.
pub(crate) async fn save(
    kms: &Kms,
    row: &CustomKeyStoreRow,
) -> Result<CustomKeyStoreRow, KmsError> {
    match kms.store().update_custom_key_store(row).await {
        Ok(stored) => Ok(stored),
        Err(StoreError::NotFound) => Err(not_found(&row.custom_key_store_id)),
        Err(StoreError::AlreadyExists) => Err(name_in_use(&row.name)),
        Err(StoreError::Conflict) => Err(changed_meanwhile(&row.custom_key_store_id)),
        Err(other) => Err(error::store(other)),
    }
}

pub(crate) fn name_in_use(name: &str) -> KmsError {
    KmsError::CustomKeyStoreNameInUse(format!(
        "A custom key store named '{name}' already exists in this account and Region."
    ))
}

/// Another request changed the store between this one's read and its write.
pub(crate) fn changed_meanwhile(id: &str) -> KmsError {
    KmsError::CustomKeyStoreInvalidState(format!(
        "Custom key store '{id}' was changed by another request. Describe it and try again."
    ))
}

pub(crate) fn invalid_state(id: &str, state: ConnectionState, wanted: &str) -> KmsError {
    KmsError::CustomKeyStoreInvalidState(format!(
        "Custom key store '{id}' is {}; this operation is valid only {wanted}.",
        state.as_str()
    ))
}

/// A store that was asked to connect (whatever this node reached: CONNECTED, FAILED) meets
/// `operation`, which needs it DISCONNECTED.
pub(crate) fn not_disconnected(id: &str, operation: &str) -> KmsError {
    KmsError::CustomKeyStoreInvalidState(format!(
        "Custom key store '{id}' is not DISCONNECTED; {operation} is valid only for a disconnected \
         store. Disconnect it first (DisconnectCustomKeyStore)."
    ))
}

/// The caller's custom key stores in its Region (all of them: at most
/// `MAX_STORES_PER_ACCOUNT`, a few more after a race).
pub(crate) async fn list_all(
    kms: &Kms,
    caller: &Caller,
) -> Result<Vec<CustomKeyStoreRow>, KmsError> {
    kms.store()
        .list_custom_key_stores(&caller.account_id, &caller.region, None, None, 1000)
        .await
        .map_err(error::store)
}

/// AWS's CloudHsmClusterInUseException when one of `stores` already uses `cluster_id`.
pub(crate) fn refuse_cluster_in_use(
    stores: &[CustomKeyStoreRow],
    cluster_id: &str,
) -> Result<(), KmsError> {
    if stores
        .iter()
        .any(|s| s.cloud_hsm_cluster_id.as_deref() == Some(cluster_id))
    {
        return Err(KmsError::CloudHsmClusterInUse(format!(
            "The CloudHSM cluster {cluster_id} is already associated with a custom key store in this account."
        )));
    }
    Ok(())
}
