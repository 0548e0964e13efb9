//! Tags (`key_tags`): upsert under a per-key limit, removal and ordered pages (see [`super`]
//! for how this is stamped). Writing and deleting several tags is the dialect's
//! (`upsert_tags`, `delete_tags`): PostgreSQL binds arrays, SQLite cannot.

macro_rules! tag_methods {
    ($rest:tt $($methods:tt)*) => {
        stamp_store! { $rest $($methods)*
            /// Upserts under the key row's lock (PostgreSQL's `FOR NO KEY UPDATE`, SQLite's
            /// write lock): concurrent calls on one key, from any process or node, run one
            /// after the other, and each counts the tags the previous one committed, so the
            /// limit holds. NO KEY UPDATE excludes other put_tags, updates and destruction of
            /// the key, but not the foreign-key checks of rows being inserted for it (aliases,
            /// grants).
            async fn put_tags(
                &self,
                key_id: &str,
                tags: &[Tag],
                max_tags: usize,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
                let exists = sqlx::query(concat!(
                    "SELECT 1 FROM keys WHERE key_id = $1",
                    for_no_key_update!()
                ))
                .bind(key_id)
                .fetch_optional(&mut *tx)
                .await?;
                if exists.is_none() {
                    return Err(StoreError::NotFound);
                }
                upsert_tags(&mut tx, key_id, tags).await?;
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

            async fn remove_tags(&self, key_id: &str, tag_keys: &[String]) -> Result<(), StoreError> {
                delete_tags(&self.pool, key_id, tag_keys).await
            }

            async fn list_tags(
                &self,
                key_id: &str,
                after_tag_key: Option<&str>,
                limit: u32,
            ) -> Result<Vec<Tag>, StoreError> {
                let rows = sqlx::query(
                    "SELECT tag_key, tag_value FROM key_tags WHERE key_id = $1 \
                     AND ($2 IS NULL OR tag_key > $2) ORDER BY tag_key LIMIT $3",
                )
                .bind(key_id)
                .bind(after_tag_key)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
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
        }
    };
}
