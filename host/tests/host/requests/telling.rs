//! Rules that tell (contract 0.5): a workflow's answer adds internal notes, emails people, in
//! words operators wrote and in each recipient's language, and calls a webhook endpoint by its
//! number; all are written in the transaction of the event, so they happen exactly when the
//! answer applies, and an answer calling an endpoint that is off is refused as a whole.

use super::reacting::{reply, site_ending_in, workflow};
use super::*;
use crate::accounts::PASSWORD;
use crate::webhooks::{Receiver, desk, register, signed};
use helpdesk_bundled_plugins::fixtures::WORKFLOW_RENEWALS;

async fn a_workflow_emails_people_and_calls_a_webhook(t: TestDb) {
    let (d, hooks) = desk(&t).await;
    let receiver = Receiver::start().await;
    // The endpoint wants only assignments; the workflow calls it by its number all the same.
    let (endpoint, secret) = register(&d, &receiver.url("/hook"), json!(["assigned"])).await;
    let config = format!(
        "renewal-agent = {}\nremind-after-days = 5\nclose-after-days = 7\ntell-site-admins = true\nrenewal-webhook = {endpoint}",
        d.agent_id
    );
    workflow(&d, &t, WORKFLOW_RENEWALS, &config).await;
    let dana = site_ending_in(&d, "Borealis Drilling", "borealis.example", 10).await;
    // Dana reads German; the site has one administrator, Sam.
    let site: i64 = sqlx::query_scalar("SELECT site_id FROM users WHERE email = $1")
        .bind("dana@borealis.example")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    d.env
        .active_customer("sam@borealis.example", site, &d.operator)
        .await;
    sqlx::query("UPDATE users SET role = CASE WHEN email = $1 THEN 'site_admin' ELSE 'customer' END, language = CASE WHEN email = $2 THEN 'de' ELSE language END WHERE site_id = $3")
        .bind("sam@borealis.example")
        .bind("dana@borealis.example")
        .bind(site)
        .execute(t.db.pool())
        .await
        .unwrap();

    let id = d
        .raise(&dana, "Licence renewal", "Our contract ends soon.")
        .await;
    let r = d.detail(&d.agent, id).await;
    assert_eq!(r["priority"], "urgent", "{r}");
    assert_eq!(r["rule_failures"], json!([]), "{r}");
    let number = format!("REQ-{id}");

    // The workflow's note: internal, written by the plugin, and asked about in turn.
    let note = r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["channel"] == "workflow")
        .unwrap_or_else(|| panic!("no note in {r}"))
        .clone();
    assert_eq!(note["internal"], 1);
    assert!(note["author_id"].is_null(), "{note}");
    assert_eq!(note["author_role"], "system");
    assert_eq!(note["author_name"], "workflow-renewals 1.0.0");
    assert!(
        note["body"]
            .as_str()
            .unwrap()
            .contains("the contract of Borealis Drilling ends on"),
        "{note}"
    );
    let (_, seen) = d
        .env
        .get(&format!("/api/v1/requests/{id}"), Some(&dana))
        .await;
    assert!(
        seen["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["channel"] != "workflow"),
        "customers never see it: {seen}"
    );
    let asked = crate::console::decisions(&d, &format!("?request={id}"), |l| {
        l.iter().any(|x| x["input"]["event"] == "note-added")
    })
    .await;
    assert!(!asked.is_empty());
    let agent_page = crate::pages::Browser::sign_in(&d.env, "agent@vendor.test").await;
    let html = agent_page
        .get(&d.env, &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<strong>Renewal</strong>: the contract of Borealis Drilling"),
        "{html}"
    );
    assert!(html.contains("via the workflow"), "{html}");

    // The site's administrator is told, in the only wording there is, with the blanks filled.
    let sink = &d.env.sink;
    let told = sink
        .wait(
            "sam@borealis.example",
            &format!("Renewal request {number}"),
            1,
        )
        .await;
    assert!(told.text.contains("Hello Casey"), "{}", told.text);
    assert!(told.text.contains("\"Licence renewal\""), "{}", told.text);
    assert!(
        !told.text.contains('{'),
        "every blank filled: {}",
        told.text
    );
    assert!(told.link(&format!("/requests/{id}")).starts_with("http"));
    assert!(
        sink.to("dana@borealis.example")
            .iter()
            .all(|m| !m.subject.contains("Renewal request"))
    );

    // The endpoint gets the call, signed, beside the event it wants.
    hooks.deliver_due().await.unwrap();
    let got = receiver.got();
    let call = got
        .iter()
        .find(|g| g.event == "workflow-call")
        .unwrap_or_else(|| panic!("no call in {got:?}"));
    assert!(signed(call, &secret, None), "{call:?}");
    let body: Value = serde_json::from_str(&call.body).unwrap();
    assert_eq!(body["detail"]["name"], "renewal");
    assert_eq!(body["detail"]["plugin"], "workflow-renewals 1.0.0");
    assert_eq!(body["request"]["id"], id);
    assert_eq!(body["request"]["priority"], "urgent");
    assert!(got.iter().any(|g| g.event == "assigned"));
    assert!(
        !got.iter().any(|g| g.event == "created"),
        "not wanted: {got:?}"
    );

    // A staff reply waits for Dana; five days of silence remind her, in German.
    reply(&d, &d.agent, id, "Here is the quote.").await;
    let r = d.detail(&d.agent, id).await;
    assert_eq!(r["status"], "waiting-for-customer");
    assert_eq!(r["timers"].as_array().unwrap().len(), 2, "{r}");
    let requests = &d.env.server.state.requests;
    d.env.server.clock.advance(Duration::from_secs(5 * 86_400));
    assert_eq!(requests.fire_all_due_timers().await.unwrap(), 1);
    let reminder = sink
        .wait(
            "dana@borealis.example",
            "Wir warten auf Ihre Antwort: Licence renewal",
            1,
        )
        .await;
    assert!(
        reminder.text.contains(&format!("Antwort zu {number}")),
        "{}",
        reminder.text
    );
    assert!(
        reminder
            .text
            .contains("Antworten Sie, damit sie offen bleibt.")
    );
    assert!(
        reminder
            .link(&format!("/requests/{id}"))
            .starts_with("http")
    );
    // It fires once; two days on, the request is closed.
    assert_eq!(requests.fire_all_due_timers().await.unwrap(), 0);
    d.env.server.clock.advance(Duration::from_secs(2 * 86_400));
    assert_eq!(requests.fire_all_due_timers().await.unwrap(), 1);
    let agent = d.env.log_in("agent@vendor.test", PASSWORD).await;
    assert_eq!(d.detail(&agent, id).await["status"], "closed");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        sink.to("dana@borealis.example")
            .iter()
            .filter(|m| m.subject.starts_with("Wir warten"))
            .count(),
        1,
        "reminded once"
    );

    // The endpoint turned off: the next renewal's answer is refused as a whole, and says why.
    let operator = d.env.log_in("ops@vendor.test", PASSWORD).await;
    let (s, body) = d
        .put(
            &format!("/api/v1/webhooks/{endpoint}/state"),
            &operator,
            json!({ "enabled": false }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let dana = d.env.log_in("dana@borealis.example", PASSWORD).await;
    let second = d.raise(&dana, "Second renewal", "And another.").await;
    let r = d.detail(&agent, second).await;
    assert_eq!(r["priority"], "normal", "none of the answer applied: {r}");
    let failures = r["rule_failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{r}");
    let message = failures[0]["message"].as_str().unwrap();
    assert!(
        message.contains("(call-webhook)")
            && message.contains(&format!("no active webhook endpoint {endpoint}")),
        "{message}"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        sink.to("sam@borealis.example")
            .iter()
            .all(|m| !m.subject.contains(&format!("REQ-{second}"))),
        "the refused answer's email was never sent"
    );
}
on_both_backends!(rules_tell, a_workflow_emails_people_and_calls_a_webhook);

async fn the_bundled_workflow_reminds_then_closes_a_request_left_waiting(t: TestDb) {
    let d = Desk::new(&t).await;
    let config = "remind-after-days = 3\nclose-after-days = 5\nreminder-subject = \"Still with us? {number}\"";
    workflow(
        &d,
        &t,
        helpdesk_bundled_plugins::WORKFLOW_DEFAULT.wasm,
        config,
    )
    .await;
    let id = d.raise(&d.bob, "Backup fails", "Since Monday.").await;
    let set = |token: String, status: &'static str| {
        let d = &d;
        async move {
            let (s, body) = d
                .put(
                    &format!("/api/v1/requests/{id}/status"),
                    &token,
                    json!({ "status": status }),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{body}");
        }
    };
    let hold = |token: String| set(token, "waiting-for-customer");
    // On Hold waits on something other than the customer: no timers.
    set(d.agent.clone(), "on-hold").await;
    assert_eq!(d.detail(&d.agent, id).await["timers"], json!([]));
    hold(d.agent.clone()).await;
    let r = d.detail(&d.agent, id).await;
    let mut timers: Vec<&str> = r["timers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    timers.sort();
    assert_eq!(timers, ["close-if-silent", "remind-if-silent"], "{r}");

    // Three days of silence: Bob is reminded, in the words the operator wrote, once.
    let requests = &d.env.server.state.requests;
    let clock = &d.env.server.clock;
    clock.advance(Duration::from_secs(3 * 86_400));
    assert_eq!(requests.fire_all_due_timers().await.unwrap(), 1);
    let subject = format!("Still with us? REQ-{id}");
    let reminder = d.env.sink.wait("bob@acme.example", &subject, 1).await;
    assert!(
        reminder
            .text
            .contains("\"Backup fails\", is waiting for your answer"),
        "{}",
        reminder.text
    );
    // Three days on, both sign in again.
    let agent = d.env.log_in("agent@vendor.test", PASSWORD).await;
    let bob = d.env.log_in("bob@acme.example", PASSWORD).await;
    assert_eq!(d.detail(&agent, id).await["status"], "waiting-for-customer");

    // Bob answers: the request is back In Progress and neither timer is left.
    reply(&d, &bob, id, "Still failing, log attached.").await;
    let r = d.detail(&agent, id).await;
    assert_eq!(r["status"], "in-progress");
    assert_eq!(r["timers"], json!([]), "{r}");

    // Waiting again and silent for five days: reminded, then closed, in one sweep.
    hold(agent).await;
    clock.advance(Duration::from_secs(5 * 86_400));
    assert_eq!(requests.fire_all_due_timers().await.unwrap(), 2);
    d.env.sink.wait("bob@acme.example", &subject, 2).await;
    let agent = d.env.log_in("agent@vendor.test", PASSWORD).await;
    let r = d.detail(&agent, id).await;
    assert_eq!(r["status"], "closed", "{r}");
    assert_eq!(r["rule_failures"], json!([]));
}
on_both_backends!(
    bundled_reminder,
    the_bundled_workflow_reminds_then_closes_a_request_left_waiting
);
