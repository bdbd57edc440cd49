//! SQL for the servers serving this database and which installations each has compiled, so a
//! plugin is activated only when every live server can switch to it at once.

use super::{Db, DbError};
use sqlx::FromRow;

/// Says that `replica` (on `host`, started at `started_at`) serves now.
pub async fn seen(
    db: &Db,
    replica: &str,
    host: &str,
    started_at: i64,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO plugin_replicas (replica, host, started_at, seen_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (replica) DO UPDATE SET seen_at = excluded.seen_at",
    )
    .bind(replica)
    .bind(host)
    .bind(started_at)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Says that `replica` stops serving.
pub async fn gone(db: &Db, replica: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM plugin_replicas WHERE replica = $1")
        .bind(replica)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Records that `replica` compiled installation `plugin_id`, or could not (`error`).
pub async fn compiled(
    db: &Db,
    plugin_id: i64,
    replica: &str,
    error: Option<&str>,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO plugin_compiled (plugin_id, replica, compiled_at, error) VALUES ($1, $2, $3, $4)
         ON CONFLICT (plugin_id, replica) DO UPDATE SET compiled_at = excluded.compiled_at, error = excluded.error",
    )
    .bind(plugin_id)
    .bind(replica)
    .bind(now)
    .bind(error)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Installations made since `since` that `replica` has not compiled yet, oldest first.
pub async fn not_compiled_by(db: &Db, replica: &str, since: i64) -> Result<Vec<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT p.id FROM plugins p WHERE p.installed_at >= $2
           AND NOT EXISTS (SELECT 1 FROM plugin_compiled c WHERE c.plugin_id = p.id AND c.replica = $1)
         ORDER BY p.id",
    )
    .bind(replica)
    .bind(since)
    .fetch_all(db.pool())
    .await?)
}

/// A live replica, and where it stands with one installation.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Readiness {
    pub replica: String,
    pub host: String,
    /// When it compiled the installation; `None` while it has not.
    pub compiled_at: Option<i64>,
    /// Why it could not.
    pub error: Option<String>,
}

/// Every replica seen since `live_since`, and where each stands with installation `plugin_id`.
pub async fn readiness(
    db: &Db,
    plugin_id: i64,
    live_since: i64,
) -> Result<Vec<Readiness>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.replica, r.host, c.compiled_at, c.error FROM plugin_replicas r
         LEFT JOIN plugin_compiled c ON c.replica = r.replica AND c.plugin_id = $1
         WHERE r.seen_at >= $2 ORDER BY r.replica",
    )
    .bind(plugin_id)
    .bind(live_since)
    .fetch_all(db.pool())
    .await?)
}

/// Per installation, how many live replicas have compiled it: (plugin id, compiled, live).
pub async fn compiled_counts(db: &Db, live_since: i64) -> Result<Vec<(i64, i64, i64)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT p.id,
                (SELECT COUNT(*) FROM plugin_compiled c JOIN plugin_replicas r ON r.replica = c.replica
                  WHERE c.plugin_id = p.id AND c.error IS NULL AND r.seen_at >= $1),
                (SELECT COUNT(*) FROM plugin_replicas r WHERE r.seen_at >= $1)
         FROM plugins p ORDER BY p.id",
    )
    .bind(live_since)
    .fetch_all(db.pool())
    .await?)
}
