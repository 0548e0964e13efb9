//! DisconnectCustomKeyStore: asks every node to log out of the store's token; this node does at
//! once, the others when they next look at the store. Its keys are unusable meanwhile.
//!
//! Required permissions: kms:DisconnectCustomKeyStore (IAM policy); no cross-account use.
//! Valid in every state but DISCONNECTED and DISCONNECTING.

use crate::access::authz::AuthorizedKey;
use crate::key_stores::rows::{invalid_state, load, save};
use crate::pipeline::Operation;
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::enums::ConnectionState;
use ferrokms_types::shapes::custom_key_stores::CustomKeyStoreIdRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct DisconnectCustomKeyStore;

#[async_trait]
impl Operation for DisconnectCustomKeyStore {
    const NAME: &'static str = "DisconnectCustomKeyStore";
    const ACTION: &'static str = "kms:DisconnectCustomKeyStore";
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
        let mut row = load(kms, caller, &id).await?;
        if row.connection_state == ConnectionState::Disconnected.as_str() {
            return Err(invalid_state(
                &id,
                ConnectionState::Disconnected,
                "when the store is not DISCONNECTED or DISCONNECTING",
            ));
        }
        row.connection_state = ConnectionState::Disconnected.as_str().to_string();
        save(kms, &row).await?;
        kms.key_stores().forget(&id);
        Ok(Empty {})
    }
}
