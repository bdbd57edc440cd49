//! {{name}}: a ticket workflow with three statuses (open, waiting, closed); change `STATUSES`,
//! `can_transition` and `on_event` to your process.
//!
//! Build: `cargo build --release` (the component is
//! `target/wasm32-wasip2/release/{{file}}.wasm`).
//! Test: `helpdesk-plugin test target/wasm32-wasip2/release/{{file}}.wasm examples.json`.
//!
//! Config (`key = value` lines, set by the operator at install): `customers-close` (default
//! true): whether customers may close their own requests.

use helpdesk_plugin_sdk::config::Config;
use helpdesk_plugin_sdk::ticket_workflow::exports::helpdesk::plugins::workflow::{
    self, EventContext, Status, TicketEvent, TransitionDecision, TransitionRequest,
};
use helpdesk_plugin_sdk::describe;
use helpdesk_plugin_sdk::types::{ActorRole, ConfigField, PluginInfo};

/// Key, label, open, initial.
const STATUSES: &[(&str, &str, bool, bool)] = &[
    ("open", "Open", true, true),
    ("waiting", "Waiting on customer", true, false),
    ("closed", "Closed", false, false),
];

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

    fn on_event(_config: String, context: EventContext) -> Option<String> {
        match (context.event, context.status.as_str()) {
            (TicketEvent::AgentReplied, "open") => Some("waiting".to_owned()),
            (TicketEvent::CustomerReplied, "waiting" | "closed") => Some("open".to_owned()),
            _ => None,
        }
    }
}

helpdesk_plugin_sdk::export_ticket_workflow!(Plugin);
