//! Shapes of aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases.

use super::{key_id, limit_and_marker, Validate};
use crate::validate::{is_alias_text, Validator};
use crate::Timestamp;
use serde::{Deserialize, Serialize};

const ALIAS_PATTERN: &str = "^[a-zA-Z0-9:/_-]+$";

fn alias_name(v: &mut Validator, value: Option<&String>) {
    if v.required("aliasName", value) {
        v.string("aliasName", value.map(String::as_str), 1, 256);
        v.pattern(
            "aliasName",
            value.map(String::as_str),
            is_alias_text,
            ALIAS_PATTERN,
        );
    }
}

/// CreateAlias and UpdateAlias take the same members.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasTargetRequest {
    pub alias_name: Option<String>,
    pub target_key_id: Option<String>,
}

impl Validate for AliasTargetRequest {
    fn validate(&self, v: &mut Validator) {
        alias_name(v, self.alias_name.as_ref());
        key_id(v, "targetKeyId", self.target_key_id.as_ref(), true);
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteAliasRequest {
    pub alias_name: Option<String>,
}

impl Validate for DeleteAliasRequest {
    fn validate(&self, v: &mut Validator) {
        alias_name(v, self.alias_name.as_ref());
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesRequest {
    pub key_id: Option<String>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
}

impl Validate for ListAliasesRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), false);
        limit_and_marker(v, self.limit, self.marker.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasListEntry {
    pub alias_name: String,
    pub alias_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_key_id: Option<String>,
    pub creation_date: Timestamp,
    pub last_updated_date: Timestamp,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesResponse {
    pub aliases: Vec<AliasListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}
