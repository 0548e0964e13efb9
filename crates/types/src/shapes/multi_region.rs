//! Shapes of multi-Region keys: ReplicateKey, UpdatePrimaryRegion, and the
//! MultiRegionConfiguration that KeyMetadata shows for them.

use super::keys::KeyMetadata;
use super::{key_id, tags, Tag, Validate};
use crate::validate::{is_policy_text, Validator};
use serde::{Deserialize, Serialize};

/// The model's pattern for a Region name.
const REGION_PATTERN: &str = "^([a-z]+-){2,3}\\d+$";

/// Whether `text` matches [`REGION_PATTERN`]: two or three lowercase words each followed by a
/// dash, then digits (`us-east-1`, `us-gov-west-1`).
pub fn is_region_name(text: &str) -> bool {
    let Some((words, digits)) = text.rsplit_once('-') else {
        return false;
    };
    let words: Vec<&str> = words.split('-').collect();
    (2..=3).contains(&words.len())
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
}

fn region(v: &mut Validator, field: &str, value: Option<&String>) {
    if v.required(field, value) {
        let value = value.map(String::as_str);
        v.string(field, value, 1, 32);
        v.pattern(field, value, is_region_name, REGION_PATTERN);
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicateKeyRequest {
    pub key_id: Option<String>,
    pub replica_region: Option<String>,
    pub policy: Option<String>,
    pub bypass_policy_lockout_safety_check: Option<bool>,
    pub description: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

impl Validate for ReplicateKeyRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        region(v, "replicaRegion", self.replica_region.as_ref());
        let policy = self.policy.as_deref();
        v.string("policy", policy, 1, 131_072);
        v.pattern(
            "policy",
            policy,
            is_policy_text,
            "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
        );
        v.string("description", self.description.as_deref(), 0, 8192);
        tags(v, "tags", self.tags.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicateKeyResponse {
    pub replica_key_metadata: KeyMetadata,
    pub replica_policy: String,
    pub replica_tags: Vec<Tag>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdatePrimaryRegionRequest {
    pub key_id: Option<String>,
    pub primary_region: Option<String>,
}

impl Validate for UpdatePrimaryRegionRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        region(v, "primaryRegion", self.primary_region.as_ref());
    }
}

/// Whether a multi-Region key is the primary of its related keys or a replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MultiRegionKeyType {
    #[serde(rename = "PRIMARY")]
    Primary,
    #[serde(rename = "REPLICA")]
    Replica,
}

/// One of a set of related multi-Region keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionKey {
    pub arn: String,
    pub region: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionConfiguration {
    pub multi_region_key_type: MultiRegionKeyType,
    pub primary_key: MultiRegionKey,
    pub replica_keys: Vec<MultiRegionKey>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_follow_the_model_pattern() {
        for ok in ["us-east-1", "eu-west-2", "us-gov-west-1", "ap-southeast-10"] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "us-1",
            "US-east-1",
            "us-east-1a",
            "a-b-c-d-1",
            "us--east-1",
            "-us-east-1",
            "us_east_1",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }

    #[test]
    fn replicate_key_needs_a_key_and_a_well_formed_region() {
        let check = |r: ReplicateKeyRequest| {
            let mut v = Validator::new();
            r.validate(&mut v);
            v.finish().map_err(|e| e.message().to_string())
        };
        let missing = check(ReplicateKeyRequest::default()).unwrap_err();
        assert!(
            missing.contains("'keyId'") && missing.contains("'replicaRegion'"),
            "{missing}"
        );
        let bad = check(ReplicateKeyRequest {
            key_id: Some("mrk-1".into()),
            replica_region: Some("Mars".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(bad.contains("regular expression pattern"), "{bad}");
        assert!(check(ReplicateKeyRequest {
            key_id: Some("mrk-1".into()),
            replica_region: Some("eu-west-1".into()),
            ..Default::default()
        })
        .is_ok());
    }
}
