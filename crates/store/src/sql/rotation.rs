//! Rotation schedules (`key_rotation`) and the rotation step: a new current version of a key,
//! its schedule and the key's compare-and-swap in one transaction (see [`super`] for how this
//! is stamped).
//!
//! The compare-and-swap comes first in each transaction: on SQLite `BEGIN IMMEDIATE` already
//! holds the write lock; on PostgreSQL the `UPDATE` locks the key row, so writers of one key
//! queue (keys before children, as everywhere) and the loser of a race matches no row and gets
//! `Conflict`.

/// The columns of `key_rotation`, which are the fields of
/// [`KeyRotationRow`](crate::KeyRotationRow): calls `$then!($args, KeyRotationRow { fields })`
/// (see [`columns!`]).
macro_rules! rotation_row {
    ($then:ident $(, $arg:tt)*) => {
        $then!($($arg,)* KeyRotationRow { key_id, enabled, period_days, next_rotation_date })
    };
}

macro_rules! rotation_methods {
    ($rest:tt $($methods:tt)*) => {
        fn rotation_from_row(row: &DbRow) -> Result<KeyRotationRow, StoreError> {
            rotation_row!(decode, row)
        }

        /// Inserts or replaces the key's schedule.
        async fn upsert_rotation_on(
            conn: &mut DbConn,
            rotation: &KeyRotationRow,
        ) -> Result<(), StoreError> {
            sqlx::query(concat!(
                "INSERT INTO key_rotation (",
                rotation_row!(columns),
                ") VALUES ($1, $2, $3, $4) ON CONFLICT (key_id) DO UPDATE SET \
                 enabled = excluded.enabled, period_days = excluded.period_days, \
                 next_rotation_date = excluded.next_rotation_date"
            ))
            .bind(&rotation.key_id)
            .bind(rotation.enabled)
            .bind(rotation.period_days)
            .bind(rotation.next_rotation_date)
            .execute(conn)
            .await?;
            Ok(())
        }

        stamp_store! { $rest $($methods)*
            async fn get_key_rotation(
                &self,
                key_id: &str,
            ) -> Result<Option<KeyRotationRow>, StoreError> {
                let query = select!(
                    rotation_row,
                    "FROM key_rotation WHERE key_id = $1"
                )
                .bind(key_id);
                fetch_optional_as(&self.pool, query, rotation_from_row).await
            }

            async fn update_key_with_rotation(
                &self,
                key: &KeyRow,
                rotation: &KeyRotationRow,
            ) -> Result<KeyRow, StoreError> {
                if rotation.key_id != key.key_id {
                    return Err(StoreError::Backend(
                        "update_key_with_rotation: the rotation row belongs to another key".into(),
                    ));
                }
                let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
                let updated = update_key_on(&mut tx, key).await?;
                upsert_rotation_on(&mut tx, rotation).await?;
                tx.commit().await?;
                Ok(updated)
            }

            async fn rotate_key(
                &self,
                key: &KeyRow,
                version: &KeyVersionRow,
                rotation: Option<&KeyRotationRow>,
            ) -> Result<KeyRow, StoreError> {
                if version.key_id != key.key_id
                    || rotation.is_some_and(|r| r.key_id != key.key_id)
                {
                    return Err(StoreError::Backend(
                        "rotate_key: the version or rotation row belongs to another key".into(),
                    ));
                }
                if key.current_version != version.version {
                    return Err(StoreError::Backend(
                        "rotate_key: the key must make the written version current".into(),
                    ));
                }
                let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
                let updated = update_key_on(&mut tx, key).await?;
                upsert_version_on(&mut tx, version).await?;
                if let Some(rotation) = rotation {
                    upsert_rotation_on(&mut tx, rotation).await?;
                }
                tx.commit().await?;
                Ok(updated)
            }
        }
    };
}
