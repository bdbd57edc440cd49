//! The HTTP surface of the foundation: health, readiness and the password-policy API.

use crate::support::{self, TestDb, TestServer, on_both_backends};
use helpdesk::AppState;
use helpdesk::domain::rules::Slot;
use helpdesk_bundled_plugins::fixtures::HOSTILE;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn health_and_readiness(t: TestDb) {
    let server = TestServer::start(&t.db, Duration::from_millis(100)).await;
    let client = support::client();
    let health = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");

    let ready = client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["ready"], true);
    assert_eq!(
        body["plugins"]["password-policy"]["name"],
        "password-default"
    );
    assert_eq!(
        body["plugins"]["ticket-workflow"]["name"],
        "workflow-default"
    );

    let home = client.get(server.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    assert!(
        home.text()
            .await
            .unwrap()
            .contains("<h1>Customer Portal</h1>")
    );
}
on_both_backends!(health, health_and_readiness);

#[tokio::test]
async fn not_ready_until_every_slot_has_a_plugin() {
    let t = TestDb::new(support::Backend::Sqlite).await;
    let router = helpdesk::app(AppState::new(
        t.db.clone(),
        support::plugins(),
        helpdesk::mail::Mailer::new("http://127.0.0.1"),
        Default::default(),
        std::sync::Arc::new(helpdesk::clock::SystemClock),
        support::hasher(),
        helpdesk::requests::files::Files::new(
            std::sync::Arc::new(helpdesk::requests::files::LocalStore::new(
                t.dir.path().join("files"),
            )),
            Default::default(),
            t.dir.path().join("staging"),
            1 << 20,
        ),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let ready = support::client()
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "ready": false, "draining": false, "database": true, "plugins": { "password-policy": null, "signup-eligibility": null, "ticket-workflow": null } })
    );
}

async fn password_policy_api(t: TestDb) {
    let server = TestServer::start(&t.db, Duration::from_millis(100)).await;
    let client = support::client();

    let req: Value = client
        .get(server.url("/api/v1/password-policy"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        req["requirements"]
            .as_str()
            .unwrap()
            .starts_with("Use 8 to 16 characters, with at least 3 of:"),
        "{req}"
    );
    assert_eq!(req["decided_by"]["name"], "password-default");

    let check = |password: &'static str| {
        let client = client.clone();
        let url = server.url("/api/v1/password-policy/check");
        async move {
            client
                .post(url)
                .json(&json!({ "password": password, "email": "Ana@Example.com" }))
                .send()
                .await
                .unwrap()
        }
    };
    let weak = check("abc").await;
    assert_eq!(weak.status(), 200);
    let body: Value = weak.json().await.unwrap();
    assert_eq!(body["outcome"], "rejected");
    let codes: Vec<&str> = body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["too-short", "too-few-classes"]);
    assert_eq!(body["decided_by"]["name"], "password-default");
    assert_eq!(body["decided_by"]["sha256"].as_str().unwrap().len(), 64);

    let good: Value = check("Abcdefg1").await.json().await.unwrap();
    assert_eq!(good["outcome"], "accepted");

    let bad_json = client
        .post(server.url("/api/v1/password-policy/check"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), 400);
    let body: Value = bad_json.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");

    let huge = client
        .post(server.url("/api/v1/password-policy/check"))
        .json(&json!({ "password": "x".repeat(20_000) }))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
}
on_both_backends!(password_api, password_policy_api);

/// A looping password plugin makes password checks fail closed within the deadline, while the
/// rest of the server answers at once; rolling back restores service without a restart.
async fn a_looping_plugin_fails_closed_and_the_server_keeps_serving(t: TestDb) {
    let server = TestServer::start(&t.db, Duration::from_millis(100)).await;
    let plugins = server.state.plugins.clone();
    plugins
        .install(&t.db, Slot::PasswordPolicy, HOSTILE, "loop", "test", true)
        .await
        .unwrap();
    let client = support::client();
    let check_url = server.url("/api/v1/password-policy/check");
    let check = || {
        client
            .post(&check_url)
            .json(&json!({ "password": "Abcdefg1" }))
            .send()
    };

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let resp = check().await.unwrap();
        if resp.status() == 503 {
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rule_unavailable");
            assert!(
                !body.to_string().contains("hostile"),
                "plugin details stay on the server: {body}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the hostile plugin never became active"
        );
    }

    // Eight looping checks at once, and health checks alongside them.
    let started = Instant::now();
    let looping: Vec<_> = (0..8).map(|_| tokio::spawn(check())).collect();
    for _ in 0..20 {
        let t0 = Instant::now();
        let resp = client.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(
            t0.elapsed() < Duration::from_millis(250),
            "health check took {:?}",
            t0.elapsed()
        );
    }
    for handle in looping {
        assert_eq!(handle.await.unwrap().unwrap().status(), 503);
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    plugins
        .rollback(&t.db, Slot::PasswordPolicy, "test")
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let resp = check().await.unwrap();
        if resp.status() == 200 {
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["decided_by"]["name"], "password-default");
            break;
        }
        assert!(Instant::now() < deadline, "rollback never took effect");
    }
}
on_both_backends!(
    hostile_server,
    a_looping_plugin_fails_closed_and_the_server_keeps_serving
);

/// A stopping server (SIGTERM) first turns unready while it still serves, so a proxy moves new
/// requests elsewhere; then it stops accepting, finishes the request in flight, and exits
/// cleanly.
#[tokio::test]
async fn a_stopping_server_drains_before_it_goes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut server = support::Spawned::start(None, &[("HELPDESK_DRAIN_SECONDS", "2")]).await;
    let client = support::client();

    // A request in flight: its headers and half its body are in when the signal comes.
    let body = r#"{"email":"nobody@example.com","password":"not the password"}"#;
    let mut conn = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        server.addr,
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body.as_bytes()[..20]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let signalled = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    // Draining: unready, and still serving.
    let ready = loop {
        let r = client.get(server.url("/readyz")).send().await.unwrap();
        if r.status() == 503 {
            break r.json::<Value>().await.unwrap();
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(1),
            "unready at once"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(ready["draining"], true);
    assert_eq!(ready["ready"], false);
    let page = client.get(server.url("/login")).send().await.unwrap();
    assert_eq!(page.status(), 200, "still served while draining");

    // Then no new connections.
    while client.get(server.url("/healthz")).send().await.is_ok() {
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "stops accepting"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drained = signalled.elapsed();
    assert!(
        drained >= Duration::from_millis(1900),
        "served for the drain: {drained:?}"
    );

    // The request in flight still gets its answer.
    conn.write_all(&body.as_bytes()[20..]).await.unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("invalid_credentials"), "{answer}");

    // And the process ends by itself, cleanly.
    let status = server.exited(Duration::from_secs(20)).await;
    assert!(status.success(), "{status}");
}

/// A proxy in front of a stopping server may have connected just before the server stops
/// accepting (the kernel completed the connection, the server has not taken it yet) and sent
/// its request, or connected a moment earlier and not sent it yet: both get their answer, not
/// a reset, which the proxy could not retry elsewhere for a POST. A connection after the stop is
/// refused, which it can.
#[tokio::test]
async fn connections_made_as_a_server_stops_get_their_answer() {
    use std::io::Write;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: desk\r\nConnection: close\r\n\r\n";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "answered" }));
    let (stop, stopping) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(helpdesk::http::server::serve(
        listener,
        app,
        helpdesk::http::server::Timeouts::default(),
        async move {
            let _ = stopping.await;
        },
    ));

    // Taken by the server, nothing sent yet.
    let mut early = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Completed by the kernel while the server cannot run (this runtime has one thread and the
    // test holds it), each with its request sent: they wait to be taken when the stop comes.
    let waiting: Vec<std::net::TcpStream> = (0..5)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.write_all(GET).unwrap();
            s.set_nonblocking(true).unwrap();
            s
        })
        .collect();
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    early.write_all(GET).await.unwrap();

    let mut conns = vec![early];
    conns.extend(
        waiting
            .into_iter()
            .map(|s| tokio::net::TcpStream::from_std(s).unwrap()),
    );
    for (i, mut conn) in conns.into_iter().enumerate() {
        let mut answer = String::new();
        let read = conn.read_to_string(&mut answer).await;
        assert!(
            read.is_ok() && answer.starts_with("HTTP/1.1 200") && answer.ends_with("answered"),
            "connection {i}: {read:?} {answer:?}"
        );
    }
    server.await.unwrap().unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
