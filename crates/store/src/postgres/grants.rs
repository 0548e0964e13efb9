//! Queries on `grants`: a key's grants, looked up by id, token, name, grantee or retiring
//! principal. Each call is a single statement, so none needs an explicit transaction; the
//! key's existence on insert is checked by the foreign key.

use sqlx::postgres::{PgPool, PgRow};
use sqlx::Row;

use crate::{GrantRow, StoreError};

/// The columns of `grants` in the order [`grant_from_row`] reads them (a macro so that it can
/// be `concat!`ed into static SQL).
macro_rules! grant_columns {
    () => {
        "grant_id, key_id, grant_token, name, grantee_principal, retiring_principal, \
         issuing_account, operations, constraints, creation_date"
    };
}

/// Filters and position of one page of [`list`].
pub(super) struct Page<'a> {
    pub(super) grant_id: Option<&'a str>,
    pub(super) grantee_principal: Option<&'a str>,
    pub(super) after_grant_id: Option<&'a str>,
    pub(super) limit: u32,
}

pub(super) async fn insert(pool: &PgPool, grant: &GrantRow) -> Result<(), StoreError> {
    sqlx::query(concat!(
        "INSERT INTO grants (",
        grant_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(&grant.grant_id)
    .bind(&grant.key_id)
    .bind(&grant.grant_token)
    .bind(&grant.name)
    .bind(&grant.grantee_principal)
    .bind(&grant.retiring_principal)
    .bind(&grant.issuing_account)
    .bind(&grant.operations)
    .bind(&grant.constraints)
    .bind(grant.creation_date)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn get(
    pool: &PgPool,
    key_id: &str,
    grant_id: &str,
) -> Result<Option<GrantRow>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        grant_columns!(),
        " FROM grants WHERE key_id = $1 AND grant_id = $2"
    ))
    .bind(key_id)
    .bind(grant_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(grant_from_row).transpose()
}

pub(super) async fn get_by_token(
    pool: &PgPool,
    grant_token: &str,
) -> Result<Option<GrantRow>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        grant_columns!(),
        " FROM grants WHERE grant_token = $1"
    ))
    .bind(grant_token)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(grant_from_row).transpose()
}

pub(super) async fn find_by_name(
    pool: &PgPool,
    key_id: &str,
    name: &str,
) -> Result<Vec<GrantRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        grant_columns!(),
        " FROM grants WHERE key_id = $1 AND name = $2 ORDER BY grant_id"
    ))
    .bind(key_id)
    .bind(name)
    .fetch_all(pool)
    .await?;
    rows.iter().map(grant_from_row).collect()
}

pub(super) async fn list(
    pool: &PgPool,
    key_id: &str,
    page: Page<'_>,
) -> Result<Vec<GrantRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        grant_columns!(),
        " FROM grants WHERE key_id = $1 AND ($2::text IS NULL OR grant_id = $2) \
         AND ($3::text IS NULL OR grantee_principal = $3) AND ($4::text IS NULL OR grant_id > $4) \
         ORDER BY grant_id LIMIT $5"
    ))
    .bind(key_id)
    .bind(page.grant_id)
    .bind(page.grantee_principal)
    .bind(page.after_grant_id)
    .bind(i64::from(page.limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(grant_from_row).collect()
}

pub(super) async fn list_retirable(
    pool: &PgPool,
    retiring_principal: &str,
    after_grant_id: Option<&str>,
    limit: u32,
) -> Result<Vec<GrantRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        grant_columns!(),
        " FROM grants WHERE retiring_principal = $1 AND ($2::text IS NULL OR grant_id > $2) \
         ORDER BY grant_id LIMIT $3"
    ))
    .bind(retiring_principal)
    .bind(after_grant_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(grant_from_row).collect()
}

pub(super) async fn for_grantee(
    pool: &PgPool,
    key_id: &str,
    grantee_principal: &str,
) -> Result<Vec<GrantRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        grant_columns!(),
        " FROM grants WHERE key_id = $1 AND grantee_principal = $2 ORDER BY grant_id"
    ))
    .bind(key_id)
    .bind(grantee_principal)
    .fetch_all(pool)
    .await?;
    rows.iter().map(grant_from_row).collect()
}

pub(super) async fn delete(pool: &PgPool, key_id: &str, grant_id: &str) -> Result<(), StoreError> {
    let deleted = sqlx::query("DELETE FROM grants WHERE key_id = $1 AND grant_id = $2")
        .bind(key_id)
        .bind(grant_id)
        .execute(pool)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn grant_from_row(row: &PgRow) -> Result<GrantRow, StoreError> {
    Ok(GrantRow {
        grant_id: row.try_get("grant_id")?,
        key_id: row.try_get("key_id")?,
        grant_token: row.try_get("grant_token")?,
        name: row.try_get("name")?,
        grantee_principal: row.try_get("grantee_principal")?,
        retiring_principal: row.try_get("retiring_principal")?,
        issuing_account: row.try_get("issuing_account")?,
        operations: row.try_get("operations")?,
        constraints: row.try_get("constraints")?,
        creation_date: row.try_get("creation_date")?,
    })
}

pub(super) async fn rebind_principals(
    pool: &PgPool,
    arn: &str,
    unique_id: &str,
) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
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
