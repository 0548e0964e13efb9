//! The one body of [`Store`](crate::Store) that both SQL backends run: every query is written
//! here once, and [`stamp_store!`] expands it once per backend with that backend's concrete sqlx
//! types (`SqliteStore` over `sqlx::Sqlite`, `PgStore` over `sqlx::Postgres`).
//!
//! Why a macro and not generic code: a body generic over `sqlx::Database` needs the
//! higher-ranked executor bounds (`for<'c> &'c mut DB::Connection: Executor<'c>`) and a
//! `Type + Encode + Decode` bound per bound type repeated on every function (Rust does not imply
//! them), and such generic futures inside `#[async_trait]` regularly fail the `Send` check;
//! sqlx's `Any` driver cannot bind arrays (`UNNEST`, `ANY`) and maps BLOB/BYTEA and booleans
//! through its own lowest common type; a query builder is a new dependency for SQL that is
//! already 95% the same text. Stamped concrete code has none of these costs: each backend
//! compiles exactly the code it had before, and the SQL exists once.
//!
//! The SQL text is shared as written: both backends take `$n` placeholders (sqlx binds SQLite's
//! `$n` by number), `ON CONFLICT ... DO UPDATE` upserts and `RETURNING`. What the dialects do
//! not share, each backend module defines under the same names before invoking
//! [`stamp_store!`] (its "dialect"):
//!
//! - types `Backend` (the store, with a `pool: sqlx::Pool<Db>` field), `Db`, `DbRow`, `DbConn`;
//! - `BEGIN_WRITE`, the statement that opens a multi-statement write transaction
//!   (SQLite: `BEGIN IMMEDIATE`, which takes the database's write lock up front);
//! - row locks, `for_update!()` and `for_no_key_update!()`, appended to the `SELECT` that
//!   reads the row a transaction depends on (SQLite: empty, its write lock covers everything);
//! - `contains!(haystack, needle)`, substring search (`instr` / `strpos`);
//! - `rotation_enabled!()`, the predicate of the partial index on enabled rotation schedules,
//!   spelled as each migration spelled it so that the planner uses the index;
//! - `upsert_tags(conn, key_id, tags)` and `delete_tags(pool, key_id, tag_keys)`: PostgreSQL
//!   binds arrays and does each in one statement, SQLite runs one statement per tag;
//! - `Backend::after_destroy(&self)`, what follows a committed key destruction (SQLite
//!   checkpoints the WAL so that freed pages are zeroed on disk; PostgreSQL does nothing);
//! - `Backend::wait_for_changes(&self, timeout)`, the wait for the change feed to grow
//!   (PostgreSQL listens for the triggers' notifications, SQLite sleeps).
//!
//! Each file below holds the [`Store`](crate::Store) methods of one table group, as a
//! `macro_rules!` that appends them to the impl being assembled, plus the helpers they share
//! (decoders of rows, statements run inside a caller's transaction). A new store method is
//! written twice: declared in the trait, defined in one of these files.

#[macro_use]
mod aliases;
#[macro_use]
mod changes;
#[macro_use]
mod custom_key_stores;
#[macro_use]
mod grants;
#[macro_use]
mod identity;
#[macro_use]
mod keys;
#[macro_use]
mod lifecycle;
#[macro_use]
mod principals;
#[macro_use]
mod rotation;
#[macro_use]
mod service;
#[macro_use]
mod tags;
#[macro_use]
mod versions;

/// `columns!(Row { a, b })` is `"a, b"`: the columns of a table whose row type names its
/// fields after them, for `concat!`ing into static SQL. Used as `key_row!(columns)`, with the
/// field list of the table's `*_row!` macro, so that SQL and decoder read one list.
macro_rules! columns {
    ($row:ident { $($field:ident),* $(,)? }) => {
        stringify!($($field),*)
    };
}

/// `select!(key_row, "FROM keys WHERE ...")`: the query that selects every column of the row
/// type of `key_row!` (see [`columns!`]), followed by the rest of the SQL (`concat!`ed).
macro_rules! select {
    ($row:ident, $($sql:expr),+ $(,)?) => {
        sqlx::query(concat!("SELECT ", $row!(columns), " ", $($sql),+))
    };
}

/// `decode!(db_row, Row { a, b })` reads a `Row` from `db_row`, each field from the column of
/// its name (see [`columns!`]).
macro_rules! decode {
    ($db_row:ident, $row:ident { $($field:ident),* $(,)? }) => {
        Ok($row {
            $($field: $db_row.try_get(stringify!($field))?,)*
        })
    };
}

/// `bound!(arg)` is `arg`; `bound!(arg, expr)` is `expr`: what [`queries!`] binds for an
/// argument written `arg: Type` or `arg: Type => expr`.
macro_rules! bound {
    ($arg:ident) => {
        $arg
    };
    ($arg:ident, $bind:expr) => {
        $bind
    };
}

/// `binds!(query, value, Row { a, b })` is `query.bind(&value.a).bind(&value.b)`: every field
/// of a row, in the order of its `*_row!` macro, for `$1, $2, ...`. Used as
/// `grant_row!(binds, query, grant)`.
macro_rules! binds {
    ($query:expr, $value:ident, $row:ident { $($field:ident),* $(,)? }) => {
        $query $(.bind(&$value.$field))*
    };
}

/// The store methods that are one statement on the pool, one entry each, appended to the
/// methods being assembled (`[groups methods]`, see [`stamp_store!`]) before handing on:
///
/// - `name(arg: Type, ...) -> Option<Row> = row_macro "FROM ...";` selects every column of the
///   row type (see [`select!`]) and decodes the row found, if any; `-> Vec<Row>` every row;
/// - `name(arg: Type, ...) -> () = "SQL";` runs a statement; `-> () or NotFound` answers
///   that error when it touched no row;
/// - `name(row: &Row) -> () = insert row_macro "table" "VALUES ...";` inserts every column of
///   `row` (see [`binds!`]).
///
/// The arguments are bound in order as `$1, $2, ...`; `arg: Type => expr` binds `expr`.
macro_rules! queries {
    ([$($done:tt)*]) => {
        stamp_store! { $($done)* }
    };
    (
        [$($done:tt)*]
        $(#[$meta:meta])*
        $name:ident($($arg:ident: $ty:ty $(=> $bind:expr)?),*) -> $found:ident<$row:ident>
            = $columns:ident $($sql:expr),+;
        $($more:tt)*
    ) => {
        queries! { [$($done)*
            $(#[$meta])*
            async fn $name(&self, $($arg: $ty),*) -> Result<$found<$row>, StoreError> {
                let query = select!($columns, $($sql),+) $(.bind(bound!($arg $(, $bind)?)))*;
                let decode = |row: &DbRow| -> Result<$row, StoreError> { $columns!(decode, row) };
                fetch_as!($found)(&self.pool, query, decode).await
            }
        ] $($more)* }
    };
    (
        [$($done:tt)*]
        $(#[$meta:meta])*
        $name:ident($value:ident: &$row:ident) -> ()
            = insert $columns:ident $table:literal $($sql:expr),+;
        $($more:tt)*
    ) => {
        queries! { [$($done)*
            $(#[$meta])*
            async fn $name(&self, $value: &$row) -> Result<(), StoreError> {
                let query = sqlx::query(concat!(
                    "INSERT INTO ", $table, " (", $columns!(columns), ") ", $($sql),+
                ));
                $columns!(binds, query, $value).execute(&self.pool).await?;
                Ok(())
            }
        ] $($more)* }
    };
    (
        [$($done:tt)*]
        $(#[$meta:meta])*
        $name:ident($($arg:ident: $ty:ty $(=> $bind:expr)?),*) -> () $(or $missing:ident)?
            = $($sql:expr),+;
        $($more:tt)*
    ) => {
        queries! { [$($done)*
            $(#[$meta])*
            async fn $name(&self, $($arg: $ty),*) -> Result<(), StoreError> {
                let query = sqlx::query(concat!($($sql),+)) $(.bind(bound!($arg $(, $bind)?)))*;
                let _done = query.execute(&self.pool).await?;
                $(if _done.rows_affected() == 0 {
                    return Err(StoreError::$missing);
                })?
                Ok(())
            }
        ] $($more)* }
    };
}

/// `fetch_as!(Option)` is [`fetch_optional_as`], `fetch_as!(Vec)` [`fetch_all_as`]: what
/// [`queries!`] runs for an entry answering `Option<Row>` or `Vec<Row>`.
macro_rules! fetch_as {
    (Option) => {
        fetch_optional_as
    };
    (Vec) => {
        fetch_all_as
    };
}

/// Expands the shared body in the backend module that invokes it: a private module `stamped`
/// that sees the module's dialect (through `use super::*`), holds the groups' helpers and
/// implements [`Store`](crate::Store) for `Backend`.
///
/// `#[async_trait]` rewrites the methods of an impl only if they are in its tokens, not behind
/// a macro call, so the groups are chained: each group macro emits its helpers and calls back
/// with the methods collected so far plus its own, and the last rule emits the one impl.
macro_rules! stamp_store {
    () => {
        /// The shared store body of [`crate::sql`], stamped for this backend.
        mod stamped {
            use super::*;
            use crate::{
                AccessKeyRow, AliasRow, ChangeRow, CustomKeyStoreRow, GrantRow, KeyRotationRow, KeyRow, KeyUsageRow,
                KeyVersionRow, PrincipalRow, StoreError, Tag, ENABLED_STATE,
                PENDING_DELETION_STATE,
            };
            use sqlx::Row as _;

            /// A statement with its arguments bound, not yet run.
            type DbQuery<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;

            /// A function reading one `T` from one row.
            type Decode<T> = fn(&DbRow) -> Result<T, StoreError>;

            /// Runs `query` and decodes every row it returns ([`fetch_all_as`]) or the one
            /// it returns, if any ([`fetch_optional_as`]).
            async fn fetch_all_as<T>(pool: &sqlx::Pool<Db>, query: DbQuery<'_>, decode: Decode<T>)
                -> Result<Vec<T>, StoreError> {
                query.fetch_all(pool).await?.iter().map(decode).collect()
            }
            async fn fetch_optional_as<T>(pool: &sqlx::Pool<Db>, query: DbQuery<'_>,
                decode: Decode<T>) -> Result<Option<T>, StoreError> {
                query.fetch_optional(pool).await?.as_ref().map(decode).transpose()
            }

            stamp_store! {
                [
                    key_methods lifecycle_methods version_methods rotation_methods alias_methods
                    tag_methods grant_methods principal_methods identity_methods service_methods
                    change_methods custom_key_store_methods
                ]
            }
        }
    };
    ([] $($methods:tt)*) => {
        #[async_trait::async_trait]
        impl crate::Store for Backend {
            $($methods)*
        }
    };
    ([$group:ident $($rest:ident)*] $($methods:tt)*) => {
        $group! { [$($rest)*] $($methods)* }
    };
}
