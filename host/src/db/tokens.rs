//! SQL for single-use links sent by email: sign-up verification, password reset, invitation.

use super::DbError;
use sqlx::{Any, Executor, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub purpose: String,
    pub email: String,
    pub user_id: Option<i64>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    e: E,
    token_hash: &str,
    purpose: &str,
    email: &str,
    user_id: Option<i64>,
    now: i64,
    expires_at: i64,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO email_tokens (token_hash, purpose, email, user_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(token_hash)
    .bind(purpose)
    .bind(email)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .fetch_one(e)
    .await?)
}

/// A token of `purpose` that is neither used nor expired.
pub async fn usable<'e, E: Executor<'e, Database = Any>>(
    e: E,
    token_hash: &str,
    purpose: &str,
    now: i64,
) -> Result<Option<TokenRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, purpose, email, user_id, expires_at, used_at FROM email_tokens
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(purpose)
    .bind(now)
    .fetch_optional(e)
    .await?)
}

/// Marks a token used; false when another request used it first or it expired.
pub async fn consume<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    now: i64,
) -> Result<bool, DbError> {
    let n = sqlx::query("UPDATE email_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1")
        .bind(now)
        .bind(id)
        .execute(e)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// Retires a user's unused tokens of `purpose` (a resend replaces the earlier link).
pub async fn retire<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: i64,
    purpose: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE email_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL")
        .bind(now)
        .bind(user_id)
        .bind(purpose)
        .execute(e)
        .await?;
    Ok(())
}

/// Whether a user holds an unused, unexpired token of `purpose` (a temporary password is
/// valid only while its invitation is).
pub async fn has_usable<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: i64,
    purpose: &str,
    now: i64,
) -> Result<bool, DbError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM email_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(user_id)
    .bind(purpose)
    .bind(now)
    .fetch_one(e)
    .await?;
    Ok(n > 0)
}
