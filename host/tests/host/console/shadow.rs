//! Shadow mode: a candidate asked every live decision of its slot beside the active plugin, off
//! the request's path; its disagreements counted on every replica and listed with both answers;
//! promoted to active or stopped in one action, audited.

use super::decisions;
use crate::pages::{Browser, env_without_codes};
use crate::requests::Desk;
use crate::support::{TestDb, on_both_backends};
use helpdesk::domain::rules::Slot;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The slot's shadow as `GET /api/v1/plugins` shows it, once `ready` holds.
async fn shadow_of(desk: &Desk, slot: &str, ready: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let (s, body) = desk.env.get("/api/v1/plugins", Some(&desk.operator)).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let shadow = body["slots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["slot"] == slot)
            .unwrap()["shadow"]
            .clone();
        if ready(&shadow) {
            return shadow;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the {slot} shadow never got there")
}

async fn operators_run_a_candidate_in_shadow(t: TestDb) {
    let desk = Desk::with(env_without_codes(&t).await).await;
    let env = &desk.env;
    let plugins = &env.server.state.plugins;
    let db = &env.server.state.db;
    let default = plugins.active(Slot::TicketWorkflow).unwrap().plugin.id;
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
    let op = |method: &'static str, path: String| {
        let token = desk.operator.clone();
        async move { env.call(method, &path, Some(&token), None).await }
    };

    // Only operators; the active plugin cannot shadow itself; nothing to stop yet.
    let (s, _) = env
        .call(
            "POST",
            &format!("/api/v1/plugins/{triage}/shadow"),
            Some(&desk.agent),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, body) = op("POST", format!("/api/v1/plugins/{default}/shadow")).await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    let (s, body) = op("DELETE", "/api/v1/slots/ticket-workflow/shadow".into()).await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    let (s, _) = op("POST", "/api/v1/plugins/999999/shadow".into()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(plugins.shadow(Slot::TicketWorkflow).is_none());

    let (s, body) = op("POST", format!("/api/v1/plugins/{triage}/shadow")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "slot": "ticket-workflow", "shadow_id": triage })
    );
    assert_eq!(
        plugins.shadow(Slot::TicketWorkflow).unwrap().plugin.id,
        triage
    );

    // Live traffic: the active workflow decides; the shadow would have refused `on-hold`.
    let id = desk.raise(&desk.bob, "Printer on fire", "It smokes.").await;
    let (s, body) = desk
        .put(
            &format!("/api/v1/requests/{id}/status"),
            &desk.agent,
            json!({ "status": "on-hold" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "on-hold", "the live answer stands");

    let listed = decisions(&desk, "?shadow=true&slot=ticket-workflow", |l| {
        l.iter().any(|d| d["input"]["to"] == "on-hold")
    })
    .await;
    let hold = listed
        .iter()
        .find(|d| d["input"]["to"] == "on-hold")
        .unwrap();
    assert_eq!(hold["plugin_id"], triage);
    assert_eq!(hold["function"], "can-transition");
    assert_eq!(hold["request_id"], id);
    assert_eq!(hold["live"]["plugin_id"], default);
    assert_eq!(hold["live"]["outcome"], "ok");
    assert_eq!(hold["live"]["answer"]["outcome"], "allowed", "{hold}");
    assert_ne!(hold["answer"], hold["live"]["answer"], "{hold}");
    // The live log is the live plugin's alone.
    let live = decisions(&desk, &format!("?request={id}"), |l| !l.is_empty()).await;
    assert!(live.iter().all(|d| d["plugin_id"] == default), "{live:?}");
    assert!(live.iter().all(|d| d["live"].is_null()), "{live:?}");

    // Counted on the slot, for every replica, and in the metrics.
    let shadow = shadow_of(&desk, "ticket-workflow", |s| {
        s["disagreed"].as_i64() >= Some(listed.len() as i64)
    })
    .await;
    assert_eq!(shadow["plugin_id"], triage);
    assert_eq!(shadow["started_by"], "operator:ops@vendor.test");
    assert!(shadow["asked"].as_i64() >= shadow["disagreed"].as_i64());
    let metrics = plugins.metrics().render();
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with("helpdesk_plugin_shadow_disagreements_total{")
                && l.contains(&format!("plugin_id=\"{triage}\""))
        })
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(!line.ends_with(" 0"), "{line}");

    // The pages: the slot's shadow with its counts and actions; the disagreements beside
    // the live answers.
    let ops = Browser::sign_in(env, "ops@vendor.test").await;
    let page = ops.get(env, "/staff/plugins").await.text().await.unwrap();
    assert!(page.contains("In shadow: <strong>"), "{page}");
    assert!(page.contains("See the disagreements"), "{page}");
    assert!(page.contains("/staff/slots/ticket-workflow/shadow/promote"));
    let page = ops
        .get(
            env,
            &format!("/staff/decisions?shadow=true&slot=ticket-workflow&plugin={triage}"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Shadow disagreements"), "{page}");
    assert!(page.contains("Live answer"), "{page}");
    assert!(page.contains(&format!("#{default}: ")), "{page}");
    assert!(page.contains("on-hold"), "{page}");

    // Stopped from the page: the shadow is no longer asked.
    let res = ops
        .post(env, "/staff/slots/ticket-workflow/shadow/stop", &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(plugins.shadow(Slot::TicketWorkflow).is_none());
    shadow_of(&desk, "ticket-workflow", Value::is_null).await;

    // Started again and promoted: the candidate serves, the shadowing ends.
    let res = ops
        .post(env, &format!("/staff/plugins/{triage}/shadow"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (s, body) = env
        .call(
            "POST",
            "/api/v1/slots/ticket-workflow/shadow/promote",
            Some(&desk.agent),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (s, body) = op(
        "POST",
        "/api/v1/slots/ticket-workflow/shadow/promote".into(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "slot": "ticket-workflow", "active_id": triage })
    );
    assert_eq!(
        plugins.active(Slot::TicketWorkflow).unwrap().plugin.id,
        triage
    );
    assert!(plugins.shadow(Slot::TicketWorkflow).is_none());
    shadow_of(&desk, "ticket-workflow", Value::is_null).await;
    let (s, _) = op(
        "POST",
        "/api/v1/slots/ticket-workflow/shadow/promote".into(),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = op("POST", "/api/v1/slots/no-such-slot/shadow/promote".into()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Every step is in the audit log, with the operator.
    let (_, body) = env.get("/api/v1/audit", Some(&desk.operator)).await;
    let events: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["email"] == "ops@vendor.test")
        .filter_map(|e| e["event"].as_str())
        .filter(|e| e.starts_with("plugin_shadow"))
        .collect();
    assert_eq!(
        events,
        [
            "plugin_shadow_promoted",
            "plugin_shadow_started",
            "plugin_shadow_stopped",
            "plugin_shadow_started"
        ]
    );
}
on_both_backends!(shadow, operators_run_a_candidate_in_shadow);

/// A shadow that spins until its time runs out never slows or fails the live decision: its
/// failure is a disagreement, listed with its kind.
async fn a_failing_shadow_never_touches_the_live_decision(t: TestDb) {
    let desk = Desk::with(env_without_codes(&t).await).await;
    let env = &desk.env;
    let plugins = &env.server.state.plugins;
    // Spins until its 300 ms backstop stops it.
    let spinning = plugins
        .install_with(
            &env.server.state.db,
            &helpdesk::plugins::Install {
                slot: Slot::PasswordPolicy,
                bytes: helpdesk_bundled_plugins::fixtures::HOSTILE,
                config: "loop",
                raise: helpdesk::plugins::Raise {
                    instructions: Some(1 << 40),
                    backstop_ms: Some(300),
                    ..Default::default()
                },
                signature: None,
                by: "cli:test",
                activate: false,
            },
        )
        .await
        .unwrap();
    let (s, body) = env
        .call(
            "POST",
            &format!("/api/v1/plugins/{spinning}/shadow"),
            Some(&desk.operator),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");

    // How long the shadow spins on one question.
    let alone = plugins
        .prepared(&env.server.state.db, spinning)
        .await
        .unwrap();
    let started = Instant::now();
    let failed = alone.check_password("Quiet#River42", &Default::default());
    let spin = started.elapsed();
    assert!(failed.is_err());

    // Were the shadow on the request's path, no check could be faster than its spin.
    let mut fastest = Duration::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        let (s, body) = env
            .post(
                "/api/v1/password-policy/check",
                None,
                json!({ "password": "Quiet#River42" }),
            )
            .await;
        fastest = fastest.min(started.elapsed());
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["outcome"], "accepted", "{body}");
    }
    assert!(
        fastest < spin / 2,
        "the fastest live check took {fastest:?}; the shadow spins {spin:?}"
    );

    let listed = decisions(&desk, &format!("?shadow=true&plugin={spinning}"), |l| {
        !l.is_empty()
    })
    .await;
    let d = &listed[0];
    assert_eq!(d["outcome"], "timeout", "{d}");
    // What it failed with is kept beside its kind.
    assert!(
        d["error"].as_str().is_some_and(|e| e.contains("backstop")),
        "{d}"
    );
    assert_eq!(d["answer"], Value::Null);
    assert_eq!(d["live"]["outcome"], "ok");
    assert_eq!(d["live"]["answer"]["outcome"], "accepted");
    assert_eq!(
        d["input"]["password"],
        json!({ "length": 13, "classes": ["lower", "upper", "digit", "symbol"] })
    );
    assert!(!d.to_string().contains("Quiet#River42"));
}
on_both_backends!(
    failing_shadow,
    a_failing_shadow_never_touches_the_live_decision
);
