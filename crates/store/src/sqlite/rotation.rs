//! Queries on `key_rotation`, and the rotation step: a new current version of a key, its
//! schedule and the key's compare-and-swap in one transaction.

use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::Row;

use super::{keys, versions, BEGIN_WRITE};
use crate::{KeyRotationRow, KeyRow, KeyVersionRow, StoreError};

pub(super) async fn get(
    pool: &SqlitePool,
    key_id: &str,
) -> Result<Option<KeyRotationRow>, StoreError> {
    let row = sqlx::query(
        "SELECT key_id, enabled, period_days, next_rotation_date FROM key_rotation \
         WHERE key_id = ?",
    )
    .bind(key_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(rotation_from_row).transpose()
}

/// Inserts or replaces the key's schedule.
async fn upsert_on(
    conn: &mut SqliteConnection,
    rotation: &KeyRotationRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO key_rotation (key_id, enabled, period_days, next_rotation_date) \
         VALUES (?, ?, ?, ?) ON CONFLICT (key_id) DO UPDATE SET \
         enabled = excluded.enabled, period_days = excluded.period_days, \
         next_rotation_date = excluded.next_rotation_date",
    )
    .bind(&rotation.key_id)
    .bind(rotation.enabled)
    .bind(rotation.period_days)
    .bind(rotation.next_rotation_date)
    .execute(conn)
    .await?;
    Ok(())
}

/// `update_key` and an upsert of the schedule in one transaction.
pub(super) async fn update_key_with_rotation(
    pool: &SqlitePool,
    key: &KeyRow,
    rotation: &KeyRotationRow,
) -> Result<KeyRow, StoreError> {
    if rotation.key_id != key.key_id {
        return Err(StoreError::Backend(
            "update_key_with_rotation: the rotation row belongs to another key".into(),
        ));
    }
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let updated = keys::update_on(&mut tx, key).await?;
    upsert_on(&mut tx, rotation).await?;
    tx.commit().await?;
    Ok(updated)
}

/// The rotation step: `update_key` (which makes `version` current), an upsert of `version` and,
/// when given, of the schedule, all or nothing.
/// `BEGIN IMMEDIATE` takes the write lock at once, so the compare-and-swap and the writes after
/// it are one step for every other connection and process.
pub(super) async fn rotate(
    pool: &SqlitePool,
    key: &KeyRow,
    version: &KeyVersionRow,
    rotation: Option<&KeyRotationRow>,
) -> Result<KeyRow, StoreError> {
    if version.key_id != key.key_id || rotation.is_some_and(|r| r.key_id != key.key_id) {
        return Err(StoreError::Backend(
            "rotate_key: the version or rotation row belongs to another key".into(),
        ));
    }
    if key.current_version != version.version {
        return Err(StoreError::Backend(
            "rotate_key: the key must make the written version current".into(),
        ));
    }
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let updated = keys::update_on(&mut tx, key).await?;
    versions::upsert_on(&mut tx, version).await?;
    if let Some(rotation) = rotation {
        upsert_on(&mut tx, rotation).await?;
    }
    tx.commit().await?;
    Ok(updated)
}

fn rotation_from_row(row: &SqliteRow) -> Result<KeyRotationRow, StoreError> {
    Ok(KeyRotationRow {
        key_id: row.try_get("key_id")?,
        enabled: row.try_get("enabled")?,
        period_days: row.try_get("period_days")?,
        next_rotation_date: row.try_get("next_rotation_date")?,
    })
}
