//! `helpdesk-plugin`: the plugin author's tool, without the help-desk server.
//!
//! - `helpdesk-plugin new <slot> <name> [--lang rust|python|javascript]` creates a project that
//!   builds a component with one command and has examples ready;
//! - `helpdesk-plugin test <component.wasm> [examples.json]` runs the examples through the same
//!   runtime and budgets the server uses, and reports per case the answer, the time, the
//!   instructions and the peak memory; `--watch` runs them again whenever either file changes;
//! - `helpdesk-plugin keygen` and `helpdesk-plugin sign` make the detached ed25519 signatures a
//!   server with trusted keys requires.
//!
//! Install it with `cargo install --path plugins/runner` from a checkout of the help desk.

mod scaffold;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use helpdesk_plugin_host::examples::{self, Examples};
use helpdesk_plugin_host::rules::Slot;
use helpdesk_plugin_host::{Limits, Raise, Runtime, signature};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

#[derive(Debug, Parser)]
#[command(
    name = "helpdesk-plugin",
    version,
    about = "Build, test and measure help-desk rule plugins"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a component's examples, with the time, instructions and memory of each decision.
    Test {
        /// The component (`.wasm`).
        component: PathBuf,
        /// The examples file; `examples.json` in the current folder by default.
        examples: Option<PathBuf>,
        /// Run again whenever the component or the examples file changes.
        #[arg(long)]
        watch: bool,
        /// The budget to test under, where the plugin will be installed with more than its
        /// slot's default (`helpdesk plugin install --instructions …`).
        #[command(flatten)]
        budget: Raise,
    },
    /// Make an ed25519 key pair for signing components: the secret key goes to a file, the
    /// public key (for the server's HELPDESK_PLUGIN_TRUSTED_KEYS) is printed.
    Keygen {
        /// Where to write the secret key; refused if it exists.
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a component: writes `<component>.sig`, to install with `--signature`.
    Sign {
        component: PathBuf,
        /// The secret key file `keygen` wrote.
        #[arg(long)]
        key: PathBuf,
    },
    /// Create a plugin project in a new folder.
    New {
        /// password-policy, signup-eligibility or ticket-workflow.
        slot: Slot,
        /// The plugin's name: lowercase letters, digits and dashes.
        name: String,
        /// The language of the project.
        #[arg(long, value_enum, default_value_t = scaffold::Lang::Rust)]
        lang: scaffold::Lang,
        /// Where to create it; `./<name>` by default.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HELPDESK_PLUGIN_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    match run(Cli::parse()) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// Whether every example passed.
fn run(cli: Cli) -> anyhow::Result<bool> {
    match cli.command {
        Command::Test {
            component,
            examples,
            watch,
            budget,
        } => {
            let examples = examples.unwrap_or_else(|| PathBuf::from("examples.json"));
            let runtime = Arc::new(Runtime::new(Limits::default(), cache_dir())?);
            if !watch {
                return test(&runtime, &component, &examples, budget);
            }
            let mut seen = None;
            loop {
                let now = (modified(&component), modified(&examples));
                if seen != Some(now) {
                    seen = Some(now);
                    println!("== {}", component.display());
                    if let Err(e) = test(&runtime, &component, &examples, budget) {
                        println!("error: {e:#}");
                    }
                    println!(
                        "(watching {} and {}; Ctrl-C to stop)",
                        component.display(),
                        examples.display()
                    );
                }
                std::thread::sleep(Duration::from_millis(300));
            }
        }
        Command::Keygen { out } => {
            let (secret, public) = signature::generate().map_err(anyhow::Error::msg)?;
            write_new(&out, &format!("{secret}\n"))?;
            println!("Secret key written to {} (keep it private).", out.display());
            println!("Public key, for HELPDESK_PLUGIN_TRUSTED_KEYS: {public}");
            Ok(true)
        }
        Command::Sign { component, key } => {
            let bytes = std::fs::read(&component)
                .with_context(|| format!("reading {}", component.display()))?;
            let secret = std::fs::read_to_string(&key)
                .with_context(|| format!("reading {}", key.display()))?;
            let sig = signature::sign(&secret, &bytes).map_err(anyhow::Error::msg)?;
            let mut out = component.clone().into_os_string();
            out.push(".sig");
            let out = PathBuf::from(out);
            std::fs::write(&out, format!("{sig}\n"))
                .with_context(|| format!("writing {}", out.display()))?;
            println!("Signature written to {}.", out.display());
            Ok(true)
        }
        Command::New {
            slot,
            name,
            lang,
            dir,
        } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
            let next = scaffold::create(slot, &name, lang, &dir)?;
            println!("Created {} ({lang} {slot} plugin).\n{next}", dir.display());
            Ok(true)
        }
    }
}

fn test(
    runtime: &Arc<Runtime>,
    component: &Path,
    examples_file: &Path,
    raise: Raise,
) -> anyhow::Result<bool> {
    let wasm =
        std::fs::read(component).with_context(|| format!("reading {}", component.display()))?;
    let json = std::fs::read_to_string(examples_file)
        .with_context(|| format!("reading {}", examples_file.display()))?;
    let examples = Examples::parse(&json)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("in {}", examples_file.display()))?;
    if examples.cases.is_empty() && examples.statuses.is_none() {
        bail!("{} has no cases", examples_file.display());
    }
    let budget = raise.apply(runtime.limits().budget(examples.slot));
    let report = examples::run(runtime, &wasm, &examples, Some(budget));
    print!("{}", report.render());
    Ok(report.failed() == 0)
}

/// Writes a file that must not exist yet, readable by its owner only.
fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Compiled components, kept across runs: a component with an interpreter inside takes most of a
/// minute to compile, and is compiled once per change.
fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("helpdesk-plugin"))
}
