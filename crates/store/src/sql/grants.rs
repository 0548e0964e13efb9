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
        queries! { [$rest $($methods)*
            async fn rebind_grant_principals(&self, arn: &str, unique_id: &str)
                -> Result<u64, StoreError> {
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
        ]
            insert_grant(grant: &GrantRow) -> ()
                = insert grant_row "grants" "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
            get_grant(key_id: &str, grant_id: &str) -> Option<GrantRow>
                = grant_row "FROM grants WHERE key_id = $1 AND grant_id = $2";
            get_grant_by_token(grant_token: &str) -> Option<GrantRow>
                = grant_row "FROM grants WHERE grant_token = $1";
            find_grant_by_name(key_id: &str, name: &str) -> Vec<GrantRow>
                = grant_row "FROM grants WHERE key_id = $1 AND name = $2 ORDER BY grant_id";
            list_grants(
                key_id: &str,
                grant_id: Option<&str>,
                grantee_principal: Option<&str>,
                after_grant_id: Option<&str>,
                limit: u32 => i64::from(limit)
            ) -> Vec<GrantRow>
                = grant_row "FROM grants WHERE key_id = $1 AND ($2 IS NULL OR grant_id = $2) \
                    AND ($3 IS NULL OR grantee_principal = $3) \
                    AND ($4 IS NULL OR grant_id > $4) ORDER BY grant_id LIMIT $5";
            list_retirable_grants(
                retiring_principal: &str,
                after_grant_id: Option<&str>,
                limit: u32 => i64::from(limit)
            ) -> Vec<GrantRow>
                = grant_row "FROM grants WHERE retiring_principal = $1 \
                    AND ($2 IS NULL OR grant_id > $2) ORDER BY grant_id LIMIT $3";
            grants_for_grantee(key_id: &str, grantee_principal: &str) -> Vec<GrantRow>
                = grant_row "FROM grants WHERE key_id = $1 AND grantee_principal = $2 \
                    ORDER BY grant_id";
            delete_grant(key_id: &str, grant_id: &str) -> () or NotFound
                = "DELETE FROM grants WHERE key_id = $1 AND grant_id = $2";
        }
    };
}
