//! One decision of each bundled plugin through the plugin runtime, as the host makes it: a fresh
//! instance from the pooling allocator, the call, the answer lifted and checked. Also the cost of
//! preparing a component (compile + link + info + config check), which bounds how fast a swap
//! reaches a replica without a cached artifact, from the artifact cache, and again in a runtime
//! that compiled it already.

use criterion::{Criterion, criterion_group, criterion_main};
use helpdesk_bundled_plugins::{DEFAULTS, fixtures};
use helpdesk_plugin_host::rules::{
    ActorRole, CandidateSite, Channel, EligibilityRequest, EventContext, FieldValue, MatchKind,
    PasswordContext, Priority, Reaction, RequestEvent, RequestSite, RequestView, Requester, Slot,
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

    // Contract 0.4: the whole request in (a first message of 4 KiB), actions out.
    let request = RequestView {
        id: 1042,
        site: RequestSite {
            id: 7,
            name: "Acme Mining".into(),
            contract_end: Some(date!(2027 - 06 - 30)),
            active_licences: 3,
        },
        requester: Requester {
            id: 12,
            role: ActorRole::Customer,
            email_domain: "acme.example".into(),
            language: "de".into(),
        },
        assignee: Some(3),
        status: "on-hold".into(),
        seconds_in_status: 60,
        priority: Priority::Normal,
        tags: vec!["billing".into(), "renewal".into()],
        subject: "The conveyor stops every morning at nine".into(),
        first_message: "The belt stops. ".repeat(256),
        customer_messages: 3,
        staff_messages: 2,
        channel: Channel::Email,
        created_at: 1_790_000_000,
        updated_at: 1_790_003_600,
        last_customer_message_at: Some(1_790_003_600),
        last_staff_message_at: Some(1_790_001_800),
        now: 1_790_003_660,
        request_type: Some("Incident".into()),
        fields: vec![FieldValue {
            key: "impact".into(),
            value: "High".into(),
        }],
    };
    let reaction = Reaction {
        event: RequestEvent::CustomerReplied,
        request: request.clone(),
    };
    c.bench_function("workflow-default react (0.6 request, 1 action)", |b| {
        b.iter(|| workflow.react(black_box(&reaction)).expect("decision"))
    });
    let acting = Loaded::prepare(
        &runtime,
        Slot::TicketWorkflow,
        fixtures::WORKFLOW_RENEWALS,
        "note-actions = 10",
        1,
    )
    .expect("fixture");
    let noted = Reaction {
        event: RequestEvent::NoteAdded,
        request: RequestView {
            status: "open".into(),
            ..request
        },
    };
    assert_eq!(acting.react(&noted).expect("decision").value.len(), 10);
    c.bench_function("workflow-renewals react (0.6 request, 10 actions)", |b| {
        b.iter(|| acting.react(black_box(&noted)).expect("decision"))
    });
}

fn preparation(c: &mut Criterion) {
    use criterion::BatchSize;
    // A runtime remembers the components it compiled last: each case that measures a compile or
    // a cache load starts from a fresh one (made outside the measured time).
    let limits = Limits {
        max_concurrent: 2,
        ..Limits::default()
    };
    let fresh = |cache: Option<&std::path::Path>| {
        Arc::new(Runtime::new(limits, cache.map(ToOwned::to_owned)).expect("runtime"))
    };
    let prepare = |runtime: &Arc<Runtime>| {
        Loaded::prepare(runtime, Slot::PasswordPolicy, DEFAULTS[0].wasm, "", 1).expect("prepare")
    };
    let mut group = c.benchmark_group("prepare");
    group.sample_size(10);
    group.bench_function("password-default compile+link+check", |b| {
        b.iter_batched(|| fresh(None), |r| prepare(&r), BatchSize::PerIteration)
    });
    let dir = tempfile::tempdir().expect("tempdir");
    prepare(&fresh(Some(dir.path())));
    group.bench_function("password-default from artifact cache", |b| {
        b.iter_batched(
            || fresh(Some(dir.path())),
            |r| prepare(&r),
            BatchSize::PerIteration,
        )
    });
    let warm = fresh(None);
    prepare(&warm);
    group.bench_function("password-default again (compiled in memory)", |b| {
        b.iter(|| prepare(&warm))
    });
    group.finish();
}

criterion_group!(benches, decisions, preparation);
criterion_main!(benches);
