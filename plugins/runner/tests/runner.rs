//! The plugin runner as an author uses it: testing a component against its examples, watching
//! it, and scaffolding a project in each language that builds, with the real toolchains, into a
//! component whose examples pass under the slot's default budget.

#![allow(clippy::unwrap_used)]

use helpdesk_bundled_plugins::{DEFAULTS, fixtures};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const RUNNER: &str = env!("CARGO_BIN_EXE_helpdesk-plugin");
const SLOTS: [&str; 3] = ["password-policy", "signup-eligibility", "ticket-workflow"];

fn runner(args: &[&str], dir: &Path) -> Output {
    Command::new(RUNNER)
        .args(args)
        .current_dir(dir)
        .env(
            "XDG_CACHE_HOME",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("runner-cache"),
        )
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn test_reports_every_case_with_its_cost_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.wasm", DEFAULTS[0].wasm);
    write(dir.path(), "examples.json", DEFAULTS[0].examples.as_bytes());
    let out = runner(&["test", "p.wasm"], dir.path());
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    let cases = report.lines().filter(|l| l.starts_with("ok ")).count();
    assert_eq!(cases, 20, "{report}");
    assert!(report.contains("20 passed, 0 failed; median "), "{report}");
    assert!(
        report.contains("settings, as the console's form shows them:\n  min-length               integer 1 to 1024, default 8\n"),
        "{report}"
    );
    assert!(
        report.contains("of 20000000), ") && report.contains("MiB memory ("),
        "{report}"
    );
    let line = report.lines().find(|l| l.starts_with("ok ")).unwrap();
    assert!(
        line.contains(" µs ") && line.contains(" instructions "),
        "{line}"
    );

    // A raised budget is reported as the one tested under.
    let out = runner(
        &["test", "p.wasm", "--instructions", "90000000"],
        dir.path(),
    );
    let raised = text(&out);
    assert!(raised.contains("of 90000000), "), "{raised}");
}

#[test]
fn failures_and_bad_files_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.wasm", DEFAULTS[0].wasm);
    write(
        dir.path(),
        "wrong.json",
        br#"{"slot": "password-policy", "cases": [
            {"name": "expects too much", "password": "Abcdefg1", "expect": ["too-short"]},
            {"name": "right", "password": "Abcdefg1", "expect": []}
        ]}"#,
    );
    let out = runner(&["test", "p.wasm", "wrong.json"], dir.path());
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("FAIL  expects too much"), "{t}");
    assert!(
        t.contains("expected [\"too-short\"]") && t.contains("got      []"),
        "{t}"
    );
    assert!(t.contains("1 passed, 1 failed"), "{t}");

    write(
        dir.path(),
        "typo.json",
        br#"{"slot": "password-policy", "cases": [{"pasword": "x", "expect": []}]}"#,
    );
    let out = runner(&["test", "p.wasm", "typo.json"], dir.path());
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("case 1: unknown field `pasword`"), "{t}");

    // A plugin that runs away is cut off by its instruction budget, and reported as such.
    write(dir.path(), "hostile.wasm", fixtures::HOSTILE);
    write(
        dir.path(),
        "loop.json",
        br#"{"slot": "password-policy", "configs": {"loop": "loop"}, "cases": [
            {"config": "loop", "password": "x", "expect": []}
        ]}"#,
    );
    let out = runner(
        &[
            "test",
            "hostile.wasm",
            "loop.json",
            "--instructions",
            "5000000",
        ],
        dir.path(),
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("used up its budget of 5000000 instructions"),
        "{t}"
    );
    assert!(
        t.contains("5000000 instructions (100.00% of 5000000)"),
        "{t}"
    );
}

#[test]
fn watch_runs_again_when_the_examples_change() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.wasm", DEFAULTS[0].wasm);
    let one = br#"{"slot": "password-policy", "cases": [{"name": "first", "password": "Abcdefg1", "expect": []}]}"#;
    write(dir.path(), "examples.json", one);
    let mut child = Command::new(RUNNER)
        .args(["test", "p.wasm", "--watch"])
        .current_dir(dir.path())
        .env(
            "XDG_CACHE_HOME",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("runner-cache"),
        )
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let wait_for = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return,
                Ok(_) => {}
                Err(e) => panic!("never saw {needle:?}: {e}"),
            }
        }
    };
    wait_for("ok    first");
    wait_for("(watching");
    // Modification times can be coarse: make sure the next write is seen as a change.
    std::thread::sleep(Duration::from_millis(1100));
    let two = br#"{"slot": "password-policy", "cases": [{"name": "second", "password": "short", "expect": []}]}"#;
    write(dir.path(), "examples.json", two);
    wait_for("FAIL  second");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn new_refuses_a_bad_name_and_an_existing_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = runner(&["new", "password-policy", "Bad_Name"], dir.path());
    assert!(!out.status.success());
    assert!(text(&out).contains("lowercase letters, digits and dashes"));
    std::fs::create_dir(dir.path().join("taken")).unwrap();
    let out = runner(&["new", "password-policy", "taken"], dir.path());
    assert!(
        text(&out).contains("taken already exists"),
        "{}",
        text(&out)
    );
}

/// Scaffolds `slot` in `lang` (Python or JavaScript), builds it with `build` (run in the
/// project), and runs its examples with the runner under the slot's default budget.
fn scaffold_build_test(root: &Path, lang: &str, slot: &str, build: impl Fn(&Path) -> Command) {
    let name = format!("{lang}-{slot}").replace("javascript", "js");
    let out = runner(&["new", slot, &name, "--lang", lang], root);
    assert!(out.status.success(), "{}", text(&out));
    let project = root.join(&name);
    assert!(project.join("examples.json").exists());
    assert!(project.join("README.md").exists());

    let started = Instant::now();
    let out = build(&project).output().unwrap();
    assert!(out.status.success(), "building {name}: {}", text(&out));
    let built = started.elapsed();
    let component_path = project.join(format!("{name}.wasm"));
    let size = std::fs::metadata(&component_path)
        .unwrap_or_else(|e| panic!("{}: {e}", component_path.display()))
        .len();

    let out = runner(
        &["test", component_path.to_str().unwrap(), "examples.json"],
        &project,
    );
    let report = text(&out);
    assert!(out.status.success(), "{name}: {report}");
    assert!(report.contains(" passed, 0 failed"), "{report}");
    // Every template describes its one setting, so the console shows a form.
    let setting = match slot {
        "password-policy" => "  min-length               integer 1 to 256, default 12\n",
        "signup-eligibility" => "  review-when-full         true or false, default false\n",
        _ => "  customers-close          true or false, default true\n",
    };
    assert!(report.contains(setting), "{name}: {report}");
    if slot == "password-policy" {
        // The template logs why it rejects; the line shows under its case.
        assert!(
            report.contains("      debug  5 characters, 12 needed"),
            "{report}"
        );
    }
    eprintln!(
        "{lang} {slot}: {:.1} KiB component, built in {:.0} s\n{report}",
        size as f64 / 1024.0,
        built.as_secs_f64()
    );
}

/// A `cargo` for a project outside this workspace: none of the outer build's settings leak in.
fn cargo(project: &Path, target_dir: &Path) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(project)
        .args(["build", "--release"])
        .env("CARGO_TARGET_DIR", target_dir);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("CARGO_") && key != "CARGO_HOME" || key == "RUSTFLAGS" {
            cmd.env_remove(&key);
        }
    }
    cmd.env("CARGO_TARGET_DIR", target_dir);
    cmd
}

#[test]
fn rust_templates_build_small_components_that_pass_their_examples() {
    let root = tempfile::tempdir().unwrap();
    // One target folder for the three projects, kept between runs: the SDK compiles once.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scaffold-target");
    for slot in SLOTS {
        let name = format!("rust-{slot}");
        let out = runner(&["new", slot, &name], root.path());
        assert!(out.status.success(), "{}", text(&out));
        let project = root.path().join(&name);
        let out = cargo(&project, &target).output().unwrap();
        assert!(out.status.success(), "building {name}: {}", text(&out));
        let component = target.join(format!(
            "wasm32-wasip2/release/{}.wasm",
            name.replace('-', "_")
        ));
        let size = std::fs::metadata(&component).unwrap().len();
        assert!(size < 400 << 10, "{name} is {size} bytes");
        let out = runner(&["test", component.to_str().unwrap()], &project);
        assert!(out.status.success(), "{name}: {}", text(&out));
        if slot == "password-policy" {
            let report = text(&out);
            assert!(
                report.contains("      debug  5 characters, 12 needed"),
                "{report}"
            );
        }
        eprintln!(
            "rust {slot}: {:.1} KiB\n{}",
            size as f64 / 1024.0,
            text(&out)
        );
    }
}

/// componentize-py, pinned, in a virtual environment under the test target folder.
fn componentize_py() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("componentize-py");
    let bin = venv.join("bin");
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/componentize-py.txt");
    let wanted = std::fs::read_to_string(&requirements).unwrap();
    let stamp = venv.join("requirements.txt");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return bin;
    }
    let run = |cmd: &mut Command| {
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{cmd:?} (the Python template test needs Python 3 with venv and the Python package registry): {}",
            text(&out)
        );
    };
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
    run(Command::new(bin.join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements));
    std::fs::write(&stamp, wanted).unwrap();
    bin
}

#[test]
fn python_templates_build_with_componentize_py_and_pass_their_examples() {
    let bin = componentize_py();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let root = tempfile::tempdir().unwrap();
    for slot in SLOTS {
        scaffold_build_test(root.path(), "python", slot, |project| {
            let mut cmd = Command::new("./build.sh");
            cmd.current_dir(project).env("PATH", &path);
            cmd
        });
    }
}

/// `npm install` and the build, in a JavaScript project.
fn npm_build(project: &Path) -> Command {
    let mut cmd = Command::new("sh");
    cmd.current_dir(project).args([
        "-c",
        "npm install --no-audit --no-fund --loglevel=error && npm run build",
    ]);
    cmd
}

#[test]
fn javascript_templates_build_with_componentize_js_and_pass_their_examples() {
    let root = tempfile::tempdir().unwrap();
    for slot in SLOTS {
        scaffold_build_test(root.path(), "javascript", slot, npm_build);
    }
    // An error a JavaScript plugin throws reaches the author with its message and its line in
    // plugin.js, not as a bare trap; what it logs with console.log shows too.
    let project = root.path().join("js-password-policy");
    let source = std::fs::read_to_string(project.join("plugin.js")).unwrap();
    let broken = source.replace(
        "const least = minLength(config);",
        "console.log(\"checking a password\");\n    throw new Error(\"the rule broke here\");",
    );
    assert_ne!(broken, source, "the template's check changed");
    std::fs::write(project.join("plugin.js"), broken).unwrap();
    let out = npm_build(&project).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let out = runner(
        &["test", "js-password-policy.wasm", "examples.json"],
        &project,
    );
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("the rule broke here"), "{report}");
    assert!(report.contains("plugin.js:"), "{report}");
    assert!(report.contains("checking a password"), "{report}");
}

#[test]
fn keygen_and_sign_make_a_signature_the_server_verifies() {
    use helpdesk_plugin_host::signature::TrustedKeys;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.wasm", DEFAULTS[0].wasm);
    let out = runner(&["keygen", "--out", "signing.key"], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    let printed = text(&out);
    let public = printed
        .split("HELPDESK_PLUGIN_TRUSTED_KEYS: ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("signing.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = runner(&["keygen", "--out", "signing.key"], dir.path());
    assert!(
        !again.status.success(),
        "an existing key is never overwritten"
    );

    let out = runner(&["sign", "p.wasm", "--key", "signing.key"], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    let sig = std::fs::read_to_string(dir.path().join("p.wasm.sig")).unwrap();
    let trusted = TrustedKeys::parse(public).unwrap();
    assert_eq!(
        trusted.verify(DEFAULTS[0].wasm, &sig).as_deref(),
        Ok(public)
    );
    assert!(trusted.verify(DEFAULTS[1].wasm, &sig).is_err());
}
