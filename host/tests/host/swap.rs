//! The operator's swap: while requests run in a loop, the active password policy is replaced
//! through the CLI and then rolled back. No request fails, and each change applies within
//! 2 seconds of the command returning, with the server's default poll interval. As in the
//! default deployment, the CLI and the server share one data directory.

use crate::support::{self, TestDb, TestServer, on_both_backends};
use helpdesk_bundled_plugins::DEFAULTS;
use serde_json::{Value, json};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// One answered check: when it was sent and which plugin decided.
#[derive(Debug, Clone)]
struct Sample {
    sent: Instant,
    status: u16,
    plugin_id: i64,
    accepted: bool,
}

fn cli(t: &TestDb, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_helpdesk"))
        .args(args)
        .env("HELPDESK_DATABASE_URL", &t.url)
        .env("HELPDESK_DATA_DIR", t.dir.path().join("data"))
        .output()
        .expect("run helpdesk");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "helpdesk {args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Waits until a sample sent after `after` was decided by `plugin_id`; returns how long after
/// `after` that sample was sent.
async fn time_to_switch(samples: &Mutex<Vec<Sample>>, after: Instant, plugin_id: i64) -> Duration {
    let give_up = after + Duration::from_secs(10);
    loop {
        if let Some(s) = samples
            .lock()
            .await
            .iter()
            .find(|s| s.sent >= after && s.plugin_id == plugin_id)
        {
            return s.sent - after;
        }
        assert!(
            Instant::now() < give_up,
            "plugin #{plugin_id} never took over"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn swap_under_load_through_the_cli(t: TestDb) {
    let server = TestServer::start_with(
        &t.db,
        Duration::from_millis(250),
        Some(t.dir.path().join("data/plugin-cache")),
    )
    .await;
    let bundled = server
        .state
        .plugins
        .active(helpdesk::domain::rules::Slot::PasswordPolicy)
        .unwrap()
        .plugin
        .id;
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let running = Arc::new(AtomicBool::new(true));
    let url = server.url("/api/v1/password-policy/check");
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (samples, running, url, client) = (
                samples.clone(),
                running.clone(),
                url.clone(),
                support::client(),
            );
            tokio::spawn(async move {
                while running.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    let resp = client
                        .post(&url)
                        .json(&json!({ "password": "Abcdefg1" }))
                        .send()
                        .await
                        .unwrap();
                    let status = resp.status().as_u16();
                    let body: Value = resp.json().await.unwrap_or_default();
                    samples.lock().await.push(Sample {
                        sent,
                        status,
                        plugin_id: body["decided_by"]["id"].as_i64().unwrap_or(-1),
                        accepted: body["outcome"] == "accepted",
                    });
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let dir = t.dir.path();
    let wasm = support::write_file(dir, "password.wasm", DEFAULTS[0].wasm);
    let config = support::write_file(dir, "strict.conf", b"min-length = 12\n");
    let out = cli(
        &t,
        &[
            "plugin",
            "install",
            "password-policy",
            wasm.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--activate",
        ],
    );
    let swapped_at = Instant::now();
    let strict: i64 = out
        .split("as plugin #")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect(&out);
    let took = time_to_switch(&samples, swapped_at, strict).await;
    eprintln!("swap: new password policy served {took:?} after the CLI returned");
    assert!(took <= Duration::from_secs(2), "{took:?}");

    let list = cli(&t, &["plugin", "list"]);
    let active_line = list
        .lines()
        .find(|l| l.starts_with('*') && l.contains("password-policy"))
        .expect(&list);
    assert!(
        active_line.split_whitespace().nth(1) == Some(strict.to_string().as_str()),
        "{list}"
    );

    let out = cli(&t, &["plugin", "rollback", "password-policy"]);
    assert!(
        out.contains(&format!(
            "plugin #{bundled} is the active password-policy plugin again"
        )),
        "{out}"
    );
    let rolled_back_at = Instant::now();
    let took = time_to_switch(&samples, rolled_back_at, bundled).await;
    eprintln!("rollback: previous password policy served {took:?} after the CLI returned");
    assert!(took <= Duration::from_secs(2), "{took:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;

    running.store(false, Ordering::Relaxed);
    for handle in load {
        handle.await.unwrap();
    }
    let samples = samples.lock().await;
    assert!(samples.len() > 50, "only {} requests ran", samples.len());
    let failed: Vec<_> = samples
        .iter()
        .filter(|s| s.status != 200 || s.plugin_id < 0)
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed: {:?}",
        failed.len(),
        samples.len(),
        &failed[..failed.len().min(5)]
    );
    // Each answer matches the rule of the plugin that gave it.
    for s in samples.iter() {
        assert_eq!(s.accepted, s.plugin_id != strict, "{s:?}");
    }
}
on_both_backends!(cli_swap, swap_under_load_through_the_cli);

/// Waits until `server` serves `plugin_id` in the password slot; returns how long after `since`.
async fn served(server: &TestServer, plugin_id: i64, since: Instant) -> Duration {
    let slot = helpdesk::domain::rules::Slot::PasswordPolicy;
    loop {
        if server.state.plugins.active(slot).unwrap().plugin.id == plugin_id {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(10),
            "plugin #{plugin_id} never took over"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Two replicas, each with its own pool, on one PostgreSQL, looking only once a minute: a swap
/// made elsewhere (as the CLI does) reaches both through `LISTEN/NOTIFY` within 200 ms, for a
/// component they run already and for one they had never seen before it was installed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_follow_by_notification() {
    use helpdesk::domain::rules::Slot;
    let t = TestDb::new(support::Backend::Postgres).await;
    let once_a_minute = Duration::from_secs(60);
    let a = TestServer::start(&t.db, once_a_minute).await;
    let b_db = helpdesk::db::Db::connect(&t.url).await.unwrap();
    let b = TestServer::start(&b_db, once_a_minute).await;
    let bundled = a
        .state
        .plugins
        .active(Slot::PasswordPolicy)
        .unwrap()
        .plugin
        .id;
    // Let both replicas start listening.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let operator = support::plugins();
    let mut worst = Duration::ZERO;
    // A new config of a component the replicas run already; then one they have never seen,
    // which each must compile; then back.
    let strict = operator
        .install(
            &t.db,
            Slot::PasswordPolicy,
            DEFAULTS[0].wasm,
            "min-length = 12\n",
            "test",
            false,
        )
        .await
        .unwrap();
    let unseen = operator
        .install(
            &t.db,
            Slot::PasswordPolicy,
            helpdesk_bundled_plugins::fixtures::NEXT_PATCH,
            "",
            "test",
            false,
        )
        .await
        .unwrap();
    // Each replica compiles what is installed as soon as it hears of it; an operator looks
    // before activating, so give them the moment that takes.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (what, id) in [("new config", strict), ("new component", unseen)] {
        operator
            .activate(&t.db, Slot::PasswordPolicy, id, "test")
            .await
            .unwrap();
        let at = Instant::now();
        for (name, replica) in [("a", &a), ("b", &b)] {
            let took = served(replica, id, at).await;
            eprintln!(
                "switch ({what}): replica {name} served plugin #{id} {took:?} after the activation returned"
            );
            worst = worst.max(took);
        }
    }
    operator
        .rollback(&t.db, Slot::PasswordPolicy, "test")
        .await
        .unwrap();
    operator
        .rollback(&t.db, Slot::PasswordPolicy, "test")
        .await
        .unwrap();
    let at = Instant::now();
    for (name, replica) in [("a", &a), ("b", &b)] {
        let took = served(replica, bundled, at).await;
        eprintln!(
            "switch (rollback): replica {name} served plugin #{bundled} {took:?} after the rollback returned"
        );
        worst = worst.max(took);
    }
    assert!(worst <= Duration::from_millis(200), "{worst:?}");

    // A shadow started elsewhere is asked by both within 200 ms; what each replica compared
    // adds up in the database; promoted, it serves both and is no longer a shadow.
    operator.start_shadow(&t.db, strict, "test").await.unwrap();
    let at = Instant::now();
    for (name, replica) in [("a", &a), ("b", &b)] {
        while replica
            .state
            .plugins
            .shadow(Slot::PasswordPolicy)
            .map(|s| s.plugin.id)
            != Some(strict)
        {
            assert!(
                at.elapsed() < Duration::from_secs(10),
                "replica {name} never asked the shadow"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let took = at.elapsed();
        eprintln!("shadow: replica {name} asks plugin #{strict} {took:?} after it was started");
        assert!(took <= Duration::from_millis(200), "{took:?}");
    }
    let context = helpdesk::domain::rules::PasswordContext::default();
    for replica in [&a, &b] {
        // Nine characters: enough for the bundled policy, too short for the shadow's twelve.
        let live = replica
            .state
            .plugins
            .check_password("Quiet#Riv", &context)
            .unwrap();
        assert_eq!(
            live.value,
            helpdesk::domain::rules::PasswordVerdict::Accepted
        );
    }
    let mut counted = None;
    for _ in 0..100 {
        let shadows = helpdesk::db::plugins::shadows(&t.db).await.unwrap();
        if let Some(s) = shadows.into_iter().find(|s| s.disagreed >= 2) {
            counted = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let counted = counted.expect("both replicas' disagreements add up");
    assert_eq!(
        (counted.plugin_id, counted.asked, counted.disagreed),
        (strict, 2, 2)
    );
    operator
        .promote_shadow(&t.db, Slot::PasswordPolicy, "test")
        .await
        .unwrap();
    let at = Instant::now();
    for replica in [&a, &b] {
        served(replica, strict, at).await;
        while replica.state.plugins.shadow(Slot::PasswordPolicy).is_some() {
            assert!(
                at.elapsed() < Duration::from_secs(10),
                "the shadow was never stopped"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    assert!(
        helpdesk::db::plugins::shadows(&t.db)
            .await
            .unwrap()
            .is_empty()
    );
}
