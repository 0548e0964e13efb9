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
        /// Inserts or replaces the key's schedule.
        async fn upsert_rotation_on(
            conn: &mut DbConn,
            rotation: &KeyRotationRow,
        ) -> Result<(), StoreError> {
            let upsert = sqlx::query(concat!(
                "INSERT INTO key_rotation (",
                rotation_row!(columns),
                ") VALUES ($1, $2, $3, $4) ON CONFLICT (key_id) DO UPDATE SET \
                 enabled = excluded.enabled, period_days = excluded.period_days, \
                 next_rotation_date = excluded.next_rotation_date"
            ));
            rotation_row!(binds, upsert, rotation).execute(conn).await?;
            Ok(())
        }

        /// `update_key_on` with `version` and `rotation` written in the same transaction,
        /// after checking that they are the key's.
        async fn update_key_and(
            pool: &sqlx::Pool<Db>,
            key: &KeyRow,
            version: Option<&KeyVersionRow>,
            rotation: Option<&KeyRotationRow>,
        ) -> Result<KeyRow, StoreError> {
            if version.is_some_and(|v| v.key_id != key.key_id)
                || rotation.is_some_and(|r| r.key_id != key.key_id)
            {
                return Err(StoreError::Backend(
                    "the version or rotation row belongs to another key".into(),
                ));
            }
            let mut tx = pool.begin_with(BEGIN_WRITE).await?;
            let updated = update_key_on(&mut tx, key).await?;
            if let Some(version) = version {
                write_version_on(&mut tx, version, Write::Upsert).await?;
            }
            if let Some(rotation) = rotation {
                upsert_rotation_on(&mut tx, rotation).await?;
            }
            tx.commit().await?;
            Ok(updated)
        }

        queries! { [$rest $($methods)*
            async fn update_key_with_rotation(&self, key: &KeyRow, rotation: &KeyRotationRow)
                -> Result<KeyRow, StoreError> {
                update_key_and(&self.pool, key, None, Some(rotation)).await
            }

            async fn rotate_key(&self, key: &KeyRow, version: &KeyVersionRow,
                rotation: Option<&KeyRotationRow>) -> Result<KeyRow, StoreError> {
                if key.current_version != version.version {
                    return Err(StoreError::Backend(
                        "rotate_key: the key must make the written version current".into(),
                    ));
                }
                update_key_and(&self.pool, key, Some(version), rotation).await
            }
        ]
            get_key_rotation(key_id: &str) -> Option<KeyRotationRow>
                = rotation_row "FROM key_rotation WHERE key_id = $1";
        }
    };
}
