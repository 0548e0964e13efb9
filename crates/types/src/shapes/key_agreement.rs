//! Shapes of the operations that establish shared secrets: DeriveSharedSecret (ECDH),
//! Encapsulate and Decapsulate (ML-KEM).

use super::key_pairs::MAX_PUBLIC_KEY;
use super::{grant_tokens, key_id, required_blob, required_enum, RecipientInfo, Validate};
use crate::enums::{EncapsulationAlgorithmSpec, KeyAgreementAlgorithmSpec, Origin};
use crate::shapes::crypto::MAX_CIPHERTEXT;
use crate::validate::Validator;
use crate::{Blob, SecretBlob};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeriveSharedSecretRequest {
    pub key_id: Option<String>,
    pub key_agreement_algorithm: Option<String>,
    pub public_key: Option<Blob>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
    pub recipient: Option<RecipientInfo>,
}

impl Validate for DeriveSharedSecretRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        required_enum::<KeyAgreementAlgorithmSpec>(
            v,
            "keyAgreementAlgorithm",
            self.key_agreement_algorithm.as_deref(),
        );
        let len = self.public_key.as_ref().map(|k| k.0.len());
        required_blob(v, "publicKey", len, 1, MAX_PUBLIC_KEY);
        grant_tokens(v, self.grant_tokens.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeriveSharedSecretResponse {
    pub key_id: String,
    pub shared_secret: SecretBlob,
    pub key_agreement_algorithm: KeyAgreementAlgorithmSpec,
    pub key_origin: Origin,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncapsulateRequest {
    pub key_id: Option<String>,
    pub encapsulation_algorithm: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

impl Validate for EncapsulateRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        required_enum::<EncapsulationAlgorithmSpec>(
            v,
            "encapsulationAlgorithm",
            self.encapsulation_algorithm.as_deref(),
        );
        grant_tokens(v, self.grant_tokens.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncapsulateResponse {
    pub key_id: String,
    pub shared_secret: SecretBlob,
    pub shared_secret_ciphertext_blob: Blob,
    pub encapsulation_algorithm: EncapsulationAlgorithmSpec,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecapsulateRequest {
    pub key_id: Option<String>,
    pub shared_secret_ciphertext_blob: Option<Blob>,
    pub encapsulation_algorithm: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

impl Validate for DecapsulateRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        let len = self
            .shared_secret_ciphertext_blob
            .as_ref()
            .map(|c| c.0.len());
        required_blob(v, "sharedSecretCiphertextBlob", len, 1, MAX_CIPHERTEXT);
        required_enum::<EncapsulationAlgorithmSpec>(
            v,
            "encapsulationAlgorithm",
            self.encapsulation_algorithm.as_deref(),
        );
        grant_tokens(v, self.grant_tokens.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecapsulateResponse {
    pub key_id: String,
    pub shared_secret: SecretBlob,
    pub encapsulation_algorithm: EncapsulationAlgorithmSpec,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_shared_secret_bounds_the_public_key() {
        let mut v = Validator::new();
        DeriveSharedSecretRequest {
            key_id: Some("k".into()),
            key_agreement_algorithm: Some("ECDH".into()),
            public_key: Some(Blob(vec![0; MAX_PUBLIC_KEY + 1])),
            ..Default::default()
        }
        .validate(&mut v);
        let msg = v.finish().unwrap_err().message().to_string();
        assert!(msg.contains("at 'publicKey' failed to satisfy constraint: Member must have length less than or equal to 8192"), "{msg}");
    }

    #[test]
    fn decapsulate_needs_the_ciphertext_and_algorithm() {
        let mut v = Validator::new();
        DecapsulateRequest {
            key_id: Some("k".into()),
            ..Default::default()
        }
        .validate(&mut v);
        let msg = v.finish().unwrap_err().message().to_string();
        assert!(msg.starts_with("2 validation errors detected"), "{msg}");
        assert!(
            msg.contains("Value null at 'sharedSecretCiphertextBlob'"),
            "{msg}"
        );
        assert!(
            msg.contains("Value null at 'encapsulationAlgorithm'"),
            "{msg}"
        );
    }
}
