//! A database outage: with PostgreSQL cut off, every request answers within two seconds with
//! 503 and `Retry-After` (pages too), `/readyz` within one, and the server recovers by itself.
//! The outage is made with a TCP proxy between the server and the shared PostgreSQL, so the
//! database itself keeps serving the other tests.

use crate::accounts::{Env, PASSWORD};
use crate::support::{Backend, Options, SmtpSink, TestDb, TestServer};
use helpdesk::auth::{AuthConfig, MfaPolicy, Role};
use helpdesk::db::Db;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Forwards connections to `upstream` until cut; while cut, refuses new ones and drops the
/// ones it had, as a stopped database does.
struct Proxy {
    port: u16,
    down: Arc<AtomicBool>,
    cut: Arc<Notify>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let cut = Arc::new(Notify::new());
        let (d, c) = (down.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if d.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let (upstream, cut) = (upstream.clone(), c.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.notified() => {}
                    }
                });
            }
        });
        Proxy { port, down, cut }
    }

    fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_fast_and_recovers() {
    let t = TestDb::new(Backend::Postgres).await;
    // The same database, reached through the proxy.
    let (prefix, rest) = t.url.split_once("@").unwrap();
    let (host_port, db_name) = rest.split_once('/').unwrap();
    let proxy = Proxy::start(host_port.to_owned()).await;
    let url = format!("{prefix}@127.0.0.1:{}/{db_name}", proxy.port);
    let db = Db::connect(&url).await.unwrap();
    let sink = SmtpSink::start();
    let server = TestServer::with(
        &db,
        Options {
            smtp: Some(sink.url()),
            auth: AuthConfig {
                mfa: MfaPolicy::Never,
                ..AuthConfig::default()
            },
            ..Options::default()
        },
    )
    .await;
    let env = Env::from_parts(server, sink);
    let token = env.staff("ops@vendor.test", Role::Operator).await;
    let browser = crate::pages::Browser::sign_in(&env, "ops@vendor.test").await;

    proxy.cut();
    let timed = |method: &'static str, path: &'static str, token: Option<String>| {
        let env = &env;
        async move {
            let started = Instant::now();
            let mut req = match method {
                "GET" => env.http.get(env.server.url(path)),
                _ => env.http.post(env.server.url(path)),
            };
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if method == "POST" {
                req = req.json(&json!({ "email": "ops@vendor.test", "password": PASSWORD }));
            }
            let res = req.send().await.unwrap();
            let elapsed = started.elapsed();
            let retry = res.headers().get("retry-after").is_some();
            (res.status(), elapsed, retry)
        }
    };
    let (s, elapsed, _) = timed("GET", "/readyz", None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(elapsed < Duration::from_secs(1), "/readyz took {elapsed:?}");
    eprintln!("outage: /readyz answered 503 in {elapsed:?}");
    for (method, path, token) in [
        ("POST", "/api/v1/login", None),
        ("GET", "/api/v1/me", Some(token.clone())),
        ("GET", "/api/v1/requests", Some(token.clone())),
    ] {
        let (s, elapsed, retry) = timed(method, path, token).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(retry, "{path} says when to retry");
        assert!(elapsed < Duration::from_secs(2), "{path} took {elapsed:?}");
        eprintln!("outage: {method} {path} answered 503 in {elapsed:?}");
    }
    // A page that needs the database is a page saying so.
    let started = Instant::now();
    let page = browser.get(&env, "/dashboard").await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(page.headers().get("retry-after").is_some());
    assert!(page.text().await.unwrap().contains("briefly unavailable"));
    // Ten at once, as clients retrying would.
    let many: Vec<_> = (0..10)
        .map(|_| timed("GET", "/api/v1/me", Some(token.clone())))
        .collect();
    for (s, elapsed, ..) in futures_util::future::join_all(many).await {
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    }

    proxy.restore();
    let restored = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (s, ..) = timed("GET", "/readyz", None).await;
        if s == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "the server recovers by itself");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "outage: ready again {:?} after the database came back",
        restored.elapsed()
    );
    let (s, body) = env.get("/api/v1/me", Some(&token)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    db.close().await;
}
