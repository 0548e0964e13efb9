//! The end of a key's life: the scans of the deletion and rotation sweeps, and the destruction
//! of a key with everything it owns (see [`super`] for how this is stamped).

macro_rules! lifecycle_methods {
    ($rest:tt $($methods:tt)*) => {
        /// Deletes the key and everything it owns explicitly (not relying on ON DELETE
        /// CASCADE); when `expected_row_version` is given, only if the key still has it
        /// (`Conflict` otherwise).
        ///
        /// The check and the deletes are one step for every other connection, process and
        /// node: on SQLite `BEGIN IMMEDIATE` holds the write lock from the start; on
        /// PostgreSQL the key row is locked first (`FOR UPDATE`), so a concurrent `put_tags`,
        /// `update_key` or second destruction waits, and a second destruction then finds no
        /// row and is `NotFound`. Rows of aliases, tags or grants inserted concurrently either
        /// commit before the lock, and are deleted here, or fail their foreign-key check after
        /// this commits.
        async fn destroy_key_where(
            pool: &sqlx::Pool<Db>,
            key_id: &str,
            expected_row_version: Option<i64>,
        ) -> Result<(), StoreError> {
            let mut tx = pool.begin_with(BEGIN_WRITE).await?;
            let row_version: Option<i64> = sqlx::query(concat!(
                "SELECT row_version FROM keys WHERE key_id = $1",
                for_update!()
            ))
            .bind(key_id)
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| row.try_get("row_version"))
            .transpose()?;
            match (row_version, expected_row_version) {
                (None, _) => return Err(StoreError::NotFound),
                (Some(stored), Some(expected)) if stored != expected => {
                    return Err(StoreError::Conflict)
                }
                _ => {}
            }
            for statement in [
                "DELETE FROM key_versions WHERE key_id = $1",
                "DELETE FROM key_rotation WHERE key_id = $1",
                "DELETE FROM aliases WHERE target_key_id = $1",
                "DELETE FROM key_tags WHERE key_id = $1",
                "DELETE FROM grants WHERE key_id = $1",
                "DELETE FROM keys WHERE key_id = $1",
            ] {
                sqlx::query(statement)
                    .bind(key_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        }

        stamp_store! { $rest $($methods)*
            async fn keys_due_for_deletion(&self, now_ms: i64, limit: u32)
                -> Result<Vec<KeyRow>, StoreError> {
                let query = select!(
                    key_row,
                    "FROM keys WHERE state = $1 AND deletion_date <= $2 \
                     ORDER BY deletion_date, key_id LIMIT $3"
                )
                .bind(PENDING_DELETION_STATE)
                .bind(now_ms)
                .bind(i64::from(limit));
                fetch_all_as(&self.pool, query, key_from_row).await
            }

            /// The schedule's columns are renamed in the subquery so that the key columns stay
            /// unqualified (and unambiguous) in the select list.
            async fn keys_due_for_rotation(&self, now_ms: i64, limit: u32)
                -> Result<Vec<KeyRow>, StoreError> {
                let query = select!(
                    key_row,
                    "FROM keys JOIN (SELECT r.key_id AS due_key_id, \
                     r.next_rotation_date AS due_at FROM key_rotation r WHERE ",
                    rotation_enabled!("r"),
                    " AND r.next_rotation_date <= $1) due \
                     ON due.due_key_id = keys.key_id WHERE keys.state = $2 \
                     ORDER BY due.due_at, keys.key_id LIMIT $3"
                )
                .bind(now_ms)
                .bind(ENABLED_STATE)
                .bind(i64::from(limit));
                fetch_all_as(&self.pool, query, key_from_row).await
            }

            async fn destroy_key(&self, key_id: &str) -> Result<(), StoreError> {
                destroy_key_where(&self.pool, key_id, None).await?;
                self.after_destroy().await;
                Ok(())
            }

            async fn destroy_key_if_version(
                &self,
                key_id: &str,
                row_version: i64,
            ) -> Result<(), StoreError> {
                destroy_key_where(&self.pool, key_id, Some(row_version)).await?;
                self.after_destroy().await;
                Ok(())
            }
        }
    };
}
