//! The API fuzzed from its own OpenAPI document by schemathesis (the version pinned in
//! `host/tests/schemathesis/requirements.txt`, installed into a virtual environment on first
//! use, as `.ci/run` does), with every check, against a test server with data: without a
//! session, as a customer and as an operator. Any server error, any answer or status the
//! document does not describe, any valid request refused or invalid one accepted fails it, and
//! so does an answer that takes longer than schemathesis's 10 seconds.
//!
//! That last check measures the client too: schemathesis is a CPU-bound Python process, and
//! its time includes its own. With two workers in one process, one worker's answer waited for
//! the interpreter while the other generated data; with the two backends' runs at once, two
//! such processes took both cores of a two-core machine from the server they measured (answers
//! of 11 to 20 s, most of it spent before the request's bytes reached the server or after its
//! answer left; no statement waited a second for a lock). So schemathesis runs with one worker,
//! and one run at a time: both backends in one test.

use crate::accounts::{Env, PASSWORD};
use crate::requests::Desk;
use crate::support::{self, Backend, Options, SmtpSink, TestDb, TestServer};
use helpdesk::auth::limits::Limit;
use helpdesk::auth::{AuthConfig, MfaPolicy};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The schemathesis command: `HELPDESK_SCHEMATHESIS`, or one installed into the test target
/// folder from the pinned requirements.
fn schemathesis() -> PathBuf {
    support::python_tool(
        "HELPDESK_SCHEMATHESIS",
        "schemathesis-venv",
        "tests/schemathesis/requirements.txt",
        "st",
    )
}

/// A server whose limits do not get in the fuzzer's way (it sends thousands of requests from
/// one address) and whose logins ask for no code, with a site, people and requests to find.
async fn fuzzed_server(t: &TestDb) -> Desk {
    let unlimited = Limit::new(i64::MAX / 2, 60_000);
    let mut auth = AuthConfig {
        mfa: MfaPolicy::Never,
        ..AuthConfig::default()
    };
    let l = &mut auth.limits;
    l.login_per_ip = unlimited;
    l.signup_per_ip = unlimited;
    l.signup_per_email = unlimited;
    l.reset_per_ip = unlimited;
    l.reset_per_email = unlimited;
    l.code_sends_per_account = unlimited;
    l.code_checks_per_ip = unlimited;
    l.password_checks_per_ip = unlimited;
    l.failures_before_backoff = i64::MAX / 2;
    let sink = SmtpSink::start();
    let server = TestServer::with(
        &t.db,
        Options {
            smtp: Some(sink.url()),
            auth,
            ..Options::default()
        },
    )
    .await;
    let d = Desk::with(Env::from_parts(server, sink)).await;
    for (subject, file) in [
        ("Printer jammed", "log.txt"),
        ("Licence renewal", "quote.pdf"),
    ] {
        let (s, body) = d
            .multipart(
                "/api/v1/requests",
                &d.ann,
                &[("subject", subject), ("description", "Details attached.")],
                &[(file, b"some bytes")],
            )
            .await;
        assert_eq!(s, 201, "{body}");
        let id = body["id"].as_i64().unwrap();
        let (s, _) = d
            .env
            .post(
                &format!("/api/v1/requests/{id}/messages"),
                Some(&d.agent),
                json!({ "body": "We are on it." }),
            )
            .await;
        assert_eq!(s, 201);
    }
    d
}

/// Runs schemathesis against `d`, signed in as `email` when given; panics with its report on
/// any failure.
fn fuzz(st: &Path, d: &Desk, email: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis/schemathesis.toml"),
    )
    .unwrap();
    if let Some(email) = email {
        // A fresh session whenever the fuzzer ended its own (logout, sign out everywhere).
        config.push_str(&format!(
            "\n[auth.dynamic.openapi.session]\npath = \"/api/v1/login\"\npayload = {{ email = \"{email}\", password = \"{PASSWORD}\" }}\nextract_selector = \"/token\"\nretry_on = [401]\n"
        ));
    }
    let config_path = dir.path().join("schemathesis.toml");
    std::fs::write(&config_path, config).unwrap();
    let out = Command::new(st)
        .arg("--config-file")
        .arg(&config_path)
        .args(["run", &d.env.server.url("/api/openapi.json")])
        .args([
            "--checks",
            "all",
            "--max-examples",
            "25",
            // One worker: see the module's documentation.
            "--workers",
            "1",
            // Hypothesis's own check of how fast it generates data (not of the API): on a busy
            // two-core machine, bodies of 20,000-character messages drawn under a pattern
            // took longer than its fixed threshold, failing the run before the API was asked.
            "--suppress-health-check",
            "too_slow",
            "--seed",
            "20261124",
            "--no-color",
        ])
        .current_dir(dir.path())
        .output()
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = report
        .lines()
        .filter(|l| l.contains("generated") || l.contains("Authentication Error"))
        .collect();
    assert!(
        out.status.success() && !report.contains("Authentication Error"),
        "schemathesis as {}: {summary:?}\n{report}\n{}",
        email.unwrap_or("a stranger"),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "schemathesis as {}: {summary:?}",
        email.unwrap_or("a stranger")
    );
}

async fn the_api_is_what_its_document_says(t: TestDb) {
    let st = tokio::task::spawn_blocking(schemathesis).await.unwrap();
    let d = fuzzed_server(&t).await;
    // The runs block on a process of their own; the server keeps serving meanwhile.
    let d = std::sync::Arc::new(d);
    for who in [None, Some("bob@acme.example"), Some("ops@vendor.test")] {
        let (st, d2) = (st.clone(), d.clone());
        tokio::task::spawn_blocking(move || fuzz(&st, &d2, who))
            .await
            .unwrap();
    }
}

/// Both backends in one test, one after the other, so that one schemathesis runs at a time
/// (see the module's documentation) while the harness's other thread goes on with other tests:
/// as two tests, one would hold a thread only to wait for the other. It is the longest test, and
/// the harness starts tests in the order of their names: this module's name starts it early.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_both_backends() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        the_api_is_what_its_document_says(TestDb::new(backend).await).await;
    }
}
