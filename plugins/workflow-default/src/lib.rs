//! The default ticket workflow: Open, In Progress, Waiting for customer, On Hold, Closed.
//!
//! Who may move a request:
//! - Vendor staff (agents, operators) and the host itself may move it between any two statuses.
//! - A customer or Site Administrator may close it from any open status, and may reopen a closed
//!   request (back to Open) within the reopen window.
//!
//! Automatic moves:
//! - an agent's reply or an assignment moves an Open request to In Progress;
//! - a customer's reply moves a request Waiting for customer or On Hold back to In Progress, and
//!   reopens a Closed one (to In Progress) within the reopen window; after the window the request
//!   stays Closed.
//!
//! Waiting for customer is where staff put a request that needs the customer's answer; On Hold,
//! one that waits on something else (a supplier, a release). Requests nobody answers (off unless
//! `remind-after-days` or `close-after-days` is set): a request put Waiting for customer gets a
//! timer for each; when the reminder's falls due and the request is still waiting, its requester
//! is emailed the reminder operators wrote (in German when they chose German); when the closing
//! one falls due, it is closed. A customer's reply, or a move off Waiting for customer, cancels
//! both; a staff reply while waiting starts them again.
//!
//! Config (all optional):
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `reopen-window-days` | 14 | how long after closing a customer may reopen (0 = never) |
//! | `close-after-days` | 0 | close a request Waiting for customer this many days after it was last put or answered there (0 = never) |
//! | `remind-after-days` | 0 | email its requester a reminder this many days after that (0 = never) |
//! | `reminder-subject`, `reminder-text` | see [`REMINDER_EN`] | the reminder in English; `{number}`, `{subject}`, `{name}`, `{link}` are filled in |
//! | `reminder-subject-de`, `reminder-text-de` | see [`REMINDER_DE`] | the reminder in German |

use helpdesk_plugin_sdk::config::Config;
use helpdesk_plugin_sdk::describe;
use helpdesk_plugin_sdk::ticket_workflow::exports::helpdesk::plugins::workflow::{
    self, Action, Email, EventContext, Recipient, Request, RequestEvent, Status, TicketEvent,
    Timer, TransitionDecision, TransitionRequest, Wording,
};
use helpdesk_plugin_sdk::types::ActorRole;
use helpdesk_plugin_sdk::types::{ConfigField, PluginInfo};

pub const OPEN: &str = "open";
pub const IN_PROGRESS: &str = "in-progress";
pub const WAITING: &str = "waiting-for-customer";
pub const ON_HOLD: &str = "on-hold";
pub const CLOSED: &str = "closed";

/// `(key, label, open)` in display order; the first is initial.
const STATUSES: [(&str, &str, bool); 5] = [
    (OPEN, "Open", true),
    (IN_PROGRESS, "In Progress", true),
    (WAITING, "Waiting for customer", true),
    (ON_HOLD, "On Hold", true),
    (CLOSED, "Closed", false),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub reopen_window_seconds: u64,
    /// 0: requests Waiting for customer are never closed on their own.
    pub close_after_seconds: u64,
    /// 0: no reminder is sent.
    pub remind_after_seconds: u64,
    /// The reminder's `(subject, text)` in English and in German.
    pub reminder: [(String, String); 2],
}

/// The timer that closes a request left Waiting for customer.
pub const CLOSE_IF_SILENT: &str = "close-if-silent";
/// The timer that reminds the requester of a request left Waiting for customer.
pub const REMIND_IF_SILENT: &str = "remind-if-silent";

/// The reminder's default subject and text in English.
pub const REMINDER_EN: (&str, &str) = (
    "Waiting for your answer: {subject}",
    "Hello {name}, your request {number}, \"{subject}\", is waiting for your answer. Please reply to this email or in the portal so that we can go on.",
);
/// The reminder's default subject and text in German.
pub const REMINDER_DE: (&str, &str) = (
    "Wir warten auf Ihre Antwort: {subject}",
    "Hallo {name}, Ihre Anfrage {number}, „{subject}“, wartet auf Ihre Antwort. Bitte antworten Sie auf diese E-Mail oder im Portal, damit wir weitermachen können.",
);

impl Settings {
    pub fn parse(src: &str) -> Result<Settings, String> {
        let mut c = Config::parse(src)?;
        let days = c.take_int("reopen-window-days", 0, 3650)?.unwrap_or(14) as u64;
        let close = c.take_int("close-after-days", 0, 3650)?.unwrap_or(0) as u64;
        let remind = c.take_int("remind-after-days", 0, 3650)?.unwrap_or(0) as u64;
        // Within the contract's bounds of an email: a subject of 200 characters, and a body of
        // 16 KiB, which 4,000 characters never exceed.
        let mut text = |key: &str, default: &str, max: usize| -> Result<String, String> {
            let t = c.take_str(key)?.unwrap_or_else(|| default.to_owned());
            if t.trim().is_empty() {
                return Err(format!("`{key}` is empty"));
            }
            if t.chars().count() > max {
                return Err(format!("`{key}` is longer than {max} characters"));
            }
            Ok(t)
        };
        let reminder = [
            (
                text("reminder-subject", REMINDER_EN.0, 200)?,
                text("reminder-text", REMINDER_EN.1, 4000)?,
            ),
            (
                text("reminder-subject-de", REMINDER_DE.0, 200)?,
                text("reminder-text-de", REMINDER_DE.1, 4000)?,
            ),
        ];
        c.finish()?;
        Ok(Settings {
            reopen_window_seconds: days * 86_400,
            close_after_seconds: close * 86_400,
            remind_after_seconds: remind * 86_400,
            reminder,
        })
    }

    fn within_reopen_window(&self, seconds_in_status: u64) -> bool {
        seconds_in_status < self.reopen_window_seconds
    }

    pub fn can_transition(&self, r: &TransitionRequest) -> TransitionDecision {
        let known = |key: &str| STATUSES.iter().any(|(k, _, _)| *k == key);
        if !known(&r.from) {
            return TransitionDecision::Refused(format!("Unknown status \"{}\".", r.from));
        }
        if !known(&r.to) {
            return TransitionDecision::Refused(format!("Unknown status \"{}\".", r.to));
        }
        if r.from == r.to {
            return TransitionDecision::Refused("The request is already in that status.".into());
        }
        match r.actor {
            ActorRole::Agent | ActorRole::Operator | ActorRole::System => TransitionDecision::Allowed,
            ActorRole::Customer | ActorRole::SiteAdmin => match (r.from.as_str(), r.to.as_str()) {
                (_, CLOSED) => TransitionDecision::Allowed,
                (CLOSED, OPEN) if self.within_reopen_window(r.seconds_in_status) => {
                    TransitionDecision::Allowed
                }
                (CLOSED, OPEN) => TransitionDecision::Refused(
                    "This request was closed too long ago to reopen; please raise a new request."
                        .into(),
                ),
                (CLOSED, _) => TransitionDecision::Refused(
                    "A closed request can only be reopened to Open.".into(),
                ),
                _ => TransitionDecision::Refused(
                    "Only support staff can change the status of an open request, other than closing it."
                        .into(),
                ),
            },
        }
    }

    pub fn on_event(&self, e: &EventContext) -> Option<String> {
        let to = match (e.event, e.status.as_str()) {
            (TicketEvent::AgentReplied | TicketEvent::Assigned, OPEN) => IN_PROGRESS,
            (TicketEvent::CustomerReplied, WAITING | ON_HOLD) => IN_PROGRESS,
            (TicketEvent::CustomerReplied, CLOSED)
                if self.within_reopen_window(e.seconds_in_status) =>
            {
                IN_PROGRESS
            }
            _ => return None,
        };
        Some(to.to_owned())
    }

    /// The actions after `event` on `request`: the automatic moves above, and the timers that
    /// remind the requester of a request left Waiting for customer and close it.
    pub fn react(&self, event: &RequestEvent, request: &Request) -> Vec<Action> {
        let mut actions: Vec<Action> = self.moves(event, request).into_iter().collect();
        let timers: Vec<(&str, u64)> = [
            (REMIND_IF_SILENT, self.remind_after_seconds),
            (CLOSE_IF_SILENT, self.close_after_seconds),
        ]
        .into_iter()
        .filter(|(_, after)| *after > 0)
        .collect();
        if timers.is_empty() {
            return actions;
        }
        // Where the request ends up after this answer.
        let status = match actions.first() {
            Some(Action::SetStatus(to)) => to.as_str(),
            _ => request.status.as_str(),
        };
        let start = timers.iter().map(|(name, after)| {
            Action::SetTimer(Timer {
                name: (*name).to_owned(),
                after_seconds: *after,
            })
        });
        let cancel = timers
            .iter()
            .map(|(name, _)| Action::CancelTimer((*name).to_owned()));
        match event {
            RequestEvent::Timer(name) if name == CLOSE_IF_SILENT && status == WAITING => {
                actions.push(Action::SetStatus(CLOSED.to_owned()));
            }
            RequestEvent::Timer(name) if name == REMIND_IF_SILENT && status == WAITING => {
                actions.push(self.reminder());
            }
            RequestEvent::StatusChanged(_) if status == WAITING => actions.extend(start),
            RequestEvent::StatusChanged(from) if from == WAITING => actions.extend(cancel),
            RequestEvent::StaffReplied if status == WAITING => actions.extend(start),
            RequestEvent::CustomerReplied => actions.extend(cancel),
            _ => {}
        }
        actions
    }

    /// The reminder to the requester, in English and German.
    fn reminder(&self) -> Action {
        let wording = |language: &str, (subject, body): &(String, String)| Wording {
            language: language.to_owned(),
            subject: subject.clone(),
            body: body.clone(),
        };
        Action::SendEmail(Email {
            to: vec![Recipient::Requester],
            wordings: vec![
                wording("en", &self.reminder[0]),
                wording("de", &self.reminder[1]),
            ],
        })
    }

    /// The automatic move after `event`, as `on_event` says it.
    fn moves(&self, event: &RequestEvent, request: &Request) -> Option<Action> {
        let event = match event {
            RequestEvent::Created => TicketEvent::Created,
            RequestEvent::CustomerReplied => TicketEvent::CustomerReplied,
            RequestEvent::StaffReplied => TicketEvent::AgentReplied,
            RequestEvent::Assigned => TicketEvent::Assigned,
            _ => return None,
        };
        let context = EventContext {
            event,
            status: request.status.clone(),
            seconds_in_status: request.seconds_in_status,
        };
        self.on_event(&context).map(Action::SetStatus)
    }
}

pub fn statuses() -> Vec<Status> {
    STATUSES
        .iter()
        .enumerate()
        .map(|(i, (key, label, open))| Status {
            key: (*key).to_owned(),
            label: (*label).to_owned(),
            open: *open,
            initial: i == 0,
        })
        .collect()
}

/// The component: the exports of the `ticket-workflow` world.
#[derive(Debug)]
pub struct WorkflowDefault;

impl workflow::Guest for WorkflowDefault {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "workflow-default".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            summary:
                "Open, In Progress, Waiting for customer, On Hold, Closed; customers close and reopen, staff move freely"
                    .to_owned(),
        }
    }

    fn validate_config(config: String) -> Result<(), String> {
        Settings::parse(&config).map(|_| ())
    }

    fn describe_config() -> Option<Vec<ConfigField>> {
        Some(vec![
            describe::integer(
                "reopen-window-days",
                "Reopen window (days)",
                "How many days after a request is closed its customer may still reopen it, by replying or by hand; 0: never.",
                14,
                0,
                3650,
            ),
            describe::integer(
                "close-after-days",
                "Close after silence (days)",
                "Close a request left Waiting for customer this many days after it was put or last answered there, unless its customer replies; 0: never.",
                0,
                0,
                3650,
            ),
            describe::integer(
                "remind-after-days",
                "Remind after silence (days)",
                "Email the requester a reminder this many days after their request was put Waiting for customer or last answered there, unless they reply; 0: never.",
                0,
                0,
                3650,
            ),
            describe::text(
                "reminder-subject",
                "Reminder subject (English)",
                "{number}, {subject}, {name} and {link} are filled in.",
                REMINDER_EN.0,
            ),
            describe::text(
                "reminder-text",
                "Reminder text (English)",
                "{number}, {subject}, {name} and {link} are filled in; a link to the request follows.",
                REMINDER_EN.1,
            ),
            describe::text(
                "reminder-subject-de",
                "Reminder subject (German)",
                "Sent to requesters who chose German.",
                REMINDER_DE.0,
            ),
            describe::text(
                "reminder-text-de",
                "Reminder text (German)",
                "Sent to requesters who chose German.",
                REMINDER_DE.1,
            ),
        ])
    }

    fn statuses(_config: String) -> Vec<Status> {
        statuses()
    }

    fn can_transition(config: String, request: TransitionRequest) -> TransitionDecision {
        match Settings::parse(&config) {
            Ok(s) => s.can_transition(&request),
            Err(e) => TransitionDecision::Refused(format!("The workflow is misconfigured: {e}")),
        }
    }

    fn on_event(config: String, context: EventContext) -> Option<String> {
        Settings::parse(&config).ok()?.on_event(&context)
    }

    fn react(config: String, event: RequestEvent, request: Request) -> Vec<Action> {
        Settings::parse(&config)
            .map(|s| s.react(&event, &request))
            .unwrap_or_default()
    }
}

// The component exports exist only in the wasm build; native builds run the same code in tests.
#[cfg(target_arch = "wasm32")]
helpdesk_plugin_sdk::export_ticket_workflow!(WorkflowDefault);

#[cfg(test)]
mod tests;
