//! GetKeyLastUsage.

use super::{key_id, Validate};
use crate::validate::Validator;
use crate::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyLastUsageRequest {
    pub key_id: Option<String>,
}

impl Validate for GetKeyLastUsageRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyLastUsageResponse {
    pub key_id: String,
    /// Empty (`{}`) when the key has not been used since tracking began.
    pub key_last_usage: KeyLastUsageData,
    pub tracking_start_date: Timestamp,
    pub key_creation_date: Timestamp,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyLastUsageData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_trail_event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_request_id: Option<String>,
}
