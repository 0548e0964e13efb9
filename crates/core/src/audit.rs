//! What the audit trail records of a request, as the service sees it: the keys it touched, whether
//! it only read, its parameters and (for changes) its answer — with every secret or binary field
//! removed. The server adds who, when and from where, and writes the CloudTrail-shaped event.
//!
//! Parameters come from the typed request the operation itself acts on — never from the body's
//! text, where a member the operation ignores (`keyId` beside `KeyId`) could stand in for the one
//! it uses — so the trail records what was done. A request that parses but fails validation is
//! still recorded with what it asked for; one that does not parse records no parameters. Field
//! names are written as CloudTrail writes them (`keyId`, `encryptionContext`); the keys of an
//! encryption context are the caller's data and keep their case.

use crate::pipeline::Operation;
use serde::Serialize;
use serde_json::{Map, Value};

/// Members never recorded, at any depth: key material, plaintext, ciphertext, signatures, MACs,
/// shared secrets, passwords and credentials (every blob or sensitive member of botocore's KMS
/// model; a test keeps this list complete), and grant tokens (bearer values).
pub const SCRUBBED_MEMBERS: &[&str] = &[
    "AccessKeyId",
    "AttestationDocument",
    "CiphertextBlob",
    "CiphertextForRecipient",
    "EncryptedKeyMaterial",
    "GrantToken",
    "GrantTokens",
    "ImportToken",
    "KeyStorePassword",
    "Mac",
    "Message",
    "Plaintext",
    "PrivateKeyCiphertextBlob",
    "PrivateKeyPlaintext",
    "PublicKey",
    "RawSecretAccessKey",
    "SharedSecret",
    "SharedSecretCiphertextBlob",
    "Signature",
    "SourceCiphertextBlob",
    "XksProxyAuthenticationCredential",
];

/// Members whose value is a map of the caller's own names, which keep their case.
const USER_MAPS: &[&str] = &[
    "EncryptionContext",
    "SourceEncryptionContext",
    "DestinationEncryptionContext",
    "EncryptionContextEquals",
    "EncryptionContextSubset",
];

/// The audit facts of one request.
#[derive(Debug, Default, Clone)]
pub struct AuditFacts {
    /// The operation as named in `X-Amz-Target` (empty when none was named).
    pub operation: String,
    /// True when the operation changes nothing (CloudTrail's `readOnly`).
    pub read_only: bool,
    /// Whether a success is a use of the keys in `resources` (GetKeyLastUsage).
    pub tracks_last_usage: bool,
    /// ARNs of the keys the request resolved, in order, also when it was then refused.
    pub resources: Vec<String>,
    /// The request's members, scrubbed (`None` when the body was not a JSON object).
    pub request_parameters: Option<Value>,
    /// For successful changes: the answer, scrubbed.
    pub response_elements: Option<Value>,
}

impl AuditFacts {
    /// The facts of a request for `O`, before its body is parsed.
    pub fn of<O: Operation>() -> Self {
        AuditFacts {
            operation: O::NAME.to_string(),
            read_only: O::READ_ONLY,
            tracks_last_usage: O::TRACKS_LAST_USAGE,
            ..AuditFacts::default()
        }
    }

    /// The facts of a request for an operation ferrokms does not have: it changed nothing.
    pub fn unknown(operation: &str) -> Self {
        AuditFacts {
            operation: operation.to_string(),
            read_only: true,
            ..AuditFacts::default()
        }
    }
}

/// A parsed request as CloudTrail shows it: its members as the operation reads them, secrets
/// removed, absent members left out, names in lower camel case.
pub fn parameters<T: Serialize>(request: &T) -> Option<Value> {
    match serde_json::to_value(request) {
        Ok(Value::Object(map)) => Some(Value::Object(scrub_members(map))),
        Ok(_) => None,
        Err(e) => {
            tracing::error!(error = %e, "a request could not be recorded for the audit trail");
            None
        }
    }
}

/// A JSON body as CloudTrail shows it: secrets removed, member names in lower camel case.
/// `None` if the body is not a JSON object.
#[cfg(test)]
fn scrubbed_json(body: &[u8]) -> Option<Value> {
    scrubbed_value(serde_json::from_slice(body).ok()?)
}

/// A JSON value as CloudTrail shows it: secrets removed, member names in lower camel case.
/// `None` if it is not an object.
pub fn scrubbed_value(value: Value) -> Option<Value> {
    match value {
        Value::Object(map) => Some(Value::Object(scrub_members(map))),
        _ => None,
    }
}

fn scrub_members(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .filter(|(name, value)| !SCRUBBED_MEMBERS.contains(&name.as_str()) && !value.is_null())
        .map(|(name, value)| {
            let value = if USER_MAPS.contains(&name.as_str()) {
                value
            } else {
                scrub_value(value)
            };
            (lower_camel(&name), value)
        })
        .collect()
}

fn scrub_value(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(scrub_members(map)),
        Value::Array(items) => Value::Array(items.into_iter().map(scrub_value).collect()),
        other => other,
    }
}

fn lower_camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_removed_and_names_lowered() {
        let body = json!({
            "KeyId": "alias/app",
            "Plaintext": "c2VjcmV0",
            "EncryptionContext": {"Department": "IT"},
            "GrantTokens": ["t"],
            "Constraints": {"EncryptionContextSubset": {"Team": "A"}},
            "Tags": [{"TagKey": "k", "TagValue": "v"}],
        });
        let scrubbed = scrubbed_json(body.to_string().as_bytes()).unwrap();
        assert_eq!(
            scrubbed,
            json!({
                "keyId": "alias/app",
                "encryptionContext": {"Department": "IT"},
                "constraints": {"encryptionContextSubset": {"Team": "A"}},
                "tags": [{"tagKey": "k", "tagValue": "v"}],
            })
        );
        assert_eq!(scrubbed_json(b"[1]"), None);
        assert_eq!(scrubbed_json(b"{not json"), None);
    }

    /// Every blob or sensitive member of botocore's KMS model is scrubbed.
    #[test]
    fn every_secret_member_of_the_model_is_scrubbed() {
        let Some(model) = crate::testing::botocore_kms_model() else {
            return;
        };
        let shapes = model["shapes"].as_object().expect("shapes");
        for (name, shape) in shapes {
            let Some(members) = shape["members"].as_object() else {
                continue;
            };
            for (member, target) in members {
                let target = &shapes[target["shape"].as_str().expect("shape name")];
                let secret = target["type"] == "blob" || target["sensitive"] == true;
                assert!(
                    !secret || SCRUBBED_MEMBERS.contains(&member.as_str()),
                    "{name}.{member} is a blob or sensitive but not scrubbed from audit events"
                );
            }
        }
    }
}
