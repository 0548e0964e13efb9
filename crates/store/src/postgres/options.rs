//! [`PgOptions`]: the pool settings of a [`PgStore`](super::PgStore), and how they ride along in
//! the database URL so that one string configures a node.

use std::time::Duration;

use crate::StoreError;

/// Pool and session settings of a [`PgStore`](super::PgStore).
///
/// Each may also be given as a query parameter of the URL passed to
/// [`PgStore::open`](super::PgStore::open) (or [`open_store`](crate::open_store)), which takes
/// precedence over the default and is removed before the URL reaches the driver:
/// `max_connections=N`, `acquire_timeout_ms=N`, `statement_timeout_ms=N`
/// (e.g. `postgres://kms@db.internal/ferrokms?max_connections=32`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PgOptions {
    /// Connections this node keeps open at most for its requests; it holds one more, to listen
    /// for the change feed's notifications. Size it so that every node's maximum plus one,
    /// together, stays below the server's `max_connections`. Default 16.
    pub max_connections: u32,
    /// How long a call waits for a free connection (or a new one) before failing with
    /// `Backend`, so that an overloaded or unreachable database fails requests instead of
    /// queueing them without end. Default 5 s.
    pub acquire_timeout: Duration,
    /// The server-side `statement_timeout` of every pooled session: no statement, lock waits
    /// included, runs longer. Zero leaves the server's setting alone (e.g. behind a pooler that
    /// refuses startup options). Default 30 s.
    pub statement_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

/// The URL query parameters [`PgOptions::from_url`] understands.
const MAX_CONNECTIONS: &str = "max_connections";
const ACQUIRE_TIMEOUT_MS: &str = "acquire_timeout_ms";
const STATEMENT_TIMEOUT_MS: &str = "statement_timeout_ms";

impl PgOptions {
    /// Splits `url` into the URL for the driver, without this crate's parameters, and the
    /// options: the defaults overridden by those parameters.
    ///
    /// Errors: `Backend` if one of them is not a number (or `max_connections` is 0). The
    /// message names the parameter, never the URL, which may hold a password.
    pub fn from_url(url: &str) -> Result<(String, Self), StoreError> {
        let mut options = Self::default();
        let Some((base, query)) = url.split_once('?') else {
            return Ok((url.to_owned(), options));
        };
        let mut kept = Vec::new();
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match name {
                MAX_CONNECTIONS => {
                    options.max_connections = parse_number(name, value)?;
                    if options.max_connections == 0 {
                        return Err(invalid(name));
                    }
                }
                ACQUIRE_TIMEOUT_MS => {
                    options.acquire_timeout = Duration::from_millis(parse_number(name, value)?);
                }
                STATEMENT_TIMEOUT_MS => {
                    options.statement_timeout = Duration::from_millis(parse_number(name, value)?);
                }
                _ => kept.push(pair),
            }
        }
        let url = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok((url, options))
    }
}

fn parse_number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, StoreError> {
    value.parse().map_err(|_| invalid(name))
}

fn invalid(name: &str) -> StoreError {
    StoreError::Backend(format!("invalid `{name}` in the PostgreSQL URL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_without_parameters_keeps_the_defaults() {
        let (url, options) = PgOptions::from_url("postgres://u:p@h:5432/db").expect("parse");
        assert_eq!(url, "postgres://u:p@h:5432/db");
        assert_eq!(options, PgOptions::default());
    }

    #[test]
    fn pool_parameters_are_read_and_removed_others_are_kept() {
        let (url, options) = PgOptions::from_url(
            "postgres://h/db?max_connections=3&sslmode=disable&acquire_timeout_ms=250\
             &statement_timeout_ms=0&application_name=x",
        )
        .expect("parse");
        assert_eq!(url, "postgres://h/db?sslmode=disable&application_name=x");
        assert_eq!(
            options,
            PgOptions {
                max_connections: 3,
                acquire_timeout: Duration::from_millis(250),
                statement_timeout: Duration::ZERO,
            }
        );
        let (url, _) = PgOptions::from_url("postgres://h/db?max_connections=3").expect("parse");
        assert_eq!(url, "postgres://h/db");
    }

    #[test]
    fn bad_parameters_are_refused_without_echoing_the_url() {
        for bad in [
            "max_connections=0",
            "max_connections=x",
            "acquire_timeout_ms=-1",
        ] {
            let url = format!("postgres://user:secret@h/db?{bad}");
            match PgOptions::from_url(&url) {
                Err(StoreError::Backend(message)) => assert!(!message.contains("secret")),
                other => panic!("{bad}: expected Backend, got {other:?}"),
            }
        }
    }
}
