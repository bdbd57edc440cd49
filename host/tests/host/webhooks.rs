//! Webhooks against a real HTTP receiver this test starts: an operator registers an endpoint,
//! every event on a request reaches it signed (the receiver checks each signature with the
//! secret it was shown once); while the receiver is down, deliveries wait and retry with
//! back-off, and once it is back each arrives exactly once. A redirect is not followed; an
//! endpoint failing for a day is turned off and operators are emailed; a delivery is sent
//! again from its log under a new id. Internal addresses are refused, written or resolved.

use crate::accounts::Env;
use crate::requests::Desk;
use crate::support::{Options, SmtpSink, TestDb, TestServer, on_both_backends};
use axum::http::{HeaderMap, StatusCode as Code};
use helpdesk::auth::{AuthConfig, MfaPolicy};
use helpdesk::clock::Clock;
use helpdesk::webhooks::{Retry, Webhooks, Worker};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long the receiver's `/slow` takes to answer.
const SLOW: Duration = Duration::from_millis(1500);

/// One POST the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Got {
    pub path: String,
    pub event: String,
    pub delivery: i64,
    pub signature: String,
    pub body: String,
}

/// An HTTP receiver on a fixed address, stopped and started again at will.
pub(crate) struct Receiver {
    pub addr: SocketAddr,
    got: Arc<Mutex<Vec<Got>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut r = Receiver {
            addr: listener.local_addr().unwrap(),
            got: Arc::default(),
            stop: None,
        };
        r.serve(listener);
        r
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let got = self.got.clone();
        let record = move |path: &'static str| {
            let got = got.clone();
            move |headers: HeaderMap, body: String| {
                let got = got.clone();
                async move {
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    got.lock().unwrap().push(Got {
                        path: path.into(),
                        event: h("helpdesk-event"),
                        delivery: h("helpdesk-delivery").parse().unwrap_or(-1),
                        signature: h("helpdesk-signature"),
                        body,
                    });
                    if path == "/slow" {
                        tokio::time::sleep(SLOW).await;
                    }
                    if path == "/moved" {
                        (Code::FOUND, [("location", "/hook")]).into_response()
                    } else {
                        Code::NO_CONTENT.into_response()
                    }
                }
            }
        };
        use axum::response::IntoResponse;
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(record("/hook")))
            .route("/moved", axum::routing::post(record("/moved")))
            .route("/slow", axum::routing::post(record("/slow")));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        self.stop = Some(tx);
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
    }

    /// Stops answering: connections to its port are refused.
    async fn down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(self.addr).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the receiver did not stop");
    }

    /// Answers again, on the same address.
    async fn up(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }

    pub fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Whether `got` carries a valid signature of its body under `secret`, checked as a receiver
/// would: `t=<seconds>,v1=<hex HMAC-SHA256 of "t.body">`, and `t` within five minutes of
/// `now_s` when given.
pub(crate) fn signed(got: &Got, secret: &str, now_s: Option<i64>) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in got.signature.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = x.parse::<i64>().ok(),
            Some(("v1", x)) => v1 = hex::decode(x).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    now_s.is_none_or(|now| (now - t).abs() <= 300)
        && ring::hmac::verify(&key, format!("{t}.{}", got.body).as_bytes(), &v1).is_ok()
}

/// A desk whose webhooks may reach this machine (the receiver), with its worker.
pub(crate) async fn desk(t: &TestDb) -> (Desk, Worker) {
    let sink = SmtpSink::start();
    let server = TestServer::with(
        &t.db,
        Options {
            smtp: Some(sink.url()),
            auth: AuthConfig {
                mfa: MfaPolicy::Never,
                ..AuthConfig::default()
            },
            webhook_allow: Some("127.0.0.1".into()),
            ..Options::default()
        },
    )
    .await;
    let d = Desk::with(Env::from_parts(server, sink)).await;
    let w = worker(&d, (*d.env.server.state.console.webhooks).clone());
    (d, w)
}

fn worker(d: &Desk, webhooks: Webhooks) -> Worker {
    let state = &d.env.server.state;
    Worker {
        db: state.db.clone(),
        webhooks: Arc::new(webhooks),
        clock: d.env.server.clock.clone(),
        mailer: state.requests.mailer.clone(),
        retry: Retry::default(),
    }
}

pub(crate) async fn register(d: &Desk, url: &str, events: Value) -> (i64, String) {
    let (s, body) = d
        .env
        .post(
            "/api/v1/webhooks",
            Some(&d.operator),
            json!({ "url": url, "events": events, "description": "CRM" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{body}");
    (body["id"].as_i64().unwrap(), secret)
}

async fn log(d: &Desk, endpoint: i64) -> Vec<Value> {
    log_as(d, &d.operator, endpoint).await
}

async fn log_as(d: &Desk, token: &str, endpoint: i64) -> Vec<Value> {
    let (s, body) = d
        .env
        .get(
            &format!("/api/v1/webhooks/{endpoint}/deliveries"),
            Some(token),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

fn now_s(d: &Desk) -> Option<i64> {
    Some(d.env.server.clock.now_ms() / 1000)
}

async fn every_event_reaches_a_real_receiver_signed_and_once(t: TestDb) {
    let (d, w) = desk(&t).await;
    let mut receiver = Receiver::start().await;
    let (endpoint, secret) = register(&d, &receiver.url("/hook"), json!(["*"])).await;
    // The secret is shown once, and stored sealed: neither the database nor a read shows it.
    let stored: String =
        sqlx::query_scalar("SELECT secret_sealed FROM webhook_endpoints WHERE id = $1")
            .bind(endpoint)
            .fetch_one(t.db.pool())
            .await
            .unwrap();
    assert!(!stored.contains(&secret[6..]));
    let (_, read) = d
        .env
        .get(&format!("/api/v1/webhooks/{endpoint}"), Some(&d.operator))
        .await;
    assert!(read.get("secret").is_none(), "{read}");
    assert_eq!(read["events"], json!(["*"]));

    let id = d.raise(&d.bob, "Printer", "It jams.").await;
    assert!(w.deliver_due().await.unwrap() >= 1);
    let got = receiver.got();
    let created = got.iter().find(|g| g.event == "created").expect("created");
    assert!(signed(created, &secret, now_s(&d)), "{created:?}");
    let body: Value = serde_json::from_str(&created.body).unwrap();
    assert_eq!(body["event"], "created");
    assert_eq!(body["request"]["id"], id);
    assert_eq!(body["request"]["subject"], "Printer");
    assert_eq!(body["request"]["requester"]["email"], "bob@acme.example");
    // A signature under another secret, or over another body, does not pass.
    assert!(!signed(created, "whsec_other", now_s(&d)));
    let forged = Got {
        body: created.body.replace("Printer", "Scanner"),
        ..created.clone()
    };
    assert!(!signed(&forged, &secret, now_s(&d)));
    let delivered = log(&d, endpoint).await;
    assert!(
        delivered
            .iter()
            .all(|x| x["state"] == "delivered" && x["last_status"] == 204),
        "{delivered:?}"
    );

    // The receiver goes down: what happens meanwhile waits, and is tried again with back-off.
    receiver.down().await;
    let before = receiver.got().len();
    let (s, res) = d
        .env
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&d.agent),
            json!({ "body": "Try turning it off and on." }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{res}");
    let tried = w.deliver_due().await.unwrap();
    assert!(tried >= 1);
    let waiting = log(&d, endpoint).await;
    let pending: Vec<&Value> = waiting.iter().filter(|x| x["state"] == "pending").collect();
    assert_eq!(pending.len(), tried, "{waiting:?}");
    assert!(pending.iter().all(|x| x["attempts"] == 1
        && x["last_status"].is_null()
        && x["last_error"].as_str().unwrap().contains("cannot connect")));
    // Not due again before its back-off.
    assert_eq!(w.deliver_due().await.unwrap(), 0);
    let (_, ep) = d
        .env
        .get(&format!("/api/v1/webhooks/{endpoint}"), Some(&d.operator))
        .await;
    assert!(ep["failing_since"].is_i64(), "{ep}");

    // Back up: each waiting delivery arrives once, and the endpoint is no longer failing.
    receiver.up().await;
    d.env.server.clock.advance(Duration::from_secs(10));
    assert_eq!(w.deliver_due().await.unwrap(), tried);
    assert_eq!(w.deliver_due().await.unwrap(), 0);
    let got = receiver.got();
    assert_eq!(got.len(), before + tried);
    let mut ids: Vec<i64> = got.iter().map(|g| g.delivery).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), got.len(), "no delivery id arrived twice");
    assert!(got.iter().any(|g| g.event == "staff-replied"));
    assert!(got.iter().all(|g| signed(g, &secret, now_s(&d))));
    let (_, ep) = d
        .env
        .get(&format!("/api/v1/webhooks/{endpoint}"), Some(&d.operator))
        .await;
    assert!(ep["failing_since"].is_null(), "{ep}");

    // Sent again from the log: a new delivery with its own id and the same body.
    let first = log(&d, endpoint).await.last().unwrap().clone();
    let (s, again) = d
        .env
        .post(
            &format!(
                "/api/v1/webhooks/{endpoint}/deliveries/{}/resend",
                first["id"]
            ),
            Some(&d.operator),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{again}");
    assert_eq!(w.deliver_due().await.unwrap(), 1);
    let last = receiver.got().last().unwrap().clone();
    assert_eq!(last.delivery, again["id"].as_i64().unwrap());
    let original = got
        .iter()
        .find(|g| g.delivery == first["id"].as_i64().unwrap())
        .unwrap();
    assert_eq!(last.body, original.body);
    let (s, _) = d
        .env
        .post(
            &format!("/api/v1/webhooks/{endpoint}/deliveries/999999/resend"),
            Some(&d.operator),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // An endpoint wanting one event hears only that one.
    let (narrow, _) = register(&d, &receiver.url("/hook"), json!(["status-changed"])).await;
    let (s, res) = d
        .env
        .call(
            "PUT",
            &format!("/api/v1/requests/{id}/status"),
            Some(&d.agent),
            Some(json!({ "status": "closed" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{res}");
    w.deliver_due().await.unwrap();
    let narrow_log = log(&d, narrow).await;
    assert!(!narrow_log.is_empty());
    assert!(
        narrow_log.iter().all(|x| x["event"] == "status-changed"),
        "{narrow_log:?}"
    );
    // Slow receivers are waited for side by side: three that take SLOW each hold up the
    // sweep about SLOW, not three times it.
    for _ in 0..3 {
        register(&d, &receiver.url("/slow"), json!(["created"])).await;
    }
    d.raise(&d.bob, "Scanner", "It smudges.").await;
    let started = std::time::Instant::now();
    let tried = w.deliver_due().await.unwrap();
    let took = started.elapsed();
    assert!(tried >= 3);
    assert!(took >= SLOW && took < SLOW * 2, "{took:?}");
    assert_eq!(
        receiver.got().iter().filter(|g| g.path == "/slow").count(),
        3
    );
    // Agents and customers may not manage webhooks.
    for token in [&d.agent, &d.bob] {
        let (s, _) = d.env.get("/api/v1/webhooks", Some(token)).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
}
on_both_backends!(
    deliveries,
    every_event_reaches_a_real_receiver_signed_and_once
);

async fn redirects_failures_and_internal_addresses(t: TestDb) {
    let (d, w) = desk(&t).await;
    let mut receiver = Receiver::start().await;

    // Bad input is refused and registers nothing.
    for (url, events, status) in [
        ("ftp://example.com/x", json!(["*"]), StatusCode::BAD_REQUEST),
        (
            " https://example.com/x",
            json!(["*"]),
            StatusCode::BAD_REQUEST,
        ),
        (
            "HTTPS://example.com/x",
            json!(["*"]),
            StatusCode::BAD_REQUEST,
        ),
        (
            "https://user:pw@example.com/x",
            json!(["*"]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "http://169.254.169.254/latest/meta-data",
            json!(["*"]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "http://[::1]:8080/x",
            json!(["*"]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "http://10.0.0.7/x",
            json!(["*"]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("http://0/x", json!(["*"]), StatusCode::UNPROCESSABLE_ENTITY),
        ("https://example.com/x", json!([]), StatusCode::BAD_REQUEST),
        (
            "https://example.com/x",
            json!(["reopened"]),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (s, body) = d
            .env
            .post(
                "/api/v1/webhooks",
                Some(&d.operator),
                json!({ "url": url, "events": events }),
            )
            .await;
        assert_eq!(s, status, "{url}: {body}");
    }
    let (_, none) = d.env.get("/api/v1/webhooks", Some(&d.operator)).await;
    assert_eq!(none, json!([]));

    // A redirect is a failed attempt; its target is never asked.
    let (moved, _) = register(&d, &receiver.url("/moved"), json!(["created"])).await;
    d.raise(&d.bob, "Printer", "It jams.").await;
    assert_eq!(w.deliver_due().await.unwrap(), 1);
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/moved");
    let entry = &log(&d, moved).await[0];
    assert_eq!(entry["state"], "pending");
    assert_eq!(entry["last_status"], 302);
    assert!(
        entry["last_error"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed")
    );
    let (s, _) = d
        .env
        .call(
            "PUT",
            &format!("/api/v1/webhooks/{moved}/state"),
            Some(&d.operator),
            Some(json!({ "enabled": false })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(log(&d, moved).await[0]["state"], "failed");

    // A name that resolves to this machine is refused by a server that does not allow it,
    // after resolving, and nothing reaches the receiver.
    let by_name = format!("http://localhost:{}/hook", receiver.addr.port());
    let (named, _) = register(&d, &by_name, json!(["created"])).await;
    let strict = worker(
        &d,
        Webhooks {
            sealer: d.env.server.state.console.webhooks.sealer.clone(),
            allow: Vec::new(),
        },
    );
    d.raise(&d.bob, "Scanner", "It smudges.").await;
    assert_eq!(strict.deliver_due().await.unwrap(), 1);
    assert_eq!(receiver.got().len(), 1);
    let entry = &log(&d, named).await[0];
    assert!(
        entry["last_error"].as_str().unwrap().contains("refused"),
        "{entry}"
    );

    // An endpoint failing for a day is turned off, what waits for it given up, and operators
    // are emailed.
    receiver.down().await;
    let clock = d.env.server.clock.clone();
    for _ in 0..30 {
        clock.advance(Duration::from_secs(3600));
        w.deliver_due().await.unwrap();
    }
    // A day and more later, the operator signs in again.
    let ops = d
        .env
        .log_in("ops@vendor.test", crate::accounts::PASSWORD)
        .await;
    let bob = d
        .env
        .log_in("bob@acme.example", crate::accounts::PASSWORD)
        .await;
    let (_, ep) = d
        .env
        .get(&format!("/api/v1/webhooks/{named}"), Some(&ops))
        .await;
    assert_eq!(ep["state"], "disabled", "{ep}");
    assert!(
        ep["disabled_reason"]
            .as_str()
            .unwrap()
            .starts_with("failing since"),
        "{ep}"
    );
    // Operators' alerts see both endpoints off (one by hand, one after failing for a day).
    let metrics = crate::metrics::scrape(&d.env.server).await;
    assert_eq!(
        crate::metrics::value(&metrics, "helpdesk_webhook_endpoints{state=\"disabled\"}"),
        Some(2.0),
        "{metrics}"
    );
    assert!(
        log_as(&d, &ops, named)
            .await
            .iter()
            .all(|x| x["state"] != "pending")
    );
    let mail = d
        .env
        .sink
        .wait("ops@vendor.test", "A webhook endpoint was disabled", 1)
        .await;
    assert!(mail.text.contains(&by_name), "{}", mail.text);
    // Nothing is queued for it while it is off; turned on, it hears events again.
    let before = log_as(&d, &ops, named).await.len();
    d.raise(&bob, "Toner", "Empty.").await;
    assert_eq!(log_as(&d, &ops, named).await.len(), before);
    let (s, on) = d
        .env
        .call(
            "PUT",
            &format!("/api/v1/webhooks/{named}/state"),
            Some(&ops),
            Some(json!({ "enabled": true })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{on}");
    assert_eq!(on["state"], "active");
    d.raise(&bob, "Stapler", "Stuck.").await;
    assert_eq!(log_as(&d, &ops, named).await.len(), before + 1);
    // Removed, with its log.
    let (s, _) = d
        .env
        .call(
            "DELETE",
            &format!("/api/v1/webhooks/{named}"),
            Some(&ops),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = d
        .env
        .get(&format!("/api/v1/webhooks/{named}/deliveries"), Some(&ops))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
on_both_backends!(refusals, redirects_failures_and_internal_addresses);
