//! A plugin decision as the host's request path makes it, through `Plugins` (the active plugin
//! looked up, the call counted and timed for `/metrics`, then also recorded in the decision
//! log), next to the same call made directly on the loaded plugin: the difference is what the
//! host adds per decision; and the whole request path, the password-check API over HTTP, with
//! the log off and on, and with a candidate in shadow (asked every decision too, off the request
//! path). Prints how many decisions the log stored and dropped, and what the shadow compared.

use criterion::{Criterion, criterion_group, criterion_main};
use helpdesk::domain::rules::{PasswordContext, Slot};
use std::hint::black_box;

// Shared with the HTTP benchmarks; this one needs only the database and the plugins.
#[allow(dead_code)]
mod common;

fn decisions(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let (db, plugins) = rt.block_on(async {
        let (db, _) = common::database(dir.path()).await;
        let plugins = common::plugins(&db).await;
        (db, plugins)
    });
    let context = PasswordContext {
        email: "ana.lima@acme.example".into(),
        given_name: "Ana".into(),
        surname: "Lima".into(),
    };
    let loaded = plugins.active(Slot::PasswordPolicy).expect("active");
    c.bench_function("password check, loaded plugin", |b| {
        b.iter(|| {
            loaded
                .check_password(black_box("Quiet#River42"), &context)
                .expect("decision")
        })
    });
    c.bench_function("password check, through Plugins (counted)", |b| {
        b.iter(|| {
            plugins
                .check_password(black_box("Quiet#River42"), &context)
                .expect("decision")
        })
    });

    let addr = rt.block_on(common::serve(
        &db,
        plugins.clone(),
        std::sync::Arc::new(helpdesk::auth::password::Hasher::owasp()),
        dir.path(),
    ));
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/api/v1/password-policy/check");
    let check = || {
        rt.block_on(async {
            let res = client
                .post(&url)
                .json(&serde_json::json!({ "password": "Quiet#River42" }))
                .send()
                .await
                .expect("check");
            assert_eq!(res.status(), 200);
            res.bytes().await.expect("body")
        })
    };
    c.bench_function("password check over HTTP", |b| b.iter(check));

    // The decision log on: the question and answer serialised and queued for the writer, which
    // stores them in batches on the runtime's threads.
    let (log, writer) = helpdesk::decisions::DecisionLog::start(
        db.clone(),
        plugins.metrics(),
        std::future::pending(),
    );
    plugins.log_decisions(log);
    rt.spawn(writer);
    c.bench_function("password check over HTTP (logged)", |b| b.iter(check));
    // The same request one at a time with a pause between (about 300 a second, far more than a
    // desk makes): the latency of a request when the machine is not saturated, which is what a
    // shadow must not change; a tight loop above measures throughput, which a shadow shares.
    let paced = |iters: u64| {
        let mut took = std::time::Duration::ZERO;
        for _ in 0..iters {
            std::thread::sleep(std::time::Duration::from_millis(2));
            let started = std::time::Instant::now();
            black_box(check());
            took += started.elapsed();
        }
        took
    };
    c.bench_function("password check over HTTP (logged), paced", |b| {
        b.iter_custom(paced)
    });
    // Far more decisions a second than any desk makes: the queue fills, and the rest are
    // dropped and counted.
    c.bench_function(
        "password check, through Plugins (counted and logged)",
        |b| {
            b.iter(|| {
                plugins
                    .check_password(black_box("Quiet#River42"), &context)
                    .expect("decision")
            })
        },
    );

    // A stricter candidate in shadow: each decision is also offered to it, and answered on a
    // blocking thread by one worker.
    rt.block_on(async {
        let strict = plugins
            .install(
                &db,
                Slot::PasswordPolicy,
                helpdesk_bundled_plugins::DEFAULTS[0].wasm,
                "min-length = 14\n",
                "bench",
                false,
            )
            .await
            .expect("install");
        plugins
            .start_shadow(&db, strict, "bench")
            .await
            .expect("shadow");
    });
    rt.spawn(plugins.ask_shadows(db.clone(), std::future::pending()));
    c.bench_function("password check over HTTP (logged, shadow running)", |b| {
        b.iter(check)
    });
    c.bench_function(
        "password check over HTTP (logged, shadow running), paced",
        |b| b.iter_custom(paced),
    );
    c.bench_function(
        "password check, through Plugins (counted, logged, shadow running)",
        |b| {
            b.iter(|| {
                plugins
                    .check_password(black_box("Quiet#River42"), &context)
                    .expect("decision")
            })
        },
    );
    std::thread::sleep(std::time::Duration::from_secs(1));
    let text = plugins.metrics().render();
    for line in text.lines().filter(|l| {
        l.starts_with("helpdesk_decision_log_") || l.starts_with("helpdesk_plugin_shadow_")
    }) {
        println!("{line}");
    }
}

criterion_group!(benches, decisions);
criterion_main!(benches);
