//! Principals and their access keys: creation with the first access key, the trust policy of a
//! role, and reads (see [`super`] for how this is stamped). Every write bumps the `identity`
//! counter in its transaction, so that caches of identities can tell cheaply that something
//! changed; the counter row is always the last row such a transaction locks, so identity
//! writers from every node queue on it without deadlock.

/// The columns of `principals`, which are the fields of [`PrincipalRow`](crate::PrincipalRow):
/// calls `$then!($args, PrincipalRow { fields })` (see [`columns!`]).
macro_rules! principal_row {
    ($then:ident $(, $arg:tt)*) => {
        $then!($($arg,)* PrincipalRow {
            arn, account_id, name, created_at, assume_role_policy, unique_id,
        })
    };
}

/// The columns of `access_keys`, which are the fields of [`AccessKeyRow`](crate::AccessKeyRow):
/// calls `$then!($args, AccessKeyRow { fields })` (see [`columns!`]).
macro_rules! access_key_row {
    ($then:ident $(, $arg:tt)*) => {
        $then!($($arg,)* AccessKeyRow {
            access_key_id, principal_arn, account_id, wrapped_secret, created_at,
        })
    };
}

macro_rules! principal_methods {
    ($rest:tt $($methods:tt)*) => {
        fn principal_from_row(row: &DbRow) -> Result<PrincipalRow, StoreError> {
            principal_row!(decode, row)
        }

        fn access_key_from_row(row: &DbRow) -> Result<AccessKeyRow, StoreError> {
            access_key_row!(decode, row)
        }

        /// Moves the identity counter, inside the caller's transaction.
        async fn bump_identity(conn: &mut DbConn) -> Result<(), StoreError> {
            sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'identity'")
                .execute(conn)
                .await?;
            Ok(())
        }

        stamp_store! { $rest $($methods)*
            async fn insert_principal(
                &self,
                principal: &PrincipalRow,
                access_key: Option<&AccessKeyRow>,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
                sqlx::query(concat!(
                    "INSERT INTO principals (",
                    principal_row!(columns),
                    ") VALUES ($1, $2, $3, $4, $5, $6)"
                ))
                .bind(&principal.arn)
                .bind(&principal.account_id)
                .bind(&principal.name)
                .bind(principal.created_at)
                .bind(&principal.assume_role_policy)
                .bind(&principal.unique_id)
                .execute(&mut *tx)
                .await?;
                if let Some(access_key) = access_key {
                    access_key_insert(access_key).execute(&mut *tx).await?;
                }
                bump_identity(&mut tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn update_assume_role_policy(
                &self,
                arn: &str,
                document: &str,
            ) -> Result<(), StoreError> {
                let update = sqlx::query("UPDATE principals SET assume_role_policy = $1 WHERE arn = $2")
                    .bind(document)
                    .bind(arn);
                write_identity(&self.pool, update).await
            }

            async fn get_principal(&self, arn: &str) -> Result<Option<PrincipalRow>, StoreError> {
                let query = select!(
                    principal_row,
                    "FROM principals WHERE arn = $1"
                )
                .bind(arn);
                fetch_optional_as(&self.pool, query, principal_from_row).await
            }

            async fn roles_with_trust_policy_containing(
                &self,
                needle: &str,
            ) -> Result<Vec<PrincipalRow>, StoreError> {
                let query = select!(
                    principal_row,
                    "FROM principals WHERE ",
                    contains!("assume_role_policy", "$1"),
                    " ORDER BY arn"
                )
                .bind(needle);
                fetch_all_as(&self.pool, query, principal_from_row).await
            }

            async fn list_principals(
                &self,
                account_id: &str,
            ) -> Result<Vec<PrincipalRow>, StoreError> {
                let query = select!(
                    principal_row,
                    "FROM principals WHERE account_id = $1 ORDER BY arn"
                )
                .bind(account_id);
                fetch_all_as(&self.pool, query, principal_from_row).await
            }

            async fn get_access_key(
                &self,
                access_key_id: &str,
            ) -> Result<Option<AccessKeyRow>, StoreError> {
                let query = select!(
                    access_key_row,
                    "FROM access_keys WHERE access_key_id = $1"
                )
                .bind(access_key_id);
                fetch_optional_as(&self.pool, query, access_key_from_row).await
            }

            async fn list_access_keys(
                &self,
                principal_arn: &str,
            ) -> Result<Vec<AccessKeyRow>, StoreError> {
                let query = select!(
                    access_key_row,
                    "FROM access_keys WHERE principal_arn = $1 ORDER BY access_key_id"
                )
                .bind(principal_arn);
                fetch_all_as(&self.pool, query, access_key_from_row).await
            }

            async fn identity_version(&self) -> Result<i64, StoreError> {
                let row = sqlx::query("SELECT value FROM counters WHERE name = 'identity'")
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|r| r.try_get("value")).transpose()?.unwrap_or(0))
            }
        }
    };
}
