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

/// The events the log holds, in the words operators read them; any other event is shown with
/// its name in words.
pub const EVENTS: [(&str, &str); 34] = [
    ("login_succeeded", "Signed in"),
    ("login_failed", "Sign-in failed"),
    ("login_refused", "Sign-in refused"),
    ("mfa_code_sent", "Sign-in code sent"),
    ("mfa_verified", "Sign-in code accepted"),
    ("mfa_failed", "Wrong sign-in code"),
    ("logout", "Signed out"),
    ("session_ended", "Session ended"),
    ("signed_out_everywhere", "Signed out everywhere"),
    ("signup_started", "Sign-up started"),
    ("signup_completed", "Sign-up completed"),
    ("site_chosen", "Site chosen, waiting for approval"),
    ("user_approved", "Account approved"),
    ("user_rejected", "Account rejected"),
    ("invitation_sent", "Invitation sent"),
    ("invitation_resent", "Invitation sent again"),
    ("invitation_accepted", "Invitation accepted"),
    ("staff_added", "Staff account added"),
    ("role_changed", "Role changed"),
    ("user_disabled", "Account disabled"),
    ("reset_requested", "Password reset requested"),
    ("password_reset", "Password reset"),
    ("password_changed", "Password changed"),
    ("site_saved", "Site saved"),
    ("mail_wording_changed", "Answer to unknown senders reworded"),
    ("branding_changed", "Branding changed"),
    ("email_not_accepted", "Email refused"),
    ("plugin_installed", "Plugin installed"),
    ("plugin_activated", "Plugin activated"),
    ("plugin_reconfigured", "Plugin reconfigured"),
    ("plugin_rolled_back", "Plugin rolled back"),
    ("plugin_shadow_started", "Plugin put in shadow"),
    ("plugin_shadow_stopped", "Shadow stopped"),
    ("plugin_shadow_promoted", "Shadow promoted to active"),
];

/// `event` in words.
pub fn describe(event: &str) -> String {
    match EVENTS.iter().find(|(key, _)| *key == event) {
        Some((_, words)) => (*words).to_owned(),
        None => {
            let words = event.replace('_', " ");
            let mut chars = words.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => words,
            }
        }
    }
}
