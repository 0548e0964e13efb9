//! UpdateCustomKeyStore: renames a custom key store, or, while it is disconnected, gives it the
//! token user's new PIN or moves it to a related cluster.
//!
//! Required permissions: kms:UpdateCustomKeyStore (IAM policy); no cross-account use. A
//! connected store may only be renamed (AWS's rule); every other change needs DISCONNECTED. A
//! cluster is related when it presents the store's trust anchor: the same HSM lineage, so the
//! store's keys are on it too (CloudHsmClusterNotRelatedException otherwise).

use super::create_custom_key_store::refuse_xks_members;
use crate::access::authz::AuthorizedKey;
use crate::key_stores::rows::{load, not_disconnected, save, list_all, refuse_cluster_in_use, wrap_pin};
use crate::pipeline::Operation;
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::enums::ConnectionState;
use ferrokms_types::shapes::custom_key_stores::UpdateCustomKeyStoreRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct UpdateCustomKeyStore;

#[async_trait]
impl Operation for UpdateCustomKeyStore {
    const NAME: &'static str = "UpdateCustomKeyStore";
    const ACTION: &'static str = "kms:UpdateCustomKeyStore";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = UpdateCustomKeyStoreRequest;
    type Output = Empty;

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        _: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let id = input.custom_key_store_id.clone().unwrap_or_default();
        let mut row = load(kms, caller, &id).await?;
        refuse_xks_members(input.location())?;
        let location = input;
        let disconnected = row.connection_state == ConnectionState::Disconnected.as_str();
        let new_cluster = location.cloud_hsm_cluster_id.as_ref().filter(|new| {
            row.cloud_hsm_cluster_id.as_ref() != Some(*new)
        });
        if !disconnected && (new_cluster.is_some() || location.key_store_password.is_some()) {
            return Err(not_disconnected(
                &id,
                "UpdateCustomKeyStore, but for a new name,",
            ));
        }
        if let Some(cluster_id) = location.cloud_hsm_cluster_id {
            if row.cloud_hsm_cluster_id.as_deref() != Some(&cluster_id) {
                let cluster = kms.key_stores().cluster(&cluster_id, &caller.account_id)?;
                let anchor = row.trust_anchor_certificate.as_deref().unwrap_or_default();
                if !cluster.is_trust_anchor(anchor) {
                    return Err(KmsError::CloudHsmClusterNotRelated(format!(
                        "The CloudHSM cluster {cluster_id} is not related to the cluster of custom key store '{id}'."
                    )));
                }
                refuse_cluster_in_use(&list_all(kms, caller).await?, &cluster_id)?;
                crate::key_stores::check_token(cluster).await?;
                row.cloud_hsm_cluster_id = Some(cluster_id);
            }
        }
        if let Some(password) = location.key_store_password {
            row.wrapped_password = Some(wrap_pin(kms, &id, password.expose())?);
        }
        if let Some(name) = location.new_custom_key_store_name {
            row.name = name;
        }
        save(kms, &row).await?;
        Ok(Empty {})
    }
}
