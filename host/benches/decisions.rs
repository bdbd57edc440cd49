//! A plugin decision as the host's request path makes it, through `Plugins` (the active plugin
//! looked up, the call counted and timed for `/metrics`), next to the same call made directly on
//! the loaded plugin: the difference is what the host adds per decision.

use criterion::{Criterion, criterion_group, criterion_main};
use helpdesk::domain::rules::{PasswordContext, Slot};
use std::hint::black_box;

// Shared with the HTTP benchmarks; this one needs only the database and the plugins.
#[allow(dead_code)]
mod common;

fn decisions(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let plugins = rt.block_on(async {
        let (db, _) = common::database(dir.path()).await;
        common::plugins(&db).await
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
}

criterion_group!(benches, decisions);
criterion_main!(benches);
