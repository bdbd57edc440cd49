//! SQL for the audit log of authentication events.

use super::DbError;
use sqlx::{Any, Executor, FromRow};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub event: String,
    pub user_id: Option<i64>,
    pub email: String,
    pub actor: String,
    pub ip: String,
    pub detail: String,
}

#[derive(Debug, Default)]
pub struct Entry<'a> {
    pub event: &'a str,
    pub user_id: Option<i64>,
    pub email: &'a str,
    pub actor: &'a str,
    pub ip: &'a str,
    pub detail: &'a str,
}

pub async fn record<'e, E: Executor<'e, Database = Any>>(
    e: E,
    entry: &Entry<'_>,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_log (at, event, user_id, email, actor, ip, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now)
    .bind(entry.event)
    .bind(entry.user_id)
    .bind(entry.email)
    .bind(entry.actor)
    .bind(entry.ip)
    .bind(entry.detail)
    .execute(e)
    .await?;
    Ok(())
}

/// The newest entries first, before `before_id` when given.
pub async fn recent<'e, E: Executor<'e, Database = Any>>(
    e: E,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, at, event, user_id, email, actor, ip, detail FROM audit_log
         WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
    )
    .bind(before_id)
    .bind(limit)
    .fetch_all(e)
    .await?)
}
