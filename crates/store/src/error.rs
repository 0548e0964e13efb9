//! [`StoreError`]: the one error of the storage layer, independent of the backend.
//!
//! Backend errors are classified by sqlx's error-kind API (never by parsing messages): a unique
//! or primary-key violation is `AlreadyExists`, a foreign-key violation (a row referring to a
//! key or principal that does not exist) is `NotFound`, and everything else is `Backend`, whose
//! text is for logs only and must not reach a client. The kind comes from SQLite's extended
//! result code and from PostgreSQL's SQLSTATE (23505 unique, 23503 foreign key; see the
//! PostgreSQL integration tests).

/// Why a [`Store`](crate::Store) call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row addressed (or a row it refers to) does not exist.
    #[error("not found")]
    NotFound,
    /// A row with the same unique identity exists.
    #[error("already exists")]
    AlreadyExists,
    /// Compare-and-swap lost: the stored row_version is not the one given.
    #[error("row version conflict")]
    Conflict,
    /// The change would exceed a limit (e.g. tags per key); nothing was changed.
    #[error("limit exceeded")]
    LimitExceeded,
    /// Any other backend failure; the detail is for logs only.
    #[error("storage backend error: {0}")]
    Backend(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::AlreadyExists,
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
            _ => StoreError::Backend(err.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        StoreError::Backend(format!("migration failed: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_database_errors_are_backend_errors() {
        assert!(matches!(
            StoreError::from(sqlx::Error::PoolClosed),
            StoreError::Backend(_)
        ));
        assert!(matches!(
            StoreError::from(sqlx::Error::RowNotFound),
            StoreError::NotFound
        ));
    }

    #[tokio::test]
    async fn constraint_violations_are_classified_by_kind() {
        use sqlx::{Connection, Executor};
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .expect("connect");
        conn.execute(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE p (id INTEGER PRIMARY KEY);
             CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p(id));
             INSERT INTO p VALUES (1);",
        )
        .await
        .expect("schema");
        let dup = conn.execute("INSERT INTO p VALUES (1)").await.unwrap_err();
        assert!(matches!(StoreError::from(dup), StoreError::AlreadyExists));
        let orphan = conn
            .execute("INSERT INTO c VALUES (1, 2)")
            .await
            .unwrap_err();
        assert!(matches!(StoreError::from(orphan), StoreError::NotFound));
        let bad = conn.execute("SELECT * FROM missing").await.unwrap_err();
        assert!(matches!(StoreError::from(bad), StoreError::Backend(_)));
    }
}
