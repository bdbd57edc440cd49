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

/// How urgent a request is (since contract 0.4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

/// How a request came in (since contract 0.4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    #[default]
    Portal,
    Email,
    Api,
}

/// The site of a request, as a rule sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestSite {
    pub id: u64,
    pub name: String,
    pub contract_end: Option<time::Date>,
    pub active_licences: u32,
}

/// Who raised a request, as a rule sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Requester {
    pub id: u64,
    pub role: ActorRole,
    pub email_domain: String,
    pub language: String,
}

impl Default for Requester {
    fn default() -> Requester {
        Requester {
            id: 0,
            role: ActorRole::Customer,
            email_domain: String::new(),
            language: String::new(),
        }
    }
}

/// A request as a rule sees it (`request` of contract 0.4). Times are Unix seconds. Read from
/// JSON (an `examples.json` case), what is left out is empty, zero or the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestView {
    pub id: u64,
    pub site: RequestSite,
    pub requester: Requester,
    pub assignee: Option<u64>,
    pub status: String,
    pub seconds_in_status: u64,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub subject: String,
    pub first_message: String,
    pub customer_messages: u32,
    pub staff_messages: u32,
    pub channel: Channel,
    pub created_at: u64,
    pub updated_at: u64,
    pub last_customer_message_at: Option<u64>,
    pub last_staff_message_at: Option<u64>,
    pub now: u64,
    /// Its type's name (since contract 0.6).
    pub request_type: Option<String>,
    /// The custom fields it holds a value of, in canonical form (since contract 0.6).
    pub fields: Vec<FieldValue>,
}

/// A custom field's value on a request (`field-value` of contract 0.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldValue {
    pub key: String,
    pub value: String,
}

/// The most of a request's first message a rule is handed, in bytes.
pub const FIRST_MESSAGE_BYTES: usize = 4096;

/// What just happened to a request (`request-event` of contract 0.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", content = "detail", rename_all = "kebab-case")]
pub enum RequestEvent {
    Created,
    CustomerReplied,
    StaffReplied,
    NoteAdded,
    Assigned,
    /// The status it left.
    StatusChanged(String),
    /// `priority` or `tags`.
    FieldChanged(String),
    /// The timer's name.
    Timer(String),
}

impl RequestEvent {
    /// The event as older workflows know it, if they know it.
    pub fn older(&self) -> Option<TicketEvent> {
        Some(match self {
            RequestEvent::Created => TicketEvent::Created,
            RequestEvent::CustomerReplied => TicketEvent::CustomerReplied,
            RequestEvent::StaffReplied => TicketEvent::AgentReplied,
            RequestEvent::Assigned => TicketEvent::Assigned,
            _ => return None,
        })
    }

    /// Its name: `created`, `status-changed`, `timer`, …
    pub fn name(&self) -> &'static str {
        match self {
            RequestEvent::Created => "created",
            RequestEvent::CustomerReplied => "customer-replied",
            RequestEvent::StaffReplied => "staff-replied",
            RequestEvent::NoteAdded => "note-added",
            RequestEvent::Assigned => "assigned",
            RequestEvent::StatusChanged(_) => "status-changed",
            RequestEvent::FieldChanged(_) => "field-changed",
            RequestEvent::Timer(_) => "timer",
        }
    }
}

/// An event together with the request it happened to: what `react` is asked. As JSON:
/// `{"event": "timer", "detail": "remind", "request": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    #[serde(flatten)]
    pub event: RequestEvent,
    #[serde(default)]
    pub request: RequestView,
}

/// One change a rule asks for (`action` of contract 0.4; `add-note`, `send-email` and
/// `call-webhook` since 0.5; `set-type`, `set-field` and `clear-field` since 0.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    SetStatus {
        status: String,
    },
    SetPriority {
        priority: Priority,
    },
    AddTag {
        tag: String,
    },
    RemoveTag {
        tag: String,
    },
    Assign {
        staff: u64,
    },
    Unassign,
    SetTimer {
        name: String,
        after_seconds: u64,
    },
    CancelTimer {
        name: String,
    },
    AddNote {
        text: String,
    },
    SendEmail {
        to: Vec<Recipient>,
        wordings: Vec<Wording>,
    },
    CallWebhook {
        endpoint: u64,
        name: String,
    },
    SetType {
        request_type: Option<String>,
    },
    SetField {
        key: String,
        value: String,
    },
    ClearField {
        key: String,
    },
}

/// Who an email a rule sends goes to. As JSON: `"requester"`, `"assignee"`, `"site-admins"`
/// or `{"address": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recipient {
    Requester,
    Assignee,
    SiteAdmins,
    Address(String),
}

/// The words of an email a rule sends, in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wording {
    pub language: String,
    pub subject: String,
    pub body: String,
}

impl Wording {
    /// The wording for a reader of `language`: theirs, else English, else the first.
    pub fn pick<'a>(wordings: &'a [Wording], language: &str) -> Option<&'a Wording> {
        wordings
            .iter()
            .find(|w| !language.is_empty() && w.language.eq_ignore_ascii_case(language))
            .or_else(|| {
                wordings
                    .iter()
                    .find(|w| w.language.eq_ignore_ascii_case("en"))
            })
            .or_else(|| wordings.first())
    }
}

/// The longest note a rule may add, in bytes.
pub const MAX_NOTE_BYTES: usize = 16 * 1024;
/// The most recipients one email may have.
pub const MAX_RECIPIENTS: usize = 10;
/// The most wordings one email may have.
pub const MAX_WORDINGS: usize = 8;
/// The longest subject of an email, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The longest body of an email, in bytes.
pub const MAX_EMAIL_BODY: usize = 16 * 1024;

/// The most actions one answer may hold.
pub const MAX_ACTIONS: usize = 32;
/// The longest a timer may be set for: ten years.
pub const MAX_TIMER_SECONDS: u64 = 10 * 365 * 86_400;
/// The longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 32;
/// The longest name of a request type, in characters.
pub const MAX_TYPE_CHARS: usize = 80;
/// The longest value of a custom field, in characters.
pub const MAX_FIELD_VALUE_CHARS: usize = 500;

/// A custom field's key: a lowercase letter, then up to 31 lowercase letters, digits and `_`.
pub fn field_key(key: &str) -> Result<(), String> {
    let mut bytes = key.bytes();
    let well_formed = bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && key.len() <= 32
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if well_formed {
        Ok(())
    } else {
        let shown: String = key.chars().take(40).collect();
        Err(format!(
            "{shown:?} is not a field key: a lowercase letter, then up to 31 lowercase letters, digits and _"
        ))
    }
}

impl Action {
    /// Its name in the contract: `set-status`, `add-tag`, …
    pub fn name(&self) -> &'static str {
        match self {
            Action::SetStatus { .. } => "set-status",
            Action::SetPriority { .. } => "set-priority",
            Action::AddTag { .. } => "add-tag",
            Action::RemoveTag { .. } => "remove-tag",
            Action::Assign { .. } => "assign",
            Action::Unassign => "unassign",
            Action::SetTimer { .. } => "set-timer",
            Action::CancelTimer { .. } => "cancel-timer",
            Action::AddNote { .. } => "add-note",
            Action::SendEmail { .. } => "send-email",
            Action::CallWebhook { .. } => "call-webhook",
            Action::SetType { .. } => "set-type",
            Action::SetField { .. } => "set-field",
            Action::ClearField { .. } => "clear-field",
        }
    }

    /// The field and the value a `set-field` or `clear-field` gives it (empty: none).
    pub fn field_set(&self) -> Option<(&str, &str)> {
        match self {
            Action::SetField { key, value } => Some((key, value)),
            Action::ClearField { key } => Some((key, "")),
            _ => None,
        }
    }

    /// What the contract says of the action's form, whatever the request: a status of
    /// `statuses`, a tag's and a timer's form.
    pub fn check_form(&self, statuses: &[Status]) -> Result<(), String> {
        match self {
            Action::SetStatus { status } if !statuses.iter().any(|s| &s.key == status) => {
                Err(format!("there is no status {status:?} in this workflow"))
            }
            Action::AddTag { tag: t } | Action::RemoveTag { tag: t } => tag(t).map(|_| ()),
            Action::SetTimer {
                name,
                after_seconds,
            } => {
                timer_name(name)?;
                if *after_seconds > MAX_TIMER_SECONDS {
                    return Err(format!(
                        "{after_seconds} seconds is longer than a timer may run (ten years)"
                    ));
                }
                Ok(())
            }
            Action::CancelTimer { name } => timer_name(name),
            Action::AddNote { text } if text.trim().is_empty() || text.len() > MAX_NOTE_BYTES => {
                Err(format!(
                    "a note is 1 to {MAX_NOTE_BYTES} bytes of text, not {}",
                    text.len()
                ))
            }
            Action::SendEmail { to, wordings } => email_form(to, wordings),
            Action::CallWebhook { name, .. } => call_name(name),
            Action::SetType {
                request_type: Some(name),
            } if name.trim().is_empty() || name.chars().count() > MAX_TYPE_CHARS => Err(format!(
                "a type's name is 1 to {MAX_TYPE_CHARS} characters, not {}",
                name.chars().count()
            )),
            Action::SetField { key, value } => {
                field_key(key)?;
                if value.chars().count() > MAX_FIELD_VALUE_CHARS {
                    return Err(format!(
                        "the value of {key:?} is longer than {MAX_FIELD_VALUE_CHARS} characters"
                    ));
                }
                Ok(())
            }
            Action::ClearField { key } => field_key(key),
            _ => Ok(()),
        }
    }
}

/// An email's form: how many recipients and wordings, each address and wording.
fn email_form(to: &[Recipient], wordings: &[Wording]) -> Result<(), String> {
    if to.is_empty() || to.len() > MAX_RECIPIENTS {
        return Err(format!(
            "an email has 1 to {MAX_RECIPIENTS} recipients, not {}",
            to.len()
        ));
    }
    if wordings.is_empty() || wordings.len() > MAX_WORDINGS {
        return Err(format!(
            "an email has 1 to {MAX_WORDINGS} wordings, not {}",
            wordings.len()
        ));
    }
    for r in to {
        if let Recipient::Address(a) = r {
            address(a)?;
        }
    }
    for w in wordings {
        let language = !w.language.is_empty()
            && w.language.len() <= 16
            && w.language
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || b == b'-');
        if !language {
            let shown: String = w.language.chars().take(20).collect();
            return Err(format!("{shown:?} is not a language code (`en`, `de`)"));
        }
        let chars = w.subject.trim().chars().count();
        if chars == 0 || chars > MAX_SUBJECT_CHARS || w.subject.contains(['\r', '\n']) {
            return Err(format!(
                "the {} wording's subject must be one line of 1 to {MAX_SUBJECT_CHARS} characters",
                w.language
            ));
        }
        if w.body.len() > MAX_EMAIL_BODY {
            return Err(format!(
                "the {} wording's body is {} bytes; at most {MAX_EMAIL_BODY} are allowed",
                w.language,
                w.body.len()
            ));
        }
    }
    Ok(())
}

/// An email address a rule names: at most 254 characters, one `@` with something on both
/// sides, a dot in the domain, no spaces, quotes or angle brackets.
pub fn address(a: &str) -> Result<(), String> {
    let valid = a.len() <= 254
        && a.split('@').count() == 2
        && a.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !a
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"(),;:[]\\".contains(c));
    if valid {
        Ok(())
    } else {
        let shown: String = a.chars().take(60).collect();
        Err(format!("{shown:?} is not an email address"))
    }
}

/// The name of a webhook call: 1 to 64 lowercase letters, digits and dashes.
fn call_name(name: &str) -> Result<(), String> {
    timer_name(name).map_err(|_| {
        let shown: String = name.chars().take(70).collect();
        format!("the call name {shown:?} is not one: 1 to 64 lowercase letters, digits and dashes")
    })
}

/// A tag's form: a letter or digit, then letters, digits, `-` or `_`, at most
/// [`MAX_TAG_CHARS`] (ASCII); returned lowercased.
pub fn tag(s: &str) -> Result<String, String> {
    let t = s.trim();
    let valid = !t.is_empty()
        && t.len() <= MAX_TAG_CHARS
        && t.starts_with(|c: char| c.is_ascii_alphanumeric())
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(t.to_ascii_lowercase())
    } else {
        let shown: String = t.chars().take(40).collect();
        Err(format!(
            "The tag {shown:?} is not one: a tag is 1 to {MAX_TAG_CHARS} letters (a to z), digits, dashes or underscores, starting with a letter or a digit."
        ))
    }
}

/// A timer's name: 1 to 64 lowercase letters, digits and dashes.
pub fn timer_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if valid {
        Ok(())
    } else {
        let shown: String = name.chars().take(70).collect();
        Err(format!(
            "the timer name {shown:?} is not one: 1 to 64 lowercase letters, digits and dashes"
        ))
    }
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

#[cfg(test)]
mod tests;
