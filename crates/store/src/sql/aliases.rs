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
        /// Runs a write conditional on the alias's target; when it changed nothing, says why:
        /// the alias is gone (`NotFound`) or points at another key than the caller was
        /// authorised for (`Conflict`).
        async fn write_alias(
            store: &Backend,
            query: DbQuery<'_>,
            (account_id, region, alias_name): (&str, &str, &str),
        ) -> Result<(), StoreError> {
            if query.execute(&store.pool).await?.rows_affected() > 0 {
                return Ok(());
            }
            match crate::Store::get_alias(store, account_id, region, alias_name).await? {
                Some(_) => Err(StoreError::Conflict),
                None => Err(StoreError::NotFound),
            }
        }

        queries! { [$rest $($methods)*
            async fn update_alias(&self, account_id: &str, region: &str, alias_name: &str,
                expected_target: &str, target_key_id: &str, now_ms: i64)
                -> Result<(), StoreError> {
                let update = sqlx::query(
                    "UPDATE aliases SET target_key_id = $1, last_updated_date = $2 \
                     WHERE account_id = $3 AND region = $4 AND alias_name = $5 \
                     AND target_key_id = $6",
                )
                .bind(target_key_id)
                .bind(now_ms)
                .bind(account_id)
                .bind(region)
                .bind(alias_name)
                .bind(expected_target);
                write_alias(self, update, (account_id, region, alias_name)).await
            }

            async fn delete_alias(&self, account_id: &str, region: &str, alias_name: &str,
                expected_target: &str) -> Result<(), StoreError> {
                let delete = sqlx::query(
                    "DELETE FROM aliases WHERE account_id = $1 AND region = $2 \
                     AND alias_name = $3 AND target_key_id = $4",
                )
                .bind(account_id)
                .bind(region)
                .bind(alias_name)
                .bind(expected_target);
                write_alias(self, delete, (account_id, region, alias_name)).await
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
        ]
            insert_alias(alias: &AliasRow) -> ()
                = insert alias_row "aliases" "VALUES ($1, $2, $3, $4, $5, $6)";
            get_alias(account_id: &str, region: &str, alias_name: &str) -> Option<AliasRow>
                = alias_row "FROM aliases \
                    WHERE account_id = $1 AND region = $2 AND alias_name = $3";
            list_aliases(
                account_id: &str,
                region: &str,
                key_id: Option<&str>,
                after_alias_name: Option<&str>,
                limit: u32 => i64::from(limit)
            ) -> Vec<AliasRow>
                = alias_row "FROM aliases WHERE account_id = $1 AND region = $2 \
                    AND ($3 IS NULL OR target_key_id = $3) \
                    AND ($4 IS NULL OR alias_name > $4) ORDER BY alias_name LIMIT $5";
        }
    };
}
