//! A plugin that describes its config (contract 0.3's `describe-config`) is edited in a form: the
//! API lists its settings with their values, takes new settings by key, and the Try page renders
//! one field per setting; a plugin of an older contract keeps the text box.

use crate::pages::{Browser, env_without_codes};
use crate::requests::Desk;
use crate::support::{TestDb, on_both_backends};
use helpdesk::domain::rules::Slot;
use reqwest::StatusCode;
use serde_json::json;

async fn operators_edit_described_settings(t: TestDb) {
    let desk = Desk::with(env_without_codes(&t).await).await;
    let env = &desk.env;
    let plugins = &env.server.state.plugins;
    let db = &env.server.state.db;
    let current = plugins
        .install(
            db,
            Slot::PasswordPolicy,
            helpdesk_bundled_plugins::DEFAULTS[0].wasm,
            "min-length = 12\n",
            "cli:test",
            false,
        )
        .await
        .unwrap();
    let first = plugins
        .install(
            db,
            Slot::PasswordPolicy,
            helpdesk_bundled_plugins::fixtures::FIRST_CONTRACT,
            "",
            "cli:test",
            false,
        )
        .await
        .unwrap();

    // The settings, with their values under the config.
    let path = format!("/api/v1/plugins/{current}/config");
    let (s, body) = env.get(&path, Some(&desk.operator)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["config"], "min-length = 12\n");
    let keys: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "min-length",
            "max-length",
            "min-classes",
            "symbols",
            "reject-personal-info"
        ]
    );
    assert_eq!(
        body["fields"][0],
        json!({
            "key": "min-length",
            "label": "Minimum length",
            "help": "The fewest characters a password may have.",
            "type": "integer",
            "default": 8,
            "min": 1,
            "max": 1024,
        })
    );
    assert_eq!(body["values"]["min-length"], 12);
    assert_eq!(body["values"]["max-length"], 16, "the default");
    assert_eq!(body["values"]["reject-personal-info"], false);
    assert_eq!(body["unreadable"], json!(null));

    // New settings by key: only what differs from the default is written.
    let (s, body) = env
        .post(
            &path,
            Some(&desk.operator),
            json!({ "settings": { "min-length": 10, "max-length": 16, "reject-personal-info": true } }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let second = body["id"].as_i64().unwrap();
    assert_eq!(
        body["diff"],
        json!([
            "- min-length = 12",
            "+ min-length = 10",
            "+ reject-personal-info = true"
        ])
    );
    let row = helpdesk::db::plugins::get(db, second)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.config, "min-length = 10\nreject-personal-info = true\n");

    // Bad settings change nothing and say what is wrong.
    let before = helpdesk::db::plugins::installed(db).await.unwrap().len();
    for (settings, status, message) in [
        (
            json!({ "min-length": 2000 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Minimum length: use a number from 1 to 1024.",
        ),
        (
            json!({ "colour": "red" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "has no setting `colour` (its settings: min-length, max-length, min-classes, symbols, reject-personal-info)",
        ),
        (
            json!({ "min-length": 1.5 }),
            StatusCode::BAD_REQUEST,
            "`settings.min-length`: a whole number",
        ),
        (
            // The plugin's own check: the minimum above the maximum.
            json!({ "min-length": 20 }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "`min-length` (20) is greater than `max-length` (16)",
        ),
    ] {
        let (s, body) = env
            .post(&path, Some(&desk.operator), json!({ "settings": settings }))
            .await;
        assert_eq!(s, status, "{settings}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(message),
            "{settings}: {body}"
        );
    }
    let (s, _) = env
        .post(
            &path,
            Some(&desk.operator),
            json!({ "config": "", "settings": {} }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = env.get(&path, Some(&desk.agent)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        helpdesk::db::plugins::installed(db).await.unwrap().len(),
        before
    );

    // A 0.1.0 component describes nothing: its config is text.
    let old = format!("/api/v1/plugins/{first}/config");
    let (s, body) = env.get(&old, Some(&desk.operator)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["fields"], json!(null));
    let (s, body) = env
        .post(&old, Some(&desk.operator), json!({ "settings": {} }))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not describe its settings"),
        "{body}"
    );

    // The Try page renders a field per setting, filled in with the config's values.
    let ops = Browser::sign_in(env, "ops@vendor.test").await;
    let page = ops
        .get(env, &format!("/staff/plugins/{second}/try"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<input id="setting-min-length" name="setting-min-length" type="number" inputmode="numeric" min="1" max="1024" step="1" value="10""#),
        "{page}"
    );
    assert!(
        page.contains(r#"name="setting-reject-personal-info" value="true" aria-describedby="help-reject-personal-info" checked>"#),
        "{page}"
    );
    assert!(page.contains("The fewest characters a password may have."));
    // Unticking the checkbox and raising the minimum: a new installation, with its difference.
    let res = ops
        .post(
            env,
            &format!("/staff/plugins/{second}/settings"),
            &[
                ("setting-min-length", "11"),
                ("setting-max-length", "16"),
                ("setting-min-classes", "3"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("+ min-length = 11"), "{page}");
    assert!(page.contains("- reject-personal-info = true"), "{page}");
    let third = helpdesk::db::plugins::installed(db).await.unwrap()[0].id;
    assert_eq!(
        helpdesk::db::plugins::get(db, third)
            .await
            .unwrap()
            .unwrap()
            .config,
        "min-length = 11\n"
    );
    // A value out of range is refused on the page too, and the form keeps what was typed.
    let res = ops
        .post(
            env,
            &format!("/staff/plugins/{third}/settings"),
            &[("setting-min-classes", "9")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Character kinds required: use a number from 1 to 4."),
        "{page}"
    );
    assert!(page.contains(r#"value="9""#), "{page}");

    // The 0.1.0 component's page keeps the text box and no setting fields.
    let page = ops
        .get(env, &format!("/staff/plugins/{first}/try"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<textarea id="config" name="config""#),
        "{page}"
    );
    assert!(!page.contains("setting-"), "{page}");
}
on_both_backends!(settings, operators_edit_described_settings);
