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

/// [`record`], with the address of session `session_id` (where the person is signed in) as
/// the entry's address; `entry.ip` if there is no such session.
pub async fn record_by_session(
    conn: &mut sqlx::AnyConnection,
    entry: &Entry<'_>,
    session_id: i64,
    now: i64,
) -> Result<(), DbError> {
    let ip: Option<String> = sqlx::query_scalar("SELECT ip FROM sessions WHERE id = $1")
        .bind(session_id)
        .fetch_optional(&mut *conn)
        .await?;
    let entry = Entry {
        ip: ip.as_deref().unwrap_or(entry.ip),
        ..*entry
    };
    record(&mut *conn, &entry, now).await
}

/// Removes entries written before `before` (Unix ms); returns how many.
pub async fn prune<'e, E: Executor<'e, Database = Any>>(e: E, before: i64) -> Result<u64, DbError> {
    Ok(sqlx::query("DELETE FROM audit_log WHERE at < $1")
        .bind(before)
        .execute(e)
        .await?
        .rows_affected())
}

/// The newest entries first, before `before_id` when given; only `event` when it is not empty,
/// and only entries whose account or actor holds `search` (any letter case).
pub async fn recent<'e, E: Executor<'e, Database = Any>>(
    e: E,
    before_id: Option<i64>,
    event: &str,
    search: &str,
    limit: i64,
) -> Result<Vec<AuditRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, at, event, user_id, email, actor, ip, detail FROM audit_log
         WHERE ($1 IS NULL OR id < $1) AND ($2 = '' OR event = $2)
           AND ($3 = '%%' OR lower(email) LIKE $3 ESCAPE '\\' OR lower(actor) LIKE $3 ESCAPE '\\')
         ORDER BY id DESC LIMIT $4",
    )
    .bind(before_id)
    .bind(event)
    .bind(super::like_pattern(search))
    .bind(limit)
    .fetch_all(e)
    .await?)
}

/// The events the log holds; the catalogue words each as `audit-event-<event>`, and any other
/// event is shown with its name in words ([`describe`]).
pub const EVENTS: [&str; 35] = [
    "login_succeeded",
    "login_failed",
    "login_refused",
    "mfa_code_sent",
    "mfa_verified",
    "mfa_failed",
    "logout",
    "session_ended",
    "signed_out_everywhere",
    "signup_started",
    "signup_completed",
    "site_chosen",
    "user_approved",
    "user_rejected",
    "invitation_sent",
    "invitation_resent",
    "invitation_accepted",
    "staff_added",
    "role_changed",
    "user_disabled",
    "reset_requested",
    "password_reset",
    "password_changed",
    "site_saved",
    "mail_wording_changed",
    "branding_changed",
    "email_not_accepted",
    "plugin_installed",
    "plugin_activated",
    "plugin_reconfigured",
    "plugin_rolled_back",
    "plugin_shadow_started",
    "plugin_shadow_stopped",
    "plugin_shadow_promoted",
    "request_fields_changed",
];

/// An event the catalogue does not word, in words of its name.
pub fn describe(event: &str) -> String {
    let words = event.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}
