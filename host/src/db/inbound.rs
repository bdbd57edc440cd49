//! SQL for incoming mail: one row per message read from the support mailbox, written in the
//! transaction of what the message caused, and the bounce marks on people's addresses.

use super::DbError;
use sqlx::{Any, Executor, FromRow};

/// A message read, and what became of it.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub key: &'a str,
    pub mailbox: &'a str,
    pub uid_validity: i64,
    pub uid: i64,
    pub from_addr: &'a str,
    pub subject: &'a str,
    pub outcome: &'a str,
    pub reason: &'a str,
    pub request_id: Option<i64>,
    pub message_id: Option<i64>,
    pub eml_sha256: Option<&'a str>,
    pub size: i64,
    pub now: i64,
}

/// Records a message; `false` when a message with its key was recorded before, by this server
/// or another: the caller's transaction must then be rolled back, the message already dealt with.
pub async fn record<'e, E: Executor<'e, Database = Any>>(
    e: E,
    r: &Record<'_>,
) -> Result<bool, DbError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO inbound_mail (message_key, mailbox, uid_validity, uid, from_addr, subject, outcome,
                                   reason, request_id, message_id, eml_sha256, size, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (message_key) DO NOTHING RETURNING id",
    )
    .bind(r.key)
    .bind(r.mailbox)
    .bind(r.uid_validity)
    .bind(r.uid)
    .bind(r.from_addr)
    .bind(r.subject)
    .bind(r.outcome)
    .bind(r.reason)
    .bind(r.request_id)
    .bind(r.message_id)
    .bind(r.eml_sha256)
    .bind(r.size)
    .bind(r.now)
    .fetch_optional(e)
    .await?;
    Ok(id.is_some())
}

/// The outcomes recorded for the messages at these places of a mailbox: (uid, outcome).
pub async fn outcomes_at<'e, E: Executor<'e, Database = Any>>(
    e: E,
    mailbox: &str,
    uid_validity: i64,
    uids: &[i64],
) -> Result<Vec<(i64, String)>, DbError> {
    if uids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = (0..uids.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "SELECT uid, outcome FROM inbound_mail WHERE id IN (
           SELECT MIN(id) FROM inbound_mail WHERE mailbox = $1 AND uid_validity = $2
             AND uid IN ({}) GROUP BY uid)",
        list.join(", ")
    );
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(mailbox)
        .bind(uid_validity);
    for u in uids {
        q = q.bind(*u);
    }
    Ok(q.fetch_all(e).await?)
}

/// The outcome recorded for the message with this key, if it was dealt with.
pub async fn outcome_of<'e, E: Executor<'e, Database = Any>>(
    e: E,
    key: &str,
) -> Result<Option<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT outcome FROM inbound_mail WHERE message_key = $1")
            .bind(key)
            .fetch_optional(e)
            .await?,
    )
}

/// Messages from `from` recorded since `since`, with outcome `outcome` if given.
pub async fn count_from<'e, E: Executor<'e, Database = Any>>(
    e: E,
    from: &str,
    since: i64,
    outcome: Option<&str>,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM inbound_mail WHERE from_addr = $1 AND received_at >= $2
           AND ($3 IS NULL OR outcome = $3)",
    )
    .bind(from)
    .bind(since)
    .bind(outcome)
    .fetch_one(e)
    .await?)
}

/// Answers (refusals, how to join) sent to `to` since `since`.
pub async fn answers_to<'e, E: Executor<'e, Database = Any>>(
    e: E,
    to: &str,
    since: i64,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE to_addr = $1 AND created_at >= $2
           AND auto_submitted = 'auto-replied'",
    )
    .bind(to)
    .bind(since)
    .fetch_one(e)
    .await?)
}

/// Whether `from` wrote `body` on request `request_id` by email since `since`.
pub async fn said_before<'e, E: Executor<'e, Database = Any>>(
    e: E,
    from: &str,
    request_id: i64,
    body: &str,
    since: i64,
) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM inbound_mail i JOIN messages m ON m.id = i.message_id
         WHERE i.from_addr = $1 AND i.request_id = $2 AND i.received_at >= $3 AND m.body = $4",
    )
    .bind(from)
    .bind(request_id)
    .bind(since)
    .bind(body)
    .fetch_one(e)
    .await?
        > 0)
}

/// Forgets the originals of messages received before `before`: their files go with the next
/// sweep of unreferenced files. Returns how many.
pub async fn forget_originals<'e, E: Executor<'e, Database = Any>>(
    e: E,
    before: i64,
) -> Result<u64, DbError> {
    Ok(sqlx::query(
        "UPDATE inbound_mail SET eml_sha256 = NULL WHERE received_at < $1 AND eml_sha256 IS NOT NULL",
    )
    .bind(before)
    .execute(e)
    .await?
    .rows_affected())
}

/// The original of a message that arrived by email, for staff to download.
#[derive(Debug, Clone, FromRow)]
pub struct Original {
    pub eml_sha256: String,
    pub size: i64,
    pub received_at: i64,
}

pub async fn original_of<'e, E: Executor<'e, Database = Any>>(
    e: E,
    request_id: i64,
    message_id: i64,
) -> Result<Option<Original>, DbError> {
    Ok(sqlx::query_as(
        "SELECT eml_sha256, size, received_at FROM inbound_mail
         WHERE request_id = $1 AND message_id = $2 AND eml_sha256 IS NOT NULL",
    )
    .bind(request_id)
    .bind(message_id)
    .fetch_optional(e)
    .await?)
}

/// Marks the account with address `email` as bouncing; `true` if there is one.
pub async fn mark_bouncing<'e, E: Executor<'e, Database = Any>>(
    e: E,
    email: &str,
    reason: &str,
    now: i64,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "UPDATE users SET bouncing_since = COALESCE(bouncing_since, $1), bounce_reason = $2
         WHERE email = $3",
    )
    .bind(now)
    .bind(reason)
    .bind(email)
    .execute(e)
    .await?
    .rows_affected()
        > 0)
}

/// Since when mail to `email` bounces, if it does.
pub async fn bouncing_since<'e, E: Executor<'e, Database = Any>>(
    e: E,
    email: &str,
) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT bouncing_since FROM users WHERE email = $1 AND bouncing_since IS NOT NULL",
    )
    .bind(email.to_ascii_lowercase())
    .fetch_optional(e)
    .await?)
}

/// Clears the bouncing mark of `email`: mail to it goes again. `true` if it was marked.
pub async fn clear_bouncing<'e, E: Executor<'e, Database = Any>>(
    e: E,
    email: &str,
) -> Result<bool, DbError> {
    Ok(sqlx::query(
        "UPDATE users SET bouncing_since = NULL, bounce_reason = NULL
         WHERE email = $1 AND bouncing_since IS NOT NULL",
    )
    .bind(email.to_ascii_lowercase())
    .execute(e)
    .await?
    .rows_affected()
        > 0)
}

/// A message read, as operators list them.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Received {
    pub id: i64,
    pub from_addr: String,
    pub subject: String,
    pub outcome: String,
    pub reason: String,
    pub request_id: Option<i64>,
    pub received_at: i64,
}

/// The most recent messages read, newest first.
pub async fn recent<'e, E: Executor<'e, Database = Any>>(
    e: E,
    limit: i64,
) -> Result<Vec<Received>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, from_addr, subject, outcome, reason, request_id, received_at FROM inbound_mail
         ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(e)
    .await?)
}

/// Addresses marked as bouncing.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Bouncing {
    pub email: String,
    pub bouncing_since: i64,
    pub bounce_reason: Option<String>,
}

pub async fn bouncing<'e, E: Executor<'e, Database = Any>>(e: E) -> Result<Vec<Bouncing>, DbError> {
    Ok(sqlx::query_as(
        "SELECT email, bouncing_since, bounce_reason FROM users WHERE bouncing_since IS NOT NULL
         ORDER BY bouncing_since DESC",
    )
    .fetch_all(e)
    .await?)
}

/// The wording operators set for answers of `kind`, if any.
pub async fn wording<'e, E: Executor<'e, Database = Any>>(
    e: E,
    kind: &str,
) -> Result<Option<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT body FROM mail_wording WHERE kind = $1")
            .bind(kind)
            .fetch_optional(e)
            .await?,
    )
}

/// Sets the wording of answers of `kind`; `None` goes back to the built-in wording.
pub async fn set_wording<'e, E: Executor<'e, Database = Any>>(
    e: E,
    kind: &str,
    body: Option<&str>,
    now: i64,
) -> Result<(), DbError> {
    match body {
        Some(b) => sqlx::query(
            "INSERT INTO mail_wording (kind, body, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (kind) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(kind)
        .bind(b)
        .bind(now),
        None => sqlx::query("DELETE FROM mail_wording WHERE kind = $1").bind(kind),
    }
    .execute(e)
    .await?;
    Ok(())
}
