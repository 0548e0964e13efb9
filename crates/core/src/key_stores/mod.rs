//! Custom key stores: the HSM "clusters" the operator declared, and this node's connections to
//! them.
//!
//! A store's row holds what was last asked for (`CONNECTED` after ConnectCustomKeyStore,
//! `DISCONNECTED` after DisconnectCustomKeyStore); each node keeps its own logged-in session to
//! the token and reports the state it reached: `CONNECTED`, or `FAILED` with the reason, which
//! stays until the store is disconnected and connected again (AWS's rule). A node that cannot
//! reach a token marks that store FAILED and goes on serving every other store. A node that
//! finds a store asked to be connected and has no session of its own logs in when the store is
//! next used or described; a row that moved (another node disconnected and reconnected it)
//! resets the node's record.

mod clusters;
pub(crate) mod keys;
pub(crate) mod rows;

pub use clusters::HsmCluster;

use ferrokms_hsm::{HsmError, HsmSession};
use ferrokms_store::CustomKeyStoreRow;
use ferrokms_types::enums::{ConnectionErrorCode, ConnectionState};
use ferrokms_types::KmsError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The `kind` a token user's PIN is wrapped as under the root key.
pub(crate) const PIN_SECRET: &str = "hsm-user-pin";

/// What one node reached for one store, as of the store row's `row_version`.
enum Reached {
    Connected(Arc<HsmSession>),
    Failed(ConnectionErrorCode),
}

struct Record {
    row_version: i64,
    reached: Reached,
}

/// The clusters the operator declared and this node's sessions.
#[derive(Default)]
pub struct KeyStores {
    clusters: HashMap<String, HsmCluster>,
    /// Keyed by custom key store id. Bounded: one entry per store, and stores are limited per
    /// account (`MAX_STORES_PER_ACCOUNT`); entries of deleted or disconnected stores go.
    records: Mutex<HashMap<String, Record>>,
}

/// AWS's quota of custom key stores per account and Region.
pub(crate) const MAX_STORES_PER_ACCOUNT: usize = 10;

impl KeyStores {
    pub fn new(clusters: Vec<HsmCluster>) -> Self {
        KeyStores {
            clusters: clusters.into_iter().map(|c| (c.id.clone(), c)).collect(),
            records: Mutex::default(),
        }
    }

    /// The declared cluster `id` if `account_id` may use it, or AWS's
    /// CloudHsmClusterNotFoundException (a cluster of other accounts does not exist for it).
    pub(crate) fn cluster(&self, id: &str, account_id: &str) -> Result<&HsmCluster, KmsError> {
        self.clusters
            .get(id)
            .filter(|c| c.serves(account_id))
            .ok_or_else(|| {
                KmsError::CloudHsmClusterNotFound(format!(
                    "The CloudHSM cluster {id} does not exist. ferrokms knows the clusters declared \
                     with `serve --hsm-cluster`."
                ))
            })
    }

    fn records(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        // A poisoned lock only means a panic elsewhere while holding it; the map is still whole.
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state this node reports for `row` (and why it failed), logging in first when the
    /// store is asked to be connected and this node has not tried since the row last moved.
    pub(crate) async fn state(
        &self,
        row: &CustomKeyStoreRow,
        pin: impl FnOnce() -> Result<Vec<u8>, KmsError>,
    ) -> Result<(ConnectionState, Option<ConnectionErrorCode>), KmsError> {
        if row.connection_state != ConnectionState::Connected.as_str() {
            self.forget(&row.custom_key_store_id);
            return Ok((ConnectionState::Disconnected, None));
        }
        if let Some(known) = self.reached(row) {
            return Ok(known);
        }
        self.connect(row, pin()?).await;
        Ok(self.reached(row).unwrap_or((
            ConnectionState::Failed,
            Some(ConnectionErrorCode::InternalError),
        )))
    }

    /// This node's logged-in session to `row`'s token (logging in first if this node has not
    /// tried since the row last moved), or AWS's CustomKeyStoreInvalidStateException when the
    /// store is not CONNECTED here.
    pub(crate) async fn session(
        &self,
        row: &CustomKeyStoreRow,
        pin: impl FnOnce() -> Result<Vec<u8>, KmsError>,
    ) -> Result<Arc<HsmSession>, KmsError> {
        let (state, _) = self.state(row, pin).await?;
        let records = self.records();
        match records.get(&row.custom_key_store_id).map(|r| &r.reached) {
            Some(Reached::Connected(session)) if state == ConnectionState::Connected => {
                Ok(Arc::clone(session))
            }
            _ => Err(KmsError::CustomKeyStoreInvalidState(format!(
                "Custom key store '{}' is {}; this operation is valid only when it is CONNECTED.",
                row.custom_key_store_id,
                state.as_str()
            ))),
        }
    }

    /// What this node reached for `row`'s current row_version, if it tried.
    fn reached(
        &self,
        row: &CustomKeyStoreRow,
    ) -> Option<(ConnectionState, Option<ConnectionErrorCode>)> {
        let records = self.records();
        let record = records.get(&row.custom_key_store_id)?;
        if record.row_version != row.row_version {
            return None;
        }
        Some(match &record.reached {
            Reached::Connected(_) => (ConnectionState::Connected, None),
            Reached::Failed(code) => (ConnectionState::Failed, Some(*code)),
        })
    }

    /// Logs in to `row`'s token with `pin` on the blocking pool and records what happened
    /// against the row's row_version.
    pub(crate) async fn connect(&self, row: &CustomKeyStoreRow, pin: Vec<u8>) {
        let pin = zeroize::Zeroizing::new(pin);
        let reached = match row
            .cloud_hsm_cluster_id
            .as_deref()
            .map(|id| self.cluster(id, &row.account_id))
        {
            Some(Ok(cluster)) => {
                let (module, token) = (cluster.module.clone(), cluster.token_label.clone());
                let opened =
                    crate::blocking::run(move || HsmSession::open(&module, &token, &pin)).await;
                match opened {
                    Ok(Ok(session)) => Reached::Connected(Arc::new(session)),
                    Ok(Err(e)) => {
                        tracing::warn!(
                            custom_key_store_id = %row.custom_key_store_id,
                            error = %e,
                            "connecting a custom key store failed"
                        );
                        Reached::Failed(error_code(&e))
                    }
                    Err(_) => Reached::Failed(ConnectionErrorCode::InternalError),
                }
            }
            // A cluster no longer declared (the operator removed the flag).
            _ => Reached::Failed(ConnectionErrorCode::ClusterNotFound),
        };
        self.records().insert(
            row.custom_key_store_id.clone(),
            Record {
                row_version: row.row_version,
                reached,
            },
        );
    }

    /// Drops this node's session to a store (logging out when it was the last user).
    pub(crate) fn forget(&self, custom_key_store_id: &str) {
        let removed = self.records().remove(custom_key_store_id);
        drop(removed);
    }
}

/// AWS's ConnectionErrorCode for a failure to log in.
fn error_code(error: &HsmError) -> ConnectionErrorCode {
    ConnectionErrorCode::parse(error.connection_error_code())
        .unwrap_or(ConnectionErrorCode::InternalError)
}

/// Whether `cluster`'s token is there (without logging in): AWS's CloudHsmClusterNotActive
/// Exception when the module has no such token, CloudHsmClusterInvalidConfigurationException
/// when the module cannot be loaded.
pub(crate) async fn check_token(cluster: &HsmCluster) -> Result<(), KmsError> {
    let (module, token) = (cluster.module.clone(), cluster.token_label.clone());
    let probed = crate::blocking::run(move || ferrokms_hsm::probe(&module, &token)).await?;
    match probed {
        Ok(_) => Ok(()),
        Err(HsmError::TokenNotFound) => Err(KmsError::CloudHsmClusterNotActive(format!(
            "The CloudHSM cluster {} is not active: its token is not present.",
            cluster.id
        ))),
        Err(e) => {
            tracing::warn!(cluster = %cluster.id, error = %e, "an HSM cluster's module failed");
            Err(KmsError::CloudHsmClusterInvalidConfiguration(format!(
                "The CloudHSM cluster {} cannot be used: its PKCS#11 module failed.",
                cluster.id
            )))
        }
    }
}
