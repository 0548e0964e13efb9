//! Queries on `key_last_usage`: newest-wins upserts of key uses, and reads.

use sqlx::postgres::{PgPool, PgRow};
use sqlx::Row;

use crate::{KeyUsageRow, StoreError};

pub(super) async fn record(pool: &PgPool, uses: &[KeyUsageRow]) -> Result<(), StoreError> {
    if uses.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    for used in uses {
        sqlx::query(
            "INSERT INTO key_last_usage (key_arn, operation, used_at, request_id, event_id) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (key_arn) DO UPDATE SET operation = EXCLUDED.operation, \
             used_at = EXCLUDED.used_at, request_id = EXCLUDED.request_id, \
             event_id = EXCLUDED.event_id WHERE EXCLUDED.used_at > key_last_usage.used_at",
        )
        .bind(&used.key_arn)
        .bind(&used.operation)
        .bind(used.used_at)
        .bind(&used.request_id)
        .bind(&used.event_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn get(pool: &PgPool, key_arn: &str) -> Result<Option<KeyUsageRow>, StoreError> {
    let row = sqlx::query(
        "SELECT key_arn, operation, used_at, request_id, event_id FROM key_last_usage \
         WHERE key_arn = $1",
    )
    .bind(key_arn)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(usage_from_row).transpose()
}

pub(super) async fn delete(pool: &PgPool, key_arn: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM key_last_usage WHERE key_arn = $1")
        .bind(key_arn)
        .execute(pool)
        .await?;
    Ok(())
}

fn usage_from_row(row: &PgRow) -> Result<KeyUsageRow, StoreError> {
    Ok(KeyUsageRow {
        key_arn: row.try_get("key_arn")?,
        operation: row.try_get("operation")?,
        used_at: row.try_get("used_at")?,
        request_id: row.try_get("request_id")?,
        event_id: row.try_get("event_id")?,
    })
}
