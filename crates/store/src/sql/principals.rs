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
        /// Moves the identity counter, inside the caller's transaction.
        async fn bump_identity(conn: &mut DbConn) -> Result<(), StoreError> {
            sqlx::query("UPDATE counters SET value = value + 1 WHERE name = 'identity'")
                .execute(conn)
                .await?;
            Ok(())
        }

        queries! { [$rest $($methods)*
            async fn insert_principal(
                &self,
                principal: &PrincipalRow,
                access_key: Option<&AccessKeyRow>,
            ) -> Result<(), StoreError> {
                let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
                let insert = sqlx::query(concat!(
                    "INSERT INTO principals (",
                    principal_row!(columns),
                    ") VALUES ($1, $2, $3, $4, $5, $6)"
                ));
                principal_row!(binds, insert, principal).execute(&mut *tx).await?;
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

            async fn identity_version(&self) -> Result<i64, StoreError> {
                let row = sqlx::query("SELECT value FROM counters WHERE name = 'identity'")
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|r| r.try_get("value")).transpose()?.unwrap_or(0))
            }
        ]
            get_principal(arn: &str) -> Option<PrincipalRow>
                = principal_row "FROM principals WHERE arn = $1";
            roles_with_trust_policy_containing(needle: &str) -> Vec<PrincipalRow>
                = principal_row "FROM principals WHERE ", contains!("assume_role_policy", "$1"),
                    " ORDER BY arn";
            list_principals(account_id: &str) -> Vec<PrincipalRow>
                = principal_row "FROM principals WHERE account_id = $1 ORDER BY arn";
            get_access_key(access_key_id: &str) -> Option<AccessKeyRow>
                = access_key_row "FROM access_keys WHERE access_key_id = $1";
            list_access_keys(principal_arn: &str) -> Vec<AccessKeyRow>
                = access_key_row "FROM access_keys WHERE principal_arn = $1 \
                    ORDER BY access_key_id";
        }
    };
}
