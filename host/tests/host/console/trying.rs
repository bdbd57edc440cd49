//! Asking candidates before they serve: a dry run by hand, and a replay of recorded decisions.

use super::decisions;
use crate::pages::{Browser, env_without_codes};
use crate::requests::Desk;
use crate::support::{TestDb, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// A dry run: an installed plugin asked by hand, next to the active one; nothing changes and
/// nothing is logged as a decision.
async fn operators_ask_a_candidate_by_hand(t: TestDb) {
    use helpdesk::domain::rules::Slot;
    let desk = Desk::with(env_without_codes(&t).await).await;
    let env = &desk.env;
    let plugins = &env.server.state.plugins;
    let db = &env.server.state.db;
    let bundled = plugins.active(Slot::PasswordPolicy).unwrap().plugin.id;
    let strict = plugins
        .install(
            db,
            Slot::PasswordPolicy,
            helpdesk_bundled_plugins::DEFAULTS[0].wasm,
            "min-length = 14\n",
            "cli:test",
            false,
        )
        .await
        .unwrap();
    let dry = |id: i64, body: Value| {
        let path = format!("/api/v1/plugins/{id}/dry-run");
        let token = desk.operator.clone();
        async move { env.post(&path, Some(&token), body).await }
    };

    let (s, body) = dry(
        strict,
        json!({ "password": "Abcdefg1234", "email": "ann@acme.example" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["slot"], "password-policy");
    assert_eq!(body["function"], "check-password");
    assert_eq!(
        body["question"]["password"],
        json!({ "length": 11, "classes": ["lower", "upper", "digit"] })
    );
    assert!(!body.to_string().contains("Abcdefg1234"), "{body}");
    assert_eq!(body["candidate"]["plugin"]["id"], strict);
    assert_eq!(body["candidate"]["answer"]["outcome"], "rejected", "{body}");
    assert_eq!(body["active"]["plugin"]["id"], bundled);
    assert_eq!(body["active"]["answer"]["outcome"], "accepted", "{body}");
    for side in ["candidate", "active"] {
        assert_eq!(body[side]["outcome"], "ok");
        assert!(
            body[side]["instructions"].as_u64().unwrap() > 1_000,
            "{body}"
        );
        assert!(
            body[side]["peak_memory"].as_u64().unwrap() >= 64 << 10,
            "{body}"
        );
    }
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        bundled
    );

    // The eligibility plugin, about a customer's address.
    let eligibility = plugins.active(Slot::SignupEligibility).unwrap().plugin.id;
    let (s, body) = dry(
        eligibility,
        json!({ "email": "carol@acme.example", "today": "2026-01-15" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["question"]["today"], "2026-01-15");
    assert_eq!(body["question"]["candidates"][0]["name"], "Acme Mining");
    assert_eq!(body["candidate"]["answer"], body["active"]["answer"]);

    // A candidate workflow, on a real request, read-only.
    let triage = plugins
        .install(
            db,
            Slot::TicketWorkflow,
            helpdesk_bundled_plugins::fixtures::WORKFLOW_TRIAGE,
            "",
            "cli:test",
            false,
        )
        .await
        .unwrap();
    let id = desk.raise(&desk.bob, "Printer on fire", "It smokes.").await;
    let before = desk.detail(&desk.operator, id).await;
    let (s, body) = dry(
        triage,
        json!({ "request": id, "to": "closed", "actor": "customer" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["function"], "can-transition");
    assert_eq!(body["question"]["from"], before["status"]);
    assert_eq!(body["active"]["answer"]["outcome"], "allowed", "{body}");
    let (s, body) = dry(
        triage,
        json!({ "request": id, "event": "customer-replied" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // An event asks `react` with the request as it is now, and answers the actions.
    assert_eq!(body["function"], "react");
    assert_eq!(body["question"]["event"], "customer-replied");
    assert_eq!(body["question"]["request"]["id"], id);
    assert_eq!(body["question"]["request"]["status"], before["status"]);
    assert_eq!(body["question"]["request"]["site"]["name"], "Acme Mining");
    assert!(body["candidate"]["answer"].is_array(), "{body}");
    assert!(body["active"]["answer"].is_array(), "{body}");
    let (s, body) = dry(triage, json!({ "request": id, "event": "timer" })).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a timer needs its name: {body}"
    );
    let (s, body) = dry(
        triage,
        json!({ "request": id, "event": "timer", "detail": "remind" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["question"]["detail"], "remind");
    assert_eq!(
        desk.detail(&desk.operator, id).await,
        before,
        "nothing changed"
    );

    // Questions that do not fit, and who may ask.
    let (s, body) = dry(strict, json!({ "email": "ann@acme.example" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"]["field"], "password");
    let (s, _) = dry(triage, json!({ "request": id })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = dry(triage, json!({ "request": 999_999, "event": "created" })).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = dry(999_999, json!({ "password": "x" })).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = dry(strict, json!({ "pasword": "x" })).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = env
        .post(
            &format!("/api/v1/plugins/{strict}/dry-run"),
            Some(&desk.agent),
            json!({ "password": "x" }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The same from the pages: Plugins links each installation to its form.
    let ops = Browser::sign_in(env, "ops@vendor.test").await;
    let page = ops.get(env, "/staff/plugins").await.text().await.unwrap();
    assert!(
        page.contains(&format!("/staff/plugins/{strict}/try")),
        "{page}"
    );
    let form = ops
        .get(env, &format!("/staff/plugins/{strict}/try"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        form.contains(r#"name="password" type="password""#),
        "{form}"
    );
    let res = ops
        .post(
            env,
            &format!("/staff/plugins/{strict}/try"),
            &[("password", "Abcdefg1234"), ("email", "ann@acme.example")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("too-short"), "{page}");
    assert!(
        page.contains(&format!("#{strict} password-default")),
        "{page}"
    );
    assert!(
        page.contains(&format!("#{bundled} password-default")),
        "{page}"
    );
    assert!(
        !page.contains("Abcdefg1234"),
        "the password is not shown back"
    );
    assert!(page.contains("ann@acme.example"), "{page}");
    let res = ops
        .post(
            env,
            &format!("/staff/plugins/{triage}/try"),
            &[
                ("request", &format!("REQ-{id}")),
                ("to", "closed"),
                ("actor", "customer"),
                ("event", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("can-transition"), "{page}");
    let res = ops
        .post(
            env,
            &format!("/staff/plugins/{triage}/try"),
            &[("request", &id.to_string()), ("to", ""), ("event", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("either"));
    let agent = Browser::sign_in(env, "agent@vendor.test").await;
    let res = agent
        .get(env, &format!("/staff/plugins/{strict}/try"))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // None of it is in the decision log.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_, body) = env
        .get(
            &format!("/api/v1/decisions?plugin={strict}"),
            Some(&desk.operator),
        )
        .await;
    assert_eq!(body["decisions"], json!([]));
}
on_both_backends!(dry_run, operators_ask_a_candidate_by_hand);

/// Replay: a candidate run over the recorded decisions of its slot, differences listed.
async fn operators_replay_recorded_decisions(t: TestDb) {
    use helpdesk::domain::rules::Slot;
    let desk = Desk::with(env_without_codes(&t).await).await;
    let env = &desk.env;
    let plugins = &env.server.state.plugins;
    let db = &env.server.state.db;
    let id = desk.raise(&desk.bob, "Printer on fire", "It smokes.").await;
    let (s, body) = desk
        .put(
            &format!("/api/v1/requests/{id}/status"),
            &desk.agent,
            json!({ "status": "on-hold" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    decisions(&desk, "?slot=ticket-workflow", |l| {
        l.iter().any(|d| d["input"]["to"] == "on-hold")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let replay = |plugin: i64, body: Value| {
        let path = format!("/api/v1/plugins/{plugin}/replay");
        let token = desk.operator.clone();
        async move { env.post(&path, Some(&token), body).await }
    };

    // The active workflow over its own decisions: the same answers.
    let default = plugins.active(Slot::TicketWorkflow).unwrap().plugin.id;
    let (s, body) = replay(default, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body["replayed"].as_u64().unwrap() >= 2, "{body}");
    assert_eq!(body["same"], body["replayed"]);
    assert_eq!(body["differences"], json!([]));

    // Another workflow, whose statuses differ: where it would have decided otherwise.
    let triage = plugins
        .install(
            db,
            Slot::TicketWorkflow,
            helpdesk_bundled_plugins::fixtures::WORKFLOW_TRIAGE,
            "",
            "cli:test",
            false,
        )
        .await
        .unwrap();
    let (s, body) = replay(triage, json!({ "limit": 1000 })).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["plugin"]["id"], triage);
    let differences = body["differences"].as_array().unwrap();
    let hold = differences
        .iter()
        .find(|d| d["function"] == "can-transition" && d["question"]["to"] == "on-hold")
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(hold["request_id"], id);
    assert_eq!(hold["recorded"]["answer"]["outcome"], "allowed");
    assert_eq!(hold["recorded"]["plugin_id"], default);
    assert_ne!(
        hold["candidate"]["answer"], hold["recorded"]["answer"],
        "{hold}"
    );
    assert_eq!(
        body["replayed"].as_u64().unwrap(),
        body["same"].as_u64().unwrap() + differences.len() as u64
    );

    // The same from the Try page.
    let ops = Browser::sign_in(env, "ops@vendor.test").await;
    let res = ops
        .post(env, &format!("/staff/plugins/{triage}/replay"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("Replayed "), "{page}");
    assert!(page.contains("different"), "{page}");
    assert!(page.contains("on-hold"), "{page}");

    // Passwords are not kept, so cannot be replayed; bounds and who may ask.
    let password = plugins.active(Slot::PasswordPolicy).unwrap().plugin.id;
    let (s, body) = replay(password, json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no passwords")
    );
    let (s, _) = replay(triage, json!({ "limit": 0 })).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = replay(999_999, json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = env
        .post(
            &format!("/api/v1/plugins/{triage}/replay"),
            Some(&desk.agent),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
on_both_backends!(replay, operators_replay_recorded_decisions);
