//! Queries on `settings`: a small name/value table for server metadata.

use sqlx::postgres::PgPool;
use sqlx::Row;

use crate::StoreError;

pub(super) async fn get(pool: &PgPool, name: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|row| row.try_get("value")).transpose()?)
}

pub(super) async fn set(pool: &PgPool, name: &str, value: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO settings (name, value) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )
    .bind(name)
    .bind(value)
    .execute(pool)
    .await?;
    Ok(())
}
