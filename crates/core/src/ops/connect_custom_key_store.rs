//! ConnectCustomKeyStore: asks every node to log in to the store's token. This node logs in at
//! once; a failure leaves the store FAILED with its ConnectionErrorCode (a wrong PIN is
//! INVALID_CREDENTIALS), as at AWS, where the call succeeds and DescribeCustomKeyStores tells.
//!
//! Required permissions: kms:ConnectCustomKeyStore (IAM policy); no cross-account use. Valid in
//! every state but DISCONNECTING and FAILED (a failed store is disconnected first).

use crate::access::authz::AuthorizedKey;
use crate::key_stores::rows::{invalid_state, load, pin, save, state};
use crate::pipeline::Operation;
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::enums::ConnectionState;
use ferrokms_types::shapes::custom_key_stores::CustomKeyStoreIdRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct ConnectCustomKeyStore;

#[async_trait]
impl Operation for ConnectCustomKeyStore {
    const NAME: &'static str = "ConnectCustomKeyStore";
    const ACTION: &'static str = "kms:ConnectCustomKeyStore";
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
        if row.connection_state == ConnectionState::Connected.as_str() {
            return match state(kms, &row).await? {
                (ConnectionState::Failed, _) => Err(invalid_state(
                    &id,
                    ConnectionState::Failed,
                    "when the store is not FAILED or DISCONNECTING; disconnect it first",
                )),
                _ => Ok(Empty {}),
            };
        }
        row.connection_state = ConnectionState::Connected.as_str().to_string();
        let stored = save(kms, &row).await?;
        kms.key_stores().connect(&stored, pin(kms, &stored)?).await;
        Ok(Empty {})
    }
}
