//! Identity changes after a principal's creation: more access keys, removal, attached policies.
//! Every change bumps the `identity` counter in the same transaction, so readers that cache
//! identities can tell cheaply that something changed. The counter row is always the last row
//! such a transaction locks, so identity writers from every node queue on it without deadlock.

use sqlx::postgres::{PgArguments, PgPool};
use sqlx::{Postgres, Row, Transaction};

use crate::{AccessKeyRow, StoreError};

pub(super) async fn bump(tx: &mut Transaction<'_, Postgres>) -> Result<(), StoreError> {
    sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'identity'")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(super) async fn version(pool: &PgPool) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT value FROM counters WHERE name = 'identity'")
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| r.try_get("value")).transpose()?.unwrap_or(0))
}

/// Runs one statement in a write transaction with the counter bumped; `NotFound` when it
/// touched no row.
async fn write_one<'q>(
    pool: &PgPool,
    query: sqlx::query::Query<'q, Postgres, PgArguments>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let done = query.execute(&mut *tx).await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    bump(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn delete_principal(pool: &PgPool, arn: &str) -> Result<(), StoreError> {
    write_one(
        pool,
        sqlx::query("DELETE FROM principals WHERE arn = $1").bind(arn),
    )
    .await
}

pub(super) async fn insert_access_key(pool: &PgPool, key: &AccessKeyRow) -> Result<(), StoreError> {
    let query = sqlx::query(
        "INSERT INTO access_keys (access_key_id, principal_arn, account_id, wrapped_secret, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&key.access_key_id)
    .bind(&key.principal_arn)
    .bind(&key.account_id)
    .bind(&key.wrapped_secret)
    .bind(key.created_at);
    write_one(pool, query).await
}

pub(super) async fn delete_access_key(
    pool: &PgPool,
    access_key_id: &str,
) -> Result<(), StoreError> {
    write_one(
        pool,
        sqlx::query("DELETE FROM access_keys WHERE access_key_id = $1").bind(access_key_id),
    )
    .await
}

pub(super) async fn list_access_keys(
    pool: &PgPool,
    principal_arn: &str,
) -> Result<Vec<AccessKeyRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT access_key_id, principal_arn, account_id, wrapped_secret, created_at \
         FROM access_keys WHERE principal_arn = $1 ORDER BY access_key_id",
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
    pool: &PgPool,
    principal_arn: &str,
    name: &str,
    document: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let query = sqlx::query(
        "INSERT INTO principal_policies (principal_arn, policy_name, document, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (principal_arn, policy_name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
    )
    .bind(principal_arn)
    .bind(name)
    .bind(document)
    .bind(now_ms);
    write_one(pool, query).await
}

pub(super) async fn delete_policy(
    pool: &PgPool,
    principal_arn: &str,
    name: &str,
) -> Result<(), StoreError> {
    let query =
        sqlx::query("DELETE FROM principal_policies WHERE principal_arn = $1 AND policy_name = $2")
            .bind(principal_arn)
            .bind(name);
    write_one(pool, query).await
}

pub(super) async fn list_policies(
    pool: &PgPool,
    principal_arn: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT policy_name, document FROM principal_policies WHERE principal_arn = $1 ORDER BY policy_name",
    )
    .bind(principal_arn)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("policy_name")?, row.try_get("document")?)))
        .collect()
}
