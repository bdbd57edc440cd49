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
    Budget, Compiler, Limits, Loaded, LogLevel, PluginError, PluginErrorKind, PrepareError, Raise,
    Runtime, Usage, compile_artifact, examples, measure,
};

use crate::db::{self, Db, DbError};
use crate::decisions::{DecisionLog, PasswordShape};
use crate::domain::rules::{
    Action, Decided, EligibilityDecision, EligibilityRequest, EventContext, PasswordContext,
    PasswordVerdict, Reaction, Slot, Status, TransitionDecision, TransitionRequest,
};
use crate::metrics::{Metrics, PluginMeters};
use arc_swap::ArcSwapOption;
pub use shadow::Asked;
use shadow::Shadowing;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

mod follow;
mod manage;
mod ready;
mod shadow;
pub use follow::CHANNEL;
pub use manage::{Install, ManageError};
pub use ready::{LIVE, READY_WAIT};

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
    /// This server's id among the replicas of its database, once it follows the database.
    replica: std::sync::OnceLock<String>,
    /// How long an activation waits for every live replica to compile the plugin.
    ready_wait: Duration,
    /// When this server started, as replicas list it.
    started_at: i64,
    /// A look for installations to compile is under way.
    catching_up: std::sync::atomic::AtomicBool,
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
            replica: Default::default(),
            ready_wait: READY_WAIT,
            started_at: db::now_ms(),
            catching_up: Default::default(),
        }
    }

    /// Waits up to `wait` (instead of a minute) for every live replica to compile a plugin
    /// being activated: the command line can wait as long as a compile takes.
    pub fn waiting_for_replicas(self, wait: Duration) -> Plugins {
        Plugins {
            ready_wait: wait,
            ..self
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
        self.decide_as(slot, about, input, function, Logged::Yes, call)
    }

    /// [`Plugins::decide`], writing the live decision to the log only when `logged` says so;
    /// a shadow's disagreement is logged either way.
    fn decide_as<V: serde::Serialize>(
        &self,
        slot: Slot,
        about: Option<i64>,
        input: Option<(impl FnOnce() -> String, impl FnOnce() -> Asked)>,
        function: &'static str,
        logged: Logged,
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
            error: result.as_ref().err().map(failure_text),
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
        if logged == Logged::Yes {
            log.record(decision);
        }
        result
    }

    /// Checks a password someone is choosing, as part of what they are doing (signing up,
    /// changing it): a decision, logged and shadowed.
    pub fn check_password(
        &self,
        password: &str,
        context: &PasswordContext,
    ) -> Result<Decided<PasswordVerdict>, PluginError> {
        let input = || password_question(password, context);
        let asked = || Asked::Password(password.to_owned(), context.clone());
        self.decide(
            Slot::PasswordPolicy,
            None,
            Some((input, asked)),
            "check-password",
            |p| p.check_password(password, context),
        )
    }

    /// Checks a password as it is typed, before anything is done with it: counted and offered
    /// to the shadow, but not written to the decision log (anyone typing would fill it).
    pub fn preview_password(
        &self,
        password: &str,
        context: &PasswordContext,
    ) -> Result<Decided<PasswordVerdict>, PluginError> {
        let asked = || Asked::Password(password.to_owned(), context.clone());
        self.decide_as(
            Slot::PasswordPolicy,
            None,
            Some((|| password_question(password, context), asked)),
            "check-password",
            Logged::No,
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

    /// The actions the workflow takes on an event, for request `about`. `check` is what the
    /// host says of them on this request (an active assignee, room for a tag): an answer it
    /// refuses fails as a malformed one does, recorded in the decision log with the reason.
    pub fn react(
        &self,
        reaction: &Reaction,
        about: Option<i64>,
        check: impl FnOnce(&[Action]) -> Result<(), String>,
    ) -> Result<Decided<Vec<Action>>, PluginError> {
        let active = self.active(Slot::TicketWorkflow)?;
        if !active.hears(&reaction.event) {
            // Not a question for this workflow: nothing to decide or to record.
            return Ok(active.decided(Vec::new()));
        }
        self.decide(
            Slot::TicketWorkflow,
            about,
            Some((
                || to_json(reaction),
                || Asked::React(Box::new(reaction.clone())),
            )),
            "react",
            |p| {
                let d = p.react(reaction)?;
                check(&d.value).map_err(|why| {
                    PluginError::new(
                        d.by.clone(),
                        PluginErrorKind::Malformed(format!("`react` answered {why}")),
                    )
                })?;
                Ok(d)
            },
        )
    }

    /// The plugin in shadow for `slot` on this replica, if any.
    pub fn shadow(&self, slot: Slot) -> Option<Arc<Loaded>> {
        self.shadows[slot.index()]
            .load()
            .as_ref()
            .map(|s| s.loaded.clone())
    }
}

/// Whether a live decision is written to the decision log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logged {
    Yes,
    No,
}

/// A password question as the decision log keeps it: the password only as its shape.
fn password_question(password: &str, context: &PasswordContext) -> String {
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
}

/// What a failed call failed with, as the decision log keeps it: at most 1,000 characters.
fn failure_text(e: &PluginError) -> String {
    e.to_string().chars().take(1000).collect()
}

/// A question as the decision log keeps it.
fn to_json(question: &impl serde::Serialize) -> String {
    serde_json::to_string(question).unwrap_or_default()
}
