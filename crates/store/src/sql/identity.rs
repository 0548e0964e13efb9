//! Identity changes after a principal's creation: more access keys, removal, attached policies
//! (see [`super`] for how this is stamped). Each is one statement run with the `identity`
//! counter bumped in the same transaction (see `principals`).

macro_rules! identity_methods {
    ($rest:tt $($methods:tt)*) => {
        /// Runs one statement in a write transaction with the identity counter bumped;
        /// `NotFound` when it touched no row.
        async fn write_identity(
            pool: &sqlx::Pool<Db>,
            query: DbQuery<'_>,
        ) -> Result<(), StoreError> {
            let mut tx = pool.begin_with(BEGIN_WRITE).await?;
            let done = query.execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            bump_identity(&mut tx).await?;
            tx.commit().await?;
            Ok(())
        }

        /// The insertion of `key`; `NotFound` (the foreign key) if its principal does not
        /// exist, `AlreadyExists` if its id does.
        fn access_key_insert(key: &AccessKeyRow) -> DbQuery<'_> {
            let insert = sqlx::query(concat!(
                "INSERT INTO access_keys (",
                access_key_row!(columns),
                ") VALUES ($1, $2, $3, $4, $5)"
            ));
            access_key_row!(binds, insert, key)
        }

        stamp_store! { $rest $($methods)*
            async fn delete_principal(&self, arn: &str) -> Result<(), StoreError> {
                let delete = sqlx::query("DELETE FROM principals WHERE arn = $1").bind(arn);
                write_identity(&self.pool, delete).await
            }

            async fn insert_access_key(&self, access_key: &AccessKeyRow) -> Result<(), StoreError> {
                write_identity(&self.pool, access_key_insert(access_key)).await
            }

            async fn delete_access_key(&self, access_key_id: &str) -> Result<(), StoreError> {
                let delete = sqlx::query("DELETE FROM access_keys WHERE access_key_id = $1")
                    .bind(access_key_id);
                write_identity(&self.pool, delete).await
            }

            async fn put_principal_policy(&self, principal_arn: &str, policy_name: &str,
                document: &str, now_ms: i64) -> Result<(), StoreError> {
                let upsert = sqlx::query(
                    "INSERT INTO principal_policies \
                     (principal_arn, policy_name, document, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (principal_arn, policy_name) DO UPDATE SET \
                     document = excluded.document, updated_at = excluded.updated_at",
                )
                .bind(principal_arn)
                .bind(policy_name)
                .bind(document)
                .bind(now_ms);
                write_identity(&self.pool, upsert).await
            }

            async fn delete_principal_policy(
                &self,
                principal_arn: &str,
                policy_name: &str,
            ) -> Result<(), StoreError> {
                let delete = sqlx::query(
                    "DELETE FROM principal_policies WHERE principal_arn = $1 AND policy_name = $2",
                )
                .bind(principal_arn)
                .bind(policy_name);
                write_identity(&self.pool, delete).await
            }

            async fn list_principal_policies(
                &self,
                principal_arn: &str,
            ) -> Result<Vec<(String, String)>, StoreError> {
                let rows = sqlx::query(
                    "SELECT policy_name, document FROM principal_policies \
                     WHERE principal_arn = $1 ORDER BY policy_name",
                )
                .bind(principal_arn)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| Ok((row.try_get("policy_name")?, row.try_get("document")?)))
                    .collect()
            }
        }
    };
}
