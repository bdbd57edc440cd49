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

/// Records a wrong password for account `user_id` from address `ip`.
pub async fn login_failed<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: i64,
    ip: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO login_failures (user_id, ip, at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, ip) DO UPDATE SET at = $3",
    )
    .bind(user_id)
    .bind(ip)
    .bind(now)
    .execute(e)
    .await?;
    Ok(())
}

/// How many addresses sent wrong passwords for `user_id` since `since`.
pub async fn failing_addresses<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: i64,
    since: i64,
) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE user_id = $1 AND at > $2")
            .bind(user_id)
            .bind(since)
            .fetch_one(e)
            .await?,
    )
}

pub async fn forget_login_failures<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: i64,
) -> Result<(), DbError> {
    sqlx::query("DELETE FROM login_failures WHERE user_id = $1")
        .bind(user_id)
        .execute(e)
        .await?;
    Ok(())
}

/// Deletes counters whose window began before `before` and that block nothing any more, and
/// login failures older than `before`: what anonymous visitors leave behind stays bounded.
pub async fn prune(conn: &mut sqlx::AnyConnection, before: i64, now: i64) -> Result<u64, DbError> {
    let a = sqlx::query("DELETE FROM rate_limits WHERE window_start < $1 AND blocked_until < $2")
        .bind(before)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let b = sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(before)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(a + b)
}
