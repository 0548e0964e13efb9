//! Wire-level vocabulary of the AWS KMS JSON 1.1 API: the error enum, request and response shapes,
//! key identifiers and ARNs, and field validation with AWS's messages. Pure data: no I/O, no crypto.

pub mod blob;
pub mod enums;
pub mod error;
pub mod ids;
pub mod shapes;
pub mod validate;

pub use blob::{Blob, SecretBlob, Timestamp};
pub use error::KmsError;
