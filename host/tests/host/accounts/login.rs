//! Login: failures and back-off, rate limits across replicas, emailed codes, MFA policies,
//! sessions.

use super::*;

async fn login_failures_look_alike_and_back_off(t: TestDb) {
    let env = Env::new(&t).await;
    let site = env.add_site("Acme Mining", &["acme.example"], &[]).await;
    let ops = env.staff("ops@vendor.test", Role::Operator).await;
    env.active_customer("ann@acme.example", site, &ops).await;

    let attempt = |email: &'static str, password: &'static str| {
        let env = &env;
        async move {
            let started = std::time::Instant::now();
            let r = env
                .post(
                    "/api/v1/login",
                    None,
                    json!({ "email": email, "password": password }),
                )
                .await;
            (r, started.elapsed())
        }
    };
    let ((s1, b1), wrong) = attempt("ann@acme.example", "Wrong-Pass1").await;
    let ((s2, b2), unknown) = attempt("nobody@acme.example", "Wrong-Pass1").await;
    assert_eq!((s1, &b1), (s2, &b2), "unknown and wrong answer alike");
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    // The unknown account costs an argon2 verification too.
    assert!(
        unknown * 3 > wrong,
        "unknown {unknown:?} vs wrong {wrong:?}"
    );

    // Five failures in all, then the account backs off, even for the right password.
    for _ in 0..4 {
        attempt("ann@acme.example", "Wrong-Pass1").await;
    }
    let ((s, body), _) = attempt("ann@acme.example", PASSWORD).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts"))
    );
    env.server.clock.advance(Duration::from_secs(31));
    let ((s, _), _) = attempt("ann@acme.example", PASSWORD).await;
    assert_eq!(s, StatusCode::OK);

    // Disabled and rejected accounts cannot log in, even with the right password.
    let ann = env.user_id("ann@acme.example").await;
    let (s, _) = env
        .post(
            &format!("/api/v1/users/{ann}/disable"),
            Some(&ops),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let ((s, body), _) = attempt("ann@acme.example", PASSWORD).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("account_disabled"))
    );
}
on_both_backends!(login_failures, login_failures_look_alike_and_back_off);

async fn rate_limits_hold_across_replicas(t: TestDb) {
    let a = Env::new(&t).await;
    let b = Env::new(&t).await;
    // Per address: three sign-ups an hour, counted in the database whichever replica answers.
    for (i, env) in [&a, &b, &a].into_iter().enumerate() {
        let (s, _) = env
            .post("/api/v1/signup", None, json!({ "email": "x@y.example" }))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "attempt {i}");
    }
    let (s, body) = b
        .post("/api/v1/signup", None, json!({ "email": "x@y.example" }))
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Per IP: twenty an hour.
    for i in 0..16 {
        let env = if i % 2 == 0 { &a } else { &b };
        let (s, _) = env
            .post(
                "/api/v1/signup",
                None,
                json!({ "email": format!("p{i}@y.example") }),
            )
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "attempt {i}");
    }
    let (s, _) = a
        .post("/api/v1/signup", None, json!({ "email": "last@y.example" }))
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // Refused attempts send nothing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(a.sink.to("last@y.example").is_empty() && b.sink.to("last@y.example").is_empty());
    // Resets are limited too.
    for _ in 0..3 {
        a.post(
            "/api/v1/password-reset",
            None,
            json!({ "email": "r@y.example" }),
        )
        .await;
    }
    let (s, _) = b
        .post(
            "/api/v1/password-reset",
            None,
            json!({ "email": "r@y.example" }),
        )
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
}
on_both_backends!(rate_limits, rate_limits_hold_across_replicas);

async fn emailed_codes(t: TestDb) {
    let env = Env::new(&t).await;
    let site = env.add_site("Acme Mining", &["acme.example"], &[]).await;
    let ops = env.staff("ops@vendor.test", Role::Operator).await;
    env.active_customer("ann@acme.example", site, &ops).await;
    let login = || {
        env.post(
            "/api/v1/login",
            None,
            json!({ "email": "ann@acme.example", "password": PASSWORD }),
        )
    };

    // A code lasts ten minutes.
    let (_, body) = login().await;
    let half = body["token"].as_str().unwrap().to_owned();
    // A half-signed-in session reaches nothing else.
    let (s, body) = env.get("/api/v1/sessions", Some(&half)).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("verification_required"))
    );
    let code = env.code("ann@acme.example", &half).await;
    env.server.clock.advance(Duration::from_secs(601));
    let (s, body) = env
        .post(
            "/api/v1/login/code/verify",
            Some(&half),
            json!({ "code": code }),
        )
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("code_unusable"))
    );

    // A resend retires the earlier code.
    let (_, body) = login().await;
    let half = body["token"].as_str().unwrap().to_owned();
    let first = env.code("ann@acme.example", &half).await;
    let mut second = env.code("ann@acme.example", &half).await;
    while second == first {
        second = env.code("ann@acme.example", &half).await;
    }
    let verify = |code: String| {
        let half = half.clone();
        let env = &env;
        async move {
            env.post(
                "/api/v1/login/code/verify",
                Some(&half),
                json!({ "code": code }),
            )
            .await
            .1
        }
    };
    let body = verify(first.clone()).await;
    assert_eq!(
        (
            body["error"]["code"].as_str(),
            body["error"]["details"]["attempts_left"].as_i64()
        ),
        (Some("wrong_code"), Some(4))
    );
    // Five tries per code: after five wrong ones even the right code fails.
    let wrong = ["000000", "111111", "222222"]
        .into_iter()
        .find(|c| *c != first && *c != second)
        .unwrap();
    for left in [3, 2, 1, 0] {
        let body = verify(wrong.to_owned()).await;
        assert_eq!(
            body["error"]["details"]["attempts_left"].as_i64(),
            Some(left),
            "{body}"
        );
    }
    let body = verify(second).await;
    assert_eq!(body["error"]["code"], "code_unusable");

    // The right code rotates the session; a remembered device skips the code next time.
    let (_, body) = login().await;
    let half = body["token"].as_str().unwrap().to_owned();
    let code = env.code("ann@acme.example", &half).await;
    let (s, body) = env
        .post(
            "/api/v1/login/code/verify",
            Some(&half),
            json!({ "code": code, "remember_device": true }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["stage"], "full");
    // Regression: a session that passed the code keeps a full session's lifetime, not the
    // fifteen minutes of the half-way stage.
    let now = helpdesk::clock::Clock::now_ms(&*env.server.clock);
    assert!(
        body["expires_at"].as_i64().unwrap() > now + 11 * 3_600_000,
        "{body}"
    );
    let full = body["token"].as_str().unwrap().to_owned();
    assert_ne!(full, half);
    assert_eq!(
        env.get("/api/v1/me", Some(&half)).await.0,
        StatusCode::UNAUTHORIZED,
        "the pre-code token is dead"
    );
    assert_eq!(env.get("/api/v1/me", Some(&full)).await.0, StatusCode::OK);
    let device = body["device_token"].as_str().unwrap().to_owned();
    let with_device =
        json!({ "email": "ann@acme.example", "password": PASSWORD, "device_token": device });
    let (_, body) = env.post("/api/v1/login", None, with_device.clone()).await;
    assert_eq!(body["stage"], "full");
    env.server.clock.advance(Duration::from_secs(31 * 86_400));
    let (_, body) = env.post("/api/v1/login", None, with_device).await;
    assert_eq!(body["stage"], "mfa", "trust ends after the configured days");
}
on_both_backends!(codes, emailed_codes);

async fn mfa_policy_always_and_never(t: TestDb) {
    let never = Env::with(
        &t,
        AuthConfig {
            mfa: MfaPolicy::Never,
            ..AuthConfig::default()
        },
    )
    .await;
    let site = never.add_site("Acme Mining", &["acme.example"], &[]).await;
    let ops = never.staff("ops@vendor.test", Role::Operator).await;
    never.active_customer("ann@acme.example", site, &ops).await;
    // Started only now: both servers' mail workers share the outbox, and the email that
    // activates Ann must reach `never`'s mailbox, not this server's.
    let always = Env::with(
        &t,
        AuthConfig {
            mfa: MfaPolicy::Always,
            ..AuthConfig::default()
        },
    )
    .await;
    let (_, body) = never
        .post(
            "/api/v1/login",
            None,
            json!({ "email": "ann@acme.example", "password": PASSWORD }),
        )
        .await;
    assert_eq!(body["stage"], "full");
    let (_, body) = always
        .post(
            "/api/v1/login",
            None,
            json!({ "email": "ann@acme.example", "password": PASSWORD }),
        )
        .await;
    assert_eq!(body["stage"], "mfa");
}
on_both_backends!(mfa_policy, mfa_policy_always_and_never);

async fn sessions_expire_and_end_everywhere(t: TestDb) {
    let env = Env::with(
        &t,
        AuthConfig {
            mfa: MfaPolicy::Never,
            ..AuthConfig::default()
        },
    )
    .await;
    let site = env.add_site("Acme Mining", &["acme.example"], &[]).await;
    let ops = env.staff("ops@vendor.test", Role::Operator).await;
    env.active_customer("ann@acme.example", site, &ops).await;
    let envr = &env;
    let login = |stay: bool| async move {
        let (_, body) = envr.post("/api/v1/login", None, json!({ "email": "ann@acme.example", "password": PASSWORD, "stay_logged_in": stay })).await;
        body
    };
    let now = helpdesk::clock::Clock::now_ms(&*env.server.clock);
    let stay = login(true).await;
    assert!(
        (stay["expires_at"].as_i64().unwrap() - now - 30 * 86_400_000).abs() < 60_000,
        "{stay}"
    );
    let brief = login(false).await;
    let (stay, brief) = (
        stay["token"].as_str().unwrap().to_owned(),
        brief["token"].as_str().unwrap().to_owned(),
    );

    // Browser sessions end after two idle hours; "Stay logged in" does not.
    env.server
        .clock
        .advance(Duration::from_secs(2 * 3600 + 120));
    assert_eq!(
        env.get("/api/v1/me", Some(&brief)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(env.get("/api/v1/me", Some(&stay)).await.0, StatusCode::OK);

    // Active browser sessions still end twelve hours after they began.
    let brief = login(false).await["token"].as_str().unwrap().to_owned();
    for _ in 0..11 {
        env.server.clock.advance(Duration::from_secs(3600));
        assert_eq!(env.get("/api/v1/me", Some(&brief)).await.0, StatusCode::OK);
    }
    env.server.clock.advance(Duration::from_secs(3600));
    assert_eq!(
        env.get("/api/v1/me", Some(&brief)).await.0,
        StatusCode::UNAUTHORIZED
    );

    // The sessions list, ending one, then everywhere.
    let other = login(false).await["token"].as_str().unwrap().to_owned();
    let (_, list) = env.get("/api/v1/sessions", Some(&stay)).await;
    let list = list["sessions"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    let other_id = list.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        env.call(
            "DELETE",
            &format!("/api/v1/sessions/{other_id}"),
            Some(&stay),
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        env.get("/api/v1/me", Some(&other)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let other = login(false).await["token"].as_str().unwrap().to_owned();
    let (_, ended) = env
        .post("/api/v1/sessions/end-all", Some(&stay), json!({}))
        .await;
    assert!(ended["ended"].as_u64().unwrap() >= 2, "{ended}");
    assert_eq!(
        env.get("/api/v1/me", Some(&other)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        env.get("/api/v1/me", Some(&stay)).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Logout revokes.
    let token = login(false).await["token"].as_str().unwrap().to_owned();
    assert_eq!(
        env.post("/api/v1/logout", Some(&token), json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        env.get("/api/v1/me", Some(&token)).await.0,
        StatusCode::UNAUTHORIZED
    );
}
on_both_backends!(sessions, sessions_expire_and_end_everywhere);
