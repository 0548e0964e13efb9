//! Custom key stores (`custom_key_stores`): insert, read, pages by id, and compare-and-swap
//! updates and deletion on `row_version` (see [`super`] for how this is stamped).

/// The columns of `custom_key_stores`, which are the fields of
/// [`CustomKeyStoreRow`](crate::CustomKeyStoreRow) (see [`columns!`]).
macro_rules! custom_key_store_row {
    ($then:ident $(, $arg:tt)*) => {
        $then!($($arg,)* CustomKeyStoreRow {
            custom_key_store_id, account_id, region, name, store_type, cloud_hsm_cluster_id,
            trust_anchor_certificate, wrapped_password, xks_uri_endpoint, xks_uri_path,
            xks_connectivity, xks_access_key_id, wrapped_xks_secret, connection_state,
            creation_date, row_version,
        })
    };
}

macro_rules! custom_key_store_methods {
    ($rest:tt $($methods:tt)*) => {
        /// What a compare-and-swap write of a custom key store that touched no row means: the
        /// store is gone (`NotFound`) or another write moved its row_version (`Conflict`).
        async fn custom_key_store_missed(
            store: &Backend,
            (account_id, region, id): (&str, &str, &str),
        ) -> StoreError {
            match crate::Store::get_custom_key_store(store, account_id, region, id).await {
                Ok(Some(_)) => StoreError::Conflict,
                Ok(None) => StoreError::NotFound,
                Err(e) => e,
            }
        }

        queries! { [$rest $($methods)*
            async fn update_custom_key_store(&self, store: &CustomKeyStoreRow)
                -> Result<CustomKeyStoreRow, StoreError> {
                let updated = sqlx::query(concat!(
                    "UPDATE custom_key_stores SET name = $1, store_type = $2, \
                     cloud_hsm_cluster_id = $3, trust_anchor_certificate = $4, \
                     wrapped_password = $5, xks_uri_endpoint = $6, xks_uri_path = $7, \
                     xks_connectivity = $8, xks_access_key_id = $9, wrapped_xks_secret = $10, \
                     connection_state = $11, row_version = row_version + 1 \
                     WHERE custom_key_store_id = $12 AND account_id = $13 AND region = $14 \
                     AND row_version = $15 RETURNING ",
                    custom_key_store_row!(columns)
                ))
                .bind(&store.name)
                .bind(&store.store_type)
                .bind(&store.cloud_hsm_cluster_id)
                .bind(&store.trust_anchor_certificate)
                .bind(&store.wrapped_password)
                .bind(&store.xks_uri_endpoint)
                .bind(&store.xks_uri_path)
                .bind(&store.xks_connectivity)
                .bind(&store.xks_access_key_id)
                .bind(&store.wrapped_xks_secret)
                .bind(&store.connection_state)
                .bind(&store.custom_key_store_id)
                .bind(&store.account_id)
                .bind(&store.region)
                .bind(store.row_version)
                .fetch_optional(&self.pool)
                .await?;
                match updated {
                    Some(row) => custom_key_store_row!(decode, row),
                    None => Err(custom_key_store_missed(
                        self,
                        (&store.account_id, &store.region, &store.custom_key_store_id),
                    )
                    .await),
                }
            }

            async fn delete_custom_key_store(&self, account_id: &str, region: &str,
                custom_key_store_id: &str, expected_row_version: i64)
                -> Result<(), StoreError> {
                let deleted = sqlx::query(
                    "DELETE FROM custom_key_stores WHERE custom_key_store_id = $1 \
                     AND account_id = $2 AND region = $3 AND row_version = $4",
                )
                .bind(custom_key_store_id)
                .bind(account_id)
                .bind(region)
                .bind(expected_row_version)
                .execute(&self.pool)
                .await?;
                if deleted.rows_affected() > 0 {
                    return Ok(());
                }
                Err(custom_key_store_missed(self, (account_id, region, custom_key_store_id)).await)
            }
        ]
            insert_custom_key_store(store: &CustomKeyStoreRow) -> ()
                = insert custom_key_store_row "custom_key_stores"
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
            get_custom_key_store(account_id: &str, region: &str, custom_key_store_id: &str)
                -> Option<CustomKeyStoreRow>
                = custom_key_store_row "FROM custom_key_stores \
                    WHERE account_id = $1 AND region = $2 AND custom_key_store_id = $3";
            list_custom_key_stores(
                account_id: &str,
                region: &str,
                name: Option<&str>,
                after_id: Option<&str>,
                limit: u32 => i64::from(limit)
            ) -> Vec<CustomKeyStoreRow>
                = custom_key_store_row "FROM custom_key_stores \
                    WHERE account_id = $1 AND region = $2 AND ($3 IS NULL OR name = $3) \
                    AND ($4 IS NULL OR custom_key_store_id > $4) \
                    ORDER BY custom_key_store_id LIMIT $5";
        }
    };
}
