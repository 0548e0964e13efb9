//! Queries on `leases`: take, renew or release a named lease in one statement each.

use sqlx::sqlite::SqlitePool;

use crate::StoreError;

/// One upsert whose update arm runs only for the same holder or an expired lease; the returned
/// row says whether it was granted. SQLite runs one writer at a time, so it is atomic.
pub(super) async fn try_acquire(
    pool: &SqlitePool,
    name: &str,
    holder: &str,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<bool, StoreError> {
    let granted = sqlx::query(
        "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
         expires_at = excluded.expires_at \
         WHERE leases.holder = excluded.holder OR leases.expires_at <= ?4 \
         RETURNING holder",
    )
    .bind(name)
    .bind(holder)
    .bind(now_ms.saturating_add(ttl_ms))
    .bind(now_ms)
    .fetch_optional(pool)
    .await?;
    Ok(granted.is_some())
}

pub(super) async fn release(pool: &SqlitePool, name: &str, holder: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM leases WHERE name = ? AND holder = ?")
        .bind(name)
        .bind(holder)
        .execute(pool)
        .await?;
    Ok(())
}
