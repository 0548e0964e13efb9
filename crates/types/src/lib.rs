//! Wire-level vocabulary of the AWS KMS JSON 1.1 API: the error enum, request and response shapes,
//! key identifiers and ARNs, field validation with AWS's messages, and what each key spec may do
//! (`key_specs`). Pure data: no I/O, no crypto.

pub mod blob;
pub mod enums;
pub mod error;
pub mod ids;
pub mod key_specs;
pub mod members;
pub mod regions;
pub mod shapes;
pub mod validate;

pub use blob::{Blob, SecretBlob, SecretText, Timestamp};
pub use error::KmsError;
