//! {{name}}: a ticket workflow with three statuses (open, waiting, closed); change `STATUSES`,
//! `can_transition` and `react` to your process. `react` answers every event on a request with
//! actions: here, a staff reply to an open request waits on the customer and sets two timers:
//! one reminds the customer by email after three days of silence, the other closes the request
//! after a week; the customer's reply opens it again and cancels both. A new request without a
//! type whose subject mentions an outage becomes an Incident (one of the types operators keep).
//!
//! Build: `cargo build --release` (the component is
//! `target/wasm32-wasip2/release/{{file}}.wasm`).
//! Test: `helpdesk-plugin test target/wasm32-wasip2/release/{{file}}.wasm examples.json`.
//!
//! Config (`key = value` lines, set by the operator at install): `customers-close` (default
//! true): whether customers may close their own requests.

use helpdesk_plugin_sdk::config::Config;
use helpdesk_plugin_sdk::ticket_workflow::exports::helpdesk::plugins::workflow::{
    self, Action, Email, EventContext, Recipient, Request, RequestEvent, Status, Timer,
    TransitionDecision, TransitionRequest, Wording,
};
use helpdesk_plugin_sdk::describe;
use helpdesk_plugin_sdk::types::{ActorRole, ConfigField, PluginInfo};

/// Key, label, open, initial.
const STATUSES: &[(&str, &str, bool, bool)] = &[
    ("open", "Open", true, true),
    ("waiting", "Waiting on customer", true, false),
    ("closed", "Closed", false, false),
];

/// The timers a staff reply sets: one reminds the customer of a request still waiting on them,
/// the other closes it.
const REMIND: &str = "remind";
const CLOSE_IF_SILENT: &str = "close-if-silent";

fn customers_close(config: &str) -> Result<bool, String> {
    let mut c = Config::parse(config)?;
    let allowed = c.take_bool("customers-close")?.unwrap_or(true);
    c.finish()?;
    Ok(allowed)
}

struct Plugin;

impl workflow::Guest for Plugin {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "{{name}}".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            summary: "Open, waiting on customer, closed".to_owned(),
        }
    }

    fn validate_config(config: String) -> Result<(), String> {
        customers_close(&config).map(|_| ())
    }

    fn describe_config() -> Option<Vec<ConfigField>> {
        // What `customers_close` reads, so the console shows a form.
        Some(vec![describe::boolean(
            "customers-close",
            "Customers may close",
            "Let customers close their own requests.",
            true,
        )])
    }

    fn statuses(_config: String) -> Vec<Status> {
        STATUSES
            .iter()
            .map(|&(key, label, open, initial)| Status {
                key: key.to_owned(),
                label: label.to_owned(),
                open,
                initial,
            })
            .collect()
    }

    fn can_transition(config: String, request: TransitionRequest) -> TransitionDecision {
        let known = |key: &str| STATUSES.iter().any(|s| s.0 == key);
        if !known(&request.to) || request.from == request.to {
            return TransitionDecision::Refused(format!("Cannot move to {:?}.", request.to));
        }
        match request.actor {
            ActorRole::Customer | ActorRole::SiteAdmin => {
                if request.to == "closed" && customers_close(&config).unwrap_or(true) {
                    TransitionDecision::Allowed
                } else {
                    TransitionDecision::Refused("Only staff can do that.".to_owned())
                }
            }
            _ => TransitionDecision::Allowed,
        }
    }

    /// Asked only of workflows built against contracts older than 0.4: the host asks this one
    /// `react`.
    fn on_event(_config: String, _context: EventContext) -> Option<String> {
        None
    }

    fn react(_config: String, event: RequestEvent, request: Request) -> Vec<Action> {
        match (event, request.status.as_str()) {
            (RequestEvent::Created, _)
                if request.request_type.is_none()
                    && request.subject.to_lowercase().contains("outage") =>
            {
                vec![Action::SetType(Some("Incident".to_owned()))]
            }
            (RequestEvent::StaffReplied, "open") => vec![
                Action::SetStatus("waiting".to_owned()),
                Action::SetTimer(Timer {
                    name: REMIND.to_owned(),
                    after_seconds: 3 * 86_400,
                }),
                Action::SetTimer(Timer {
                    name: CLOSE_IF_SILENT.to_owned(),
                    after_seconds: 7 * 86_400,
                }),
            ],
            (RequestEvent::CustomerReplied, "waiting" | "closed") => vec![
                Action::SetStatus("open".to_owned()),
                Action::CancelTimer(REMIND.to_owned()),
                Action::CancelTimer(CLOSE_IF_SILENT.to_owned()),
            ],
            // The host fills in `{name}`, `{number}`, `{subject}` and `{link}`; add a wording
            // per language your customers read.
            (RequestEvent::Timer(name), "waiting") if name == REMIND => {
                vec![Action::SendEmail(Email {
                    to: vec![Recipient::Requester],
                    wordings: vec![Wording {
                        language: "en".to_owned(),
                        subject: "Waiting for your answer: {subject}".to_owned(),
                        body: "Hello {name}, we are waiting for your answer to {number}. Without one, it closes in four days.".to_owned(),
                    }],
                })]
            }
            (RequestEvent::Timer(name), "waiting") if name == CLOSE_IF_SILENT => {
                vec![Action::SetStatus("closed".to_owned())]
            }
            _ => Vec::new(),
        }
    }
}

helpdesk_plugin_sdk::export_ticket_workflow!(Plugin);
