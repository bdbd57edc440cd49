//! The rule as a table: `examples.json` holds the cases; the host runs the same file through the
//! compiled component (`helpdesk plugin test`).

use super::*;
use eligibility::Guest as _;
use serde_json::Value;

fn date(v: &Value) -> Option<Date> {
    let s = v.as_str()?;
    let mut parts = s.split('-').map(|p| p.parse::<i32>().unwrap());
    Some(Date {
        year: parts.next()?,
        month: parts.next()? as u8,
        day: parts.next()? as u8,
    })
}

fn request(case: &Value) -> EligibilityRequest {
    let email = case["email"].as_str().unwrap().to_owned();
    let domain = email.rsplit_once('@').unwrap().1.to_owned();
    EligibilityRequest {
        email,
        domain,
        today: date(&case["today"]).unwrap(),
        candidates: case["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| CandidateSite {
                site_id: c["site_id"].as_u64().unwrap(),
                name: c["name"].as_str().unwrap().to_owned(),
                matched_by: match c["matched_by"].as_str().unwrap() {
                    "domain" => MatchKind::Domain,
                    _ => MatchKind::Address,
                },
                maintenance_until: date(&c["maintenance_until"]),
                active_licences: c["active_licences"].as_u64().unwrap() as u32,
            })
            .collect(),
    }
}

#[test]
fn examples_table() {
    let examples: Value = serde_json::from_str(include_str!("../examples.json")).unwrap();
    for case in examples["cases"].as_array().unwrap() {
        let config = examples["configs"][case["config"].as_str().unwrap()]
            .as_str()
            .unwrap()
            .to_owned();
        let got = match RegisteredDomain::decide(config, request(case)) {
            Decision::Eligible(ids) => serde_json::json!({ "eligible": ids }),
            Decision::Ineligible(_) => "ineligible".into(),
            Decision::NeedsReview(_) => "needs-review".into(),
        };
        assert_eq!(got, case["expect"], "{case}");
    }
}

#[test]
fn reasons_say_what_disqualified_each_site() {
    let case = serde_json::json!({
        "email": "a@acme.example", "today": "2026-11-23",
        "candidates": [
            { "site_id": 1, "name": "Acme A", "matched_by": "domain", "maintenance_until": "2020-01-31", "active_licences": 2 },
            { "site_id": 2, "name": "Acme B", "matched_by": "domain", "maintenance_until": "2030-01-01", "active_licences": 0 }
        ]
    });
    let Decision::Ineligible(reason) = RegisteredDomain::decide(String::new(), request(&case))
    else {
        panic!("expected ineligible");
    };
    assert_eq!(
        reason,
        "no registered site qualifies (Acme A: maintenance contract ended 2020-01-31; Acme B: 0 active licence(s), 1 needed)"
    );
}

#[test]
fn config_errors_are_precise() {
    assert_eq!(
        RegisteredDomain::validate_config("generic-domains = [\"gmail\"]".into()).unwrap_err(),
        "`generic-domains`: \"gmail\" is not a domain like \"gmail.com\""
    );
    assert_eq!(
        RegisteredDomain::validate_config("min-active-licences = -1".into()).unwrap_err(),
        "line 1: `min-active-licences` is -1, expected 0 to 1000000"
    );
    assert_eq!(RegisteredDomain::validate_config(String::new()), Ok(()));
}

#[test]
fn the_description_matches_what_the_config_reads() {
    let fields = RegisteredDomain::describe_config().unwrap();
    let written = describe::defaults_written(&fields);
    let explicit = Settings::parse(&written).unwrap();
    let defaults = Settings::parse("").unwrap();
    assert_eq!(
        explicit.generic_domains.unwrap(),
        DEFAULT_GENERIC_DOMAINS.to_vec()
    );
    assert_eq!(explicit.min_active_licences, defaults.min_active_licences);
    assert_eq!(explicit.review_unregistered, defaults.review_unregistered);
}
