//! [`SqliteStore`]: the embedded default [`Store`], one SQLite file shared by the server and the
//! admin CLI.
//!
//! Every connection runs in WAL mode with `synchronous=FULL` (an acknowledged write survives
//! kill -9 and power loss), foreign keys on, `secure_delete=ON` (freed pages are zeroed, so
//! destroyed key material does not linger) and a busy timeout, so a second process writing the
//! same file waits instead of failing. Multi-statement writes start with `BEGIN IMMEDIATE`,
//! taking the write lock up front, which keeps the busy timeout effective for them too.
//! Migrations under `migrations/sqlite/` are embedded and run at open.
//!
//! The queries live in one file per table group; this file owns opening and the trait impl.

mod aliases;
mod grants;
mod identity;
mod keys;
mod leases;
mod principals;
mod rotation;
mod settings;
mod tags;
mod usage;
mod versions;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::{
    AccessKeyRow, AliasRow, GrantRow, KeyRotationRow, KeyRow, KeyUsageRow, KeyVersionRow,
    PrincipalRow, Store, StoreError, Tag,
};

/// How long a statement waits for another connection's (or process's) write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections per file-backed pool: one writer at a time, several WAL readers.
const MAX_FILE_CONNECTIONS: u32 = 8;
/// The statement that opens every multi-statement write transaction.
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// The SQLite implementation of [`Store`].
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// False for in-memory stores, which have no WAL to checkpoint.
    file_backed: bool,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database file at `path` and migrates it. The parent
    /// directory must exist.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("secure_delete", "ON");
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_FILE_CONNECTIONS)
            // An embedded file does not drop connections; a ping per checkout is pure cost.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Self::migrated(pool, true).await
    }

    /// A private, empty in-memory store (for tests). It lives as long as this value and its
    /// clones; its single connection is never recycled, since closing it would drop the data.
    pub async fn open_in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("secure_delete", "ON");
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        Self::migrated(pool, false).await
    }

    /// Closes every connection; later calls fail with `Backend`.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn migrated(pool: SqlitePool, file_backed: bool) -> Result<Self, StoreError> {
        let migrator = sqlx::migrate!("./migrations/sqlite");
        // Two processes opening a fresh file at once may both try the first migration; the
        // loser fails, and on the retry sees it applied.
        if migrator.run(&pool).await.is_err() {
            migrator.run(&pool).await?;
        }
        Ok(Self { pool, file_backed })
    }

    /// Folds the WAL into the database file and truncates it, so that pages freed (and zeroed
    /// by `secure_delete`) replace their old images everywhere on disk. Best effort: if readers
    /// hold old snapshots the next checkpoint finishes the job.
    async fn checkpoint_truncate(&self) {
        if self.file_backed {
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await;
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_key(
        &self,
        key: &KeyRow,
        version: &KeyVersionRow,
        tags: &[Tag],
    ) -> Result<(), StoreError> {
        keys::insert(&self.pool, key, version, tags).await
    }

    async fn get_key(
        &self,
        account_id: &str,
        region: &str,
        key_id: &str,
    ) -> Result<Option<KeyRow>, StoreError> {
        keys::get(&self.pool, account_id, region, key_id).await
    }

    async fn list_keys(
        &self,
        account_id: &str,
        region: &str,
        after_key_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<KeyRow>, StoreError> {
        keys::list(&self.pool, account_id, region, after_key_id, limit).await
    }

    async fn update_key(&self, key: &KeyRow) -> Result<KeyRow, StoreError> {
        keys::update(&self.pool, key).await
    }

    async fn get_key_version(
        &self,
        key_id: &str,
        version: i64,
    ) -> Result<Option<KeyVersionRow>, StoreError> {
        versions::get(&self.pool, key_id, version).await
    }

    async fn list_key_versions(&self, key_id: &str) -> Result<Vec<KeyVersionRow>, StoreError> {
        versions::list(&self.pool, key_id).await
    }

    async fn insert_key_version(&self, version: &KeyVersionRow) -> Result<(), StoreError> {
        versions::insert(&self.pool, version).await
    }

    async fn update_key_with_version(
        &self,
        key: &KeyRow,
        version: &KeyVersionRow,
    ) -> Result<KeyRow, StoreError> {
        versions::update_key_with_version(&self.pool, key, version).await
    }

    async fn expired_key_materials(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<(KeyRow, KeyVersionRow)>, StoreError> {
        versions::expired(&self.pool, now_ms, limit).await
    }

    async fn keys_due_for_deletion(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<KeyRow>, StoreError> {
        keys::due_for_deletion(&self.pool, now_ms, limit).await
    }

    async fn get_key_rotation(&self, key_id: &str) -> Result<Option<KeyRotationRow>, StoreError> {
        rotation::get(&self.pool, key_id).await
    }

    async fn update_key_with_rotation(
        &self,
        key: &KeyRow,
        rotation: &KeyRotationRow,
    ) -> Result<KeyRow, StoreError> {
        rotation::update_key_with_rotation(&self.pool, key, rotation).await
    }

    async fn rotate_key(
        &self,
        key: &KeyRow,
        version: &KeyVersionRow,
        rotation: Option<&KeyRotationRow>,
    ) -> Result<KeyRow, StoreError> {
        rotation::rotate(&self.pool, key, version, rotation).await
    }

    async fn keys_due_for_rotation(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<KeyRow>, StoreError> {
        keys::due_for_rotation(&self.pool, now_ms, limit).await
    }

    async fn count_keys_by_state(&self) -> Result<Vec<(String, i64)>, StoreError> {
        keys::count_by_state(&self.pool).await
    }

    async fn destroy_key(&self, key_id: &str) -> Result<(), StoreError> {
        keys::destroy(&self.pool, key_id, None).await?;
        self.checkpoint_truncate().await;
        Ok(())
    }

    async fn destroy_key_if_version(
        &self,
        key_id: &str,
        row_version: i64,
    ) -> Result<(), StoreError> {
        keys::destroy(&self.pool, key_id, Some(row_version)).await?;
        self.checkpoint_truncate().await;
        Ok(())
    }

    async fn keys_in_state(&self, state: &str, limit: u32) -> Result<Vec<KeyRow>, StoreError> {
        keys::in_state(&self.pool, state, limit).await
    }

    async fn keys_with_policy_containing(
        &self,
        needle: &str,
        after_key_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<KeyRow>, StoreError> {
        keys::with_policy_containing(&self.pool, needle, after_key_id, limit).await
    }

    async fn multi_region_keys(
        &self,
        account_id: &str,
        multi_region_id: &str,
    ) -> Result<Vec<KeyRow>, StoreError> {
        keys::multi_region_keys(&self.pool, account_id, multi_region_id).await
    }

    async fn set_primary_region(
        &self,
        account_id: &str,
        multi_region_id: &str,
        expected_primary: &str,
        new_primary: &str,
    ) -> Result<(), StoreError> {
        keys::set_primary_region(
            &self.pool,
            account_id,
            multi_region_id,
            expected_primary,
            new_primary,
        )
        .await
    }

    async fn insert_alias(&self, alias: &AliasRow) -> Result<(), StoreError> {
        aliases::insert(&self.pool, alias).await
    }

    async fn get_alias(
        &self,
        account_id: &str,
        region: &str,
        alias_name: &str,
    ) -> Result<Option<AliasRow>, StoreError> {
        aliases::get(&self.pool, account_id, region, alias_name).await
    }

    async fn update_alias(
        &self,
        account_id: &str,
        region: &str,
        alias_name: &str,
        expected_target: &str,
        target_key_id: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        aliases::update(
            &self.pool,
            account_id,
            region,
            alias_name,
            expected_target,
            target_key_id,
            now_ms,
        )
        .await
    }

    async fn delete_alias(
        &self,
        account_id: &str,
        region: &str,
        alias_name: &str,
        expected_target: &str,
    ) -> Result<(), StoreError> {
        aliases::delete(&self.pool, account_id, region, alias_name, expected_target).await
    }

    async fn list_aliases(
        &self,
        account_id: &str,
        region: &str,
        key_id: Option<&str>,
        after_alias_name: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AliasRow>, StoreError> {
        let page = aliases::Page {
            key_id,
            after_alias_name,
            limit,
        };
        aliases::list(&self.pool, account_id, region, page).await
    }

    async fn aliases_for_key(&self, key_id: &str) -> Result<Vec<String>, StoreError> {
        aliases::for_key(&self.pool, key_id).await
    }

    async fn put_tags(
        &self,
        key_id: &str,
        tags: &[Tag],
        max_tags: usize,
    ) -> Result<(), StoreError> {
        tags::put(&self.pool, key_id, tags, max_tags).await
    }

    async fn remove_tags(&self, key_id: &str, tag_keys: &[String]) -> Result<(), StoreError> {
        tags::remove(&self.pool, key_id, tag_keys).await
    }

    async fn list_tags(
        &self,
        key_id: &str,
        after_tag_key: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Tag>, StoreError> {
        tags::list(&self.pool, key_id, after_tag_key, limit).await
    }

    async fn insert_grant(&self, grant: &GrantRow) -> Result<(), StoreError> {
        grants::insert(&self.pool, grant).await
    }

    async fn get_grant(
        &self,
        key_id: &str,
        grant_id: &str,
    ) -> Result<Option<GrantRow>, StoreError> {
        grants::get(&self.pool, key_id, grant_id).await
    }

    async fn get_grant_by_token(&self, grant_token: &str) -> Result<Option<GrantRow>, StoreError> {
        grants::get_by_token(&self.pool, grant_token).await
    }

    async fn find_grant_by_name(
        &self,
        key_id: &str,
        name: &str,
    ) -> Result<Vec<GrantRow>, StoreError> {
        grants::find_by_name(&self.pool, key_id, name).await
    }

    async fn list_grants(
        &self,
        key_id: &str,
        grant_id: Option<&str>,
        grantee_principal: Option<&str>,
        after_grant_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<GrantRow>, StoreError> {
        let page = grants::Page {
            grant_id,
            grantee_principal,
            after_grant_id,
            limit,
        };
        grants::list(&self.pool, key_id, page).await
    }

    async fn list_retirable_grants(
        &self,
        retiring_principal: &str,
        after_grant_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<GrantRow>, StoreError> {
        grants::list_retirable(&self.pool, retiring_principal, after_grant_id, limit).await
    }

    async fn grants_for_grantee(
        &self,
        key_id: &str,
        grantee_principal: &str,
    ) -> Result<Vec<GrantRow>, StoreError> {
        grants::for_grantee(&self.pool, key_id, grantee_principal).await
    }

    async fn delete_grant(&self, key_id: &str, grant_id: &str) -> Result<(), StoreError> {
        grants::delete(&self.pool, key_id, grant_id).await
    }

    async fn rebind_grant_principals(&self, arn: &str, unique_id: &str) -> Result<u64, StoreError> {
        grants::rebind_principals(&self.pool, arn, unique_id).await
    }

    async fn insert_principal(
        &self,
        principal: &PrincipalRow,
        access_key: Option<&AccessKeyRow>,
    ) -> Result<(), StoreError> {
        principals::insert(&self.pool, principal, access_key).await
    }

    async fn update_assume_role_policy(&self, arn: &str, document: &str) -> Result<(), StoreError> {
        principals::update_assume_role_policy(&self.pool, arn, document).await
    }

    async fn get_principal(&self, arn: &str) -> Result<Option<PrincipalRow>, StoreError> {
        principals::get(&self.pool, arn).await
    }

    async fn roles_with_trust_policy_containing(
        &self,
        needle: &str,
    ) -> Result<Vec<PrincipalRow>, StoreError> {
        principals::roles_with_trust_policy_containing(&self.pool, needle).await
    }

    async fn list_principals(&self, account_id: &str) -> Result<Vec<PrincipalRow>, StoreError> {
        principals::list(&self.pool, account_id).await
    }

    async fn delete_principal(&self, arn: &str) -> Result<(), StoreError> {
        identity::delete_principal(&self.pool, arn).await
    }

    async fn insert_access_key(&self, access_key: &AccessKeyRow) -> Result<(), StoreError> {
        identity::insert_access_key(&self.pool, access_key).await
    }

    async fn delete_access_key(&self, access_key_id: &str) -> Result<(), StoreError> {
        identity::delete_access_key(&self.pool, access_key_id).await
    }

    async fn list_access_keys(&self, principal_arn: &str) -> Result<Vec<AccessKeyRow>, StoreError> {
        identity::list_access_keys(&self.pool, principal_arn).await
    }

    async fn put_principal_policy(
        &self,
        principal_arn: &str,
        policy_name: &str,
        document: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        identity::put_policy(&self.pool, principal_arn, policy_name, document, now_ms).await
    }

    async fn delete_principal_policy(
        &self,
        principal_arn: &str,
        policy_name: &str,
    ) -> Result<(), StoreError> {
        identity::delete_policy(&self.pool, principal_arn, policy_name).await
    }

    async fn list_principal_policies(
        &self,
        principal_arn: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        identity::list_policies(&self.pool, principal_arn).await
    }

    async fn identity_version(&self) -> Result<i64, StoreError> {
        identity::version(&self.pool).await
    }

    async fn get_access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyRow>, StoreError> {
        principals::get_access_key(&self.pool, access_key_id).await
    }

    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool, StoreError> {
        leases::try_acquire(&self.pool, name, holder, now_ms, ttl_ms).await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        leases::release(&self.pool, name, holder).await
    }

    async fn record_key_usage(&self, uses: &[KeyUsageRow]) -> Result<(), StoreError> {
        usage::record(&self.pool, uses).await
    }

    async fn get_key_usage(&self, key_arn: &str) -> Result<Option<KeyUsageRow>, StoreError> {
        usage::get(&self.pool, key_arn).await
    }

    async fn delete_key_usage(&self, key_arn: &str) -> Result<(), StoreError> {
        usage::delete(&self.pool, key_arn).await
    }

    async fn get_setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        settings::get(&self.pool, name).await
    }

    async fn set_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        settings::set(&self.pool, name, value).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
