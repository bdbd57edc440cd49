//! Rule plugins: installing, activating and rolling back components per slot, keeping every
//! host replica on the active version, and asking the active plugin of a slot for a decision.
//!
//! The rest of the host sees only this module's plain API and the types of
//! `crate::domain::rules`; wasmtime stays inside `runtime` and `bindings`.
//!
//! Swapping is lock-free for callers: each slot holds an `Arc<Loaded>` behind an `ArcSwap`. A
//! call clones the `Arc` when it starts, so a swap never disturbs a call in flight; the new
//! version serves every call that starts after it.

mod bindings;
mod cache;
pub mod examples;
mod runtime;

pub use runtime::{Limits, Runtime};

use crate::db::{self, Db, DbError};
use crate::domain::rules::{
    Decided, EligibilityDecision, EligibilityRequest, EventContext, PasswordContext,
    PasswordVerdict, PluginInfo, PluginRef, Slot, Status, TransitionDecision, TransitionRequest,
};
use arc_swap::ArcSwapOption;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Why a plugin could not answer. Every variant fails closed: the caller refuses the action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginErrorKind {
    NotActive(Slot),
    Timeout(Duration),
    MemoryLimit(usize),
    Trap { error: String, stderr: String },
    OutputTooLarge { bytes: usize, limit: usize },
    Malformed(String),
}

/// A failed plugin call, naming the plugin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PluginError {
    /// Boxed to keep `Result<_, PluginError>` small on the happy path.
    pub plugin: Option<Box<PluginRef>>,
    pub kind: PluginErrorKind,
}

impl PluginError {
    pub(crate) fn new(plugin: PluginRef, kind: PluginErrorKind) -> PluginError {
        PluginError {
            plugin: Some(Box::new(plugin)),
            kind,
        }
    }
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = &self.plugin {
            write!(f, "plugin {p} ")?;
        }
        match &self.kind {
            PluginErrorKind::NotActive(slot) => write!(f, "no {slot} plugin is active"),
            PluginErrorKind::Timeout(d) => write!(f, "ran past its {} ms deadline", d.as_millis()),
            PluginErrorKind::MemoryLimit(cap) => {
                write!(f, "tried to use more than its {} MiB memory cap", cap >> 20)
            }
            PluginErrorKind::Trap { error, stderr } if stderr.is_empty() => {
                write!(f, "trapped: {error}")
            }
            PluginErrorKind::Trap { error, stderr } => {
                write!(f, "trapped: {error}; stderr: {stderr}")
            }
            PluginErrorKind::OutputTooLarge { bytes, limit } => {
                write!(
                    f,
                    "answered with {bytes} bytes, over the {limit}-byte output cap"
                )
            }
            PluginErrorKind::Malformed(why) => write!(f, "gave a malformed answer: {why}"),
        }
    }
}

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
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A component prepared for calls, with the config it was installed with.
#[derive(Debug)]
pub struct Loaded {
    pub plugin: PluginRef,
    pub info: PluginInfo,
    pub slot: Slot,
    pub config: String,
    pre: bindings::SlotPre,
    runtime: Arc<Runtime>,
    statuses: OnceLock<Vec<Status>>,
}

impl Loaded {
    /// Checks and prepares `bytes` for `slot` with `config`: a component of the right world,
    /// whose `info` is well formed and which accepts `config`. Nothing is stored.
    pub fn prepare(
        runtime: &Arc<Runtime>,
        slot: Slot,
        bytes: &[u8],
        config: &str,
        id: i64,
    ) -> Result<Loaded, ManageError> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let pre = runtime
            .prepare(slot, bytes, &sha256)
            .map_err(ManageError::Refused)?;
        let mut plugin = PluginRef {
            id,
            name: "(unnamed)".into(),
            version: "?".into(),
            sha256,
        };
        let info = pre.info(runtime, &plugin)?;
        plugin.name = info.name.clone();
        plugin.version = info.version.clone();
        pre.validate_config(runtime, &plugin, config)?
            .map_err(ManageError::InvalidConfig)?;
        let loaded = Loaded {
            plugin,
            info,
            slot,
            config: config.to_owned(),
            pre,
            runtime: runtime.clone(),
            statuses: OnceLock::new(),
        };
        if slot == Slot::TicketWorkflow {
            // A workflow's statuses depend only on its config: ask once, and refuse a workflow
            // whose list breaks the contract before it can be activated.
            loaded.statuses()?;
        }
        Ok(loaded)
    }

    fn decided<T>(&self, value: T) -> Decided<T> {
        Decided {
            value,
            by: self.plugin.clone(),
        }
    }

    pub fn check_password(
        &self,
        password: &str,
        context: &PasswordContext,
    ) -> Result<Decided<PasswordVerdict>, PluginError> {
        let v = self.pre.check_password(
            &self.runtime,
            &self.plugin,
            &self.config,
            password,
            context,
        )?;
        Ok(self.decided(v))
    }

    pub fn password_requirements(&self) -> Result<Decided<String>, PluginError> {
        let v = self
            .pre
            .password_requirements(&self.runtime, &self.plugin, &self.config)?;
        Ok(self.decided(v))
    }

    pub fn decide_eligibility(
        &self,
        request: &EligibilityRequest,
    ) -> Result<Decided<EligibilityDecision>, PluginError> {
        let v = self
            .pre
            .decide_eligibility(&self.runtime, &self.plugin, &self.config, request)?;
        Ok(self.decided(v))
    }

    /// The workflow's statuses, asked of the plugin once per loaded version.
    pub fn statuses(&self) -> Result<Vec<Status>, PluginError> {
        if let Some(s) = self.statuses.get() {
            return Ok(s.clone());
        }
        let s = self
            .pre
            .workflow_statuses(&self.runtime, &self.plugin, &self.config)?;
        Ok(self.statuses.get_or_init(|| s).clone())
    }

    pub fn can_transition(
        &self,
        request: &TransitionRequest,
    ) -> Result<Decided<TransitionDecision>, PluginError> {
        let v = self
            .pre
            .can_transition(&self.runtime, &self.plugin, &self.config, request)?;
        Ok(self.decided(v))
    }

    /// The status an event moves a request to, if any; a key outside `statuses` is malformed.
    pub fn on_event(&self, context: &EventContext) -> Result<Decided<Option<String>>, PluginError> {
        let v = self
            .pre
            .on_event(&self.runtime, &self.plugin, &self.config, context)?;
        if let Some(key) = &v
            && !self.statuses()?.iter().any(|s| &s.key == key)
        {
            return Err(PluginError::new(
                self.plugin.clone(),
                PluginErrorKind::Malformed(format!("`on-event` named the unknown status {key:?}")),
            ));
        }
        Ok(self.decided(v))
    }
}

/// The active plugin of every slot, kept in step with the database.
#[derive(Debug)]
pub struct Plugins {
    runtime: Arc<Runtime>,
    active: [ArcSwapOption<Loaded>; 3],
    generations: [AtomicI64; 3],
}

impl Plugins {
    pub fn new(runtime: Arc<Runtime>) -> Plugins {
        Plugins {
            runtime,
            active: Default::default(),
            generations: Default::default(),
        }
    }

    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// The plugin active in `slot` on this replica.
    pub fn active(&self, slot: Slot) -> Result<Arc<Loaded>, PluginError> {
        self.active[slot.index()].load_full().ok_or(PluginError {
            plugin: None,
            kind: PluginErrorKind::NotActive(slot),
        })
    }

    pub fn check_password(
        &self,
        password: &str,
        context: &PasswordContext,
    ) -> Result<Decided<PasswordVerdict>, PluginError> {
        self.active(Slot::PasswordPolicy)?
            .check_password(password, context)
    }

    pub fn password_requirements(&self) -> Result<Decided<String>, PluginError> {
        self.active(Slot::PasswordPolicy)?.password_requirements()
    }

    pub fn decide_eligibility(
        &self,
        request: &EligibilityRequest,
    ) -> Result<Decided<EligibilityDecision>, PluginError> {
        self.active(Slot::SignupEligibility)?
            .decide_eligibility(request)
    }

    pub fn statuses(&self) -> Result<Decided<Vec<Status>>, PluginError> {
        let active = self.active(Slot::TicketWorkflow)?;
        Ok(active.decided(active.statuses()?))
    }

    pub fn can_transition(
        &self,
        request: &TransitionRequest,
    ) -> Result<Decided<TransitionDecision>, PluginError> {
        self.active(Slot::TicketWorkflow)?.can_transition(request)
    }

    pub fn on_event(&self, context: &EventContext) -> Result<Decided<Option<String>>, PluginError> {
        self.active(Slot::TicketWorkflow)?.on_event(context)
    }

    /// Checks a component and stores it; with `activate`, also makes it the slot's active plugin.
    /// Installing the same bytes with the same config again returns the existing id.
    pub async fn install(
        &self,
        db: &Db,
        slot: Slot,
        bytes: &[u8],
        config: &str,
        by: &str,
        activate: bool,
    ) -> Result<i64, ManageError> {
        let loaded = self
            .prepare_blocking(slot, bytes.to_vec(), config.to_owned(), 0)
            .await?;
        let id = match db::plugins::find(db, slot.as_str(), &loaded.plugin.sha256, config).await? {
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
        self.prepare_blocking(slot, wasm, row.config.clone(), id)
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
        Ok(())
    }

    /// Returns `slot` to the plugin that was active before the current one.
    pub async fn rollback(&self, db: &Db, slot: Slot, by: &str) -> Result<i64, ManageError> {
        let id = db::plugins::rollback(db, slot.as_str(), by)
            .await?
            .ok_or(ManageError::NothingToRollBack(slot))?;
        tracing::info!(slot = %slot, id, by, "plugin rolled back");
        Ok(id)
    }

    /// Installs and activates the bundled default of every slot that has no active plugin yet.
    pub async fn ensure_defaults(&self, db: &Db) -> Result<(), ManageError> {
        for bundled in helpdesk_bundled_plugins::DEFAULTS {
            let slot: Slot = bundled.slot.parse().map_err(ManageError::Refused)?;
            if db::plugins::active_id(db, slot.as_str()).await?.is_some() {
                continue;
            }
            let id = self
                .install(db, slot, bundled.wasm, "", "bundled", false)
                .await?;
            // Another replica starting at the same moment may win; either way one is active.
            db::plugins::activate_if_none(db, slot.as_str(), id, "bundled").await?;
        }
        Ok(())
    }

    /// Loads every slot whose active plugin changed in the database since the last look.
    /// A plugin that fails to load leaves the previous one serving, and is logged.
    pub async fn refresh(&self, db: &Db) -> Result<(), DbError> {
        for row in db::plugins::slots(db).await? {
            let Ok(slot) = row.slot.parse::<Slot>() else {
                continue;
            };
            if self.generations[slot.index()].load(Ordering::Acquire) == row.generation {
                continue;
            }
            let Some(plugin) = db::plugins::get(db, row.plugin_id).await? else {
                continue;
            };
            let Some(wasm) = db::plugins::wasm(db, row.plugin_id).await? else {
                continue;
            };
            match self
                .prepare_blocking(slot, wasm, plugin.config, row.plugin_id)
                .await
            {
                Ok(loaded) => {
                    tracing::info!(slot = %slot, plugin = %loaded.plugin, generation = row.generation, "serving plugin");
                    self.active[slot.index()].store(Some(Arc::new(loaded)));
                    self.generations[slot.index()].store(row.generation, Ordering::Release);
                }
                Err(e) => {
                    tracing::error!(slot = %slot, id = row.plugin_id, error = %e, "active plugin failed to load; the previous one keeps serving");
                    self.generations[slot.index()].store(row.generation, Ordering::Release);
                }
            }
        }
        Ok(())
    }

    /// Follows the database every `every` until `shutdown` resolves.
    pub async fn watch(
        self: Arc<Self>,
        db: Db,
        every: Duration,
        shutdown: impl Future<Output = ()>,
    ) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tick.tick() => {
                    if let Err(e) = self.refresh(&db).await {
                        tracing::warn!(error = %e, "could not check for plugin changes");
                    }
                }
            }
        }
    }

    /// Compiling can take tens of milliseconds: keep it off the async workers.
    async fn prepare_blocking(
        &self,
        slot: Slot,
        bytes: Vec<u8>,
        config: String,
        id: i64,
    ) -> Result<Loaded, ManageError> {
        let runtime = self.runtime.clone();
        tokio::task::spawn_blocking(move || Loaded::prepare(&runtime, slot, &bytes, &config, id))
            .await
            .map_err(|e| ManageError::Refused(format!("plugin preparation stopped: {e}")))?
    }
}
