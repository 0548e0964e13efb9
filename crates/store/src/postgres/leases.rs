//! Queries on `leases`: take, renew or release a named lease in one statement each.

use sqlx::postgres::PgPool;

use crate::StoreError;

/// One upsert whose update arm runs only for the same holder or an expired lease; the returned
/// row says whether it was granted. PostgreSQL guarantees `INSERT ... ON CONFLICT DO UPDATE`
/// inserts or locks the existing row and evaluates the `WHERE` on its latest version, so of
/// callers racing for a free or expired lease exactly one matches.
pub(super) async fn try_acquire(
    pool: &PgPool,
    name: &str,
    holder: &str,
    now_ms: i64,
    ttl_ms: i64,
) -> Result<bool, StoreError> {
    let granted = sqlx::query(
        "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
         expires_at = excluded.expires_at \
         WHERE leases.holder = excluded.holder OR leases.expires_at <= $4 \
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

pub(super) async fn release(pool: &PgPool, name: &str, holder: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
        .bind(name)
        .bind(holder)
        .execute(pool)
        .await?;
    Ok(())
}
