//! DisableKey: Enabled (or Disabled) → Disabled; cryptographic use stops at once.

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::pipeline::{KeyTarget, Operation};
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::enums::KeyState;
use ferrokms_types::shapes::keys::KeyIdRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct DisableKey;

#[async_trait]
impl Operation for DisableKey {
    const NAME: &'static str = "DisableKey";
    const ACTION: &'static str = "kms:DisableKey";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = KeyIdRequest;
    type Output = Empty;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::Toggle,
        )])
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        _: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        super::set_state(kms, keys, KeyState::Disabled).await
    }
}
