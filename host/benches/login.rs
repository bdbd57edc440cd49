//! Password logins per second through the HTTP API against raw argon2id verifications per
//! second with the same parameters, in one run. Bar: logins reach at least 85% of the raw rate.
//!
//! `cargo bench -p helpdesk --bench login` (SQLite in a temp dir); set
//! `HELPDESK_BENCH_DATABASE_URL=postgres://…` to measure on PostgreSQL.

mod common;

use helpdesk::auth::password::Hasher;
use helpdesk::db;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Raw and HTTP runs alternate in slices, so drift in the machine's speed hits both alike.
const ROUNDS: u32 = 8;
const SLICE: Duration = Duration::from_secs(2);
const PASSWORD: &str = "Sunny-Day42";

fn main() {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let hasher = Arc::new(Hasher::owasp());
    let hash = hasher.hash(PASSWORD, &mut Default::default());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("runtime");
    let (server, backend) = rt.block_on(server(hasher.clone(), hash.clone()));
    let (mut raw, mut http) = ((0u64, Duration::ZERO), (0u64, Duration::ZERO));
    for _ in 0..ROUNDS {
        let (n, t) = raw_slice(&hasher, &hash, workers);
        raw = (raw.0 + n, raw.1 + t);
        let (n, t) = rt.block_on(http_slice(&server, workers * 8));
        http = (http.0 + n, http.1 + t);
    }
    let raw = raw.0 as f64 / raw.1.as_secs_f64();
    let http = http.0 as f64 / http.1.as_secs_f64();
    println!(
        "argon2id m=19456 t=2 p=1, {workers} cores, {ROUNDS} alternating slices of {} s each",
        SLICE.as_secs()
    );
    println!("raw argon2 verifications: {raw:8.1} /s");
    println!("HTTP logins ({backend}):   {http:8.1} /s");
    println!(
        "logins reach {:.1}% of the raw rate (bar: 85%)",
        100.0 * http / raw
    );
}

/// `workers` threads verifying as fast as they can for one slice.
fn raw_slice(hasher: &Arc<Hasher>, hash: &str, workers: usize) -> (u64, Duration) {
    let done = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..workers)
        .map(|_| {
            let (hasher, hash, done, count) =
                (hasher.clone(), hash.to_owned(), done.clone(), count.clone());
            std::thread::spawn(move || {
                // Each verifier keeps its working memory, as the server's workers do.
                let mut memory = helpdesk::auth::password::Memory::default();
                while !done.load(Ordering::Relaxed) {
                    assert_ne!(
                        hasher.verify(PASSWORD, Some(&hash), &mut memory),
                        helpdesk::auth::password::Verified::Wrong
                    );
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(SLICE);
    done.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("verifier");
    }
    (count.load(Ordering::Relaxed), started.elapsed())
}

/// `clients` concurrent clients logging in for one slice.
async fn http_slice(server: &Server, clients: usize) -> (u64, Duration) {
    let deadline = Instant::now() + SLICE;
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, url, body) = (
                server.client.clone(),
                server.url.clone(),
                server.body.clone(),
            );
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let res = client.post(&url).json(&body).send().await.expect("login");
                    assert_eq!(res.status(), 200);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("client");
    }
    (total, started.elapsed())
}

struct Server {
    client: reqwest::Client,
    url: String,
    body: serde_json::Value,
    _dir: tempfile::TempDir,
}

async fn server(hasher: Arc<Hasher>, hash: String) -> (Server, &'static str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, backend) = common::database(dir.path()).await;
    sqlx::query("DELETE FROM users WHERE email = 'bench@example.test'")
        .execute(db.pool())
        .await
        .expect("clean");
    let user = db::users::NewUser {
        email: "bench@example.test",
        given_name: "Bench",
        surname: "Mark",
        password_hash: Some(&hash),
        role: "customer",
        state: "active",
        site_id: None,
        must_change_password: false,
    };
    db::users::insert(db.pool(), &user, db::now_ms())
        .await
        .expect("user");
    let plugins = common::plugins(&db).await;
    let addr = common::serve(&db, plugins, hasher, dir.path()).await;

    let client = reqwest::Client::new();
    let url = format!("http://{addr}/api/v1/login");
    let body = serde_json::json!({ "email": "bench@example.test", "password": PASSWORD });
    // Warm up connections and caches.
    for _ in 0..4 {
        let res = client.post(&url).json(&body).send().await.expect("login");
        assert_eq!(
            res.status(),
            200,
            "{}",
            res.text().await.unwrap_or_default()
        );
    }
    (
        Server {
            client,
            url,
            body,
            _dir: dir,
        },
        backend,
    )
}
