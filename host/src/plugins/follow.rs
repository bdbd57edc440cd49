//! Keeping this replica on the plugins the database says are active: a look every poll interval,
//! and on PostgreSQL a notification as each change commits.

use super::manage::raise_of;
use super::*;

impl Plugins {
    /// Loads every slot whose active plugin changed in the database since the last look.
    /// A plugin that fails to load leaves the previous one serving, and is logged.
    pub async fn refresh(&self, db: &Db) -> Result<(), DbError> {
        self.follow(db, None).await
    }

    /// Serves the change just committed for `slot`. The change stands whatever happens here: a
    /// failure is logged, and the watcher catches up on its next look.
    pub(super) async fn follow_now(&self, db: &Db, slot: Slot) {
        if let Err(e) = self.follow(db, Some(slot)).await {
            tracing::warn!(slot = %slot, error = %e, "the change is saved; this server will serve it at its next look");
        }
    }

    /// [`Plugins::refresh`] for one slot, or for all.
    async fn follow(&self, db: &Db, only: Option<Slot>) -> Result<(), DbError> {
        let _one_at_a_time = self.refreshing.lock().await;
        for row in db::plugins::slots(db).await? {
            let Ok(slot) = row.slot.parse::<Slot>() else {
                continue;
            };
            if only.is_some_and(|o| o != slot) {
                continue;
            }
            if self.generations[slot.index()].load(Ordering::Acquire) == row.generation {
                continue;
            }
            let Some(plugin) = db::plugins::get(db, row.plugin_id).await? else {
                continue;
            };
            let Some(wasm) = db::plugins::wasm(db, row.plugin_id).await? else {
                continue;
            };
            let raise = raise_of(&plugin);
            match self
                .prepare_blocking(slot, wasm, plugin.config, raise, row.plugin_id)
                .await
            {
                Ok(loaded) => {
                    self.record_compiled(db, row.plugin_id, None).await;
                    tracing::info!(slot = %slot, plugin = %loaded.plugin, generation = row.generation, "serving plugin");
                    let meters = self.metrics.plugin(slot, &loaded.plugin);
                    self.active[slot.index()].store(Some(Arc::new(Serving {
                        loaded: Arc::new(loaded),
                        meters,
                    })));
                    self.generations[slot.index()].store(row.generation, Ordering::Release);
                }
                Err(e) => {
                    self.record_compiled(db, row.plugin_id, Some(&e.to_string()))
                        .await;
                    tracing::error!(slot = %slot, id = row.plugin_id, error = %e, "active plugin failed to load; the previous one keeps serving");
                    self.generations[slot.index()].store(row.generation, Ordering::Release);
                }
            }
        }
        self.follow_shadows(db, only).await
    }

    /// Starts or stops asking each slot's shadow as the database says.
    async fn follow_shadows(&self, db: &Db, only: Option<Slot>) -> Result<(), DbError> {
        let rows = db::plugins::shadows(db).await?;
        for slot in Slot::ALL {
            if only.is_some_and(|o| o != slot) {
                continue;
            }
            let row = rows.iter().find(|r| r.slot == slot.as_str());
            let current = self.shadows[slot.index()].load();
            let unchanged = match (row, current.as_deref()) {
                (None, None) => true,
                (Some(r), Some(c)) => {
                    c.loaded.plugin.id == r.plugin_id && c.started_at == r.started_at
                }
                _ => false,
            };
            if unchanged {
                continue;
            }
            let Some(row) = row else {
                tracing::info!(slot = %slot, "no longer asking a shadow");
                self.shadows[slot.index()].store(None);
                continue;
            };
            match self.prepared(db, row.plugin_id).await {
                Ok(loaded) => {
                    tracing::info!(slot = %slot, shadow = %loaded.plugin, "asking a shadow");
                    self.shadows[slot.index()].store(Some(Arc::new(Shadowing {
                        meters: self.metrics.shadow(slot, &loaded.plugin),
                        loaded: Arc::new(loaded),
                        started_at: row.started_at,
                    })));
                }
                Err(e) => {
                    tracing::error!(slot = %slot, id = row.plugin_id, error = %e, "the shadow failed to load; it is not asked");
                    self.shadows[slot.index()].store(None);
                }
            }
        }
        Ok(())
    }

    /// Follows the database until `shutdown` resolves, as one of its replicas. On PostgreSQL
    /// every change of a slot is announced on [`CHANNEL`] (a trigger on `plugin_slots`), so each
    /// replica reloads as soon as the change commits; looking every `every` stays as the
    /// fallback, for SQLite and for whatever is missed while the listening connection is down.
    /// Every few seconds the replica says it serves, and compiles what was installed that it
    /// has not compiled yet (see [`ready`](super::ready)).
    pub async fn watch(
        self: Arc<Self>,
        db: Db,
        every: Duration,
        shutdown: impl Future<Output = ()>,
    ) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut beat = tokio::time::interval(ready::HEARTBEAT);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        self.join(&db).await;
        let mut listener = None;
        let mut listen_again = tokio::time::Instant::now();
        loop {
            if listener.is_none()
                && db.backend() == db::Backend::Postgres
                && tokio::time::Instant::now() >= listen_again
            {
                match db.listen(CHANNEL).await {
                    Ok(l) => {
                        listener = l;
                        // Whatever changed while nobody listened.
                        self.refresh_logged(&db).await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for plugin changes; looking every {every:?} meanwhile");
                        listen_again = tokio::time::Instant::now() + LISTEN_RETRY;
                    }
                }
            }
            tokio::select! {
                _ = &mut shutdown => {
                    self.leave(&db).await;
                    return;
                }
                _ = tick.tick() => self.refresh_logged(&db).await,
                _ = beat.tick() => {
                    self.heartbeat(&db).await;
                    tokio::spawn(self.clone().catch_up(db.clone()));
                }
                got = next_notification(&mut listener) => match got {
                    // A component was installed: compile it now, off this loop, so that
                    // activating it later switches this replica in milliseconds.
                    Ok(Some(n)) if n.payload().starts_with(INSTALLED) => {
                        if let Ok(id) = n.payload()[INSTALLED.len()..].parse() {
                            tokio::spawn(self.clone().prewarm(db.clone(), id));
                        }
                    }
                    // A slot changed; or the connection dropped and came back, and a change
                    // may have been missed meanwhile: either way, look.
                    Ok(_) => self.refresh_logged(&db).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the plugin-change listener; looking every {every:?} meanwhile");
                        listener = None;
                        listen_again = tokio::time::Instant::now() + LISTEN_RETRY;
                    }
                },
            }
        }
    }

    /// Compiles installed plugin `id` ahead of its activation.
    async fn prewarm(self: Arc<Self>, db: Db, id: i64) {
        self.prewarm_one(&db, id).await;
    }

    /// Compiles what was installed and this replica has not compiled, one look at a time.
    async fn catch_up(self: Arc<Self>, db: Db) {
        if self.catching_up.swap(true, Ordering::AcqRel) {
            return;
        }
        self.compile_installed(&db).await;
        self.catching_up.store(false, Ordering::Release);
    }

    async fn refresh_logged(&self, db: &Db) {
        if let Err(e) = self.refresh(db).await {
            tracing::warn!(error = %e, "could not check for plugin changes");
        }
    }
}

/// The PostgreSQL notification channel on which every change of `plugin_slots` is announced,
/// with the slot as payload, and every new installation, as `installed:<id>`.
pub const CHANNEL: &str = "helpdesk_plugin_slots";

/// The payload prefix, on [`CHANNEL`], of a new installation: `installed:<id>`.
const INSTALLED: &str = "installed:";

/// How long to wait before listening again after the listening connection failed.
const LISTEN_RETRY: Duration = Duration::from_secs(2);

/// The next notification, or never when not listening.
async fn next_notification(
    listener: &mut Option<sqlx::postgres::PgListener>,
) -> Result<Option<sqlx::postgres::PgNotification>, sqlx::Error> {
    match listener {
        Some(l) => l.try_recv().await,
        None => std::future::pending().await,
    }
}
