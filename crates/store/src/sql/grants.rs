//! Grants: a key's grants, looked up by id, token, name, grantee or retiring principal (see
//! [`super`] for how this is stamped). Each call but the rebinding is a single statement, so
//! none needs an explicit transaction; the key's existence on insert is checked by the foreign
//! key.

/// The columns of `grants`, which are the fields of [`GrantRow`](crate::GrantRow): calls
/// `$then!($args, GrantRow { fields })` (see [`columns!`]).
macro_rules! grant_row {
    ($then:ident $(, $arg:tt)*) => {
        $then!($($arg,)* GrantRow {
            grant_id, key_id, grant_token, name, grantee_principal, retiring_principal,
            issuing_account, operations, constraints, creation_date,
        })
    };
}

macro_rules! grant_methods {
    ($rest:tt $($methods:tt)*) => {
        fn grant_from_row(row: &DbRow) -> Result<GrantRow, StoreError> {
            grant_row!(decode, row)
        }

        stamp_store! { $rest $($methods)*
            async fn insert_grant(&self, grant: &GrantRow) -> Result<(), StoreError> {
                sqlx::query(concat!(
                    "INSERT INTO grants (",
                    grant_row!(columns),
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                ))
                .bind(&grant.grant_id)
                .bind(&grant.key_id)
                .bind(&grant.grant_token)
                .bind(&grant.name)
                .bind(&grant.grantee_principal)
                .bind(&grant.retiring_principal)
                .bind(&grant.issuing_account)
                .bind(&grant.operations)
                .bind(&grant.constraints)
                .bind(grant.creation_date)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn get_grant(
                &self,
                key_id: &str,
                grant_id: &str,
            ) -> Result<Option<GrantRow>, StoreError> {
                let query = select!(
                    grant_row,
                    "FROM grants WHERE key_id = $1 AND grant_id = $2"
                )
                .bind(key_id)
                .bind(grant_id);
                fetch_optional_as(&self.pool, query, grant_from_row).await
            }

            async fn get_grant_by_token(
                &self,
                grant_token: &str,
            ) -> Result<Option<GrantRow>, StoreError> {
                let query = select!(
                    grant_row,
                    "FROM grants WHERE grant_token = $1"
                )
                .bind(grant_token);
                fetch_optional_as(&self.pool, query, grant_from_row).await
            }

            async fn find_grant_by_name(
                &self,
                key_id: &str,
                name: &str,
            ) -> Result<Vec<GrantRow>, StoreError> {
                let query = select!(
                    grant_row,
                    "FROM grants WHERE key_id = $1 AND name = $2 ORDER BY grant_id"
                )
                .bind(key_id)
                .bind(name);
                fetch_all_as(&self.pool, query, grant_from_row).await
            }

            async fn list_grants(
                &self,
                key_id: &str,
                grant_id: Option<&str>,
                grantee_principal: Option<&str>,
                after_grant_id: Option<&str>,
                limit: u32,
            ) -> Result<Vec<GrantRow>, StoreError> {
                let query = select!(
                    grant_row,
                    "FROM grants WHERE key_id = $1 AND ($2 IS NULL OR grant_id = $2) \
                     AND ($3 IS NULL OR grantee_principal = $3) \
                     AND ($4 IS NULL OR grant_id > $4) ORDER BY grant_id LIMIT $5"
                )
                .bind(key_id)
                .bind(grant_id)
                .bind(grantee_principal)
                .bind(after_grant_id)
                .bind(i64::from(limit));
                fetch_all_as(&self.pool, query, grant_from_row).await
            }

            async fn list_retirable_grants(
                &self,
                retiring_principal: &str,
                after_grant_id: Option<&str>,
                limit: u32,
            ) -> Result<Vec<GrantRow>, StoreError> {
                let query = select!(
                    grant_row,
                    "FROM grants WHERE retiring_principal = $1 \
                     AND ($2 IS NULL OR grant_id > $2) ORDER BY grant_id LIMIT $3"
                )
                .bind(retiring_principal)
                .bind(after_grant_id)
                .bind(i64::from(limit));
                fetch_all_as(&self.pool, query, grant_from_row).await
            }

            async fn grants_for_grantee(
                &self,
                key_id: &str,
                grantee_principal: &str,
            ) -> Result<Vec<GrantRow>, StoreError> {
                let query = select!(
                    grant_row,
                    "FROM grants WHERE key_id = $1 AND grantee_principal = $2 \
                     ORDER BY grant_id"
                )
                .bind(key_id)
                .bind(grantee_principal);
                fetch_all_as(&self.pool, query, grant_from_row).await
            }

            async fn delete_grant(&self, key_id: &str, grant_id: &str) -> Result<(), StoreError> {
                let deleted = sqlx::query("DELETE FROM grants WHERE key_id = $1 AND grant_id = $2")
                    .bind(key_id)
                    .bind(grant_id)
                    .execute(&self.pool)
                    .await?;
                if deleted.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn rebind_grant_principals(
                &self,
                arn: &str,
                unique_id: &str,
            ) -> Result<u64, StoreError> {
                let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
                let mut changed = 0;
                for statement in [
                    "UPDATE grants SET grantee_principal = $1 WHERE grantee_principal = $2",
                    "UPDATE grants SET retiring_principal = $1 WHERE retiring_principal = $2",
                ] {
                    let done = sqlx::query(statement)
                        .bind(unique_id)
                        .bind(arn)
                        .execute(&mut *tx)
                        .await?;
                    changed += done.rows_affected();
                }
                tx.commit().await?;
                Ok(changed)
            }
        }
    };
}
