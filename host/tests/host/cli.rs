//! The vendor staff's command line for sites and staff accounts.

use crate::accounts::{Env, PASSWORD};
use crate::support::{TestDb, on_both_backends};
use serde_json::json;
use std::process::{Command, Output};

fn run(t: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_helpdesk"))
        .args(args)
        .env("HELPDESK_DATABASE_URL", &t.url)
        .env("HELPDESK_DATA_DIR", t.dir.path().join("data"))
        .env("HELPDESK_PUBLIC_URL", "https://portal.example.test")
        .output()
        .expect("run helpdesk")
}

fn ok(t: &TestDb, args: &[&str]) -> String {
    let out = run(t, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "helpdesk {args:?}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

async fn sites_and_staff_by_cli(t: TestDb) {
    let out = ok(
        &t,
        &[
            "site",
            "add",
            "--name",
            "Acme Mining",
            "--domain",
            "acme.example",
            "--domain",
            "acme.example.au",
            "--address",
            "Pat@Gmail.example",
            "--maintenance-until",
            "2030-06-30",
            "--licences",
            "4",
        ],
    );
    assert!(out.contains("Added site #"), "{out}");
    let bad = run(
        &t,
        &[
            "site",
            "add",
            "--name",
            "Broken",
            "--maintenance-until",
            "30/06/2030",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("not a date like"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    ok(&t, &["site", "update", "Acme Mining", "--licences", "9"]);
    let list = ok(&t, &["site", "list"]);
    assert!(
        list.contains("Acme Mining")
            && list.contains("2030-06-30")
            && list.contains("pat@gmail.example")
            && list.contains(" 9 "),
        "{list}"
    );
    assert!(!list.contains("Broken"));

    let out = ok(
        &t,
        &[
            "staff",
            "add",
            "--email",
            "ops@vendor.test",
            "--role",
            "operator",
            "--given-name",
            "Olive",
            "--surname",
            "Ops",
        ],
    );
    let link = out
        .split_whitespace()
        .find(|w| w.starts_with("https://portal.example.test/invite/"))
        .expect("a link")
        .to_owned();
    let again = run(
        &t,
        &[
            "staff",
            "add",
            "--email",
            "ops@vendor.test",
            "--role",
            "agent",
            "--given-name",
            "Olive",
            "--surname",
            "Ops",
        ],
    );
    assert!(!again.status.success());
    // Customers see staff by name, so a name is required, and a blank one is refused.
    let nameless = run(
        &t,
        &[
            "staff",
            "add",
            "--email",
            "al@vendor.test",
            "--role",
            "agent",
        ],
    );
    assert!(!nameless.status.success());
    assert!(String::from_utf8_lossy(&nameless.stderr).contains("--given-name"));
    let blank = run(
        &t,
        &[
            "staff",
            "add",
            "--email",
            "al@vendor.test",
            "--role",
            "agent",
            "--given-name",
            " ",
            "--surname",
            "Agent",
        ],
    );
    assert!(!blank.status.success());

    // The printed link sets the password, and the operator can then sign in.
    let env = Env::new(&t).await;
    let token = link.rsplit('/').next().unwrap();
    // An account whose names are missing (made before they were required) gives them when
    // it sets its password; without them nothing changes and the link stays usable.
    sqlx::query("UPDATE users SET given_name = '', surname = '' WHERE email = 'ops@vendor.test'")
        .execute(t.db.pool())
        .await
        .unwrap();
    let accept = format!("/api/v1/invitations/{token}/accept");
    let (s, body) = env
        .post(
            &accept,
            None,
            json!({ "password": PASSWORD, "confirm_password": PASSWORD }),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "names_required", "{body}");
    let (s, body) = env
        .post(
            &accept,
            None,
            json!({ "password": PASSWORD, "confirm_password": PASSWORD, "given_name": "Olive", "surname": " " }),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::BAD_REQUEST, "{body}");
    let (s, _) = env
        .post(
            &accept,
            None,
            json!({ "password": PASSWORD, "confirm_password": PASSWORD, "given_name": "Olive", "surname": "Ops" }),
        )
        .await;
    assert_eq!(s, reqwest::StatusCode::OK);
    let ops = env.log_in("ops@vendor.test", PASSWORD).await;
    let (_, me) = env.get("/api/v1/me", Some(&ops)).await;
    assert_eq!(
        (me["role"].as_str(), me["given_name"].as_str()),
        (Some("operator"), Some("Olive"))
    );
    let (_, sites) = env.get("/api/v1/sites", Some(&ops)).await;
    assert_eq!(sites["sites"][0]["licences"], 9);
}
on_both_backends!(sites_and_staff, sites_and_staff_by_cli);
