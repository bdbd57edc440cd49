//! Timers the workflow sets on requests (`set-timer`): stored in the database by due time, and
//! fired by every server's sweep, each exactly once: a sweep claims what is due in a
//! transaction (on PostgreSQL skipping what another server has claimed), asks the workflow
//! about each (`timer` event) and applies its answer in the same transaction. A server that
//! dies before the commit leaves the timer in place, and it fires again; never zero times, and
//! its answer applies once. A timer that fell due while every server was down fires at the
//! first sweep after start.

use super::react::{Among, Moves};
use super::*;
use crate::db::requests::fields::{self as field_sql, RuleFacts};
use crate::domain::rules::RequestEvent;
use std::collections::HashMap;

/// Timers fired in one transaction.
pub const BATCH: i64 = 100;
/// Transactions a PostgreSQL server fires timers in at once.
pub const LANES: usize = 4;

impl Requests {
    /// Fires up to [`BATCH`] timers due now; returns how many fired. Call again while it
    /// returns [`BATCH`]. The batch's requests are locked, read and their facts gathered in a
    /// few statements; the requests the answers change are written together at the end, each
    /// row once with its last status (a request whose timer changed nothing keeps its version).
    pub async fn fire_due_timers(&self) -> Result<usize> {
        let now = self.now();
        let backend = self.db.backend();
        let mut tx = self.db.begin().await?;
        let due = field_sql::claim_due(&mut tx, backend, now, BATCH).await?;
        if due.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        let mut ids: Vec<i64> = due.iter().map(|(id, _)| *id).collect();
        ids.dedup();
        // A request that is gone took its timers with it.
        let mut rows: HashMap<i64, RequestRow> = sql::lock_many(&mut tx, backend, &ids)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let facts: HashMap<i64, RuleFacts> = field_sql::rule_facts_of(&mut tx, &ids)
            .await?
            .into_iter()
            .collect();
        let staff = sql::staff(&mut *tx).await?;
        let endpoints = crate::db::webhooks::active(&mut *tx).await?;
        let defs = custom::Definitions::all(&mut tx).await?;
        let mut moves = Moves::default();
        for (request_id, name) in &due {
            let (Some(r), Some(facts)) = (rows.get_mut(request_id), facts.get(request_id)) else {
                continue;
            };
            let among = Among {
                staff: &staff,
                facts,
                endpoints: &endpoints,
                defs: &defs,
            };
            let event = RequestEvent::Timer(name.clone());
            self.react_among(&mut tx, event, r, now, among, Some(&mut moves))
                .await?;
        }
        moves.write(&mut tx, now).await?;
        tx.commit().await?;
        Ok(due.len())
    }

    /// Fires every timer due now, a batch per transaction; returns how many fired. On
    /// PostgreSQL, [`LANES`] batches run side by side (each claim skips what another holds, and
    /// each batch locks its requests in ascending order, so two never wait on each other in a
    /// circle); SQLite has one writer.
    pub async fn fire_all_due_timers(&self) -> Result<usize> {
        let lanes = match self.db.backend() {
            crate::db::Backend::Postgres => LANES,
            crate::db::Backend::Sqlite => 1,
        };
        let mut fired = 0;
        loop {
            let counts =
                futures_util::future::try_join_all((0..lanes).map(|_| self.fire_due_timers()))
                    .await?;
            fired += counts.iter().sum::<usize>();
            if counts.iter().all(|n| *n < BATCH as usize) {
                return Ok(fired);
            }
        }
    }
}

/// Sweeps due timers every `every`, the first sweep `every` after the start, until `stop`
/// resolves; a failed sweep is logged and tried again at the next.
pub async fn sweep_timers(
    requests: Arc<Requests>,
    every: std::time::Duration,
    stop: impl Future<Output = ()>,
) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = tick.tick() => {
                match requests.fire_all_due_timers().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(fired = n, "fired due timers"),
                    Err(e) => tracing::warn!(error = %e, "sweeping due timers failed; trying again"),
                }
            }
        }
    }
}
