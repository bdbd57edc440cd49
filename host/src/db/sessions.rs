//! SQL for sign-in sessions, their emailed verification codes and remembered devices. Every
//! secret is looked up by its SHA-256 hash; the secret itself is never stored.

use super::DbError;
use sqlx::{Any, Executor, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub user_id: i64,
    pub stage: String,
    pub persistent: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub user_agent: String,
    pub ip: String,
}

#[derive(Debug)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: i64,
    pub stage: &'a str,
    pub persistent: bool,
    pub expires_at: i64,
    pub user_agent: &'a str,
    pub ip: &'a str,
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    e: E,
    s: &NewSession<'_>,
    now: i64,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO sessions (token_hash, user_id, stage, persistent, created_at, last_seen_at, expires_at, user_agent, ip)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8) RETURNING id",
    )
    .bind(s.token_hash)
    .bind(s.user_id)
    .bind(s.stage)
    .bind(s.persistent as i64)
    .bind(now)
    .bind(s.expires_at)
    .bind(s.user_agent)
    .bind(s.ip)
    .fetch_one(e)
    .await?)
}

/// The live session with this token hash: not revoked, not past its absolute expiry.
pub async fn live<'e, E: Executor<'e, Database = Any>>(
    e: E,
    token_hash: &str,
    now: i64,
) -> Result<Option<SessionRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, stage, persistent, created_at, last_seen_at, expires_at, user_agent, ip
         FROM sessions WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(e)
    .await?)
}

pub async fn touch<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

/// Gives a session a new token, stage and expiry (at MFA and password change); false when it
/// was revoked or rotated meanwhile.
#[allow(clippy::too_many_arguments)]
pub async fn rotate<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    old_hash: &str,
    new_hash: &str,
    stage: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool, DbError> {
    let n = sqlx::query(
        "UPDATE sessions SET token_hash = $1, stage = $2, last_seen_at = $3, expires_at = $6
         WHERE id = $4 AND token_hash = $5 AND revoked_at IS NULL",
    )
    .bind(new_hash)
    .bind(stage)
    .bind(now)
    .bind(id)
    .bind(old_hash)
    .bind(expires_at)
    .execute(e)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn revoke<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    user_id: i64,
    now: i64,
) -> Result<bool, DbError> {
    let n = sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(user_id)
    .execute(e)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Ends every session of a user except `keep`; returns how many ended.
pub async fn revoke_all<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: i64,
    keep: Option<i64>,
    now: i64,
) -> Result<u64, DbError> {
    Ok(sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND ($3 IS NULL OR id <> $3)",
    )
    .bind(now)
    .bind(user_id)
    .bind(keep)
    .execute(e)
    .await?
    .rows_affected())
}

/// A user's live sessions; browser sessions last seen before `idle_floor` have ended too.
pub async fn of_user<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: i64,
    now: i64,
    idle_floor: i64,
) -> Result<Vec<SessionRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, stage, persistent, created_at, last_seen_at, expires_at, user_agent, ip
         FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
           AND (persistent = 1 OR last_seen_at >= $3)
         ORDER BY last_seen_at DESC",
    )
    .bind(user_id)
    .bind(now)
    .bind(idle_floor)
    .fetch_all(e)
    .await?)
}

// --- emailed verification codes ---

#[derive(Debug, Clone, FromRow)]
pub struct CodeRow {
    pub id: i64,
    pub code_hash: String,
    pub expires_at: i64,
    pub attempts: i64,
}

/// Closes the session's open codes (a resend invalidates them) and stores the new one.
pub async fn replace_code(
    conn: &mut sqlx::AnyConnection,
    session_id: i64,
    code_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE mfa_codes SET closed_at = $1 WHERE session_id = $2 AND closed_at IS NULL")
        .bind(now)
        .bind(session_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO mfa_codes (session_id, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(session_id)
        .bind(code_hash)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Counts one attempt on the session's open code and returns it, as it was before this
/// attempt; `None` when no code is open.
pub async fn attempt_code<'e, E: Executor<'e, Database = Any>>(
    e: E,
    session_id: i64,
) -> Result<Option<CodeRow>, DbError> {
    Ok(sqlx::query_as(
        "UPDATE mfa_codes SET attempts = attempts + 1
         WHERE session_id = $1 AND closed_at IS NULL
         RETURNING id, code_hash, expires_at, attempts - 1 AS attempts",
    )
    .bind(session_id)
    .fetch_optional(e)
    .await?)
}

/// Closes a code; false when it was already closed (a concurrent use won).
pub async fn close_code<'e, E: Executor<'e, Database = Any>>(
    e: E,
    id: i64,
    now: i64,
) -> Result<bool, DbError> {
    let n = sqlx::query("UPDATE mfa_codes SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(e)
        .await?
        .rows_affected();
    Ok(n == 1)
}

// --- remembered devices ---

pub async fn trust_device<'e, E: Executor<'e, Database = Any>>(
    e: E,
    token_hash: &str,
    user_id: i64,
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO trusted_devices (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(e)
        .await?;
    Ok(())
}

pub async fn is_trusted<'e, E: Executor<'e, Database = Any>>(
    e: E,
    token_hash: &str,
    user_id: i64,
    now: i64,
) -> Result<bool, DbError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM trusted_devices WHERE token_hash = $1 AND user_id = $2 AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .fetch_one(e)
    .await?;
    Ok(n > 0)
}

pub async fn forget_devices<'e, E: Executor<'e, Database = Any>>(
    e: E,
    user_id: i64,
) -> Result<(), DbError> {
    sqlx::query("DELETE FROM trusted_devices WHERE user_id = $1")
        .bind(user_id)
        .execute(e)
        .await?;
    Ok(())
}
