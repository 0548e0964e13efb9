//! DisableKeyRotation: turns automatic rotation off; on-demand rotation stays available. The
//! store keeps the period, but GetKeyRotationStatus no longer shows it, as at AWS.

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::material::rotation;
use crate::pipeline::{KeyTarget, Operation};
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_store::KeyRotationRow;
use ferrokms_types::shapes::keys::KeyIdRequest;
use ferrokms_types::shapes::Empty;
use ferrokms_types::KmsError;

pub struct DisableKeyRotation;

#[async_trait]
impl Operation for DisableKeyRotation {
    const NAME: &'static str = "DisableKeyRotation";
    const ACTION: &'static str = "kms:DisableKeyRotation";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = false;
    type Input = KeyIdRequest;
    type Output = Empty;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::RotationSchedule,
        )])
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        _: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        rotation::check_rotatable(&key.key, true)?;
        rotation::update_schedule(
            kms,
            &key.key,
            StateRule::RotationSchedule,
            |old, _| match old {
                Some(old) if old.enabled => Some(KeyRotationRow {
                    enabled: false,
                    next_rotation_date: None,
                    ..old.clone()
                }),
                // Already off: nothing to write.
                _ => None,
            },
        )
        .await?;
        Ok(Empty {})
    }
}
