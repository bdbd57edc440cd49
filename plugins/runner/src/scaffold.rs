//! `helpdesk-plugin new`: a plugin project outside this repository, in one of the languages that
//! build components, for any slot, with examples ready and a README saying how to build, test
//! and install it.
//!
//! A Rust project depends on this checkout's SDK by path and builds a small component with
//! `cargo build --release`. Python (componentize-py) and JavaScript (componentize-js)
//! projects carry their own copy of `wit/helpdesk.wit` and build with one command each. C has no
//! template yet; a C component built by hand is tested and installed like any other.

use anyhow::{Context, bail};
use helpdesk_plugin_host::rules::Slot;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Python,
    Javascript,
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Lang::Rust => "Rust",
            Lang::Python => "Python",
            Lang::Javascript => "JavaScript",
        })
    }
}

const WIT: &str = include_str!("../../../wit/helpdesk.wit");
const SCHEMA: &str = include_str!("../../../docs/examples.schema.json");

const RUST_MANIFEST: &str = include_str!("../templates/rust/Cargo.toml");
const RUST_CARGO_CONFIG: &str = include_str!("../templates/rust/cargo/config.toml");
const JS_BUILD: &str = include_str!("../templates/javascript/build.mjs");

/// Per slot: (Rust, Python, JavaScript, examples).
fn sources(slot: Slot) -> [&'static str; 4] {
    match slot {
        Slot::PasswordPolicy => [
            include_str!("../templates/rust/password-policy.rs"),
            include_str!("../templates/python/password-policy.py"),
            include_str!("../templates/javascript/password-policy.js"),
            include_str!("../templates/examples/password-policy.json"),
        ],
        Slot::SignupEligibility => [
            include_str!("../templates/rust/signup-eligibility.rs"),
            include_str!("../templates/python/signup-eligibility.py"),
            include_str!("../templates/javascript/signup-eligibility.js"),
            include_str!("../templates/examples/signup-eligibility.json"),
        ],
        Slot::TicketWorkflow => [
            include_str!("../templates/rust/ticket-workflow.rs"),
            include_str!("../templates/python/ticket-workflow.py"),
            include_str!("../templates/javascript/ticket-workflow.js"),
            include_str!("../templates/examples/ticket-workflow.json"),
        ],
    }
}

/// Creates the project in `dir` (which must not exist yet) and returns what to do next.
pub fn create(slot: Slot, name: &str, lang: Lang, dir: &Path) -> anyhow::Result<String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-');
    if !valid {
        bail!(
            "a plugin name is 1 to 64 lowercase letters, digits and dashes, like `acme-passwords`"
        );
    }
    if dir.exists() {
        bail!("{} already exists; choose another --dir", dir.display());
    }
    let [rust, python, javascript, examples] = sources(slot);
    let file = name.replace('-', "_");
    let fill = |s: &str| s.replace("{{name}}", name).replace("{{file}}", &file);
    let world = slot.as_str();

    let mut files: Vec<(&str, String)> = vec![
        ("examples.json", examples.to_owned()),
        ("examples.schema.json", SCHEMA.to_owned()),
    ];
    let (build, component) = match lang {
        Lang::Rust => {
            let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
            let sdk = sdk.canonicalize().unwrap_or(sdk);
            files.push((
                "Cargo.toml",
                RUST_MANIFEST
                    .replace("{{crate}}", name)
                    .replace("{{sdk}}", &sdk.display().to_string()),
            ));
            files.push((".cargo/config.toml", RUST_CARGO_CONFIG.to_owned()));
            files.push(("src/lib.rs", fill(rust)));
            files.push((".gitignore", "/target\n".to_owned()));
            (
                "cargo build --release".to_owned(),
                format!("target/wasm32-wasip2/release/{file}.wasm"),
            )
        }
        Lang::Python => {
            files.push(("wit/helpdesk.wit", WIT.to_owned()));
            files.push(("app.py", fill(python)));
            files.push((
                "build.sh",
                format!(
                    "#!/bin/sh\n# Builds {name}.wasm; needs componentize-py (pip install componentize-py).\nset -e\ncd \"$(dirname \"$0\")\"\ncomponentize-py --wit-path wit --world {world} componentize app --output {name}.wasm\n"
                ),
            ));
            files.push((".gitignore", format!("/{name}.wasm\n__pycache__/\n")));
            ("./build.sh".to_owned(), format!("{name}.wasm"))
        }
        Lang::Javascript => {
            files.push(("wit/helpdesk.wit", WIT.to_owned()));
            files.push(("plugin.js", fill(javascript)));
            files.push(("build.mjs", JS_BUILD.to_owned()));
            files.push((
                "package.json",
                format!(
                    r#"{{
  "name": "{name}",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "scripts": {{
    "build": "node build.mjs plugin.js wit {world} {name}.wasm"
  }},
  "devDependencies": {{
    "@bytecodealliance/componentize-js": "{COMPONENTIZE_JS}",
    "@bytecodealliance/preview2-shim": "{PREVIEW2_SHIM}"
  }}
}}
"#
                ),
            ));
            files.push((".gitignore", format!("/{name}.wasm\nnode_modules/\n")));
            (
                "npm install && npm run build".to_owned(),
                format!("{name}.wasm"),
            )
        }
    };
    let readme = format!(
        "# {name}\n\nA {slot} plugin for the help desk, in {lang}.\n\n\
         - Build: `{build}` (makes `{component}`).\n\
         - Test: `helpdesk-plugin test {component} examples.json`; add `--watch` to run again on every build.\n\
         - Install: `helpdesk plugin install {world} {component} --activate`.\n\n\
         `examples.json` holds the cases (its format: `examples.schema.json`). `describe-config` lists the settings your config reads, so operators edit them in a form: keep it in step with the config reader (`helpdesk-plugin test` prints the settings as the form shows them, and the help desk refuses at install a plugin that does not accept every setting at its described default). See docs/plugins.md in the help desk for the contract, budgets and versioning.\n"
    );
    files.push(("README.md", readme));

    for (path, text) in &files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    #[cfg(unix)]
    if lang == Lang::Python {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("build.sh"), std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(format!(
        "Next:\n  cd {}\n  {build}\n  helpdesk-plugin test {component} examples.json",
        dir.display()
    ))
}

/// The version of componentize-js a new project pins: the one CI builds the templates with.
const COMPONENTIZE_JS: &str = "0.23.0";

/// The WASI shim componentize-js loads while it builds. It declares the shim only for its own
/// development, so a project names it itself: otherwise the first `npm install` brings it in
/// as a stray and the next one removes it, and the build stops finding it.
const PREVIEW2_SHIM: &str = "0.25.0";
