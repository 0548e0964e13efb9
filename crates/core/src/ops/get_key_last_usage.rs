//! GetKeyLastUsage: the key's last successful cryptographic operation (its name, time, request
//! id and audit event id), in every key state. Alias names are not accepted, as at AWS.

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::last_usage;
use crate::pipeline::{KeyTarget, Operation};
use crate::{Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::shapes::usage::{
    GetKeyLastUsageRequest, GetKeyLastUsageResponse, KeyLastUsageData,
};
use ferrokms_types::{KmsError, Timestamp};

pub struct GetKeyLastUsage;

#[async_trait]
impl Operation for GetKeyLastUsage {
    const NAME: &'static str = "GetKeyLastUsage";
    const ACTION: &'static str = "kms:GetKeyLastUsage";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = true;
    type Input = GetKeyLastUsageRequest;
    type Output = GetKeyLastUsageResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::Any,
        )])
    }

    async fn run(
        kms: &Kms,
        _: &Caller,
        _: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        let row = &key.key.row;
        let used = kms.last_usage().get(kms.store(), &row.arn).await?;
        let started = last_usage::tracking_start(kms.store(), kms.now_ms()).await?;
        Ok(GetKeyLastUsageResponse {
            key_id: key.key.key_id().to_string(),
            key_last_usage: used
                .map(|u| KeyLastUsageData {
                    operation: Some(u.operation),
                    timestamp: Some(Timestamp(u.used_at)),
                    cloud_trail_event_id: Some(u.event_id),
                    kms_request_id: Some(u.request_id),
                })
                .unwrap_or_default(),
            // "The date KMS began recording ... or the date the key was created, whichever is
            // later."
            tracking_start_date: Timestamp(started.max(row.creation_date)),
            key_creation_date: Timestamp(row.creation_date),
        })
    }
}
