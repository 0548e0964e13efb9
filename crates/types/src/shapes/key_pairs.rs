//! Shapes of the operations on key pairs: GetPublicKey, GenerateDataKeyPair and
//! GenerateDataKeyPairWithoutPlaintext.

use super::{grant_tokens, key_id, required_enum, EncryptionContext, RecipientInfo, Validate};
use crate::enums::{
    CustomerMasterKeySpec, DataKeyPairSpec, EncapsulationAlgorithmSpec, EncryptionAlgorithm,
    KeyAgreementAlgorithmSpec, KeySpec, KeyUsage, SigningAlgorithmSpec,
};
use crate::validate::Validator;
use crate::{Blob, SecretBlob};
use serde::{Deserialize, Serialize};

/// The model's limit of PublicKey members.
pub const MAX_PUBLIC_KEY: usize = 8192;

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetPublicKeyRequest {
    pub key_id: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
}

impl Validate for GetPublicKeyRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        grant_tokens(v, self.grant_tokens.as_ref());
    }
}

/// The public key and what it is for. Each algorithm list appears only for its key usage.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetPublicKeyResponse {
    pub key_id: String,
    pub public_key: Blob,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_master_key_spec: Option<CustomerMasterKeySpec>,
    pub key_spec: KeySpec,
    pub key_usage: KeyUsage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithms: Option<Vec<EncryptionAlgorithm>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_algorithms: Option<Vec<SigningAlgorithmSpec>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_agreement_algorithms: Option<Vec<KeyAgreementAlgorithmSpec>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encapsulation_algorithms: Option<Vec<EncapsulationAlgorithmSpec>>,
}

/// GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext take the same members (the
/// latter without Recipient).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairRequest {
    pub encryption_context: Option<EncryptionContext>,
    pub key_id: Option<String>,
    pub key_pair_spec: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub recipient: Option<RecipientInfo>,
    pub dry_run: Option<bool>,
}

impl Validate for GenerateDataKeyPairRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        required_enum::<DataKeyPairSpec>(v, "keyPairSpec", self.key_pair_spec.as_deref());
        grant_tokens(v, self.grant_tokens.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairResponse {
    pub private_key_ciphertext_blob: Blob,
    pub private_key_plaintext: SecretBlob,
    pub public_key: Blob,
    pub key_id: String,
    pub key_pair_spec: DataKeyPairSpec,
    pub key_material_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairWithoutPlaintextResponse {
    pub private_key_ciphertext_blob: Blob,
    pub public_key: Blob,
    pub key_id: String,
    pub key_pair_spec: DataKeyPairSpec,
    pub key_material_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_pair_spec_is_required_and_checked() {
        let mut v = Validator::new();
        GenerateDataKeyPairRequest {
            key_id: Some("k".into()),
            ..Default::default()
        }
        .validate(&mut v);
        let msg = v.finish().unwrap_err().message().to_string();
        assert!(msg.contains("Value null at 'keyPairSpec'"), "{msg}");

        let mut v = Validator::new();
        GenerateDataKeyPairRequest {
            key_id: Some("k".into()),
            key_pair_spec: Some("RSA_1024".into()),
            ..Default::default()
        }
        .validate(&mut v);
        let msg = v.finish().unwrap_err().message().to_string();
        assert!(msg.contains("Value 'RSA_1024' at 'keyPairSpec'"), "{msg}");
    }
}
