//! Rules that act (contract 0.4's `react`): the workflow is handed the whole request after every
//! event and answers with actions, which the host checks and applies in the event's own
//! transaction, all or none; timers it sets come back as events, each exactly once; answers
//! that keep raising events are cut; workflows of the 0.3, 0.4 and 0.5 contracts keep working.

use super::*;
use crate::accounts::PASSWORD;
use crate::console::decisions;
use helpdesk::auth::SiteInput;
use helpdesk::clock::Clock;
use helpdesk_bundled_plugins::fixtures::{
    FIFTH_CONTRACT, FOURTH_CONTRACT, THIRD_CONTRACT, WORKFLOW_RENEWALS,
};

/// Installs and activates `wasm` as the workflow, with `config`; returns its id.
pub(crate) async fn workflow(d: &Desk, t: &TestDb, wasm: &[u8], config: &str) -> i64 {
    d.env
        .server
        .state
        .plugins
        .install(&t.db, Slot::TicketWorkflow, wasm, config, "test", true)
        .await
        .unwrap()
}

/// A site whose maintenance contract ends `days` from the desk's today, with a customer;
/// returns the customer's token.
pub(crate) async fn site_ending_in(d: &Desk, name: &str, domain: &str, days: i64) -> String {
    let today = d.env.server.clock.today();
    let end = today + time::Duration::days(days);
    let site = d
        .env
        .server
        .state
        .accounts
        .save_site(
            None,
            None,
            &SiteInput {
                name: name.into(),
                domains: vec![domain.into()],
                addresses: Vec::new(),
                maintenance_until: Some(end.to_string()),
                licences: 3,
            },
        )
        .await
        .unwrap();
    d.env
        .active_customer(&format!("dana@{domain}"), site, &d.operator)
        .await
}

pub(crate) async fn reply(d: &Desk, token: &str, id: i64, body: &str) {
    let (s, res) = d
        .env
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(token),
            json!({ "body": body }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{res}");
}

fn tags(v: &Value) -> Vec<&str> {
    v["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect()
}

async fn a_workflow_acts_on_events_and_timers(t: TestDb) {
    let d = Desk::with(crate::pages::env_without_codes(&t).await).await;
    let config = format!("renewal-agent = {}\nclose-after-days = 7", d.agent_id);
    let plugin = workflow(&d, &t, WORKFLOW_RENEWALS, &config).await;
    let dana = site_ending_in(&d, "Borealis Drilling", "borealis.example", 10).await;

    // On creation: a renewal, from a site whose contract ends within 30 days.
    let id = d
        .raise(&dana, "Licence renewal", "Our contract ends soon.")
        .await;
    let r = d.detail(&d.agent, id).await;
    assert_eq!(r["priority"], "urgent", "{r}");
    assert_eq!(tags(&r), ["renewal"]);
    assert_eq!(r["assignee_id"], d.agent_id);
    assert_eq!(r["status"], "open");
    let changes = r["field_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{r}");
    assert!(changes.iter().all(|c| c["cause"] == "event:created"
        && c["actor_id"].is_null()
        && c["plugin"] == "workflow-renewals 1.0.0"));
    // Everything the answer did committed with the request: its decision is in the log.
    let asked = |l: &[Value], event: &str| {
        l.iter()
            .find(|x| x["function"] == "react" && x["input"]["event"] == event)
            .cloned()
    };
    let logged = decisions(&d, &format!("?request={id}"), |l| {
        asked(l, "created").is_some() && asked(l, "assigned").is_some()
    })
    .await;
    let created = asked(&logged, "created").unwrap();
    assert_eq!(created["plugin_id"], plugin);
    // The events its actions raised were asked in turn.
    let assigned = asked(&logged, "assigned").unwrap();
    assert_eq!(assigned["input"]["request"]["assignee"], d.agent_id);
    assert_eq!(assigned["answer"], json!([]));
    assert_eq!(
        created["input"]["request"]["site"]["name"],
        "Borealis Drilling"
    );
    assert_eq!(
        created["input"]["request"]["first_message"],
        "Our contract ends soon."
    );
    assert_eq!(created["answer"].as_array().unwrap().len(), 3, "{created}");

    // Another site's request is left as it is.
    let other = d.raise(&d.bob, "Printer", "It jams.").await;
    let o = d.detail(&d.agent, other).await;
    assert_eq!(o["priority"], "normal");
    assert!(tags(&o).is_empty() && o["assignee_id"].is_null());

    // A staff reply waits for the customer, with a timer.
    reply(&d, &d.agent, id, "Here is the quote.").await;
    let r = d.detail(&d.agent, id).await;
    assert_eq!(r["status"], "waiting-for-customer");
    let timers = r["timers"].as_array().unwrap();
    assert_eq!(timers.len(), 1, "{r}");
    assert_eq!(timers[0]["name"], "close-if-silent");
    let now = d.env.server.clock.now_ms();
    assert_eq!(timers[0]["due_at"], now + 7 * 86_400_000);
    assert_eq!(d.detail(&d.ann, other).await["timers"], json!([]));

    // Not due yet: nothing fires.
    let version = r["version"].as_i64().unwrap();
    let requests = &d.env.server.state.requests;
    d.env.server.clock.advance(Duration::from_secs(6 * 86_400));
    assert_eq!(requests.fire_all_due_timers().await.unwrap(), 0);
    // Due: it fires once, and the request is closed by the workflow's answer.
    d.env.server.clock.advance(Duration::from_secs(86_400));
    assert_eq!(requests.fire_all_due_timers().await.unwrap(), 1);
    assert_eq!(requests.fire_all_due_timers().await.unwrap(), 0);
    // A week on, everyone signs in again.
    let (agent, dana) = (
        d.env.log_in("agent@vendor.test", PASSWORD).await,
        d.env.log_in("dana@borealis.example", PASSWORD).await,
    );
    let r = d.detail(&agent, id).await;
    assert_eq!(r["status"], "closed");
    assert_eq!(r["timers"], json!([]));
    assert_eq!(r["version"], version + 1, "changed once by the firing: {r}");
    let last = r["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["cause"], "event:timer");
    assert_eq!(last["actor_role"], "system");

    // The customer's reply opens it again; a new wait sets the timer again, and the next
    // reply cancels it.
    reply(&d, &dana, id, "We accept the quote.").await;
    assert_eq!(d.detail(&agent, id).await["status"], "open");
    reply(&d, &agent, id, "Sent the invoice.").await;
    assert_eq!(
        d.detail(&agent, id).await["timers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    reply(&d, &dana, id, "Paid.").await;
    let r = d.detail(&agent, id).await;
    assert_eq!(r["status"], "open");
    assert_eq!(r["timers"], json!([]), "the customer's reply cancelled it");
    d.env.server.clock.advance(Duration::from_secs(30 * 86_400));
    assert_eq!(requests.fire_all_due_timers().await.unwrap(), 0);

    // A timer whose answer changes nothing leaves its request as it was, version and all.
    let agent = d.env.log_in("agent@vendor.test", PASSWORD).await;
    let before = d.detail(&agent, other).await;
    sqlx::query(
        "INSERT INTO request_timers (request_id, name, due_at, set_at) VALUES ($1, 'close-if-silent', $2, $2)",
    )
    .bind(other)
    .bind(d.env.server.clock.now_ms())
    .execute(t.db.pool())
    .await
    .unwrap();
    assert_eq!(requests.fire_all_due_timers().await.unwrap(), 1);
    let after = d.detail(&agent, other).await;
    for field in ["version", "updated_at", "status"] {
        assert_eq!(after[field], before[field], "{field}");
    }

    // Staff see the timers and the rule's changes on the page; customers see neither.
    let agent = crate::pages::Browser::sign_in(&d.env, "agent@vendor.test").await;
    let html = agent
        .get(&d.env, &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Priority: Normal → Urgent"), "{html}");
    assert!(html.contains("workflow-renewals 1.0.0"), "{html}");
}
on_both_backends!(rules_act, a_workflow_acts_on_events_and_timers);

async fn an_answer_the_host_refuses_changes_nothing(t: TestDb) {
    let d = Desk::new(&t).await;
    // Assigning renewals to someone who is not active staff: the whole answer is refused.
    workflow(&d, &t, WORKFLOW_RENEWALS, "renewal-agent = 999999").await;
    let dana = site_ending_in(&d, "Borealis Drilling", "borealis.example", 3).await;
    let id = d.raise(&dana, "Renewal", "Please renew.").await;
    let r = d.detail(&d.agent, id).await;
    assert_eq!(r["priority"], "normal", "none of the answer applied: {r}");
    assert!(tags(&r).is_empty() && r["assignee_id"].is_null());
    assert_eq!(r["status"], "open", "the event itself stands");
    let failures = r["rule_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{r}");
    assert_eq!(failures[0]["cause"], "event:created");
    assert_eq!(failures[0]["function"], "react");
    let message = failures[0]["message"].as_str().unwrap();
    assert!(
        message.contains("action 3 (assign)") && message.contains("999999"),
        "{message}"
    );
    let logged = decisions(&d, &format!("?request={id}&outcome=failed"), |l| {
        !l.is_empty()
    })
    .await;
    assert_eq!(logged[0]["function"], "react");
    assert!(
        logged[0]["error"]
            .as_str()
            .unwrap()
            .contains("action 3 (assign)"),
        "{logged:?}"
    );
}
on_both_backends!(refused_answers, an_answer_the_host_refuses_changes_nothing);

async fn answers_that_keep_raising_events_are_cut(t: TestDb) {
    let d = Desk::new(&t).await;
    workflow(&d, &t, WORKFLOW_RENEWALS, "loop = true").await;
    let id = d.raise(&d.bob, "Loop", "Round and round.").await;
    let started = std::time::Instant::now();
    let (s, body) = d
        .put(
            &format!("/api/v1/requests/{id}/fields"),
            &d.agent,
            json!({ "priority": "low" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The person's change, then the workflow's answers three deep; the fourth is not asked.
    let changes = body["field_changes"].as_array().unwrap();
    let values: Vec<&str> = changes
        .iter()
        .map(|c| c["new_value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["low", "urgent", "high", "urgent"], "{body}");
    assert_eq!(body["priority"], "urgent");
    let failures = body["rule_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{body}");
    assert_eq!(failures[0]["kind"], "cascade");
    assert_eq!(failures[0]["cause"], "event:field-changed");
}
on_both_backends!(cascades, answers_that_keep_raising_events_are_cut);

async fn a_workflow_of_the_older_contract_keeps_working(t: TestDb) {
    let d = Desk::new(&t).await;
    workflow(&d, &t, THIRD_CONTRACT, "").await;
    let id = d.raise(&d.bob, "Old contract", "Still works?").await;
    reply(&d, &d.agent, id, "Yes.").await;
    assert_eq!(d.detail(&d.agent, id).await["status"], "closed");
    reply(&d, &d.bob, id, "Thanks, one more thing.").await;
    let r = d.detail(&d.agent, id).await;
    assert_eq!(r["status"], "open");
    assert_eq!(r["rule_failures"], json!([]));
    // Events it does not know are not asked of it, and nothing is recorded for them.
    let (s, _) = d
        .put(
            &format!("/api/v1/requests/{id}/fields"),
            &d.agent,
            json!({ "tags": ["legacy"] }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let logged = decisions(&d, &format!("?request={id}"), |l| l.len() >= 3).await;
    assert!(
        logged
            .iter()
            .all(|x| x["input"]["event"] != "field-changed"),
        "{logged:?}"
    );
}
on_both_backends!(
    older_contract_events,
    a_workflow_of_the_older_contract_keeps_working
);

async fn a_workflow_of_contract_0_4_keeps_acting(t: TestDb) {
    let d = Desk::new(&t).await;
    workflow(&d, &t, FOURTH_CONTRACT, "").await;
    let id = d.raise(&d.bob, "Built against 0.4", "Still acting?").await;
    let r = d.detail(&d.agent, id).await;
    assert_eq!(r["priority"], "high", "{r}");
    assert_eq!(tags(&r), ["fourth"]);
    reply(&d, &d.agent, id, "Yes.").await;
    let r = d.detail(&d.agent, id).await;
    assert_eq!(r["status"], "closed");
    assert_eq!(r["timers"][0]["name"], "follow-up", "{r}");
    d.env.server.clock.advance(Duration::from_secs(3600));
    let requests = &d.env.server.state.requests;
    assert_eq!(requests.fire_all_due_timers().await.unwrap(), 1);
    let r = d.detail(&d.agent, id).await;
    assert_eq!(tags(&r), ["followed-up", "fourth"]);
    assert_eq!(r["rule_failures"], json!([]));
}
on_both_backends!(
    contract_0_4_actions,
    a_workflow_of_contract_0_4_keeps_acting
);

async fn a_workflow_of_contract_0_5_keeps_acting(t: TestDb) {
    let d = Desk::new(&t).await;
    workflow(&d, &t, FIFTH_CONTRACT, "").await;
    let id = d.raise(&d.bob, "Built against 0.5", "Still acting?").await;
    let r = d.detail(&d.agent, id).await;
    assert_eq!(tags(&r), ["fifth"], "{r}");
    let note = r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["channel"] == "workflow")
        .unwrap_or_else(|| panic!("no note in {r}"));
    assert_eq!(note["author_name"], "fifth-contract 0.5.0");
    assert!(note["body"].as_str().unwrap().starts_with("Raised from "));
    reply(&d, &d.agent, id, "Yes.").await;
    let r = d.detail(&d.agent, id).await;
    assert_eq!(r["status"], "closed");
    assert_eq!(r["rule_failures"], json!([]));
}
on_both_backends!(
    contract_0_5_actions,
    a_workflow_of_contract_0_5_keeps_acting
);
