//! Explicit conversions of internal errors into the API's error. Internal detail is logged here
//! and never reaches the wire; a failed open or unwrap is InvalidCiphertextException, nothing more.

use ferrokms_crypto::CryptoError;
use ferrokms_store::StoreError;
use ferrokms_types::KmsError;

/// A store failure seen by an operation that did not expect it (NotFound and AlreadyExists are
/// handled where they mean something).
pub fn store(err: StoreError) -> KmsError {
    match err {
        StoreError::NotFound => KmsError::NotFound("The resource does not exist.".into()),
        StoreError::AlreadyExists => KmsError::AlreadyExists("The resource already exists.".into()),
        StoreError::LimitExceeded => KmsError::LimitExceeded("A limit was exceeded.".into()),
        other => {
            tracing::error!(error = %other, "store failure");
            KmsError::internal()
        }
    }
}

pub fn crypto(err: CryptoError) -> KmsError {
    match err {
        CryptoError::InvalidCiphertext => KmsError::InvalidCiphertext(String::new()),
        other => {
            tracing::error!(error = %other, "crypto failure");
            KmsError::internal()
        }
    }
}

/// A stored value that does not parse: data corruption or a newer schema; never the caller's fault.
pub fn corrupt(what: &str) -> KmsError {
    tracing::error!(what, "stored value does not parse");
    KmsError::internal()
}
