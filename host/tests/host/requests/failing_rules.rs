//! A workflow plugin that fails refuses what it decides (a person's move, an automatic move),
//! never the desk: requests are still raised, answered and read; the failure is recorded in the
//! request's timeline for staff, in the decision log with what failed, and in the metrics.

use super::*;
use crate::console::decisions;
use crate::pages::{Browser, env_without_codes};
use helpdesk_bundled_plugins::fixtures::WORKFLOW_TRIAGE;

async fn a_failing_workflow_refuses_its_moves_not_the_desk(t: TestDb) {
    let desk = Desk::with(env_without_codes(&t).await).await;
    let plugins = &desk.env.server.state.plugins;
    let good = plugins.active(Slot::TicketWorkflow).unwrap().plugin.id;
    let failing = plugins
        .install(
            &t.db,
            Slot::TicketWorkflow,
            WORKFLOW_TRIAGE,
            "fail = both",
            "test",
            true,
        )
        .await
        .unwrap();

    // `react` fails on creation: the request is stored all the same, in its first status.
    let id = desk
        .raise(&desk.bob, "Pump 4 is down", "Since this morning.")
        .await;
    let customer = desk.detail(&desk.bob, id).await;
    assert_eq!(customer["status"], "new", "{customer}");
    // `can-transition` fails: the request reads, with no moves and a reason, and the customer
    // is not told the plugin's inner workings.
    assert_eq!(customer["moves"], json!([]));
    assert_eq!(
        customer["moves_unavailable"],
        json!({ "code": "rule_unavailable" })
    );
    assert_eq!(customer["rule_failures"], json!([]));

    // Staff see which plugin failed and how, and the automatic move it failed to make.
    let staff = desk.detail(&desk.agent, id).await;
    assert_eq!(staff["moves"], json!([]));
    assert_eq!(staff["moves_unavailable"]["plugin"]["id"], failing);
    assert!(
        staff["moves_unavailable"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("can-transition fails")),
        "{staff}"
    );
    let failures = staff["rule_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{staff}");
    assert_eq!(failures[0]["cause"], "event:created");
    assert_eq!(failures[0]["kind"], "trap");
    assert_eq!(failures[0]["plugin_id"], failing);
    assert!(
        failures[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("on-event fails")),
        "{staff}"
    );

    // A reply still lands; its automatic move is left out and recorded.
    let (s, body) = desk
        .env
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&desk.bob),
            json!({ "body": "Still down." }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let staff = desk.detail(&desk.agent, id).await;
    assert_eq!(staff["messages"].as_array().unwrap().len(), 2);
    assert_eq!(staff["rule_failures"][1]["cause"], "event:customer-replied");

    // A person's move is what the rule decides: refused, and nothing changes.
    let (s, body) = desk
        .put(
            &format!("/api/v1/requests/{id}/status"),
            &desk.agent,
            json!({ "status": "triaged" }),
        )
        .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "rule_unavailable");
    assert_eq!(desk.detail(&desk.agent, id).await["status"], "new");

    // The request page says why no move is offered, and shows the failed automatic moves.
    let agent = Browser::sign_in(&desk.env, "agent@vendor.test").await;
    let page = agent
        .client
        .get(desk.env.server.url(&format!("/requests/{id}")))
        .header("cookie", &agent.cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("No moves offered: the workflow plugin failed"),
        "{html}"
    );
    assert!(
        html.contains("No automatic action after created: the workflow failed"),
        "{html}"
    );
    let bob = Browser::sign_in(&desk.env, "bob@acme.example").await;
    let html = bob
        .client
        .get(desk.env.server.url(&format!("/requests/{id}")))
        .header("cookie", &bob.cookies)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("The status cannot be changed right now"),
        "{html}"
    );
    assert!(!html.contains("on-event fails"), "{html}");

    // Operators find each failure, with what failed, in the decision log and the metrics.
    let logged = decisions(&desk, &format!("?request={id}&outcome=failed"), |l| {
        l.iter().any(|d| d["function"] == "react")
            && l.iter().any(|d| d["function"] == "can-transition")
    })
    .await;
    assert!(
        logged
            .iter()
            .all(|d| d["outcome"] == "trap"
                && d["error"].as_str().is_some_and(|e| e.contains("fails"))),
        "{logged:?}"
    );
    let metrics = crate::metrics::scrape(&desk.env.server).await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("helpdesk_plugin_failures_total")
                && l.contains("function=\"react\"")
                && l.contains("kind=\"trap\"")),
        "{metrics}"
    );

    // The console says so beside the slot, linking to the failures.
    let (s, overview) = desk.env.get("/api/v1/plugins", Some(&desk.operator)).await;
    assert_eq!(s, StatusCode::OK, "{overview}");
    let workflow = overview["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slot"] == "ticket-workflow")
        .unwrap()
        .clone();
    assert!(
        workflow["failures_24h"].as_i64().unwrap() >= 2,
        "{workflow}"
    );
    let ops = Browser::sign_in(&desk.env, "ops@vendor.test").await;
    let page = ops
        .get(&desk.env, "/staff/plugins")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("The active plugin failed")
            && page.contains("outcome=failed\">See the failures</a>"),
        "{page}"
    );

    // Back on a workflow that answers, the moves come back.
    plugins
        .activate(&t.db, Slot::TicketWorkflow, good, "test")
        .await
        .unwrap();
    let staff = desk.detail(&desk.agent, id).await;
    assert_eq!(staff["moves_unavailable"], Value::Null, "{staff}");
}
on_both_backends!(
    failing_workflow,
    a_failing_workflow_refuses_its_moves_not_the_desk
);
