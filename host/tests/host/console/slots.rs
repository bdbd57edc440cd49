//! The slots: what serves, what is installed, what served before; install by upload, edit a
//! config, activate and roll back in one action.

use crate::pages::{Browser, env_without_codes};
use crate::requests::Desk;
use crate::support::{TestDb, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The console: every slot with its active plugin, candidates and history; activation and
/// rollback in one action from the API and the pages, operators only, audited.
async fn operators_swap_plugins_from_the_console(t: TestDb) {
    use helpdesk::domain::rules::Slot;
    let desk = Desk::with(env_without_codes(&t).await).await;
    let env = &desk.env;
    let plugins = &env.server.state.plugins;
    let bundled = plugins.active(Slot::PasswordPolicy).unwrap().plugin.id;
    let strict = plugins
        .install(
            &env.server.state.db,
            Slot::PasswordPolicy,
            helpdesk_bundled_plugins::DEFAULTS[0].wasm,
            "min-length = 14\n",
            "cli:test",
            false,
        )
        .await
        .unwrap();

    let (s, body) = env.get("/api/v1/plugins", Some(&desk.operator)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let slots = body["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 3);
    let password = &slots[0];
    assert_eq!(password["slot"], "password-policy");
    assert_eq!(password["active_id"], bundled);
    let installed = password["installed"].as_array().unwrap();
    assert_eq!(installed[0]["id"], strict, "newest first");
    assert_eq!(installed[0]["config"], "min-length = 14\n");
    assert_eq!(installed[0]["installed_by"], "cli:test");
    assert!(installed[0]["size"].as_i64().unwrap() > 10_000);
    assert_eq!(password["history"][0]["plugin_id"], bundled);

    for token in [&desk.agent, &desk.ann] {
        let (s, _) = env.get("/api/v1/plugins", Some(token)).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = env
            .post(
                &format!("/api/v1/plugins/{strict}/activate"),
                Some(token),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        bundled
    );

    let (s, body) = env
        .post(
            &format!("/api/v1/plugins/{strict}/activate"),
            Some(&desk.operator),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "slot": "password-policy", "active_id": strict })
    );
    // This server serves it at once.
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        strict
    );
    let (s, body) = env
        .post(
            &format!("/api/v1/plugins/{strict}/activate"),
            Some(&desk.operator),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    let (s, _) = env
        .post(
            "/api/v1/plugins/999999/activate",
            Some(&desk.operator),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = env
        .post(
            "/api/v1/slots/no-such-slot/rollback",
            Some(&desk.operator),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The page shows it, and rolls it back in one action.
    let ops = Browser::sign_in(env, "ops@vendor.test").await;
    let page = ops.get(env, "/staff/plugins").await.text().await.unwrap();
    assert!(
        page.contains(&format!("<strong>#{strict} password-default")),
        "{page}"
    );
    assert!(page.contains("operator:ops@vendor.test"), "{page}");
    assert!(
        page.contains(&format!("/staff/plugins/{bundled}/activate")),
        "{page}"
    );
    let res = ops
        .post(env, "/staff/slots/password-policy/rollback", &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        bundled
    );
    let page = ops.get(env, &to).await.text().await.unwrap();
    assert!(
        page.contains(&format!("back on plugin #{bundled}")),
        "{page}"
    );
    assert!(
        page.contains(&format!("<strong>#{bundled} password-default")),
        "{page}"
    );
    // Nothing earlier to go back to.
    let res = ops
        .post(env, "/staff/slots/password-policy/rollback", &[])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("no earlier"));
    // A page post without the CSRF token changes nothing.
    let res = ops
        .client
        .post(env.server.url(&format!("/staff/plugins/{strict}/activate")))
        .header("cookie", &ops.cookies)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        bundled
    );

    // Both changes are in the audit log, with the operator.
    let (_, body) = env.get("/api/v1/audit", Some(&desk.operator)).await;
    let events: Vec<(String, String)> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"].as_str().unwrap().starts_with("plugin_"))
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_owned(),
                e["email"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            (
                "plugin_rolled_back".to_owned(),
                "ops@vendor.test".to_owned()
            ),
            ("plugin_activated".to_owned(), "ops@vendor.test".to_owned()),
        ]
    );
}
on_both_backends!(console, operators_swap_plugins_from_the_console);

/// Installing by upload, from the API and the pages: the CLI's checks and messages, nothing
/// stored when refused, audited.
async fn operators_install_by_upload(t: TestDb) {
    use helpdesk::domain::rules::Slot;
    use reqwest::multipart::{Form, Part};
    let desk = Desk::with(env_without_codes(&t).await).await;
    let env = &desk.env;
    let plugins = &env.server.state.plugins;
    let db = &env.server.state.db;
    let form = |slot: &str, bytes: &[u8], config: &str, activate: bool| {
        let mut f = Form::new()
            .text("slot", slot.to_owned())
            .part(
                "component",
                Part::bytes(bytes.to_vec()).file_name("plugin.wasm"),
            )
            .text("config", config.to_owned());
        if activate {
            f = f.text("activate", "true");
        }
        f
    };
    let upload = |token: &str, f: Form| {
        let req = env
            .http
            .post(env.server.url("/api/v1/plugins"))
            .bearer_auth(token)
            .multipart(f);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap_or_default())
        }
    };
    let count = || async { helpdesk::db::plugins::installed(db).await.unwrap().len() };
    let password = helpdesk_bundled_plugins::DEFAULTS[0].wasm;
    let installed_before = count().await;

    // Refused before the body is read: a small one, so that the answer can be read.
    let (s, body) = upload(&desk.agent, form("password-policy", b"x", "", true)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    let (s, body) = upload(
        &desk.operator,
        form("password-policy", b"not a component", "", false),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "plugin_refused");
    let (s, body) = upload(
        &desk.operator,
        form("password-policy", password, "min-length = banana\n", false),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`banana`"),
        "{body}"
    );
    let (s, body) = upload(
        &desk.operator,
        form(
            "password-policy",
            helpdesk_bundled_plugins::DEFAULTS[2].wasm,
            "",
            false,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (s, body) = upload(&desk.operator, Form::new().text("slot", "password-policy")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["details"]["field"], "component");
    assert_eq!(
        count().await,
        installed_before,
        "nothing stored when refused"
    );

    let (s, body) = upload(
        &desk.operator,
        form("password-policy", password, "min-length = 13\n", true),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    assert_eq!(body["name"], "password-default");
    assert_eq!(body["active"], true);
    assert_eq!(plugins.active(Slot::PasswordPolicy).unwrap().plugin.id, id);
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().config,
        "min-length = 13\n"
    );

    // An installation's own budget, as the CLI's `--memory-mib` and the rest: checked against
    // the server's ceilings, kept with the installation.
    let budget = |f: Form, fields: &[(&'static str, &'static str)]| {
        fields.iter().fold(f, |f, (k, v)| f.text(*k, *v))
    };
    for (fields, status, field) in [
        (
            &[("memory_mib", "0")][..],
            StatusCode::BAD_REQUEST,
            "memory_mib",
        ),
        (
            &[("backstop_ms", "soon")][..],
            StatusCode::BAD_REQUEST,
            "backstop_ms",
        ),
        (
            &[("memory_mib", "1024")][..],
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
    ] {
        let (s, body) = upload(
            &desk.operator,
            budget(form("password-policy", password, "", false), fields),
        )
        .await;
        assert_eq!(s, status, "{fields:?}: {body}");
        if field.is_empty() {
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("over this server's ceiling of 512 MiB"),
                "{body}"
            );
        } else {
            assert_eq!(body["error"]["details"]["field"], field, "{body}");
        }
    }
    let (s, body) = upload(
        &desk.operator,
        budget(
            form("password-policy", password, "min-length = 14\n", false),
            &[
                ("instructions", "50000000"),
                ("memory_mib", "64"),
                ("output_kib", "128"),
                ("backstop_ms", "2000"),
            ],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let raised = helpdesk::db::plugins::get(db, body["id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&raised.budget).unwrap(),
        json!({ "instructions": 50_000_000, "memory_mib": 64, "output_kib": 128, "backstop_ms": 2000 })
    );

    // From the page: the token rides in the address, checked before the body is read.
    let ops = Browser::sign_in(env, "ops@vendor.test").await;
    let page = ops.get(env, "/staff/plugins").await.text().await.unwrap();
    assert!(page.contains(r#"enctype="multipart/form-data""#), "{page}");
    let post = |query: String, f: Form| {
        ops.client
            .post(env.server.url(&format!("/staff/plugins{query}")))
            .header("cookie", &ops.cookies)
            .multipart(f)
            .send()
    };
    // Refused before the body is read (a small body, so that the answer can be read).
    let res = post(String::new(), form("password-policy", b"x", "", false))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post(
        format!("?csrf={}", ops.csrf),
        form("password-policy", b"\0asm junk", "", false),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("refused"));
    let res = post(
        format!("?csrf={}", ops.csrf),
        form("password-policy", password, "min-length = 15\n", false),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let page = ops.get(env, &to).await.text().await.unwrap();
    assert!(page.contains("Installed #"), "{page}");
    assert!(page.contains("min-length = 15"), "{page}");
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        id,
        "not activated"
    );

    let (_, body) = env.get("/api/v1/audit", Some(&desk.operator)).await;
    let installs = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "plugin_installed")
        .count();
    assert_eq!(installs, 3);
}
on_both_backends!(install, operators_install_by_upload);

/// Editing a config: a new installation, checked by the plugin, not active, with the
/// difference shown; then activated in one action.
async fn operators_edit_a_config(t: TestDb) {
    use helpdesk::domain::rules::Slot;
    let desk = Desk::with(env_without_codes(&t).await).await;
    let env = &desk.env;
    let plugins = &env.server.state.plugins;
    let db = &env.server.state.db;
    let first = plugins
        .install(
            db,
            Slot::PasswordPolicy,
            helpdesk_bundled_plugins::DEFAULTS[0].wasm,
            "min-length = 12\nmin-classes = 3\n",
            "cli:test",
            true,
        )
        .await
        .unwrap();
    let path = format!("/api/v1/plugins/{first}/config");
    let (s, body) = env
        .post(
            &path,
            Some(&desk.operator),
            json!({ "config": "min-length = 14\nmin-classes = 3\n" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let second = body["id"].as_i64().unwrap();
    assert_ne!(second, first);
    assert_eq!(body["from"], first);
    assert_eq!(
        body["diff"],
        json!([
            "- min-length = 12",
            "+ min-length = 14",
            "  min-classes = 3"
        ])
    );
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        first,
        "not activated"
    );
    let row = helpdesk::db::plugins::get(db, second)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.config, "min-length = 14\nmin-classes = 3\n");
    assert_eq!(row.installed_by, "operator:ops@vendor.test");

    let before = helpdesk::db::plugins::installed(db).await.unwrap().len();
    let (s, body) = env
        .post(
            &path,
            Some(&desk.operator),
            json!({ "config": "min-length = banana\n" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        helpdesk::db::plugins::installed(db).await.unwrap().len(),
        before
    );
    let (s, _) = env
        .post(&path, Some(&desk.agent), json!({ "config": "" }))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // From the Try page: the diff, then Activate.
    let ops = Browser::sign_in(env, "ops@vendor.test").await;
    let page = ops
        .get(env, &format!("/staff/plugins/{first}/try"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("min-length = 12"), "{page}");
    let res = ops
        .post(
            env,
            &format!("/staff/plugins/{first}/config"),
            &[("config", "min-length = 16\r\nmin-classes = 3\r\n")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(page.contains("- min-length = 12"), "{page}");
    assert!(page.contains("+ min-length = 16"), "{page}");
    let third = helpdesk::db::plugins::installed(db).await.unwrap()[0].id;
    assert!(
        page.contains(&format!("/staff/plugins/{third}/activate")),
        "{page}"
    );
    let res = ops
        .post(env, &format!("/staff/plugins/{third}/activate"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        third
    );
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().config,
        "min-length = 16\nmin-classes = 3\n"
    );
}
on_both_backends!(edit_config, operators_edit_a_config);
