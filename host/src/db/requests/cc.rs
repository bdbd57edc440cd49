//! Colleagues a request is shared with (CC).

use super::DbError;
use sqlx::{Any, Executor, FromRow};

/// Someone a request is shared with.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct CcRow {
    pub user_id: i64,
    pub name: String,
    pub email: String,
}

/// Who request `request_id` is shared with, by name.
pub async fn of<'e, E: Executor<'e, Database = Any>>(
    e: E,
    request_id: i64,
) -> Result<Vec<CcRow>, DbError> {
    Ok(sqlx::query_as(concat!(
        "SELECT u.id AS user_id, ",
        display_name!("u"),
        " AS name, u.email
         FROM request_cc c JOIN users u ON u.id = c.user_id
         WHERE c.request_id = $1 ORDER BY name, u.id",
    ))
    .bind(request_id)
    .fetch_all(e)
    .await?)
}

/// Whether request `request_id` is shared with `user_id`.
pub async fn has<'e, E: Executor<'e, Database = Any>>(
    e: E,
    request_id: i64,
    user_id: i64,
) -> Result<bool, DbError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM request_cc WHERE request_id = $1 AND user_id = $2",
    )
    .bind(request_id)
    .bind(user_id)
    .fetch_one(e)
    .await?;
    Ok(n > 0)
}

/// The requests shared with `user_id`.
pub async fn requests_of<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: i64,
) -> Result<Vec<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT request_id FROM request_cc WHERE user_id = $1 ORDER BY request_id",
    )
    .bind(user_id)
    .fetch_all(e)
    .await?)
}

/// Shares a request; false when it already was.
pub async fn add<'e, E: Executor<'e, Database = Any>>(
    e: E,
    request_id: i64,
    user_id: i64,
    added_by: i64,
    now: i64,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "INSERT INTO request_cc (request_id, user_id, added_by, added_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (request_id, user_id) DO NOTHING",
    )
    .bind(request_id)
    .bind(user_id)
    .bind(added_by)
    .bind(now)
    .execute(e)
    .await?
    .rows_affected()
        > 0)
}

pub async fn remove<'e, E: Executor<'e, Database = Any>>(
    e: E,
    request_id: i64,
    user_id: i64,
) -> Result<bool, DbError> {
    Ok(
        sqlx::query("DELETE FROM request_cc WHERE request_id = $1 AND user_id = $2")
            .bind(request_id)
            .bind(user_id)
            .execute(e)
            .await?
            .rows_affected()
            > 0,
    )
}
