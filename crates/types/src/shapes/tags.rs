//! Shapes of tagging: TagResource, UntagResource, ListResourceTags.

use super::{key_id, limit_and_marker, tags, Tag, Validate};
use crate::validate::Validator;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceRequest {
    pub key_id: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

impl Validate for TagResourceRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        if v.required("tags", self.tags.as_ref()) {
            tags(v, "tags", self.tags.as_ref());
        }
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceRequest {
    pub key_id: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

impl Validate for UntagResourceRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        if v.required("tagKeys", self.tag_keys.as_ref()) {
            for (i, k) in self.tag_keys.iter().flatten().enumerate() {
                v.string(&format!("tagKeys.{}.member", i + 1), Some(k), 1, 128);
            }
        }
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListResourceTagsRequest {
    pub key_id: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

impl Validate for ListResourceTagsRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        limit_and_marker(v, self.limit, self.marker.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListResourceTagsResponse {
    pub tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}
