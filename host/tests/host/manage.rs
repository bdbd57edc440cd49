//! Installing, activating and rolling back plugins, and replicas following the database.

use crate::support::{self, TestDb, on_both_backends};
use helpdesk::db;
use helpdesk::domain::rules::{PasswordContext, PasswordVerdict, Slot};
use helpdesk::plugins::{Limits, ManageError, Plugins, Runtime};
use helpdesk_bundled_plugins::{DEFAULTS, fixtures};
use std::sync::Arc;

const PASSWORD: Slot = Slot::PasswordPolicy;

fn verdict_codes(plugins: &Plugins, password: &str) -> (Vec<String>, i64) {
    let d = plugins
        .check_password(password, &PasswordContext::default())
        .unwrap();
    let codes = match d.value {
        PasswordVerdict::Accepted => vec![],
        PasswordVerdict::Rejected(v) => v.into_iter().map(|v| v.code).collect(),
    };
    (codes, d.by.id)
}

/// Installs the bundled password policy under `config`, optionally activating it.
async fn install_password(plugins: &Plugins, db: &db::Db, config: &str, activate: bool) -> i64 {
    plugins
        .install(db, PASSWORD, DEFAULTS[0].wasm, config, "test", activate)
        .await
        .unwrap()
}

async fn first_start_installs_and_activates_the_bundled_plugins(t: TestDb) {
    let plugins = support::plugins();
    for slot in Slot::ALL {
        assert!(
            plugins.active(slot).is_err(),
            "nothing serves before the first refresh"
        );
    }
    plugins.ensure_defaults(&t.db).await.unwrap();
    plugins.ensure_defaults(&t.db).await.unwrap();
    let rows = db::plugins::list(&t.db).await.unwrap();
    let names: Vec<(&str, &str, bool)> = rows
        .iter()
        .map(|r| (r.slot.as_str(), r.name.as_str(), r.active))
        .collect();
    assert_eq!(
        names,
        [
            ("password-policy", "password-default", true),
            ("signup-eligibility", "eligibility-registered-domain", true),
            ("ticket-workflow", "workflow-default", true),
        ]
    );
    assert!(
        rows.iter()
            .all(|r| r.installed_by == "bundled" && r.sha256.len() == 64)
    );

    plugins.refresh(&t.db).await.unwrap();
    for (slot, row) in Slot::ALL.into_iter().zip(&rows) {
        let active = plugins.active(slot).unwrap();
        assert_eq!(
            (active.plugin.id, active.plugin.sha256.as_str()),
            (row.id, row.sha256.as_str())
        );
    }
    let statuses = plugins.statuses().unwrap().value;
    let keys: Vec<&str> = statuses.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "open",
            "in-progress",
            "waiting-for-customer",
            "on-hold",
            "closed"
        ]
    );
}
on_both_backends!(
    first_start,
    first_start_installs_and_activates_the_bundled_plugins
);

async fn install_activate_and_roll_back(t: TestDb) {
    let db = &t.db;
    let plugins = support::plugins();
    plugins.ensure_defaults(db).await.unwrap();
    plugins.refresh(db).await.unwrap();
    let bundled = plugins.active(PASSWORD).unwrap().plugin.id;
    assert_eq!(verdict_codes(&plugins, "Abcdefg1"), (vec![], bundled));

    // Same component, stricter config: a new installation, not active until asked.
    let strict = install_password(&plugins, db, "min-length = 12", false).await;
    assert_ne!(strict, bundled);
    assert_eq!(
        install_password(&plugins, db, "min-length = 12", false).await,
        strict
    );
    plugins.refresh(db).await.unwrap();
    assert_eq!(verdict_codes(&plugins, "Abcdefg1").1, bundled);

    plugins
        .activate(db, PASSWORD, strict, "test")
        .await
        .unwrap();
    plugins.refresh(db).await.unwrap();
    assert_eq!(
        verdict_codes(&plugins, "Abcdefg1"),
        (vec!["too-short".to_owned()], strict)
    );
    assert!(
        matches!(plugins.activate(db, PASSWORD, strict, "test").await, Err(ManageError::AlreadyActive(id, PASSWORD)) if id == strict)
    );

    let template = plugins
        .install(db, PASSWORD, fixtures::TEMPLATE.wasm, "", "test", true)
        .await
        .unwrap();
    plugins.refresh(db).await.unwrap();
    assert_eq!(verdict_codes(&plugins, "correct horse battery").1, template);

    // Rollback walks back through the activations, one step at a time.
    assert_eq!(
        plugins.rollback(db, PASSWORD, "test").await.unwrap(),
        strict
    );
    plugins.refresh(db).await.unwrap();
    assert_eq!(
        verdict_codes(&plugins, "Abcdefg1"),
        (vec!["too-short".to_owned()], strict)
    );
    assert_eq!(
        plugins.rollback(db, PASSWORD, "test").await.unwrap(),
        bundled
    );
    plugins.refresh(db).await.unwrap();
    assert_eq!(verdict_codes(&plugins, "Abcdefg1"), (vec![], bundled));
    assert!(matches!(
        plugins.rollback(db, PASSWORD, "test").await,
        Err(ManageError::NothingToRollBack(PASSWORD))
    ));
    assert_eq!(
        db::plugins::active_id(db, "password-policy").await.unwrap(),
        Some(bundled)
    );

    // Other slots were never touched.
    let workflow = plugins.active(Slot::TicketWorkflow).unwrap();
    assert_eq!(workflow.plugin.name, "workflow-default");
}
on_both_backends!(install_activate_rollback, install_activate_and_roll_back);

async fn refusals_change_nothing(t: TestDb) {
    let db = &t.db;
    let plugins = support::plugins();
    plugins.ensure_defaults(db).await.unwrap();
    let before = db::plugins::list(db).await.unwrap().len();

    let err = plugins
        .install(db, PASSWORD, DEFAULTS[2].wasm, "", "test", true)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("does not export `helpdesk:plugins/password-rules@0.6.0`"),
        "{err}"
    );
    let err = plugins
        .install(
            db,
            PASSWORD,
            DEFAULTS[0].wasm,
            "min-classes = 9",
            "test",
            true,
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the plugin's config is invalid: line 1: `min-classes` is 9, expected 1 to 4"
    );
    let err = plugins
        .install(db, PASSWORD, b"\0asm\x01\0\0\0", "", "test", true)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("refused: this is a core WebAssembly module"),
        "{err}"
    );
    assert_eq!(db::plugins::list(db).await.unwrap().len(), before);

    let workflow_id = db::plugins::active_id(db, "ticket-workflow")
        .await
        .unwrap()
        .unwrap();
    let err = plugins
        .activate(db, PASSWORD, workflow_id, "test")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("plugin #{workflow_id} is a ticket-workflow plugin, not a password-policy plugin")
    );
    let err = plugins
        .activate(db, PASSWORD, 9999, "test")
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "no plugin #9999 is installed");
    assert_eq!(db::plugins::list(db).await.unwrap().len(), before);
}
on_both_backends!(refusals, refusals_change_nothing);

async fn a_replica_keeps_serving_when_the_new_active_plugin_cannot_load(t: TestDb) {
    let db = &t.db;
    let plugins = support::plugins();
    plugins.ensure_defaults(db).await.unwrap();
    plugins.refresh(db).await.unwrap();
    let good = plugins.active(PASSWORD).unwrap().plugin.id;

    // Someone writes a broken component straight into the database and points the slot at it.
    let id = db::plugins::insert(
        db,
        &db::plugins::NewPlugin {
            slot: "password-policy",
            name: "broken",
            version: "1",
            summary: "",
            sha256: "00",
            wasm: b"not wasm",
            config: "",
            budget: "{}",
            installed_by: "test",
        },
    )
    .await
    .unwrap();
    db::plugins::activate(db, "password-policy", id, "test")
        .await
        .unwrap();
    plugins.refresh(db).await.unwrap();
    assert_eq!(verdict_codes(&plugins, "Abcdefg1"), (vec![], good));
}
on_both_backends!(
    broken_activation,
    a_replica_keeps_serving_when_the_new_active_plugin_cannot_load
);

#[test]
fn compiled_artifacts_are_cached_and_a_damaged_one_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_concurrent: 4,
        ..Limits::default()
    };
    let prepare = || {
        let runtime = Arc::new(Runtime::new(limits, Some(dir.path().to_owned())).unwrap());
        helpdesk::plugins::Loaded::prepare(&runtime, PASSWORD, DEFAULTS[0].wasm, "", 1).unwrap()
    };
    let first = prepare();
    let artifacts: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(artifacts.len(), 1);
    let name = artifacts[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with(&first.plugin.sha256) && name.ends_with(".cwasm"),
        "{name}"
    );

    let cached = prepare();
    assert_eq!(
        cached
            .check_password("Abcdefg1", &PasswordContext::default())
            .unwrap()
            .value,
        PasswordVerdict::Accepted
    );

    std::fs::write(&artifacts[0], b"damaged").unwrap();
    let rebuilt = prepare();
    assert_eq!(
        rebuilt
            .check_password("abc", &PasswordContext::default())
            .unwrap()
            .by
            .id,
        1
    );
    assert!(
        std::fs::read(&artifacts[0]).unwrap().len() > 1000,
        "the damaged artifact was replaced"
    );
}

/// Two operators rolling back at the same moment step back twice, never both to the same plugin.
async fn concurrent_rollbacks_queue_on_the_slot(t: TestDb) {
    let db = &t.db;
    let plugins = support::plugins();
    plugins.ensure_defaults(db).await.unwrap();
    let bundled = db::plugins::active_id(db, "password-policy")
        .await
        .unwrap()
        .unwrap();
    let a = install_password(&plugins, db, "min-length = 10", true).await;
    let b = install_password(&plugins, db, "min-length = 11", true).await;
    let _c = install_password(&plugins, db, "min-length = 12", true).await;

    let (first, second) = tokio::join!(
        plugins.rollback(db, PASSWORD, "one"),
        plugins.rollback(db, PASSWORD, "two")
    );
    let mut got = [first.unwrap(), second.unwrap()];
    got.sort();
    let mut want = [a, b];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(
        db::plugins::active_id(db, "password-policy").await.unwrap(),
        Some(a)
    );
    assert_eq!(
        plugins.rollback(db, PASSWORD, "three").await.unwrap(),
        bundled
    );
}
on_both_backends!(concurrent_rollbacks, concurrent_rollbacks_queue_on_the_slot);
