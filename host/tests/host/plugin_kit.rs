//! What a plugin author meets at install: budgets per installation that every replica applies,
//! compatible contract versions accepted, and refusals that name the problem before the compile.

use crate::support::{self, TestDb, on_both_backends};
use helpdesk::domain::rules::{PasswordContext, PasswordVerdict, Slot};
use helpdesk::plugins::{Install, ManageError, PluginErrorKind, Raise, measure};
use helpdesk_bundled_plugins::{DEFAULTS, fixtures};
use std::time::{Duration, Instant};

/// An installation's own budget is stored with it: the installing host and a replica that loads
/// it from the database both apply it, and the same bytes under another budget are another
/// installation.
async fn budgets_per_installation(t: TestDb) {
    let plugins = support::plugins();
    let tight = Raise {
        instructions: Some(1_000),
        ..Raise::default()
    };
    let install = |raise| Install {
        slot: Slot::PasswordPolicy,
        bytes: DEFAULTS[0].wasm,
        config: "",
        raise,
        signature: None,
        by: "test",
        activate: true,
    };
    let id = plugins.install_with(&t.db, &install(tight)).await;
    // 1,000 instructions are not enough to answer `info`: refused at install, nothing stored.
    let Err(ManageError::Plugin(e)) = id else {
        panic!("{id:?}")
    };
    assert_eq!(e.kind, PluginErrorKind::OutOfFuel(1_000));
    assert!(helpdesk::db::plugins::list(&t.db).await.unwrap().is_empty());

    let (loaded, prepared) = measure(|| {
        helpdesk::plugins::Loaded::prepare(
            &support::runtime(),
            Slot::PasswordPolicy,
            DEFAULTS[0].wasm,
            "",
            0,
        )
        .unwrap()
    });
    let check = |password: &str| {
        measure(|| {
            loaded
                .check_password(password, &PasswordContext::default())
                .unwrap()
        })
        .1
        .instructions
    };
    let long = "Abcdefg1".repeat(512);
    // Enough for each call at install (`info`, `validate-config`, `describe-config`: all of them
    // together) and for a check of a short password, not for a check of a long one.
    let snug_budget = prepared.instructions.max(check("Abcdefg1")) + 500;
    assert!(
        check(&long) > snug_budget,
        "{} instructions for a long password, {snug_budget} snug",
        check(&long)
    );
    let snug = Raise {
        instructions: Some(snug_budget),
        ..Raise::default()
    };
    let id = plugins.install_with(&t.db, &install(snug)).await.unwrap();
    let default_id = plugins
        .install(
            &t.db,
            Slot::PasswordPolicy,
            DEFAULTS[0].wasm,
            "",
            "test",
            false,
        )
        .await
        .unwrap();
    assert_ne!(id, default_id, "another budget is another installation");

    let replica = support::plugins();
    replica.refresh(&t.db).await.unwrap();
    for p in [&plugins, &replica] {
        p.refresh(&t.db).await.unwrap();
        let active = p.active(Slot::PasswordPolicy).unwrap();
        assert_eq!(active.budget.instructions, snug_budget);
        assert_eq!(
            active
                .check_password("Abcdefg1", &PasswordContext::default())
                .unwrap()
                .value,
            PasswordVerdict::Accepted
        );
        let err = active
            .check_password(&long, &PasswordContext::default())
            .unwrap_err();
        assert_eq!(err.kind, PluginErrorKind::OutOfFuel(snug_budget));
    }
}
on_both_backends!(budgets, budgets_per_installation);

/// A component built against `helpdesk:plugins@0.1.1` runs on this 0.6.0 host, through the 0.1 contract.
async fn a_newer_patch_of_the_contract_is_accepted(t: TestDb) {
    let plugins = support::plugins();
    let id = plugins
        .install(
            &t.db,
            Slot::PasswordPolicy,
            fixtures::NEXT_PATCH,
            "",
            "test",
            true,
        )
        .await
        .unwrap();
    plugins.refresh(&t.db).await.unwrap();
    let verdict = plugins
        .check_password("long enough", &PasswordContext::default())
        .unwrap();
    assert_eq!(
        (verdict.by.id, verdict.by.name.as_str()),
        (id, "next-patch")
    );
    assert_eq!(verdict.value, PasswordVerdict::Accepted);
    let PasswordVerdict::Rejected(v) = plugins
        .check_password("short", &PasswordContext::default())
        .unwrap()
        .value
    else {
        panic!("a short password passed")
    };
    assert_eq!(v[0].code, "too-short");
}
on_both_backends!(next_patch, a_newer_patch_of_the_contract_is_accepted);

/// Components built against `helpdesk:plugins@0.1.0` and `@0.2.0` (the host's frozen copies of
/// the older contracts) install beside components of the current one (0.6.0): each serves its
/// slot while 0.6.0 components serve the others, the slot swaps between contracts both ways,
/// and only the current contract's components describe their config.
async fn older_contracts_serve_beside_the_current_one(t: TestDb) {
    let plugins = support::plugins();
    plugins.ensure_defaults(&t.db).await.unwrap();
    plugins.refresh(&t.db).await.unwrap();
    let current = plugins.active(Slot::PasswordPolicy).unwrap().plugin.id;
    let first = plugins
        .install(
            &t.db,
            Slot::PasswordPolicy,
            fixtures::FIRST_CONTRACT,
            "",
            "test",
            true,
        )
        .await
        .unwrap();
    let verdict = |password: &str| {
        let d = plugins
            .check_password(password, &PasswordContext::default())
            .unwrap();
        (d.by.name, d.value)
    };
    assert_eq!(
        verdict("no digits at all, long"),
        (
            "first-contract".to_owned(),
            PasswordVerdict::Rejected(vec![helpdesk::domain::rules::Violation {
                code: "needs-digit".into(),
                message: "Use at least one digit.".into(),
            }])
        )
    );
    assert_eq!(verdict("a1").1, PasswordVerdict::Accepted);
    // The other slots stay on their 0.6.0 components, which describe their settings.
    let statuses = plugins.statuses().unwrap();
    assert_eq!(statuses.by.name, "workflow-default");
    assert!(!statuses.value.is_empty());
    let workflow = plugins.active(Slot::TicketWorkflow).unwrap();
    let fields = workflow.config_fields.as_ref().expect("0.6.0 describes");
    assert_eq!(fields[0].key, "reopen-window-days");
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().config_fields,
        None,
        "0.1.0 cannot describe"
    );

    // A 0.2.0 component, which logs, in the same slot.
    let second = plugins
        .install(
            &t.db,
            Slot::PasswordPolicy,
            fixtures::SECOND_CONTRACT,
            "",
            "test",
            true,
        )
        .await
        .unwrap();
    let active = plugins.active(Slot::PasswordPolicy).unwrap();
    assert_eq!(
        (active.plugin.id, active.config_fields.as_ref()),
        (second, None)
    );
    let (answer, usage) =
        measure(|| active.check_password("all lowercase", &PasswordContext::default()));
    assert_eq!(
        answer.unwrap().value,
        PasswordVerdict::Rejected(vec![helpdesk::domain::rules::Violation {
            code: "needs-uppercase".into(),
            message: "Use at least one uppercase letter.".into(),
        }])
    );
    assert_eq!(usage.logs.len(), 1, "{:?}", usage.logs);
    assert_eq!(usage.logs[0].message, "checking for an uppercase letter");
    plugins
        .rollback(&t.db, Slot::PasswordPolicy, "test")
        .await
        .unwrap();
    assert_eq!(verdict("a1").0, "first-contract");

    plugins
        .rollback(&t.db, Slot::PasswordPolicy, "test")
        .await
        .unwrap();
    assert_eq!(
        plugins.active(Slot::PasswordPolicy).unwrap().plugin.id,
        current
    );
    assert!(matches!(verdict("a1").1, PasswordVerdict::Rejected(_)));
    plugins
        .activate(&t.db, Slot::PasswordPolicy, first, "test")
        .await
        .unwrap();
    assert_eq!(
        verdict("a1"),
        ("first-contract".to_owned(), PasswordVerdict::Accepted)
    );
}
on_both_backends!(
    older_contracts,
    older_contracts_serve_beside_the_current_one
);

/// The smallest component that imports `name` as an empty instance: enough to be refused.
fn component_importing(name: &str) -> Vec<u8> {
    let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
    // Type section: one instance type with no declarations.
    bytes.extend_from_slice(&[0x07, 0x03, 0x01, 0x42, 0x00]);
    // Import section: one import of that instance type under `name`.
    let mut import = vec![0x01, 0x00, name.len() as u8];
    import.extend_from_slice(name.as_bytes());
    import.extend_from_slice(&[0x05, 0x00]);
    bytes.push(0x0a);
    bytes.push(import.len() as u8);
    bytes.extend_from_slice(&import);
    bytes
}

#[test]
fn a_wasi_http_import_is_refused_before_the_compile_with_the_fix() {
    let started = Instant::now();
    let err = helpdesk::plugins::Loaded::prepare(
        &support::runtime(),
        Slot::PasswordPolicy,
        &component_importing("wasi:http/outgoing-handler@0.2.3"),
        "",
        0,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("refused: the component imports `wasi:http/outgoing-handler@0.2.3`, which rule plugins are not granted"),
        "{err}"
    );
    assert!(err.contains("disableFeatures"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_component_for_another_minor_of_the_contract_is_refused_naming_the_versions() {
    let err = helpdesk::plugins::Loaded::prepare(
        &support::runtime(),
        Slot::PasswordPolicy,
        &component_importing("helpdesk:plugins/types@0.7.0"),
        "",
        0,
    )
    .unwrap_err()
    .to_string();
    // Named as a newer contract, with the versions this host speaks: not as an import that
    // rule plugins are not granted.
    assert!(
        err.contains("built against version 0.7.0 of the plugin contract")
            && err.contains("it speaks 0.6.x")
            && !err.contains("not granted"),
        "{err}"
    );
}

/// With trusted keys, a component installs only with a signature by one of them over its exact
/// bytes; the bundled plugins still install on first start.
async fn signed_components_only(t: TestDb) {
    use helpdesk::plugins::{Plugins, TrustedKeys};
    use helpdesk_plugin_host::signature;
    let (secret, public) = signature::generate().unwrap();
    let (stranger_secret, _) = signature::generate().unwrap();
    let plugins = Plugins::new(support::runtime()).trusting(TrustedKeys::parse(&public).unwrap());
    plugins.ensure_defaults(&t.db).await.unwrap();
    assert_eq!(helpdesk::db::plugins::list(&t.db).await.unwrap().len(), 3);

    let wasm = fixtures::NEXT_PATCH;
    let install = |signature| Install {
        slot: Slot::PasswordPolicy,
        bytes: wasm,
        config: "",
        raise: Raise::default(),
        signature,
        by: "test",
        activate: true,
    };
    let refusal = |r: Result<i64, ManageError>| match r {
        Err(ManageError::Refused(why)) => why,
        other => panic!("{other:?}"),
    };
    let why = refusal(plugins.install_with(&t.db, &install(None)).await);
    assert!(why.contains("accepts only signed components"), "{why}");
    let by_stranger = signature::sign(&stranger_secret, wasm).unwrap();
    let why = refusal(
        plugins
            .install_with(&t.db, &install(Some(&by_stranger)))
            .await,
    );
    assert!(
        why.contains("not made over this component by any trusted key"),
        "{why}"
    );
    let over_other_bytes = signature::sign(&secret, DEFAULTS[0].wasm).unwrap();
    refusal(
        plugins
            .install_with(&t.db, &install(Some(&over_other_bytes)))
            .await,
    );
    assert_eq!(
        helpdesk::db::plugins::list(&t.db).await.unwrap().len(),
        3,
        "nothing stored"
    );

    let good = signature::sign(&secret, wasm).unwrap();
    let id = plugins
        .install_with(&t.db, &install(Some(&format!("{good}\n"))))
        .await
        .unwrap();
    plugins.refresh(&t.db).await.unwrap();
    assert_eq!(plugins.active(Slot::PasswordPolicy).unwrap().plugin.id, id);
}
on_both_backends!(signatures, signed_components_only);

#[test]
fn a_function_that_differs_from_the_contract_is_named_at_install() {
    let err = helpdesk::plugins::Loaded::prepare(
        &support::runtime(),
        Slot::PasswordPolicy,
        fixtures::WRONG_SHAPE,
        "",
        0,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with(
            "refused: `check` in `helpdesk:plugins/password-rules@0.2.0` does not match the contract: "
        ),
        "{err}"
    );
    assert!(
        err.contains("rebuild the plugin against wit/helpdesk.wit"),
        "{err}"
    );
}
