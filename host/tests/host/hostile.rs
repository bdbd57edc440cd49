//! Hostile plugins are contained: each misbehaviour is cut off, reported as a typed error naming
//! the plugin, and leaves the runtime (and the server) serving.

use crate::support;
use helpdesk::domain::rules::{PasswordContext, PasswordVerdict, Slot};
use helpdesk::plugins::{Budget, Loaded, LogLevel, PluginErrorKind, PrepareError, measure};
use helpdesk_bundled_plugins::{DEFAULTS, fixtures::HOSTILE};
use std::time::{Duration, Instant};

fn hostile(config: &str) -> Loaded {
    Loaded::prepare(
        &support::runtime(),
        Slot::PasswordPolicy,
        HOSTILE,
        config,
        7,
    )
    .expect("hostile fixture loads")
}

fn check(plugin: &Loaded) -> Result<PasswordVerdict, helpdesk::plugins::PluginError> {
    plugin
        .check_password("secret", &PasswordContext::default())
        .map(|d| d.value)
}

#[test]
fn an_infinite_loop_runs_out_of_instructions_the_same_way_every_time() {
    let plugin = hostile("loop");
    let budget = plugin.budget;
    for _ in 0..3 {
        let (result, usage) = measure(|| check(&plugin));
        let err = result.unwrap_err();
        assert_eq!(err.kind, PluginErrorKind::OutOfFuel(budget.instructions));
        // Every instruction of the budget, and not one more: the same answer at any load.
        assert_eq!(usage.instructions, budget.instructions);
        assert!(usage.elapsed < budget.backstop, "{:?}", usage.elapsed);
        let p = err.plugin.as_ref().unwrap();
        assert_eq!(
            (p.id, p.name.as_str(), p.version.as_str()),
            (7, "hostile", "0.1.0")
        );
        assert_eq!(p.sha256.len(), 64);
        assert!(
            err.to_string()
                .starts_with("plugin hostile 0.1.0 (#7, sha256 "),
            "{err}"
        );
        assert!(
            err.to_string().ends_with(&format!(
                "used up its budget of {} instructions",
                budget.instructions
            )),
            "{err}"
        );
    }
}

#[test]
fn the_wall_clock_backstop_stops_a_call_the_instruction_budget_would_allow() {
    let budget = Budget {
        instructions: u64::MAX / 2,
        backstop: Duration::from_millis(50),
        ..Budget::default()
    };
    let plugin = Loaded::prepare_with(
        &support::runtime(),
        Slot::PasswordPolicy,
        HOSTILE,
        "loop",
        7,
        budget,
    )
    .expect("hostile fixture loads");
    let started = Instant::now();
    let err = check(&plugin).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(
        err.kind,
        PluginErrorKind::Timeout(Duration::from_millis(50))
    );
    assert!(
        elapsed >= Duration::from_millis(50) && elapsed < Duration::from_millis(500),
        "{elapsed:?}"
    );
    assert!(
        err.to_string().ends_with("ran past its 50 ms backstop"),
        "{err}"
    );
}

#[test]
fn a_budget_over_the_ceiling_is_refused_before_anything_runs() {
    let runtime = support::runtime();
    let over = Budget {
        memory: runtime.limits().memory_ceiling + (1 << 20),
        ..Budget::default()
    };
    let err = Loaded::prepare_with(&runtime, Slot::PasswordPolicy, HOSTILE, "", 7, over)
        .unwrap_err()
        .to_string();
    assert!(err.contains("over this server's ceiling"), "{err}");
}

#[test]
fn a_memory_bomb_stops_at_the_cap() {
    // Instructions enough to reach the cap: the memory budget is what stops it.
    let budget = Budget {
        instructions: 10_000_000_000,
        ..Budget::default()
    };
    let plugin = Loaded::prepare_with(
        &support::runtime(),
        Slot::PasswordPolicy,
        HOSTILE,
        "memory",
        7,
        budget,
    )
    .expect("hostile fixture loads");
    let err = check(&plugin).unwrap_err();
    let PluginErrorKind::MemoryLimit { limit, wanted } = err.kind else {
        panic!("{err}")
    };
    assert_eq!(limit, 32 << 20);
    assert!(wanted > limit, "{wanted}");
    assert!(
        err.to_string().ends_with("over its budget of 32 MiB"),
        "{err}"
    );
}

#[test]
fn a_budget_below_the_declared_memory_names_both_sizes() {
    // The bundled password plugin declares about a megabyte of linear memory up front.
    let tiny = Budget {
        memory: 64 << 10,
        ..Budget::default()
    };
    let err = Loaded::prepare_with(
        &support::runtime(),
        Slot::PasswordPolicy,
        DEFAULTS[0].wasm,
        "",
        7,
        tiny,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("asked for") && err.contains("MiB of memory, over its budget of 64 KiB"),
        "{err}"
    );
}

#[test]
fn a_panic_traps_and_its_message_is_kept() {
    let err = check(&hostile("panic")).unwrap_err();
    let PluginErrorKind::Trap { stderr, .. } = &err.kind else {
        panic!("{err}")
    };
    assert!(stderr.contains("hostile plugin about to panic"), "{stderr}");
    assert!(stderr.contains("deliberate panic"), "{stderr}");
}

#[test]
fn a_huge_answer_is_refused() {
    let err = check(&hostile("huge")).unwrap_err();
    assert!(
        matches!(err.kind, PluginErrorKind::OutputTooLarge { limit: 65536, bytes } if bytes > 1 << 20),
        "{err}"
    );
}

#[test]
fn a_rejection_without_violations_is_malformed() {
    let err = check(&hostile("empty-rejection")).unwrap_err();
    assert!(
        matches!(&err.kind, PluginErrorKind::Malformed(why) if why.contains("without naming a violation")),
        "{err}"
    );
}

#[test]
fn a_plugin_sees_no_clock_randomness_environment_or_files() {
    let plugin = hostile("ambient");
    let first = check(&plugin).unwrap();
    let PasswordVerdict::Rejected(v) = &first else {
        panic!("{first:?}")
    };
    let report = &v[0].message;
    assert!(report.starts_with("clock=0 "), "{report}");
    assert!(report.ends_with(" env=0 file=false"), "{report}");
    // Fresh instance, fixed randomness: the same answer every time.
    assert_eq!(check(&plugin).unwrap(), first);
}

#[test]
fn the_runtime_keeps_serving_after_every_kind_of_failure() {
    let runtime = support::runtime();
    let good = Loaded::prepare(&runtime, Slot::PasswordPolicy, DEFAULTS[0].wasm, "", 1).unwrap();
    for config in ["loop", "memory", "panic", "huge", "empty-rejection"] {
        let bad = Loaded::prepare(&runtime, Slot::PasswordPolicy, HOSTILE, config, 2).unwrap();
        assert!(check(&bad).is_err(), "{config}");
        assert_eq!(
            good.check_password("Abcdefg1", &PasswordContext::default())
                .unwrap()
                .value,
            PasswordVerdict::Accepted,
            "after {config}"
        );
    }
}

fn refusal(slot: Slot, bytes: &[u8], config: &str) -> String {
    match Loaded::prepare(&support::runtime(), slot, bytes, config, 0) {
        Err(PrepareError::Refused(why)) | Err(PrepareError::InvalidConfig(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_component_of_another_world_is_refused_naming_what_is_missing() {
    let why = refusal(Slot::PasswordPolicy, DEFAULTS[2].wasm, "");
    assert_eq!(
        why,
        "the component does not implement the password-policy slot: it does not export `helpdesk:plugins/password-rules@0.6.0` (it exports `helpdesk:plugins/workflow@0.6.0`); it looks like a ticket-workflow plugin"
    );
}

#[test]
fn a_core_module_is_refused() {
    // The smallest valid core module: magic and version 1.
    let why = refusal(Slot::PasswordPolicy, b"\0asm\x01\0\0\0", "");
    assert!(
        why.starts_with("this is a core WebAssembly module, not a component"),
        "{why}"
    );
}

#[test]
fn bytes_that_are_not_webassembly_are_refused() {
    let why = refusal(Slot::TicketWorkflow, b"#!/bin/sh\necho hi\n", "");
    assert!(
        why.starts_with("this is not a WebAssembly component"),
        "{why}"
    );
    let truncated = &DEFAULTS[0].wasm[..DEFAULTS[0].wasm.len() / 2];
    let why = refusal(Slot::PasswordPolicy, truncated, "");
    assert!(
        why.starts_with("the component is malformed: unexpected end-of-file"),
        "{why}"
    );
}

#[test]
fn a_config_the_plugin_rejects_is_refused_with_its_message() {
    assert_eq!(
        refusal(Slot::PasswordPolicy, HOSTILE, "refuse"),
        "this config is refused"
    );
    assert_eq!(
        refusal(Slot::PasswordPolicy, DEFAULTS[0].wasm, "min-length = 20"),
        "`min-length` (20) is greater than `max-length` (16)"
    );
}

#[test]
fn a_hostile_config_at_install_fails_closed_too() {
    // validate-config itself runs under the same limits.
    let runtime = support::runtime();
    let plugin = Loaded::prepare(&runtime, Slot::PasswordPolicy, HOSTILE, "", 0).unwrap();
    assert_eq!(plugin.info.name, "hostile");
    assert!(plugin.password_requirements().is_ok());
    let err = hostile("loop").password_requirements().unwrap_err();
    assert!(matches!(err.kind, PluginErrorKind::OutOfFuel(_)));
}

#[test]
fn a_chatty_plugin_is_heard_within_bounds_and_still_answers() {
    let plugin = hostile("chatty");
    let (verdict, usage) = measure(|| check(&plugin));
    assert_eq!(verdict.unwrap(), PasswordVerdict::Accepted);
    let lines: Vec<(LogLevel, &str)> = usage
        .logs
        .iter()
        .map(|l| (l.level, l.message.as_str()))
        .collect();
    // The long line cut at 1 KiB (on a character boundary), then 31 more of the 40.
    assert_eq!(lines[0].0, LogLevel::Warn);
    assert_eq!(lines[0].1, format!("{}…", "é".repeat(512)));
    assert_eq!(lines[1], (LogLevel::Info, "line 0"));
    assert_eq!(lines[31], (LogLevel::Info, "line 30"));
    assert_eq!(lines[32], (LogLevel::Output, "and to stdout"));
    assert_eq!(
        lines[33],
        (
            LogLevel::Warn,
            "9 more lines were dropped (at most 32 per call)"
        )
    );
    assert_eq!(lines.len(), 34);
}

/// A plugin's log line cannot forge a line of the server's text log: a line break inside it is
/// written as `\n`, on the line of the event that carries it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_cannot_forge_a_line_of_the_servers_log() {
    let data = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_helpdesk");
    let wasm = support::write_file(data.path(), "hostile.wasm", HOSTILE);
    let config = support::write_file(data.path(), "forge.conf", b"forge");
    let install = std::process::Command::new(bin)
        .args(["plugin", "install", "password-policy"])
        .arg(&wasm)
        .arg("--config")
        .arg(&config)
        .arg("--activate")
        .env("HELPDESK_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let addr = support::free_addr();
    let log = std::fs::File::create(data.path().join("server.log")).unwrap();
    let mut server = std::process::Command::new(bin)
        .args(["serve", "--listen", &addr.to_string()])
        .env("HELPDESK_DATA_DIR", data.path())
        .env("HELPDESK_LOG", "info")
        .env("HELPDESK_LOG_FORMAT", "text")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let http = support::client();
    let url = format!("http://{addr}/api/v1/password-policy/check");
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(res) = http
            .post(&url)
            .json(&serde_json::json!({ "password": "anything" }))
            .send()
            .await
            && res.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < until, "the server never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = server.kill();
    let _ = server.wait();
    let text = std::fs::read_to_string(data.path().join("server.log")).unwrap();
    assert!(
        text.contains("plugin: checked\\n2000-01-01T00:00:00.000000Z ERROR helpdesk: forged"),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("2000-01-01")),
        "a forged line: {text}"
    );
}
