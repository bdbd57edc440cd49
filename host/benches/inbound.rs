//! Email in, through a real IMAP server (Dovecot, as the tests start it): how many messages a
//! second go from APPEND to posted (bar: 100/s on either backend), and how long one message
//! takes from APPEND to recorded while the server waits in IDLE (bar: p99 under 2 s).
//!
//! `cargo bench -p helpdesk --bench inbound`; `HELPDESK_BENCH_DATABASE_URL=postgres://…` (an
//! empty database) measures PostgreSQL.

// The HTTP server there is for the other benchmarks.
#[allow(dead_code)]
mod common;

#[path = "../tests/host/support/dovecot.rs"]
#[allow(dead_code)]
mod dovecot;

use helpdesk::AppState;
use helpdesk::auth::AuthConfig;
use helpdesk::auth::password::Hasher;
use helpdesk::clock::SystemClock;
use helpdesk::db::Db;
use helpdesk::mail::Mailer;
use helpdesk::mail::inbound::imap::{Fetcher, ImapSettings};
use helpdesk::requests::files::{Files, LocalStore};
use helpdesk::requests::generate::{Scale, generate};
use helpdesk::requests::mailbox::{MailDesk, TrustFrom};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MESSAGES: usize = 1000;
const LATENCY_SAMPLES: usize = 200;

fn main() {
    common::block_on(run());
}

/// A new request of about 5 KB.
fn message(from: &str, n: usize) -> Vec<u8> {
    let filler = "The conveyor stops after a minute and the panel shows error 42. ".repeat(75);
    format!(
        "From: {from}\r\nTo: support@example.test\r\nSubject: Bench {n}\r\nMessage-ID: <bench-{n}@acme.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMessage {n}.\r\n{filler}\r\n"
    )
    .into_bytes()
}

async fn recorded(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM inbound_mail")
        .fetch_one(db.pool())
        .await
        .expect("count")
}

async fn run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, backend) = common::database(dir.path()).await;
    let plugins = common::plugins(&db).await;
    let g = generate(
        &db,
        Scale {
            sites: 1,
            customers_per_site: 2,
            agents: 1,
            requests: 0,
            messages: 0,
            seed: 7,
        },
        "",
        helpdesk::db::now_ms(),
    )
    .await
    .expect("customers");
    let from = g.customers[1].0.clone();
    let state = AppState::new(
        db.clone(),
        plugins,
        Mailer::new("http://127.0.0.1").reading_replies(),
        AuthConfig::default(),
        Arc::new(SystemClock),
        Arc::new(Hasher::owasp()),
        Files::new(
            Arc::new(LocalStore::new(dir.path().join("files"))),
            Default::default(),
            dir.path().join("staging"),
            256 << 20,
        ),
    );
    let imap = dovecot::Dovecot::start().await;
    let mut settings = ImapSettings::from_url(&imap.url()).expect("imap url");
    settings.poll = Duration::from_secs(60);
    tokio::spawn(
        Fetcher::new(
            settings,
            Arc::new(MailDesk {
                requests: state.requests.clone(),
                domain: "example.test".into(),
                own_address: "portal@example.test".into(),
                per_hour: i64::MAX / 2,
                trust_from: TrustFrom::Always,
                authserv_id: None,
            }),
        )
        .run(std::future::pending()),
    );
    // Let the reader connect and settle into IDLE.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Throughput: 1,000 messages appended as fast as one IMAP connection goes.
    let mut session = imap.session().await;
    let start = Instant::now();
    for n in 0..MESSAGES {
        session
            .append("INBOX", None, None, message(&from, n))
            .await
            .expect("APPEND");
    }
    let appended = start.elapsed();
    while recorded(&db).await < MESSAGES as i64 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let posted = start.elapsed();
    let requests: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM requests")
        .fetch_one(db.pool())
        .await
        .expect("requests");
    assert_eq!(
        requests, MESSAGES as i64,
        "every message opened one request"
    );
    let rate = MESSAGES as f64 / posted.as_secs_f64();
    println!(
        "inbound/{backend}: {MESSAGES} messages of ~5 KB: appended in {:.2} s, all posted after {:.2} s: {rate:.0} messages/s (bar: 100/s)",
        appended.as_secs_f64(),
        posted.as_secs_f64()
    );

    // Latency: one message at a time into a mailbox the reader waits on in IDLE.
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for n in 0..LATENCY_SAMPLES {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let before = recorded(&db).await;
        let start = Instant::now();
        session
            .append("INBOX", None, None, message(&from, MESSAGES + n))
            .await
            .expect("APPEND");
        while recorded(&db).await == before {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        samples.push(start.elapsed());
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "inbound/{backend}: APPEND to recorded with IDLE, {LATENCY_SAMPLES} messages: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (bar: p99 under 2 s)",
        at(0.5).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0,
        samples[samples.len() - 1].as_secs_f64() * 1000.0
    );
    let _ = session.logout().await;
}
