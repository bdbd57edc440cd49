//! Behind a reverse proxy: a trusted proxy's word about the client is taken, so each client
//! is counted against its own address and seen in its sessions; anyone else's forwarding
//! headers are ignored, so nobody picks the address they are counted against. Over https every
//! answer asks browsers to keep to https (HSTS).

use crate::accounts::{Env, PASSWORD};
use crate::support::{Options, SmtpSink, TestDb, TestServer, on_both_backends};
use helpdesk::auth::limits::Limit;
use helpdesk::auth::{AuthConfig, MfaPolicy, Role};
use reqwest::StatusCode;
use serde_json::json;

async fn env(t: &TestDb, trusted: Option<&str>, public_url: Option<&str>) -> Env {
    let sink = SmtpSink::start();
    let mut auth = AuthConfig {
        mfa: MfaPolicy::Never,
        ..AuthConfig::default()
    };
    auth.limits.login_per_ip = Limit::new(3, 15 * 60 * 1000);
    let server = TestServer::with(
        &t.db,
        Options {
            smtp: Some(sink.url()),
            auth,
            trusted_proxies: trusted.map(str::to_owned),
            public_url: public_url.map(str::to_owned),
            ..Options::default()
        },
    )
    .await;
    Env::from_parts(server, sink)
}

/// Logs in as `email` with `password`, the proxy saying the client is `client`.
async fn log_in(
    env: &Env,
    client: &str,
    email: &str,
    password: &str,
) -> (StatusCode, serde_json::Value) {
    let res = env
        .http
        .post(env.server.url("/api/v1/login"))
        .header("x-forwarded-for", client)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or_default())
}

async fn clients_behind_a_trusted_proxy_are_told_apart(t: TestDb) {
    let env = env(&t, Some("127.0.0.1, ::1"), None).await;
    env.staff("ops@vendor.test", Role::Operator).await;

    // One client guessing passwords runs out of attempts; another, through the same proxy,
    // signs in.
    for _ in 0..3 {
        let (s, _) = log_in(&env, "203.0.113.7", "ops@vendor.test", "wrong guess 1").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, body) = log_in(&env, "203.0.113.7", "ops@vendor.test", PASSWORD).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Every address of one IPv6 /64 is one client: a new address there buys no attempts.
    env.staff("agent@vendor.test", Role::Agent).await;
    for host in 1..=3 {
        let client = format!("2001:db8:7:7::{host}");
        let (s, _) = log_in(&env, &client, "agent@vendor.test", "wrong guess 1").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, body) = log_in(&env, "2001:db8:7:7:ab::9", "agent@vendor.test", PASSWORD).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let (s, body) = log_in(&env, "2001:db8:7:8::1", "agent@vendor.test", PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "another /64 is another client: {body}");
    let (s, body) = log_in(
        &env,
        "198.51.100.20, 127.0.0.1",
        "ops@vendor.test",
        PASSWORD,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();

    // The session records the client's address, not the proxy's.
    let (s, sessions) = env.get("/api/v1/sessions", Some(&token)).await;
    assert_eq!(s, StatusCode::OK);
    let current: Vec<&str> = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["current"] == true)
        .map(|s| s["ip"].as_str().unwrap())
        .collect();
    assert_eq!(current, ["198.51.100.20"], "{sessions}");

    // Plain http: no HSTS.
    let res = env.http.get(env.server.url("/login")).send().await.unwrap();
    assert!(res.headers().get("strict-transport-security").is_none());
}

on_both_backends!(trusted_proxy, clients_behind_a_trusted_proxy_are_told_apart);

async fn forwarding_headers_from_anyone_else_are_ignored(t: TestDb) {
    // The proxy list does not hold this machine: the headers are somebody's claim.
    let env = env(&t, Some("10.9.0.0/16"), Some("https://portal.example.test")).await;
    // Setting up signs the operator in once from this machine: the first of its 3 attempts.
    env.staff("ops@vendor.test", Role::Operator).await;
    for client in ["203.0.113.1", "203.0.113.2"] {
        let (s, _) = log_in(&env, client, "ops@vendor.test", "wrong guess 1").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, _) = log_in(&env, "203.0.113.4", "ops@vendor.test", PASSWORD).await;
    assert_eq!(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "a new X-Forwarded-For does not buy new attempts"
    );

    // Over https, every answer carries HSTS.
    let res = env.http.get(env.server.url("/login")).send().await.unwrap();
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let res = env
        .http
        .get(env.server.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}

on_both_backends!(
    untrusted_peer,
    forwarding_headers_from_anyone_else_are_ignored
);
