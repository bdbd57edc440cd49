//! Every bundled plugin's `examples.json` (the rows its native tests use) run through the
//! compiled component, and through `helpdesk plugin test` as a plugin author would.

use crate::support;
use helpdesk::plugins::examples::{Examples, run};
use helpdesk_bundled_plugins::{Bundled, DEFAULTS, fixtures};
use std::process::Command;

fn run_bundled(bundled: Bundled) {
    let examples = Examples::parse(bundled.examples).expect("examples parse");
    assert_eq!(examples.slot.as_str(), bundled.slot);
    let report = run(&support::runtime(), bundled.wasm, &examples).expect("examples run");
    assert!(report.cases.len() >= examples.cases.len());
    let failures: Vec<_> = report.failures().collect();
    assert!(
        failures.is_empty(),
        "{} failed: {failures:#?}",
        bundled.slot
    );
}

#[test]
fn password_default_examples_pass_through_the_runtime() {
    run_bundled(DEFAULTS[0]);
}

#[test]
fn eligibility_registered_domain_examples_pass_through_the_runtime() {
    run_bundled(DEFAULTS[1]);
}

#[test]
fn workflow_default_examples_pass_through_the_runtime() {
    run_bundled(DEFAULTS[2]);
}

#[test]
fn template_examples_pass_through_the_runtime() {
    run_bundled(fixtures::TEMPLATE);
}

#[test]
fn a_wrong_expectation_is_reported_as_a_failure() {
    let mut examples = Examples::parse(DEFAULTS[0].examples).unwrap();
    examples.cases.truncate(1);
    examples.cases[0]["expect"] = serde_json::json!(["too-short"]);
    let report = run(&support::runtime(), DEFAULTS[0].wasm, &examples).unwrap();
    assert_eq!((report.passed(), report.failed()), (0, 1));
    assert_eq!(report.cases[0].got, serde_json::json!([]));
}

#[test]
fn plugin_test_command_reports_each_case_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = support::write_file(dir.path(), "p.wasm", DEFAULTS[0].wasm);
    let examples =
        support::write_file(dir.path(), "examples.json", DEFAULTS[0].examples.as_bytes());
    let out = Command::new(env!("CARGO_BIN_EXE_helpdesk"))
        .args(["plugin", "test", "password-policy"])
        .arg(&wasm)
        .arg(&examples)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cases = Examples::parse(DEFAULTS[0].examples).unwrap().cases.len();
    assert!(
        stdout.contains(&format!("{cases} passed, 0 failed; median ")),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        cases
    );

    // The same file against the wrong slot is refused before anything runs.
    let out = Command::new(env!("CARGO_BIN_EXE_helpdesk"))
        .args(["plugin", "test", "ticket-workflow"])
        .arg(&wasm)
        .arg(&examples)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("holds password-policy examples, not ticket-workflow examples")
    );
}
