//! Shapes of grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant.

use super::{grant_tokens, key_id, limit_and_marker, EncryptionContext, Validate};
use crate::enums::GrantOperation;
use crate::validate::{is_alias_text, Validator};
use crate::Timestamp;
use serde::{Deserialize, Serialize};

const PRINCIPAL_PATTERN: &str = "^[\\w+=,.@:/-]+$";

fn principal(v: &mut Validator, field: &str, value: Option<&str>) {
    v.string(field, value, 1, 256);
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || "_+=,.@:/-".contains(c))
    };
    v.pattern(field, value, ok, PRINCIPAL_PATTERN);
}

/// An AWS service principal (`dynamodb.amazonaws.com`), as the model's ServicePrincipalType.
fn service_principal(v: &mut Validator, field: &str, value: Option<&str>) {
    v.string(field, value, 1, 128);
    fn ok(s: &str) -> bool {
        let label =
            |l: &str| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        s.split('.').count() >= 3 && s.split('.').all(label)
    }
    v.pattern(
        field,
        value,
        ok,
        r"^([A-Za-z0-9\-]+)\.([A-Za-z0-9\-]+)(\.[A-Za-z0-9\-]+)+$",
    );
}

fn grant_id(v: &mut Validator, value: Option<&str>) {
    v.string("grantId", value, 1, 128);
}

/// A grant's conditions on the encryption context of the requests it allows.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct GrantConstraints {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_subset: Option<EncryptionContext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_equals: Option<EncryptionContext>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateGrantRequest {
    pub key_id: Option<String>,
    pub grantee_principal: Option<String>,
    pub grantee_service_principal: Option<String>,
    pub retiring_principal: Option<String>,
    pub retiring_service_principal: Option<String>,
    pub operations: Option<Vec<String>>,
    pub constraints: Option<GrantConstraints>,
    pub grant_tokens: Option<Vec<String>>,
    pub name: Option<String>,
    pub dry_run: Option<bool>,
}

impl Validate for CreateGrantRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        principal(v, "granteePrincipal", self.grantee_principal.as_deref());
        service_principal(
            v,
            "granteeServicePrincipal",
            self.grantee_service_principal.as_deref(),
        );
        principal(v, "retiringPrincipal", self.retiring_principal.as_deref());
        service_principal(
            v,
            "retiringServicePrincipal",
            self.retiring_service_principal.as_deref(),
        );
        if v.required("operations", self.operations.as_ref()) {
            for (i, op) in self.operations.iter().flatten().enumerate() {
                v.one_of::<GrantOperation>(&format!("operations.{}.member", i + 1), Some(op));
            }
        }
        grant_tokens(v, self.grant_tokens.as_ref());
        v.string("name", self.name.as_deref(), 1, 256);
        v.pattern(
            "name",
            self.name.as_deref(),
            is_alias_text,
            "^[a-zA-Z0-9:/_-]+$",
        );
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateGrantResponse {
    pub grant_token: String,
    pub grant_id: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListGrantsRequest {
    pub limit: Option<i64>,
    pub marker: Option<String>,
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
    pub grantee_principal: Option<String>,
    pub grantee_service_principal: Option<String>,
}

impl Validate for ListGrantsRequest {
    fn validate(&self, v: &mut Validator) {
        limit_and_marker(v, self.limit, self.marker.as_ref());
        key_id(v, "keyId", self.key_id.as_ref(), true);
        grant_id(v, self.grant_id.as_deref());
        principal(v, "granteePrincipal", self.grantee_principal.as_deref());
        service_principal(
            v,
            "granteeServicePrincipal",
            self.grantee_service_principal.as_deref(),
        );
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRetirableGrantsRequest {
    pub limit: Option<i64>,
    pub marker: Option<String>,
    pub retiring_principal: Option<String>,
    pub retiring_service_principal: Option<String>,
}

impl Validate for ListRetirableGrantsRequest {
    fn validate(&self, v: &mut Validator) {
        limit_and_marker(v, self.limit, self.marker.as_ref());
        principal(v, "retiringPrincipal", self.retiring_principal.as_deref());
        service_principal(
            v,
            "retiringServicePrincipal",
            self.retiring_service_principal.as_deref(),
        );
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GrantListEntry {
    pub key_id: String,
    pub grant_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub creation_date: Timestamp,
    pub grantee_principal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retiring_principal: Option<String>,
    pub issuing_account: String,
    pub operations: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraints: Option<GrantConstraints>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListGrantsResponse {
    pub grants: Vec<GrantListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub truncated: bool,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetireGrantRequest {
    pub grant_token: Option<String>,
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
    pub dry_run: Option<bool>,
}

impl Validate for RetireGrantRequest {
    fn validate(&self, v: &mut Validator) {
        v.string("grantToken", self.grant_token.as_deref(), 1, 8192);
        key_id(v, "keyId", self.key_id.as_ref(), false);
        grant_id(v, self.grant_id.as_deref());
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RevokeGrantRequest {
    pub key_id: Option<String>,
    pub grant_id: Option<String>,
    pub dry_run: Option<bool>,
}

impl Validate for RevokeGrantRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        if v.required("grantId", self.grant_id.as_ref()) {
            grant_id(v, self.grant_id.as_deref());
        }
    }
}
