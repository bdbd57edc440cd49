//! One decision of each bundled plugin through the plugin runtime, as the host makes it: a fresh
//! instance from the pooling allocator, the call, the answer lifted and checked. Also the cost of
//! preparing a component (compile + link + info + config check), which bounds how fast a swap
//! reaches a replica without a cached artifact.

use criterion::{Criterion, criterion_group, criterion_main};
use helpdesk_bundled_plugins::DEFAULTS;
use helpdesk_plugin_host::rules::{
    ActorRole, CandidateSite, EligibilityRequest, EventContext, MatchKind, PasswordContext, Slot,
    TicketEvent, TransitionRequest,
};
use helpdesk_plugin_host::{Limits, Loaded, Runtime};
use std::hint::black_box;
use std::sync::Arc;
use time::macros::date;

fn decisions(c: &mut Criterion) {
    let runtime = Arc::new(Runtime::new(Limits::default(), None).expect("runtime"));
    let load = |i: usize, slot| {
        Loaded::prepare(&runtime, slot, DEFAULTS[i].wasm, "", 1).expect("bundled plugin")
    };
    let password = load(0, Slot::PasswordPolicy);
    let eligibility = load(1, Slot::SignupEligibility);
    let workflow = load(2, Slot::TicketWorkflow);

    let context = PasswordContext {
        email: "ana.lima@acme.example".into(),
        given_name: "Ana".into(),
        surname: "Lima".into(),
    };
    c.bench_function("password-default check", |b| {
        b.iter(|| {
            password
                .check_password(black_box("Quiet#River42"), &context)
                .expect("decision")
        })
    });

    let request = EligibilityRequest {
        email: "ana.lima@acme.example".into(),
        domain: "acme.example".into(),
        today: date!(2026 - 11 - 23),
        candidates: vec![
            CandidateSite {
                site_id: 7,
                name: "Acme Mining".into(),
                matched_by: MatchKind::Domain,
                maintenance_until: Some(date!(2027 - 06 - 30)),
                active_licences: 3,
            },
            CandidateSite {
                site_id: 8,
                name: "Acme Old Entity".into(),
                matched_by: MatchKind::Domain,
                maintenance_until: Some(date!(2020 - 01 - 01)),
                active_licences: 1,
            },
        ],
    };
    c.bench_function("eligibility-registered-domain decide", |b| {
        b.iter(|| {
            eligibility
                .decide_eligibility(black_box(&request))
                .expect("decision")
        })
    });

    let transition = TransitionRequest {
        from: "closed".into(),
        to: "open".into(),
        actor: ActorRole::Customer,
        seconds_in_status: 3600,
    };
    c.bench_function("workflow-default can-transition", |b| {
        b.iter(|| {
            workflow
                .can_transition(black_box(&transition))
                .expect("decision")
        })
    });
    let event = EventContext {
        event: TicketEvent::CustomerReplied,
        status: "on-hold".into(),
        seconds_in_status: 60,
    };
    c.bench_function("workflow-default on-event", |b| {
        b.iter(|| workflow.on_event(black_box(&event)).expect("decision"))
    });
}

fn preparation(c: &mut Criterion) {
    let runtime = Arc::new(Runtime::new(Limits::default(), None).expect("runtime"));
    let mut group = c.benchmark_group("prepare");
    group.sample_size(10);
    group.bench_function("password-default compile+link+check", |b| {
        b.iter(|| {
            Loaded::prepare(&runtime, Slot::PasswordPolicy, DEFAULTS[0].wasm, "", 1)
                .expect("prepare")
        })
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let cached =
        Arc::new(Runtime::new(Limits::default(), Some(dir.path().to_owned())).expect("runtime"));
    Loaded::prepare(&cached, Slot::PasswordPolicy, DEFAULTS[0].wasm, "", 1)
        .expect("warm the cache");
    group.bench_function("password-default from artifact cache", |b| {
        b.iter(|| {
            Loaded::prepare(&cached, Slot::PasswordPolicy, DEFAULTS[0].wasm, "", 1)
                .expect("prepare")
        })
    });
    group.finish();
}

criterion_group!(benches, decisions, preparation);
criterion_main!(benches);
