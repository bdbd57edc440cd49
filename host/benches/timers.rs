//! The timer sweep at scale: among 100,000 requests (1,000,000 with `HELPDESK_BENCH_SCALE=10`),
//! 10,000 timers are due and 100,000 more are set for later. One server's sweep fires every due
//! timer, each asking the workflow (a 0.4 workflow that closes the request) and applying its
//! answer, with its decisions logged as a server logs them; the bar is under a second on
//! PostgreSQL. Then a sweep with nothing due, which must
//! cost what is due (nothing), not what exists.
//!
//! `cargo bench -p helpdesk --bench timers`; `HELPDESK_BENCH_DATABASE_URL=postgres://…` (an
//! empty database) for PostgreSQL; `HELPDESK_BENCH_SCALE` and `HELPDESK_BENCH_MESSAGES` as for
//! the `requests` benchmark.

mod common;

use helpdesk::auth::password::Hasher;
use helpdesk::db;
use helpdesk::domain::rules::Slot;
use helpdesk::requests::generate::generate;
use helpdesk_bundled_plugins::fixtures::WORKFLOW_RENEWALS;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DUE: i64 = 10_000;
const LATER: i64 = 100_000;
const BAR: Duration = Duration::from_secs(1);

fn main() {
    common::block_on(run());
}

async fn run() {
    let (dir, db, backend, plugins) = common::setup().await;
    let scale = common::scale(DUE as usize);
    let requests = scale.requests;
    let hasher = Arc::new(Hasher::owasp());
    let started = Instant::now();
    generate(&db, scale, "unused", db::now_ms())
        .await
        .expect("generate");
    println!(
        "{backend}: {requests} requests generated in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    plugins
        .install(
            &db,
            Slot::TicketWorkflow,
            WORKFLOW_RENEWALS,
            "",
            "bench",
            true,
        )
        .await
        .expect("install");
    plugins.refresh(&db).await.expect("refresh");

    // Every `step`th request waits for its customer with a timer due a minute ago; others have
    // timers for next week.
    let now = db::now_ms();
    let step = (requests as i64 / DUE).max(1);
    sqlx::query(
        "UPDATE requests SET status = 'waiting-for-customer' WHERE id % $1 = 0 AND id IN (SELECT id FROM requests ORDER BY id LIMIT $2)",
    )
    .bind(step)
    .bind(DUE * step)
    .execute(db.pool())
    .await
    .expect("statuses");
    sqlx::query(
        "INSERT INTO request_timers (request_id, name, due_at, set_at)
         SELECT id, 'close-if-silent', $1, $2 FROM requests WHERE status = 'waiting-for-customer'",
    )
    .bind(now - 60_000)
    .bind(now - 7 * 86_400_000)
    .execute(db.pool())
    .await
    .expect("due timers");
    sqlx::query(
        "INSERT INTO request_timers (request_id, name, due_at, set_at)
         SELECT id, 'remind', $1, $2 FROM requests WHERE id % $3 = 1 % $3 ORDER BY id LIMIT $4",
    )
    .bind(now + 7 * 86_400_000)
    .bind(now)
    .bind((requests as i64 / LATER).max(1))
    .bind(LATER)
    .execute(db.pool())
    .await
    .expect("later timers");
    let due: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM request_timers WHERE due_at <= $1")
        .bind(now)
        .fetch_one(db.pool())
        .await
        .expect("count");
    let all: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM request_timers")
        .fetch_one(db.pool())
        .await
        .expect("count");

    // Decisions are logged as a server logs them: the log's writer stores them meanwhile.
    let (stop_log, log_stopped) = tokio::sync::oneshot::channel::<()>();
    let (log, writer) =
        helpdesk::decisions::DecisionLog::start(db.clone(), plugins.metrics(), async {
            let _ = log_stopped.await;
        });
    plugins.log_decisions(log);
    let writer = tokio::spawn(writer);
    let state = common::state(&db, plugins, hasher, dir.path());
    let started = Instant::now();
    let fired = state.requests.fire_all_due_timers().await.expect("sweep");
    let took = started.elapsed();
    // What the log had left to store when the sweep ended.
    let _ = stop_log.send(());
    writer.await.expect("decision log writer");
    let logged_after = started.elapsed() - took;
    let logged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM plugin_decisions")
        .fetch_one(db.pool())
        .await
        .expect("count");
    let closed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM status_changes WHERE cause = 'event:timer' AND to_status = 'closed'",
    )
    .fetch_one(db.pool())
    .await
    .expect("count");
    assert_eq!(fired as i64, due);
    assert_eq!(closed, due, "every firing's answer applied");
    let started = Instant::now();
    let idle = state.requests.fire_all_due_timers().await.expect("sweep");
    let idle_took = started.elapsed();
    assert_eq!(idle, 0);
    println!(
        "{backend}: {due} due timers among {all} on {requests} requests fired in {:.0} ms ({:.0} µs each; bar {} ms: {}); a sweep with nothing due took {:.2} ms; {logged} decisions logged, the last {:.0} ms after the sweep",
        took.as_secs_f64() * 1e3,
        took.as_secs_f64() * 1e6 / due.max(1) as f64,
        BAR.as_millis(),
        if took <= BAR { "met" } else { "MISSED" },
        idle_took.as_secs_f64() * 1e3,
        logged_after.as_secs_f64() * 1e3,
    );
}
