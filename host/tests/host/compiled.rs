//! Plugins with an interpreter inside, at scale: a component built with componentize-py (tens
//! of megabytes, a minute to compile) is compiled by every replica when it is installed, in a
//! child process; activating it waits until every live replica has, so all of them switch
//! within 200 ms; and the servers' memory stays where it was however many versions come.

use crate::support::{self, Backend, Spawned, TestDb};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The Python password-policy template, built with the pinned componentize-py.
fn python_component(dir: &Path) -> Vec<u8> {
    let componentize = support::python_tool(
        "HELPDESK_COMPONENTIZE_PY",
        "componentize-py-venv",
        "../plugins/runner/tests/componentize-py.txt",
        "componentize-py",
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::create_dir_all(dir.join("wit")).unwrap();
    std::fs::copy(root.join("wit/helpdesk.wit"), dir.join("wit/helpdesk.wit")).unwrap();
    let app =
        std::fs::read_to_string(root.join("plugins/runner/templates/python/password-policy.py"))
            .unwrap()
            .replace("{{name}}", "py-passwords");
    std::fs::write(dir.join("app.py"), app).unwrap();
    let out = Command::new(&componentize)
        .current_dir(dir)
        .args([
            "--wit-path",
            "wit",
            "--world",
            "password-policy",
            "componentize",
            "app",
            "--output",
            "py.wasm",
        ])
        .output()
        .expect("componentize-py");
    assert!(
        out.status.success(),
        "componentize-py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(dir.join("py.wasm")).unwrap()
}

/// `component` with a custom section naming `version`: other bytes (another sha256, another
/// compile), the same behaviour, as a new release of a plugin would be.
fn version_of(component: &[u8], version: u32) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let name = b"helpdesk-test-version";
    let mut payload = Vec::new();
    leb(name.len(), &mut payload);
    payload.extend_from_slice(name);
    payload.extend_from_slice(&version.to_le_bytes());
    let mut out = component.to_vec();
    out.push(0);
    leb(payload.len(), &mut out);
    out.extend_from_slice(&payload);
    out
}

/// The id of the password plugin `server` decides with now.
async fn deciding(server: &Spawned) -> i64 {
    let body: serde_json::Value = support::client()
        .get(server.url("/api/v1/password-policy"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["decided_by"]["id"].as_i64().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_plugin_switches_every_replica_at_once_and_costs_no_compile_memory() {
    let t = TestDb::new(Backend::Postgres).await;
    let env = [("HELPDESK_LOG", "warn")];
    let a = Spawned::start(Some(&t.url), &env).await;
    let b = Spawned::start(Some(&t.url), &env).await;
    let dir = tempfile::tempdir().unwrap();
    let python = python_component(dir.path());
    let versions: u32 = std::env::var("HELPDESK_TEST_PYTHON_VERSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    // Let both settle, then remember their memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = [a.resident(), b.resident()];

    for v in 1..=versions {
        let file = support::write_file(dir.path(), &format!("v{v}.wasm"), &version_of(&python, v));
        let out = a.command(&[
            "plugin",
            "install",
            "password-policy",
            file.to_str().unwrap(),
        ]);
        let id: i64 = out
            .split("as plugin #")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{out}"));
        // Activating waits until both replicas have compiled it; then both switch at once.
        let started = Instant::now();
        let out = b.command(&["plugin", "activate", "password-policy", &id.to_string()]);
        let waited = started.elapsed();
        assert!(out.contains("active"), "{out}");
        let activated = Instant::now();
        for (name, replica) in [("a", &a), ("b", &b)] {
            while deciding(replica).await != id {
                assert!(
                    activated.elapsed() < Duration::from_secs(10),
                    "replica {name} never switched to #{id}"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let took = activated.elapsed();
            eprintln!(
                "python version {v} (#{id}, {:.1} MiB): replica {name} served it {took:?} after the activation returned (which waited {waited:?} for both to compile)",
                python.len() as f64 / 1048576.0
            );
            assert!(took <= Duration::from_millis(200), "{took:?}");
        }
    }
    let after = [a.resident(), b.resident()];
    for (name, (before, after)) in ["a", "b"].iter().zip(before.iter().zip(after)) {
        let grew = after.saturating_sub(*before);
        eprintln!(
            "replica {name}: {} MiB before, {} MiB after {versions} Python version(s) compiled and served",
            before >> 20,
            after >> 20
        );
        // What stays is the compiled code of what serves (and of recent versions, within
        // HELPDESK_PLUGIN_COMPILED_MIB), not the compiler's hundreds of megabytes.
        assert!(
            grew < 240 << 20,
            "replica {name} grew by {} MiB",
            grew >> 20
        );
    }
}
