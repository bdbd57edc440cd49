//! SQL for rate-limit counters, shared by every replica through the database.

use super::DbError;
use sqlx::{Any, Executor, FromRow};

#[derive(Debug, Clone, Copy, FromRow)]
pub struct Counter {
    pub window_start: i64,
    pub count: i64,
    pub blocked_until: i64,
}

/// Adds one to `key`'s counter, starting a new window when the current one began before
/// `window_floor`, and returns the counter after the hit.
pub async fn hit<'e, E: Executor<'e, Database = Any>>(
    e: E,
    key: &str,
    now: i64,
    window_floor: i64,
) -> Result<Counter, DbError> {
    Ok(sqlx::query_as(
        "INSERT INTO rate_limits (key, window_start, count, blocked_until) VALUES ($1, $2, 1, 0)
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN rate_limits.window_start < $3 THEN 1 ELSE rate_limits.count + 1 END,
           window_start = CASE WHEN rate_limits.window_start < $3 THEN $2 ELSE rate_limits.window_start END
         RETURNING window_start, count, blocked_until",
    )
    .bind(key)
    .bind(now)
    .bind(window_floor)
    .fetch_one(e)
    .await?)
}

pub async fn get<'e, E: Executor<'e, Database = Any>>(
    e: E,
    key: &str,
) -> Result<Option<Counter>, DbError> {
    Ok(
        sqlx::query_as("SELECT window_start, count, blocked_until FROM rate_limits WHERE key = $1")
            .bind(key)
            .fetch_optional(e)
            .await?,
    )
}

pub async fn block_until<'e, E: Executor<'e, Database = Any>>(
    e: E,
    key: &str,
    until: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE rate_limits SET blocked_until = $1 WHERE key = $2")
        .bind(until)
        .bind(key)
        .execute(e)
        .await?;
    Ok(())
}

pub async fn clear<'e, E: Executor<'e, Database = Any>>(e: E, key: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM rate_limits WHERE key = $1")
        .bind(key)
        .execute(e)
        .await?;
    Ok(())
}
