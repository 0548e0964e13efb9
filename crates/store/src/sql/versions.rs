//! Key materials (`key_versions`) beyond the first one `insert_key` writes: reading one or all
//! of a key's materials, adding one, changing a key together with one of its materials in one
//! transaction (rotation, import and deletion of imported material), and the expiry sweep's
//! scan (see [`super`] for how this is stamped).

/// The columns of `key_versions`, which are the fields of [`KeyVersionRow`](crate::KeyVersionRow): calls
/// `$then!($args, KeyVersionRow { fields })` (see [`columns!`]).
macro_rules! version_row {
    ($then:ident $(, $arg:tt)*) => {
        $then!($($arg,)* KeyVersionRow {
            key_id, version, wrapped_material, created_at, material_id, rotation_type,
            rotation_date, import_state, expiration_model, valid_to, material_description,
            material_digest,
        })
    };
}

macro_rules! version_methods {
    ($rest:tt $($methods:tt)*) => {
        fn version_from_row(row: &DbRow) -> Result<KeyVersionRow, StoreError> {
            version_row!(decode, row)
        }

        /// Binds every column of `v`, in `version_row!` order, as `$1` to `$12`.
        fn bind_version<'q>(query: DbQuery<'q>, v: &'q KeyVersionRow) -> DbQuery<'q> {
            query
                .bind(&v.key_id)
                .bind(v.version)
                .bind(&v.wrapped_material)
                .bind(v.created_at)
                .bind(&v.material_id)
                .bind(&v.rotation_type)
                .bind(v.rotation_date)
                .bind(&v.import_state)
                .bind(&v.expiration_model)
                .bind(v.valid_to)
                .bind(&v.material_description)
                .bind(&v.material_digest)
        }

        /// Inserts `version`; `AlreadyExists` if the key has that version, `NotFound` if the
        /// key does not exist (the foreign key).
        async fn insert_version_on(
            conn: &mut DbConn,
            version: &KeyVersionRow,
        ) -> Result<(), StoreError> {
            let insert = sqlx::query(concat!(
                "INSERT INTO key_versions (",
                version_row!(columns),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ));
            bind_version(insert, version).execute(conn).await?;
            Ok(())
        }

        /// Writes `version`, inserting it or replacing every column of the stored row.
        async fn upsert_version_on(
            conn: &mut DbConn,
            version: &KeyVersionRow,
        ) -> Result<(), StoreError> {
            let upsert = sqlx::query(concat!(
                "INSERT INTO key_versions (",
                version_row!(columns),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 ON CONFLICT (key_id, version) DO UPDATE SET \
                 wrapped_material = excluded.wrapped_material, \
                 created_at = excluded.created_at, material_id = excluded.material_id, \
                 rotation_type = excluded.rotation_type, rotation_date = excluded.rotation_date, \
                 import_state = excluded.import_state, \
                 expiration_model = excluded.expiration_model, valid_to = excluded.valid_to, \
                 material_description = excluded.material_description, \
                 material_digest = excluded.material_digest"
            ));
            bind_version(upsert, version).execute(conn).await?;
            Ok(())
        }

        /// The key with this id, whatever its account and region (ids are unique): for sweeps
        /// that start from a key's materials.
        async fn key_by_id(
            pool: &sqlx::Pool<Db>,
            key_id: &str,
        ) -> Result<Option<KeyRow>, StoreError> {
            let query = select!(key_row, "FROM keys WHERE key_id = $1")
            .bind(key_id);
            fetch_optional_as(pool, query, key_from_row).await
        }

        stamp_store! { $rest $($methods)*
            async fn get_key_version(
                &self,
                key_id: &str,
                version: i64,
            ) -> Result<Option<KeyVersionRow>, StoreError> {
                let query = select!(
                    version_row,
                    "FROM key_versions WHERE key_id = $1 AND version = $2"
                )
                .bind(key_id)
                .bind(version);
                fetch_optional_as(&self.pool, query, version_from_row).await
            }

            async fn list_key_versions(
                &self,
                key_id: &str,
            ) -> Result<Vec<KeyVersionRow>, StoreError> {
                let query = select!(
                    version_row,
                    "FROM key_versions WHERE key_id = $1 ORDER BY version"
                )
                .bind(key_id);
                fetch_all_as(&self.pool, query, version_from_row).await
            }

            async fn insert_key_version(&self, version: &KeyVersionRow) -> Result<(), StoreError> {
                let mut conn = self.pool.acquire().await?;
                insert_version_on(&mut conn, version).await
            }

            async fn update_key_with_version(
                &self,
                key: &KeyRow,
                version: &KeyVersionRow,
            ) -> Result<KeyRow, StoreError> {
                if version.key_id != key.key_id {
                    return Err(StoreError::Backend(
                        "update_key_with_version: the version row belongs to another key".into(),
                    ));
                }
                let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
                let updated = update_key_on(&mut tx, key).await?;
                upsert_version_on(&mut tx, version).await?;
                tx.commit().await?;
                Ok(updated)
            }

            /// A version whose key vanished in between (destroyed by the deletion sweep) is
            /// left out.
            async fn expired_key_materials(
                &self,
                now_ms: i64,
                limit: u32,
            ) -> Result<Vec<(KeyRow, KeyVersionRow)>, StoreError> {
                let rows = select!(
                    version_row,
                    "FROM key_versions WHERE valid_to IS NOT NULL AND valid_to <= $1 \
                     AND octet_length(wrapped_material) > 0 \
                     ORDER BY valid_to, key_id, version LIMIT $2"
                )
                .bind(now_ms)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in &rows {
                    let version = version_from_row(row)?;
                    if let Some(key) = key_by_id(&self.pool, &version.key_id).await? {
                        out.push((key, version));
                    }
                }
                Ok(out)
            }
        }
    };
}
