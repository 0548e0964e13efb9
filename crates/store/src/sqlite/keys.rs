//! Queries on `keys` and `key_versions`: insert with first version and tags, scoped reads,
//! compare-and-swap update, the deletion sweep and destruction of a key with everything it owns.

use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::Row;

use super::{tags, versions, BEGIN_WRITE};
use crate::{KeyRow, KeyVersionRow, StoreError, Tag, ENABLED_STATE, PENDING_DELETION_STATE};

/// The columns of `keys` in the order [`key_from_row`] reads them (a macro so that it can be
/// `concat!`ed into static SQL).
macro_rules! key_columns {
    () => {
        "key_id, account_id, region, arn, description, key_usage, key_spec, origin, state, \
         policy, creation_date, deletion_date, pending_window_days, current_version, \
         multi_region, multi_region_id, primary_region, row_version"
    };
}

pub(super) async fn insert(
    pool: &SqlitePool,
    key: &KeyRow,
    version: &KeyVersionRow,
    tags: &[Tag],
) -> Result<(), StoreError> {
    if version.key_id != key.key_id {
        return Err(StoreError::Backend(
            "insert_key: the version row belongs to another key".into(),
        ));
    }
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    sqlx::query(concat!(
        "INSERT INTO keys (",
        key_columns!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"
    ))
    .bind(&key.key_id)
    .bind(&key.account_id)
    .bind(&key.region)
    .bind(&key.arn)
    .bind(&key.description)
    .bind(&key.key_usage)
    .bind(&key.key_spec)
    .bind(&key.origin)
    .bind(&key.state)
    .bind(&key.policy)
    .bind(key.creation_date)
    .bind(key.deletion_date)
    .bind(key.pending_window_days)
    .bind(key.current_version)
    .bind(key.multi_region)
    .bind(&key.multi_region_id)
    .bind(&key.primary_region)
    .execute(&mut *tx)
    .await?;
    versions::insert_on(&mut tx, version).await?;
    for tag in tags {
        tags::upsert(&mut tx, &key.key_id, tag).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn get(
    pool: &SqlitePool,
    account_id: &str,
    region: &str,
    key_id: &str,
) -> Result<Option<KeyRow>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        key_columns!(),
        " FROM keys WHERE account_id = ? AND region = ? AND key_id = ?"
    ))
    .bind(account_id)
    .bind(region)
    .bind(key_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(key_from_row).transpose()
}

pub(super) async fn list(
    pool: &SqlitePool,
    account_id: &str,
    region: &str,
    after_key_id: Option<&str>,
    limit: u32,
) -> Result<Vec<KeyRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        key_columns!(),
        " FROM keys WHERE account_id = ?1 AND region = ?2 AND (?3 IS NULL OR key_id > ?3) \
         ORDER BY key_id LIMIT ?4"
    ))
    .bind(account_id)
    .bind(region)
    .bind(after_key_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(key_from_row).collect()
}

pub(super) async fn update(pool: &SqlitePool, key: &KeyRow) -> Result<KeyRow, StoreError> {
    let mut conn = pool.acquire().await?;
    update_on(&mut conn, key).await
}

/// [`update`] on one connection (or inside a transaction).
pub(super) async fn update_on(
    conn: &mut SqliteConnection,
    key: &KeyRow,
) -> Result<KeyRow, StoreError> {
    let updated = sqlx::query(concat!(
        "UPDATE keys SET description = ?, key_usage = ?, state = ?, policy = ?, \
         deletion_date = ?, pending_window_days = ?, current_version = ?, \
         row_version = row_version + 1 \
         WHERE key_id = ? AND account_id = ? AND region = ? AND row_version = ? \
         RETURNING ",
        key_columns!()
    ))
    .bind(&key.description)
    .bind(&key.key_usage)
    .bind(&key.state)
    .bind(&key.policy)
    .bind(key.deletion_date)
    .bind(key.pending_window_days)
    .bind(key.current_version)
    .bind(&key.key_id)
    .bind(&key.account_id)
    .bind(&key.region)
    .bind(key.row_version)
    .fetch_optional(&mut *conn)
    .await?;
    match updated {
        Some(row) => key_from_row(&row),
        None if exists_on(conn, key).await? => Err(StoreError::Conflict),
        None => Err(StoreError::NotFound),
    }
}

/// Whether the key of `key` exists in its account and Region.
async fn exists_on(conn: &mut SqliteConnection, key: &KeyRow) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT 1 FROM keys WHERE key_id = ? AND account_id = ? AND region = ?")
        .bind(&key.key_id)
        .bind(&key.account_id)
        .bind(&key.region)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

pub(super) async fn in_state(
    pool: &SqlitePool,
    state: &str,
    limit: u32,
) -> Result<Vec<KeyRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        key_columns!(),
        " FROM keys WHERE state = ? ORDER BY key_id LIMIT ?"
    ))
    .bind(state)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(key_from_row).collect()
}

pub(super) async fn multi_region_keys(
    pool: &SqlitePool,
    account_id: &str,
    multi_region_id: &str,
) -> Result<Vec<KeyRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        key_columns!(),
        " FROM keys WHERE account_id = ? AND multi_region_id = ? ORDER BY region"
    ))
    .bind(account_id)
    .bind(multi_region_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(key_from_row).collect()
}

/// Moves the primary Region of related multi-Region keys, on all their rows at once, provided
/// every row still names `expected_primary` and one of them lives in `new_primary`.
pub(super) async fn set_primary_region(
    pool: &SqlitePool,
    account_id: &str,
    multi_region_id: &str,
    expected_primary: &str,
    new_primary: &str,
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let rows = sqlx::query(
        "SELECT region, primary_region FROM keys \
         WHERE account_id = ? AND multi_region_id = ?",
    )
    .bind(account_id)
    .bind(multi_region_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut found = false;
    for row in &rows {
        let region: String = row.try_get("region")?;
        let primary: Option<String> = row.try_get("primary_region")?;
        if primary.as_deref() != Some(expected_primary) {
            return Err(StoreError::Conflict);
        }
        found |= region == new_primary;
    }
    if !found {
        return Err(StoreError::NotFound);
    }
    sqlx::query(
        "UPDATE keys SET primary_region = ?, row_version = row_version + 1 \
         WHERE account_id = ? AND multi_region_id = ?",
    )
    .bind(new_primary)
    .bind(account_id)
    .bind(multi_region_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn count_by_state(pool: &SqlitePool) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM keys GROUP BY state ORDER BY state")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("state")?, row.try_get("n")?)))
        .collect()
}

/// The key with this id, whatever its account and region (ids are unique): for sweeps that
/// start from a key's materials.
pub(super) async fn get_by_id(
    pool: &SqlitePool,
    key_id: &str,
) -> Result<Option<KeyRow>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        key_columns!(),
        " FROM keys WHERE key_id = ?"
    ))
    .bind(key_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(key_from_row).transpose()
}

pub(super) async fn due_for_deletion(
    pool: &SqlitePool,
    now_ms: i64,
    limit: u32,
) -> Result<Vec<KeyRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        key_columns!(),
        " FROM keys WHERE state = ? AND deletion_date <= ? \
         ORDER BY deletion_date, key_id LIMIT ?"
    ))
    .bind(PENDING_DELETION_STATE)
    .bind(now_ms)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(key_from_row).collect()
}

/// Enabled keys whose enabled rotation schedule is due. The schedule's columns are renamed in the
/// subquery so that the key columns stay unqualified (and unambiguous) in the select list.
pub(super) async fn due_for_rotation(
    pool: &SqlitePool,
    now_ms: i64,
    limit: u32,
) -> Result<Vec<KeyRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        key_columns!(),
        " FROM keys JOIN (SELECT r.key_id AS due_key_id, r.next_rotation_date AS due_at \
         FROM key_rotation r WHERE r.enabled = 1 AND r.next_rotation_date <= ?) due \
         ON due.due_key_id = keys.key_id WHERE keys.state = ? \
         ORDER BY due.due_at, keys.key_id LIMIT ?"
    ))
    .bind(now_ms)
    .bind(ENABLED_STATE)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(key_from_row).collect()
}

/// Deletes the key and everything it owns explicitly (not relying on ON DELETE CASCADE); when
/// `expected_row_version` is given, only if the key still has it (`Conflict` otherwise).
pub(super) async fn destroy(
    pool: &SqlitePool,
    key_id: &str,
    expected_row_version: Option<i64>,
) -> Result<(), StoreError> {
    // BEGIN IMMEDIATE holds the write lock from here on, so the check and the deletes are one
    // step for every other connection and process.
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let row_version: Option<i64> = sqlx::query("SELECT row_version FROM keys WHERE key_id = ?")
        .bind(key_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| row.try_get("row_version"))
        .transpose()?;
    match (row_version, expected_row_version) {
        (None, _) => return Err(StoreError::NotFound),
        (Some(stored), Some(expected)) if stored != expected => return Err(StoreError::Conflict),
        _ => {}
    }
    for statement in [
        "DELETE FROM key_versions WHERE key_id = ?",
        "DELETE FROM key_rotation WHERE key_id = ?",
        "DELETE FROM aliases WHERE target_key_id = ?",
        "DELETE FROM key_tags WHERE key_id = ?",
        "DELETE FROM grants WHERE key_id = ?",
        "DELETE FROM keys WHERE key_id = ?",
    ] {
        sqlx::query(statement)
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn key_from_row(row: &SqliteRow) -> Result<KeyRow, StoreError> {
    Ok(KeyRow {
        key_id: row.try_get("key_id")?,
        account_id: row.try_get("account_id")?,
        region: row.try_get("region")?,
        arn: row.try_get("arn")?,
        description: row.try_get("description")?,
        key_usage: row.try_get("key_usage")?,
        key_spec: row.try_get("key_spec")?,
        origin: row.try_get("origin")?,
        state: row.try_get("state")?,
        policy: row.try_get("policy")?,
        creation_date: row.try_get("creation_date")?,
        deletion_date: row.try_get("deletion_date")?,
        pending_window_days: row.try_get("pending_window_days")?,
        current_version: row.try_get("current_version")?,
        multi_region: row.try_get("multi_region")?,
        multi_region_id: row.try_get("multi_region_id")?,
        primary_region: row.try_get("primary_region")?,
        row_version: row.try_get("row_version")?,
    })
}

pub(super) async fn with_policy_containing(
    pool: &SqlitePool,
    needle: &str,
    after_key_id: Option<&str>,
    limit: u32,
) -> Result<Vec<KeyRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        key_columns!(),
        " FROM keys WHERE instr(policy, ?) > 0 AND key_id > ? ORDER BY key_id LIMIT ?"
    ))
    .bind(needle)
    .bind(after_key_id.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(key_from_row).collect()
}
