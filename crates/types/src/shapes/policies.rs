//! Shapes of key policies: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies.

use super::{key_id, limit_and_marker, Validate};
use crate::validate::{is_policy_text, Validator};
use serde::{Deserialize, Serialize};

/// The one policy name a key has.
pub const DEFAULT_POLICY_NAME: &str = "default";

fn policy_name(v: &mut Validator, value: Option<&str>) {
    v.string("policyName", value, 1, 128);
    let word = |s: &str| s.chars().all(|c| c.is_alphanumeric() || c == '_');
    v.pattern("policyName", value, word, "[\\w]+");
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyPolicyRequest {
    pub key_id: Option<String>,
    pub policy_name: Option<String>,
}

impl Validate for GetKeyPolicyRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        policy_name(v, self.policy_name.as_deref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyPolicyResponse {
    pub policy: String,
    pub policy_name: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutKeyPolicyRequest {
    pub key_id: Option<String>,
    pub policy_name: Option<String>,
    pub policy: Option<String>,
    pub bypass_policy_lockout_safety_check: Option<bool>,
}

impl Validate for PutKeyPolicyRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        policy_name(v, self.policy_name.as_deref());
        if v.required("policy", self.policy.as_ref()) {
            let policy = self.policy.as_deref();
            v.string("policy", policy, 1, 131_072);
            v.pattern(
                "policy",
                policy,
                is_policy_text,
                "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
            );
        }
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyPoliciesRequest {
    pub key_id: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

impl Validate for ListKeyPoliciesRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        limit_and_marker(v, self.limit, self.marker.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyPoliciesResponse {
    pub policy_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}
