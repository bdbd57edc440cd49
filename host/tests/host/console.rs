//! The operators' console for plugins. The decision log: every plugin decision on the request
//! path is recorded (a password only as its shape), browsed and filtered by operators in the API
//! and the pages, linked from a request, and pruned by age and count. The slots: what serves,
//! what is installed, what served before; activation and rollback in one action.

use crate::pages::{Browser, env_without_codes};
use crate::requests::Desk;
use crate::support::{TestDb, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// The decisions the API lists for `query`, once they satisfy `ready` (the writer stores
/// decisions a moment after they are made).
async fn decisions(desk: &Desk, query: &str, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..100 {
        let (s, body) = desk
            .env
            .get(&format!("/api/v1/decisions{query}"), Some(&desk.operator))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let list = body["decisions"].as_array().unwrap().clone();
        if ready(&list) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the decisions for {query} never came")
}

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

    // Passwords: the sign-ups' and the check above, each only as its length and classes.
    let checks = decisions(&desk, "?slot=password-policy", |l| {
        l.iter().any(|d| d["input"]["password"]["length"] == 16)
    })
    .await;
    let mine = checks
        .iter()
        .find(|d| d["input"]["password"]["length"] == 16)
        .expect("the check of a 16-character password");
    assert_eq!(mine["function"], "check-password");
    assert_eq!(
        mine["input"]["password"]["classes"],
        json!(["lower", "upper", "digit", "symbol"])
    );
    assert_eq!(mine["answer"]["outcome"], checked["outcome"]);
    assert_eq!(mine["outcome"], "ok");
    assert!(mine["micros"].as_i64().unwrap() > 0);
    assert_eq!(mine["sha256"].as_str().unwrap().len(), 64);
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
    let eligibility = decisions(&desk, "?slot=signup-eligibility", |l| l.len() >= 2).await;
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
            && l.iter().any(|d| d["function"] == "on-event")
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
            .any(|d| d["function"] == "on-event" && d["input"]["event"] == "created")
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
    assert!(page.contains("length&#34;:16"), "{page}");
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

/// The console: every slot with its active plugin, candidates and history; activation and
/// rollback in one action from the API and the pages, operators only, audited.
async fn operators_swap_plugins_from_the_console(t: TestDb) {
    use helpdesk::domain::rules::Slot;
    let desk = Desk::with(env_without_codes(&t).await).await;
    let env = &desk.env;
    let plugins = &env.server.state.plugins;
    let bundled = plugins.active(Slot::PasswordPolicy).unwrap().plugin.id;
    let strict = plugins
        .install(
            &env.server.state.db,
            Slot::PasswordPolicy,
            helpdesk_bundled_plugins::DEFAULTS[0].wasm,
            "min-length = 14\n",
            "cli:test",
            false,
        )
        .await
        .unwrap();

    let (s, body) = env.get("/api/v1/plugins", Some(&desk.operator)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let slots = body["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 3);
    let password = &slots[0];
    assert_eq!(password["slot"], "password-policy");
    assert_eq!(password["active_id"], bundled);
    let installed = password["installed"].as_array().unwrap();
    assert_eq!(installed[0]["id"], strict, "newest first");
    assert_eq!(installed[0]["config"], "min-length = 14\n");
    assert_eq!(installed[0]["installed_by"], "cli:test");
    assert!(installed[0]["size"].as_i64().unwrap() > 10_000);
    assert_eq!(password["history"][0]["plugin_id"], bundled);

    for token in [&desk.agent, &desk.ann] {
        let (s, _) = env.get("/api/v1/plugins", Some(token)).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = env
            .post(
                &format!("/api/v1/plugins/{strict}/activate"),
                Some(token),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        bundled
    );

    let (s, body) = env
        .post(
            &format!("/api/v1/plugins/{strict}/activate"),
            Some(&desk.operator),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "slot": "password-policy", "active_id": strict })
    );
    // This server serves it at once.
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        strict
    );
    let (s, body) = env
        .post(
            &format!("/api/v1/plugins/{strict}/activate"),
            Some(&desk.operator),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    let (s, _) = env
        .post(
            "/api/v1/plugins/999999/activate",
            Some(&desk.operator),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = env
        .post(
            "/api/v1/slots/no-such-slot/rollback",
            Some(&desk.operator),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The page shows it, and rolls it back in one action.
    let ops = Browser::sign_in(env, "ops@vendor.test").await;
    let page = ops.get(env, "/staff/plugins").await.text().await.unwrap();
    assert!(
        page.contains(&format!("<strong>#{strict} password-default")),
        "{page}"
    );
    assert!(page.contains("operator:ops@vendor.test"), "{page}");
    assert!(
        page.contains(&format!("/staff/plugins/{bundled}/activate")),
        "{page}"
    );
    let res = ops
        .post(env, "/staff/slots/password-policy/rollback", &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        bundled
    );
    let page = ops.get(env, &to).await.text().await.unwrap();
    assert!(
        page.contains(&format!("back on plugin #{bundled}")),
        "{page}"
    );
    assert!(
        page.contains(&format!("<strong>#{bundled} password-default")),
        "{page}"
    );
    // Nothing earlier to go back to.
    let res = ops
        .post(env, "/staff/slots/password-policy/rollback", &[])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("no earlier"));
    // A page post without the CSRF token changes nothing.
    let res = ops
        .client
        .post(env.server.url(&format!("/staff/plugins/{strict}/activate")))
        .header("cookie", &ops.cookies)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        bundled
    );

    // Both changes are in the audit log, with the operator.
    let (_, body) = env.get("/api/v1/audit", Some(&desk.operator)).await;
    let events: Vec<(String, String)> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"].as_str().unwrap().starts_with("plugin_"))
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_owned(),
                e["email"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            (
                "plugin_rolled_back".to_owned(),
                "ops@vendor.test".to_owned()
            ),
            ("plugin_activated".to_owned(), "ops@vendor.test".to_owned()),
        ]
    );
}
on_both_backends!(console, operators_swap_plugins_from_the_console);

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
    assert_eq!(body["function"], "on-event");
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

/// Installing by upload, from the API and the pages: the CLI's checks and messages, nothing
/// stored when refused, audited.
async fn operators_install_by_upload(t: TestDb) {
    use helpdesk::domain::rules::Slot;
    use reqwest::multipart::{Form, Part};
    let desk = Desk::with(env_without_codes(&t).await).await;
    let env = &desk.env;
    let plugins = &env.server.state.plugins;
    let db = &env.server.state.db;
    let form = |slot: &str, bytes: &[u8], config: &str, activate: bool| {
        let mut f = Form::new()
            .text("slot", slot.to_owned())
            .part(
                "component",
                Part::bytes(bytes.to_vec()).file_name("plugin.wasm"),
            )
            .text("config", config.to_owned());
        if activate {
            f = f.text("activate", "true");
        }
        f
    };
    let upload = |token: &str, f: Form| {
        let req = env
            .http
            .post(env.server.url("/api/v1/plugins"))
            .bearer_auth(token)
            .multipart(f);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap_or_default())
        }
    };
    let count = || async { helpdesk::db::plugins::installed(db).await.unwrap().len() };
    let password = helpdesk_bundled_plugins::DEFAULTS[0].wasm;
    let installed_before = count().await;

    // Refused before the body is read: a small one, so that the answer can be read.
    let (s, body) = upload(&desk.agent, form("password-policy", b"x", "", true)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (s, body) = upload(
        &desk.operator,
        form("password-policy", b"not a component", "", false),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "plugin_refused");
    let (s, body) = upload(
        &desk.operator,
        form("password-policy", password, "min-length = banana\n", false),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`banana`"),
        "{body}"
    );
    let (s, body) = upload(
        &desk.operator,
        form(
            "password-policy",
            helpdesk_bundled_plugins::DEFAULTS[2].wasm,
            "",
            false,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (s, body) = upload(&desk.operator, Form::new().text("slot", "password-policy")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["details"]["field"], "component");
    assert_eq!(
        count().await,
        installed_before,
        "nothing stored when refused"
    );

    let (s, body) = upload(
        &desk.operator,
        form("password-policy", password, "min-length = 13\n", true),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    assert_eq!(body["name"], "password-default");
    assert_eq!(body["active"], true);
    assert_eq!(plugins.active(Slot::PasswordPolicy).unwrap().plugin.id, id);
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().config,
        "min-length = 13\n"
    );

    // From the page: the token rides in the address, checked before the body is read.
    let ops = Browser::sign_in(env, "ops@vendor.test").await;
    let page = ops.get(env, "/staff/plugins").await.text().await.unwrap();
    assert!(page.contains(r#"enctype="multipart/form-data""#), "{page}");
    let post = |query: String, f: Form| {
        ops.client
            .post(env.server.url(&format!("/staff/plugins{query}")))
            .header("cookie", &ops.cookies)
            .multipart(f)
            .send()
    };
    // Refused before the body is read (a small body, so that the answer can be read).
    let res = post(String::new(), form("password-policy", b"x", "", false))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post(
        format!("?csrf={}", ops.csrf),
        form("password-policy", b"\0asm junk", "", false),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("refused"));
    let res = post(
        format!("?csrf={}", ops.csrf),
        form("password-policy", password, "min-length = 15\n", false),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let page = ops.get(env, &to).await.text().await.unwrap();
    assert!(page.contains("Installed #"), "{page}");
    assert!(page.contains("min-length = 15"), "{page}");
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        id,
        "not activated"
    );

    let (_, body) = env.get("/api/v1/audit", Some(&desk.operator)).await;
    let installs = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "plugin_installed")
        .count();
    assert_eq!(installs, 2);
}
on_both_backends!(install, operators_install_by_upload);

/// Editing a config: a new installation, checked by the plugin, not active, with the
/// difference shown; then activated in one action.
async fn operators_edit_a_config(t: TestDb) {
    use helpdesk::domain::rules::Slot;
    let desk = Desk::with(env_without_codes(&t).await).await;
    let env = &desk.env;
    let plugins = &env.server.state.plugins;
    let db = &env.server.state.db;
    let first = plugins
        .install(
            db,
            Slot::PasswordPolicy,
            helpdesk_bundled_plugins::DEFAULTS[0].wasm,
            "min-length = 12\nmin-classes = 3\n",
            "cli:test",
            true,
        )
        .await
        .unwrap();
    let path = format!("/api/v1/plugins/{first}/config");
    let (s, body) = env
        .post(
            &path,
            Some(&desk.operator),
            json!({ "config": "min-length = 14\nmin-classes = 3\n" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let second = body["id"].as_i64().unwrap();
    assert_ne!(second, first);
    assert_eq!(body["from"], first);
    assert_eq!(
        body["diff"],
        json!([
            "- min-length = 12",
            "+ min-length = 14",
            "  min-classes = 3"
        ])
    );
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        first,
        "not activated"
    );
    let row = helpdesk::db::plugins::get(db, second)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.config, "min-length = 14\nmin-classes = 3\n");
    assert_eq!(row.installed_by, "operator:ops@vendor.test");

    let before = helpdesk::db::plugins::installed(db).await.unwrap().len();
    let (s, body) = env
        .post(
            &path,
            Some(&desk.operator),
            json!({ "config": "min-length = banana\n" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        helpdesk::db::plugins::installed(db).await.unwrap().len(),
        before
    );
    let (s, _) = env
        .post(&path, Some(&desk.agent), json!({ "config": "" }))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // From the Try page: the diff, then Activate.
    let ops = Browser::sign_in(env, "ops@vendor.test").await;
    let page = ops
        .get(env, &format!("/staff/plugins/{first}/try"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("min-length = 12"), "{page}");
    let res = ops
        .post(
            env,
            &format!("/staff/plugins/{first}/config"),
            &[("config", "min-length = 16\r\nmin-classes = 3\r\n")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("- min-length = 12"), "{page}");
    assert!(page.contains("+ min-length = 16"), "{page}");
    let third = helpdesk::db::plugins::installed(db).await.unwrap()[0].id;
    assert!(
        page.contains(&format!("/staff/plugins/{third}/activate")),
        "{page}"
    );
    let res = ops
        .post(env, &format!("/staff/plugins/{third}/activate"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        third
    );
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().config,
        "min-length = 16\nmin-classes = 3\n"
    );
}
on_both_backends!(edit_config, operators_edit_a_config);
