//! Builds the bundled plugins for `wasm32-wasip2` with a nested `cargo build`, so that a plain
//! `cargo run` or `cargo test` of the host on a fresh clone produces them. The nested build uses
//! its own target directory (`target/plugins`) to avoid waiting on the outer build's lock.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const BUNDLED: &[&str] = &[
    "password-default",
    "eligibility-registered-domain",
    "workflow-default",
];
const FIXTURES: &[&str] = &[
    "hostile",
    "template",
    "workflow-triage",
    "workflow-renewals",
    "next-patch",
    "first-contract",
    "second-contract",
    "third-contract",
    "fourth-contract",
    "fifth-contract",
    "wrong-shape",
];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest_dir.join("../..");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
        .join("plugins");

    let mut plugins: Vec<&str> = BUNDLED.to_vec();
    if env::var_os("CARGO_FEATURE_FIXTURES").is_some() {
        plugins.extend_from_slice(FIXTURES);
    }

    println!("cargo:rerun-if-changed={}", workspace.join("wit").display());
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("plugins/sdk").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("plugins/config").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        workspace.join("Cargo.lock").display()
    );
    for dir in BUNDLED.iter().chain(FIXTURES) {
        println!(
            "cargo:rerun-if-changed={}",
            plugin_dir(&workspace, dir).display()
        );
    }

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&workspace)
        .args(["build", "--target", "wasm32-wasip2", "--profile", "plugin"])
        .arg("--target-dir")
        .arg(&target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_MAKEFLAGS")
        // `cargo clippy` lints the plugins natively; the component build itself uses plain rustc.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS");
    if env::var_os("CARGO_NET_OFFLINE").is_some() {
        cmd.arg("--offline");
    }
    for name in &plugins {
        cmd.arg("-p").arg(format!("helpdesk-plugin-{name}"));
    }
    let status = cmd.status().expect("failed to run cargo for the plugins");
    assert!(
        status.success(),
        "building the bundled plugins for wasm32-wasip2 failed; is the target installed? (rustup target add wasm32-wasip2)"
    );

    for name in &plugins {
        let file = format!("helpdesk_plugin_{}.wasm", name.replace('-', "_"));
        let built = target_dir.join("wasm32-wasip2/plugin").join(&file);
        let dest = out_dir.join(&file);
        std::fs::copy(&built, &dest)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", built.display(), dest.display()));
    }
}

fn plugin_dir(workspace: &Path, name: &str) -> PathBuf {
    match name {
        "hostile" | "workflow-triage" | "workflow-renewals" | "next-patch" | "first-contract"
        | "second-contract" | "third-contract" | "fourth-contract" | "fifth-contract"
        | "wrong-shape" => workspace.join("plugins/fixtures").join(name),
        other => workspace.join("plugins").join(other),
    }
}
