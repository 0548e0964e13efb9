//! Queries on `key_tags`: upsert under a per-key limit, removal and ordered pages.

use sqlx::sqlite::{Sqlite, SqlitePool};
use sqlx::{Row, Transaction};

use super::BEGIN_WRITE;
use crate::{StoreError, Tag};

pub(super) async fn put(
    pool: &SqlitePool,
    key_id: &str,
    tags: &[Tag],
    max_tags: usize,
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let exists = sqlx::query("SELECT 1 FROM keys WHERE key_id = ?")
        .bind(key_id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    for tag in tags {
        upsert(&mut tx, key_id, tag).await?;
    }
    let count: i64 = sqlx::query("SELECT COUNT(*) FROM key_tags WHERE key_id = ?")
        .bind(key_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    // A count that does not fit in usize cannot be within any usize limit.
    if usize::try_from(count).map_or(true, |count| count > max_tags) {
        tx.rollback().await?;
        return Err(StoreError::LimitExceeded);
    }
    tx.commit().await?;
    Ok(())
}

/// Sets one tag inside a caller's transaction (shared with key insertion).
pub(super) async fn upsert(
    tx: &mut Transaction<'_, Sqlite>,
    key_id: &str,
    tag: &Tag,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO key_tags (key_id, tag_key, tag_value) VALUES (?, ?, ?) \
         ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
    )
    .bind(key_id)
    .bind(&tag.key)
    .bind(&tag.value)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn remove(
    pool: &SqlitePool,
    key_id: &str,
    tag_keys: &[String],
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    for tag_key in tag_keys {
        sqlx::query("DELETE FROM key_tags WHERE key_id = ? AND tag_key = ?")
            .bind(key_id)
            .bind(tag_key)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn list(
    pool: &SqlitePool,
    key_id: &str,
    after_tag_key: Option<&str>,
    limit: u32,
) -> Result<Vec<Tag>, StoreError> {
    let rows = sqlx::query(
        "SELECT tag_key, tag_value FROM key_tags \
         WHERE key_id = ?1 AND (?2 IS NULL OR tag_key > ?2) ORDER BY tag_key LIMIT ?3",
    )
    .bind(key_id)
    .bind(after_tag_key)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Tag {
                key: row.try_get("tag_key")?,
                value: row.try_get("tag_value")?,
            })
        })
        .collect()
}
