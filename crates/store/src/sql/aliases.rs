//! Aliases: unique per (account_id, region, alias_name), each pointing at a key; changes are
//! conditional on the target the caller was authorised for (see [`super`] for how this is
//! stamped).

/// The columns of `aliases`, which are the fields of [`AliasRow`](crate::AliasRow): calls
/// `$then!($args, AliasRow { fields })` (see [`columns!`]).
macro_rules! alias_row {
    ($then:ident $(, $arg:tt)*) => {
        $then!($($arg,)* AliasRow {
            account_id, region, alias_name, target_key_id, creation_date, last_updated_date,
        })
    };
}

macro_rules! alias_methods {
    ($rest:tt $($methods:tt)*) => {
        fn alias_from_row(row: &DbRow) -> Result<AliasRow, StoreError> {
            alias_row!(decode, row)
        }

        /// Why a conditional alias write changed nothing: the alias is gone (`NotFound`) or
        /// points at another key than the caller was authorised for (`Conflict`).
        async fn alias_missed(
            store: &Backend,
            account_id: &str,
            region: &str,
            alias_name: &str,
        ) -> StoreError {
            match crate::Store::get_alias(store, account_id, region, alias_name).await {
                Ok(Some(_)) => StoreError::Conflict,
                Ok(None) => StoreError::NotFound,
                Err(e) => e,
            }
        }

        stamp_store! { $rest $($methods)*
            async fn insert_alias(&self, alias: &AliasRow) -> Result<(), StoreError> {
                sqlx::query(concat!(
                    "INSERT INTO aliases (",
                    alias_row!(columns),
                    ") VALUES ($1, $2, $3, $4, $5, $6)"
                ))
                .bind(&alias.account_id)
                .bind(&alias.region)
                .bind(&alias.alias_name)
                .bind(&alias.target_key_id)
                .bind(alias.creation_date)
                .bind(alias.last_updated_date)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn get_alias(
                &self,
                account_id: &str,
                region: &str,
                alias_name: &str,
            ) -> Result<Option<AliasRow>, StoreError> {
                let query = select!(
                    alias_row,
                    "FROM aliases WHERE account_id = $1 AND region = $2 AND alias_name = $3"
                )
                .bind(account_id)
                .bind(region)
                .bind(alias_name);
                fetch_optional_as(&self.pool, query, alias_from_row).await
            }

            async fn update_alias(
                &self,
                account_id: &str,
                region: &str,
                alias_name: &str,
                expected_target: &str,
                target_key_id: &str,
                now_ms: i64,
            ) -> Result<(), StoreError> {
                let updated = sqlx::query(
                    "UPDATE aliases SET target_key_id = $1, last_updated_date = $2 \
                     WHERE account_id = $3 AND region = $4 AND alias_name = $5 \
                     AND target_key_id = $6",
                )
                .bind(target_key_id)
                .bind(now_ms)
                .bind(account_id)
                .bind(region)
                .bind(alias_name)
                .bind(expected_target)
                .execute(&self.pool)
                .await?;
                if updated.rows_affected() == 0 {
                    return Err(alias_missed(self, account_id, region, alias_name).await);
                }
                Ok(())
            }

            async fn delete_alias(
                &self,
                account_id: &str,
                region: &str,
                alias_name: &str,
                expected_target: &str,
            ) -> Result<(), StoreError> {
                let deleted = sqlx::query(
                    "DELETE FROM aliases WHERE account_id = $1 AND region = $2 \
                     AND alias_name = $3 AND target_key_id = $4",
                )
                .bind(account_id)
                .bind(region)
                .bind(alias_name)
                .bind(expected_target)
                .execute(&self.pool)
                .await?;
                if deleted.rows_affected() == 0 {
                    return Err(alias_missed(self, account_id, region, alias_name).await);
                }
                Ok(())
            }

            async fn list_aliases(
                &self,
                account_id: &str,
                region: &str,
                key_id: Option<&str>,
                after_alias_name: Option<&str>,
                limit: u32,
            ) -> Result<Vec<AliasRow>, StoreError> {
                let query = select!(
                    alias_row,
                    "FROM aliases WHERE account_id = $1 AND region = $2 \
                     AND ($3 IS NULL OR target_key_id = $3) \
                     AND ($4 IS NULL OR alias_name > $4) ORDER BY alias_name LIMIT $5"
                )
                .bind(account_id)
                .bind(region)
                .bind(key_id)
                .bind(after_alias_name)
                .bind(i64::from(limit));
                fetch_all_as(&self.pool, query, alias_from_row).await
            }

            async fn aliases_for_key(&self, key_id: &str) -> Result<Vec<String>, StoreError> {
                let rows = sqlx::query(
                    "SELECT alias_name FROM aliases WHERE target_key_id = $1 \
                     ORDER BY alias_name",
                )
                .bind(key_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| Ok(row.try_get("alias_name")?))
                    .collect()
            }
        }
    };
}
