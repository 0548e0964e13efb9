//! [`PgStore`]: the [`Store`] on PostgreSQL, for cluster mode: several stateless ferrokms nodes,
//! each with its own pool, on one database.
//!
//! Correctness across nodes rests on the database alone, never on a process-local lock:
//! - Transactions run at READ COMMITTED. Each single-statement write is atomic by itself; every
//!   multi-statement write is one transaction that first locks the row it depends on, so that
//!   the statements after it see the latest committed state. Lock order is always the `keys`
//!   row before its children, so writers of one key queue instead of deadlocking.
//! - Uniqueness (aliases, key ids, grant tokens, access keys) is the primary key's or unique
//!   index's: of two racing inserts one commits and the other gets SQLSTATE 23505, mapped to
//!   `AlreadyExists`; a missing parent is 23503, mapped to `NotFound` (see [`StoreError`]).
//! - `update_key` is one `UPDATE ... WHERE row_version = $n`: a second writer waits for the
//!   first, re-checks the condition on the row it committed, matches nothing and gets
//!   `Conflict`. `put_tags` locks the key row (`FOR NO KEY UPDATE`) before counting, so the
//!   tag limit holds under concurrent calls; `destroy_key` locks it `FOR UPDATE`.
//! - Identity changes bump one counter row in their own transaction; leases are one
//!   `INSERT ... ON CONFLICT DO UPDATE ... WHERE` each, which PostgreSQL makes atomic.
//!
//! Migrations under `migrations/postgres/` (the SQLite schema in PostgreSQL types; identifier
//! text is `COLLATE "C"`, so order and pagination compare bytes as on SQLite, whatever the
//! database's locale) are embedded and run at open on a dedicated connection, under the
//! session-level advisory lock that sqlx's migrator takes: nodes starting together on a fresh
//! database queue, the first applies, the others find the work done. Closing that connection
//! releases the lock even if a migration fails. (`open` is a `Send` future, so a server may
//! spawn it.)
//!
//! Destroyed key material: `destroy_key` deletes the rows in one transaction, after which they
//! are unreachable through SQL on every node. PostgreSQL's MVCC keeps the deleted tuples in the
//! data files until VACUUM prunes them (the `key_versions` and `access_keys` tables, and their
//! TOAST tables, are set for autovacuum to visit them after any deletion, i.e. within its
//! naptime, one minute by default, unless an old snapshot still needs the rows); pruning frees
//! the space without zeroing it, and the WAL, base backups, WAL archives and replicas keep
//! their copies. The material is wrapped under the root key, which is what keeps a stale copy
//! useless; see [`Store::destroy_key`].
//!
//! Connections: see [`PgOptions`] for the pool's size and timeouts; idle connections close after
//! 10 minutes and every connection is replaced after 30, a connection is checked before each use
//! (a failed-over or restarted server leaves dead ones), and a session idle inside a transaction
//! for a minute is ended by the server, so a hung node cannot hold row locks. TLS is not compiled
//! in: reach the database over a trusted network or a local TLS tunnel.
//!
//! The queries live in one file per table group; this file owns opening and the trait impl.

mod aliases;
mod grants;
mod identity;
mod keys;
mod leases;
mod options;
mod principals;
mod rotation;
mod settings;
mod tags;
mod usage;
mod versions;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

pub use options::PgOptions;

use crate::{
    AccessKeyRow, AliasRow, GrantRow, KeyRotationRow, KeyRow, KeyUsageRow, KeyVersionRow,
    PrincipalRow, Store, StoreError, Tag,
};

/// An idle pooled connection is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Every pooled connection is replaced after this long.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// The server ends a session idle inside a transaction for this long, releasing its locks.
const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether `spec` is a PostgreSQL URL (`postgres://` or `postgresql://`, any case).
pub(crate) fn is_postgres_url(spec: &str) -> bool {
    ["postgres://", "postgresql://"].iter().any(|scheme| {
        spec.get(..scheme.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(scheme))
    })
}

/// The PostgreSQL implementation of [`Store`].
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` with [`PgOptions`] taken from its query parameters (defaults
    /// otherwise) and migrates the database. The database must exist.
    ///
    /// Errors: `Backend` if the URL is malformed, the server cannot be reached within the
    /// acquire timeout, or a migration fails.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let (url, options) = PgOptions::from_url(url)?;
        Self::open_with(&url, &options).await
    }

    /// Connects to `url` with `options` and migrates the database.
    pub async fn open_with(url: &str, options: &PgOptions) -> Result<Self, StoreError> {
        let mut connect = PgConnectOptions::from_str(url)?;
        if connect.get_application_name().is_none() {
            connect = connect.application_name("ferrokms");
        }
        migrate(&connect, options.acquire_timeout).await?;

        let mut session = vec![(
            "idle_in_transaction_session_timeout",
            IDLE_IN_TRANSACTION_TIMEOUT.as_millis(),
        )];
        if !options.statement_timeout.is_zero() {
            session.push(("statement_timeout", options.statement_timeout.as_millis()));
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .min_connections(0)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(IDLE_TIMEOUT)
            .max_lifetime(MAX_LIFETIME)
            .test_before_acquire(true)
            .connect_with(connect.options(session))
            .await?;
        Ok(Self { pool })
    }

    /// Closes every connection; later calls fail with `Backend`.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Applies the embedded migrations through a one-connection pool of its own, without a
/// statement timeout (a node waiting for another's migration waits on the advisory lock).
/// Closing the pool, on success or failure, ends the session and with it the lock.
async fn migrate(connect: &PgConnectOptions, acquire_timeout: Duration) -> Result<(), StoreError> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(acquire_timeout)
        .connect_with(connect.clone())
        .await?;
    let migrated = sqlx::migrate!("./migrations/postgres").run(&pool).await;
    pool.close().await;
    Ok(migrated?)
}

#[async_trait]
impl Store for PgStore {
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
        keys::destroy(&self.pool, key_id, None).await
    }

    async fn destroy_key_if_version(
        &self,
        key_id: &str,
        row_version: i64,
    ) -> Result<(), StoreError> {
        keys::destroy(&self.pool, key_id, Some(row_version)).await
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

    async fn get_access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyRow>, StoreError> {
        principals::get_access_key(&self.pool, access_key_id).await
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
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_are_recognised_by_scheme_in_any_case() {
        for url in [
            "postgres://h/db",
            "postgresql://u@h:5/db",
            "POSTGRES://h/db",
            "PostgreSQL://h/db",
        ] {
            assert!(is_postgres_url(url), "{url}");
        }
        for path in [
            "ferrokms.db",
            "/var/lib/ferrokms/ferrokms.db",
            "postgres",
            "postgres:/x",
            "./postgres://x",
            "",
        ] {
            assert!(!is_postgres_url(path), "{path}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_server_fails_within_the_acquire_timeout() {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let options = PgOptions {
            acquire_timeout: Duration::from_millis(500),
            ..PgOptions::default()
        };
        let started = std::time::Instant::now();
        let result = PgStore::open_with("postgres://u:secret@127.0.0.1:1/db", &options).await;
        match result {
            Err(StoreError::Backend(message)) => assert!(!message.contains("secret")),
            other => panic!("expected Backend, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
