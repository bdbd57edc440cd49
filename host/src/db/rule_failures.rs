//! SQL for rule failures: a plugin that failed where it would have acted on its own (an
//! automatic move after an event), kept beside the request it concerned.

use super::DbError;
use sqlx::{Any, Executor, FromRow};

/// A failure to record.
#[derive(Debug)]
pub struct NewFailure<'a> {
    pub request_id: Option<i64>,
    pub slot: &'a str,
    pub function: &'a str,
    /// What the rule was asked about: `event:created`, `event:customer-replied`, …
    pub cause: &'a str,
    pub plugin: &'a crate::domain::rules::PluginRef,
    /// The failure's kind (`trap`, `out_of_fuel`, `malformed`, …).
    pub kind: &'a str,
    /// What it failed with, bounded.
    pub message: &'a str,
    pub at: i64,
}

/// A recorded failure.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct FailureRow {
    pub id: i64,
    pub request_id: Option<i64>,
    pub slot: String,
    pub function: String,
    pub cause: String,
    pub plugin_id: i64,
    pub plugin_name: String,
    pub plugin_version: String,
    pub plugin_sha256: String,
    pub kind: String,
    pub message: String,
    pub at: i64,
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    e: E,
    f: &NewFailure<'_>,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO rule_failures (request_id, slot, function, cause, plugin_id, plugin_name,
                                    plugin_version, plugin_sha256, kind, message, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(f.request_id)
    .bind(f.slot)
    .bind(f.function)
    .bind(f.cause)
    .bind(f.plugin.id)
    .bind(&f.plugin.name)
    .bind(&f.plugin.version)
    .bind(&f.plugin.sha256)
    .bind(f.kind)
    .bind(f.message)
    .bind(f.at)
    .execute(e)
    .await?;
    Ok(())
}

const COLUMNS: &str =
    "id, request_id, slot, function, cause, plugin_id, plugin_name, plugin_version,
                       plugin_sha256, kind, message, at";

/// The failures about request `request_id`, oldest first.
pub async fn of_request<'e, E: Executor<'e, Database = Any>>(
    e: E,
    request_id: i64,
) -> Result<Vec<FailureRow>, DbError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM rule_failures WHERE request_id = $1 ORDER BY id"
    )))
    .bind(request_id)
    .fetch_all(e)
    .await?)
}

/// Per slot: how many failures since `since`, and the latest one.
pub async fn recent<'e, E: Executor<'e, Database = Any>>(
    e: E,
    since: i64,
) -> Result<Vec<(i64, FailureRow)>, DbError> {
    #[derive(FromRow)]
    struct Counted {
        n: i64,
        #[sqlx(flatten)]
        latest: FailureRow,
    }
    let rows: Vec<Counted> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT c.n, {COLUMNS} FROM rule_failures f
         JOIN (SELECT slot AS s, COUNT(*) AS n, MAX(id) AS last FROM rule_failures
               WHERE at >= $1 GROUP BY slot) c ON f.id = c.last
         ORDER BY f.slot"
    )))
    .bind(since)
    .fetch_all(e)
    .await?;
    Ok(rows.into_iter().map(|c| (c.n, c.latest)).collect())
}
