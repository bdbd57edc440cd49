//! Runs a plugin's `examples.json` against a compiled component, offline: what the plugin runner
//! (`helpdesk-plugin test`) and `helpdesk plugin test` do for plugin authors, and what the host's
//! tests do for the bundled plugins. The same file drives the plugin crates' native tests, so the
//! two cannot drift.
//!
//! The format is described in docs/plugins.md and by `docs/examples.schema.json`. The file names
//! the slot, a set of named configs and the cases; a case's fields depend on the slot, and a field
//! this module does not know (a misspelt `pasword`) is refused with the case's name, never
//! ignored:
//!
//! - password-policy: `{"name"?, "config"?, "password", "email"?, "given_name"?, "surname"?,
//!   "expect": [codes]}`, an empty list meaning accepted; the order of the codes does not matter;
//! - signup-eligibility: `{"name"?, "config"?, "email", "today", "candidates"?,
//!   "expect": {"eligible": [ids]} | "ineligible" | "needs-review"}`;
//! - ticket-workflow: `{"name"?, "config"?, "transition": {"from", "to", "actor",
//!   "seconds_in_status"?}, "expect": "allowed" | "refused"}` or `{"name"?, "config"?,
//!   "event": {"event", "status", "seconds_in_status"?}, "expect": "status-key" | null}` (asks
//!   `on-event`) or `{"name"?, "config"?, "react": {"event", "detail"?, "request": {…}},
//!   "expect": [actions]}` (asks `react`, contract 0.4: the request's fields left out are empty,
//!   zero or their default; an action is `{"action": "set-status", "status": "…"}`,
//!   `{"action": "set-timer", "name": "…", "after_seconds": n}` and so on); the file may also
//!   list the expected `statuses`.
//!
//! Any case may instead expect `{"error": "…"}`: the plugin failing (out of budget, trapped), with
//! the text a part of the error message.

use super::{Budget, Loaded, PluginError, Runtime, Usage, measure};
use crate::rules::{
    CandidateSite, ConfigField, ConfigKind, EligibilityDecision, EligibilityRequest, EventContext,
    PasswordContext, PasswordVerdict, Reaction, Slot, Status, TransitionDecision,
    TransitionRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A parsed, checked examples file.
#[derive(Debug, Clone)]
pub struct Examples {
    pub slot: Slot,
    pub configs: BTreeMap<String, String>,
    pub statuses: Option<Vec<Status>>,
    pub cases: Vec<Case>,
}

/// One question and the answer the author expects.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The case's `name`, or `case N` (1-based) without one.
    pub name: String,
    /// The name of the config it runs under (`default` unless given).
    pub config: String,
    pub question: Question,
    pub expect: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Question {
    Password {
        password: String,
        context: PasswordContext,
    },
    Eligibility(EligibilityRequest),
    Transition(TransitionRequest),
    Event(EventContext),
    React(Box<Reaction>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(rename = "$schema", default)]
    _schema: Option<String>,
    slot: Slot,
    #[serde(default)]
    configs: BTreeMap<String, String>,
    #[serde(default)]
    statuses: Option<Vec<Status>>,
    cases: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordCase {
    name: Option<String>,
    config: Option<String>,
    password: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    surname: String,
    expect: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EligibilityCase {
    name: Option<String>,
    config: Option<String>,
    email: String,
    today: time::Date,
    #[serde(default)]
    candidates: Vec<CandidateSite>,
    expect: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkflowCase {
    name: Option<String>,
    config: Option<String>,
    transition: Option<TransitionRequest>,
    event: Option<EventContext>,
    react: Option<Reaction>,
    expect: Value,
}

impl Examples {
    /// Parses and checks a file: unknown fields, a case without its question or its `expect`,
    /// a case naming a config the file does not define, and duplicate case names are refused,
    /// naming the case.
    pub fn parse(json: &str) -> Result<Examples, String> {
        let file: File = serde_json::from_str(json).map_err(|e| format!("examples file: {e}"))?;
        let mut cases = Vec::with_capacity(file.cases.len());
        for (i, raw) in file.cases.into_iter().enumerate() {
            let label = match raw.get("name").and_then(Value::as_str) {
                Some(name) => format!("case {} ({name:?})", i + 1),
                None => format!("case {}", i + 1),
            };
            let case = Self::case(file.slot, i, raw).map_err(|e| format!("{label}: {e}"))?;
            let known = file.configs.contains_key(&case.config) || case.config == "default";
            if !known {
                return Err(format!(
                    "{label}: the file defines no config named {:?}",
                    case.config
                ));
            }
            if cases.iter().any(|c: &Case| c.name == case.name) {
                return Err(format!("{label}: another case has the same name"));
            }
            cases.push(case);
        }
        Ok(Examples {
            slot: file.slot,
            configs: file.configs,
            statuses: file.statuses,
            cases,
        })
    }

    fn case(slot: Slot, index: usize, raw: Value) -> Result<Case, String> {
        let named = |name: Option<String>, config: Option<String>| {
            (
                name.unwrap_or_else(|| format!("case {}", index + 1)),
                config.unwrap_or_else(|| "default".into()),
            )
        };
        let err = |e: serde_json::Error| e.to_string();
        Ok(match slot {
            Slot::PasswordPolicy => {
                let c: PasswordCase = serde_json::from_value(raw).map_err(err)?;
                let (name, config) = named(c.name, c.config);
                Case {
                    name,
                    config,
                    question: Question::Password {
                        password: c.password,
                        context: PasswordContext {
                            email: c.email,
                            given_name: c.given_name,
                            surname: c.surname,
                        },
                    },
                    expect: c.expect,
                }
            }
            Slot::SignupEligibility => {
                let c: EligibilityCase = serde_json::from_value(raw).map_err(err)?;
                let (name, config) = named(c.name, c.config);
                let email = c.email.to_lowercase();
                let domain = email
                    .rsplit_once('@')
                    .map(|(_, d)| d.to_owned())
                    .unwrap_or_default();
                Case {
                    name,
                    config,
                    question: Question::Eligibility(EligibilityRequest {
                        email,
                        domain,
                        today: c.today,
                        candidates: c.candidates,
                    }),
                    expect: c.expect,
                }
            }
            Slot::TicketWorkflow => {
                let c: WorkflowCase = serde_json::from_value(raw).map_err(err)?;
                let (name, config) = named(c.name, c.config);
                let question = match (c.transition, c.event, c.react) {
                    (Some(t), None, None) => Question::Transition(t),
                    (None, Some(e), None) => Question::Event(e),
                    (None, None, Some(r)) => Question::React(Box::new(r)),
                    _ => {
                        return Err(
                            "a ticket-workflow case needs one of `transition`, `event` or `react`"
                                .into(),
                        );
                    }
                };
                Case {
                    name,
                    config,
                    question,
                    expect: c.expect,
                }
            }
        })
    }

    /// The config named `name`; `default` means "" unless defined.
    pub fn config(&self, name: &str) -> String {
        self.configs.get(name).cloned().unwrap_or_default()
    }
}

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// 1-based position in the file, or 0 for the status-list check.
    pub index: usize,
    pub name: String,
    pub passed: bool,
    pub expected: Value,
    /// The plugin's answer in the shape of `expect`, or `{"error": …}`.
    pub got: Value,
    /// What the decision spent, instantiation included.
    pub usage: Usage,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub cases: Vec<CaseResult>,
    /// The budget each config ran under.
    pub budget: Option<Budget>,
    /// The settings the component describes (`describe-config`): `None` when no config could
    /// be prepared, `Some(None)` when it describes none.
    pub settings: Option<Option<Vec<ConfigField>>>,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed).count()
    }

    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }

    pub fn failures(&self) -> impl Iterator<Item = &CaseResult> {
        self.cases.iter().filter(|c| !c.passed)
    }
}

/// Prepares the component once per config, with `budget` (the slot's default without one), and
/// runs every case. A config the plugin refuses, or a component that cannot be prepared, fails
/// that config's cases with the reason; the other cases still run.
pub fn run(
    runtime: &Arc<Runtime>,
    wasm: &[u8],
    examples: &Examples,
    budget: Option<Budget>,
) -> Report {
    let budget = budget.unwrap_or_else(|| runtime.limits().budget(examples.slot));
    let mut loaded: BTreeMap<&str, Result<Loaded, String>> = BTreeMap::new();
    let load = |name: &str| -> Result<Loaded, String> {
        Loaded::prepare_with(
            runtime,
            examples.slot,
            wasm,
            &examples.config(name),
            0,
            budget,
        )
        .map_err(|e| format!("config {name:?}: {e}"))
    };
    let mut report = Report {
        cases: Vec::new(),
        budget: Some(budget),
        settings: None,
    };

    if let Some(expected) = &examples.statuses {
        let (got, usage) = match load("default") {
            Ok(plugin) => {
                let (got, usage) = measure(|| plugin.statuses());
                let got = got.map(|s| json!(s)).unwrap_or_else(|e| error(&e));
                loaded.insert("default", Ok(plugin));
                (got, usage)
            }
            Err(e) => (json!({ "error": e }), Usage::default()),
        };
        report.cases.push(CaseResult {
            index: 0,
            name: "statuses".into(),
            passed: got == json!(expected),
            expected: json!(expected),
            got,
            usage,
        });
    }

    for (i, case) in examples.cases.iter().enumerate() {
        let plugin = loaded
            .entry(case.config.as_str())
            .or_insert_with(|| load(&case.config));
        let (got, usage) = match plugin {
            Ok(plugin) => measure(|| decide(plugin, &case.question)),
            Err(e) => (json!({ "error": e }), Usage::default()),
        };
        report.cases.push(CaseResult {
            index: i + 1,
            name: case.name.clone(),
            passed: matches(examples.slot, &case.expect, &got),
            expected: case.expect.clone(),
            got,
            usage,
        });
    }
    report.settings = loaded
        .values()
        .find_map(|l| l.as_ref().ok())
        .map(|l| l.config_fields.clone());
    report
}

fn error(e: &PluginError) -> Value {
    json!({ "error": e.to_string() })
}

/// Whether `got` answers `expect`: violation codes in any order; an expected error by a part
/// of its message.
fn matches(slot: Slot, expect: &Value, got: &Value) -> bool {
    if let (Some(want), Some(have)) = (
        expect.get("error").and_then(Value::as_str),
        got.get("error").and_then(Value::as_str),
    ) {
        return have.contains(want);
    }
    match (slot, expect, got) {
        (Slot::PasswordPolicy, Value::Array(want), Value::Array(have)) => {
            let sorted = |v: &Vec<Value>| {
                let mut v: Vec<String> = v.iter().map(Value::to_string).collect();
                v.sort();
                v
            };
            sorted(want) == sorted(have)
        }
        _ => expect == got,
    }
}

/// Asks the plugin the case's question; the answer is in the shape of the case's `expect`. A
/// plugin error is an answer too (`{"error": …}`), so a case can expect one.
fn decide(plugin: &Loaded, question: &Question) -> Value {
    let answer = match question {
        Question::Password { password, context } => {
            plugin
                .check_password(password, context)
                .map(|d| match d.value {
                    PasswordVerdict::Accepted => json!([]),
                    PasswordVerdict::Rejected(v) => {
                        json!(v.into_iter().map(|v| v.code).collect::<Vec<_>>())
                    }
                })
        }
        Question::Eligibility(request) => {
            plugin.decide_eligibility(request).map(|d| match d.value {
                EligibilityDecision::Eligible(ids) => json!({ "eligible": ids }),
                EligibilityDecision::Ineligible(_) => json!("ineligible"),
                EligibilityDecision::NeedsReview(_) => json!("needs-review"),
            })
        }
        Question::Transition(request) => plugin.can_transition(request).map(|d| match d.value {
            TransitionDecision::Allowed => json!("allowed"),
            TransitionDecision::Refused(_) => json!("refused"),
        }),
        Question::Event(context) => plugin.on_event(context).map(|d| json!(d.value)),
        Question::React(reaction) => plugin.react(reaction).map(|d| json!(d.value)),
    };
    answer.unwrap_or_else(|e| error(&e))
}

impl Report {
    /// The report as plugin authors read it: one line per case with its time, instructions and
    /// peak memory, the failures' expected and actual answers, and a summary of the most any
    /// case used against the budget.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let width = self
            .cases
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0)
            .clamp(8, 40);
        for case in &self.cases {
            let name: String = case.name.chars().take(40).collect();
            let _ = write!(
                out,
                "{}  {name:<width$}  {:>9.1} µs  {:>12} instructions  {:>6.1} MiB",
                if case.passed { "ok  " } else { "FAIL" },
                case.usage.elapsed.as_secs_f64() * 1e6,
                case.usage.instructions,
                case.usage.peak_memory as f64 / f64::from(1 << 20),
            );
            if !case.passed {
                let _ = write!(
                    out,
                    "\n      expected {}\n      got      {}",
                    case.expected, case.got
                );
            }
            for line in &case.usage.logs {
                for (i, text) in line.message.lines().enumerate() {
                    let level = if i == 0 {
                        line.level.to_string()
                    } else {
                        String::new()
                    };
                    let _ = write!(out, "\n      {level:<6} {text}");
                }
            }
            out.push('\n');
        }
        let mut times: Vec<f64> = self
            .cases
            .iter()
            .map(|c| c.usage.elapsed.as_secs_f64() * 1e6)
            .collect();
        times.sort_by(f64::total_cmp);
        let median = times.get(times.len() / 2).copied().unwrap_or_default();
        let most_instructions = self
            .cases
            .iter()
            .map(|c| c.usage.instructions)
            .max()
            .unwrap_or(0);
        let most_memory = self
            .cases
            .iter()
            .map(|c| c.usage.peak_memory)
            .max()
            .unwrap_or(0);
        let _ = writeln!(
            out,
            "{} passed, {} failed; median {median:.1} µs per decision",
            self.passed(),
            self.failed()
        );
        match &self.settings {
            Some(None) => {
                let _ = writeln!(
                    out,
                    "settings: none described (operators edit the config as text)"
                );
            }
            Some(Some(fields)) if fields.is_empty() => {
                let _ = writeln!(out, "settings: none (the plugin takes no config)");
            }
            Some(Some(fields)) => {
                let _ = writeln!(out, "settings, as the console's form shows them:");
                for f in fields {
                    let _ = writeln!(out, "  {:<24} {}", f.key, setting(&f.kind));
                }
            }
            None => {}
        }
        if let Some(budget) = &self.budget {
            let share = |used: f64, of: f64| if of > 0.0 { 100.0 * used / of } else { 0.0 };
            let _ = writeln!(
                out,
                "most used: {most_instructions} instructions ({:.2}% of {}), {:.1} MiB memory ({:.0}% of {} MiB); backstop {} ms",
                share(most_instructions as f64, budget.instructions as f64),
                budget.instructions,
                most_memory as f64 / f64::from(1 << 20),
                share(most_memory as f64, budget.memory as f64),
                budget.memory >> 20,
                budget.backstop.as_millis()
            );
        }
        out
    }
}

/// A setting's type, bounds and default, in one phrase.
fn setting(kind: &ConfigKind) -> String {
    let default = crate::config_form::shown_in_line(&crate::config_form::default_of(kind));
    match kind {
        ConfigKind::Integer { min, max, .. } => {
            format!("integer {min} to {max}, default {default}")
        }
        ConfigKind::Boolean { .. } => format!("true or false, default {default}"),
        ConfigKind::Text { .. } => format!("text, default {default:?}"),
        ConfigKind::Choice { choices, .. } => {
            format!("one of {}, default {default}", choices.join(", "))
        }
        ConfigKind::TextList { .. } => format!("list, default [{default}]"),
    }
}
