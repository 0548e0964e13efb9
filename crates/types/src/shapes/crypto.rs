//! Shapes of the symmetric cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
//! GenerateDataKeyWithoutPlaintext, GenerateRandom.

use super::{grant_tokens, key_id, EncryptionContext, RecipientInfo, Validate};
use crate::enums::{DataKeySpec, DryRunModifier, EncryptionAlgorithm};
use crate::validate::Validator;
use crate::{Blob, SecretBlob};
use serde::{Deserialize, Serialize};

/// Size limits of the model, shared by several shapes.
pub const MAX_PLAINTEXT: usize = 4096;
pub const MAX_CIPHERTEXT: usize = 6144;

fn dry_run_modifiers(v: &mut Validator, value: Option<&Vec<String>>) {
    for (i, m) in value.into_iter().flatten().enumerate() {
        v.one_of::<DryRunModifier>(&format!("dryRunModifiers.{}.member", i + 1), Some(m));
    }
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptRequest {
    pub key_id: Option<String>,
    /// Never serialised: the audit records a request from its typed form, and plaintext must
    /// not be copied into its (non-zeroizing) buffers.
    #[serde(skip_serializing)]
    pub plaintext: Option<SecretBlob>,
    pub encryption_context: Option<EncryptionContext>,
    pub grant_tokens: Option<Vec<String>>,
    pub encryption_algorithm: Option<String>,
    pub dry_run: Option<bool>,
}

impl Validate for EncryptRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        if v.required("plaintext", self.plaintext.as_ref()) {
            v.blob(
                "plaintext",
                self.plaintext.as_ref().map(|p| p.0.len()),
                1,
                MAX_PLAINTEXT,
            );
        }
        grant_tokens(v, self.grant_tokens.as_ref());
        v.one_of::<EncryptionAlgorithm>(
            "encryptionAlgorithm",
            self.encryption_algorithm.as_deref(),
        );
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptResponse {
    pub ciphertext_blob: Blob,
    pub key_id: String,
    pub encryption_algorithm: EncryptionAlgorithm,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptRequest {
    pub ciphertext_blob: Option<Blob>,
    pub encryption_context: Option<EncryptionContext>,
    pub grant_tokens: Option<Vec<String>>,
    pub key_id: Option<String>,
    pub encryption_algorithm: Option<String>,
    pub recipient: Option<RecipientInfo>,
    pub dry_run: Option<bool>,
    pub dry_run_modifiers: Option<Vec<String>>,
}

impl Validate for DecryptRequest {
    fn validate(&self, v: &mut Validator) {
        // Optional in the model (a Recipient may take its place) but required in practice.
        if v.required("ciphertextBlob", self.ciphertext_blob.as_ref()) {
            v.blob(
                "ciphertextBlob",
                self.ciphertext_blob.as_ref().map(|c| c.0.len()),
                1,
                MAX_CIPHERTEXT,
            );
        }
        grant_tokens(v, self.grant_tokens.as_ref());
        key_id(v, "keyId", self.key_id.as_ref(), false);
        v.one_of::<EncryptionAlgorithm>(
            "encryptionAlgorithm",
            self.encryption_algorithm.as_deref(),
        );
        dry_run_modifiers(v, self.dry_run_modifiers.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptResponse {
    pub key_id: String,
    pub plaintext: SecretBlob,
    pub encryption_algorithm: EncryptionAlgorithm,
    /// Only for a symmetric key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptRequest {
    pub ciphertext_blob: Option<Blob>,
    pub source_encryption_context: Option<EncryptionContext>,
    pub source_key_id: Option<String>,
    pub destination_key_id: Option<String>,
    pub destination_encryption_context: Option<EncryptionContext>,
    pub source_encryption_algorithm: Option<String>,
    pub destination_encryption_algorithm: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
    pub dry_run_modifiers: Option<Vec<String>>,
}

impl Validate for ReEncryptRequest {
    fn validate(&self, v: &mut Validator) {
        if v.required("ciphertextBlob", self.ciphertext_blob.as_ref()) {
            v.blob(
                "ciphertextBlob",
                self.ciphertext_blob.as_ref().map(|c| c.0.len()),
                1,
                MAX_CIPHERTEXT,
            );
        }
        key_id(v, "sourceKeyId", self.source_key_id.as_ref(), false);
        key_id(
            v,
            "destinationKeyId",
            self.destination_key_id.as_ref(),
            true,
        );
        v.one_of::<EncryptionAlgorithm>(
            "sourceEncryptionAlgorithm",
            self.source_encryption_algorithm.as_deref(),
        );
        v.one_of::<EncryptionAlgorithm>(
            "destinationEncryptionAlgorithm",
            self.destination_encryption_algorithm.as_deref(),
        );
        grant_tokens(v, self.grant_tokens.as_ref());
        dry_run_modifiers(v, self.dry_run_modifiers.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptResponse {
    pub ciphertext_blob: Blob,
    pub source_key_id: String,
    pub key_id: String,
    pub source_encryption_algorithm: EncryptionAlgorithm,
    pub destination_encryption_algorithm: EncryptionAlgorithm,
    /// Only when the source is a symmetric key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_key_material_id: Option<String>,
    /// Only when the destination is a symmetric key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_key_material_id: Option<String>,
}

/// GenerateDataKey and GenerateDataKeyWithoutPlaintext take the same members (less Recipient).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyRequest {
    pub key_id: Option<String>,
    pub encryption_context: Option<EncryptionContext>,
    pub number_of_bytes: Option<i64>,
    pub key_spec: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub recipient: Option<RecipientInfo>,
    pub dry_run: Option<bool>,
}

impl Validate for GenerateDataKeyRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        v.int("numberOfBytes", self.number_of_bytes, 1, 1024);
        v.one_of::<DataKeySpec>("keySpec", self.key_spec.as_deref());
        grant_tokens(v, self.grant_tokens.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyResponse {
    pub ciphertext_blob: Blob,
    pub plaintext: SecretBlob,
    pub key_id: String,
    pub key_material_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyWithoutPlaintextResponse {
    pub ciphertext_blob: Blob,
    pub key_id: String,
    pub key_material_id: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateRandomRequest {
    pub number_of_bytes: Option<i64>,
    pub custom_key_store_id: Option<String>,
    pub recipient: Option<RecipientInfo>,
}

impl Validate for GenerateRandomRequest {
    fn validate(&self, v: &mut Validator) {
        v.int("numberOfBytes", self.number_of_bytes, 1, 1024);
        v.string(
            "customKeyStoreId",
            self.custom_key_store_id.as_deref(),
            1,
            64,
        );
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateRandomResponse {
    pub plaintext: SecretBlob,
}

/// Whether a dry run asks to test permissions only (DryRunModifiers IGNORE_CIPHERTEXT): the key
/// is then the one the request names, and the ciphertext is not read.
fn ignores_ciphertext(dry_run: Option<bool>, modifiers: Option<&Vec<String>>) -> bool {
    dry_run == Some(true)
        && modifiers.is_some_and(|m| {
            m.iter()
                .any(|m| m == DryRunModifier::IgnoreCiphertext.as_str())
        })
}

impl DecryptRequest {
    pub fn ignores_ciphertext(&self) -> bool {
        ignores_ciphertext(self.dry_run, self.dry_run_modifiers.as_ref())
    }
}

impl ReEncryptRequest {
    pub fn ignores_ciphertext(&self) -> bool {
        ignores_ciphertext(self.dry_run, self.dry_run_modifiers.as_ref())
    }
}
