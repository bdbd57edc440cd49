//! The policy as a table: each case of `examples.json` is a password and the violation codes it
//! must produce. The host runs the same file through the compiled component
//! (`helpdesk plugin test`), so native and component behaviour cannot drift apart.

use super::*;
use password_rules::Guest as _;

fn ctx() -> PasswordContext {
    PasswordContext {
        email: "ana.lima@example.com".into(),
        given_name: "Ana".into(),
        surname: "Lima".into(),
    }
}

fn codes(config: &str, password: &str) -> Vec<String> {
    match PasswordDefault::check(config.into(), password.into(), ctx()) {
        Verdict::Accepted => vec![],
        Verdict::Rejected(v) => v.into_iter().map(|v| v.code).collect(),
    }
}

fn config_named(name: &str) -> String {
    let examples: serde_json::Value =
        serde_json::from_str(include_str!("../examples.json")).unwrap();
    examples["configs"][name].as_str().unwrap().to_owned()
}

#[test]
fn examples_table() {
    let examples: serde_json::Value =
        serde_json::from_str(include_str!("../examples.json")).unwrap();
    let field =
        |case: &serde_json::Value, key: &str| case[key].as_str().unwrap_or_default().to_owned();
    for case in examples["cases"].as_array().unwrap() {
        let config = config_named(case["config"].as_str().unwrap());
        let context = PasswordContext {
            email: field(case, "email"),
            given_name: field(case, "given_name"),
            surname: field(case, "surname"),
        };
        let got: Vec<String> =
            match PasswordDefault::check(config, field(case, "password"), context) {
                Verdict::Accepted => vec![],
                Verdict::Rejected(v) => v.into_iter().map(|v| v.code).collect(),
            };
        let expected: Vec<String> = serde_json::from_value(case["expect"].clone()).unwrap();
        assert_eq!(got, expected, "{case}");
    }
}

#[test]
fn every_seed_symbol_counts_as_a_symbol() {
    for symbol in "@ # $ % ^ & * - _ + = [ ] { } | \\ : ' , ? / ` ~ \" ( ) ; .".split(' ') {
        let password = format!("abcdefg1{symbol}");
        assert_eq!(codes("", &password), Vec::<String>::new(), "{password}");
    }
}

#[test]
fn config_errors_are_precise() {
    let cases = [
        (
            "min-length = 20",
            "`min-length` (20) is greater than `max-length` (16)",
        ),
        (
            "min-classes = 5",
            "line 1: `min-classes` is 5, expected 1 to 4",
        ),
        (
            "symbols = \"ab\"",
            "`symbols` may not contain letters, digits or spaces (found 'a')",
        ),
        (
            "max = 3",
            "line 1: unknown key `max` (known keys: min-length, max-length, min-classes, symbols, reject-personal-info)",
        ),
    ];
    for (config, expected) in cases {
        assert_eq!(
            PasswordDefault::validate_config(config.into()).unwrap_err(),
            expected
        );
    }
    assert_eq!(PasswordDefault::validate_config(String::new()), Ok(()));
}

#[test]
fn requirements_follow_the_config() {
    assert_eq!(
        PasswordDefault::requirements(String::new()),
        "Use 8 to 16 characters, with at least 3 of: lowercase letters, uppercase letters, digits (0-9), symbols (@ # $ % ^ & * - _ + = [ ] { } | \\ : ' , ? / ` ~ \" ( ) ; .)."
    );
    assert!(
        PasswordDefault::requirements(config_named("strict"))
            .starts_with("Use 12 to 64 characters, with all of:")
    );
}

#[test]
fn messages_never_repeat_the_password() {
    let password = "Ünïcødé-pässwörd-that-is-too-long";
    if let Verdict::Rejected(v) = PasswordDefault::check(String::new(), password.into(), ctx()) {
        assert!(v.iter().all(|v| !v.message.contains(password)));
    } else {
        panic!("expected a rejection");
    }
}

#[test]
fn the_description_matches_what_the_config_reads() {
    let fields = PasswordDefault::describe_config().unwrap();
    let written = describe::defaults_written(&fields);
    assert_eq!(Settings::parse(&written), Settings::parse(""), "{written}");
}
