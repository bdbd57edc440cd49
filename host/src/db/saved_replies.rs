//! SQL for what staff keep for their own work: saved replies and saved queue views.

use super::DbError;
use sqlx::{Any, Executor, FromRow};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct SavedReply {
    pub id: i64,
    /// `None`: shared with all staff.
    pub owner_id: Option<i64>,
    pub title: String,
    pub body: String,
}

/// The replies `user_id` may use: their own and the shared ones, by title.
pub async fn usable<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: i64,
) -> Result<Vec<SavedReply>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, owner_id, title, body FROM saved_replies
         WHERE owner_id IS NULL OR owner_id = $1 ORDER BY lower(title), id",
    )
    .bind(user_id)
    .fetch_all(e)
    .await?)
}

pub async fn by_id<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
) -> Result<Option<SavedReply>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, owner_id, title, body FROM saved_replies WHERE id = $1")
            .bind(id)
            .fetch_optional(e)
            .await?,
    )
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    e: E,
    owner_id: Option<i64>,
    title: &str,
    body: &str,
    now: i64,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO saved_replies (owner_id, title, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(owner_id)
    .bind(title)
    .bind(body)
    .bind(now)
    .fetch_one(e)
    .await?)
}

pub async fn delete<'e, E: Executor<'e, Database = Any>>(e: E, id: i64) -> Result<bool, DbError> {
    Ok(sqlx::query("DELETE FROM saved_replies WHERE id = $1")
        .bind(id)
        .execute(e)
        .await?
        .rows_affected()
        > 0)
}

/// An agent's saved queue view: a name and the queue's query string.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct QueueView {
    pub id: i64,
    pub name: String,
    pub query: String,
}

pub async fn views<'e, E: Executor<'e, Database = Any>>(
    e: E,
    owner_id: i64,
) -> Result<Vec<QueueView>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, name, query FROM queue_views WHERE owner_id = $1 ORDER BY id")
            .bind(owner_id)
            .fetch_all(e)
            .await?,
    )
}

pub async fn insert_view<'e, E: Executor<'e, Database = Any>>(
    e: E,
    owner_id: i64,
    name: &str,
    query: &str,
    now: i64,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO queue_views (owner_id, name, query, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(owner_id)
    .bind(name)
    .bind(query)
    .bind(now)
    .fetch_one(e)
    .await?)
}

pub async fn delete_view<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    owner_id: i64,
) -> Result<bool, DbError> {
    Ok(
        sqlx::query("DELETE FROM queue_views WHERE id = $1 AND owner_id = $2")
            .bind(id)
            .bind(owner_id)
            .execute(e)
            .await?
            .rows_affected()
            > 0,
    )
}
