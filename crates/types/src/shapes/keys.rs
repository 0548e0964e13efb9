//! Shapes of key management: CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey,
//! UpdateKeyDescription, ScheduleKeyDeletion, CancelKeyDeletion, and KeyMetadata.

use super::{grant_tokens, key_id, limit_and_marker, tags, Tag, Validate};
use crate::enums::{
    CustomerMasterKeySpec, EncapsulationAlgorithmSpec, EncryptionAlgorithm,
    KeyAgreementAlgorithmSpec, KeySpec, KeyState, KeyUsage, MacAlgorithmSpec, Origin,
    SigningAlgorithmSpec,
};
use crate::validate::{is_policy_text, Validator};
use crate::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateKeyRequest {
    pub policy: Option<String>,
    pub description: Option<String>,
    pub key_usage: Option<String>,
    pub customer_master_key_spec: Option<String>,
    pub key_spec: Option<String>,
    pub origin: Option<String>,
    pub custom_key_store_id: Option<String>,
    pub bypass_policy_lockout_safety_check: Option<bool>,
    pub tags: Option<Vec<Tag>>,
    pub multi_region: Option<bool>,
    pub xks_key_id: Option<String>,
}

impl Validate for CreateKeyRequest {
    fn validate(&self, v: &mut Validator) {
        let policy = self.policy.as_deref();
        v.string("policy", policy, 1, 131_072);
        v.pattern(
            "policy",
            policy,
            is_policy_text,
            "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
        );
        v.string("description", self.description.as_deref(), 0, 8192);
        v.one_of::<KeyUsage>("keyUsage", self.key_usage.as_deref());
        v.one_of::<CustomerMasterKeySpec>(
            "customerMasterKeySpec",
            self.customer_master_key_spec.as_deref(),
        );
        v.one_of::<KeySpec>("keySpec", self.key_spec.as_deref());
        v.one_of::<Origin>("origin", self.origin.as_deref());
        v.string(
            "customKeyStoreId",
            self.custom_key_store_id.as_deref(),
            1,
            64,
        );
        v.string("xksKeyId", self.xks_key_id.as_deref(), 1, 128);
        tags(v, "tags", self.tags.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    #[serde(rename = "AWSAccountId")]
    pub aws_account_id: String,
    pub key_id: String,
    pub arn: String,
    pub creation_date: Timestamp,
    pub enabled: bool,
    pub description: String,
    pub key_usage: KeyUsage,
    pub key_state: KeyState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<Timestamp>,
    pub origin: Origin,
    pub key_manager: &'static str,
    /// The deprecated name of KeySpec; absent for the specs its enum does not list (ML-DSA,
    /// ML-KEM, Ed25519).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_master_key_spec: Option<CustomerMasterKeySpec>,
    pub key_spec: KeySpec,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithms: Option<Vec<EncryptionAlgorithm>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_algorithms: Option<Vec<SigningAlgorithmSpec>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_algorithms: Option<Vec<MacAlgorithmSpec>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_agreement_algorithms: Option<Vec<KeyAgreementAlgorithmSpec>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encapsulation_algorithms: Option<Vec<EncapsulationAlgorithmSpec>>,
    pub multi_region: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_region_configuration: Option<super::multi_region::MultiRegionConfiguration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_deletion_window_in_days: Option<i32>,
    /// EXTERNAL keys: the earliest ValidTo of their imported materials that expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<Timestamp>,
    /// EXTERNAL keys with imported material: whether the current material expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_model: Option<crate::enums::ExpirationModel>,
    /// Symmetric encryption keys: the KeyMaterialId of the current material.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_key_material_id: Option<String>,
    /// Keys inside a custom key store: its id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_key_store_id: Option<String>,
    /// Keys inside an HSM (AWS_CLOUDHSM) key store: the store's cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_hsm_cluster_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateKeyResponse {
    pub key_metadata: KeyMetadata,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeKeyRequest {
    pub key_id: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
}

impl Validate for DescribeKeyRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        grant_tokens(v, self.grant_tokens.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeKeyResponse {
    pub key_metadata: KeyMetadata,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeysRequest {
    pub limit: Option<i64>,
    pub marker: Option<String>,
    pub resource_owners: Option<Vec<String>>,
}

impl ListKeysRequest {
    /// Whether the caller's own keys are listed: without ResourceOwners, or when it names SELF.
    pub fn lists_own_keys(&self) -> bool {
        self.resource_owners
            .as_ref()
            .is_none_or(|owners| owners.iter().any(|o| o == "SELF"))
    }
}

impl Validate for ListKeysRequest {
    fn validate(&self, v: &mut Validator) {
        limit_and_marker(v, self.limit, self.marker.as_ref());
        v.list(
            "resourceOwners",
            self.resource_owners.as_ref().map(Vec::len),
            1,
            2,
        );
        for (i, owner) in self.resource_owners.iter().flatten().enumerate() {
            v.one_of::<crate::enums::ResourceOwnerType>(
                &format!("resourceOwners.{}.member", i + 1),
                Some(owner),
            );
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyListEntry {
    pub key_id: String,
    pub key_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeysResponse {
    pub keys: Vec<KeyListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

/// The request of operations that take only a key: EnableKey, DisableKey, CancelKeyDeletion.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdRequest {
    pub key_id: Option<String>,
}

impl Validate for KeyIdRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateKeyDescriptionRequest {
    pub key_id: Option<String>,
    pub description: Option<String>,
}

impl Validate for UpdateKeyDescriptionRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        if v.required("description", self.description.as_ref()) {
            v.string("description", self.description.as_deref(), 0, 8192);
        }
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionRequest {
    pub key_id: Option<String>,
    pub pending_window_in_days: Option<i64>,
}

impl Validate for ScheduleKeyDeletionRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        v.int("pendingWindowInDays", self.pending_window_in_days, 1, 365);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionResponse {
    pub key_id: String,
    /// Absent for a multi-Region primary key with replicas: its waiting period starts only when
    /// the last replica is deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<Timestamp>,
    pub key_state: KeyState,
    pub pending_window_in_days: i32,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancelKeyDeletionResponse {
    pub key_id: String,
}
