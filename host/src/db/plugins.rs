//! SQL for installed plugins, their activations and the active plugin of each slot.

use super::{Db, DbError, now_ms};
use sqlx::{Any, FromRow, Transaction};

#[derive(Debug, Clone, FromRow)]
pub struct PluginRow {
    pub id: i64,
    pub slot: String,
    pub name: String,
    pub version: String,
    pub summary: String,
    pub sha256: String,
    pub config: String,
    /// The installation's own budget ([`helpdesk_plugin_host::Raise`] as JSON).
    pub budget: String,
    pub installed_at: i64,
    pub installed_by: String,
}

/// A row of `helpdesk plugin list`.
#[derive(Debug, Clone)]
pub struct PluginListRow {
    pub id: i64,
    pub slot: String,
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub installed_at: i64,
    pub installed_by: String,
    pub active: bool,
}

#[derive(Debug, Clone, FromRow)]
pub struct SlotRow {
    pub slot: String,
    pub plugin_id: i64,
    pub generation: i64,
}

#[derive(Debug)]
pub struct NewPlugin<'a> {
    pub slot: &'a str,
    pub name: &'a str,
    pub version: &'a str,
    pub summary: &'a str,
    pub sha256: &'a str,
    pub wasm: &'a [u8],
    pub config: &'a str,
    pub budget: &'a str,
    pub installed_by: &'a str,
}

pub async fn insert(db: &Db, p: &NewPlugin<'_>) -> Result<i64, DbError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO plugins (slot, name, version, summary, sha256, wasm, config, budget, installed_at, installed_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(p.slot)
    .bind(p.name)
    .bind(p.version)
    .bind(p.summary)
    .bind(p.sha256)
    .bind(p.wasm)
    .bind(p.config)
    .bind(p.budget)
    .bind(now_ms())
    .bind(p.installed_by)
    .fetch_one(db.pool())
    .await?;
    Ok(id)
}

/// The id of an installation of these exact bytes with this exact config and budget, if any.
pub async fn find(
    db: &Db,
    slot: &str,
    sha256: &str,
    config: &str,
    budget: &str,
) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM plugins WHERE slot = $1 AND sha256 = $2 AND config = $3 AND budget = $4
         ORDER BY id LIMIT 1",
    )
    .bind(slot)
    .bind(sha256)
    .bind(config)
    .bind(budget)
    .fetch_optional(db.pool())
    .await?)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<PluginRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, slot, name, version, summary, sha256, config, budget, installed_at, installed_by
         FROM plugins WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

pub async fn wasm(db: &Db, id: i64) -> Result<Option<Vec<u8>>, DbError> {
    Ok(sqlx::query_scalar("SELECT wasm FROM plugins WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?)
}

pub async fn list(db: &Db) -> Result<Vec<PluginListRow>, DbError> {
    // Booleans computed in SQL come back as integers from SQLite: select one explicitly.
    type Row = (i64, String, String, String, String, i64, String, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT p.id, p.slot, p.name, p.version, p.sha256, p.installed_at, p.installed_by,
                CAST(CASE WHEN s.plugin_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS active
         FROM plugins p LEFT JOIN plugin_slots s ON s.slot = p.slot AND s.plugin_id = p.id
         ORDER BY p.slot, p.id",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, slot, name, version, sha256, installed_at, installed_by, active)| PluginListRow {
                id,
                slot,
                name,
                version,
                sha256,
                installed_at,
                installed_by,
                active: active == 1,
            },
        )
        .collect())
}

pub async fn slots(db: &Db) -> Result<Vec<SlotRow>, DbError> {
    Ok(
        sqlx::query_as("SELECT slot, plugin_id, generation FROM plugin_slots ORDER BY slot")
            .fetch_all(db.pool())
            .await?,
    )
}

pub async fn active_id(db: &Db, slot: &str) -> Result<Option<i64>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT plugin_id FROM plugin_slots WHERE slot = $1")
            .bind(slot)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Points `slot` at `plugin_id` and bumps its generation. Run first in a transaction, it also
/// takes the row lock that serialises concurrent activations and rollbacks of the slot.
async fn point_slot(
    tx: &mut Transaction<'_, Any>,
    slot: &str,
    plugin_id: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO plugin_slots (slot, plugin_id, generation) VALUES ($1, $2, 1)
         ON CONFLICT (slot) DO UPDATE SET plugin_id = excluded.plugin_id,
                                          generation = plugin_slots.generation + 1",
    )
    .bind(slot)
    .bind(plugin_id)
    .execute(&mut **tx)
    .await?;
    end_shadow_of(tx, slot, plugin_id).await
}

/// A plugin that becomes active stops being its slot's shadow.
async fn end_shadow_of(
    tx: &mut Transaction<'_, Any>,
    slot: &str,
    plugin_id: i64,
) -> Result<(), DbError> {
    sqlx::query("DELETE FROM plugin_shadows WHERE slot = $1 AND plugin_id = $2")
        .bind(slot)
        .bind(plugin_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Appends `plugin_id` to the activation history of `slot`.
async fn record_activation(
    tx: &mut Transaction<'_, Any>,
    slot: &str,
    plugin_id: i64,
    by: &str,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO plugin_activations (slot, plugin_id, activated_at, activated_by) VALUES ($1, $2, $3, $4)")
        .bind(slot)
        .bind(plugin_id)
        .bind(now_ms())
        .bind(by)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn activate(db: &Db, slot: &str, plugin_id: i64, by: &str) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    point_slot(&mut tx, slot, plugin_id).await?;
    record_activation(&mut tx, slot, plugin_id, by).await?;
    tx.commit().await?;
    Ok(())
}

/// Activates `plugin_id` only when `slot` has no active plugin; returns whether it did.
pub async fn activate_if_none(
    db: &Db,
    slot: &str,
    plugin_id: i64,
    by: &str,
) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO plugin_slots (slot, plugin_id, generation) VALUES ($1, $2, 1) ON CONFLICT (slot) DO NOTHING",
    )
    .bind(slot)
    .bind(plugin_id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        record_activation(&mut tx, slot, plugin_id, by).await?;
    }
    tx.commit().await?;
    Ok(inserted)
}

/// Marks the current activation of `slot` rolled back and reactivates the one before it.
/// Returns the plugin now active, or `None` (and changes nothing) when there is no earlier one.
pub async fn rollback(db: &Db, slot: &str, by: &str) -> Result<Option<i64>, DbError> {
    let mut tx = db.begin().await?;
    // Take the slot's row lock first, so concurrent rollbacks queue instead of racing.
    sqlx::query("UPDATE plugin_slots SET generation = generation + 1 WHERE slot = $1")
        .bind(slot)
        .execute(&mut *tx)
        .await?;
    let live: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, plugin_id FROM plugin_activations
         WHERE slot = $1 AND rolled_back_at IS NULL ORDER BY id DESC LIMIT 2",
    )
    .bind(slot)
    .fetch_all(&mut *tx)
    .await?;
    let [(current, _), (_, previous_plugin)] = live[..] else {
        tx.rollback().await?;
        return Ok(None);
    };
    sqlx::query(
        "UPDATE plugin_activations SET rolled_back_at = $1, rolled_back_by = $2 WHERE id = $3",
    )
    .bind(now_ms())
    .bind(by)
    .bind(current)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE plugin_slots SET plugin_id = $1 WHERE slot = $2")
        .bind(previous_plugin)
        .bind(slot)
        .execute(&mut *tx)
        .await?;
    end_shadow_of(&mut tx, slot, previous_plugin).await?;
    tx.commit().await?;
    Ok(Some(previous_plugin))
}

/// An installation as the operators' console shows it.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Installed {
    pub id: i64,
    pub slot: String,
    pub name: String,
    pub version: String,
    pub summary: String,
    pub sha256: String,
    /// The component's size in bytes.
    pub size: i64,
    pub config: String,
    pub installed_at: i64,
    pub installed_by: String,
    /// Live servers that have compiled it (filled in by the caller).
    #[sqlx(skip)]
    pub compiled_on: i64,
    /// Live servers (filled in by the caller).
    #[sqlx(skip)]
    pub servers: i64,
}

/// Every installation, newest first within each slot.
pub async fn installed(db: &Db) -> Result<Vec<Installed>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, slot, name, version, summary, sha256, CAST(LENGTH(wasm) AS BIGINT) AS size,
                config, installed_at, installed_by
         FROM plugins ORDER BY slot, id DESC",
    )
    .fetch_all(db.pool())
    .await?)
}

/// One activation of a slot's history.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Activation {
    pub id: i64,
    pub slot: String,
    pub plugin_id: i64,
    pub activated_at: i64,
    pub activated_by: String,
    pub rolled_back_at: Option<i64>,
    pub rolled_back_by: Option<String>,
}

/// The newest `limit` activations of `slot`, newest first.
pub async fn activations(db: &Db, slot: &str, limit: i64) -> Result<Vec<Activation>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, slot, plugin_id, activated_at, activated_by, rolled_back_at, rolled_back_by
         FROM plugin_activations WHERE slot = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(slot)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// A candidate in shadow for a slot, and what it was compared on since it started.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, serde::Serialize)]
pub struct Shadow {
    pub slot: String,
    pub plugin_id: i64,
    pub started_at: i64,
    pub started_by: String,
    /// Live decisions it was asked, on every replica.
    pub asked: i64,
    /// Of those, how many it answered otherwise.
    pub disagreed: i64,
}

/// Every slot's shadow.
pub async fn shadows(db: &Db) -> Result<Vec<Shadow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT slot, plugin_id, started_at, started_by, asked, disagreed FROM plugin_shadows ORDER BY slot",
    )
    .fetch_all(db.pool())
    .await?)
}

/// Puts `plugin_id` in shadow for `slot`, in place of any other, counting from zero.
pub async fn start_shadow(db: &Db, slot: &str, plugin_id: i64, by: &str) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO plugin_shadows (slot, plugin_id, started_at, started_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (slot) DO UPDATE SET plugin_id = excluded.plugin_id, started_at = excluded.started_at,
             started_by = excluded.started_by, asked = 0, disagreed = 0",
    )
    .bind(slot)
    .bind(plugin_id)
    .bind(now_ms())
    .bind(by)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Stops `slot`'s shadow; returns it as it ended, or `None` when there was none.
pub async fn stop_shadow(db: &Db, slot: &str) -> Result<Option<Shadow>, DbError> {
    Ok(sqlx::query_as(
        "DELETE FROM plugin_shadows WHERE slot = $1
         RETURNING slot, plugin_id, started_at, started_by, asked, disagreed",
    )
    .bind(slot)
    .fetch_optional(db.pool())
    .await?)
}

/// Adds what one replica compared to the shadowing of `plugin_id` that started at `started_at`
/// (not to a later one).
pub async fn count_shadow(
    db: &Db,
    slot: &str,
    plugin_id: i64,
    started_at: i64,
    asked: i64,
    disagreed: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE plugin_shadows SET asked = asked + $1, disagreed = disagreed + $2
         WHERE slot = $3 AND plugin_id = $4 AND started_at = $5",
    )
    .bind(asked)
    .bind(disagreed)
    .bind(slot)
    .bind(plugin_id)
    .bind(started_at)
    .execute(db.pool())
    .await?;
    Ok(())
}
