//! Queries on `key_versions` beyond the first version `keys::insert` writes: reading one or all
//! of a key's materials, adding one, and changing a key together with one of its materials in one
//! transaction (rotation, import and deletion of imported material).

use sqlx::sqlite::{SqliteConnection, SqlitePool, SqliteRow};
use sqlx::Row;

use super::{keys, BEGIN_WRITE};
use crate::{KeyRow, KeyVersionRow, StoreError};

/// The columns of `key_versions` in the order [`version_from_row`] reads them.
macro_rules! version_columns {
    () => {
        "key_id, version, wrapped_material, created_at, material_id, rotation_type, \
         rotation_date, import_state, expiration_model, valid_to, material_description, \
         material_digest"
    };
}

/// Inserts `version`; `AlreadyExists` if the key has that version, `NotFound` if the key does
/// not exist (the foreign key).
pub(super) async fn insert_on(
    conn: &mut SqliteConnection,
    version: &KeyVersionRow,
) -> Result<(), StoreError> {
    bind_all(
        sqlx::query(concat!(
            "INSERT INTO key_versions (",
            version_columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )),
        version,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes `version`, inserting it or replacing every column of the stored row.
pub(super) async fn upsert_on(
    conn: &mut SqliteConnection,
    version: &KeyVersionRow,
) -> Result<(), StoreError> {
    bind_all(
        sqlx::query(concat!(
            "INSERT OR REPLACE INTO key_versions (",
            version_columns!(),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )),
        version,
    )
    .execute(conn)
    .await?;
    Ok(())
}

fn bind_all<'q>(
    query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    v: &'q KeyVersionRow,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    query
        .bind(&v.key_id)
        .bind(v.version)
        .bind(&v.wrapped_material)
        .bind(v.created_at)
        .bind(&v.material_id)
        .bind(&v.rotation_type)
        .bind(v.rotation_date)
        .bind(&v.import_state)
        .bind(&v.expiration_model)
        .bind(v.valid_to)
        .bind(&v.material_description)
        .bind(&v.material_digest)
}

pub(super) async fn insert(pool: &SqlitePool, version: &KeyVersionRow) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    insert_on(&mut conn, version).await
}

pub(super) async fn get(
    pool: &SqlitePool,
    key_id: &str,
    version: i64,
) -> Result<Option<KeyVersionRow>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        version_columns!(),
        " FROM key_versions WHERE key_id = ? AND version = ?"
    ))
    .bind(key_id)
    .bind(version)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(version_from_row).transpose()
}

pub(super) async fn list(
    pool: &SqlitePool,
    key_id: &str,
) -> Result<Vec<KeyVersionRow>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        version_columns!(),
        " FROM key_versions WHERE key_id = ? ORDER BY version"
    ))
    .bind(key_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(version_from_row).collect()
}

/// `update_key` and an upsert of `version` in one transaction: both or neither.
pub(super) async fn update_key_with_version(
    pool: &SqlitePool,
    key: &KeyRow,
    version: &KeyVersionRow,
) -> Result<KeyRow, StoreError> {
    if version.key_id != key.key_id {
        return Err(StoreError::Backend(
            "update_key_with_version: the version row belongs to another key".into(),
        ));
    }
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let updated = keys::update_on(&mut tx, key).await?;
    upsert_on(&mut tx, version).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Imported materials past their ValidTo that still hold material, each with its key row. A
/// version whose key vanished in between (destroyed by the deletion sweep) is left out.
pub(super) async fn expired(
    pool: &SqlitePool,
    now_ms: i64,
    limit: u32,
) -> Result<Vec<(KeyRow, KeyVersionRow)>, StoreError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        version_columns!(),
        " FROM key_versions WHERE valid_to IS NOT NULL AND valid_to <= ? \
         AND length(wrapped_material) > 0 ORDER BY valid_to, key_id, version LIMIT ?"
    ))
    .bind(now_ms)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let version = version_from_row(row)?;
        if let Some(key) = keys::get_by_id(pool, &version.key_id).await? {
            out.push((key, version));
        }
    }
    Ok(out)
}

fn version_from_row(row: &SqliteRow) -> Result<KeyVersionRow, StoreError> {
    Ok(KeyVersionRow {
        key_id: row.try_get("key_id")?,
        version: row.try_get("version")?,
        wrapped_material: row.try_get("wrapped_material")?,
        created_at: row.try_get("created_at")?,
        material_id: row.try_get("material_id")?,
        rotation_type: row.try_get("rotation_type")?,
        rotation_date: row.try_get("rotation_date")?,
        import_state: row.try_get("import_state")?,
        expiration_model: row.try_get("expiration_model")?,
        valid_to: row.try_get("valid_to")?,
        material_description: row.try_get("material_description")?,
        material_digest: row.try_get("material_digest")?,
    })
}
