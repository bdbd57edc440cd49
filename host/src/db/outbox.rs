//! SQL for the mail outbox: messages are written in the transaction of the change that causes
//! them and claimed one at a time by delivery workers, on any replica.

use super::DbError;
use sqlx::{Any, Executor, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct Claimed {
    pub id: i64,
    pub to_addr: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub attempts: i64,
}

pub async fn enqueue<'e, E: Executor<'e, Database = Any>>(
    e: E,
    to: &str,
    subject: &str,
    text: &str,
    html: &str,
    created_at: i64,
    due_at: i64,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO outbox (to_addr, subject, text_body, html_body, created_at, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(to)
    .bind(subject)
    .bind(text)
    .bind(html)
    .bind(created_at)
    .bind(due_at)
    .fetch_one(e)
    .await?)
}

/// Claims the oldest due message for `lease_ms`, counting the attempt. A message is claimed by
/// one worker at a time: the guarded UPDATE lets exactly one of two racing workers win.
pub async fn claim<'e, E: Executor<'e, Database = Any>>(
    e: E,
    now: i64,
    lease_ms: i64,
) -> Result<Option<Claimed>, DbError> {
    Ok(sqlx::query_as(
        "UPDATE outbox SET locked_until = $2, attempts = attempts + 1
         WHERE id = (SELECT id FROM outbox
                     WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 AND locked_until <= $1
                     ORDER BY next_attempt_at, id LIMIT 1)
           AND sent_at IS NULL AND locked_until <= $1
         RETURNING id, to_addr, subject, text_body, html_body, attempts",
    )
    .bind(now)
    .bind(now + lease_ms)
    .fetch_optional(e)
    .await?)
}

/// Records delivery and clears the bodies, which may hold single-use links.
pub async fn mark_sent<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE outbox SET sent_at = $1, locked_until = 0, text_body = NULL, html_body = NULL, last_error = NULL WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn mark_failed<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    error: &str,
    next_attempt_at: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE outbox SET last_error = $1, next_attempt_at = $2, locked_until = 0 WHERE id = $3",
    )
    .bind(error)
    .bind(next_attempt_at)
    .bind(id)
    .execute(e)
    .await?;
    Ok(())
}

/// Stops delivering a message for good: its bodies (which may hold links) are cleared, its
/// error kept for operators.
pub async fn give_up<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    error: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE outbox SET failed_at = $1, locked_until = 0, text_body = NULL, html_body = NULL, last_error = $2 WHERE id = $3",
    )
    .bind(now)
    .bind(error)
    .bind(id)
    .execute(e)
    .await?;
    Ok(())
}

/// A message delivery stopped for, as operators see it.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Undelivered {
    pub id: i64,
    pub to_addr: String,
    pub subject: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub failed_at: i64,
}

/// The most recent messages given up, newest first.
pub async fn undelivered<'e, E: Executor<'e, Database = Any>>(
    e: E,
    limit: i64,
) -> Result<Vec<Undelivered>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, to_addr, subject, attempts, last_error, created_at, failed_at FROM outbox
         WHERE failed_at IS NOT NULL ORDER BY failed_at DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(e)
    .await?)
}

/// The earliest time a waiting message becomes due, if any is waiting.
pub async fn next_due<'e, E: Executor<'e, Database = Any>>(e: E) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar("SELECT MIN(CASE WHEN locked_until > next_attempt_at THEN locked_until ELSE next_attempt_at END) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL")
        .fetch_one(e)
        .await?)
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Pending {
    pub id: i64,
    pub to_addr: String,
    pub subject: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

pub async fn pending<'e, E: Executor<'e, Database = Any>>(e: E) -> Result<Vec<Pending>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, to_addr, subject, attempts, last_error FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL ORDER BY id",
    )
    .fetch_all(e)
    .await?)
}

/// How many messages wait to be sent, and how many were given up on.
pub async fn depth<'e, E: Executor<'e, Database = Any>>(e: E) -> Result<(i64, i64), DbError> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*) - COUNT(failed_at), COUNT(failed_at) FROM outbox WHERE sent_at IS NULL",
    )
    .fetch_one(e)
    .await?)
}
