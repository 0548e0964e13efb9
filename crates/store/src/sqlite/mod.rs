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
//! The queries are the shared body of [`crate::sql`]; this file owns opening and the few
//! things SQLite does its own way (the dialect at the end).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::{StoreError, Tag};

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

    /// What follows a committed destruction of a key: see [`Self::checkpoint_truncate`].
    async fn after_destroy(&self) {
        self.checkpoint_truncate().await;
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

impl SqliteStore {
    /// SQLite cannot signal another process that it committed: the feed's reader polls, and
    /// this is its wait between polls.
    async fn wait_for_changes(&self, timeout: std::time::Duration) {
        tokio::time::sleep(timeout).await
    }
}

// ---- The dialect: what the shared body (`crate::sql`) needs to know about SQLite ----

type Backend = SqliteStore;
type Db = sqlx::Sqlite;
type DbRow = sqlx::sqlite::SqliteRow;
type DbConn = sqlx::SqliteConnection;

/// Row locks: none, since `BEGIN IMMEDIATE` already holds the database's write lock.
macro_rules! for_update {
    () => {
        ""
    };
}

/// See [`for_update`].
macro_rules! for_no_key_update {
    () => {
        ""
    };
}

/// Whether the text column `$haystack` contains the text parameter `$needle`.
macro_rules! contains {
    ($haystack:literal, $needle:literal) => {
        concat!("instr(", $haystack, ", ", $needle, ") > 0")
    };
}

/// `enabled = 1`, the very predicate of the partial index `key_rotation_by_due_date`: SQLite
/// uses a partial index only for a query whose WHERE clause implies the index's.
macro_rules! rotation_enabled {
    ($table:literal) => {
        concat!($table, ".enabled = 1")
    };
}

/// Sets `tags` (the last of duplicate keys wins) inside a caller's transaction, one statement
/// per tag: SQLite binds no arrays, and a statement costs no round trip here.
async fn upsert_tags(conn: &mut DbConn, key_id: &str, tags: &[Tag]) -> Result<(), StoreError> {
    for tag in tags {
        sqlx::query(
            "INSERT INTO key_tags (key_id, tag_key, tag_value) VALUES ($1, $2, $3) \
             ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
        )
        .bind(key_id)
        .bind(&tag.key)
        .bind(&tag.value)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Removes the named tags, one statement per tag in one transaction.
async fn delete_tags(
    pool: &SqlitePool,
    key_id: &str,
    tag_keys: &[String],
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    for tag_key in tag_keys {
        sqlx::query("DELETE FROM key_tags WHERE key_id = $1 AND tag_key = $2")
            .bind(key_id)
            .bind(tag_key)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

stamp_store!();

#[cfg(test)]
mod tests;
