//! The vault: the one way from stored key material to key bytes.
//!
//! It holds the root key's material half ([`MaterialWrapping`]) and opens a version's wrapped
//! material only for an [`AuthorizedKey`], which only the authorisation step makes. The other
//! half of the root key (`RootSecrets`: access keys, tokens, the audit signing key) cannot open
//! material at all, so no code in core or server reaches key bytes without passing policy.

use crate::access::authz::AuthorizedKey;
use crate::error;
use ferrokms_crypto::{MaterialWrapping, SecretBytes};
use ferrokms_types::KmsError;

pub(crate) struct Vault {
    wrapping: MaterialWrapping,
}

impl Vault {
    pub(crate) fn new(wrapping: MaterialWrapping) -> Self {
        Vault { wrapping }
    }

    /// Wraps fresh material of version `version` of the key whose row id is `key_id`, for
    /// storage (creation, rotation, import, replication).
    pub(crate) fn wrap(
        &self,
        key_id: &str,
        version: i64,
        material: &SecretBytes,
    ) -> Result<Vec<u8>, KmsError> {
        self.wrapping
            .wrap(key_id, version, material)
            .map_err(error::crypto)
    }

    /// Opens the stored `wrapped` material of `version` of an authorised key. The wrapping is
    /// bound to the key and version, so a blob of another key does not open here.
    pub(crate) fn open(
        &self,
        key: &AuthorizedKey,
        version: i64,
        wrapped: &[u8],
    ) -> Result<SecretBytes, KmsError> {
        self.wrapping
            .unwrap(key.key.id(), version, wrapped)
            .map_err(|_| error::corrupt("wrapped key material"))
    }
}
