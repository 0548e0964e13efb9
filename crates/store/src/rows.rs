//! The plain rows the [`Store`](crate::Store) reads and writes.
//!
//! These are data, not domain types: enumerations are text whose meaning belongs to the service
//! layer, times are epoch milliseconds, and wrapped secrets are opaque bytes (already encrypted
//! by the service layer). The rows carrying wrapped bytes print only their length in `Debug`, so
//! logging a row never spills ciphertext.

use std::fmt;

/// A KMS key's metadata. `row_version` is the optimistic-concurrency counter used by
/// [`Store::update_key`](crate::Store::update_key); it starts at 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRow {
    pub key_id: String,
    pub account_id: String,
    pub region: String,
    pub arn: String,
    pub description: String,
    pub key_usage: String,
    pub key_spec: String,
    pub origin: String,
    pub state: String,
    pub policy: String,
    pub creation_date: i64,
    pub deletion_date: Option<i64>,
    pub pending_window_days: Option<i32>,
    pub current_version: i64,
    pub multi_region: bool,
    /// The key id that related multi-Region keys share (what callers see); `None` for
    /// single-Region keys. Each row still has its own unique `key_id`.
    pub multi_region_id: Option<String>,
    /// The Region of the primary key of the related multi-Region keys; `None` for single-Region
    /// keys.
    pub primary_region: Option<String>,
    /// The custom key store the key's material lives in; `None` for the default key store.
    pub custom_key_store_id: Option<String>,
    pub row_version: i64,
}

/// One key material of a key (a "version": AWS's key material, with its KeyMaterialId), wrapped
/// (encrypted) by the service layer. An empty `wrapped_material` means the material is not in
/// ferrokms at the moment: imported material that was deleted, expired, or is pending import.
///
/// The optional fields are text and times whose meaning belongs to the service layer (see
/// `migrations/sqlite/0006_key_materials.sql`); `Default` gives a row with none of them.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KeyVersionRow {
    pub key_id: String,
    pub version: i64,
    pub wrapped_material: Vec<u8>,
    pub created_at: i64,
    /// KeyMaterialId; empty for rows stored before it existed.
    pub material_id: String,
    /// `AUTOMATIC` or `ON_DEMAND` once the material became current by rotation.
    pub rotation_type: Option<String>,
    pub rotation_date: Option<i64>,
    /// Imported material: `IMPORTED` or `PENDING_IMPORT`.
    pub import_state: Option<String>,
    /// Imported material: `KEY_MATERIAL_EXPIRES` or `KEY_MATERIAL_DOES_NOT_EXPIRE`.
    pub expiration_model: Option<String>,
    pub valid_to: Option<i64>,
    pub material_description: Option<String>,
    /// Imported material: a keyed digest that recognises the same material on re-import.
    pub material_digest: Option<Vec<u8>>,
}

impl fmt::Debug for KeyVersionRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyVersionRow")
            .field("key_id", &self.key_id)
            .field("version", &self.version)
            .field("wrapped_material", &ByteCount(self.wrapped_material.len()))
            .field("created_at", &self.created_at)
            .field("material_id", &self.material_id)
            .field("rotation_type", &self.rotation_type)
            .field("rotation_date", &self.rotation_date)
            .field("import_state", &self.import_state)
            .field("expiration_model", &self.expiration_model)
            .field("valid_to", &self.valid_to)
            .field("material_description", &self.material_description)
            .field(
                "material_digest",
                &self.material_digest.as_ref().map(|d| ByteCount(d.len())),
            )
            .finish()
    }
}

/// A key's automatic rotation schedule (`key_rotation`); a key without one has automatic
/// rotation disabled. Written only together with a compare-and-swap on the key's row_version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRotationRow {
    pub key_id: String,
    pub enabled: bool,
    /// RotationPeriodInDays; kept while rotation is disabled.
    pub period_days: i32,
    /// When the next automatic rotation is due (epoch ms); `None` while disabled.
    pub next_rotation_date: Option<i64>,
}

/// An alias, unique per (account_id, region, alias_name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AliasRow {
    pub account_id: String,
    pub region: String,
    pub alias_name: String,
    pub target_key_id: String,
    pub creation_date: i64,
    pub last_updated_date: i64,
}

/// One tag of a key; tag keys are unique per key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// A principal: a user, which signs requests with its access keys, or a role, which has no
/// access keys and is used through temporary credentials of STS AssumeRole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrincipalRow {
    pub arn: String,
    pub account_id: String,
    pub name: String,
    pub created_at: i64,
    /// A role's trust policy (the IAM policy naming who may assume it); `None` for users.
    pub assume_role_policy: Option<String>,
    /// The id given at creation (`AIDA…` / `AROA…`); `None` for principals made before ids were
    /// stored.
    pub unique_id: Option<String>,
}

/// An access key of a principal; the secret is wrapped (encrypted) by the service layer.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeyRow {
    pub access_key_id: String,
    pub principal_arn: String,
    pub account_id: String,
    pub wrapped_secret: Vec<u8>,
    pub created_at: i64,
}

impl fmt::Debug for AccessKeyRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKeyRow")
            .field("access_key_id", &self.access_key_id)
            .field("principal_arn", &self.principal_arn)
            .field("account_id", &self.account_id)
            .field("wrapped_secret", &ByteCount(self.wrapped_secret.len()))
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// A KMS grant on a key. `operations` (a JSON array) and `constraints` (a JSON object) are text
/// owned by the service layer; `grant_token` is unique across all grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantRow {
    pub grant_id: String,
    pub key_id: String,
    pub grant_token: String,
    pub name: Option<String>,
    pub grantee_principal: String,
    pub retiring_principal: Option<String>,
    pub issuing_account: String,
    pub operations: String,
    pub constraints: Option<String>,
    pub creation_date: i64,
}

/// The last successful cryptographic use of a key (GetKeyLastUsage): which operation, when
/// (epoch ms), and the request and audit event that did it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUsageRow {
    pub key_arn: String,
    pub operation: String,
    pub used_at: i64,
    pub request_id: String,
    pub event_id: String,
}

/// One row of the change feed: something cached elsewhere has changed and must be read again.
/// `seq` grows with every row; SQLite commits them in `seq` order, PostgreSQL may commit a lower
/// `seq` after a higher one (each transaction draws its own from the sequence).
///
/// | `kind`       | `account_id`, `region` | `name`         | what changed                      |
/// |--------------|------------------------|----------------|-----------------------------------|
/// | `"key"`      | the key's              | key id         | the key row (or it was destroyed) |
/// | `"tags"`     | empty                  | key id         | the key's tags                    |
/// | `"alias"`    | the alias's            | alias name     | the alias (created, moved, gone)  |
/// | `"policies"` | empty                  | principal ARN  | the principal's identity policies |
/// | `"identity"` | empty                  | empty          | principals or access keys         |
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeRow {
    pub seq: i64,
    pub kind: String,
    pub account_id: String,
    pub region: String,
    pub name: String,
}

/// Prints as `<N bytes>` in place of the bytes themselves.
struct ByteCount(usize);

impl fmt::Debug for ByteCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_wrapped_rows_prints_length_not_bytes() {
        let version = KeyVersionRow {
            key_id: "k".into(),
            version: 1,
            wrapped_material: vec![0xAB; 3],
            created_at: 5,
            material_digest: Some(vec![0xEF; 2]),
            ..KeyVersionRow::default()
        };
        let access = AccessKeyRow {
            access_key_id: "AKIA".into(),
            principal_arn: "arn".into(),
            account_id: "1".into(),
            wrapped_secret: vec![0xCD; 4],
            created_at: 5,
        };
        let printed = format!("{version:?} {access:?}");
        assert!(printed.contains("<3 bytes>"), "{printed}");
        assert!(printed.contains("<4 bytes>"), "{printed}");
        assert!(printed.contains("<2 bytes>"), "{printed}");
        assert!(
            !printed.contains("171") && !printed.contains("205") && !printed.contains("239"),
            "{printed}"
        );
    }
}

/// A custom key store (CreateCustomKeyStore). `store_type` is AWS's CustomKeyStoreType;
/// the HSM columns are set for `AWS_CLOUDHSM`, the `xks_` ones for `EXTERNAL_KEY_STORE`.
/// `connection_state` is what was last asked for (CONNECTED or DISCONNECTED), not what a node
/// achieved. `row_version` starts at 1 and guards
/// [`Store::update_custom_key_store`](crate::Store::update_custom_key_store).
#[derive(Clone, PartialEq, Eq)]
pub struct CustomKeyStoreRow {
    pub custom_key_store_id: String,
    pub account_id: String,
    pub region: String,
    pub name: String,
    pub store_type: String,
    pub cloud_hsm_cluster_id: Option<String>,
    pub trust_anchor_certificate: Option<String>,
    /// The token user's PIN, wrapped under the root key.
    pub wrapped_password: Option<Vec<u8>>,
    pub xks_uri_endpoint: Option<String>,
    pub xks_uri_path: Option<String>,
    pub xks_connectivity: Option<String>,
    pub xks_access_key_id: Option<String>,
    /// The proxy credential's secret access key, wrapped under the root key.
    pub wrapped_xks_secret: Option<Vec<u8>>,
    pub connection_state: String,
    pub creation_date: i64,
    pub row_version: i64,
}

impl fmt::Debug for CustomKeyStoreRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |blob: &Option<Vec<u8>>| blob.as_ref().map(|b| ByteCount(b.len()));
        f.debug_struct("CustomKeyStoreRow")
            .field("custom_key_store_id", &self.custom_key_store_id)
            .field("account_id", &self.account_id)
            .field("region", &self.region)
            .field("name", &self.name)
            .field("store_type", &self.store_type)
            .field("cloud_hsm_cluster_id", &self.cloud_hsm_cluster_id)
            .field("wrapped_password", &count(&self.wrapped_password))
            .field("xks_uri_endpoint", &self.xks_uri_endpoint)
            .field("xks_uri_path", &self.xks_uri_path)
            .field("xks_connectivity", &self.xks_connectivity)
            .field("wrapped_xks_secret", &count(&self.wrapped_xks_secret))
            .field("connection_state", &self.connection_state)
            .field("creation_date", &self.creation_date)
            .field("row_version", &self.row_version)
            .finish_non_exhaustive()
    }
}
