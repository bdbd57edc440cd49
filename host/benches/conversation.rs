//! A long conversation of hostile Markdown: forty 18,000-character messages, each one table of
//! a thousand columns, on one request. Its page must answer in under 100 ms (the bar), and the
//! other people using the desk must not notice it being loaded: another customer's dashboard is
//! timed alone, then while two and four clients reload the heavy page as fast as they can.
//!
//! `cargo bench -p helpdesk --bench conversation` runs on SQLite in a temp dir; set
//! `HELPDESK_BENCH_DATABASE_URL=postgres://…` (an empty database) to measure PostgreSQL.

mod common;

use helpdesk::auth::password::Hasher;
use helpdesk::db;
use helpdesk::requests::generate::{Scale, generate};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const PASSWORD: &str = "Sunny-Day42";
const MESSAGES: usize = 40;
const COLUMNS: usize = 1000;
const SAMPLES: usize = 100;
const BAR: Duration = Duration::from_millis(100);

fn main() {
    common::block_on(run());
}

/// One table of [`COLUMNS`] columns: a header, its rule and seven rows.
fn table() -> String {
    let row = format!("{}|\n", "|x".repeat(COLUMNS));
    let rule = format!("{}|\n", "|-".repeat(COLUMNS));
    format!("{row}{rule}{}", row.repeat(7))
}

async fn run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, backend) = common::database(dir.path()).await;
    let plugins = common::plugins(&db).await;
    let scale = Scale {
        sites: 2,
        customers_per_site: 4,
        agents: 2,
        requests: 200,
        messages: 1000,
        seed: 7,
    };
    let hasher = Arc::new(Hasher::owasp());
    let data = generate(
        &db,
        scale,
        &hasher.hash(PASSWORD, &mut Default::default()),
        db::now_ms(),
    )
    .await
    .expect("generate");
    let addr = common::serve(&db, plugins, hasher, dir.path()).await;
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
    let token = |email: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let body: serde_json::Value = http
                .post(format!("{base}/api/v1/login"))
                .json(&serde_json::json!({ "email": email, "password": PASSWORD }))
                .send()
                .await
                .expect("login")
                .json()
                .await
                .expect("login body");
            body["token"].as_str().expect("token").to_owned()
        }
    };
    let (author, _) = data.customers[1].clone();
    let author_token = token(author).await;
    let body = table();
    let created: serde_json::Value = http
        .post(format!("{base}/api/v1/requests"))
        .bearer_auth(&author_token)
        .json(&serde_json::json!({ "subject": "Tables", "description": body }))
        .send()
        .await
        .expect("raise")
        .json()
        .await
        .expect("raised");
    let id = created["id"].as_i64().expect("request id");
    let started = Instant::now();
    for _ in 1..MESSAGES {
        let res = http
            .post(format!("{base}/api/v1/requests/{id}/messages"))
            .bearer_auth(&author_token)
            .json(&serde_json::json!({ "body": body }))
            .send()
            .await
            .expect("reply");
        assert!(res.status().is_success(), "{}", res.status());
    }
    println!(
        "{backend}: {MESSAGES} messages of {} characters ({COLUMNS}-column tables) written in {:.0} ms",
        body.chars().count(),
        started.elapsed().as_secs_f64() * 1000.0
    );

    let agent = common::page_session(&http, &base, &data.agents[0], PASSWORD).await;
    let other = common::page_session(&http, &base, &data.customers[5].0, PASSWORD).await;
    let page = format!("{base}/requests/{id}");
    let dashboard = format!("{base}/dashboard");
    let client = http.clone();
    let get = move |url: String, cookie: String| {
        let http = client.clone();
        async move {
            let t = Instant::now();
            let res = http
                .get(&url)
                .header("cookie", &cookie)
                .send()
                .await
                .expect("get");
            assert!(res.status().is_success(), "{url}: {}", res.status());
            let len = res.bytes().await.expect("body").len();
            (t.elapsed(), len)
        }
    };

    let (_, size) = get(page.clone(), agent.clone()).await;
    let (times, _) = timed(SAMPLES, || get(page.clone(), agent.clone())).await;
    let (p50, p99) = percentiles(times);
    println!(
        "the request page ({} KiB): p50 {:.1} ms, p99 {:.1} ms {}",
        size >> 10,
        ms(p50),
        ms(p99),
        verdict(p99 <= BAR)
    );

    let (times, _) = timed(SAMPLES, || get(dashboard.clone(), other.clone())).await;
    let (alone50, alone99) = percentiles(times);
    println!(
        "another customer's dashboard alone: p50 {:.1} ms, p99 {:.1} ms",
        ms(alone50),
        ms(alone99)
    );
    for reloaders in [2, 4] {
        let stop = Arc::new(AtomicBool::new(false));
        let mut loads = Vec::new();
        for _ in 0..reloaders {
            let (stop, get, page, agent) = (stop.clone(), get.clone(), page.clone(), agent.clone());
            loads.push(tokio::spawn(async move {
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    get(page.clone(), agent.clone()).await;
                    n += 1;
                }
                n
            }));
        }
        let (times, took) = timed(SAMPLES, || get(dashboard.clone(), other.clone())).await;
        stop.store(true, Ordering::Relaxed);
        let mut reloads = 0;
        for l in loads {
            reloads += l.await.expect("reloader");
        }
        let (p50, p99) = percentiles(times);
        println!(
            "  … while {reloaders} clients reload the page ({:.0} loads/s): p50 {:.1} ms, p99 {:.1} ms",
            f64::from(reloads) / took.as_secs_f64(),
            ms(p50),
            ms(p99)
        );
    }
}

/// Runs `f` `n` times after ten to warm up; the time of each and of them all.
async fn timed<F, Fut>(n: usize, f: F) -> (Vec<Duration>, Duration)
where
    F: Fn() -> Fut,
    Fut: Future<Output = (Duration, usize)>,
{
    for _ in 0..10 {
        f().await;
    }
    let started = Instant::now();
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        times.push(f().await.0);
    }
    (times, started.elapsed())
}

fn percentiles(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "OVER THE BAR" }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
