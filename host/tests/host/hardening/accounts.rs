//! Accounts under attack: wrong passwords from elsewhere never lock the owner out (they make the
//! account ask for the emailed code), remembered devices are forgotten when the owner says so,
//! one site never gets two automatic Site Administrators, refused page writes say 403, and mail
//! that cannot be delivered stops and is shown to operators.

use crate::accounts::{Env, NEW_PASSWORD, PASSWORD};
use crate::pages::{Browser, env_without_codes};
use crate::requests::Desk;
use crate::support::{TestDb, on_both_backends};
use helpdesk::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// A client whose connections come from `127.0.0.<n>`.
fn from(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn login_from(
    env: &Env,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> (StatusCode, Value) {
    let res = client
        .post(env.server.url("/api/v1/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

async fn failures_elsewhere_never_lock_the_owner_out(t: TestDb) {
    let d = Desk::with(env_without_codes(&t).await).await;
    let env = &d.env;
    let ann = "ann@acme.example";
    let (owner, attacker, second_attacker) = (from(1), from(2), from(3));

    // One address guessing: it backs off; the owner, elsewhere, signs in as usual.
    let mut throttled = false;
    for _ in 0..8 {
        let (s, _) = login_from(env, &attacker, ann, "Wrong-guess1").await;
        throttled |= s == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(throttled, "the guessing address backs off");
    let (s, body) = login_from(env, &attacker, ann, PASSWORD).await;
    assert_eq!(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits there: {body}"
    );
    let (s, body) = login_from(env, &owner, ann, PASSWORD).await;
    assert_eq!(
        (s, body["stage"].as_str()),
        (StatusCode::OK, Some("full")),
        "{body}"
    );

    // Guessing from a second address: the right password now also needs the emailed code.
    let (s, _) = login_from(env, &second_attacker, ann, "Wrong-guess2").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, body) = login_from(env, &owner, ann, PASSWORD).await;
    assert_eq!(
        (s, body["stage"].as_str()),
        (StatusCode::OK, Some("mfa")),
        "{body}"
    );
    let token = body["token"].as_str().unwrap().to_owned();
    let code = env.code(ann, &token).await;
    let (s, body) = env
        .post(
            "/api/v1/login/code/verify",
            Some(&token),
            json!({ "code": code }),
        )
        .await;
    assert_eq!(
        (s, body["stage"].as_str()),
        (StatusCode::OK, Some("full")),
        "{body}"
    );
    // Proving the address clears what the others left.
    let (s, body) = login_from(env, &owner, ann, PASSWORD).await;
    assert_eq!(
        (s, body["stage"].as_str()),
        (StatusCode::OK, Some("full")),
        "{body}"
    );
    let events: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE event = 'login_password_ok'")
            .fetch_all(env.server.state.db.pool())
            .await
            .unwrap();
    assert!(
        events.iter().any(|e| e.contains("several addresses")),
        "the audit log says why the code was asked: {events:?}"
    );
}
on_both_backends!(
    targeted_lockout,
    failures_elsewhere_never_lock_the_owner_out
);

/// Logs in with the code, remembering the device; returns its device token.
async fn remember(env: &Env, email: &str, password: &str) -> String {
    let (s, body) = env
        .post(
            "/api/v1/login",
            None,
            json!({ "email": email, "password": password }),
        )
        .await;
    assert_eq!(
        (s, body["stage"].as_str()),
        (StatusCode::OK, Some("mfa")),
        "{body}"
    );
    let token = body["token"].as_str().unwrap().to_owned();
    let code = env.code(email, &token).await;
    let (s, body) = env
        .post(
            "/api/v1/login/code/verify",
            Some(&token),
            json!({ "code": code, "remember_device": true }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["device_token"].as_str().unwrap().to_owned()
}

async fn stage_with_device(
    env: &Env,
    email: &str,
    password: &str,
    device: &str,
) -> (String, String) {
    let (s, body) = env
        .post(
            "/api/v1/login",
            None,
            json!({ "email": email, "password": password, "device_token": device }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    (
        body["stage"].as_str().unwrap().to_owned(),
        body["token"].as_str().unwrap().to_owned(),
    )
}

async fn remembered_devices_are_forgotten(t: TestDb) {
    let d = Desk::new(&t).await;
    let env = &d.env;
    let bob = "bob@acme.example";
    let device = remember(env, bob, PASSWORD).await;
    let (stage, session) = stage_with_device(env, bob, PASSWORD, &device).await;
    assert_eq!(stage, "full", "a remembered device skips the code");

    // Sign out everywhere: the device must pass the code again.
    let (s, _) = env
        .post("/api/v1/sessions/end-all", Some(&session), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (stage, _) = stage_with_device(env, bob, PASSWORD, &device).await;
    assert_eq!(
        stage, "mfa",
        "signed out everywhere, the device is forgotten"
    );

    // A password reset forgets it too.
    let device = remember(env, bob, PASSWORD).await;
    let (s, _) = env
        .post("/api/v1/password-reset", None, json!({ "email": bob }))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let token = env
        .emailed_token(bob, "Reset your Customer Portal password", "/reset/", 1)
        .await;
    let (s, body) = env
        .post(
            &format!("/api/v1/password-reset/{token}"),
            None,
            json!({ "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (stage, _) = stage_with_device(env, bob, NEW_PASSWORD, &device).await;
    assert_eq!(stage, "mfa", "after a reset, the device is forgotten");
}
on_both_backends!(remembered_devices, remembered_devices_are_forgotten);

/// The first two users of a site approved at the same moment: exactly one becomes its Site
/// Administrator, every time.
async fn concurrent_approvals_make_one_site_administrator(t: TestDb) {
    let env = Env::new(&t).await;
    let operator = env.staff("ops@vendor.test", Role::Operator).await;
    let agent = env.staff("agent@vendor.test", Role::Agent).await;
    for round in 0..6 {
        let domain = format!("round{round}.example");
        let site = env
            .add_site(&format!("Round {round}"), &[&domain], &[])
            .await;
        let mut ids = Vec::new();
        for who in ["first", "second"] {
            let email = format!("{who}@{domain}");
            env.sign_up(&email, who).await;
            let token = env.log_in(&email, PASSWORD).await;
            let (s, body) = env
                .post("/api/v1/me/site", Some(&token), json!({ "site_id": site }))
                .await;
            assert_eq!(s, StatusCode::OK, "{body}");
            ids.push(env.user_id(&email).await);
        }
        let env = &env;
        let approve = |id: i64, by: &str| {
            let (path, by) = (format!("/api/v1/approvals/{id}"), by.to_owned());
            async move { env.post(&path, Some(&by), json!({ "approve": true })).await }
        };
        let (a, b) = tokio::join!(approve(ids[0], &operator), approve(ids[1], &agent));
        assert_eq!((a.0, b.0), (StatusCode::NO_CONTENT, StatusCode::NO_CONTENT));
        let admins: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE site_id = $1 AND role = 'site_admin'",
        )
        .bind(site)
        .fetch_one(env.server.state.db.pool())
        .await
        .unwrap();
        assert_eq!(admins, 1, "round {round}");
    }
}
on_both_backends!(
    one_site_administrator,
    concurrent_approvals_make_one_site_administrator
);

async fn refused_page_writes_answer_403(t: TestDb) {
    let d = Desk::with(env_without_codes(&t).await).await;
    let env = &d.env;
    let agent = Browser::sign_in(env, "agent@vendor.test").await;
    let ann = Browser::sign_in(env, "ann@acme.example").await;
    for (who, path, fields) in [
        (
            &agent,
            "/staff/sites",
            vec![("name", "Sneaky"), ("licences", "1")],
        ),
        (
            &agent,
            "/staff/people/role",
            vec![("email", "ann@acme.example"), ("role", "operator")],
        ),
        (
            &agent,
            "/staff/people/disable",
            vec![("email", "ann@acme.example")],
        ),
        (
            &agent,
            "/staff/quick-links",
            vec![("title", "x"), ("url", "/"), ("role_customer", "on")],
        ),
        (
            &ann,
            "/staff/sites",
            vec![("name", "Sneaky"), ("licences", "1")],
        ),
    ] {
        let res = who.post(env, path, &fields).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let roles: Vec<String> =
        sqlx::query_scalar("SELECT role FROM users WHERE email = 'ann@acme.example'")
            .fetch_all(env.server.state.db.pool())
            .await
            .unwrap();
    assert_eq!(roles, ["site_admin"]);
}
on_both_backends!(page_refusals, refused_page_writes_answer_403);

async fn undeliverable_mail_stops_and_is_shown(t: TestDb) {
    let d = Desk::new(&t).await;
    let env = &d.env;
    // Addresses the mailer could not parse are refused where they enter.
    for bad in [
        "a(b)@acme.example",
        "a..b@acme.example",
        "ann@acme..example",
    ] {
        let (s, body) = env
            .post("/api/v1/signup", None, json!({ "email": bad }))
            .await;
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_email")),
            "{bad}"
        );
    }
    // One already queued (from before this rule) is given up at once, its link cleared.
    let pool = env.server.state.db.pool();
    let mut conn = pool.acquire().await.unwrap();
    let queued = helpdesk::db::outbox::enqueue(
        &mut *conn,
        &helpdesk::db::outbox::NewMail {
            to: "a(b)@acme.example",
            subject: "Your link",
            text: "https://portal.example/secret-link",
            html: "<p>secret</p>",
            request_id: None,
            reply_token: None,
            auto_submitted: "auto-generated",
            created_at: helpdesk::db::now_ms(),
            due_at: helpdesk::db::now_ms(),
        },
    )
    .await
    .unwrap();
    drop(conn);
    // A mailbox the server refuses for good (550): given up after a few tries, not retried for
    // ever.
    env.sink.refuse("gone@acme.example");
    let invited = env
        .post(
            "/api/v1/invitations",
            Some(&d.ann),
            json!({ "email": "gone@acme.example", "given_name": "Gone", "surname": "Away" }),
        )
        .await;
    assert_eq!(invited.0, StatusCode::CREATED, "{}", invited.1);
    let undelivered = || async {
        let (s, body) = env.get("/api/v1/mail/undelivered", Some(&d.operator)).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body["undelivered"].as_array().unwrap().clone()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while undelivered().await.len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            undelivered().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let list = undelivered().await;
    let by_to = |to: &str| list.iter().find(|m| m["to_addr"] == to).unwrap().clone();
    assert_eq!(by_to("a(b)@acme.example")["attempts"], 1);
    let gone = by_to("gone@acme.example");
    assert_eq!(gone["attempts"], 3, "{gone}");
    assert!(
        gone["last_error"].as_str().unwrap().contains("550"),
        "{gone}"
    );
    let bodies: Option<String> = sqlx::query_scalar("SELECT text_body FROM outbox WHERE id = $1")
        .bind(queued)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(bodies, None, "the link is not kept");
    let (s, _) = env.get("/api/v1/mail/undelivered", Some(&d.agent)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "operators only");
    // Mail to others still flows.
    let (s, _) = env
        .post(
            "/api/v1/password-reset",
            None,
            json!({ "email": "bob@acme.example" }),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    env.sink
        .wait("bob@acme.example", "Reset your Customer Portal password", 1)
        .await;
}
on_both_backends!(undeliverable_mail, undeliverable_mail_stops_and_is_shown);
