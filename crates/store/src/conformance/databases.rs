//! Scratch PostgreSQL databases for test suites that run against a real server (this crate's
//! PostgreSQL tests, and the server's API suite run on PostgreSQL), and their removal: a
//! database of a few megabytes per test adds up over runs on one server, so every test drops
//! what it created, also when it fails ([`ScratchDatabase`], [`drop_database_blocking`]).

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
    check_name(name)?;
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

/// Drops the database `name` (see [`create_database`] for the names allowed) on the server of
/// `server_url` if it exists, ending its sessions first (`WITH (FORCE)`): a test that failed may
/// have left a pool open on it.
pub async fn drop_database(server_url: &str, name: &str) -> Result<(), String> {
    check_name(name)?;
    let mut admin = sqlx::PgConnection::connect(server_url)
        .await
        .map_err(|e| e.to_string())?;
    let dropped = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string());
    let _ = admin.close().await;
    dropped
}

/// [`drop_database`] from synchronous code, e.g. a `Drop` impl, which may run inside an async
/// runtime that must not be blocked on a future: it runs on a thread of its own with a runtime
/// of its own, and waits for it. A failure is reported on stderr, never as a panic (a panic
/// while a failed test unwinds would abort the test binary).
pub fn drop_database_blocking(server_url: &str, name: &str) {
    let (server_url, name) = (server_url.to_owned(), name.to_owned());
    let outcome = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(drop_database(&server_url, &name))
    })
    .join();
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(err)) => eprintln!("note: could not drop a test database: {err}"),
        Err(_) => eprintln!("note: dropping a test database panicked"),
    }
}

/// A database created for one test and dropped, with its sessions, when this value is dropped:
/// at the end of the test, or while it unwinds from a failure.
pub struct ScratchDatabase {
    server_url: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// Creates the database `name` anew on the server of `server_url` (one left over by a run
    /// that was killed is dropped first); `extra` is appended to `CREATE DATABASE name`.
    pub async fn create(server_url: &str, name: &str, extra: &str) -> Result<Self, String> {
        drop_database(server_url, name).await?;
        let url = create_database(server_url, name, extra).await?;
        Ok(Self {
            server_url: server_url.to_owned(),
            name: name.to_owned(),
            url,
        })
    }

    /// The URL of the database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        drop_database_blocking(&self.server_url, &self.name);
    }
}

/// A database name is spliced into SQL (`CREATE DATABASE` takes no parameters): letters, digits
/// and `_` only.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!("unsafe database name {name:?}"));
    }
    Ok(())
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

    #[tokio::test]
    async fn unsafe_names_are_refused_before_connecting() {
        // Nothing listens on port 1: an attempt to connect would fail differently.
        let server = "postgres://u@127.0.0.1:1/postgres";
        for name in ["", "a;b", "x y", "ferrokms\"", "Ω"] {
            let dropped = drop_database(server, name).await;
            assert!(dropped.is_err_and(|e| e.starts_with("unsafe")), "{name:?}");
        }
    }
}
