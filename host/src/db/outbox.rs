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
    pub request_id: Option<i64>,
    pub reply_token: Option<String>,
    pub auto_submitted: String,
}

/// A message to queue.
#[derive(Debug, Clone, Copy)]
pub struct NewMail<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    /// The request the message is about.
    pub request_id: Option<i64>,
    /// The token of its reply address, and the token's sha256.
    pub reply_token: Option<(&'a str, &'a str)>,
    pub auto_submitted: &'a str,
    pub created_at: i64,
    pub due_at: i64,
}

pub async fn enqueue<'e, E: Executor<'e, Database = Any>>(
    e: E,
    m: &NewMail<'_>,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO outbox (to_addr, subject, text_body, html_body, created_at, next_attempt_at,
                             request_id, reply_token, reply_token_sha256, auto_submitted)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(m.to)
    .bind(m.subject)
    .bind(m.text)
    .bind(m.html)
    .bind(m.created_at)
    .bind(m.due_at)
    .bind(m.request_id)
    .bind(m.reply_token.map(|(t, _)| t))
    .bind(m.reply_token.map(|(_, h)| h))
    .bind(m.auto_submitted)
    .fetch_one(e)
    .await?)
}

/// What a reply token (by its sha256), or the id of an outgoing message, was issued for: the
/// request, and the address the message went to.
#[derive(Debug, Clone, FromRow)]
pub struct IssuedTo {
    pub id: i64,
    pub request_id: Option<i64>,
    pub to_addr: String,
}

pub async fn by_reply_token<'e, E: Executor<'e, Database = Any>>(
    e: E,
    token_sha256: &str,
) -> Result<Option<IssuedTo>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, request_id, to_addr FROM outbox WHERE reply_token_sha256 = $1")
            .bind(token_sha256)
            .fetch_optional(e)
            .await?,
    )
}

pub async fn issued<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
) -> Result<Option<IssuedTo>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, request_id, to_addr FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(e)
            .await?,
    )
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
         RETURNING id, to_addr, subject, text_body, html_body, attempts, request_id, reply_token, auto_submitted",
    )
    .bind(now)
    .bind(now + lease_ms)
    .fetch_optional(e)
    .await?)
}

/// Records delivery and clears the bodies, which may hold single-use links, and the reply
/// token (its hash stays to recognise replies).
pub async fn mark_sent<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE outbox SET sent_at = $1, locked_until = 0, text_body = NULL, html_body = NULL, reply_token = NULL, last_error = NULL WHERE id = $2",
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
        "UPDATE outbox SET failed_at = $1, locked_until = 0, text_body = NULL, html_body = NULL, reply_token = NULL, last_error = $2 WHERE id = $3",
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
