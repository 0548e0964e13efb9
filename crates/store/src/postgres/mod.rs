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
//! - The change feed's rows are written by triggers inside the changing transaction, which also
//!   `NOTIFY ferrokms_changes`; PostgreSQL delivers the notification when (and only if) the
//!   transaction commits. Rows may commit out of `seq` order (see migration 0011).
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
//! The queries are the shared body of [`crate::sql`]; this file owns opening and the few
//! things PostgreSQL does its own way (the dialect at the end).

mod options;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use std::sync::Arc;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};

pub use options::PgOptions;

use crate::{StoreError, Tag};

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
    /// The connection listening for the change feed's notifications, opened by the first
    /// `wait_for_changes` and again after it is lost.
    listener: Arc<FeedListener>,
}

/// See [`PgStore::wait_for_changes`]. The listening connection comes from a one-connection pool
/// of its own, never from the node's pool: it is held for as long as it lives, and a node
/// configured with `max_connections=1` would otherwise have none left for its requests.
struct FeedListener {
    pool: PgPool,
    listener: tokio::sync::Mutex<Option<PgListener>>,
}

impl std::fmt::Debug for FeedListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FeedListener")
    }
}

/// The channel the change feed's triggers notify (migration 0011).
const FEED_CHANNEL: &str = "ferrokms_changes";

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
        // Opened at the first wait, and again whenever the connection is lost.
        let listener = FeedListener {
            pool: PgPoolOptions::new()
                .max_connections(1)
                .min_connections(0)
                .acquire_timeout(options.acquire_timeout)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_lazy_with(connect.clone()),
            listener: tokio::sync::Mutex::new(None),
        };
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .min_connections(0)
            .acquire_timeout(options.acquire_timeout)
            .idle_timeout(IDLE_TIMEOUT)
            .max_lifetime(MAX_LIFETIME)
            .test_before_acquire(true)
            .connect_with(connect.options(session))
            .await?;
        Ok(Self {
            pool,
            listener: Arc::new(listener),
        })
    }

    /// Closes every connection; later calls fail with `Backend`.
    pub async fn close(&self) {
        self.pool.close().await;
        // The listener holds its pool's connection: dropped first, or the close would wait for
        // it (a wait in progress ends within its timeout).
        drop(self.listener.listener.lock().await.take());
        self.listener.pool.close().await;
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

impl PgStore {
    /// What follows a committed destruction of a key: nothing, PostgreSQL has no file of its
    /// own to clean (see the module docs on what stays in the data files and the WAL).
    async fn after_destroy(&self) {}

    /// Waits for a notification on [`FEED_CHANNEL`] (or `timeout`). The listening connection
    /// stays open between calls, so a commit between two waits still ends the next one at once.
    /// If it cannot be opened or is lost, the rest of `timeout` is slept: the feed's table is
    /// the record, and the reader's next poll finds whatever the notification would have
    /// announced.
    async fn wait_for_changes(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut slot = self.listener.listener.lock().await;
        if slot.is_none() {
            let opened = tokio::time::timeout_at(deadline, async {
                let mut listener = PgListener::connect_with(&self.listener.pool).await.ok()?;
                listener.listen(FEED_CHANNEL).await.ok()?;
                Some(listener)
            });
            *slot = opened.await.ok().flatten();
        }
        let Some(listener) = slot.as_mut() else {
            tokio::time::sleep_until(deadline).await;
            return;
        };
        match tokio::time::timeout_at(deadline, listener.try_recv()).await {
            // Notified; or the wait is over.
            Ok(Ok(Some(_))) | Err(_) => {}
            // The connection was lost (None) or failed: open a new one next time.
            Ok(Ok(None)) | Ok(Err(_)) => {
                *slot = None;
                tokio::time::sleep_until(deadline).await;
            }
        }
    }
}

// ---- The dialect: what the shared body (`crate::sql`) needs to know about PostgreSQL ----

type Backend = PgStore;
type Db = sqlx::Postgres;
type DbRow = sqlx::postgres::PgRow;
type DbConn = sqlx::PgConnection;

/// Transactions start as READ COMMITTED; each locks the rows it depends on itself.
const BEGIN_WRITE: &str = "BEGIN";

/// Locks the rows read, so that the transaction's later statements see them as they are until
/// it ends, and concurrent writers of the same key queue behind it.
macro_rules! for_update {
    () => {
        " FOR UPDATE"
    };
}

/// Like [`for_update`], but lets foreign-key checks of rows being inserted for the key
/// (aliases, grants) through: they need only a KEY SHARE lock.
macro_rules! for_no_key_update {
    () => {
        " FOR NO KEY UPDATE"
    };
}

/// Whether the text column `$haystack` contains the text parameter `$needle`.
macro_rules! contains {
    ($haystack:literal, $needle:literal) => {
        concat!("strpos(", $haystack, ", ", $needle, ") > 0")
    };
}

/// `enabled`, the very predicate of the partial index `key_rotation_by_due_date` (a boolean).
macro_rules! rotation_enabled {
    ($table:literal) => {
        concat!($table, ".enabled")
    };
}

/// Sets `tags` (the last of duplicate keys wins) inside a caller's transaction, in one
/// statement over bound arrays (one round trip, however many tags). One statement may not
/// update a row twice, hence the deduplication; the keys go in sorted, so concurrent writers
/// lock tag rows in one order.
async fn upsert_tags(conn: &mut DbConn, key_id: &str, tags: &[Tag]) -> Result<(), StoreError> {
    if tags.is_empty() {
        return Ok(());
    }
    let last: BTreeMap<&str, &str> = tags
        .iter()
        .map(|tag| (tag.key.as_str(), tag.value.as_str()))
        .collect();
    let (keys, values): (Vec<&str>, Vec<&str>) = last.into_iter().unzip();
    sqlx::query(
        "INSERT INTO key_tags (key_id, tag_key, tag_value) \
         SELECT $1, t.tag_key, t.tag_value FROM UNNEST($2::text[], $3::text[]) \
         AS t (tag_key, tag_value) \
         ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
    )
    .bind(key_id)
    .bind(&keys)
    .bind(&values)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the named tags in one statement over a bound array.
async fn delete_tags(pool: &PgPool, key_id: &str, tag_keys: &[String]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM key_tags WHERE key_id = $1 AND tag_key = ANY($2::text[])")
        .bind(key_id)
        .bind(tag_keys)
        .execute(pool)
        .await?;
    Ok(())
}

stamp_store!();

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
