//! Shapes of the signing operations: Sign and Verify.

use super::{grant_tokens, key_id, required_blob, required_enum, Validate};
use crate::enums::{MessageType, SigningAlgorithmSpec};
use crate::shapes::crypto::{MAX_CIPHERTEXT, MAX_PLAINTEXT};
use crate::validate::Validator;
use crate::{Blob, SecretBlob};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignRequest {
    pub key_id: Option<String>,
    /// Never serialised: the audit records a request from its typed form, and plaintext must
    /// not be copied into its (non-zeroizing) buffers.
    #[serde(skip_serializing)]
    pub message: Option<SecretBlob>,
    pub message_type: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub signing_algorithm: Option<String>,
    pub dry_run: Option<bool>,
}

impl Validate for SignRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        let len = self.message.as_ref().map(|m| m.0.len());
        required_blob(v, "message", len, 1, MAX_PLAINTEXT);
        v.one_of::<MessageType>("messageType", self.message_type.as_deref());
        grant_tokens(v, self.grant_tokens.as_ref());
        required_enum::<SigningAlgorithmSpec>(
            v,
            "signingAlgorithm",
            self.signing_algorithm.as_deref(),
        );
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignResponse {
    pub key_id: String,
    pub signature: Blob,
    pub signing_algorithm: SigningAlgorithmSpec,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyRequest {
    pub key_id: Option<String>,
    /// Never serialised: the audit records a request from its typed form, and plaintext must
    /// not be copied into its (non-zeroizing) buffers.
    #[serde(skip_serializing)]
    pub message: Option<SecretBlob>,
    pub message_type: Option<String>,
    pub signature: Option<Blob>,
    pub signing_algorithm: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

impl Validate for VerifyRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        let len = self.message.as_ref().map(|m| m.0.len());
        required_blob(v, "message", len, 1, MAX_PLAINTEXT);
        v.one_of::<MessageType>("messageType", self.message_type.as_deref());
        let len = self.signature.as_ref().map(|s| s.0.len());
        required_blob(v, "signature", len, 1, MAX_CIPHERTEXT);
        required_enum::<SigningAlgorithmSpec>(
            v,
            "signingAlgorithm",
            self.signing_algorithm.as_deref(),
        );
        grant_tokens(v, self.grant_tokens.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyResponse {
    pub key_id: String,
    pub signature_valid: bool,
    pub signing_algorithm: SigningAlgorithmSpec,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict<T: Validate>(request: &T) -> Result<(), crate::KmsError> {
        let mut v = Validator::new();
        request.validate(&mut v);
        v.finish()
    }

    #[test]
    fn sign_needs_key_message_and_algorithm() {
        let err = verdict(&SignRequest::default()).unwrap_err();
        let msg = err.message();
        assert!(msg.starts_with("3 validation errors detected"), "{msg}");
        assert!(msg.contains("Value null at 'message'"), "{msg}");
        assert!(msg.contains("Value null at 'signingAlgorithm'"), "{msg}");
    }

    #[test]
    fn unknown_message_type_lists_the_value_set() {
        let request = SignRequest {
            key_id: Some("k".into()),
            message: Some(SecretBlob::new(vec![1])),
            message_type: Some("HASH".into()),
            signing_algorithm: Some("ECDSA_SHA_256".into()),
            ..Default::default()
        };
        let msg = verdict(&request).unwrap_err().message().to_string();
        assert!(
            msg.contains("'messageType' failed to satisfy constraint: Member must satisfy enum value set: [RAW, DIGEST, EXTERNAL_MU]"),
            "{msg}"
        );
    }

    #[test]
    fn verify_bounds_the_signature() {
        let request = VerifyRequest {
            key_id: Some("k".into()),
            message: Some(SecretBlob::new(vec![1; 4097])),
            signature: Some(Blob(vec![0; MAX_CIPHERTEXT + 1])),
            signing_algorithm: Some("ECDSA_SHA_256".into()),
            ..Default::default()
        };
        let msg = verdict(&request).unwrap_err().message().to_string();
        assert!(msg.contains("at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096"), "{msg}");
        assert!(msg.contains("at 'signature' failed to satisfy constraint: Member must have length less than or equal to 6144"), "{msg}");
    }
}
