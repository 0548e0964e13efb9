//! Identity changes after a principal's creation: more access keys, removal, attached policies.
//! Every change bumps the `identity` counter in the same transaction, so readers that cache
//! identities can tell cheaply that something changed.

use sqlx::sqlite::SqlitePool;
use sqlx::{Row, Sqlite, Transaction};

use super::BEGIN_WRITE;
use crate::{AccessKeyRow, StoreError};

pub(super) async fn bump(tx: &mut Transaction<'_, Sqlite>) -> Result<(), StoreError> {
    sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'identity'")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(super) async fn version(pool: &SqlitePool) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT value FROM counters WHERE name = 'identity'")
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| r.try_get("value")).transpose()?.unwrap_or(0))
}

/// Runs one statement in a write transaction with the counter bumped; `NotFound` when it
/// touched no row.
async fn write_one<'q>(
    pool: &SqlitePool,
    query: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let done = query.execute(&mut *tx).await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    bump(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn delete_principal(pool: &SqlitePool, arn: &str) -> Result<(), StoreError> {
    write_one(
        pool,
        sqlx::query("DELETE FROM principals WHERE arn = ?").bind(arn),
    )
    .await
}

pub(super) async fn insert_access_key(
    pool: &SqlitePool,
    key: &AccessKeyRow,
) -> Result<(), StoreError> {
    let query = sqlx::query(
        "INSERT INTO access_keys (access_key_id, principal_arn, account_id, wrapped_secret, created_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&key.access_key_id)
    .bind(&key.principal_arn)
    .bind(&key.account_id)
    .bind(&key.wrapped_secret)
    .bind(key.created_at);
    write_one(pool, query).await
}

pub(super) async fn delete_access_key(
    pool: &SqlitePool,
    access_key_id: &str,
) -> Result<(), StoreError> {
    write_one(
        pool,
        sqlx::query("DELETE FROM access_keys WHERE access_key_id = ?").bind(access_key_id),
    )
    .await
}

pub(super) async fn list_access_keys(
    pool: &SqlitePool,
    principal_arn: &str,
) -> Result<Vec<AccessKeyRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT access_key_id, principal_arn, account_id, wrapped_secret, created_at \
         FROM access_keys WHERE principal_arn = ? ORDER BY access_key_id",
    )
    .bind(principal_arn)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AccessKeyRow {
                access_key_id: row.try_get("access_key_id")?,
                principal_arn: row.try_get("principal_arn")?,
                account_id: row.try_get("account_id")?,
                wrapped_secret: row.try_get("wrapped_secret")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}

pub(super) async fn put_policy(
    pool: &SqlitePool,
    principal_arn: &str,
    name: &str,
    document: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let query = sqlx::query(
        "INSERT INTO principal_policies (principal_arn, policy_name, document, updated_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (principal_arn, policy_name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
    )
    .bind(principal_arn)
    .bind(name)
    .bind(document)
    .bind(now_ms);
    write_one(pool, query).await
}

pub(super) async fn delete_policy(
    pool: &SqlitePool,
    principal_arn: &str,
    name: &str,
) -> Result<(), StoreError> {
    let query =
        sqlx::query("DELETE FROM principal_policies WHERE principal_arn = ? AND policy_name = ?")
            .bind(principal_arn)
            .bind(name);
    write_one(pool, query).await
}

pub(super) async fn list_policies(
    pool: &SqlitePool,
    principal_arn: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT policy_name, document FROM principal_policies WHERE principal_arn = ? ORDER BY policy_name",
    )
    .bind(principal_arn)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("policy_name")?, row.try_get("document")?)))
        .collect()
}
