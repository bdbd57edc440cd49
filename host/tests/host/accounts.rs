//! Accounts over the JSON API: sign-up, site choice and activation, login with emailed codes,
//! reset, invitations, sessions, and every security rule, on both backends, with mail read from
//! a real SMTP server.

use crate::support::{self, Options, SmtpSink, TestDb, TestServer, on_both_backends};
use helpdesk::auth::{AuthConfig, MfaPolicy, Role, SiteInput};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

pub const PASSWORD: &str = "Sunny-Day42";
pub const NEW_PASSWORD: &str = "Rainy-Night77";

pub struct Env {
    pub server: TestServer,
    pub sink: SmtpSink,
    pub http: reqwest::Client,
}

impl Env {
    pub async fn new(t: &TestDb) -> Env {
        Env::with(t, AuthConfig::default()).await
    }

    pub fn from_parts(server: TestServer, sink: SmtpSink) -> Env {
        Env {
            server,
            sink,
            http: support::client(),
        }
    }

    pub async fn with(t: &TestDb, auth: AuthConfig) -> Env {
        let sink = SmtpSink::start();
        let server = TestServer::with(
            &t.db,
            Options {
                smtp: Some(sink.url()),
                auth,
                ..Options::default()
            },
        )
        .await;
        Env {
            server,
            sink,
            http: support::client(),
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = self.server.url(path);
        let mut req = match method {
            "GET" => self.http.get(url),
            "POST" => self.http.post(url),
            "PUT" => self.http.put(url),
            "DELETE" => self.http.delete(url),
            other => panic!("method {other}"),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call("POST", path, token, Some(body)).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call("GET", path, token, None).await
    }

    pub async fn add_site(&self, name: &str, domains: &[&str], addresses: &[&str]) -> i64 {
        self.server
            .state
            .accounts
            .save_site(
                None,
                None,
                &SiteInput {
                    name: name.into(),
                    domains: domains.iter().map(|d| d.to_string()).collect(),
                    addresses: addresses.iter().map(|d| d.to_string()).collect(),
                    maintenance_until: Some("2099-12-31".into()),
                    licences: 5,
                },
            )
            .await
            .unwrap()
    }

    /// The token in the `n`th emailed link to `email` whose subject contains `subject`.
    pub async fn emailed_token(&self, email: &str, subject: &str, path: &str, n: usize) -> String {
        let m = self.sink.wait(email, subject, n).await;
        m.link(path).rsplit('/').next().unwrap().to_owned()
    }

    /// Join now → link → Create, all through the API.
    pub async fn sign_up(&self, email: &str, given: &str) {
        let (s, _) = self
            .post("/api/v1/signup", None, json!({ "email": email }))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED);
        let token = self
            .emailed_token(email, "Verify your email", "/join/verify/", 1)
            .await;
        let (s, body) = self
            .post(
                &format!("/api/v1/signup/{token}"),
                None,
                json!({ "password": PASSWORD, "confirm_password": PASSWORD, "given_name": given, "surname": "Tester" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
    }

    /// Sends a code and returns it as read from the mailbox.
    pub async fn code(&self, email: &str, token: &str) -> String {
        let before = self
            .sink
            .to(email)
            .iter()
            .filter(|m| m.subject.contains("verification code"))
            .count();
        let (s, body) = self
            .post("/api/v1/login/code", Some(token), json!({}))
            .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{body}");
        self.sink
            .wait(email, "verification code", before + 1)
            .await
            .code()
    }

    /// Logs in, passing the emailed code when asked; returns the full session's token.
    pub async fn log_in(&self, email: &str, password: &str) -> String {
        let (s, body) = self
            .post(
                "/api/v1/login",
                None,
                json!({ "email": email, "password": password }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let token = body["token"].as_str().unwrap().to_owned();
        if body["stage"] == "full" {
            return token;
        }
        assert_eq!(body["stage"], "mfa");
        let code = self.code(email, &token).await;
        let (s, body) = self
            .post(
                "/api/v1/login/code/verify",
                Some(&token),
                json!({ "code": code }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// A vendor staff account, created as `helpdesk staff add` does, with its password set.
    pub async fn staff(&self, email: &str, role: Role) -> String {
        let link = self
            .server
            .state
            .accounts
            .add_staff(email, role, "Sam", "Staff")
            .await
            .unwrap();
        let token = link.rsplit('/').next().unwrap();
        let (s, body) = self
            .post(
                &format!("/api/v1/invitations/{token}/accept"),
                None,
                json!({ "password": PASSWORD, "confirm_password": PASSWORD }),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        self.log_in(email, PASSWORD).await
    }

    /// Signs up, chooses the site and is approved by `approver`: an active account.
    pub async fn active_customer(&self, email: &str, site: i64, approver: &str) -> String {
        self.sign_up(email, "Casey").await;
        let token = self.log_in(email, PASSWORD).await;
        let (s, body) = self
            .post("/api/v1/me/site", Some(&token), json!({ "site_id": site }))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let id = self.user_id(email).await;
        let (s, body) = self
            .post(
                &format!("/api/v1/approvals/{id}"),
                Some(approver),
                json!({ "approve": true }),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
        self.log_in(email, PASSWORD).await
    }

    pub async fn user_id(&self, email: &str) -> i64 {
        helpdesk::db::users::by_email(self.server.state.db.pool(), email)
            .await
            .unwrap()
            .unwrap()
            .id
    }
}

async fn signup_choose_site_and_activation(t: TestDb) {
    let env = Env::new(&t).await;
    let site = env.add_site("Acme Mining", &["acme.example"], &[]).await;
    let operator = env.staff("ops@vendor.test", Role::Operator).await;

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
        (StatusCode::BAD_REQUEST, Some("invalid_link"))
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
        (StatusCode::BAD_REQUEST, Some("site_not_eligible"))
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
        (StatusCode::BAD_REQUEST, Some("code_unusable"))
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
    let always = Env::with(
        &t,
        AuthConfig {
            mfa: MfaPolicy::Always,
            ..AuthConfig::default()
        },
    )
    .await;
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

async fn password_reset(t: TestDb) {
    let env = Env::new(&t).await;
    let site = env.add_site("Acme Mining", &["acme.example"], &[]).await;
    let ops = env.staff("ops@vendor.test", Role::Operator).await;
    let ann = env.active_customer("ann@acme.example", site, &ops).await;

    let (s1, b1) = env
        .post(
            "/api/v1/password-reset",
            None,
            json!({ "email": "ann@acme.example" }),
        )
        .await;
    let (s2, b2) = env
        .post(
            "/api/v1/password-reset",
            None,
            json!({ "email": "ghost@acme.example" }),
        )
        .await;
    assert_eq!((s1, &b1), (s2, &b2), "same answer for unknown addresses");
    let token = env
        .emailed_token("ann@acme.example", "Reset your", "/reset/", 1)
        .await;
    let (s, _) = env
        .get(&format!("/api/v1/password-reset/{token}"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = env
        .post(
            &format!("/api/v1/password-reset/{token}"),
            None,
            json!({ "password": "weak", "confirm_password": "weak" }),
        )
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password_rejected"))
    );

    // Used at the same moment twice: exactly one wins.
    let body = json!({ "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD });
    let path = format!("/api/v1/password-reset/{token}");
    let (r1, r2) = tokio::join!(
        env.post(&path, None, body.clone()),
        env.post(&path, None, body.clone())
    );
    let mut statuses = [r1.0, r2.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST]);

    // Every session ended; the new password works, the old one does not.
    assert_eq!(
        env.get("/api/v1/me", Some(&ann)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (s, _) = env
        .post(
            "/api/v1/login",
            None,
            json!({ "email": "ann@acme.example", "password": PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    env.log_in("ann@acme.example", NEW_PASSWORD).await;

    // A link lasts an hour.
    env.post(
        "/api/v1/password-reset",
        None,
        json!({ "email": "ann@acme.example" }),
    )
    .await;
    let token = env
        .emailed_token("ann@acme.example", "Reset your", "/reset/", 2)
        .await;
    env.server.clock.advance(Duration::from_secs(3601));
    let (s, body) = env
        .post(
            &format!("/api/v1/password-reset/{token}"),
            None,
            json!({ "password": PASSWORD, "confirm_password": PASSWORD }),
        )
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_link"))
    );

    // A disabled account gets no link at all.
    let id = env.user_id("ann@acme.example").await;
    let (s, body) = env
        .post(
            &format!("/api/v1/users/{id}/disable"),
            Some(&ops),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    let before = env.sink.to("ann@acme.example").len();
    let (s, _) = env
        .post(
            "/api/v1/password-reset",
            None,
            json!({ "email": "ann@acme.example" }),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after: Vec<String> = env
        .sink
        .to("ann@acme.example")
        .into_iter()
        .skip(before)
        .map(|m| m.subject)
        .collect();
    assert!(after.is_empty(), "{after:?}");
}
on_both_backends!(reset, password_reset);

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

async fn invitations(t: TestDb) {
    let env = Env::new(&t).await;
    let acme = env.add_site("Acme Mining", &["acme.example"], &[]).await;
    let other = env.add_site("Other Co", &["other.example"], &[]).await;
    let ops = env.staff("ops@vendor.test", Role::Operator).await;
    let ann = env.active_customer("ann@acme.example", acme, &ops).await;

    // A Site Administrator invites to their own site, whatever site they name.
    let (s, body) = env
        .post("/api/v1/invitations", Some(&ann), json!({ "email": "cy@gmail.example", "given_name": "Cy", "surname": "Doe", "site_id": other }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let cy = body["user_id"].as_i64().unwrap();
    let first = env
        .emailed_token("cy@gmail.example", "Welcome", "/invite/", 1)
        .await;
    assert!(
        env.sink
            .wait("cy@gmail.example", "Welcome", 1)
            .await
            .text
            .contains("Acme Mining")
    );
    // Resend: a new link, and the old one stops working.
    assert_eq!(
        env.post(
            &format!("/api/v1/users/{cy}/resend-invitation"),
            Some(&ann),
            json!({})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let m = env.sink.wait("cy@gmail.example", "Welcome", 2).await;
    let second = m.link("/invite/").rsplit('/').next().unwrap().to_owned();
    assert_ne!(first, second);
    let envr = &env;
    let accept = |token: String| async move {
        envr.post(
            &format!("/api/v1/invitations/{token}/accept"),
            None,
            json!({ "password": PASSWORD, "confirm_password": PASSWORD }),
        )
        .await
    };
    assert_eq!(accept(first).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(accept(second).await.0, StatusCode::OK);
    let cy_token = env.log_in("cy@gmail.example", PASSWORD).await;
    let (_, me) = env.get("/api/v1/me", Some(&cy_token)).await;
    assert_eq!(
        (me["site_id"].as_i64(), me["role"].as_str()),
        (Some(acme), Some("customer"))
    );
    // A customer invites nobody.
    let (s, _) = env
        .post(
            "/api/v1/invitations",
            Some(&cy_token),
            json!({ "email": "x@acme.example", "given_name": "X", "surname": "Y" }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A temporary password must be replaced at first sign-in.
    let (s, _) = env
        .post("/api/v1/invitations", Some(&ops), json!({ "email": "tem@other.example", "given_name": "Tem", "surname": "P", "site_id": other, "mode": "temporary_password" }))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let m = env.sink.wait("tem@other.example", "Welcome", 1).await;
    let temp = m
        .text
        .split("Temporary password: ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let (_, body) = env
        .post(
            "/api/v1/login",
            None,
            json!({ "email": "tem@other.example", "password": temp }),
        )
        .await;
    let half = body["token"].as_str().unwrap().to_owned();
    let code = env.code("tem@other.example", &half).await;
    let (_, body) = env
        .post(
            "/api/v1/login/code/verify",
            Some(&half),
            json!({ "code": code }),
        )
        .await;
    assert_eq!(body["stage"], "password_change");
    let token = body["token"].as_str().unwrap().to_owned();
    let (s, body) = env.get("/api/v1/sessions", Some(&token)).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("password_change_required"))
    );
    let (s, body) = env
        .post(
            "/api/v1/me/password",
            Some(&token),
            json!({ "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!((s, body["stage"].as_str()), (StatusCode::OK, Some("full")));
    assert_eq!(
        env.get("/api/v1/sessions", Some(body["token"].as_str().unwrap()))
            .await
            .0,
        StatusCode::OK
    );

    // Invitation links expire after 72 hours.
    env.post("/api/v1/invitations", Some(&ops), json!({ "email": "late@other.example", "given_name": "La", "surname": "Te", "site_id": other })).await;
    let late = env
        .emailed_token("late@other.example", "Welcome", "/invite/", 1)
        .await;
    env.server.clock.advance(Duration::from_secs(72 * 3600 + 1));
    assert_eq!(accept(late).await.0, StatusCode::BAD_REQUEST);
}
on_both_backends!(invite, invitations);

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
        .hash(PASSWORD);
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
                status != StatusCode::NOT_FOUND || body.contains("\"code\""),
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
