//! The decision log: every plugin decision on the request path recorded (a password only as
//! its shape), browsed and filtered in the API and the pages, linked from a request, pruned.

use super::decisions;
use crate::pages::{Browser, env_without_codes};
use crate::requests::Desk;
use crate::support::{TestDb, on_both_backends};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

async fn every_decision_is_logged(t: TestDb) {
    let desk = Desk::with(env_without_codes(&t).await).await;
    let env = &desk.env;
    let secret = "Zebra-Quartz-71!";
    let (s, checked) = env
        .post(
            "/api/v1/password-policy/check",
            None,
            json!({ "password": secret }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{checked}");
    let id = desk.raise(&desk.bob, "Printer on fire", "It smokes.").await;
    let (s, body) = desk
        .put(
            &format!("/api/v1/requests/{id}/status"),
            &desk.agent,
            json!({ "status": "on-hold" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");

    // Passwords chosen by signing up are decisions, each kept only as its length and classes;
    // a check as someone types (the call above) is counted, not logged: anyone typing would
    // fill the log.
    let n = crate::accounts::PASSWORD.chars().count();
    let checks = decisions(&desk, "?slot=password-policy", |l| {
        l.iter().any(|d| d["input"]["password"]["length"] == n)
    })
    .await;
    let chosen = checks
        .iter()
        .find(|d| d["input"]["password"]["length"] == n)
        .expect("the check of a password chosen at sign-up");
    assert_eq!(chosen["function"], "check-password");
    assert_eq!(
        chosen["input"]["password"]["classes"],
        json!(["lower", "upper", "digit", "symbol"])
    );
    assert_eq!(chosen["answer"]["outcome"], "accepted");
    assert_eq!(chosen["outcome"], "ok");
    assert_eq!(chosen["error"], serde_json::Value::Null);
    assert!(chosen["micros"].as_i64().unwrap() > 0);
    assert_eq!(chosen["sha256"].as_str().unwrap().len(), 64);
    assert!(
        checks
            .iter()
            .all(|d| d["input"]["password"]["length"] != secret.chars().count()),
        "a password checked as it was typed was logged"
    );
    let stored: Vec<String> = sqlx::query_scalar("SELECT input FROM plugin_decisions")
        .fetch_all(t.db.pool())
        .await
        .unwrap();
    assert!(!stored.is_empty());
    assert!(
        stored
            .iter()
            .all(|i| !i.contains(secret) && !i.contains(crate::accounts::PASSWORD)),
        "a password was stored"
    );

    // Sign-up eligibility was asked for each customer's address.
    let eligibility = decisions(&desk, "?slot=signup-eligibility", |l| {
        l.iter().any(|d| d["input"]["email"] == "bob@acme.example")
    })
    .await;
    assert!(eligibility.iter().all(|d| d["function"] == "decide"));
    assert!(
        eligibility
            .iter()
            .any(|d| d["input"]["email"] == "bob@acme.example")
    );

    // The request's own decisions: what created it and what moved it.
    let about = decisions(&desk, &format!("?request={id}"), |l| {
        l.iter()
            .any(|d| d["function"] == "can-transition" && d["input"]["to"] == "on-hold")
            && l.iter().any(|d| d["function"] == "react")
    })
    .await;
    assert!(about.iter().all(|d| d["request_id"] == id));
    let moved = about
        .iter()
        .find(|d| d["function"] == "can-transition" && d["input"]["to"] == "on-hold")
        .expect("the agent's move");
    assert_eq!(moved["answer"]["outcome"], "allowed");
    assert_eq!(moved["input"]["actor"], "agent");
    assert!(
        about
            .iter()
            .any(|d| d["function"] == "react" && d["input"]["event"] == "created")
    );

    // Filters and pages.
    let failed = decisions(&desk, "?outcome=failed", |_| true).await;
    assert!(failed.is_empty(), "{failed:?}");
    // Past the writer's gathering time, nothing new arrives while the pages are read.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let all = decisions(&desk, "", |l| l.len() >= 5).await;
    let (s, body) = env
        .get("/api/v1/decisions?limit=2", Some(&desk.operator))
        .await;
    assert_eq!(s, StatusCode::OK);
    let first: Vec<i64> = body["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    let next = body["next_before"].as_i64().unwrap();
    let (_, body) = env
        .get(
            &format!("/api/v1/decisions?limit=2&before={next}"),
            Some(&desk.operator),
        )
        .await;
    let second: Vec<i64> = body["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    let newest: Vec<i64> = all
        .iter()
        .take(4)
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!([first, second].concat(), newest);
    for (query, field) in [
        ("?slot=nope", "slot"),
        ("?outcome=maybe", "outcome"),
        ("?request=0", "request"),
        ("?limit=501", "limit"),
        ("?colour=red", ""),
    ] {
        let (s, body) = env
            .get(&format!("/api/v1/decisions{query}"), Some(&desk.operator))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {body}");
        if !field.is_empty() {
            assert_eq!(body["error"]["details"]["field"], field, "{query}");
        }
    }

    // Operators only.
    for token in [&desk.agent, &desk.ann] {
        let (s, _) = env.get("/api/v1/decisions", Some(token)).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }

    // The page, its filter, and the link from the request.
    let ops = Browser::sign_in(env, "ops@vendor.test").await;
    let page = ops
        .get(env, &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let link = format!("/staff/decisions?request={id}");
    assert!(page.contains(&link), "{page}");
    let page = ops.get(env, &link).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("can-transition"), "{page}");
    assert!(page.contains("on-hold"), "{page}");
    assert!(!page.contains("check-password"), "{page}");
    let page = ops
        .get(
            env,
            "/staff/decisions?slot=password-policy&outcome=&plugin=&request=",
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("check-password"), "{page}");
    assert!(page.contains(&format!("length&#34;:{n}")), "{page}");
    let agent = Browser::sign_in(env, "agent@vendor.test").await;
    let page = agent.get(env, "/staff/decisions").await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let page = agent
        .get(env, &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("/staff/decisions"), "agents get no link");

    // Retention: by count, then by age.
    let db = &env.server.state.db;
    let total = |db: &helpdesk::db::Db| {
        let db = db.clone();
        async move {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM plugin_decisions")
                .fetch_one(db.pool())
                .await
                .unwrap();
            n
        }
    };
    let before = total(db).await;
    assert!(before > 3, "{before}");
    helpdesk::db::decisions::prune(db, 0, 3).await.unwrap();
    assert_eq!(total(db).await, 3);
    helpdesk::db::decisions::prune(db, helpdesk::db::now_ms() + 1, 1_000)
        .await
        .unwrap();
    assert_eq!(total(db).await, 0);
}
on_both_backends!(logged, every_decision_is_logged);
