//! Shapes of imported key material (Origin EXTERNAL): GetParametersForImport,
//! ImportKeyMaterial and DeleteImportedKeyMaterial.

use super::{key_id, required_blob, required_enum, Validate};
use crate::enums::{ExpirationModel, ImportType, WrappingAlgorithm, WrappingKeySpec};
use crate::validate::Validator;
use crate::{Blob, Timestamp};
use serde::{Deserialize, Serialize};

/// The model's limit of CiphertextType members (ImportToken, EncryptedKeyMaterial).
pub const MAX_CIPHERTEXT: usize = 6144;

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParametersForImportRequest {
    pub key_id: Option<String>,
    pub wrapping_algorithm: Option<String>,
    pub wrapping_key_spec: Option<String>,
}

impl Validate for GetParametersForImportRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        required_enum::<WrappingAlgorithm>(
            v,
            "wrappingAlgorithm",
            self.wrapping_algorithm.as_deref(),
        );
        required_enum::<WrappingKeySpec>(v, "wrappingKeySpec", self.wrapping_key_spec.as_deref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetParametersForImportResponse {
    pub key_id: String,
    pub import_token: Blob,
    pub public_key: Blob,
    pub parameters_valid_to: Timestamp,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportKeyMaterialRequest {
    pub key_id: Option<String>,
    pub import_token: Option<Blob>,
    /// Not a `SecretBlob`: it is wrapped under a public key only its token can open.
    pub encrypted_key_material: Option<Blob>,
    /// Epoch seconds, as the JSON protocol writes timestamps.
    pub valid_to: Option<f64>,
    pub expiration_model: Option<String>,
    pub import_type: Option<String>,
    pub key_material_description: Option<String>,
    pub key_material_id: Option<String>,
}

impl ImportKeyMaterialRequest {
    /// ValidTo in epoch milliseconds (None when absent or not a finite number).
    pub fn valid_to_ms(&self) -> Option<i64> {
        self.valid_to
            .filter(|s| s.is_finite())
            .map(|s| (s * 1000.0).round() as i64)
    }
}

impl Validate for ImportKeyMaterialRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        let token = self.import_token.as_ref().map(|b| b.0.len());
        required_blob(v, "importToken", token, 1, MAX_CIPHERTEXT);
        let material = self.encrypted_key_material.as_ref().map(|b| b.0.len());
        required_blob(v, "encryptedKeyMaterial", material, 1, MAX_CIPHERTEXT);
        v.one_of::<ExpirationModel>("expirationModel", self.expiration_model.as_deref());
        v.one_of::<ImportType>("importType", self.import_type.as_deref());
        let description = self.key_material_description.as_deref();
        v.string("keyMaterialDescription", description, 0, 256);
        v.pattern(
            "keyMaterialDescription",
            description,
            is_description_text,
            "^[a-zA-Z0-9:/_\\s.-]+$",
        );
        key_material_id(v, self.key_material_id.as_deref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportKeyMaterialResponse {
    pub key_id: String,
    pub key_material_id: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteImportedKeyMaterialRequest {
    pub key_id: Option<String>,
    pub key_material_id: Option<String>,
}

impl Validate for DeleteImportedKeyMaterialRequest {
    fn validate(&self, v: &mut Validator) {
        key_id(v, "keyId", self.key_id.as_ref(), true);
        key_material_id(v, self.key_material_id.as_deref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteImportedKeyMaterialResponse {
    pub key_id: String,
    pub key_material_id: String,
}

/// BackingKeyIdType: exactly 64 lowercase hex characters.
fn key_material_id(v: &mut Validator, value: Option<&str>) {
    v.string("keyMaterialId", value, 64, 64);
    v.pattern("keyMaterialId", value, is_material_id, "^[a-f0-9]+$");
}

pub fn is_material_id(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_description_text(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || c.is_whitespace()
                || matches!(c, ':' | '/' | '_' | '.' | '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(json: &str) -> String {
        let request: ImportKeyMaterialRequest = serde_json::from_str(json).unwrap();
        let mut v = Validator::new();
        request.validate(&mut v);
        v.finish()
            .err()
            .map(|e| e.message().to_string())
            .unwrap_or_default()
    }

    #[test]
    fn import_requires_token_and_material_and_checks_ids() {
        let missing = problems(r#"{"KeyId":"k"}"#);
        assert!(missing.contains("'importToken'"), "{missing}");
        assert!(missing.contains("'encryptedKeyMaterial'"), "{missing}");
        let ok = r#"{"KeyId":"k","ImportToken":"AA==","EncryptedKeyMaterial":"AA=="}"#;
        assert_eq!(problems(ok), "");
        let upper = format!(
            r#"{{"KeyId":"k","ImportToken":"AA==","EncryptedKeyMaterial":"AA==","KeyMaterialId":"{}"}}"#,
            "A".repeat(64)
        );
        assert!(problems(&upper).contains("'keyMaterialId'"));
        let bad_type = r#"{"KeyId":"k","ImportToken":"AA==","EncryptedKeyMaterial":"AA==","ImportType":"NEW"}"#;
        assert!(problems(bad_type).contains("'importType'"));
        let bad_text = r#"{"KeyId":"k","ImportToken":"AA==","EncryptedKeyMaterial":"AA==","KeyMaterialDescription":"a;b"}"#;
        assert!(problems(bad_text).contains("'keyMaterialDescription'"));
    }

    #[test]
    fn valid_to_is_read_as_epoch_seconds() {
        let r: ImportKeyMaterialRequest =
            serde_json::from_str(r#"{"ValidTo":1700000000.5}"#).unwrap();
        assert_eq!(r.valid_to_ms(), Some(1_700_000_000_500));
    }
}
