//! Sign-up, site choice and activation; visitors who may not join learn nothing.

use super::*;

async fn signup_choose_site_and_activation(t: TestDb) {
    let env = Env::new(&t).await;
    let site = env.add_site("Acme Mining", &["acme.example"], &[]).await;
    let operator = env.staff("ops@vendor.test", Role::Operator).await;
    env.staff("al@vendor.test", Role::Agent).await;

    // Join now: the verification email carries the link; the page behind it says eligible.
    let (s, body) = env
        .post(
            "/api/v1/signup",
            None,
            json!({ "email": " Ann@Acme.Example " }),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let sent = body.clone();
    let mail = env
        .sink
        .wait("ann@acme.example", "Verify your email", 1)
        .await;
    assert_eq!(mail.from, "portal@example.test");
    assert!(
        mail.html
            .contains("Click here to verify your email and sign up")
    );
    assert!(
        mail.raw.contains("multipart/alternative"),
        "a plain-text and an HTML part"
    );
    let token = mail
        .link("/join/verify/")
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let (s, body) = env.get(&format!("/api/v1/signup/{token}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["email"], "ann@acme.example");
    assert_eq!(body["eligible"], true);
    assert!(
        body["password_requirements"]
            .as_str()
            .unwrap()
            .contains("8")
    );

    // Every violation is listed, and the confirmation is checked too.
    let (s, body) = env
        .post(&format!("/api/v1/signup/{token}"), None, json!({ "password": "short", "confirm_password": "other", "given_name": "Ann", "surname": "Lee" }))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "password_rejected");
    let codes: Vec<&str> = body["error"]["details"]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert!(codes.len() >= 2, "{codes:?}");
    assert!(codes.contains(&"confirmation-mismatch"), "{codes:?}");
    assert!(
        helpdesk::db::users::by_email(t.db.pool(), "ann@acme.example")
            .await
            .unwrap()
            .is_none()
    );

    let (s, _) = env
        .post(&format!("/api/v1/signup/{token}"), None, json!({ "password": PASSWORD, "confirm_password": PASSWORD, "given_name": "Ann", "surname": "Lee" }))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // The link was single-use.
    let (s, body) = env
        .post(&format!("/api/v1/signup/{token}"), None, json!({ "password": PASSWORD, "confirm_password": PASSWORD, "given_name": "Ann", "surname": "Lee" }))
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("invalid_link"))
    );

    // Joining again with the same address: same answer, and an email saying so.
    let (s, body) = env
        .post(
            "/api/v1/signup",
            None,
            json!({ "email": "ann@acme.example" }),
        )
        .await;
    assert_eq!((s, &body), (StatusCode::ACCEPTED, &sent));
    env.sink.wait("ann@acme.example", "already have", 1).await;

    // First login: emailed code, then the site list.
    let ann = env.log_in("ann@acme.example", PASSWORD).await;
    let (_, me) = env.get("/api/v1/me", Some(&ann)).await;
    assert_eq!(
        (me["state"].as_str(), me["stage"].as_str()),
        (Some("choosing_site"), Some("full"))
    );
    let (_, sites) = env.get("/api/v1/me/sites", Some(&ann)).await;
    assert_eq!(
        sites["sites"],
        json!([{ "id": site, "name": "Acme Mining" }])
    );
    let (s, body) = env
        .post(
            "/api/v1/me/site",
            Some(&ann),
            json!({ "site_id": site + 1000 }),
        )
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("site_not_eligible"))
    );
    let (s, _) = env
        .post("/api/v1/me/site", Some(&ann), json!({ "site_id": site }))
        .await;
    assert_eq!(s, StatusCode::OK);

    // Waiting for activation: no login; vendor staff were told, as the site has no admin.
    let (s, body) = env
        .post(
            "/api/v1/login",
            None,
            json!({ "email": "ann@acme.example", "password": PASSWORD }),
        )
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("awaiting_activation"))
    );
    env.sink
        .wait("ops@vendor.test", "waiting for activation", 1)
        .await;
    // Operators decide on a new site's first user; agents are not emailed about it (the
    // outbox, written with the operator's email, holds nothing for the agent).
    let to_agent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE to_addr = 'al@vendor.test' AND subject LIKE '%activation%'")
        .fetch_one(env.server.state.db.pool())
        .await
        .unwrap();
    assert_eq!(to_agent, 0);
    let (_, pending) = env.get("/api/v1/approvals", Some(&operator)).await;
    assert_eq!(pending["pending"][0]["email"], "ann@acme.example");
    assert_eq!(pending["pending"][0]["site_name"], "Acme Mining");
    let ann_id = env.user_id("ann@acme.example").await;
    let (s, _) = env
        .post(
            &format!("/api/v1/approvals/{ann_id}"),
            Some(&operator),
            json!({ "approve": true }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    env.sink.wait("ann@acme.example", "is active", 1).await;
    let ann = env.log_in("ann@acme.example", PASSWORD).await;
    let (_, me) = env.get("/api/v1/me", Some(&ann)).await;
    assert_eq!(
        (me["role"].as_str(), me["state"].as_str()),
        (Some("site_admin"), Some("active"))
    );

    // The second user of the site is approved by the first, who is emailed.
    env.sign_up("bob@acme.example", "Bob").await;
    let bob = env.log_in("bob@acme.example", PASSWORD).await;
    env.post("/api/v1/me/site", Some(&bob), json!({ "site_id": site }))
        .await;
    env.sink
        .wait("ann@acme.example", "waiting for activation", 1)
        .await;
    let bob_id = env.user_id("bob@acme.example").await;
    let (_, pending) = env.get("/api/v1/approvals", Some(&ann)).await;
    assert_eq!(pending["pending"].as_array().unwrap().len(), 1);
    let (s, _) = env
        .post(
            &format!("/api/v1/approvals/{bob_id}"),
            Some(&ann),
            json!({ "approve": true }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let bob = env.log_in("bob@acme.example", PASSWORD).await;
    let (_, me) = env.get("/api/v1/me", Some(&bob)).await;
    assert_eq!(
        (me["role"].as_str(), me["state"].as_str()),
        (Some("customer"), Some("active"))
    );
    // A customer approves nobody.
    let (s, _) = env.get("/api/v1/approvals", Some(&bob)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
on_both_backends!(signup_and_activation, signup_choose_site_and_activation);

async fn ineligible_visitors_learn_nothing(t: TestDb) {
    let env = Env::new(&t).await;
    env.add_site("Acme Mining", &["acme.example"], &["pat@gmail.example"])
        .await;
    env.add_site("Lapsed Ltd", &["lapsed.example"], &[]).await;
    sqlx::query("UPDATE sites SET maintenance_until = '2001-01-01' WHERE name = 'Lapsed Ltd'")
        .execute(t.db.pool())
        .await
        .unwrap();

    for (email, eligible) in [
        ("pat@gmail.example", true),
        ("kim@gmail.example", false),
        ("lee@lapsed.example", false),
        ("joe@nowhere.example", false),
    ] {
        let (s, body) = env
            .post("/api/v1/signup", None, json!({ "email": email }))
            .await;
        assert_eq!(
            s,
            StatusCode::ACCEPTED,
            "{email}: the answer never depends on the address"
        );
        assert_eq!(body["message"], helpdesk_signup_sent());
        let token = env
            .emailed_token(email, "Verify your email", "/join/verify/", 1)
            .await;
        let (_, body) = env.get(&format!("/api/v1/signup/{token}"), None).await;
        assert_eq!(body["eligible"], eligible, "{email}");
        if !eligible {
            let (s, body) = env
                .post(&format!("/api/v1/signup/{token}"), None, json!({ "password": PASSWORD, "confirm_password": PASSWORD, "given_name": "A", "surname": "B" }))
                .await;
            assert_eq!(
                (s, body["error"]["code"].as_str()),
                (StatusCode::FORBIDDEN, Some("not_eligible"))
            );
            assert!(!body["error"]["message"].as_str().unwrap().contains("Acme"));
            assert!(
                helpdesk::db::users::by_email(t.db.pool(), email)
                    .await
                    .unwrap()
                    .is_none()
            );
        }
    }
    let (s, body) = env
        .post("/api/v1/signup", None, json!({ "email": "not an address" }))
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_email"))
    );
}
on_both_backends!(ineligible, ineligible_visitors_learn_nothing);

fn helpdesk_signup_sent() -> &'static str {
    "Check your email: we have sent a message to that address with the next step."
}

/// Where the eligibility plugin asks for a review, the sign-up goes to a queue operators work:
/// approved for a site, the person signs in; refused, they cannot. Both are emailed, audited.
async fn sign_ups_to_review_wait_for_an_operator(t: TestDb) {
    let env = Env::new(&t).await;
    let site = env.add_site("Acme Mining", &["acme.example"], &[]).await;
    let operator = env.staff("ops@vendor.test", Role::Operator).await;
    let agent = env.staff("al@vendor.test", Role::Agent).await;
    let plugins = &env.server.state.plugins;
    plugins
        .install(
            &t.db,
            helpdesk::domain::rules::Slot::SignupEligibility,
            helpdesk_bundled_plugins::DEFAULTS[1].wasm,
            "review-unregistered = true",
            "test",
            true,
        )
        .await
        .unwrap();

    for (email, name) in [
        ("kim@unknown.example", "Kim"),
        ("lou@unknown.example", "Lou"),
    ] {
        let (s, _) = env
            .post("/api/v1/signup", None, json!({ "email": email }))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED);
        let token = env
            .emailed_token(email, "Verify your email", "/join/verify/", 1)
            .await;
        let (s, body) = env.get(&format!("/api/v1/signup/{token}"), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            (body["eligible"].clone(), body["review"].clone()),
            (json!(true), json!(true))
        );
        let (s, body) = env
            .post(&format!("/api/v1/signup/{token}"), None, json!({ "password": PASSWORD, "confirm_password": PASSWORD, "given_name": name, "surname": "Tester" }))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        assert_eq!(body["review"], true, "{body}");
        // Waiting: no session.
        let (s, body) = env
            .post(
                "/api/v1/login",
                None,
                json!({ "email": email, "password": PASSWORD }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error"]["code"], "awaiting_activation");
    }
    // Operators are emailed, with the plugin's reason.
    let told = env
        .sink
        .wait("ops@vendor.test", "Sign-up to review", 2)
        .await;
    assert!(told.text.contains("unknown.example"), "{}", told.text);
    assert!(told.link("/approvals").ends_with("/approvals"));

    // The queue is the operators'.
    let (s, _) = env.get("/api/v1/signup-reviews", Some(&agent)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, body) = env.get("/api/v1/signup-reviews", Some(&operator)).await;
    assert_eq!(s, StatusCode::OK);
    let reviews = body["reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 2, "{body}");
    assert!(
        reviews[0]["reason"]
            .as_str()
            .unwrap()
            .contains("unknown.example")
    );
    let kim = env.user_id("kim@unknown.example").await;
    let lou = env.user_id("lou@unknown.example").await;

    // Approving needs a site; then Kim joins it (its first person: Site Administrator).
    let (s, body) = env
        .post(
            &format!("/api/v1/signup-reviews/{kim}"),
            Some(&operator),
            json!({ "approve": true }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (s, body) = env
        .post(
            &format!("/api/v1/signup-reviews/{kim}"),
            Some(&operator),
            json!({ "approve": true, "site_id": site }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    env.sink
        .wait("kim@unknown.example", "account is active", 1)
        .await;
    let kim_token = env.log_in("kim@unknown.example", PASSWORD).await;
    let (_, me) = env.get("/api/v1/me", Some(&kim_token)).await;
    assert_eq!(
        (me["role"].clone(), me["site_id"].clone()),
        (json!("site_admin"), json!(site)),
        "{me}"
    );
    // Decided once.
    let (s, _) = env
        .post(
            &format!("/api/v1/signup-reviews/{kim}"),
            Some(&operator),
            json!({ "approve": false }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Refused: Lou is told and cannot sign in.
    let (s, body) = env
        .post(
            &format!("/api/v1/signup-reviews/{lou}"),
            Some(&operator),
            json!({ "approve": false }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    env.sink
        .wait("lou@unknown.example", "sign-up was not approved", 1)
        .await;
    let (s, _) = env
        .post(
            "/api/v1/login",
            None,
            json!({ "email": "lou@unknown.example", "password": PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Each step is in the audit log.
    let (_, audit) = env.get("/api/v1/audit?limit=500", Some(&operator)).await;
    let events: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for e in [
        "signup_needs_review",
        "signup_review_approved",
        "signup_review_refused",
    ] {
        assert!(events.contains(&e), "{e}: {events:?}");
    }
    let (_, body) = env.get("/api/v1/signup-reviews", Some(&operator)).await;
    assert_eq!(body["reviews"], json!([]));
}
on_both_backends!(review, sign_ups_to_review_wait_for_an_operator);
