//! The one error type of the API. Each variant is an exception AWS KMS (or its front door) answers
//! with; its wire name and HTTP status come from two exhaustive matches, so adding a variant without
//! deciding both does not compile.

use std::fmt;

/// An AWS KMS exception with its message. Internal failures are converted to `KmsInternal` by the
/// caller after logging their detail; the message of `KmsInternal` never carries that detail.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KmsError {
    // Front door: authentication, protocol, validation.
    MissingAuthenticationToken(String),
    IncompleteSignature(String),
    InvalidSignature(String),
    UnrecognizedClient(String),
    /// Temporary credentials (an STS session token) past their expiration.
    ExpiredToken(String),
    AccessDenied(String),
    UnknownOperation(String),
    Serialization(String),
    Validation(String),
    // KMS service exceptions (botocore's model names).
    AlreadyExists(String),
    /// RotateKeyOnDemand while an automatic rotation is in progress or about to begin.
    Conflict(String),
    // Custom key stores (HSM key stores over PKCS#11).
    CloudHsmClusterInUse(String),
    CloudHsmClusterInvalidConfiguration(String),
    CloudHsmClusterNotActive(String),
    CloudHsmClusterNotFound(String),
    CloudHsmClusterNotRelated(String),
    CustomKeyStoreHasCmks(String),
    CustomKeyStoreInvalidState(String),
    CustomKeyStoreNameInUse(String),
    IncorrectTrustAnchor(String),
    CustomKeyStoreNotFound(String),
    DependencyTimeout(String),
    Disabled(String),
    DryRunOperation(String),
    IncorrectKey(String),
    InvalidAliasName(String),
    InvalidArn(String),
    InvalidCiphertext(String),
    InvalidGrantId(String),
    InvalidGrantToken(String),
    InvalidKeyUsage(String),
    InvalidMarker(String),
    KeyUnavailable(String),
    KmsInternal(String),
    KmsInvalidState(String),
    /// Verify: the signature does not verify for the message, key and algorithm.
    KmsInvalidSignature(String),
    /// VerifyMac: the MAC does not verify for the message, key and algorithm.
    KmsInvalidMac(String),
    LimitExceeded(String),
    /// The caller's account passed a request quota (requests per second) in the Region.
    Throttling(String),
    MalformedPolicyDocument(String),
    NotFound(String),
    Tag(String),
    UnsupportedOperation(String),
    /// ImportKeyMaterial: the import token is malformed, tampered with or for another key.
    InvalidImportToken(String),
    /// ImportKeyMaterial: the import token is past its 24 hours.
    ExpiredImportToken(String),
    /// ImportKeyMaterial: the material is not what the key expects (another material than the
    /// one it had, the wrong length or form for its key spec).
    IncorrectKeyMaterial(String),
}

impl KmsError {
    /// The `__type` AWS puts in the JSON error body.
    pub fn wire_name(&self) -> &'static str {
        match self {
            KmsError::MissingAuthenticationToken(_) => "MissingAuthenticationTokenException",
            KmsError::IncompleteSignature(_) => "IncompleteSignatureException",
            KmsError::InvalidSignature(_) => "InvalidSignatureException",
            KmsError::UnrecognizedClient(_) => "UnrecognizedClientException",
            KmsError::ExpiredToken(_) => "ExpiredTokenException",
            KmsError::AccessDenied(_) => "AccessDeniedException",
            KmsError::UnknownOperation(_) => "UnknownOperationException",
            KmsError::Serialization(_) => "SerializationException",
            KmsError::Validation(_) => "ValidationException",
            KmsError::AlreadyExists(_) => "AlreadyExistsException",
            KmsError::Conflict(_) => "ConflictException",
            KmsError::CloudHsmClusterInUse(_) => "CloudHsmClusterInUseException",
            KmsError::CloudHsmClusterInvalidConfiguration(_) => {
                "CloudHsmClusterInvalidConfigurationException"
            }
            KmsError::CloudHsmClusterNotActive(_) => "CloudHsmClusterNotActiveException",
            KmsError::CloudHsmClusterNotFound(_) => "CloudHsmClusterNotFoundException",
            KmsError::CloudHsmClusterNotRelated(_) => "CloudHsmClusterNotRelatedException",
            KmsError::CustomKeyStoreHasCmks(_) => "CustomKeyStoreHasCMKsException",
            KmsError::CustomKeyStoreInvalidState(_) => "CustomKeyStoreInvalidStateException",
            KmsError::CustomKeyStoreNameInUse(_) => "CustomKeyStoreNameInUseException",
            KmsError::IncorrectTrustAnchor(_) => "IncorrectTrustAnchorException",
            KmsError::CustomKeyStoreNotFound(_) => "CustomKeyStoreNotFoundException",
            KmsError::DependencyTimeout(_) => "DependencyTimeoutException",
            KmsError::Disabled(_) => "DisabledException",
            KmsError::DryRunOperation(_) => "DryRunOperationException",
            KmsError::IncorrectKey(_) => "IncorrectKeyException",
            KmsError::InvalidAliasName(_) => "InvalidAliasNameException",
            KmsError::InvalidArn(_) => "InvalidArnException",
            KmsError::InvalidCiphertext(_) => "InvalidCiphertextException",
            KmsError::InvalidGrantId(_) => "InvalidGrantIdException",
            KmsError::InvalidGrantToken(_) => "InvalidGrantTokenException",
            KmsError::InvalidKeyUsage(_) => "InvalidKeyUsageException",
            KmsError::InvalidMarker(_) => "InvalidMarkerException",
            KmsError::KeyUnavailable(_) => "KeyUnavailableException",
            KmsError::KmsInternal(_) => "KMSInternalException",
            KmsError::KmsInvalidState(_) => "KMSInvalidStateException",
            KmsError::KmsInvalidSignature(_) => "KMSInvalidSignatureException",
            KmsError::KmsInvalidMac(_) => "KMSInvalidMacException",
            KmsError::LimitExceeded(_) => "LimitExceededException",
            KmsError::Throttling(_) => "ThrottlingException",
            KmsError::MalformedPolicyDocument(_) => "MalformedPolicyDocumentException",
            KmsError::NotFound(_) => "NotFoundException",
            KmsError::Tag(_) => "TagException",
            KmsError::UnsupportedOperation(_) => "UnsupportedOperationException",
            KmsError::InvalidImportToken(_) => "InvalidImportTokenException",
            KmsError::ExpiredImportToken(_) => "ExpiredImportTokenException",
            KmsError::IncorrectKeyMaterial(_) => "IncorrectKeyMaterialException",
        }
    }

    /// The HTTP status AWS KMS answers with for this exception.
    pub fn http_status(&self) -> u16 {
        match self {
            KmsError::MissingAuthenticationToken(_)
            | KmsError::IncompleteSignature(_)
            | KmsError::InvalidSignature(_)
            | KmsError::UnrecognizedClient(_)
            | KmsError::ExpiredToken(_)
            | KmsError::AccessDenied(_)
            | KmsError::UnknownOperation(_)
            | KmsError::Serialization(_)
            | KmsError::Validation(_)
            | KmsError::AlreadyExists(_)
            | KmsError::Conflict(_)
            | KmsError::CloudHsmClusterInUse(_)
            | KmsError::CloudHsmClusterInvalidConfiguration(_)
            | KmsError::CloudHsmClusterNotActive(_)
            | KmsError::CloudHsmClusterNotFound(_)
            | KmsError::CloudHsmClusterNotRelated(_)
            | KmsError::CustomKeyStoreHasCmks(_)
            | KmsError::CustomKeyStoreInvalidState(_)
            | KmsError::CustomKeyStoreNameInUse(_)
            | KmsError::IncorrectTrustAnchor(_)
            | KmsError::CustomKeyStoreNotFound(_)
            | KmsError::Disabled(_)
            | KmsError::DryRunOperation(_)
            | KmsError::IncorrectKey(_)
            | KmsError::InvalidAliasName(_)
            | KmsError::InvalidArn(_)
            | KmsError::InvalidCiphertext(_)
            | KmsError::InvalidGrantId(_)
            | KmsError::InvalidGrantToken(_)
            | KmsError::InvalidKeyUsage(_)
            | KmsError::InvalidMarker(_)
            | KmsError::KmsInvalidState(_)
            | KmsError::KmsInvalidSignature(_)
            | KmsError::KmsInvalidMac(_)
            | KmsError::LimitExceeded(_)
            | KmsError::Throttling(_)
            | KmsError::MalformedPolicyDocument(_)
            | KmsError::NotFound(_)
            | KmsError::Tag(_)
            | KmsError::UnsupportedOperation(_)
            | KmsError::InvalidImportToken(_)
            | KmsError::ExpiredImportToken(_)
            | KmsError::IncorrectKeyMaterial(_) => 400,
            KmsError::KeyUnavailable(_) | KmsError::KmsInternal(_) => 500,
            KmsError::DependencyTimeout(_) => 503,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            KmsError::MissingAuthenticationToken(m)
            | KmsError::IncompleteSignature(m)
            | KmsError::InvalidSignature(m)
            | KmsError::UnrecognizedClient(m)
            | KmsError::ExpiredToken(m)
            | KmsError::AccessDenied(m)
            | KmsError::UnknownOperation(m)
            | KmsError::Serialization(m)
            | KmsError::Validation(m)
            | KmsError::AlreadyExists(m)
            | KmsError::Conflict(m)
            | KmsError::CloudHsmClusterInUse(m)
            | KmsError::CloudHsmClusterInvalidConfiguration(m)
            | KmsError::CloudHsmClusterNotActive(m)
            | KmsError::CloudHsmClusterNotFound(m)
            | KmsError::CloudHsmClusterNotRelated(m)
            | KmsError::CustomKeyStoreHasCmks(m)
            | KmsError::CustomKeyStoreInvalidState(m)
            | KmsError::CustomKeyStoreNameInUse(m)
            | KmsError::IncorrectTrustAnchor(m)
            | KmsError::CustomKeyStoreNotFound(m)
            | KmsError::DependencyTimeout(m)
            | KmsError::Disabled(m)
            | KmsError::DryRunOperation(m)
            | KmsError::IncorrectKey(m)
            | KmsError::InvalidAliasName(m)
            | KmsError::InvalidArn(m)
            | KmsError::InvalidCiphertext(m)
            | KmsError::InvalidGrantId(m)
            | KmsError::InvalidGrantToken(m)
            | KmsError::InvalidKeyUsage(m)
            | KmsError::InvalidMarker(m)
            | KmsError::KeyUnavailable(m)
            | KmsError::KmsInternal(m)
            | KmsError::KmsInvalidState(m)
            | KmsError::KmsInvalidSignature(m)
            | KmsError::KmsInvalidMac(m)
            | KmsError::LimitExceeded(m)
            | KmsError::Throttling(m)
            | KmsError::MalformedPolicyDocument(m)
            | KmsError::NotFound(m)
            | KmsError::Tag(m)
            | KmsError::UnsupportedOperation(m)
            | KmsError::InvalidImportToken(m)
            | KmsError::ExpiredImportToken(m)
            | KmsError::IncorrectKeyMaterial(m) => m,
        }
    }

    /// The JSON body of the error response.
    pub fn to_json_body(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "__type": self.wire_name(),
            "message": self.message(),
        }))
        .unwrap_or_else(|_| b"{\"__type\":\"KMSInternalException\"}".to_vec())
    }

    /// AWS's answer to a request past a request quota, word for word.
    pub fn throttling() -> Self {
        KmsError::Throttling(
            "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."
                .into(),
        )
    }

    /// The generic internal error; the detail belongs in the log, not on the wire.
    pub fn internal() -> Self {
        KmsError::KmsInternal("An internal error occurred. Try the request again.".into())
    }
}

impl fmt::Display for KmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.wire_name(), self.message())
    }
}

impl std::error::Error for KmsError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Golden table: every variant's wire name and status, as AWS KMS answers them.
    #[test]
    fn wire_table_is_as_aws_answers() {
        let m = String::new;
        let table: Vec<(KmsError, &str, u16)> = vec![
            (
                KmsError::MissingAuthenticationToken(m()),
                "MissingAuthenticationTokenException",
                400,
            ),
            (
                KmsError::IncompleteSignature(m()),
                "IncompleteSignatureException",
                400,
            ),
            (
                KmsError::InvalidSignature(m()),
                "InvalidSignatureException",
                400,
            ),
            (
                KmsError::UnrecognizedClient(m()),
                "UnrecognizedClientException",
                400,
            ),
            (KmsError::ExpiredToken(m()), "ExpiredTokenException", 400),
            (KmsError::AccessDenied(m()), "AccessDeniedException", 400),
            (
                KmsError::UnknownOperation(m()),
                "UnknownOperationException",
                400,
            ),
            (KmsError::Serialization(m()), "SerializationException", 400),
            (KmsError::Validation(m()), "ValidationException", 400),
            (KmsError::AlreadyExists(m()), "AlreadyExistsException", 400),
            (
                KmsError::CloudHsmClusterInUse(m()),
                "CloudHsmClusterInUseException",
                400,
            ),
            (
                KmsError::CloudHsmClusterInvalidConfiguration(m()),
                "CloudHsmClusterInvalidConfigurationException",
                400,
            ),
            (
                KmsError::CloudHsmClusterNotActive(m()),
                "CloudHsmClusterNotActiveException",
                400,
            ),
            (
                KmsError::CloudHsmClusterNotFound(m()),
                "CloudHsmClusterNotFoundException",
                400,
            ),
            (
                KmsError::CloudHsmClusterNotRelated(m()),
                "CloudHsmClusterNotRelatedException",
                400,
            ),
            (
                KmsError::CustomKeyStoreHasCmks(m()),
                "CustomKeyStoreHasCMKsException",
                400,
            ),
            (
                KmsError::CustomKeyStoreInvalidState(m()),
                "CustomKeyStoreInvalidStateException",
                400,
            ),
            (
                KmsError::CustomKeyStoreNameInUse(m()),
                "CustomKeyStoreNameInUseException",
                400,
            ),
            (
                KmsError::IncorrectTrustAnchor(m()),
                "IncorrectTrustAnchorException",
                400,
            ),
            (
                KmsError::CustomKeyStoreNotFound(m()),
                "CustomKeyStoreNotFoundException",
                400,
            ),
            (
                KmsError::DependencyTimeout(m()),
                "DependencyTimeoutException",
                503,
            ),
            (KmsError::Disabled(m()), "DisabledException", 400),
            (
                KmsError::DryRunOperation(m()),
                "DryRunOperationException",
                400,
            ),
            (KmsError::IncorrectKey(m()), "IncorrectKeyException", 400),
            (
                KmsError::InvalidAliasName(m()),
                "InvalidAliasNameException",
                400,
            ),
            (KmsError::InvalidArn(m()), "InvalidArnException", 400),
            (
                KmsError::InvalidCiphertext(m()),
                "InvalidCiphertextException",
                400,
            ),
            (
                KmsError::InvalidGrantToken(m()),
                "InvalidGrantTokenException",
                400,
            ),
            (
                KmsError::InvalidKeyUsage(m()),
                "InvalidKeyUsageException",
                400,
            ),
            (KmsError::InvalidMarker(m()), "InvalidMarkerException", 400),
            (
                KmsError::KeyUnavailable(m()),
                "KeyUnavailableException",
                500,
            ),
            (KmsError::KmsInternal(m()), "KMSInternalException", 500),
            (
                KmsError::KmsInvalidState(m()),
                "KMSInvalidStateException",
                400,
            ),
            (
                KmsError::KmsInvalidSignature(m()),
                "KMSInvalidSignatureException",
                400,
            ),
            (KmsError::KmsInvalidMac(m()), "KMSInvalidMacException", 400),
            (KmsError::LimitExceeded(m()), "LimitExceededException", 400),
            (KmsError::Throttling(m()), "ThrottlingException", 400),
            (
                KmsError::MalformedPolicyDocument(m()),
                "MalformedPolicyDocumentException",
                400,
            ),
            (KmsError::NotFound(m()), "NotFoundException", 400),
            (KmsError::Tag(m()), "TagException", 400),
            (KmsError::Conflict(m()), "ConflictException", 400),
            (
                KmsError::UnsupportedOperation(m()),
                "UnsupportedOperationException",
                400,
            ),
            (
                KmsError::InvalidImportToken(m()),
                "InvalidImportTokenException",
                400,
            ),
            (
                KmsError::ExpiredImportToken(m()),
                "ExpiredImportTokenException",
                400,
            ),
            (
                KmsError::IncorrectKeyMaterial(m()),
                "IncorrectKeyMaterialException",
                400,
            ),
        ];
        for (err, name, status) in table {
            assert_eq!(err.wire_name(), name);
            assert_eq!(err.http_status(), status, "{name}");
        }
    }

    #[test]
    fn json_body_has_type_and_message() {
        let body = KmsError::NotFound("Key 'x' does not exist".into()).to_json_body();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["__type"], "NotFoundException");
        assert_eq!(v["message"], "Key 'x' does not exist");
    }

    #[test]
    fn internal_error_carries_no_detail() {
        assert!(!KmsError::internal().message().contains("sqlite"));
    }
}
