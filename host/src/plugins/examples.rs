//! Runs a plugin's `examples.json` against a compiled component, offline: what
//! `helpdesk plugin test` does for plugin authors, and what the host's tests do for the bundled
//! plugins. The same file drives the plugin crate's native tests, so the two cannot drift.
//!
//! The file names the slot, a set of named configs and the cases. A case's shape depends on the
//! slot (see the bundled plugins' files for complete examples):
//!
//! - password-policy: `{"config", "password", "email"?, "given_name"?, "surname"?, "expect": [codes]}`
//!   (an empty list means accepted);
//! - signup-eligibility: `{"config", "email", "today", "candidates": [...], "expect": {"eligible": [ids]} | "ineligible" | "needs-review"}`;
//! - ticket-workflow: `{"config", "transition": {"from", "to", "actor", "seconds_in_status"?}, "expect": "allowed" | "refused"}`
//!   or `{"config", "event": {"event", "status", "seconds_in_status"?}, "expect": "status-key" | null}`;
//!   the file may also list the expected `statuses`.

use super::{Loaded, PluginError};
use crate::domain::rules::{
    CandidateSite, EligibilityDecision, EligibilityRequest, EventContext, PasswordContext,
    PasswordVerdict, Slot, Status, TransitionDecision, TransitionRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    pub slot: Slot,
    #[serde(default)]
    pub configs: BTreeMap<String, String>,
    #[serde(default)]
    pub statuses: Option<Vec<Status>>,
    pub cases: Vec<Value>,
}

impl Examples {
    pub fn parse(json: &str) -> Result<Examples, String> {
        serde_json::from_str(json).map_err(|e| format!("examples file: {e}"))
    }

    /// The config named `name`; the empty name and `default` mean "" unless defined.
    pub fn config(&self, name: &str) -> Result<String, String> {
        match self.configs.get(name) {
            Some(c) => Ok(c.clone()),
            None if name.is_empty() || name == "default" => Ok(String::new()),
            None => Err(format!(
                "the examples file defines no config named {name:?}"
            )),
        }
    }
}

/// The outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// 1-based position in the file, or 0 for the status-list check.
    pub index: usize,
    pub passed: bool,
    pub expected: Value,
    pub got: Value,
    /// Time of one decision through the runtime, including instantiation.
    pub elapsed: Duration,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub cases: Vec<CaseResult>,
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

/// Prepares the component once per config and runs every case.
pub fn run(
    runtime: &std::sync::Arc<super::Runtime>,
    wasm: &[u8],
    examples: &Examples,
) -> Result<Report, String> {
    let mut loaded: BTreeMap<String, Loaded> = BTreeMap::new();
    let mut report = Report::default();
    let get = |name: &str| -> Result<Loaded, String> {
        let config = examples.config(name)?;
        Loaded::prepare(runtime, examples.slot, wasm, &config, 0)
            .map_err(|e| format!("config {name:?}: {e}"))
    };

    if let Some(expected) = &examples.statuses {
        let plugin = get("default")?;
        let started = Instant::now();
        let got = plugin.statuses().map_err(|e| e.to_string())?;
        report.cases.push(CaseResult {
            index: 0,
            passed: &got == expected,
            expected: json!(expected),
            got: json!(got),
            elapsed: started.elapsed(),
        });
    }

    for (i, case) in examples.cases.iter().enumerate() {
        let name = case
            .get("config")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_owned();
        if !loaded.contains_key(&name) {
            let plugin = get(&name)?;
            loaded.insert(name.clone(), plugin);
        }
        let plugin = &loaded[&name];
        let started = Instant::now();
        let got = decide(plugin, case).map_err(|e| format!("case {}: {e}", i + 1))?;
        let elapsed = started.elapsed();
        let expected = case.get("expect").cloned().unwrap_or(Value::Null);
        report.cases.push(CaseResult {
            index: i + 1,
            passed: got == expected,
            expected,
            got,
            elapsed,
        });
    }
    Ok(report)
}

/// Asks the plugin the case's question; the answer is in the same shape as the case's `expect`.
/// A plugin error is an answer too (`{"error": …}`), so a case can expect one.
fn decide(plugin: &Loaded, case: &Value) -> Result<Value, String> {
    let answer = |r: Result<Value, PluginError>| match r {
        Ok(v) => v,
        Err(e) => json!({ "error": e.to_string() }),
    };
    let field = |key: &str| {
        case.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Ok(match plugin.slot {
        Slot::PasswordPolicy => {
            let context = PasswordContext {
                email: field("email"),
                given_name: field("given_name"),
                surname: field("surname"),
            };
            answer(
                plugin
                    .check_password(&field("password"), &context)
                    .map(|d| match d.value {
                        PasswordVerdict::Accepted => json!([]),
                        PasswordVerdict::Rejected(v) => {
                            json!(v.into_iter().map(|v| v.code).collect::<Vec<_>>())
                        }
                    }),
            )
        }
        Slot::SignupEligibility => {
            let email = field("email").to_lowercase();
            let domain = email
                .rsplit_once('@')
                .map(|(_, d)| d.to_owned())
                .unwrap_or_default();
            let today = serde_json::from_value(case.get("today").cloned().unwrap_or_default())
                .map_err(|e| format!("`today`: {e}"))?;
            let candidates: Vec<CandidateSite> =
                serde_json::from_value(case.get("candidates").cloned().unwrap_or(json!([])))
                    .map_err(|e| format!("`candidates`: {e}"))?;
            let request = EligibilityRequest {
                email,
                domain,
                today,
                candidates,
            };
            answer(plugin.decide_eligibility(&request).map(|d| match d.value {
                EligibilityDecision::Eligible(ids) => json!({ "eligible": ids }),
                EligibilityDecision::Ineligible(_) => json!("ineligible"),
                EligibilityDecision::NeedsReview(_) => json!("needs-review"),
            }))
        }
        Slot::TicketWorkflow => {
            if let Some(t) = case.get("transition") {
                let request: TransitionRequest =
                    serde_json::from_value(t.clone()).map_err(|e| format!("`transition`: {e}"))?;
                answer(plugin.can_transition(&request).map(|d| match d.value {
                    TransitionDecision::Allowed => json!("allowed"),
                    TransitionDecision::Refused(_) => json!("refused"),
                }))
            } else if let Some(e) = case.get("event") {
                let context: EventContext =
                    serde_json::from_value(e.clone()).map_err(|e| format!("`event`: {e}"))?;
                answer(plugin.on_event(&context).map(|d| json!(d.value)))
            } else {
                return Err("a ticket-workflow case needs `transition` or `event`".into());
            }
        }
    })
}
