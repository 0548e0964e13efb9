//! Keys: insertion with the first version and tags, scoped reads, the compare-and-swap update,
//! the cross-account scans and the multi-Region family (see [`super`] for how this is stamped).

/// The columns of `keys`, which are the fields of [`KeyRow`](crate::KeyRow): calls
/// `$then!($args, KeyRow { fields })`, e.g. `key_row!(columns)` (see [`columns!`]).
macro_rules! key_row {
    ($then:ident $(, $arg:tt)*) => {
        $then!($($arg,)* KeyRow {
            key_id, account_id, region, arn, description, key_usage, key_spec, origin, state,
            policy, creation_date, deletion_date, pending_window_days, current_version,
            multi_region, multi_region_id, primary_region, custom_key_store_id, row_version,
        })
    };
}

macro_rules! key_methods {
    ($rest:tt $($methods:tt)*) => {
        fn key_from_row(row: &DbRow) -> Result<KeyRow, StoreError> {
            key_row!(decode, row)
        }

        /// `update_key` on one connection or inside a transaction. On PostgreSQL, one
        /// conditional UPDATE: under READ COMMITTED a concurrent writer of the same row waits
        /// for this one to commit, then re-evaluates `row_version = $n` against the new row and
        /// matches nothing, so exactly one of them succeeds. On SQLite the writers are serial.
        async fn update_key_on(conn: &mut DbConn, key: &KeyRow) -> Result<KeyRow, StoreError> {
            let updated = sqlx::query(concat!(
                "UPDATE keys SET description = $1, key_usage = $2, state = $3, policy = $4, \
                 deletion_date = $5, pending_window_days = $6, current_version = $7, \
                 row_version = row_version + 1 \
                 WHERE key_id = $8 AND account_id = $9 AND region = $10 AND row_version = $11 \
                 RETURNING ",
                key_row!(columns)
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
                None if key_exists_on(conn, key).await? => Err(StoreError::Conflict),
                None => Err(StoreError::NotFound),
            }
        }

        /// Whether the key of `key` exists in its account and Region.
        async fn key_exists_on(conn: &mut DbConn, key: &KeyRow) -> Result<bool, StoreError> {
            let row = sqlx::query(
                "SELECT 1 FROM keys WHERE key_id = $1 AND account_id = $2 AND region = $3",
            )
            .bind(&key.key_id)
            .bind(&key.account_id)
            .bind(&key.region)
            .fetch_optional(conn)
            .await?;
            Ok(row.is_some())
        }

        queries! { [$rest $($methods)*
            async fn insert_key(
                &self,
                key: &KeyRow,
                version: &KeyVersionRow,
                tags: &[Tag],
            ) -> Result<(), StoreError> {
                if version.key_id != key.key_id {
                    return Err(StoreError::Backend(
                        "insert_key: the version row belongs to another key".into(),
                    ));
                }
                let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
                // A key's row version starts at 1, whatever the caller's row says.
                let key = KeyRow { row_version: 1, ..key.clone() };
                let insert = sqlx::query(concat!(
                    "INSERT INTO keys (",
                    key_row!(columns),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
                     $15, $16, $17, $18, $19)"
                ));
                key_row!(binds, insert, key).execute(&mut *tx).await?;
                write_version_on(&mut tx, version, Write::Insert).await?;
                upsert_tags(&mut tx, &key.key_id, tags).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn update_key(&self, key: &KeyRow) -> Result<KeyRow, StoreError> {
                let mut conn = self.pool.acquire().await?;
                update_key_on(&mut conn, key).await
            }

            async fn count_keys_by_state(&self) -> Result<Vec<(String, i64)>, StoreError> {
                let rows = sqlx::query(
                    "SELECT state, COUNT(*) AS n FROM keys GROUP BY state ORDER BY state",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| Ok((row.try_get("state")?, row.try_get("n")?)))
                    .collect()
            }

            /// All the family's rows at once, provided every row still names
            /// `expected_primary` and one of them lives in `new_primary`; the rows are locked
            /// (PostgreSQL) or the database is (SQLite) between the check and the update.
            async fn set_primary_region(&self, account_id: &str, multi_region_id: &str,
                expected_primary: &str, new_primary: &str) -> Result<(), StoreError> {
                let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
                let rows = sqlx::query(concat!(
                    "SELECT region, primary_region FROM keys \
                     WHERE account_id = $1 AND multi_region_id = $2",
                    for_update!()
                ))
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
                    "UPDATE keys SET primary_region = $1, row_version = row_version + 1 \
                     WHERE account_id = $2 AND multi_region_id = $3",
                )
                .bind(new_primary)
                .bind(account_id)
                .bind(multi_region_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }
        ]
            get_key(account_id: &str, region: &str, key_id: &str) -> Option<KeyRow>
                = key_row "FROM keys WHERE account_id = $1 AND region = $2 AND key_id = $3";
            list_keys(
                account_id: &str,
                region: &str,
                after_key_id: Option<&str>,
                limit: u32 => i64::from(limit)
            ) -> Vec<KeyRow>
                = key_row "FROM keys WHERE account_id = $1 AND region = $2 \
                    AND ($3 IS NULL OR key_id > $3) ORDER BY key_id LIMIT $4";
            keys_in_state(state: &str, limit: u32 => i64::from(limit)) -> Vec<KeyRow>
                = key_row "FROM keys WHERE state = $1 ORDER BY key_id LIMIT $2";
            keys_with_policy_containing(
                needle: &str,
                after_key_id: Option<&str> => after_key_id.unwrap_or(""),
                limit: u32 => i64::from(limit)
            ) -> Vec<KeyRow>
                = key_row "FROM keys WHERE ", contains!("policy", "$1"),
                    " AND key_id > $2 ORDER BY key_id LIMIT $3";
            keys_in_custom_key_store(custom_key_store_id: &str, limit: u32 => i64::from(limit))
                -> Vec<KeyRow>
                = key_row "FROM keys WHERE custom_key_store_id = $1 ORDER BY key_id LIMIT $2";
            multi_region_keys(account_id: &str, multi_region_id: &str) -> Vec<KeyRow>
                = key_row "FROM keys WHERE account_id = $1 AND multi_region_id = $2 \
                    ORDER BY region";
        }
    };
}
