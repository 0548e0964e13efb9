//! Persistence for ferrokms: the [`Store`] trait, its plain row types and its error enum.
//!
//! The trait is the only thing the service layer sees. It is backend-agnostic and has two
//! implementations, which pass the same [`conformance`] suite (enabled by the `conformance`
//! feature):
//!
//! - [`sqlite::SqliteStore`], the embedded default: one file shared by the server and the admin
//!   CLI of one machine;
//! - [`postgres::PgStore`], for cluster mode: several stateless ferrokms nodes on one PostgreSQL
//!   database, each with its own connection pool, all seeing one consistent KMS.
//!
//! [`open_store`] opens either from one string: a `postgres://` or `postgresql://` URL opens
//! PostgreSQL (pool settings may ride along in the URL, see [`postgres::PgOptions`]), anything
//! else is the path of a SQLite file. Both backends keep their versioned migrations under
//! `migrations/sqlite/` and `migrations/postgres/` (same numbering, same schema) and apply them
//! when opened; several nodes opening one fresh database at once is safe.
//!
//! The store keeps what it is given and no more. Enumerations (key state, usage, spec, origin)
//! are stored as text whose meaning belongs to the service layer; key material and secret access
//! keys arrive already wrapped (encrypted) and are stored as opaque bytes. Times are epoch
//! milliseconds. The exceptions to "text without meaning" are [`PENDING_DELETION_STATE`], which
//! [`Store::keys_due_for_deletion`] filters on, and [`ENABLED_STATE`], which
//! [`Store::keys_due_for_rotation`] filters on.
//!
//! # Work that must happen once per cluster
//!
//! Background work (the deletion sweep, later rotation) runs on every node but must take effect
//! once. Two tools give that, and a caller uses both:
//!
//! 1. A lease ([`Store::try_acquire_lease`], [`Store::release_lease`]) elects one node to do the
//!    work and hands it to another when that node stops renewing (it died, hung or lost the
//!    database). A lease is time-based, so it keeps duplicate work rare, not impossible: a node
//!    paused past its lease's expiry may still finish a step it started.
//! 2. Every per-item step is conditional, so doing it twice has no second effect: the sweep
//!    destroys a key with [`Store::destroy_key_if_version`], passing the `row_version` of the
//!    row [`Store::keys_due_for_deletion`] returned. Exactly one caller gets `Ok`; the others
//!    get `NotFound` (already destroyed) or `Conflict` (the key changed since it was read, e.g.
//!    its deletion was cancelled, so it must not be destroyed). Changes to a key go through
//!    [`Store::update_key`], which is compare-and-swap on the same `row_version`. Rotation
//!    works the same way: [`Store::rotate_key`] is a compare-and-swap on the `row_version` that
//!    [`Store::keys_due_for_rotation`] returned, and every change of a rotation schedule moves
//!    that `row_version` too, so a due key is rotated once and never after its schedule changed.

mod error;
mod rows;
// Before the backends: its macros are in scope for the modules declared after it.
#[macro_use]
mod sql;
pub mod postgres;
pub mod sqlite;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

pub use error::StoreError;
pub use postgres::PgStore;
pub use rows::{
    AccessKeyRow, AliasRow, ChangeRow, CustomKeyStoreRow, GrantRow, KeyRotationRow, KeyRow,
    KeyUsageRow, KeyVersionRow, PrincipalRow, Tag,
};
pub use sqlite::SqliteStore;

/// The `state` text of a key scheduled for deletion; see [`Store::keys_due_for_deletion`].
pub const PENDING_DELETION_STATE: &str = "PendingDeletion";

/// The `state` text of a usable key; see [`Store::keys_due_for_rotation`].
pub const ENABLED_STATE: &str = "Enabled";

/// Opens (and migrates) the store that `spec` names: a `postgres://` or `postgresql://` URL
/// (scheme case-insensitive) opens a [`PgStore`] with [`PgStore::open`]; anything else is the
/// path of a SQLite file, opened with [`SqliteStore::open`] (created if missing; its directory
/// must exist).
///
/// Errors: `Backend` if the database cannot be reached, opened or migrated, or the URL is
/// malformed; the message never repeats the URL (it may hold a password).
pub async fn open_store(spec: &str) -> Result<Arc<dyn Store>, StoreError> {
    if postgres::is_postgres_url(spec) {
        Ok(Arc::new(PgStore::open(spec).await?))
    } else {
        Ok(Arc::new(SqliteStore::open(Path::new(spec)).await?))
    }
}

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

    /// Every material version of a key, ordered by version (empty if the key does not exist).
    async fn list_key_versions(&self, key_id: &str) -> Result<Vec<KeyVersionRow>, StoreError>;

    /// Adds a material version to an existing key, leaving the key row as it is (imported
    /// material waiting to be rotated in).
    ///
    /// Errors: `NotFound` if the key does not exist, `AlreadyExists` if it has that version.
    async fn insert_key_version(&self, version: &KeyVersionRow) -> Result<(), StoreError>;

    /// [`Store::update_key`] (compare-and-swap on `key.row_version`) and a write of `version`
    /// (inserted, or replacing the stored row of that version) in one transaction: rotation
    /// (a new version made current), import of material and its deletion change a key and one
    /// of its materials together or not at all. Returns the key row as now stored.
    ///
    /// Errors: as `update_key`, with nothing written; `Backend` if `version` belongs to another
    /// key.
    async fn update_key_with_version(
        &self,
        key: &KeyRow,
        version: &KeyVersionRow,
    ) -> Result<KeyRow, StoreError>;

    /// Imported materials past their ValidTo: versions with `valid_to <= now_ms` that still hold
    /// material (non-empty `wrapped_material`), each with its key row, across all accounts and
    /// regions, ordered by valid_to, key_id, version.
    ///
    /// A plain read that claims nothing, like [`Store::keys_due_for_deletion`]: the expiry sweep
    /// empties each with [`Store::update_key_with_version`] and the key row read here, so of two
    /// sweeps racing exactly one writes.
    async fn expired_key_materials(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<(KeyRow, KeyVersionRow)>, StoreError>;

    /// Keys in [`PENDING_DELETION_STATE`] whose `deletion_date <= now_ms`, across all accounts
    /// and regions, ordered by deletion_date then key_id.
    ///
    /// A plain read that claims nothing: several nodes calling it see the same keys. A sweeper
    /// destroys each with [`Store::destroy_key_if_version`] and the row_version read here, which
    /// lets exactly one of them succeed; a lease keeps the others from trying.
    async fn keys_due_for_deletion(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<KeyRow>, StoreError>;

    /// The key's automatic rotation schedule, if it ever had one.
    async fn get_key_rotation(&self, key_id: &str) -> Result<Option<KeyRotationRow>, StoreError>;

    /// [`Store::update_key`] (compare-and-swap on `key.row_version`) and a write of the key's
    /// rotation schedule (inserted or replaced) in one transaction: EnableKeyRotation and
    /// DisableKeyRotation move the key's row_version, so a rotation step that read the key
    /// before the change fails its compare-and-swap. Returns the key row as now stored.
    ///
    /// Errors: as `update_key`, with nothing written; `Backend` if `rotation` belongs to
    /// another key.
    async fn update_key_with_rotation(
        &self,
        key: &KeyRow,
        rotation: &KeyRotationRow,
    ) -> Result<KeyRow, StoreError>;

    /// One rotation step, in one transaction: [`Store::update_key`] (compare-and-swap on
    /// `key.row_version`; `key.current_version` must be `version.version`, the material made
    /// current), a write of `version` (inserted, or replacing the stored row of that version:
    /// imported material waiting to be rotated in) and, when given, a write of the rotation
    /// schedule (an automatic rotation moves its next date; an on-demand one leaves it alone).
    /// Of several callers rotating from one row_version, exactly one succeeds.
    ///
    /// Errors: as `update_key`, with nothing written; `Backend` if `version` or `rotation`
    /// belongs to another key or `key.current_version != version.version`.
    async fn rotate_key(
        &self,
        key: &KeyRow,
        version: &KeyVersionRow,
        rotation: Option<&KeyRotationRow>,
    ) -> Result<KeyRow, StoreError>;

    /// Keys in [`ENABLED_STATE`] whose rotation schedule is enabled and due
    /// (`next_rotation_date <= now_ms`), across all accounts and regions, ordered by
    /// next_rotation_date then key_id. Disabled keys and keys pending deletion are left out and
    /// rotate once they are enabled again, as at AWS.
    ///
    /// A plain read that claims nothing: a rotation pass rotates each key with
    /// [`Store::rotate_key`] and the row_version read here, which lets exactly one of several
    /// passes succeed; a lease keeps the others from trying.
    async fn keys_due_for_rotation(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<KeyRow>, StoreError>;

    /// How many keys are in each state, across all accounts and regions, ordered by state
    /// (states with no key are absent). For metrics.
    async fn count_keys_by_state(&self) -> Result<Vec<(String, i64)>, StoreError>;

    /// Deletes, in one transaction, the key's material versions, its rotation schedule, its
    /// aliases, its tags, its grants and the key row. Of two concurrent calls for one key, one succeeds and the other
    /// gets `NotFound`.
    ///
    /// What "deleted" means for the wrapped material differs by backend, and is the honest
    /// guarantee, not an aim:
    /// - SQLite: freed pages are zeroed (`secure_delete`) and the WAL is checkpointed and
    ///   truncated, so the bytes are gone from the database files when this returns (if another
    ///   connection holds an old snapshot, once the next checkpoint completes); a copy of the
    ///   file taken before, e.g. a backup, still holds them.
    /// - PostgreSQL: at commit the rows are unreachable through SQL on every node. Under MVCC the
    ///   deleted tuples' bytes stay in the table's data files until VACUUM prunes them (the
    ///   material tables are tuned for autovacuum to do that within minutes, but pruning frees
    ///   the space without zeroing it, so the bytes may persist on disk until overwritten), and
    ///   they stay in WAL until it is recycled, and for good in any base backup, WAL archive or
    ///   replica. Overwriting the bytes before deleting would not help: an UPDATE writes a new
    ///   tuple version and leaves the old one in place just the same.
    ///
    /// On both, what keeps destroyed material unusable is that it is wrapped under the root key:
    /// recovering it takes a stale copy of the database and the root key.
    ///
    /// Errors: `NotFound` if the key does not exist.
    async fn destroy_key(&self, key_id: &str) -> Result<(), StoreError>;

    /// [`Store::destroy_key`], but only if the key's `row_version` is still `row_version`: the
    /// conditional step that makes a deletion sweep run by several nodes destroy each key once,
    /// and never one whose deletion was cancelled after the sweep read it (see the crate docs).
    ///
    /// Errors: `NotFound` if the key does not exist (already destroyed), `Conflict`, with
    /// nothing changed, if its row_version moved on.
    async fn destroy_key_if_version(
        &self,
        key_id: &str,
        row_version: i64,
    ) -> Result<(), StoreError>;

    /// Keys in `state`, across all accounts and regions, ordered by key_id, at most `limit`
    /// (the scheduler's scan of multi-Region primary keys waiting for their replicas' deletion).
    async fn keys_in_state(&self, state: &str, limit: u32) -> Result<Vec<KeyRow>, StoreError>;

    /// Keys, across all accounts and regions, whose policy text contains `needle`, ordered by
    /// key_id, those after `after_key_id` only, at most `limit` (the keys whose policies may name
    /// a deleted principal).
    async fn keys_with_policy_containing(
        &self,
        needle: &str,
        after_key_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<KeyRow>, StoreError>;

    /// Up to `limit` keys inside the custom key store `custom_key_store_id`, by key id.
    async fn keys_in_custom_key_store(
        &self,
        custom_key_store_id: &str,
        limit: u32,
    ) -> Result<Vec<KeyRow>, StoreError>;

    /// Every key of `account_id` whose `multi_region_id` is `multi_region_id`: a multi-Region
    /// primary key and its replicas, one per Region, ordered by region.
    async fn multi_region_keys(
        &self,
        account_id: &str,
        multi_region_id: &str,
    ) -> Result<Vec<KeyRow>, StoreError>;

    /// Sets `primary_region` to `new_primary` on every key of `account_id` whose
    /// `multi_region_id` is `multi_region_id`, in one transaction, incrementing each row's
    /// `row_version`.
    ///
    /// Errors: `NotFound` if none of those keys lives in `new_primary`; `Conflict`, with nothing
    /// changed, if any of them no longer names `expected_primary` (another change won).
    async fn set_primary_region(
        &self,
        account_id: &str,
        multi_region_id: &str,
        expected_primary: &str,
        new_primary: &str,
    ) -> Result<(), StoreError>;

    // ---- custom key stores ----

    /// Errors: `AlreadyExists` on a duplicate id or (account_id, region, name).
    async fn insert_custom_key_store(&self, store: &CustomKeyStoreRow) -> Result<(), StoreError>;

    async fn get_custom_key_store(
        &self,
        account_id: &str,
        region: &str,
        custom_key_store_id: &str,
    ) -> Result<Option<CustomKeyStoreRow>, StoreError>;

    /// The custom key stores of `account_id` / `region` ordered by id, only the one named `name`
    /// when given, only those after `after_id` when given, at most `limit`.
    async fn list_custom_key_stores(
        &self,
        account_id: &str,
        region: &str,
        name: Option<&str>,
        after_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CustomKeyStoreRow>, StoreError>;

    /// Writes every column of `store` but the id, account, Region and creation date, if the
    /// stored row_version is `store.row_version`; returns the row as stored, its row_version
    /// one higher.
    ///
    /// Errors: `NotFound` if the store does not exist; `Conflict` if its row_version moved;
    /// `AlreadyExists` if the new name is taken in the account and Region.
    async fn update_custom_key_store(
        &self,
        store: &CustomKeyStoreRow,
    ) -> Result<CustomKeyStoreRow, StoreError>;

    /// Deletes the custom key store if its row_version is still `expected_row_version`.
    ///
    /// Errors: `NotFound` if it does not exist; `Conflict` if its row_version moved.
    async fn delete_custom_key_store(
        &self,
        account_id: &str,
        region: &str,
        custom_key_store_id: &str,
        expected_row_version: i64,
    ) -> Result<(), StoreError>;

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

    /// Points an existing alias, if it still points at `expected_target`, at `target_key_id` and
    /// sets its last_updated_date to `now_ms`. (The caller was authorised for the key the alias
    /// pointed at when it read it; a concurrent change must not let it move the alias away from
    /// another key.)
    ///
    /// Errors: `NotFound` if the alias or the target key does not exist; `Conflict` if the alias
    /// points at another key than `expected_target`.
    async fn update_alias(
        &self,
        account_id: &str,
        region: &str,
        alias_name: &str,
        expected_target: &str,
        target_key_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError>;

    /// Deletes the alias if it still points at `expected_target` (see `update_alias`).
    ///
    /// Errors: `NotFound` if the alias does not exist; `Conflict` if it points at another key.
    async fn delete_alias(
        &self,
        account_id: &str,
        region: &str,
        alias_name: &str,
        expected_target: &str,
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

    /// Replaces `arn` by `unique_id` as the grantee and as the retiring principal of every grant
    /// (a deleted principal's grants stay, naming it by the id no new principal has); returns
    /// how many grants changed.
    async fn rebind_grant_principals(&self, arn: &str, unique_id: &str) -> Result<u64, StoreError>;

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

    /// Roles, across all accounts, whose trust policy text contains `needle`, ordered by ARN.
    async fn roles_with_trust_policy_containing(
        &self,
        needle: &str,
    ) -> Result<Vec<PrincipalRow>, StoreError>;

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

    // ---- leases (one holder at a time across every process on the database) ----

    /// Takes or renews the lease `name` for `holder` until `now_ms + ttl_ms` (saturating), in
    /// one atomic step, and says whether `holder` now holds it. Granted when nobody holds the
    /// lease, when `holder` already holds it (a renewal, even if it had expired meanwhile) or when
    /// the current holder's lease has expired (`expires_at <= now_ms`); refused, with nothing
    /// changed, while another holder's lease runs. Of several callers racing for a free or
    /// expired lease, exactly one is granted.
    ///
    /// Times are the callers' clocks: nodes' clocks must agree to well within `ttl_ms`, and a
    /// holder should renew every fraction of `ttl_ms` (say a third) and stop the work as soon as
    /// a renewal is refused or fails. `holder` must be unique per running process (e.g. a node
    /// name plus a random id), or two processes would share the lease.
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Ends the lease `name` if `holder` holds it (expired or not), so that another node may
    /// take it at once; a lease held by someone else, or by nobody, is left alone (no error).
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;

    // ---- last usage of keys ----

    /// Records uses of keys, in one transaction: for each row, the stored row of its key ARN is
    /// replaced only if the new use is later (`used_at` greater), so nodes flushing in any order
    /// keep the newest use.
    async fn record_key_usage(&self, uses: &[KeyUsageRow]) -> Result<(), StoreError>;

    /// The recorded last use of the key `key_arn`, if any.
    async fn get_key_usage(&self, key_arn: &str) -> Result<Option<KeyUsageRow>, StoreError>;

    /// Forgets the last use of `key_arn` (its key was destroyed); nothing if none is recorded.
    async fn delete_key_usage(&self, key_arn: &str) -> Result<(), StoreError>;

    // ---- settings (small key/value for server metadata) ----

    async fn get_setting(&self, name: &str) -> Result<Option<String>, StoreError>;

    /// Inserts or overwrites a setting.
    async fn set_setting(&self, name: &str, value: &str) -> Result<(), StoreError>;

    // ---- the change feed (written by triggers in the transaction of every change) ----

    /// The feed's rows with `seq > after`, in `seq` order, at most `limit`. On PostgreSQL a
    /// row with a lower `seq` than one already returned may still commit later (see
    /// [`ChangeRow`]).
    async fn changes_after(&self, after: i64, limit: u32) -> Result<Vec<ChangeRow>, StoreError>;

    /// The highest `seq` written so far, 0 for an empty feed.
    async fn last_change(&self) -> Result<i64, StoreError>;

    /// Deletes the rows written before `before` (Unix seconds); says how many.
    async fn prune_changes(&self, before: i64) -> Result<u64, StoreError>;

    /// Waits at most `timeout` for a sign that the feed has grown: PostgreSQL's notification on
    /// channel `ferrokms_changes`, sent when a changing transaction commits; SQLite has no such
    /// sign and waits out `timeout`. Never fails: a lost notification connection only means the
    /// reader sees the change at its next poll instead of at once.
    async fn wait_for_changes(&self, timeout: std::time::Duration);

    // ---- health ----

    /// A cheap round trip to the backend.
    async fn ping(&self) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn opening_is_a_send_future() {
        // A server spawns these; sqlx's migrator has made such futures !Send before.
        assert_send(&open_store("unused"));
        assert_send(&PgStore::open("postgres://unused"));
        assert_send(&SqliteStore::open(Path::new("unused")));
    }

    #[tokio::test]
    async fn open_store_opens_a_sqlite_file_for_anything_but_a_postgres_url() {
        let dir = tempfile::TempDir::new().expect("tempdir");
        let path = dir.path().join("ferrokms.db");
        let spec = path.to_str().expect("utf-8 path");
        let store = open_store(spec).await.expect("open");
        store.set_setting("backend", "sqlite").await.expect("set");
        assert!(path.exists());
        drop(store);
        let again = SqliteStore::open(&path).await.expect("reopen");
        assert_eq!(
            again.get_setting("backend").await.expect("get").as_deref(),
            Some("sqlite")
        );
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let sqlite = sqlx::migrate!("./migrations/sqlite");
        let postgres = sqlx::migrate!("./migrations/postgres");
        let list = |migrator: &sqlx::migrate::Migrator| -> Vec<(i64, String)> {
            migrator
                .iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect()
        };
        assert_eq!(list(&sqlite), list(&postgres));
    }
}
