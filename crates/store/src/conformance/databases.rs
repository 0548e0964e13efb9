//! Scratch PostgreSQL databases for test suites that run against a real server (this crate's
//! PostgreSQL tests, and the server's API suite run on PostgreSQL).

use sqlx::Connection;

/// `url` with its database replaced by `database` (the query string is kept).
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    format!("{server}/{database}{query}")
}

/// Creates the database `name` (letters, digits and `_` only) on the server of `server_url`
/// unless it exists; `extra` is appended to `CREATE DATABASE name`. Returns its URL.
pub async fn create_database(server_url: &str, name: &str, extra: &str) -> Result<String, String> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!("unsafe database name {name:?}"));
    }
    let mut admin = sqlx::PgConnection::connect(server_url)
        .await
        .map_err(|e| e.to_string())?;
    let exists = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut admin)
        .await
        .map_err(|e| e.to_string())?
        .is_some();
    let created = if exists {
        Ok(())
    } else {
        sqlx::query(&format!("CREATE DATABASE {name} {extra}"))
            .execute(&mut admin)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let _ = admin.close().await;
    created.map(|()| with_database(server_url, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced_and_query_kept() {
        assert_eq!(
            with_database("postgres://u@h:5/a?sslmode=disable", "b"),
            "postgres://u@h:5/b?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:5/a", "b"),
            "postgres://u@h:5/b"
        );
    }
}
