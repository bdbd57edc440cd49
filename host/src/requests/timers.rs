//! Timers the workflow sets on requests (`set-timer`): stored in the database by due time, and
//! fired by every server's sweep, each exactly once: a sweep claims what is due in a
//! transaction (on PostgreSQL skipping what another server has claimed), asks the workflow
//! about each (`timer` event) and applies its answer in the same transaction. A server that
//! dies before the commit leaves the timer in place, and it fires again; never zero times, and
//! its answer applies once. A timer that fell due while every server was down fires at the
//! first sweep after start.

use super::*;
use crate::db::requests::fields as field_sql;
use crate::domain::rules::RequestEvent;

/// Timers fired in one transaction.
pub const BATCH: i64 = 100;
/// Transactions a PostgreSQL server fires timers in at once.
pub const LANES: usize = 4;

impl Requests {
    /// Fires up to [`BATCH`] timers due now; returns how many fired. Call again while it
    /// returns [`BATCH`].
    pub async fn fire_due_timers(&self) -> Result<usize> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let due = field_sql::claim_due(&mut tx, self.db.backend(), now, BATCH).await?;
        let staff = if due.is_empty() {
            Vec::new()
        } else {
            crate::db::requests::staff(&mut *tx).await?
        };
        for (request_id, name) in &due {
            let mut r = match self.lock(&mut tx, *request_id, None, now).await {
                Ok(r) => r,
                // A request that is gone takes its timers with it.
                Err(RequestError::NotFound) => continue,
                Err(e) => return Err(e),
            };
            let event = RequestEvent::Timer(name.clone());
            self.react_among(&mut tx, event, &mut r, now, &staff)
                .await?;
        }
        tx.commit().await?;
        Ok(due.len())
    }

    /// Fires every timer due now, a batch per transaction; returns how many fired. On
    /// PostgreSQL, [`LANES`] batches run side by side (each claim skips what another holds, and
    /// each batch takes its requests in ascending order, so two never wait on each other in a
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
