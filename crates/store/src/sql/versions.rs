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

        /// How [`write_version_on`] treats a version the key already has.
        #[derive(Clone, Copy)]
        enum Write {
            /// Refuse it: `AlreadyExists`.
            Insert,
            /// Replace every column of the stored row.
            Upsert,
        }

        /// Writes `version`; `NotFound` if the key does not exist (the foreign key).
        async fn write_version_on(
            conn: &mut DbConn,
            version: &KeyVersionRow,
            write: Write,
        ) -> Result<(), StoreError> {
            const INSERT: &str = concat!(
                "INSERT INTO key_versions (",
                version_row!(columns),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            );
            const UPSERT: &str = concat!(
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
            );
            let sql = match write {
                Write::Insert => INSERT,
                Write::Upsert => UPSERT,
            };
            let query = sqlx::query(sql);
            version_row!(binds, query, version).execute(conn).await?;
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

        queries! { [$rest $($methods)*
            async fn insert_key_version(&self, version: &KeyVersionRow) -> Result<(), StoreError> {
                let mut conn = self.pool.acquire().await?;
                write_version_on(&mut conn, version, Write::Insert).await
            }

            async fn update_key_with_version(&self, key: &KeyRow, version: &KeyVersionRow)
                -> Result<KeyRow, StoreError> {
                update_key_and(&self.pool, key, Some(version), None).await
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
        ]
            get_key_version(key_id: &str, version: i64) -> Option<KeyVersionRow>
                = version_row "FROM key_versions WHERE key_id = $1 AND version = $2";
            list_key_versions(key_id: &str) -> Vec<KeyVersionRow>
                = version_row "FROM key_versions WHERE key_id = $1 ORDER BY version";
        }
    };
}
