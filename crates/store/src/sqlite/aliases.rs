//! Queries on `aliases`: unique per (account_id, region, alias_name), each pointing at a key.

use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::Row;

use crate::{AliasRow, StoreError};

/// Filter and position of one page of [`list`].
pub(super) struct Page<'a> {
    pub(super) key_id: Option<&'a str>,
    pub(super) after_alias_name: Option<&'a str>,
    pub(super) limit: u32,
}

pub(super) async fn insert(pool: &SqlitePool, alias: &AliasRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO aliases \
         (account_id, region, alias_name, target_key_id, creation_date, last_updated_date) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&alias.account_id)
    .bind(&alias.region)
    .bind(&alias.alias_name)
    .bind(&alias.target_key_id)
    .bind(alias.creation_date)
    .bind(alias.last_updated_date)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn get(
    pool: &SqlitePool,
    account_id: &str,
    region: &str,
    alias_name: &str,
) -> Result<Option<AliasRow>, StoreError> {
    let row = sqlx::query(
        "SELECT account_id, region, alias_name, target_key_id, creation_date, \
         last_updated_date FROM aliases \
         WHERE account_id = ? AND region = ? AND alias_name = ?",
    )
    .bind(account_id)
    .bind(region)
    .bind(alias_name)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(alias_from_row).transpose()
}

pub(super) async fn update(
    pool: &SqlitePool,
    account_id: &str,
    region: &str,
    alias_name: &str,
    expected_target: &str,
    target_key_id: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let updated = sqlx::query(
        "UPDATE aliases SET target_key_id = ?, last_updated_date = ? \
         WHERE account_id = ? AND region = ? AND alias_name = ? AND target_key_id = ?",
    )
    .bind(target_key_id)
    .bind(now_ms)
    .bind(account_id)
    .bind(region)
    .bind(alias_name)
    .bind(expected_target)
    .execute(pool)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(missed(pool, account_id, region, alias_name).await);
    }
    Ok(())
}

pub(super) async fn delete(
    pool: &SqlitePool,
    account_id: &str,
    region: &str,
    alias_name: &str,
    expected_target: &str,
) -> Result<(), StoreError> {
    let deleted = sqlx::query(
        "DELETE FROM aliases WHERE account_id = ? AND region = ? AND alias_name = ? \
         AND target_key_id = ?",
    )
    .bind(account_id)
    .bind(region)
    .bind(alias_name)
    .bind(expected_target)
    .execute(pool)
    .await?;
    if deleted.rows_affected() == 0 {
        return Err(missed(pool, account_id, region, alias_name).await);
    }
    Ok(())
}

/// Why a conditional alias write changed nothing: the alias is gone (`NotFound`) or points at
/// another key than the caller was authorised for (`Conflict`).
async fn missed(pool: &SqlitePool, account_id: &str, region: &str, alias_name: &str) -> StoreError {
    match get(pool, account_id, region, alias_name).await {
        Ok(Some(_)) => StoreError::Conflict,
        Ok(None) => StoreError::NotFound,
        Err(e) => e,
    }
}

pub(super) async fn list(
    pool: &SqlitePool,
    account_id: &str,
    region: &str,
    page: Page<'_>,
) -> Result<Vec<AliasRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT account_id, region, alias_name, target_key_id, creation_date, \
         last_updated_date FROM aliases \
         WHERE account_id = ?1 AND region = ?2 \
         AND (?3 IS NULL OR target_key_id = ?3) AND (?4 IS NULL OR alias_name > ?4) \
         ORDER BY alias_name LIMIT ?5",
    )
    .bind(account_id)
    .bind(region)
    .bind(page.key_id)
    .bind(page.after_alias_name)
    .bind(i64::from(page.limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(alias_from_row).collect()
}

pub(super) async fn for_key(pool: &SqlitePool, key_id: &str) -> Result<Vec<String>, StoreError> {
    let rows =
        sqlx::query("SELECT alias_name FROM aliases WHERE target_key_id = ? ORDER BY alias_name")
            .bind(key_id)
            .fetch_all(pool)
            .await?;
    rows.iter()
        .map(|row| Ok(row.try_get("alias_name")?))
        .collect()
}

fn alias_from_row(row: &SqliteRow) -> Result<AliasRow, StoreError> {
    Ok(AliasRow {
        account_id: row.try_get("account_id")?,
        region: row.try_get("region")?,
        alias_name: row.try_get("alias_name")?,
        target_key_id: row.try_get("target_key_id")?,
        creation_date: row.try_get("creation_date")?,
        last_updated_date: row.try_get("last_updated_date")?,
    })
}
