//! Shapes of the MAC operations: GenerateMac and VerifyMac.

use super::{grant_tokens, key_id, required_blob, required_enum, Validate};
use crate::enums::MacAlgorithmSpec;
use crate::shapes::crypto::{MAX_CIPHERTEXT, MAX_PLAINTEXT};
use crate::validate::Validator;
use crate::{Blob, SecretBlob};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateMacRequest {
    /// Never serialised: the audit records a request from its typed form, and plaintext must
    /// not be copied into its (non-zeroizing) buffers.
    #[serde(skip_serializing)]
    pub message: Option<SecretBlob>,
    pub key_id: Option<String>,
    pub mac_algorithm: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

impl Validate for GenerateMacRequest {
    fn validate(&self, v: &mut Validator) {
        let len = self.message.as_ref().map(|m| m.0.len());
        required_blob(v, "message", len, 1, MAX_PLAINTEXT);
        key_id(v, "keyId", self.key_id.as_ref(), true);
        required_enum::<MacAlgorithmSpec>(v, "macAlgorithm", self.mac_algorithm.as_deref());
        grant_tokens(v, self.grant_tokens.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateMacResponse {
    pub mac: Blob,
    pub mac_algorithm: MacAlgorithmSpec,
    pub key_id: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyMacRequest {
    /// Never serialised: the audit records a request from its typed form, and plaintext must
    /// not be copied into its (non-zeroizing) buffers.
    #[serde(skip_serializing)]
    pub message: Option<SecretBlob>,
    pub key_id: Option<String>,
    pub mac_algorithm: Option<String>,
    pub mac: Option<Blob>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

impl Validate for VerifyMacRequest {
    fn validate(&self, v: &mut Validator) {
        let len = self.message.as_ref().map(|m| m.0.len());
        required_blob(v, "message", len, 1, MAX_PLAINTEXT);
        key_id(v, "keyId", self.key_id.as_ref(), true);
        required_enum::<MacAlgorithmSpec>(v, "macAlgorithm", self.mac_algorithm.as_deref());
        let len = self.mac.as_ref().map(|m| m.0.len());
        required_blob(v, "mac", len, 1, MAX_CIPHERTEXT);
        grant_tokens(v, self.grant_tokens.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyMacResponse {
    pub key_id: String,
    pub mac_valid: bool,
    pub mac_algorithm: MacAlgorithmSpec,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_mac_needs_every_member() {
        let mut v = Validator::new();
        VerifyMacRequest::default().validate(&mut v);
        let msg = v.finish().unwrap_err().message().to_string();
        assert!(msg.starts_with("4 validation errors detected"), "{msg}");
        assert!(msg.contains("Value null at 'mac'"), "{msg}");
    }

    #[test]
    fn unknown_mac_algorithm_lists_the_value_set() {
        let mut v = Validator::new();
        GenerateMacRequest {
            message: Some(SecretBlob::new(vec![1])),
            key_id: Some("k".into()),
            mac_algorithm: Some("HMAC_SHA_1".into()),
            ..Default::default()
        }
        .validate(&mut v);
        let msg = v.finish().unwrap_err().message().to_string();
        assert!(msg.contains("Value 'HMAC_SHA_1' at 'macAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [HMAC_SHA_224, HMAC_SHA_256, HMAC_SHA_384, HMAC_SHA_512]"), "{msg}");
    }
}
