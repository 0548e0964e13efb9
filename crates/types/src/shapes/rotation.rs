//! Shapes of the rotation operations: EnableKeyRotation, DisableKeyRotation,
//! GetKeyRotationStatus, RotateKeyOnDemand and ListKeyRotations. DisableKeyRotation and
//! RotateKeyOnDemand's requests are `keys::KeyIdRequest`; GetKeyRotationStatus takes it too.

use super::{key_id, limit_and_marker, Validate};
use crate::enums::{IncludeKeyMaterial, KeyMaterialState, RotationType};
use crate::validate::Validator;
use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// AWS's bounds of RotationPeriodInDays.
pub const MIN_ROTATION_PERIOD_DAYS: i64 = 90;
pub const MAX_ROTATION_PERIOD_DAYS: i64 = 2560;

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnableKeyRotationRequest {
    pub key_id: Option<String>,
    pub rotation_period_in_days: Option<i64>,
}

impl Validate for EnableKeyRotationRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        v.int(
            "rotationPeriodInDays",
            self.rotation_period_in_days,
            MIN_ROTATION_PERIOD_DAYS,
            MAX_ROTATION_PERIOD_DAYS,
        );
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyRotationStatusResponse {
    pub key_rotation_enabled: bool,
    pub key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_period_in_days: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_rotation_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_demand_rotation_start_date: Option<Timestamp>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotateKeyOnDemandResponse {
    pub key_id: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyRotationsRequest {
    pub key_id: Option<String>,
    pub include_key_material: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

impl Validate for ListKeyRotationsRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        v.one_of::<IncludeKeyMaterial>("includeKeyMaterial", self.include_key_material.as_deref());
        limit_and_marker(v, self.limit, self.marker.as_ref());
    }
}

/// One key material in ListKeyRotations. The import members are stored text passed through
/// (ImportState, ExpirationModel), present only for imported material.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotationsListEntry {
    pub key_id: String,
    pub key_material_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_material_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_state: Option<String>,
    pub key_material_state: KeyMaterialState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_type: Option<RotationType>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyRotationsResponse {
    pub rotations: Vec<RotationsListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(request: &impl Validate) -> Option<String> {
        let mut v = Validator::default();
        request.validate(&mut v);
        v.finish().err().map(|e| e.message().to_string())
    }

    #[test]
    fn rotation_period_is_90_to_2560_days() {
        for (days, ok) in [(89, false), (90, true), (2560, true), (2561, false)] {
            let request = EnableKeyRotationRequest {
                key_id: Some("k".into()),
                rotation_period_in_days: Some(days),
            };
            assert_eq!(errors(&request).is_none(), ok, "{days}");
        }
        let err = errors(&EnableKeyRotationRequest {
            key_id: Some("k".into()),
            rotation_period_in_days: Some(10),
        })
        .expect("refused");
        assert!(err.contains("rotationPeriodInDays"), "{err}");
    }

    #[test]
    fn list_key_rotations_checks_its_enum_and_limit() {
        let mut request = ListKeyRotationsRequest {
            key_id: Some("k".into()),
            include_key_material: Some("EVERYTHING".into()),
            ..Default::default()
        };
        assert!(errors(&request).is_some());
        request.include_key_material = Some("ALL_KEY_MATERIAL".into());
        assert_eq!(errors(&request), None);
        request.limit = Some(1001);
        assert!(errors(&request).is_some());
        assert!(errors(&ListKeyRotationsRequest::default()).is_some());
    }
}
