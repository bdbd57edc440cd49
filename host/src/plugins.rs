//! Rule plugins: installing, activating and rolling back components per slot, keeping every
//! host replica on the active version, and asking the active plugin of a slot for a decision.
//!
//! The rest of the host sees only this module's plain API and the types of
//! `crate::domain::rules`; wasmtime stays inside `runtime` and `bindings`.
//!
//! Swapping is lock-free for callers: each slot holds an `Arc<Loaded>` behind an `ArcSwap`. A
//! call clones the `Arc` when it starts, so a swap never disturbs a call in flight; the new
//! version serves every call that starts after it.

pub use helpdesk_plugin_host::signature::TrustedKeys;
pub use helpdesk_plugin_host::{
    Budget, Limits, Loaded, LogLevel, PluginError, PluginErrorKind, PrepareError, Raise, Runtime,
    Usage, examples, measure,
};

use crate::db::{self, Db, DbError};
use crate::decisions::{DecisionLog, PasswordShape};
use crate::domain::rules::{
    Decided, EligibilityDecision, EligibilityRequest, EventContext, PasswordContext,
    PasswordVerdict, Slot, Status, TransitionDecision, TransitionRequest,
};
use crate::metrics::{Metrics, PluginMeters};
use arc_swap::ArcSwapOption;
pub use shadow::Asked;
use shadow::Shadowing;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

mod shadow;

/// Why a plugin could not be installed, activated or rolled back.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("refused: {0}")]
    Refused(String),
    #[error("the plugin's config is invalid: {0}")]
    InvalidConfig(String),
    #[error("no plugin #{0} is installed")]
    UnknownPlugin(i64),
    #[error("plugin #{id} is a {actual} plugin, not a {wanted} plugin")]
    WrongSlot {
        id: i64,
        actual: String,
        wanted: Slot,
    },
    #[error("plugin #{0} is already the active {1} plugin")]
    AlreadyActive(i64, Slot),
    #[error("there is no earlier {0} plugin to roll back to")]
    NothingToRollBack(Slot),
    #[error("no plugin is in shadow for {0}")]
    NoShadow(Slot),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<PrepareError> for ManageError {
    fn from(e: PrepareError) -> ManageError {
        match e {
            PrepareError::Refused(why) => ManageError::Refused(why),
            PrepareError::InvalidConfig(why) => ManageError::InvalidConfig(why),
            PrepareError::Plugin(p) => ManageError::Plugin(p),
        }
    }
}

/// A component to install, and how.
#[derive(Debug, Clone, Copy)]
pub struct Install<'a> {
    pub slot: Slot,
    pub bytes: &'a [u8],
    pub config: &'a str,
    /// The installation's own budget, where it differs from its slot's default.
    pub raise: Raise,
    /// The text of the component's detached signature file, if it has one.
    pub signature: Option<&'a str>,
    /// Who installs it, for the audit trail.
    pub by: &'a str,
    /// Also make it the active plugin of its slot.
    pub activate: bool,
}

/// A plugin serving a slot on this replica, with what its calls count.
#[derive(Debug)]
struct Serving {
    loaded: Arc<Loaded>,
    meters: PluginMeters,
}

/// The active plugin of every slot, kept in step with the database.
#[derive(Debug)]
pub struct Plugins {
    runtime: Arc<Runtime>,
    /// With keys, every component installed (but the bundled ones) needs a signature by one.
    trusted: TrustedKeys,
    active: [ArcSwapOption<Serving>; 3],
    generations: [AtomicI64; 3],
    /// One refresh at a time: a slower, older refresh must never replace a newer plugin.
    refreshing: tokio::sync::Mutex<()>,
    /// The server's registry: every decision is counted here.
    metrics: Metrics,
    /// Where decisions are recorded, on a server.
    log: std::sync::OnceLock<DecisionLog>,
    /// The candidate in shadow for each slot, if any.
    shadows: [ArcSwapOption<Shadowing>; 3],
    /// Where live decisions are offered to the shadows, on a server.
    shadowing: std::sync::OnceLock<shadow::Queue>,
}

impl Plugins {
    pub fn new(runtime: Arc<Runtime>) -> Plugins {
        Plugins {
            runtime,
            trusted: TrustedKeys::default(),
            active: Default::default(),
            generations: Default::default(),
            refreshing: Default::default(),
            metrics: Metrics::new(),
            log: Default::default(),
            shadows: Default::default(),
            shadowing: Default::default(),
        }
    }

    /// Records every decision from now on in `log` (a server does; the CLI does not).
    pub fn log_decisions(&self, log: DecisionLog) {
        let _ = self.log.set(log);
    }

    /// Asks each slot's shadow every live decision from now on, recording disagreements in the
    /// decision log (which must be set first); returns the worker that does it, to run until
    /// `shutdown` resolves.
    pub fn ask_shadows<S: Future<Output = ()> + Send>(
        &self,
        db: Db,
        shutdown: S,
    ) -> impl Future<Output = ()> + Send + use<S> {
        let log = self
            .log
            .get()
            .cloned()
            .expect("the decision log is set before shadows are asked");
        let (queue, worker) = shadow::start(db, &self.metrics, log, shutdown);
        let _ = self.shadowing.set(queue);
        worker
    }

    /// The registry the decisions of these plugins are counted in, which the server's
    /// `/metrics` renders.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Requires a signature by one of `keys` on every component installed from now on.
    pub fn trusting(self, keys: TrustedKeys) -> Plugins {
        Plugins {
            trusted: keys,
            ..self
        }
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// The plugin active in `slot` on this replica.
    pub fn active(&self, slot: Slot) -> Result<Arc<Loaded>, PluginError> {
        Ok(self.serving(slot)?.loaded.clone())
    }

    fn serving(&self, slot: Slot) -> Result<Arc<Serving>, PluginError> {
        self.active[slot.index()].load_full().ok_or(PluginError {
            plugin: None,
            kind: PluginErrorKind::NotActive(slot),
        })
    }

    /// Asks the plugin serving `slot`, counting the call, its time and its failure. A decision
    /// (one with `input`, the question redacted) is recorded in the decision log, about request
    /// `about` where there is one, and offered to the slot's shadow, if it has one, as `asked`.
    fn decide<V: serde::Serialize>(
        &self,
        slot: Slot,
        about: Option<i64>,
        input: Option<(impl FnOnce() -> String, impl FnOnce() -> Asked)>,
        function: &'static str,
        call: impl FnOnce(&Loaded) -> Result<Decided<V>, PluginError>,
    ) -> Result<Decided<V>, PluginError> {
        let serving = self.serving(slot)?;
        let started = Instant::now();
        let result = call(&serving.loaded);
        let took = started.elapsed();
        let failure = result.as_ref().err().map(|e| e.kind.label());
        serving.meters.call(function, took, failure);
        let (Some(log), Some((input, asked))) = (self.log.get(), input) else {
            return result;
        };
        let plugin = &serving.loaded.plugin;
        let decision = db::decisions::NewDecision {
            decided_at: db::now_ms(),
            slot: slot.as_str(),
            function,
            plugin_id: plugin.id,
            sha256: plugin.sha256.clone(),
            request_id: about,
            input: input(),
            answer: result.as_ref().ok().map(|d| to_json(&d.value)),
            outcome: failure.unwrap_or("ok"),
            micros: took.as_micros().try_into().unwrap_or(i64::MAX),
            live: None,
        };
        if let Some(shadow) = self.shadows[slot.index()].load_full()
            && let Some(queue) = self.shadowing.get()
        {
            queue.offer(shadow::Job {
                shadow,
                slot,
                asked: asked(),
                about,
                input: decision.input.clone(),
                decided_at: decision.decided_at,
                live: db::decisions::Live {
                    plugin_id: plugin.id,
                    outcome: decision.outcome,
                    answer: decision.answer.clone(),
                },
            });
        }
        log.record(decision);
        result
    }

    pub fn check_password(
        &self,
        password: &str,
        context: &PasswordContext,
    ) -> Result<Decided<PasswordVerdict>, PluginError> {
        let input = || {
            #[derive(serde::Serialize)]
            struct Question<'a> {
                password: PasswordShape,
                context: &'a PasswordContext,
            }
            let q = Question {
                password: PasswordShape::of(password),
                context,
            };
            serde_json::to_string(&q).unwrap_or_default()
        };
        let asked = || Asked::Password(password.to_owned(), context.clone());
        self.decide(
            Slot::PasswordPolicy,
            None,
            Some((input, asked)),
            "check-password",
            |p| p.check_password(password, context),
        )
    }

    /// Not a decision: counted, not logged.
    pub fn password_requirements(&self) -> Result<Decided<String>, PluginError> {
        self.decide(
            Slot::PasswordPolicy,
            None,
            None::<(fn() -> String, fn() -> Asked)>,
            "password-requirements",
            |p| p.password_requirements(),
        )
    }

    pub fn decide_eligibility(
        &self,
        request: &EligibilityRequest,
    ) -> Result<Decided<EligibilityDecision>, PluginError> {
        self.decide(
            Slot::SignupEligibility,
            None,
            Some((|| to_json(request), || Asked::Eligibility(request.clone()))),
            "decide",
            |p| p.decide_eligibility(request),
        )
    }

    pub fn statuses(&self) -> Result<Decided<Vec<Status>>, PluginError> {
        let active = self.active(Slot::TicketWorkflow)?;
        Ok(active.decided(active.statuses()?))
    }

    /// May a request (`about`, where it exists) move as `request` says?
    pub fn can_transition(
        &self,
        request: &TransitionRequest,
        about: Option<i64>,
    ) -> Result<Decided<TransitionDecision>, PluginError> {
        self.decide(
            Slot::TicketWorkflow,
            about,
            Some((|| to_json(request), || Asked::Transition(request.clone()))),
            "can-transition",
            |p| p.can_transition(request),
        )
    }

    /// Where the workflow moves a request (`about`, where it exists) after an event.
    pub fn on_event(
        &self,
        context: &EventContext,
        about: Option<i64>,
    ) -> Result<Decided<Option<String>>, PluginError> {
        self.decide(
            Slot::TicketWorkflow,
            about,
            Some((|| to_json(context), || Asked::Event(context.clone()))),
            "on-event",
            |p| p.on_event(context),
        )
    }

    /// Checks a component and stores it, with its slot's default budget; with `activate`, also
    /// makes it the slot's active plugin. Installing the same bytes with the same config again
    /// returns the existing id.
    pub async fn install(
        &self,
        db: &Db,
        slot: Slot,
        bytes: &[u8],
        config: &str,
        by: &str,
        activate: bool,
    ) -> Result<i64, ManageError> {
        let install = Install {
            slot,
            bytes,
            config,
            raise: Raise::default(),
            signature: None,
            by,
            activate,
        };
        self.install_with(db, &install).await
    }

    /// [`Plugins::install`] with a budget of the operator's own for this installation, and the
    /// component's signature where the operator requires one.
    pub async fn install_with(&self, db: &Db, install: &Install<'_>) -> Result<i64, ManageError> {
        if !self.trusted.is_empty() {
            let Some(signature) = install.signature else {
                return Err(ManageError::Refused(
                    "this server accepts only signed components (HELPDESK_PLUGIN_TRUSTED_KEYS): pass the component's signature with --signature".into(),
                ));
            };
            let key = self
                .trusted
                .verify(install.bytes, signature)
                .map_err(ManageError::Refused)?;
            tracing::info!(slot = %install.slot, key, "plugin signature verified");
        }
        self.store(db, install).await
    }

    /// Prepares and stores a component whose origin is settled.
    async fn store(&self, db: &Db, install: &Install<'_>) -> Result<i64, ManageError> {
        let &Install {
            slot,
            bytes,
            config,
            raise,
            by,
            activate,
            ..
        } = install;
        let budget_json = serde_json::to_string(&raise).expect("a budget serialises");
        let loaded = self
            .prepare_blocking(slot, bytes.to_vec(), config.to_owned(), raise, 0)
            .await?;
        let found = db::plugins::find(
            db,
            slot.as_str(),
            &loaded.plugin.sha256,
            config,
            &budget_json,
        )
        .await?;
        let id = match found {
            Some(id) => id,
            None => {
                db::plugins::insert(
                    db,
                    &db::plugins::NewPlugin {
                        slot: slot.as_str(),
                        name: &loaded.info.name,
                        version: &loaded.info.version,
                        summary: &loaded.info.summary,
                        sha256: &loaded.plugin.sha256,
                        wasm: bytes,
                        config,
                        budget: &budget_json,
                        installed_by: by,
                    },
                )
                .await?
            }
        };
        tracing::info!(slot = %slot, id, plugin.name = %loaded.info.name, plugin.version = %loaded.info.version, plugin.sha256 = %loaded.plugin.sha256, by, "plugin installed");
        // The component was prepared on this host just above: no need to prove it again.
        if activate && db::plugins::active_id(db, slot.as_str()).await? != Some(id) {
            self.record_activation(db, slot, id, by).await?;
        }
        Ok(id)
    }

    /// Makes plugin `id` the active plugin of `slot` on every replica.
    pub async fn activate(
        &self,
        db: &Db,
        slot: Slot,
        id: i64,
        by: &str,
    ) -> Result<(), ManageError> {
        let row = db::plugins::get(db, id)
            .await?
            .ok_or(ManageError::UnknownPlugin(id))?;
        if row.slot != slot.as_str() {
            return Err(ManageError::WrongSlot {
                id,
                actual: row.slot,
                wanted: slot,
            });
        }
        if db::plugins::active_id(db, slot.as_str()).await? == Some(id) {
            return Err(ManageError::AlreadyActive(id, slot));
        }
        // Prove it still loads on this host before any replica is told to switch.
        let wasm = db::plugins::wasm(db, id)
            .await?
            .ok_or(ManageError::UnknownPlugin(id))?;
        self.prepare_blocking(slot, wasm, row.config.clone(), raise_of(&row), id)
            .await?;
        self.record_activation(db, slot, id, by).await
    }

    async fn record_activation(
        &self,
        db: &Db,
        slot: Slot,
        id: i64,
        by: &str,
    ) -> Result<(), ManageError> {
        db::plugins::activate(db, slot.as_str(), id, by).await?;
        tracing::info!(slot = %slot, id, by, "plugin activated");
        // This replica serves it at once; the others hear of it from the database.
        self.follow_now(db, slot).await;
        Ok(())
    }

    /// A new installation of plugin `id`'s component with another config, checked by the
    /// plugin like any install; not activated. The component was verified when it was first
    /// installed, so no signature is asked again. Returns the new installation's id (or the
    /// existing one with that config).
    pub async fn reconfigure(
        &self,
        db: &Db,
        id: i64,
        config: &str,
        by: &str,
    ) -> Result<i64, ManageError> {
        let (row, slot, wasm) = stored(db, id).await?;
        let install = Install {
            slot,
            bytes: &wasm,
            config,
            raise: raise_of(&row),
            signature: None,
            by,
            activate: false,
        };
        self.store(db, &install).await
    }

    /// Installed plugin `id`, prepared on this host (from memory when it was prepared lately):
    /// to be asked questions by hand, outside the request path.
    pub async fn prepared(&self, db: &Db, id: i64) -> Result<Loaded, ManageError> {
        let (row, slot, wasm) = stored(db, id).await?;
        self.prepare_blocking(slot, wasm, row.config.clone(), raise_of(&row), id)
            .await
    }

    /// Returns `slot` to the plugin that was active before the current one.
    pub async fn rollback(&self, db: &Db, slot: Slot, by: &str) -> Result<i64, ManageError> {
        let id = db::plugins::rollback(db, slot.as_str(), by)
            .await?
            .ok_or(ManageError::NothingToRollBack(slot))?;
        tracing::info!(slot = %slot, id, by, "plugin rolled back");
        self.follow_now(db, slot).await;
        Ok(id)
    }

    /// Puts installed plugin `id` in shadow for its slot on every replica, in place of any
    /// other shadow there. Returns the slot.
    pub async fn start_shadow(&self, db: &Db, id: i64, by: &str) -> Result<Slot, ManageError> {
        let (row, slot, wasm) = stored(db, id).await?;
        if db::plugins::active_id(db, slot.as_str()).await? == Some(id) {
            return Err(ManageError::AlreadyActive(id, slot));
        }
        // Prove it loads on this host before any replica starts asking it.
        self.prepare_blocking(slot, wasm, row.config.clone(), raise_of(&row), id)
            .await?;
        db::plugins::start_shadow(db, slot.as_str(), id, by).await?;
        tracing::info!(slot = %slot, id, by, "plugin in shadow");
        self.follow_now(db, slot).await;
        Ok(slot)
    }

    /// Stops `slot`'s shadow on every replica; returns it with its counts.
    pub async fn stop_shadow(
        &self,
        db: &Db,
        slot: Slot,
        by: &str,
    ) -> Result<db::plugins::Shadow, ManageError> {
        let shadow = db::plugins::stop_shadow(db, slot.as_str())
            .await?
            .ok_or(ManageError::NoShadow(slot))?;
        tracing::info!(slot = %slot, id = shadow.plugin_id, by, "shadow stopped");
        self.follow_now(db, slot).await;
        Ok(shadow)
    }

    /// Makes `slot`'s shadow its active plugin on every replica (which ends the shadowing);
    /// returns the shadow as it was.
    pub async fn promote_shadow(
        &self,
        db: &Db,
        slot: Slot,
        by: &str,
    ) -> Result<db::plugins::Shadow, ManageError> {
        let shadow = db::plugins::shadows(db)
            .await?
            .into_iter()
            .find(|s| s.slot == slot.as_str())
            .ok_or(ManageError::NoShadow(slot))?;
        self.activate(db, slot, shadow.plugin_id, by).await?;
        Ok(shadow)
    }

    /// The plugin in shadow for `slot` on this replica, if any.
    pub fn shadow(&self, slot: Slot) -> Option<Arc<Loaded>> {
        self.shadows[slot.index()]
            .load()
            .as_ref()
            .map(|s| s.loaded.clone())
    }

    /// Installs and activates the bundled default of every slot that has no active plugin yet.
    pub async fn ensure_defaults(&self, db: &Db) -> Result<(), ManageError> {
        for bundled in helpdesk_bundled_plugins::DEFAULTS {
            let slot: Slot = bundled.slot.parse().map_err(ManageError::Refused)?;
            if db::plugins::active_id(db, slot.as_str()).await?.is_some() {
                continue;
            }
            // Part of this binary: trusted as the binary is.
            let install = Install {
                slot,
                bytes: bundled.wasm,
                config: "",
                raise: Raise::default(),
                signature: None,
                by: "bundled",
                activate: false,
            };
            let id = self.store(db, &install).await?;
            // Another replica starting at the same moment may win; either way one is active.
            db::plugins::activate_if_none(db, slot.as_str(), id, "bundled").await?;
        }
        Ok(())
    }

    /// Loads every slot whose active plugin changed in the database since the last look.
    /// A plugin that fails to load leaves the previous one serving, and is logged.
    pub async fn refresh(&self, db: &Db) -> Result<(), DbError> {
        self.follow(db, None).await
    }

    /// Serves the change just committed for `slot`. The change stands whatever happens here: a
    /// failure is logged, and the watcher catches up on its next look.
    async fn follow_now(&self, db: &Db, slot: Slot) {
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
                    tracing::info!(slot = %slot, plugin = %loaded.plugin, generation = row.generation, "serving plugin");
                    let meters = self.metrics.plugin(slot, &loaded.plugin);
                    self.active[slot.index()].store(Some(Arc::new(Serving {
                        loaded: Arc::new(loaded),
                        meters,
                    })));
                    self.generations[slot.index()].store(row.generation, Ordering::Release);
                }
                Err(e) => {
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

    /// Follows the database until `shutdown` resolves. On PostgreSQL every change of a slot is
    /// announced on [`CHANNEL`] (a trigger on `plugin_slots`), so each replica reloads as soon as
    /// the change commits; looking every `every` stays as the fallback, for SQLite and for
    /// whatever is missed while the listening connection is down.
    pub async fn watch(
        self: Arc<Self>,
        db: Db,
        every: Duration,
        shutdown: impl Future<Output = ()>,
    ) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
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
                _ = &mut shutdown => return,
                _ = tick.tick() => self.refresh_logged(&db).await,
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

    /// Prepares installed plugin `id` and lets it go: the compiled component stays in the
    /// runtime's memory (and artifact cache) for when it is activated.
    async fn prewarm(self: Arc<Self>, db: Db, id: i64) {
        let started = Instant::now();
        match self.prepared(&db, id).await {
            Ok(_) => {
                tracing::debug!(id, took = ?started.elapsed(), "installed plugin compiled ahead of activation")
            }
            Err(e) => {
                tracing::warn!(id, error = %e, "could not prepare an installed plugin ahead of activation")
            }
        }
    }

    async fn refresh_logged(&self, db: &Db) {
        if let Err(e) = self.refresh(db).await {
            tracing::warn!(error = %e, "could not check for plugin changes");
        }
    }

    /// Compiling can take tens of milliseconds: keep it off the async workers.
    async fn prepare_blocking(
        &self,
        slot: Slot,
        bytes: Vec<u8>,
        config: String,
        raise: Raise,
        id: i64,
    ) -> Result<Loaded, ManageError> {
        let runtime = self.runtime.clone();
        let budget = raise.apply(runtime.limits().budget(slot));
        tokio::task::spawn_blocking(move || {
            Loaded::prepare_with(&runtime, slot, &bytes, &config, id, budget)
        })
        .await
        .map_err(|e| ManageError::Refused(format!("plugin preparation stopped: {e}")))?
        .map_err(ManageError::from)
    }
}

/// The PostgreSQL notification channel on which every change of `plugin_slots` is announced,
/// with the slot as payload, and every new installation, as `installed:<id>`.
pub const CHANNEL: &str = "helpdesk_plugin_slots";

/// The payload prefix, on [`CHANNEL`], of a new installation: `installed:<id>`.
const INSTALLED: &str = "installed:";

/// How long to wait before listening again after the listening connection failed.
const LISTEN_RETRY: Duration = Duration::from_secs(2);

/// A question as the decision log keeps it.
fn to_json(question: &impl serde::Serialize) -> String {
    serde_json::to_string(question).unwrap_or_default()
}

/// The next notification, or never when not listening.
async fn next_notification(
    listener: &mut Option<sqlx::postgres::PgListener>,
) -> Result<Option<sqlx::postgres::PgNotification>, sqlx::Error> {
    match listener {
        Some(l) => l.try_recv().await,
        None => std::future::pending().await,
    }
}

/// Installation `id` as stored: its row, its slot and its component.
async fn stored(db: &Db, id: i64) -> Result<(db::plugins::PluginRow, Slot, Vec<u8>), ManageError> {
    let row = db::plugins::get(db, id)
        .await?
        .ok_or(ManageError::UnknownPlugin(id))?;
    let slot: Slot = row.slot.parse().map_err(ManageError::Refused)?;
    let wasm = db::plugins::wasm(db, id)
        .await?
        .ok_or(ManageError::UnknownPlugin(id))?;
    Ok((row, slot, wasm))
}

/// An installation's own budget; a row this binary cannot read (written by a newer one) falls
/// back to the slot's default, and says so.
fn raise_of(row: &db::plugins::PluginRow) -> Raise {
    serde_json::from_str(&row.budget).unwrap_or_else(|e| {
        tracing::warn!(id = row.id, error = %e, "plugin budget unreadable; using the slot's default");
        Raise::default()
    })
}
