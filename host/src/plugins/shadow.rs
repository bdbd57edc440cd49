//! Shadow mode: a candidate put in shadow for a slot is asked every live decision of that slot
//! too, after the live plugin has answered and off the request's path. Where it answers
//! otherwise, the disagreement is counted and recorded in the decision log with both answers.
//!
//! The request path only offers the question to a bounded queue (a full queue drops it and
//! counts `helpdesk_plugin_shadow_dropped_total`); one worker per server asks the shadow on a
//! blocking thread, so a slow or failing shadow never slows or fails a live decision.

use super::{Loaded, PluginError};
use crate::db::decisions::{Live, NewDecision};
use crate::db::{self, Db};
use crate::decisions::{DecisionLog, PasswordShape};
use crate::domain::rules::{
    EligibilityRequest, EventContext, PasswordContext, Reaction, Slot, TransitionRequest,
};
use crate::metrics::{Metrics, ShadowMeters};
use metrics::Counter;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Questions that may wait for the shadow.
const QUEUE: usize = 4_096;

/// Questions asked of shadows in one turn of the blocking pool.
const BATCH: usize = 64;

/// How often each server adds what it compared to the shared counts.
const FLUSH: Duration = Duration::from_secs(1);

/// A question, owned, that any plugin of its slot can be asked: by hand in the console, in a
/// replay of the decision log, or of a shadow.
#[derive(Clone)]
pub enum Asked {
    Password(String, PasswordContext),
    Eligibility(EligibilityRequest),
    Transition(TransitionRequest),
    Event(EventContext),
    React(Box<Reaction>),
}

/// Shows the question as operators see it: a password only as its shape.
impl std::fmt::Debug for Asked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.function(), self.shown())
    }
}

impl Asked {
    pub fn function(&self) -> &'static str {
        match self {
            Asked::Password(..) => "check-password",
            Asked::Eligibility(_) => "decide",
            Asked::Transition(_) => "can-transition",
            Asked::Event(_) => "on-event",
            Asked::React(_) => "react",
        }
    }

    /// The question as operators see it: a password only as its shape.
    pub fn shown(&self) -> Value {
        match self {
            Asked::Password(p, c) => json!({ "password": PasswordShape::of(p), "context": c }),
            Asked::Eligibility(r) => json!(r),
            Asked::Transition(r) => json!(r),
            Asked::Event(c) => json!(c),
            Asked::React(r) => json!(r),
        }
    }

    /// `plugin`'s answer as JSON, written as the decision log writes the live plugin's.
    pub fn answer(&self, plugin: &Loaded) -> Result<String, PluginError> {
        Ok(match self {
            Asked::Password(p, c) => super::to_json(&plugin.check_password(p, c)?.value),
            Asked::Eligibility(r) => super::to_json(&plugin.decide_eligibility(r)?.value),
            Asked::Transition(r) => super::to_json(&plugin.can_transition(r)?.value),
            Asked::Event(c) => super::to_json(&plugin.on_event(c)?.value),
            Asked::React(r) => super::to_json(&plugin.react(r)?.value),
        })
    }
}

/// A candidate in shadow on this server.
#[derive(Debug)]
pub(super) struct Shadowing {
    pub loaded: Arc<Loaded>,
    /// Which shadowing this is: the same candidate started again counts afresh.
    pub started_at: i64,
    pub meters: ShadowMeters,
}

/// A live decision, to be asked of the shadow.
pub(super) struct Job {
    pub shadow: Arc<Shadowing>,
    pub slot: Slot,
    pub asked: Asked,
    pub about: Option<i64>,
    /// The question as the decision log keeps it.
    pub input: String,
    pub decided_at: i64,
    pub live: Live,
}

/// Where live decisions are offered to the shadows; cheap to clone.
#[derive(Debug, Clone)]
pub(super) struct Queue {
    tx: mpsc::Sender<Job>,
    dropped: Counter,
}

impl Queue {
    /// Never waits: with the queue full, the question is dropped and counted.
    pub fn offer(&self, job: Job) {
        if self.tx.try_send(job).is_err() {
            self.dropped.increment(1);
        }
    }
}

/// The queue and the worker that asks the shadows, which runs until `shutdown` resolves.
pub(super) fn start<S: Future<Output = ()> + Send>(
    db: Db,
    metrics: &Metrics,
    log: DecisionLog,
    shutdown: S,
) -> (Queue, impl Future<Output = ()> + Send + use<S>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let queue = Queue {
        tx,
        dropped: metrics.counter("helpdesk_plugin_shadow_dropped_total", vec![]),
    };
    (queue, work(db, rx, log, shutdown))
}

/// What one shadowing compared on this server and has not yet added to the shared counts:
/// (asked, disagreed), by slot and the shadowing's (plugin, start).
type Counts = HashMap<(Slot, i64, i64), (i64, i64)>;

async fn work(
    db: Db,
    mut rx: mpsc::Receiver<Job>,
    log: DecisionLog,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut flush = tokio::time::interval(FLUSH);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut counts = Counts::new();
    let mut jobs = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            _ = flush.tick() => add_up(&db, &mut counts).await,
            got = rx.recv_many(&mut jobs, BATCH) => {
                if got == 0 {
                    break;
                }
                let batch = std::mem::take(&mut jobs);
                match tokio::task::spawn_blocking(move || ask_all(batch)).await {
                    Ok(answered) => {
                        for (job, answer) in answered {
                            compare(&log, &mut counts, job, answer);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "shadow questions stopped"),
                }
            }
        }
    }
    add_up(&db, &mut counts).await;
}

/// The shadow's answer: (outcome, answer, microseconds).
/// (outcome, answer, what a failure failed with, micros).
type Answer = (&'static str, Option<String>, Option<String>, i64);

fn ask_all(jobs: Vec<Job>) -> Vec<(Job, Answer)> {
    jobs.into_iter()
        .map(|job| {
            let started = Instant::now();
            let got = job.asked.answer(&job.shadow.loaded);
            let micros = started.elapsed().as_micros().try_into().unwrap_or(i64::MAX);
            let answer = match got {
                Ok(a) => ("ok", Some(a), None, micros),
                Err(e) => (e.kind.label(), None, Some(super::failure_text(&e)), micros),
            };
            (job, answer)
        })
        .collect()
}

/// Counts the comparison, and records a disagreement in the decision log.
fn compare(
    log: &DecisionLog,
    counts: &mut Counts,
    job: Job,
    (outcome, answer, error, micros): Answer,
) {
    let shadow = &job.shadow;
    let plugin = &shadow.loaded.plugin;
    let agrees = outcome == job.live.outcome && answer == job.live.answer;
    shadow.meters.asked.increment(1);
    let count = counts
        .entry((job.slot, plugin.id, shadow.started_at))
        .or_default();
    count.0 += 1;
    if agrees {
        return;
    }
    count.1 += 1;
    shadow.meters.disagreed.increment(1);
    log.record(NewDecision {
        decided_at: job.decided_at,
        slot: job.slot.as_str(),
        function: job.asked.function(),
        plugin_id: plugin.id,
        sha256: plugin.sha256.clone(),
        request_id: job.about,
        input: job.input,
        answer,
        outcome,
        error,
        micros,
        live: Some(job.live),
    });
}

/// Adds this server's counts to the shared ones; what cannot be added now is tried again later.
async fn add_up(db: &Db, counts: &mut Counts) {
    let mut kept = Counts::new();
    for ((slot, plugin_id, started_at), (asked, disagreed)) in counts.drain() {
        if let Err(e) =
            db::plugins::count_shadow(db, slot.as_str(), plugin_id, started_at, asked, disagreed)
                .await
        {
            tracing::warn!(slot = %slot, error = %e, "could not add up the shadow's counts");
            kept.insert((slot, plugin_id, started_at), (asked, disagreed));
        }
    }
    *counts = kept;
}
