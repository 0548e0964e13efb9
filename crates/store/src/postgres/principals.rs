//! Queries on `principals` and `access_keys`: a principal is created with its first access key.

use sqlx::postgres::{PgPool, PgRow};
use sqlx::Row;

use crate::{AccessKeyRow, PrincipalRow, StoreError};

pub(super) async fn insert(
    pool: &PgPool,
    principal: &PrincipalRow,
    access_key: Option<&AccessKeyRow>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO principals (arn, account_id, name, created_at, assume_role_policy, unique_id) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&principal.arn)
    .bind(&principal.account_id)
    .bind(&principal.name)
    .bind(principal.created_at)
    .bind(&principal.assume_role_policy)
    .bind(&principal.unique_id)
    .execute(&mut *tx)
    .await?;
    if let Some(access_key) = access_key {
        sqlx::query(
            "INSERT INTO access_keys \
         (access_key_id, principal_arn, account_id, wrapped_secret, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&access_key.access_key_id)
        .bind(&access_key.principal_arn)
        .bind(&access_key.account_id)
        .bind(&access_key.wrapped_secret)
        .bind(access_key.created_at)
        .execute(&mut *tx)
        .await?;
    }
    super::identity::bump(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn update_assume_role_policy(
    pool: &PgPool,
    arn: &str,
    document: &str,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let updated = sqlx::query("UPDATE principals SET assume_role_policy = $1 WHERE arn = $2")
        .bind(document)
        .bind(arn)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    super::identity::bump(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn get(pool: &PgPool, arn: &str) -> Result<Option<PrincipalRow>, StoreError> {
    let row = sqlx::query(
        "SELECT arn, account_id, name, created_at, assume_role_policy, unique_id \
         FROM principals WHERE arn = $1",
    )
    .bind(arn)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(principal_from_row).transpose()
}

pub(super) async fn list(pool: &PgPool, account_id: &str) -> Result<Vec<PrincipalRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT arn, account_id, name, created_at, assume_role_policy, unique_id FROM principals \
         WHERE account_id = $1 ORDER BY arn",
    )
    .bind(account_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(principal_from_row).collect()
}

pub(super) async fn get_access_key(
    pool: &PgPool,
    access_key_id: &str,
) -> Result<Option<AccessKeyRow>, StoreError> {
    let row = sqlx::query(
        "SELECT access_key_id, principal_arn, account_id, wrapped_secret, created_at \
         FROM access_keys WHERE access_key_id = $1",
    )
    .bind(access_key_id)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(AccessKeyRow {
        access_key_id: row.try_get("access_key_id")?,
        principal_arn: row.try_get("principal_arn")?,
        account_id: row.try_get("account_id")?,
        wrapped_secret: row.try_get("wrapped_secret")?,
        created_at: row.try_get("created_at")?,
    }))
}

fn principal_from_row(row: &PgRow) -> Result<PrincipalRow, StoreError> {
    Ok(PrincipalRow {
        arn: row.try_get("arn")?,
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        assume_role_policy: row.try_get("assume_role_policy")?,
        unique_id: row.try_get("unique_id")?,
    })
}

pub(super) async fn roles_with_trust_policy_containing(
    pool: &PgPool,
    needle: &str,
) -> Result<Vec<PrincipalRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT arn, account_id, name, created_at, assume_role_policy, unique_id FROM principals \
         WHERE strpos(assume_role_policy, $1) > 0 ORDER BY arn",
    )
    .bind(needle)
    .fetch_all(pool)
    .await?;
    rows.iter().map(principal_from_row).collect()
}
