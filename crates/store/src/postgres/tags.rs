//! Queries on `key_tags`: upsert under a per-key limit, removal and ordered pages.

use std::collections::BTreeMap;

use sqlx::postgres::{PgPool, Postgres};
use sqlx::{Row, Transaction};

use crate::{StoreError, Tag};

/// Upserts under the key row's lock: concurrent calls on one key (from any node) run one after
/// the other, and each counts the tags the previous one committed, so the limit holds.
pub(super) async fn put(
    pool: &PgPool,
    key_id: &str,
    tags: &[Tag],
    max_tags: usize,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    // NO KEY UPDATE: excludes other put_tags, updates and destruction of the key, but not the
    // foreign-key checks of rows being inserted for it (aliases, grants).
    let exists = sqlx::query("SELECT 1 FROM keys WHERE key_id = $1 FOR NO KEY UPDATE")
        .bind(key_id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    upsert(&mut tx, key_id, tags).await?;
    let count: i64 = sqlx::query("SELECT COUNT(*) FROM key_tags WHERE key_id = $1")
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

/// Sets `tags` (the last of duplicate keys wins) inside a caller's transaction, in one
/// statement (shared with key insertion). The keys go in sorted, so concurrent writers lock
/// tag rows in one order.
pub(super) async fn upsert(
    tx: &mut Transaction<'_, Postgres>,
    key_id: &str,
    tags: &[Tag],
) -> Result<(), StoreError> {
    if tags.is_empty() {
        return Ok(());
    }
    // One statement may not update a row twice, hence the deduplication.
    let last: BTreeMap<&str, &str> = tags
        .iter()
        .map(|tag| (tag.key.as_str(), tag.value.as_str()))
        .collect();
    let (keys, values): (Vec<&str>, Vec<&str>) = last.into_iter().unzip();
    sqlx::query(
        "INSERT INTO key_tags (key_id, tag_key, tag_value) \
         SELECT $1, t.tag_key, t.tag_value FROM UNNEST($2::text[], $3::text[]) \
         AS t (tag_key, tag_value) \
         ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
    )
    .bind(key_id)
    .bind(&keys)
    .bind(&values)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn remove(
    pool: &PgPool,
    key_id: &str,
    tag_keys: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM key_tags WHERE key_id = $1 AND tag_key = ANY($2::text[])")
        .bind(key_id)
        .bind(tag_keys)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn list(
    pool: &PgPool,
    key_id: &str,
    after_tag_key: Option<&str>,
    limit: u32,
) -> Result<Vec<Tag>, StoreError> {
    let rows = sqlx::query(
        "SELECT tag_key, tag_value FROM key_tags \
         WHERE key_id = $1 AND ($2::text IS NULL OR tag_key > $2) ORDER BY tag_key LIMIT $3",
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
