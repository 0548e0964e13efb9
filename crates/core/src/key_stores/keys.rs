//! KMS keys inside an HSM key store. Each has one AES-256 key in the store's token, labelled
//! with the key's id, generated there and never extractable; ferrokms holds no material for it
//! (its one key version row has none). Its ciphertexts have the usual layout, but each
//! message's key is derived inside the token (`ferrokms_crypto::ciphertext::Cmac`, see
//! docs/ciphertext-format.md). While this node does not reach the store, its keys show the key
//! state `Unavailable` (unless pending deletion) and refuse cryptographic operations.

use super::rows;
use crate::key::Key;
use crate::{blocking, error, Kms};
use ferrokms_crypto::ciphertext::{self, Cmac, VersionSecret, CMAC_LEN};
use ferrokms_crypto::{CryptoError, SecretBytes};
use ferrokms_hsm::HsmSession;
use ferrokms_store::{CustomKeyStoreRow, KeyRow};
use ferrokms_types::enums::{ConnectionState, KeyState};
use ferrokms_types::shapes::EncryptionContext;
use ferrokms_types::KmsError;
use std::sync::Arc;

/// A KMS key's AES key in its token, usable as the ciphertext format's PRF.
struct TokenKey {
    session: Arc<HsmSession>,
    /// The token object's label: the key's id.
    label: String,
}

impl Cmac for TokenKey {
    fn cmac(&self, data: &[u8]) -> Result<[u8; CMAC_LEN], CryptoError> {
        self.session.cmac(&self.label, data).map_err(|e| {
            tracing::warn!(key = %self.label, error = %e, "an HSM key could not be used");
            CryptoError::KeyUnreachable
        })
    }
}

/// The store row of `key`, which lives in custom key store `id`. DeleteCustomKeyStore refuses a
/// store with keys, so it is missing only after a CreateKey raced the store's deletion: such a
/// key is unavailable for good.
async fn store_of(
    kms: &Kms,
    key: &KeyRow,
    id: &str,
) -> Result<Option<CustomKeyStoreRow>, KmsError> {
    kms.store()
        .get_custom_key_store(&key.account_id, &key.region, id)
        .await
        .map_err(error::store)
}

/// The CloudHSM cluster of `key`'s store `id`, for its KeyMetadata.
pub(crate) async fn cluster_of(
    kms: &Kms,
    key: &KeyRow,
    id: &str,
) -> Result<Option<String>, KmsError> {
    Ok(store_of(kms, key, id)
        .await?
        .and_then(|row| row.cloud_hsm_cluster_id))
}

/// `key` as this node sees it: a key of a store this node does not reach is `Unavailable`
/// (AWS's state for the keys of a disconnected store), unless it is pending deletion.
pub(crate) async fn as_seen_here(kms: &Kms, key: Key) -> Result<Key, KmsError> {
    let Some(id) = key.row.custom_key_store_id.as_deref() else {
        return Ok(key);
    };
    if matches!(
        key.state,
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion
    ) {
        return Ok(key);
    }
    if let Some(row) = store_of(kms, &key.row, id).await? {
        let (state, _) = rows::state(kms, &row).await?;
        if state == ConnectionState::Connected {
            return Ok(key);
        }
    }
    Ok(Key {
        state: KeyState::Unavailable,
        ..key
    })
}

/// This node's session to the token of `key`'s store, or KMSInvalidStateException when the
/// store is not connected here (it was disconnected after the key was read).
async fn token_key(kms: &Kms, key: &Key, id: &str) -> Result<TokenKey, KmsError> {
    let row = store_of(kms, &key.row, id)
        .await?
        .ok_or_else(|| unavailable(key))?;
    let session = kms
        .key_stores()
        .session(&row, || rows::pin(kms, &row))
        .await
        .map_err(|_| unavailable(key))?;
    Ok(TokenKey {
        session,
        label: key.id().to_string(),
    })
}

fn unavailable(key: &Key) -> KmsError {
    KmsError::KmsInvalidState(format!(
        "{} is unavailable: its custom key store is not connected.",
        key.arn()
    ))
}

/// The token's failure to use a key that should be there: retry, or reconnect the store.
fn unreachable(key: &Key) -> KmsError {
    KmsError::KeyUnavailable(format!(
        "{} could not be used in its custom key store's HSM. Try again; if it persists, \
         disconnect and reconnect the store.",
        key.arn()
    ))
}

/// Seals `plaintext` under `key` (inside custom key store `id`), its one version.
pub(crate) async fn seal(
    kms: &Kms,
    key: &Key,
    id: &str,
    context: &EncryptionContext,
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let token = token_key(kms, key, id).await?;
    let name = key.ciphertext_name();
    let version =
        u32::try_from(key.row.current_version).map_err(|_| error::corrupt("key version"))?;
    let (context, plaintext) = (context.clone(), zeroize::Zeroizing::new(plaintext.to_vec()));
    let sealed = blocking::run(move || {
        ciphertext::seal_under(
            &name,
            version,
            VersionSecret::Token(&token),
            &context,
            &plaintext,
        )
    })
    .await?;
    sealed.map_err(|e| from_crypto(e, key))
}

/// Opens `blob`, sealed under `key` (inside custom key store `id`).
pub(crate) async fn open(
    kms: &Kms,
    key: &Key,
    id: &str,
    blob: &[u8],
    context: &EncryptionContext,
) -> Result<SecretBytes, KmsError> {
    let token = token_key(kms, key, id).await?;
    let (context, blob) = (context.clone(), blob.to_vec());
    let opened = blocking::run(move || {
        ciphertext::open_under(&blob, VersionSecret::Token(&token), &context)
    })
    .await?;
    opened.map_err(|e| from_crypto(e, key))
}

fn from_crypto(e: CryptoError, key: &Key) -> KmsError {
    match e {
        CryptoError::KeyUnreachable => unreachable(key),
        other => error::crypto(other),
    }
}

/// Generates the AES key of new KMS key `key_id` in the token of `store` (which must be
/// CONNECTED here: CustomKeyStoreInvalidStateException otherwise).
pub(crate) async fn generate(
    kms: &Kms,
    store: &CustomKeyStoreRow,
    key_id: &str,
) -> Result<(), KmsError> {
    let session = kms
        .key_stores()
        .session(store, || rows::pin(kms, store))
        .await?;
    let label = key_id.to_string();
    let generated = blocking::run(move || session.generate_aes_key(&label)).await?;
    generated.map_err(|e| {
        tracing::warn!(custom_key_store_id = %store.custom_key_store_id, error = %e, "generating a key in an HSM failed");
        KmsError::CustomKeyStoreInvalidState(format!(
            "Custom key store '{}' could not create the key in its HSM; it may need reconnecting.",
            store.custom_key_store_id
        ))
    })
}

/// Destroys the token object of `key`, deleted from ferrokms. When the store is not connected
/// here, or the token fails, the object stays behind (AWS's "orphaned key material") and is
/// named in the log so that an operator can remove it with the token's tools.
pub(crate) async fn destroy(kms: &Kms, key: &KeyRow, id: &str) {
    let outcome = destroy_object(kms, key, id).await;
    match outcome {
        Ok(true) => {
            tracing::info!(key = %key.arn, custom_key_store_id = %id, "the key's HSM key destroyed")
        }
        Ok(false) => {
            tracing::warn!(key = %key.arn, custom_key_store_id = %id, "the key's HSM key was already gone")
        }
        Err(e) => tracing::warn!(
            key = %key.arn,
            custom_key_store_id = %id,
            label = %key.key_id,
            error = %e,
            "the key's HSM key could not be destroyed and stays in the token; delete the object with this label with the token's tools"
        ),
    }
}

async fn destroy_object(kms: &Kms, key: &KeyRow, id: &str) -> Result<bool, String> {
    let store = store_of(kms, key, id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the store is gone")?;
    let session = kms
        .key_stores()
        .session(&store, || rows::pin(kms, &store))
        .await
        .map_err(|e| e.to_string())?;
    let label = key.key_id.clone();
    match blocking::run(move || session.destroy_key(&label)).await {
        Ok(Ok(found)) => Ok(found),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}
