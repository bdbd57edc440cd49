//! The plugin host: everything needed to load a help-desk rule plugin (a WebAssembly component
//! built against `wit/helpdesk.wit`) and ask it questions under bounds, without a server or a
//! database. The `helpdesk` server uses it for every decision; the plugin runner
//! (`helpdesk-plugin`) uses it to test a component offline.
//!
//! Only `runtime` and `bindings` see wasmtime; everything else speaks the plain types of
//! [`rules`].

mod bindings;
mod cache;
mod capture;
mod compile;
pub mod config_form;
pub mod examples;
pub mod rules;
mod runtime;
pub mod signature;
mod surface;

pub use compile::{Compiler, compile_artifact};
use runtime::Bounds;
pub use runtime::{Budget, Limits, LogLevel, LogLine, Raise, Runtime, Usage, measure};

use rules::{
    Action, ConfigField, Decided, EligibilityDecision, EligibilityRequest, EventContext,
    PasswordContext, PasswordVerdict, PluginInfo, PluginRef, Reaction, Slot, Status,
    TransitionDecision, TransitionRequest,
};
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Why a plugin could not answer. Every variant fails closed: the caller refuses the action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginErrorKind {
    NotActive(Slot),
    /// The call used up its instruction budget.
    OutOfFuel(u64),
    /// The call ran past its wall-clock backstop.
    Timeout(Duration),
    /// The call asked for more linear memory (`wanted` bytes) than its budget allows.
    MemoryLimit {
        limit: usize,
        wanted: usize,
    },
    Trap {
        error: String,
        stderr: String,
    },
    OutputTooLarge {
        bytes: usize,
        limit: usize,
    },
    Malformed(String),
}

impl PluginErrorKind {
    /// A short stable name for the kind, for metrics and logs: `not_active`, `out_of_fuel`,
    /// `timeout`, `memory_limit`, `trap`, `output_too_large`, `malformed`.
    pub fn label(&self) -> &'static str {
        match self {
            PluginErrorKind::NotActive(_) => "not_active",
            PluginErrorKind::OutOfFuel(_) => "out_of_fuel",
            PluginErrorKind::Timeout(_) => "timeout",
            PluginErrorKind::MemoryLimit { .. } => "memory_limit",
            PluginErrorKind::Trap { .. } => "trap",
            PluginErrorKind::OutputTooLarge { .. } => "output_too_large",
            PluginErrorKind::Malformed(_) => "malformed",
        }
    }
}

/// A failed plugin call, naming the plugin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PluginError {
    /// Boxed to keep `Result<_, PluginError>` small on the happy path.
    pub plugin: Option<Box<PluginRef>>,
    pub kind: PluginErrorKind,
}

impl PluginError {
    pub fn new(plugin: PluginRef, kind: PluginErrorKind) -> PluginError {
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
            PluginErrorKind::OutOfFuel(n) => {
                write!(f, "used up its budget of {n} instructions")
            }
            PluginErrorKind::Timeout(d) => {
                write!(f, "ran past its {} ms backstop", d.as_millis())
            }
            PluginErrorKind::MemoryLimit { limit, wanted } => write!(
                f,
                "asked for {} of memory, over its budget of {}",
                size(*wanted),
                size(*limit)
            ),
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

/// A size as people read it: whole MiB from 1 MiB up, KiB below.
pub fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes.div_ceil(1 << 20))
    } else {
        format!("{} KiB", bytes.div_ceil(1 << 10))
    }
}

/// Why a component could not be prepared: it is not a component that fits the slot, or it
/// refused its config, or it failed while answering `info` or `validate-config`.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("refused: {0}")]
    Refused(String),
    #[error("the plugin's config is invalid: {0}")]
    InvalidConfig(String),
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// A component prepared for calls, with the config it was installed with.
#[derive(Debug)]
pub struct Loaded {
    pub plugin: PluginRef,
    pub info: PluginInfo,
    pub slot: Slot,
    pub config: String,
    pub budget: Budget,
    /// The settings the plugin describes (contract 0.3's `describe-config`), so a console can
    /// render a form; `None` when it describes none (every older component).
    pub config_fields: Option<Vec<ConfigField>>,
    pre: bindings::SlotPre,
    runtime: Arc<Runtime>,
    statuses: OnceLock<Vec<Status>>,
}

impl Loaded {
    /// Checks and prepares `bytes` for `slot` with `config` and the slot's default budget: a
    /// component of the right world, whose `info` is well formed and which accepts `config`.
    /// Nothing is stored.
    pub fn prepare(
        runtime: &Arc<Runtime>,
        slot: Slot,
        bytes: &[u8],
        config: &str,
        id: i64,
    ) -> Result<Loaded, PrepareError> {
        let budget = runtime.limits().budget(slot);
        Loaded::prepare_with(runtime, slot, bytes, config, id, budget)
    }

    /// [`Loaded::prepare`] with a budget of the operator's choosing, within the runtime's
    /// ceilings.
    pub fn prepare_with(
        runtime: &Arc<Runtime>,
        slot: Slot,
        bytes: &[u8],
        config: &str,
        id: i64,
        budget: Budget,
    ) -> Result<Loaded, PrepareError> {
        runtime
            .limits()
            .check(&budget)
            .map_err(PrepareError::Refused)?;
        let sha256 = hex::encode(Sha256::digest(bytes));
        let pre = runtime
            .prepare(slot, bytes, &sha256)
            .map_err(PrepareError::Refused)?;
        let mut plugin = PluginRef {
            id,
            name: "(unnamed)".into(),
            version: "?".into(),
            sha256,
        };
        let bounds = Bounds {
            runtime,
            budget: &budget,
        };
        let info = pre.info(&bounds, &plugin)?;
        plugin.name = info.name.clone();
        plugin.version = info.version.clone();
        pre.validate_config(&bounds, &plugin, config)?
            .map_err(PrepareError::InvalidConfig)?;
        let config_fields = pre.describe_config(&bounds, &plugin)?;
        if let Some(fields) = &config_fields {
            // Every setting written at its default means the same as no config: a plugin that
            // refuses it reads its settings otherwise than it describes them.
            let defaults = config_form::defaults_written(fields);
            if let Err(e) = pre.validate_config(&bounds, &plugin, &defaults)? {
                return Err(PrepareError::Refused(format!(
                    "the plugin's `describe-config` does not match its `validate-config`, which refuses every setting written at its described default: {e}"
                )));
            }
        }
        let loaded = Loaded {
            plugin,
            info,
            slot,
            config: config.to_owned(),
            budget,
            config_fields,
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

    fn bounds(&self) -> Bounds<'_> {
        Bounds {
            runtime: &self.runtime,
            budget: &self.budget,
        }
    }

    pub fn decided<T>(&self, value: T) -> Decided<T> {
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
            &self.bounds(),
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
            .password_requirements(&self.bounds(), &self.plugin, &self.config)?;
        Ok(self.decided(v))
    }

    pub fn decide_eligibility(
        &self,
        request: &EligibilityRequest,
    ) -> Result<Decided<EligibilityDecision>, PluginError> {
        let v = self
            .pre
            .decide_eligibility(&self.bounds(), &self.plugin, &self.config, request)?;
        Ok(self.decided(v))
    }

    /// The workflow's statuses, asked of the plugin once per loaded version.
    pub fn statuses(&self) -> Result<Vec<Status>, PluginError> {
        if let Some(s) = self.statuses.get() {
            return Ok(s.clone());
        }
        let s = self
            .pre
            .workflow_statuses(&self.bounds(), &self.plugin, &self.config)?;
        Ok(self.statuses.get_or_init(|| s).clone())
    }

    pub fn can_transition(
        &self,
        request: &TransitionRequest,
    ) -> Result<Decided<TransitionDecision>, PluginError> {
        let v = self
            .pre
            .can_transition(&self.bounds(), &self.plugin, &self.config, request)?;
        Ok(self.decided(v))
    }

    /// Whether the workflow is asked about `event` at all: a component older than contract 0.4
    /// knows only the events of `on-event`.
    pub fn hears(&self, event: &rules::RequestEvent) -> bool {
        matches!(
            self.pre.contract(),
            bindings::Contract::V0_4 | bindings::Contract::V0_5 | bindings::Contract::V0_6
        ) || event.older().is_some()
    }

    /// The actions the workflow takes on an event, each of the contract's form (a status of
    /// `statuses`, a tag's and a timer's form); an answer with one that is not is malformed.
    pub fn react(&self, reaction: &Reaction) -> Result<Decided<Vec<Action>>, PluginError> {
        let v = self
            .pre
            .react(&self.bounds(), &self.plugin, &self.config, reaction)?;
        let statuses = self.statuses()?;
        for (i, a) in v.iter().enumerate() {
            if let Err(why) = a.check_form(&statuses) {
                return Err(PluginError::new(
                    self.plugin.clone(),
                    PluginErrorKind::Malformed(format!(
                        "`react` answered action {} ({}): {why}",
                        i + 1,
                        a.name()
                    )),
                ));
            }
        }
        Ok(self.decided(v))
    }

    /// The status an event moves a request to, if any; a key outside `statuses` is malformed.
    pub fn on_event(&self, context: &EventContext) -> Result<Decided<Option<String>>, PluginError> {
        let v = self
            .pre
            .on_event(&self.bounds(), &self.plugin, &self.config, context)?;
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
