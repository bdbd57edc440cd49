//! Timers fire exactly once across replicas: on one PostgreSQL database, a server sweeping
//! 1,000 due timers is killed with SIGKILL in the middle of it; with no server running, what is
//! left is due, and two replicas started together fire it. Every timer fires (none is left,
//! every request was closed by the workflow's answer) and none fires twice (each request's
//! version rose by exactly one: a firing is one transaction that claims the timer, takes the
//! request and applies the answer).

use crate::support::{Backend, Spawned, TestDb};
use helpdesk::domain::rules::Slot;
use helpdesk_bundled_plugins::fixtures::WORKFLOW_RENEWALS;
use std::time::{Duration, Instant};

const TIMERS: i64 = 1000;

async fn scalar(t: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(t.db.pool())
        .await
        .unwrap()
}

/// A site, its customer, and `TIMERS` requests waiting for the customer.
async fn seed(t: &TestDb) {
    let now = helpdesk::db::now_ms();
    let pool = t.db.pool();
    sqlx::query("INSERT INTO sites (name, maintenance_until, licences, created_at) VALUES ('Acme', NULL, 1, $1)")
        .bind(now)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO users (email, given_name, surname, password_hash, role, state, site_id, must_change_password, created_at, updated_at)
         SELECT 'ann@acme.example', 'Ann', 'Lee', NULL, 'customer', 'active', id, 0, $1, $1 FROM sites",
    )
    .bind(now)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO requests (site_id, requester_id, subject, status, status_since, version, created_at, updated_at)
         SELECT s.id, u.id, 'Waiting ' || g, 'waiting-for-customer', $1, 1, $1, $1
         FROM sites s, users u, generate_series(1, $2) g",
    )
    .bind(now - 8 * 86_400_000)
    .bind(TIMERS)
    .execute(pool)
    .await
    .unwrap();
}

/// A timer on every request, due a minute ago.
async fn set_timers(t: &TestDb) {
    let now = helpdesk::db::now_ms();
    sqlx::query(
        "INSERT INTO request_timers (request_id, name, due_at, set_at)
         SELECT id, 'close-if-silent', $1, $2 FROM requests",
    )
    .bind(now - 60_000)
    .bind(now - 8 * 86_400_000)
    .execute(t.db.pool())
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_fire_exactly_once_across_replicas_killed_mid_sweep() {
    let t = TestDb::new(Backend::Postgres).await;
    crate::support::plugins()
        .install(
            &t.db,
            Slot::TicketWorkflow,
            WORKFLOW_RENEWALS,
            "",
            "test",
            true,
        )
        .await
        .unwrap();
    seed(&t).await;
    let env = [("HELPDESK_TIMER_SWEEP_SECONDS", "1")];
    let left = || scalar(&t, "SELECT COUNT(*) FROM request_timers");

    // A sweeps; it is killed once its sweep is under way (a batch commits a hundred at a time,
    // so the count is watched closely) and far from done.
    let mut a = Spawned::start(Some(&t.url), &env).await;
    set_timers(&t).await;
    let started = Instant::now();
    while left().await == TIMERS {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sweep starts"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    a.child.kill().unwrap();
    a.exited(Duration::from_secs(10)).await;
    let at_kill = left().await;
    assert!(
        at_kill > 0 && at_kill < TIMERS,
        "killed mid-sweep: {at_kill} of {TIMERS} left"
    );

    // With no server running, what is left is due; both replicas start, and each fires at its
    // first sweep.
    let data = std::mem::replace(&mut a.data, tempfile::tempdir().unwrap());
    let (a, b) = tokio::join!(
        Spawned::start_in(data, Some(&t.url), &env),
        Spawned::start(Some(&t.url), &env)
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while left().await > 0 {
        assert!(Instant::now() < deadline, "every timer fires");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM requests WHERE status = 'closed'").await,
        TIMERS,
        "every firing's answer applied"
    );
    assert_eq!(
        scalar(&t, "SELECT COUNT(*) FROM requests WHERE version <> 2").await,
        0,
        "no timer fired twice"
    );
    assert_eq!(
        scalar(
            &t,
            "SELECT COUNT(*) FROM status_changes WHERE cause = 'event:timer'"
        )
        .await,
        TIMERS
    );
    drop((a, b));
}
