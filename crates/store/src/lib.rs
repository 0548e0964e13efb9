//! Persistence for ferrokms: the [`Store`] trait, its plain row types and its error enum.
//!
//! The trait is the only thing the service layer sees. It is backend-agnostic: SQLite (the
//! embedded default, [`sqlite::SqliteStore`]) implements it today and PostgreSQL will later,
//! and both must pass the same [`conformance`] suite (enabled by the `conformance` feature).
//!
//! The store keeps what it is given and no more. Enumerations (key state, usage, spec, origin)
//! are stored as text whose meaning belongs to the service layer; key material and secret access
//! keys arrive already wrapped (encrypted) and are stored as opaque bytes. Times are epoch
//! milliseconds. The single exception to "text without meaning" is
//! [`PENDING_DELETION_STATE`], which [`Store::keys_due_for_deletion`] filters on.

mod error;
mod rows;
pub mod sqlite;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

use async_trait::async_trait;

pub use error::StoreError;
pub use rows::{AccessKeyRow, AliasRow, GrantRow, KeyRow, KeyVersionRow, PrincipalRow, Tag};
pub use sqlite::SqliteStore;

/// The `state` text of a key scheduled for deletion; see [`Store::keys_due_for_deletion`].
pub const PENDING_DELETION_STATE: &str = "PendingDeletion";

/// Everything ferrokms persists. Every method is one atomic unit: either all of it happens or,
/// on error, none of it does.
///
/// Lists are ordered by the column named in the method and paginated by "strictly after this
/// value" plus a row limit; a limit of 0 returns nothing.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- keys ----

    /// Inserts a key together with its first material version and its initial tags, in one
    /// transaction. The stored `row_version` is always 1, whatever `key.row_version` says.
    /// Duplicate tag keys in `tags`: the last one wins.
    ///
    /// Errors: `AlreadyExists` if `key.key_id` exists.
    async fn insert_key(
        &self,
        key: &KeyRow,
        version: &KeyVersionRow,
        tags: &[Tag],
    ) -> Result<(), StoreError>;

    /// The key `key_id` if it lives in `account_id` / `region`; `None` otherwise.
    async fn get_key(
        &self,
        account_id: &str,
        region: &str,
        key_id: &str,
    ) -> Result<Option<KeyRow>, StoreError>;

    /// Keys of `account_id` / `region` ordered by `key_id`, those after `after_key_id` only.
    async fn list_keys(
        &self,
        account_id: &str,
        region: &str,
        after_key_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<KeyRow>, StoreError>;

    /// Compare-and-swap: writes every mutable column of `key` (description, key_usage, state,
    /// policy, deletion_date, pending_window_days, current_version) if and only if the stored
    /// row (matched by key_id, account_id and region) still has `key.row_version`; increments
    /// `row_version` and returns the row as now stored. Immutable columns in `key` are ignored.
    ///
    /// Errors: `NotFound` if the key does not exist, `Conflict` if its row_version moved on.
    async fn update_key(&self, key: &KeyRow) -> Result<KeyRow, StoreError>;

    /// One material version of a key, if it exists.
    async fn get_key_version(
        &self,
        key_id: &str,
        version: i64,
    ) -> Result<Option<KeyVersionRow>, StoreError>;

    /// Keys in [`PENDING_DELETION_STATE`] whose `deletion_date <= now_ms`, across all accounts
    /// and regions, ordered by deletion_date then key_id.
    async fn keys_due_for_deletion(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<KeyRow>, StoreError>;

    /// Deletes, in one transaction, the key's material versions, its aliases, its tags, its
    /// grants and the key row. The wrapped material must not remain readable in the backend's files afterwards.
    ///
    /// Errors: `NotFound` if the key does not exist.
    async fn destroy_key(&self, key_id: &str) -> Result<(), StoreError>;

    // ---- aliases ----

    /// Errors: `AlreadyExists` on a duplicate (account_id, region, alias_name); `NotFound` if
    /// the target key does not exist.
    async fn insert_alias(&self, alias: &AliasRow) -> Result<(), StoreError>;

    async fn get_alias(
        &self,
        account_id: &str,
        region: &str,
        alias_name: &str,
    ) -> Result<Option<AliasRow>, StoreError>;

    /// Points an existing alias at `target_key_id` and sets its last_updated_date to `now_ms`.
    ///
    /// Errors: `NotFound` if the alias or the target key does not exist.
    async fn update_alias(
        &self,
        account_id: &str,
        region: &str,
        alias_name: &str,
        target_key_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError>;

    /// Errors: `NotFound` if the alias does not exist.
    async fn delete_alias(
        &self,
        account_id: &str,
        region: &str,
        alias_name: &str,
    ) -> Result<(), StoreError>;

    /// Aliases of `account_id` / `region` ordered by alias_name, only those targeting `key_id`
    /// when given, only those after `after_alias_name` when given.
    async fn list_aliases(
        &self,
        account_id: &str,
        region: &str,
        key_id: Option<&str>,
        after_alias_name: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AliasRow>, StoreError>;

    /// Names of every alias targeting `key_id`, ordered by name.
    async fn aliases_for_key(&self, key_id: &str) -> Result<Vec<String>, StoreError>;

    // ---- tags ----

    /// Upserts `tags` on the key in one transaction (duplicate keys in `tags`: the last wins).
    ///
    /// Errors: `NotFound` if the key does not exist; `LimitExceeded`, with nothing changed, if
    /// the key would end up with more than `max_tags` distinct tag keys.
    async fn put_tags(&self, key_id: &str, tags: &[Tag], max_tags: usize)
        -> Result<(), StoreError>;

    /// Removes the named tag keys from the key; names that are not set are ignored.
    async fn remove_tags(&self, key_id: &str, tag_keys: &[String]) -> Result<(), StoreError>;

    /// The key's tags ordered by tag key, those after `after_tag_key` only.
    async fn list_tags(
        &self,
        key_id: &str,
        after_tag_key: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Tag>, StoreError>;

    // ---- grants ----

    /// Inserts a grant. No uniqueness is enforced on the name or the parameters: CreateGrant's
    /// idempotency is the service layer's job (see [`Store::find_grant_by_name`]).
    ///
    /// Errors: `NotFound` if the key does not exist; `AlreadyExists` if the grant_id or the
    /// grant_token exists.
    async fn insert_grant(&self, grant: &GrantRow) -> Result<(), StoreError>;

    /// The grant `grant_id` if it exists on the key `key_id`; `None` otherwise.
    async fn get_grant(&self, key_id: &str, grant_id: &str)
        -> Result<Option<GrantRow>, StoreError>;

    /// The grant with this token, whatever its key.
    async fn get_grant_by_token(&self, grant_token: &str) -> Result<Option<GrantRow>, StoreError>;

    /// Every grant of `key_id` named `name`, ordered by grant_id.
    async fn find_grant_by_name(
        &self,
        key_id: &str,
        name: &str,
    ) -> Result<Vec<GrantRow>, StoreError>;

    /// Grants of `key_id` ordered by grant_id; only the grant `grant_id` when given, only those
    /// for `grantee_principal` when given (filters are ANDed), only those after
    /// `after_grant_id` when given.
    async fn list_grants(
        &self,
        key_id: &str,
        grant_id: Option<&str>,
        grantee_principal: Option<&str>,
        after_grant_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<GrantRow>, StoreError>;

    /// Grants, across all keys, whose retiring principal is `retiring_principal`, ordered by
    /// grant_id, those after `after_grant_id` only.
    async fn list_retirable_grants(
        &self,
        retiring_principal: &str,
        after_grant_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<GrantRow>, StoreError>;

    /// Every grant of `key_id` to `grantee_principal`, ordered by grant_id: the authorisation
    /// lookup.
    async fn grants_for_grantee(
        &self,
        key_id: &str,
        grantee_principal: &str,
    ) -> Result<Vec<GrantRow>, StoreError>;

    /// Deletes (retires or revokes) the grant `grant_id` of the key `key_id`.
    ///
    /// Errors: `NotFound` if no such grant exists on that key.
    async fn delete_grant(&self, key_id: &str, grant_id: &str) -> Result<(), StoreError>;

    // ---- principals ----

    /// Inserts a principal and, when given, its first access key in one transaction (a role
    /// has none).
    ///
    /// Errors: `AlreadyExists` if the ARN or the access key id exists.
    async fn insert_principal(
        &self,
        principal: &PrincipalRow,
        access_key: Option<&AccessKeyRow>,
    ) -> Result<(), StoreError>;

    /// Replaces a role's trust policy. Errors: `NotFound` (no such principal).
    async fn update_assume_role_policy(&self, arn: &str, document: &str) -> Result<(), StoreError>;

    async fn get_principal(&self, arn: &str) -> Result<Option<PrincipalRow>, StoreError>;

    /// Principals of `account_id` ordered by ARN.
    async fn list_principals(&self, account_id: &str) -> Result<Vec<PrincipalRow>, StoreError>;

    async fn get_access_key(&self, access_key_id: &str)
        -> Result<Option<AccessKeyRow>, StoreError>;

    /// Deletes a principal with its access keys and policies. Errors: `NotFound`.
    async fn delete_principal(&self, arn: &str) -> Result<(), StoreError>;

    /// Adds an access key to an existing principal. Errors: `NotFound` (no such principal),
    /// `AlreadyExists` (the id exists).
    async fn insert_access_key(&self, access_key: &AccessKeyRow) -> Result<(), StoreError>;

    /// Errors: `NotFound`.
    async fn delete_access_key(&self, access_key_id: &str) -> Result<(), StoreError>;

    /// A principal's access keys ordered by id.
    async fn list_access_keys(&self, principal_arn: &str) -> Result<Vec<AccessKeyRow>, StoreError>;

    /// Attaches (or replaces) an inline identity policy. Errors: `NotFound` (no such principal).
    async fn put_principal_policy(
        &self,
        principal_arn: &str,
        policy_name: &str,
        document: &str,
        now_ms: i64,
    ) -> Result<(), StoreError>;

    /// Errors: `NotFound`.
    async fn delete_principal_policy(
        &self,
        principal_arn: &str,
        policy_name: &str,
    ) -> Result<(), StoreError>;

    /// A principal's policies as (name, document), ordered by name.
    async fn list_principal_policies(
        &self,
        principal_arn: &str,
    ) -> Result<Vec<(String, String)>, StoreError>;

    /// A number that grows with every change to principals, access keys and their policies
    /// (creation included), in this or any other process: a cache of identities is current while
    /// it is unchanged.
    async fn identity_version(&self) -> Result<i64, StoreError>;

    // ---- settings (small key/value for server metadata) ----

    async fn get_setting(&self, name: &str) -> Result<Option<String>, StoreError>;

    /// Inserts or overwrites a setting.
    async fn set_setting(&self, name: &str, value: &str) -> Result<(), StoreError>;

    // ---- health ----

    /// A cheap round trip to the backend.
    async fn ping(&self) -> Result<(), StoreError>;
}
