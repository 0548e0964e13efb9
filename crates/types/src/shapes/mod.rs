//! Request and response shapes, field for field as botocore's KMS model names them. Requests carry
//! every member as an Option and check themselves with [`Validate`], so that a missing or
//! out-of-range member is a ValidationException with AWS's message.

pub mod aliases;
pub mod crypto;
pub mod custom_key_stores;
pub mod grants;
pub mod import;
pub mod key_agreement;
pub mod key_pairs;
pub mod keys;
pub mod mac;
pub mod multi_region;
pub mod policies;
pub mod rotation;
pub mod signing;
pub mod tags;
pub mod usage;

use crate::enums::WireEnum;
use crate::validate::{is_marker_text, Validator};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A request that knows its own constraints.
pub trait Validate {
    fn validate(&self, v: &mut Validator);
}

/// The empty response `{}` of operations that answer nothing.
#[derive(Debug, Default, Serialize)]
pub struct Empty {}

/// An encryption context as the wire carries it; sorted, which the ciphertext format relies on.
pub type EncryptionContext = BTreeMap<String, String>;

/// A tag of a key.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    #[serde(default)]
    pub tag_key: Option<String>,
    #[serde(default)]
    pub tag_value: Option<String>,
}

/// Recipient info of Nitro Enclaves attestation; parsed so that it can be refused by name.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecipientInfo {
    #[serde(default)]
    pub key_encryption_algorithm: Option<String>,
    #[serde(default)]
    pub attestation_document: Option<crate::Blob>,
}

pub(crate) fn key_id(v: &mut Validator, field: &str, value: Option<&String>, required: bool) {
    if required && !v.required(field, value) {
        return;
    }
    v.string(field, value.map(String::as_str), 1, 2048);
}

/// A required blob member of `len` bytes (None when absent) within [min, max].
pub(crate) fn required_blob(
    v: &mut Validator,
    field: &str,
    len: Option<usize>,
    min: usize,
    max: usize,
) {
    if v.required(field, len.as_ref()) {
        v.blob(field, len, min, max);
    }
}

/// A required enum member.
pub(crate) fn required_enum<E: WireEnum>(v: &mut Validator, field: &str, value: Option<&str>) {
    if v.required(field, value.as_ref()) {
        v.one_of::<E>(field, value);
    }
}

pub(crate) fn grant_tokens(v: &mut Validator, value: Option<&Vec<String>>) {
    let Some(tokens) = value else { return };
    v.list("grantTokens", Some(tokens.len()), 0, 10);
    for (i, t) in tokens.iter().enumerate() {
        v.string(&format!("grantTokens.{}.member", i + 1), Some(t), 1, 8192);
        if !(1..=8192).contains(&t.len()) {
            continue;
        }
        if !crate::ids::is_grant_token(t) {
            v.bad_grant_token();
        }
    }
}

pub(crate) fn limit_and_marker(v: &mut Validator, limit: Option<i64>, marker: Option<&String>) {
    v.int("limit", limit, 1, 1000);
    v.string("marker", marker.map(String::as_str), 1, 1024);
    v.pattern(
        "marker",
        marker.map(String::as_str),
        is_marker_text,
        "[\\u0020-\\u00FF]*",
    );
}

pub(crate) fn tags(v: &mut Validator, field: &str, value: Option<&Vec<Tag>>) {
    let Some(tags) = value else { return };
    for (i, t) in tags.iter().enumerate() {
        let base = format!("{field}.{}.member", i + 1);
        if v.required(&format!("{base}.tagKey"), t.tag_key.as_ref()) {
            v.string(&format!("{base}.tagKey"), t.tag_key.as_deref(), 1, 128);
        }
        if v.required(&format!("{base}.tagValue"), t.tag_value.as_ref()) {
            v.string(&format!("{base}.tagValue"), t.tag_value.as_deref(), 0, 256);
        }
    }
}
