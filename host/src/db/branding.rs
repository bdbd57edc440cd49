//! SQL for the portal's brand: one row, id 1.

use super::DbError;
use sqlx::{Any, Executor, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct BrandRow {
    pub name: String,
    pub accent: String,
    pub logo_type: Option<String>,
    pub updated_at: i64,
}

pub async fn get<'e, E: Executor<'e, Database = Any>>(e: E) -> Result<Option<BrandRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT name, accent, logo_type, updated_at FROM branding WHERE id = 1")
            .fetch_optional(e)
            .await?,
    )
}

/// The logo's bytes and type, if one is set.
pub async fn logo<'e, E: Executor<'e, Database = Any>>(
    e: E,
) -> Result<Option<(Vec<u8>, String)>, DbError> {
    let row: Option<(Option<Vec<u8>>, Option<String>)> =
        sqlx::query_as("SELECT logo, logo_type FROM branding WHERE id = 1")
            .fetch_optional(e)
            .await?;
    Ok(row.and_then(|(bytes, kind)| Some((bytes?, kind?))))
}

/// Sets the name and accent; `logo` replaces the logo (`Some(None)` removes it, `None` keeps it).
pub async fn set<'e, E: Executor<'e, Database = Any>>(
    e: E,
    name: &str,
    accent: &str,
    logo: Option<Option<(&[u8], &str)>>,
    now: i64,
) -> Result<(), DbError> {
    let (replace, bytes, kind) = match logo {
        None => (0i64, None, None),
        Some(None) => (1, None, None),
        Some(Some((bytes, kind))) => (1, Some(bytes.to_vec()), Some(kind.to_owned())),
    };
    sqlx::query(
        "INSERT INTO branding (id, name, accent, logo, logo_type, updated_at)
         VALUES (1, $1, $2, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, accent = excluded.accent,
           logo = CASE WHEN $3 = 1 THEN excluded.logo ELSE branding.logo END,
           logo_type = CASE WHEN $3 = 1 THEN excluded.logo_type ELSE branding.logo_type END,
           updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(accent)
    .bind(replace)
    .bind(bytes)
    .bind(kind)
    .bind(now)
    .execute(e)
    .await?;
    Ok(())
}
