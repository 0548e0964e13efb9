//! The change feed (`change_feed`, written by the triggers of migration 0011): reading it,
//! pruning it, and waiting for it to grow, which is the dialect's (`Backend::wait_for_changes`;
//! see [`super`] for how this is stamped).

/// The columns of `change_feed` a reader needs (not `at`, the time it was written, which only
/// pruning reads), which are the fields of [`ChangeRow`](crate::ChangeRow): calls
/// `$then!($args, ChangeRow { fields })` (see [`columns!`]).
macro_rules! change_row {
    ($then:ident $(, $arg:tt)*) => {
        $then!($($arg,)* ChangeRow {
            seq, kind, account_id, region, name,
        })
    };
}

macro_rules! change_methods {
    ($rest:tt $($methods:tt)*) => {
        queries! { [$rest $($methods)*
            async fn last_change(&self) -> Result<i64, StoreError> {
                let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM change_feed")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(row.try_get("seq")?)
            }

            async fn prune_changes(&self, before: i64) -> Result<u64, StoreError> {
                let done = sqlx::query("DELETE FROM change_feed WHERE at < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn wait_for_changes(&self, timeout: std::time::Duration) {
                Backend::wait_for_changes(self, timeout).await
            }
        ]
            changes_after(after: i64, limit: u32 => i64::from(limit)) -> Vec<ChangeRow>
                = change_row "FROM change_feed WHERE seq > $1 ORDER BY seq LIMIT $2";
        }
    };
}
