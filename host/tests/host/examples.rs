//! Every bundled plugin's `examples.json` (the rows its native tests use) run through the
//! compiled component, and through `helpdesk plugin test` as a plugin author would.

use crate::support;
use helpdesk::plugins::examples::{Examples, run};
use helpdesk_bundled_plugins::{Bundled, DEFAULTS, fixtures};
use std::process::Command;

fn run_bundled(bundled: Bundled) {
    let examples = Examples::parse(bundled.examples).expect("examples parse");
    assert_eq!(examples.slot.as_str(), bundled.slot);
    let report = run(&support::runtime(), bundled.wasm, &examples, None);
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
    examples.cases[0].expect = serde_json::json!(["too-short"]);
    let report = run(&support::runtime(), DEFAULTS[0].wasm, &examples, None);
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
        .env("HELPDESK_DATA_DIR", dir.path())
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
        .env("HELPDESK_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("holds password-policy examples, not ticket-workflow examples")
    );
}

#[test]
fn a_misspelt_field_is_refused_naming_the_case() {
    let file = r#"{"slot": "password-policy", "cases": [
        {"name": "fine", "password": "correct horse battery staple", "expect": []},
        {"name": "typo", "pasword": "x", "expect": ["too-short"]}
    ]}"#;
    let err = Examples::parse(file).unwrap_err();
    assert!(
        err.starts_with("case 2 (\"typo\"): unknown field `pasword`"),
        "{err}"
    );

    let unknown_config = r#"{"slot": "password-policy", "cases": [
        {"config": "strict", "password": "x", "expect": []}
    ]}"#;
    let err = Examples::parse(unknown_config).unwrap_err();
    assert!(
        err.contains("case 1: the file defines no config named \"strict\""),
        "{err}"
    );
}

#[test]
fn violation_codes_match_in_any_order_and_cases_report_their_names_and_usage() {
    let examples = Examples::parse(
        r#"{"slot": "password-policy", "cases": [
            {"name": "two rules broken", "password": "abcdefg", "expect": ["too-few-classes", "too-short"]},
            {"name": "the other order", "password": "abcdefg", "expect": ["too-short", "too-few-classes"]},
            {"name": "one missing", "password": "abcdefg", "expect": ["too-short"]}
        ]}"#,
    )
    .unwrap();
    let report = run(&support::runtime(), DEFAULTS[0].wasm, &examples, None);
    let got: Vec<(&str, bool)> = report
        .cases
        .iter()
        .map(|c| (c.name.as_str(), c.passed))
        .collect();
    assert_eq!(
        got,
        [
            ("two rules broken", true),
            ("the other order", true),
            ("one missing", false)
        ],
        "{report:#?}"
    );
    for case in &report.cases {
        assert_eq!(case.usage.calls, 1);
        assert!(case.usage.instructions > 1_000, "{:?}", case.usage);
        assert!(case.usage.peak_memory >= 64 << 10, "{:?}", case.usage);
    }
    // Counted, not timed: the same question costs the same instructions every time.
    assert_eq!(
        report.cases[0].usage.instructions,
        report.cases[1].usage.instructions
    );
    let text = report.render();
    assert!(text.contains("FAIL  one missing"), "{text}");
    assert!(text.contains("2 passed, 1 failed"), "{text}");
    assert!(text.contains("most used: "), "{text}");
}

#[test]
fn a_refused_config_fails_its_own_cases_and_the_others_still_run() {
    let examples = Examples::parse(
        r#"{"slot": "password-policy",
            "configs": {"broken": "min-length = banana"},
            "cases": [
                {"name": "under the default", "password": "Abcdefg1", "expect": []},
                {"name": "under a broken config", "config": "broken", "password": "x", "expect": []},
                {"name": "after it", "password": "short", "expect": ["too-short", "too-few-classes"]}
            ]}"#,
    )
    .unwrap();
    let report = run(&support::runtime(), DEFAULTS[0].wasm, &examples, None);
    let passed: Vec<bool> = report.cases.iter().map(|c| c.passed).collect();
    assert_eq!(passed, [true, false, true], "{report:#?}");
    let error = report.cases[1].got["error"].as_str().unwrap();
    assert!(
        error.starts_with("config \"broken\": the plugin's config is invalid"),
        "{error}"
    );
}

#[test]
fn plugin_test_survives_a_plugin_that_writes_and_panics() {
    // The hostile fixture's `panic` config prints to stderr and panics: the run reports the
    // panic as the case's answer instead of crashing.
    let dir = tempfile::tempdir().unwrap();
    let wasm = support::write_file(dir.path(), "p.wasm", fixtures::HOSTILE);
    let examples = support::write_file(
        dir.path(),
        "examples.json",
        br#"{"slot": "password-policy", "configs": {"panic": "panic"}, "cases": [
            {"name": "panics", "config": "panic", "password": "x", "expect": {"error": "deliberate panic"}},
            {"name": "accepts", "password": "x", "expect": []}
        ]}"#,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_helpdesk"))
        .args(["plugin", "test", "password-policy"])
        .arg(&wasm)
        .arg(&examples)
        .env("HELPDESK_DATA_DIR", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ok    panics"), "{stdout}");
    assert!(stdout.contains("2 passed, 0 failed"), "{stdout}");
}
