//! Secrets never stored in clear, the audit log, operators' roles and sites, the OpenAPI
//! document, email links and the password-check API.

use super::*;

async fn secrets_hashing_and_audit(t: TestDb) {
    let env = Env::new(&t).await;
    let site = env.add_site("Acme Mining", &["acme.example"], &[]).await;
    let ops = env.staff("ops@vendor.test", Role::Operator).await;
    env.post(
        "/api/v1/signup",
        None,
        json!({ "email": "ann@acme.example" }),
    )
    .await;
    let link_token = env
        .emailed_token("ann@acme.example", "Verify your email", "/join/verify/", 1)
        .await;
    env.post(&format!("/api/v1/signup/{link_token}"), None, json!({ "password": PASSWORD, "confirm_password": PASSWORD, "given_name": "Ann", "surname": "Lee" }))
        .await;
    let (_, body) = env
        .post(
            "/api/v1/login",
            None,
            json!({ "email": "ann@acme.example", "password": PASSWORD }),
        )
        .await;
    let half = body["token"].as_str().unwrap().to_owned();
    let code = env.code("ann@acme.example", &half).await;
    let (_, body) = env
        .post(
            "/api/v1/login/code/verify",
            Some(&half),
            json!({ "code": code }),
        )
        .await;
    let full = body["token"].as_str().unwrap().to_owned();
    env.post("/api/v1/me/site", Some(&full), json!({ "site_id": site }))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // No secret is stored as given: dump every text column of the account tables.
    let mut stored = String::new();
    for table in [
        "users",
        "sessions",
        "email_tokens",
        "mfa_codes",
        "trusted_devices",
        "outbox",
        "audit_log",
        "rate_limits",
    ] {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}")))
            .fetch_all(t.db.pool())
            .await
            .unwrap();
        for row in rows {
            use sqlx::Row;
            for i in 0..row.len() {
                if let Ok(Some(v)) = row.try_get::<Option<String>, _>(i) {
                    stored.push_str(&v);
                    stored.push('\n');
                }
            }
        }
    }
    for secret in [&link_token, &half, &full, &code, &PASSWORD.to_owned()] {
        assert!(
            !stored.contains(secret.as_str()),
            "{secret} is stored in clear"
        );
    }
    // The password hash is argon2id with at least OWASP's parameters.
    let user = helpdesk::db::users::by_email(t.db.pool(), "ann@acme.example")
        .await
        .unwrap()
        .unwrap();
    assert!(
        user.password_hash
            .unwrap()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );

    // A weaker stored hash is upgraded at the next login.
    let weak = helpdesk::auth::password::Hasher::new(8 * 1024, 1, 1)
        .unwrap()
        .hash(PASSWORD, &mut Default::default());
    helpdesk::db::users::set_password(t.db.pool(), user.id, &weak, false, 0)
        .await
        .unwrap();
    sqlx::query("UPDATE users SET state = 'active' WHERE id = $1")
        .bind(user.id)
        .execute(t.db.pool())
        .await
        .unwrap();
    env.post(
        "/api/v1/login",
        None,
        json!({ "email": "ann@acme.example", "password": PASSWORD }),
    )
    .await;
    let user = helpdesk::db::users::by_id(t.db.pool(), user.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        user.password_hash
            .unwrap()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );

    // Operators read the audit log; customers do not.
    env.post(
        "/api/v1/login",
        None,
        json!({ "email": "ann@acme.example", "password": "Wrong-Pass1" }),
    )
    .await;
    let (s, body) = env.get("/api/v1/audit?limit=100", Some(&ops)).await;
    assert_eq!(s, StatusCode::OK);
    let events: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for e in [
        "signup_started",
        "signup_completed",
        "login_password_ok",
        "mfa_code_sent",
        "mfa_verified",
        "site_chosen",
        "login_failed",
        "staff_added",
        "invitation_accepted",
    ] {
        assert!(events.contains(&e), "{e} missing from {events:?}");
    }
    let (s, _) = env.get("/api/v1/audit", Some(&full)).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "site chosen: the waiting account's session ended"
    );
}
on_both_backends!(secrets, secrets_hashing_and_audit);

async fn roles_and_sites_by_operators(t: TestDb) {
    let env = Env::new(&t).await;
    let ops = env.staff("ops@vendor.test", Role::Operator).await;
    let agent = env.staff("agent@vendor.test", Role::Agent).await;
    let site = json!({ "name": "Acme Mining", "domains": ["Acme.Example"], "maintenance_until": "2030-01-31", "licences": 3 });
    let (s, body) = env.post("/api/v1/sites", Some(&agent), site.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (s, body) = env.post("/api/v1/sites", Some(&ops), site.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (s, body) = env.post("/api/v1/sites", Some(&ops), site).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    let (s, body) = env
        .call(
            "PUT",
            &format!("/api/v1/sites/{id}"),
            Some(&ops),
            Some(json!({ "name": "Acme Mining", "maintenance_until": "31/01/2030" })),
        )
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_maintenance_until"))
    );
    let (_, body) = env.get("/api/v1/sites", Some(&agent)).await;
    assert_eq!(
        body["sites"][0]["domains"],
        json!(["acme.example"]),
        "unchanged by the bad update"
    );
    assert_eq!(body["sites"][0]["maintenance_until"], "2030-01-31");

    let agent_id = env.user_id("agent@vendor.test").await;
    let (s, _) = env
        .post(
            &format!("/api/v1/users/{agent_id}/role"),
            Some(&agent),
            json!({ "role": "operator" }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = env
        .post(
            &format!("/api/v1/users/{agent_id}/role"),
            Some(&ops),
            json!({ "role": "operator" }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, me) = env.get("/api/v1/me", Some(&agent)).await;
    assert_eq!(me["role"], "operator");
    let (_, audit) = env.get("/api/v1/audit", Some(&ops)).await;
    assert!(
        audit["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "role_changed" && e["detail"] == "agent -> operator")
    );
}
on_both_backends!(operators, roles_and_sites_by_operators);

#[tokio::test]
async fn openapi_lists_only_routes_that_exist() {
    let t = TestDb::new(support::Backend::Sqlite).await;
    let env = Env::new(&t).await;
    let (s, doc) = env.get("/api/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 25);
    for (path, methods) in paths {
        for method in methods.as_object().unwrap().keys() {
            let concrete = path
                .replace("{token}", "0")
                .replace("{id}", "0")
                .replace("{user_id}", "0")
                .replace("{file}", "0");
            let res = support::client()
                .request(
                    method.to_uppercase().parse().unwrap(),
                    env.server.url(&concrete),
                )
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body = res.text().await.unwrap();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !body.contains("\"unknown_route\""),
                "{method} {path} is not routed"
            );
        }
    }
}

#[tokio::test]
async fn email_links_use_the_public_url_not_the_host_header() {
    let t = TestDb::new(support::Backend::Sqlite).await;
    let sink = SmtpSink::start();
    let server = TestServer::with(
        &t.db,
        Options {
            smtp: Some(sink.url()),
            public_url: Some("https://portal.example.test".into()),
            ..Options::default()
        },
    )
    .await;
    let res = support::client()
        .post(server.url("/api/v1/signup"))
        .header("host", "evil.example")
        .json(&json!({ "email": "a@b.example" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let m = sink.wait("a@b.example", "Verify", 1).await;
    assert!(
        m.link("/join/verify/")
            .starts_with("https://portal.example.test/join/verify/")
    );
    assert!(!m.text.contains("evil.example") && !m.html.contains("evil.example"));
}

#[tokio::test]
async fn the_password_check_api_is_rate_limited() {
    let t = TestDb::new(support::Backend::Sqlite).await;
    let mut auth = AuthConfig::default();
    auth.limits.password_checks_per_ip = helpdesk::auth::limits::Limit::new(3, 60_000);
    let env = Env::with(&t, auth).await;
    for _ in 0..3 {
        let (s, body) = env
            .post(
                "/api/v1/password-policy/check",
                None,
                json!({ "password": "abc" }),
            )
            .await;
        assert_eq!(
            (s, body["outcome"].as_str()),
            (StatusCode::OK, Some("rejected"))
        );
    }
    let res = support::client()
        .post(env.server.url("/api/v1/password-policy/check"))
        .json(&json!({ "password": "abc" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}
