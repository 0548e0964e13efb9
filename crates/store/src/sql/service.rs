//! What the service keeps beside keys and identities: leases that elect one node for
//! background work, the last use of each key, small settings, and the health check (see
//! [`super`] for how this is stamped).

/// The columns of `key_last_usage`, which are the fields of
/// [`KeyUsageRow`](crate::KeyUsageRow): calls `$then!($args, KeyUsageRow { fields })` (see
/// [`columns!`]).
macro_rules! usage_row {
    ($then:ident $(, $arg:tt)*) => {
        $then!($($arg,)* KeyUsageRow { key_arn, operation, used_at, request_id, event_id })
    };
}

macro_rules! service_methods {
    ($rest:tt $($methods:tt)*) => {
        queries! { [$rest $($methods)*
            /// One upsert whose update arm runs only for the same holder or an expired lease;
            /// the returned row says whether it was granted. SQLite runs one writer at a time;
            /// PostgreSQL guarantees that `INSERT ... ON CONFLICT DO UPDATE` inserts or locks
            /// the existing row and evaluates the `WHERE` on its latest version. Either way, of
            /// callers racing for a free or expired lease exactly one matches.
            async fn try_acquire_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64)
                -> Result<bool, StoreError> {
                let granted = sqlx::query(
                    "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                     expires_at = excluded.expires_at \
                     WHERE leases.holder = excluded.holder OR leases.expires_at <= $4 \
                     RETURNING holder",
                )
                .bind(name)
                .bind(holder)
                .bind(now_ms.saturating_add(ttl_ms))
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?;
                Ok(granted.is_some())
            }

            async fn record_key_usage(&self, uses: &[KeyUsageRow]) -> Result<(), StoreError> {
                if uses.is_empty() {
                    return Ok(());
                }
                let mut tx = self.pool.begin_with(BEGIN_WRITE).await?;
                for used in uses {
                    let upsert = sqlx::query(concat!(
                        "INSERT INTO key_last_usage (",
                        usage_row!(columns),
                        ") VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (key_arn) DO UPDATE SET operation = excluded.operation, \
                         used_at = excluded.used_at, request_id = excluded.request_id, \
                         event_id = excluded.event_id \
                         WHERE excluded.used_at > key_last_usage.used_at"
                    ));
                    usage_row!(binds, upsert, used).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn get_setting(&self, name: &str) -> Result<Option<String>, StoreError> {
                let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|row| row.try_get("value")).transpose()?)
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }
        ]
            release_lease(name: &str, holder: &str) -> ()
                = "DELETE FROM leases WHERE name = $1 AND holder = $2";
            get_key_usage(key_arn: &str) -> Option<KeyUsageRow>
                = usage_row "FROM key_last_usage WHERE key_arn = $1";
            delete_key_usage(key_arn: &str) -> ()
                = "DELETE FROM key_last_usage WHERE key_arn = $1";
            set_setting(name: &str, value: &str) -> ()
                = "INSERT INTO settings (name, value) VALUES ($1, $2) \
                    ON CONFLICT (name) DO UPDATE SET value = excluded.value";
        }
    };
}
