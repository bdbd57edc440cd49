//! The questions the host asks its rule plugins, and their answers, as plain Rust values.
//! These mirror `wit/helpdesk.wit`; the plugin runtime converts between the two, so nothing
//! outside this crate's `runtime` and `bindings` ever sees a WebAssembly type.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A place in the host where one rule plugin is active at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Slot {
    PasswordPolicy,
    SignupEligibility,
    TicketWorkflow,
}

impl Slot {
    pub const ALL: [Slot; 3] = [
        Slot::PasswordPolicy,
        Slot::SignupEligibility,
        Slot::TicketWorkflow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Slot::PasswordPolicy => "password-policy",
            Slot::SignupEligibility => "signup-eligibility",
            Slot::TicketWorkflow => "ticket-workflow",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Slot {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Slot::ALL
            .into_iter()
            .find(|slot| slot.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown slot `{s}` (slots: password-policy, signup-eligibility, ticket-workflow)"
                )
            })
    }
}

/// Which installed plugin made a decision: recorded beside every decision and in every log line
/// about a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRef {
    /// The installation's id (`helpdesk plugin list`); 0 for a plugin not installed yet.
    pub id: i64,
    pub name: String,
    pub version: String,
    /// Hex sha256 of the component's bytes.
    pub sha256: String,
}

impl fmt::Display for PluginRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = self.sha256.get(..12).unwrap_or(&self.sha256);
        write!(
            f,
            "{} {} (#{}, sha256 {short})",
            self.name, self.version, self.id
        )
    }
}

/// An answer together with the plugin that gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decided<T> {
    pub value: T,
    pub by: PluginRef,
}

/// A plugin's description of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub summary: String,
}

// --- password-policy ---

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordContext {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub surname: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "violations", rename_all = "kebab-case")]
pub enum PasswordVerdict {
    Accepted,
    Rejected(Vec<Violation>),
}

// --- signup-eligibility ---

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchKind {
    Domain,
    Address,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateSite {
    pub site_id: u64,
    pub name: String,
    pub matched_by: MatchKind,
    pub maintenance_until: Option<time::Date>,
    pub active_licences: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EligibilityRequest {
    pub email: String,
    pub domain: String,
    pub today: time::Date,
    pub candidates: Vec<CandidateSite>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "kebab-case")]
pub enum EligibilityDecision {
    Eligible(Vec<u64>),
    Ineligible(String),
    NeedsReview(String),
}

// --- ticket-workflow ---

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActorRole {
    Customer,
    SiteAdmin,
    Agent,
    Operator,
    System,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub key: String,
    pub label: String,
    pub open: bool,
    pub initial: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub from: String,
    pub to: String,
    pub actor: ActorRole,
    #[serde(default)]
    pub seconds_in_status: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "kebab-case")]
pub enum TransitionDecision {
    Allowed,
    Refused(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TicketEvent {
    Created,
    CustomerReplied,
    AgentReplied,
    Assigned,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventContext {
    pub event: TicketEvent,
    pub status: String,
    #[serde(default)]
    pub seconds_in_status: u64,
}

/// One setting of a plugin's config, as the plugin describes it (`describe-config`, since
/// contract 0.3): the console renders it as a form field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigField {
    pub key: String,
    pub label: String,
    pub help: String,
    #[serde(flatten)]
    pub kind: ConfigKind,
}

/// A setting's type, default and allowed values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ConfigKind {
    Integer {
        default: i64,
        min: i64,
        max: i64,
    },
    Boolean {
        default: bool,
    },
    Text {
        default: String,
    },
    Choice {
        default: String,
        choices: Vec<String>,
    },
    TextList {
        default: Vec<String>,
    },
}
