//! DeleteCustomKeyStore: removes a disconnected custom key store's record (the token and what
//! else it holds are the operator's and stay).
//!
//! Required permissions: kms:DeleteCustomKeyStore (IAM policy); no cross-account use. Valid
//! only while DISCONNECTED and once no key is left in the store (CustomKeyStoreHasCMKs
//! Exception: keys pending deletion count until they are deleted).

use crate::access::authz::AuthorizedKey;
use crate::key_stores::rows::{changed_meanwhile, load, not_disconnected, not_found};
use crate::pipeline::Operation;
use crate::{error, Caller, Kms};
use async_trait::async_trait;
use ferrokms_store::StoreError;
use ferrokms_types::enums::ConnectionState;
use ferrokms_types::shapes::custom_key_stores::CustomKeyStoreIdRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct DeleteCustomKeyStore;

#[async_trait]
impl Operation for DeleteCustomKeyStore {
    const NAME: &'static str = "DeleteCustomKeyStore";
    const ACTION: &'static str = "kms:DeleteCustomKeyStore";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = CustomKeyStoreIdRequest;
    type Output = Empty;

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        _: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let id = input.custom_key_store_id.unwrap_or_default();
        let row = load(kms, caller, &id).await?;
        if row.connection_state != ConnectionState::Disconnected.as_str() {
            return Err(not_disconnected(&id, "DeleteCustomKeyStore"));
        }
        let keys = kms
            .store()
            .keys_in_custom_key_store(&id, 1)
            .await
            .map_err(error::store)?;
        if !keys.is_empty() {
            return Err(KmsError::CustomKeyStoreHasCmks(format!(
                "Custom key store '{id}' still has KMS keys. Schedule their deletion and wait \
                 for them to be deleted first."
            )));
        }
        let deleted = kms
            .store()
            .delete_custom_key_store(&caller.account_id, &caller.region, &id, row.row_version)
            .await;
        match deleted {
            Ok(()) => {
                kms.key_stores().forget(&id);
                Ok(Empty {})
            }
            Err(StoreError::NotFound) => Err(not_found(&id)),
            Err(StoreError::Conflict) => Err(changed_meanwhile(&id)),
            Err(other) => Err(error::store(other)),
        }
    }
}
