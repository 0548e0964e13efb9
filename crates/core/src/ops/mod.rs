//! One file per operation. Each is a unit struct implementing `pipeline::Operation`; the list of
//! them lives once, in `with_operations!` below, which both declares their modules and builds
//! the registry's tables. Helpers that several operations share are below it.

/// The one list of operations, as `module::Type`: `with_operations!(m)` calls `m!` with all of
/// them. It declares the modules below and builds every table of the registry, so adding an
/// operation is its file, its shapes, its key-state row, and one line here.
macro_rules! with_operations {
    ($callback:ident) => {
        $callback! {
            cancel_key_deletion::CancelKeyDeletion,
            connect_custom_key_store::ConnectCustomKeyStore,
            create_alias::CreateAlias,
            create_custom_key_store::CreateCustomKeyStore,
            create_grant::CreateGrant,
            create_key::CreateKey,
            decapsulate::Decapsulate,
            decrypt::Decrypt,
            delete_alias::DeleteAlias,
            delete_custom_key_store::DeleteCustomKeyStore,
            delete_imported_key_material::DeleteImportedKeyMaterial,
            derive_shared_secret::DeriveSharedSecret,
            describe_custom_key_stores::DescribeCustomKeyStores,
            describe_key::DescribeKey,
            disable_key::DisableKey,
            disable_key_rotation::DisableKeyRotation,
            disconnect_custom_key_store::DisconnectCustomKeyStore,
            enable_key::EnableKey,
            enable_key_rotation::EnableKeyRotation,
            encapsulate::Encapsulate,
            encrypt::Encrypt,
            generate_data_key::GenerateDataKey,
            generate_data_key_pair::GenerateDataKeyPair,
            generate_data_key_pair_without_plaintext::GenerateDataKeyPairWithoutPlaintext,
            generate_data_key_without_plaintext::GenerateDataKeyWithoutPlaintext,
            generate_mac::GenerateMac,
            generate_random::GenerateRandom,
            get_key_last_usage::GetKeyLastUsage,
            get_key_policy::GetKeyPolicy,
            get_key_rotation_status::GetKeyRotationStatus,
            get_parameters_for_import::GetParametersForImport,
            get_public_key::GetPublicKey,
            import_key_material::ImportKeyMaterial,
            list_aliases::ListAliases,
            list_grants::ListGrants,
            list_key_policies::ListKeyPolicies,
            list_key_rotations::ListKeyRotations,
            list_keys::ListKeys,
            list_resource_tags::ListResourceTags,
            list_retirable_grants::ListRetirableGrants,
            put_key_policy::PutKeyPolicy,
            re_encrypt::ReEncrypt,
            replicate_key::ReplicateKey,
            retire_grant::RetireGrant,
            revoke_grant::RevokeGrant,
            rotate_key_on_demand::RotateKeyOnDemand,
            schedule_key_deletion::ScheduleKeyDeletion,
            sign::Sign,
            tag_resource::TagResource,
            untag_resource::UntagResource,
            update_alias::UpdateAlias,
            update_custom_key_store::UpdateCustomKeyStore,
            update_key_description::UpdateKeyDescription,
            update_primary_region::UpdatePrimaryRegion,
            verify::Verify,
            verify_mac::VerifyMac,
        }
    };
}
pub(crate) use with_operations;

macro_rules! declare_modules {
    ($($module:ident :: $op:ident),+ $(,)?) => {
        $(pub mod $module;)+
    };
}
with_operations!(declare_modules);

use crate::access::authz::AuthorizedKey;
use crate::key::Key;
use crate::key_state::StateRule;
use crate::{error, Kms};
use ferrokms_store::{KeyRow, StoreError};
use ferrokms_types::enums::KeyState;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

/// The first authorised key of a request. The pipeline resolves exactly the targets an operation
/// declares, so an operation that declared one always receives one.
pub(crate) fn only(keys: Vec<AuthorizedKey>) -> Result<AuthorizedKey, KmsError> {
    keys.into_iter().next().ok_or_else(|| {
        tracing::error!("operation received fewer keys than it declared");
        KmsError::internal()
    })
}

/// Applies `change` to the key's row with compare-and-swap, re-reading and re-checking the state
/// rule when another writer got there first, so concurrent changes are never lost and contention
/// is never an error.
///
/// Writers in this process take turns (`lock_key_writes`); writers elsewhere (other nodes, the
/// scheduler's own updates) meet the compare-and-swap. A conflict means another write landed, so
/// retrying after re-reading the row always makes progress: there is no retry cap, only a guard
/// against a store that reports a conflict without the row having moved.
pub(crate) async fn modify_key(
    kms: &Kms,
    key: &Key,
    rule: StateRule,
    change: impl Fn(&mut KeyRow),
) -> Result<Key, KmsError> {
    let _turn = kms.lock_key_writes(key.id()).await;
    let mut current = key.clone();
    let mut stalled = 0u32;
    loop {
        let mut row = (*current.row).clone();
        change(&mut row);
        match kms.store().update_key(&row).await {
            Ok(stored) => {
                let key = Key::from_row(stored)?;
                kms.key_written(&key);
                return Ok(key);
            }
            Err(StoreError::Conflict) => {
                // Read the row from the store itself: the cache may hold the very row that lost.
                let r = &current.row;
                let fresh = kms.reload_key(&r.account_id, &r.region, &r.key_id).await?;
                if fresh.row.row_version <= current.row.row_version {
                    stalled += 1;
                    if stalled > MAX_STALLED_CONFLICTS {
                        tracing::error!(
                            key = key.arn(),
                            "the store reports conflicts on a key row that does not move"
                        );
                        return Err(KmsError::internal());
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(u64::from(stalled))).await;
                }
                rule.check(fresh.state, fresh.arn())?;
                current = fresh;
            }
            Err(StoreError::NotFound) => {
                return Err(KmsError::NotFound(format!(
                    "Key '{}' does not exist",
                    key.arn()
                )));
            }
            Err(other) => return Err(error::store(other)),
        }
    }
}

/// Conflicts tolerated while the key row read back has not moved past the one that lost (a
/// replica of a PostgreSQL cluster lagging behind, say) before the store is taken to be broken.
const MAX_STALLED_CONFLICTS: u32 = 50;

/// EnableKey and DisableKey: move a live key to `state`.
pub(crate) async fn set_state(
    kms: &Kms,
    keys: Vec<AuthorizedKey>,
    state: KeyState,
) -> Result<Empty, KmsError> {
    let key = only(keys)?;
    modify_key(kms, &key.key, StateRule::Toggle, |row| {
        row.state = state.as_str().to_string()
    })
    .await?;
    Ok(Empty {})
}

/// The current version's material of an asymmetric or HMAC key: the private key in its stored
/// form (see `ferrokms_crypto::asymmetric`) or the HMAC key.
pub(crate) async fn current_material(
    kms: &Kms,
    key: &AuthorizedKey,
) -> Result<std::sync::Arc<ferrokms_crypto::SecretBytes>, KmsError> {
    kms.key_material(key, key.key.row.current_version).await
}

/// Nitro Enclaves attestation needs AWS's attestation PKI, which a self-hosted KMS does not have.
pub(crate) fn refuse_recipient<T>(recipient: &Option<T>) -> Result<(), KmsError> {
    if recipient.is_some() {
        return Err(KmsError::UnsupportedOperation(
            "Recipient (Nitro Enclaves attestation) is not supported by ferrokms.".into(),
        ));
    }
    Ok(())
}

/// Paging of list operations: fetch one more than asked to know whether the list is truncated;
/// the marker is the sort key of the last entry returned.
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub next_marker: Option<String>,
}

pub(crate) const DEFAULT_LIMIT: i64 = 100;

pub(crate) fn page<T>(mut items: Vec<T>, limit: usize, sort_key: impl Fn(&T) -> String) -> Page<T> {
    if items.len() > limit {
        items.truncate(limit);
        let next_marker = items.last().map(&sort_key);
        Page { items, next_marker }
    } else {
        Page {
            items,
            next_marker: None,
        }
    }
}

/// A key has one policy, "default"; any other name names nothing.
pub(crate) fn check_policy_name(name: Option<&str>) -> Result<(), KmsError> {
    match name {
        None => Ok(()),
        Some(n) if n == ferrokms_types::shapes::policies::DEFAULT_POLICY_NAME => Ok(()),
        Some(n) => Err(KmsError::NotFound(format!(
            "No such policy exists: {n}. The only key policy name is default."
        ))),
    }
}

/// Markers are the sort key we handed out: printable, never empty.
pub(crate) fn check_marker(marker: Option<&str>) -> Result<(), KmsError> {
    match marker {
        Some(m) if m.trim().is_empty() => {
            Err(KmsError::InvalidMarker("The marker is not valid.".into()))
        }
        _ => Ok(()),
    }
}

/// KeyMaterialId of the key version that made a symmetric ciphertext; AWS names none for an
/// asymmetric one.
pub(crate) async fn ciphertext_material_id(
    kms: &Kms,
    key: &AuthorizedKey,
    algorithm: ferrokms_types::enums::EncryptionAlgorithm,
    blob: &[u8],
) -> Result<Option<String>, KmsError> {
    if algorithm != ferrokms_types::enums::EncryptionAlgorithm::SymmetricDefault {
        return Ok(None);
    }
    let header = ferrokms_crypto::ciphertext::peek(blob).map_err(crate::error::crypto)?;
    let id = kms.material_id(key, i64::from(header.key_version)).await?;
    Ok(Some(id.to_string()))
}

/// KeyMaterialId of a symmetric key's current version, which new ciphertexts use.
pub(crate) async fn current_material_id(
    kms: &Kms,
    key: &AuthorizedKey,
) -> Result<String, KmsError> {
    let id = kms.material_id(key, key.key.row.current_version).await?;
    Ok(id.to_string())
}
