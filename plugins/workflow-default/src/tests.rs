//! The workflow as a table: `examples.json` holds the cases; the host runs the same file through
//! the compiled component (`helpdesk plugin test`).

use super::*;
use serde_json::{Value, json};
use workflow::Guest as _;

fn role(v: &Value) -> ActorRole {
    match v.as_str().unwrap() {
        "customer" => ActorRole::Customer,
        "site-admin" => ActorRole::SiteAdmin,
        "agent" => ActorRole::Agent,
        "operator" => ActorRole::Operator,
        "system" => ActorRole::System,
        other => panic!("unknown role {other}"),
    }
}

fn event(v: &Value) -> TicketEvent {
    match v.as_str().unwrap() {
        "created" => TicketEvent::Created,
        "customer-replied" => TicketEvent::CustomerReplied,
        "agent-replied" => TicketEvent::AgentReplied,
        "assigned" => TicketEvent::Assigned,
        other => panic!("unknown event {other}"),
    }
}

#[test]
fn examples_table() {
    let examples: Value = serde_json::from_str(include_str!("../examples.json")).unwrap();
    for case in examples["cases"].as_array().unwrap() {
        let config = examples["configs"][case["config"].as_str().unwrap()]
            .as_str()
            .unwrap()
            .to_owned();
        // `react` cases need the whole request: the host's tests run them through the component.
        if case.get("react").is_some() {
            continue;
        }
        let got = if let Some(t) = case.get("transition") {
            let request = TransitionRequest {
                from: t["from"].as_str().unwrap().into(),
                to: t["to"].as_str().unwrap().into(),
                actor: role(&t["actor"]),
                seconds_in_status: t["seconds_in_status"].as_u64().unwrap_or(0),
            };
            match WorkflowDefault::can_transition(config, request) {
                TransitionDecision::Allowed => json!("allowed"),
                TransitionDecision::Refused(_) => json!("refused"),
            }
        } else {
            let e = &case["event"];
            let context = EventContext {
                event: event(&e["event"]),
                status: e["status"].as_str().unwrap().into(),
                seconds_in_status: e["seconds_in_status"].as_u64().unwrap_or(0),
            };
            json!(WorkflowDefault::on_event(config, context))
        };
        assert_eq!(got, case["expect"], "{case}");
    }
}

#[test]
fn statuses_match_the_examples() {
    let examples: Value = serde_json::from_str(include_str!("../examples.json")).unwrap();
    let got: Vec<Value> = WorkflowDefault::statuses(String::new())
        .into_iter()
        .map(|s| json!({ "key": s.key, "label": s.label, "open": s.open, "initial": s.initial }))
        .collect();
    assert_eq!(Value::from(got), examples["statuses"]);
}

#[test]
fn refusals_explain_themselves() {
    let request = TransitionRequest {
        from: OPEN.into(),
        to: ON_HOLD.into(),
        actor: ActorRole::Customer,
        seconds_in_status: 0,
    };
    assert_eq!(
        WorkflowDefault::can_transition(String::new(), request),
        TransitionDecision::Refused(
            "Only support staff can change the status of an open request, other than closing it."
                .into()
        )
    );
    assert_eq!(
        WorkflowDefault::validate_config("reopen-window-days = 9999".into()).unwrap_err(),
        "line 1: `reopen-window-days` is 9999, expected 0 to 3650"
    );
}

#[test]
fn the_description_matches_what_the_config_reads() {
    let fields = WorkflowDefault::describe_config().unwrap();
    let written = describe::defaults_written(&fields);
    assert_eq!(Settings::parse(&written), Settings::parse(""), "{written}");
}
