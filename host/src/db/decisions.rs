//! SQL for the decision log.

use super::{Db, DbError};
use sqlx::FromRow;

/// One decision, as recorded.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct DecisionRow {
    pub id: i64,
    pub decided_at: i64,
    pub slot: String,
    pub function: String,
    pub plugin_id: i64,
    pub sha256: String,
    pub request_id: Option<i64>,
    /// The question as JSON, a password replaced by its length and character classes.
    pub input: String,
    /// The answer as JSON; `None` when the call failed.
    pub answer: Option<String>,
    /// `ok`, or the failure's kind (`out_of_fuel`, `timeout`, `trap`, …).
    pub outcome: String,
    /// What a failed call failed with: the trap, what was malformed.
    pub error: Option<String>,
    pub micros: i64,
    /// A shadow's disagreement: the live plugin that decided, what came of it and its answer.
    pub live_plugin_id: Option<i64>,
    pub live_outcome: Option<String>,
    pub live_answer: Option<String>,
}

/// What the live plugin decided, beside a shadow that answered otherwise.
#[derive(Debug, Clone)]
pub struct Live {
    pub plugin_id: i64,
    pub outcome: &'static str,
    pub answer: Option<String>,
}

/// A decision to record.
#[derive(Debug, Clone)]
pub struct NewDecision {
    pub decided_at: i64,
    pub slot: &'static str,
    pub function: &'static str,
    pub plugin_id: i64,
    pub sha256: String,
    pub request_id: Option<i64>,
    pub input: String,
    pub answer: Option<String>,
    pub outcome: &'static str,
    /// What a failed call failed with.
    pub error: Option<String>,
    pub micros: i64,
    /// Set on a shadow's disagreement with the live plugin.
    pub live: Option<Live>,
}

/// Stores `batch` in one statement.
pub async fn insert(db: &Db, batch: &[NewDecision]) -> Result<(), DbError> {
    if batch.is_empty() {
        return Ok(());
    }
    // Only `$n` placeholders are formatted in; values are bound.
    let sql = format!(
        "INSERT INTO plugin_decisions (decided_at, slot, function, plugin_id, sha256, request_id, input, answer, outcome, error, micros, live_plugin_id, live_outcome, live_answer) VALUES {}",
        super::value_rows(batch.len(), 14)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for d in batch {
        q = q
            .bind(d.decided_at)
            .bind(d.slot)
            .bind(d.function)
            .bind(d.plugin_id)
            .bind(d.sha256.clone())
            .bind(d.request_id)
            .bind(d.input.clone())
            .bind(d.answer.clone())
            .bind(d.outcome)
            .bind(d.error.clone())
            .bind(d.micros)
            .bind(d.live.as_ref().map(|l| l.plugin_id))
            .bind(d.live.as_ref().map(|l| l.outcome))
            .bind(d.live.as_ref().and_then(|l| l.answer.clone()));
    }
    q.execute(db.pool()).await?;
    Ok(())
}

/// Which decisions to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub slot: Option<String>,
    pub plugin_id: Option<i64>,
    /// `ok`, `failed` (any failure), or one failure kind.
    pub outcome: Option<String>,
    pub request_id: Option<i64>,
    /// Decided at or after, Unix ms.
    pub since: Option<i64>,
    /// Decided before, Unix ms.
    pub until: Option<i64>,
    /// Only ids below this (the previous page's last id).
    pub before: Option<i64>,
    /// Shadows' disagreements instead of live decisions.
    pub shadow: bool,
}

/// A value bound to a query built at run time.
enum Arg {
    Text(String),
    Int(i64),
}

/// The newest decisions that pass `f`, newest first.
pub async fn list(db: &Db, f: &Filter, limit: i64) -> Result<Vec<DecisionRow>, DbError> {
    let mut sql = String::from(
        "SELECT id, decided_at, slot, function, plugin_id, sha256, request_id, input, answer, outcome, error, micros, live_plugin_id, live_outcome, live_answer FROM plugin_decisions WHERE ",
    );
    sql.push_str(if f.shadow {
        "live_plugin_id IS NOT NULL"
    } else {
        "live_plugin_id IS NULL"
    });
    let mut args = Vec::new();
    let mut and = |sql: &mut String, condition: &str, arg: Arg| {
        args.push(arg);
        sql.push_str(&format!(" AND {condition} ${}", args.len()));
    };
    if let Some(s) = &f.slot {
        and(&mut sql, "slot =", Arg::Text(s.clone()));
    }
    if let Some(p) = f.plugin_id {
        and(&mut sql, "plugin_id =", Arg::Int(p));
    }
    match f.outcome.as_deref() {
        None => {}
        Some("failed") => sql.push_str(" AND outcome <> 'ok'"),
        Some(o) => and(&mut sql, "outcome =", Arg::Text(o.to_owned())),
    }
    if let Some(r) = f.request_id {
        and(&mut sql, "request_id =", Arg::Int(r));
    }
    if let Some(t) = f.since {
        and(&mut sql, "decided_at >=", Arg::Int(t));
    }
    if let Some(t) = f.until {
        and(&mut sql, "decided_at <", Arg::Int(t));
    }
    if let Some(b) = f.before {
        and(&mut sql, "id <", Arg::Int(b));
    }
    args.push(Arg::Int(limit));
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", args.len()));
    let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s),
            Arg::Int(i) => q.bind(i),
        };
    }
    Ok(q.fetch_all(db.pool()).await?)
}

/// The failed decisions of plugin `plugin_id` since `since` (Unix ms), counted up to `cap`.
pub async fn failures_since(db: &Db, plugin_id: i64, since: i64, cap: i64) -> Result<i64, DbError> {
    let first: Option<i64> =
        sqlx::query_scalar("SELECT MIN(id) FROM plugin_decisions WHERE decided_at >= $1")
            .bind(since)
            .fetch_one(db.pool())
            .await?;
    let Some(first) = first else { return Ok(0) };
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM plugin_decisions
                               WHERE plugin_id = $1 AND id >= $2 AND outcome <> 'ok' LIMIT $3) f",
    )
    .bind(plugin_id)
    .bind(first)
    .bind(cap)
    .fetch_one(db.pool())
    .await?)
}

/// Removes decisions made before `older_than` (Unix ms), and all but the newest `keep`.
/// Returns how many went.
pub async fn prune(db: &Db, older_than: i64, keep: i64) -> Result<u64, DbError> {
    let by_age = sqlx::query("DELETE FROM plugin_decisions WHERE decided_at < $1")
        .bind(older_than)
        .execute(db.pool())
        .await?
        .rows_affected();
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM plugin_decisions")
        .fetch_one(db.pool())
        .await?;
    let by_count = match newest {
        Some(max) => sqlx::query("DELETE FROM plugin_decisions WHERE id <= $1")
            .bind(max - keep)
            .execute(db.pool())
            .await?
            .rows_affected(),
        None => 0,
    };
    Ok(by_age + by_count)
}
