//! The `helpdesk` command line: the server and the operator's plugin tools.

use crate::auth::password::Hasher;
use crate::auth::{Role, SiteInput};
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::db::{self, Db};
use crate::domain::rules::Slot;
use crate::http::server::Timeouts;
use crate::mail::inbound::imap::{Fetcher, ImapSettings};
use crate::mail::{Mailer, Retry, Transport, Worker};
use crate::plugins::{Install, Plugins, Raise, Runtime, examples};
use crate::requests::mailbox::MailDesk;
use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

mod serve;
use serve::serve;

#[derive(Debug, Parser)]
#[command(
    name = "helpdesk",
    version,
    about = "Self-hosted help desk with WebAssembly rule plugins"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Parses the process arguments; with no command, runs `serve` with the same options.
    pub fn parse_or_serve() -> Cli {
        let cli = Cli::parse();
        if cli.command.is_some() {
            return cli;
        }
        Cli::parse_from(std::env::args_os().chain(["serve".into()]))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "HELPDESK_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// How often to look for a change of active plugin, in milliseconds.
        #[arg(long, env = "HELPDESK_PLUGIN_POLL_MS", default_value_t = 250)]
        plugin_poll_ms: u64,
    },
    /// Manage rule plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Manage customer sites.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Manage vendor staff accounts.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Fill the database with synthetic sites, people and requests, for trying the portal or
    /// measuring it. Every generated person is active and signs in with `--password`.
    Generate {
        #[arg(long, default_value_t = 500)]
        sites: usize,
        #[arg(long, default_value_t = 100_000)]
        requests: usize,
        /// Messages in all, one description per request included.
        #[arg(long, default_value_t = 1_000_000)]
        messages: usize,
        #[arg(long, default_value_t = 20)]
        agents: usize,
        /// The same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Password of every generated person.
        #[arg(long)]
        password: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Register a customer site.
    Add {
        #[arg(long)]
        name: String,
        /// A registered email domain (repeat for several).
        #[arg(long = "domain")]
        domains: Vec<String>,
        /// A registered individual address, for generic domains (repeat for several).
        #[arg(long = "address")]
        addresses: Vec<String>,
        /// Last day of the maintenance contract, YYYY-MM-DD.
        #[arg(long)]
        maintenance_until: Option<String>,
        /// Number of active product licences.
        #[arg(long, default_value_t = 0)]
        licences: i64,
    },
    /// List sites.
    List,
    /// Change a site; lists given replace the stored ones, fields not given stay.
    Update {
        /// The site's id or exact name.
        site: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long = "domain")]
        domains: Option<Vec<String>>,
        #[arg(long = "address")]
        addresses: Option<Vec<String>>,
        /// YYYY-MM-DD, or `none`.
        #[arg(long)]
        maintenance_until: Option<String>,
        #[arg(long)]
        licences: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create an agent or operator and print a one-time link to set their password (72 hours).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["agent", "operator"])]
        role: String,
        /// Shown to customers on this person's replies and as the assignee of requests.
        #[arg(long)]
        given_name: String,
        #[arg(long)]
        surname: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// List installed plugins, marking the active one of each slot with `*`.
    List,
    /// Check a component and store it; running servers switch to it only on activation.
    Install {
        /// password-policy, signup-eligibility or ticket-workflow.
        slot: Slot,
        /// The component (`.wasm`), built for wasm32-wasip2.
        file: PathBuf,
        /// A file holding the plugin's config; checked by the plugin before anything is stored.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Also make it the active plugin of its slot.
        #[arg(long)]
        activate: bool,
        /// The component's detached ed25519 signature (a file holding it in base64), required
        /// when the server has trusted keys (`HELPDESK_PLUGIN_TRUSTED_KEYS`).
        #[arg(long)]
        signature: Option<PathBuf>,
        /// This installation's own budget, where it needs more than its slot's default.
        #[command(flatten)]
        budget: Raise,
    },
    /// Make an installed plugin the active one of its slot, on every server within seconds.
    Activate { slot: Slot, id: i64 },
    /// Return a slot to the plugin that was active before the current one.
    Rollback { slot: Slot },
    /// Run a component against an examples file offline, with timings; needs no database.
    Test {
        slot: Slot,
        file: PathBuf,
        examples: PathBuf,
        /// The budget to test under, where the plugin will be installed with more than its
        /// slot's default.
        #[command(flatten)]
        budget: Raise,
    },
    /// Compile a component into an artifact for the engine the limits describe (the server
    /// runs this as a child process, so that compiling costs the server nothing).
    #[command(hide = true)]
    CompileArtifact {
        limits: String,
        wasm: PathBuf,
        artifact: PathBuf,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    let Some(command) = cli.command else {
        bail!("no command given; try `helpdesk serve` or `helpdesk --help`");
    };
    match command {
        Command::Serve {
            listen,
            plugin_poll_ms,
        } => serve(settings, listen, Duration::from_millis(plugin_poll_ms)).await,
        Command::Site(cmd) => sites(settings, cmd).await,
        Command::Staff(cmd) => staff(settings, cmd).await,
        Command::Plugin(PluginCommand::CompileArtifact {
            limits,
            wasm,
            artifact,
        }) => crate::plugins::compile_artifact(&limits, &wasm, &artifact),
        Command::Plugin(PluginCommand::Test {
            slot,
            file,
            examples,
            budget,
        }) => {
            // Off the async runtime: a plugin's writes to stdout and stderr go through WASI's
            // blocking adapters, which must not run on a runtime thread.
            tokio::task::spawn_blocking(move || {
                test_plugin(&settings, slot, &file, &examples, budget)
            })
            .await?
        }
        Command::Plugin(cmd) => manage(settings, cmd).await,
        Command::Generate {
            sites,
            requests,
            messages,
            agents,
            seed,
            password,
        } => {
            let scale = crate::requests::generate::Scale {
                sites,
                customers_per_site: 4,
                agents,
                requests,
                messages: messages.max(requests),
                seed,
            };
            generate(settings, scale, &password).await
        }
    }
}

async fn generate(
    settings: Settings,
    scale: crate::requests::generate::Scale,
    password: &str,
) -> anyhow::Result<()> {
    let (db, plugins) = open(&settings).await?;
    plugins.ensure_defaults(&db).await?;
    let started = std::time::Instant::now();
    let hash = Hasher::owasp().hash(password, &mut Default::default());
    let g = crate::requests::generate::generate(&db, scale, &hash, db::now_ms()).await?;
    println!(
        "Generated {} sites, {} requests (REQ-{} to REQ-{}) and {} messages in {:.0} s.",
        g.site_ids.len(),
        scale.requests,
        g.first_request,
        g.last_request,
        scale.messages,
        started.elapsed().as_secs_f64()
    );
    if let (Some((admin, _)), Some(agent)) = (g.customers.first(), g.agents.first()) {
        println!("Sign in as the Site Administrator {admin} or the agent {agent}.");
    }
    Ok(())
}

/// How long `helpdesk plugin activate` waits for every live server to compile the plugin (a
/// component with an interpreter inside takes a minute or two on a small machine).
const CLI_READY_WAIT: Duration = Duration::from_secs(15 * 60);

/// Connects, migrates and builds the plugin runtime: what every database-backed command needs.
pub async fn open(settings: &Settings) -> anyhow::Result<(Db, Arc<Plugins>)> {
    open_waiting(settings, crate::plugins::READY_WAIT).await
}

/// [`open`], with activations waiting up to `ready_wait` for every live server to compile.
async fn open_waiting(
    settings: &Settings,
    ready_wait: Duration,
) -> anyhow::Result<(Db, Arc<Plugins>)> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating the data dir {}", settings.data_dir.display()))?;
    let url = settings.database_url();
    let db = Db::connect(&url)
        .await
        .with_context(|| format!("connecting to {}", redact(&url)))?;
    db.migrate().await?;
    let compiler = child_compiler();
    let runtime = Arc::new(Runtime::with_compiler(
        settings.plugin_limits(),
        Some(settings.plugin_cache_dir()),
        compiler,
    )?);
    let trusted = settings
        .plugin_trusted_keys()
        .map_err(anyhow::Error::msg)
        .context("HELPDESK_PLUGIN_TRUSTED_KEYS")?;
    Ok((
        db,
        Arc::new(
            Plugins::new(runtime)
                .trusting(trusted)
                .waiting_for_replicas(ready_wait),
        ),
    ))
}

/// The account flows over an open database, as the server and the CLI use them.
pub fn state(
    settings: &Settings,
    db: &Db,
    plugins: Arc<Plugins>,
) -> anyhow::Result<crate::AppState> {
    let mailer = Mailer::new(&settings.public_url);
    let store = settings
        .blob_store()
        .map_err(|e| anyhow::anyhow!("HELPDESK_BLOB_URL: {e}"))?;
    Ok(crate::AppState::new(
        db.clone(),
        plugins,
        if settings.imap_url.is_some() {
            mailer.reading_replies()
        } else {
            mailer
        },
        settings.auth_config(),
        Arc::new(SystemClock),
        Arc::new(Hasher::owasp()),
        settings.files(store),
    )
    .with_metrics_token(settings.metrics_token.as_deref())
    .with_trusted_proxies(settings.trusted_proxies.clone().unwrap_or_default())
    .with_webhooks(Arc::new(settings.webhooks().map_err(anyhow::Error::msg)?)))
}

async fn manage(settings: Settings, cmd: PluginCommand) -> anyhow::Result<()> {
    let (db, plugins) = open_waiting(&settings, CLI_READY_WAIT).await?;
    let by = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    );
    match cmd {
        PluginCommand::List => {
            let rows = db::plugins::list(&db).await?;
            if rows.is_empty() {
                println!(
                    "No plugins installed yet; `helpdesk serve` installs the bundled ones on first start."
                );
            }
            println!(
                "{:<3} {:>4}  {:<19} {:<30} {:<10} {:<12} {:<20} BY",
                "", "ID", "SLOT", "NAME", "VERSION", "SHA256", "INSTALLED (UTC)"
            );
            for r in rows {
                let installed = time::OffsetDateTime::from_unix_timestamp_nanos(
                    r.installed_at as i128 * 1_000_000,
                )
                .map(|t| {
                    format!(
                        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                        t.year(),
                        t.month() as u8,
                        t.day(),
                        t.hour(),
                        t.minute(),
                        t.second()
                    )
                })
                .unwrap_or_default();
                println!(
                    "{:<3} {:>4}  {:<19} {:<30} {:<10} {:<12} {:<20} {}",
                    if r.active { "*" } else { "" },
                    r.id,
                    r.slot,
                    r.name,
                    r.version,
                    &r.sha256[..12.min(r.sha256.len())],
                    installed,
                    r.installed_by
                );
            }
        }
        PluginCommand::Install {
            slot,
            file,
            config,
            activate,
            signature,
            budget,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let config = match config {
                Some(path) => std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?,
                None => String::new(),
            };
            let signature = match signature {
                Some(path) => Some(
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?,
                ),
                None => None,
            };
            let install = Install {
                slot,
                bytes: &bytes,
                config: &config,
                raise: budget,
                signature: signature.as_deref(),
                by: &by,
                activate,
            };
            let id = plugins.install_with(&db, &install).await?;
            let row = db::plugins::get(&db, id)
                .await?
                .context("the installed plugin vanished")?;
            println!(
                "Installed {} {} as plugin #{id} for {slot} (sha256 {}).",
                row.name, row.version, row.sha256
            );
            if activate {
                println!(
                    "Activated: every running server had compiled it, and switches to it at once."
                );
                report_statuses(&settings, &db, &plugins, slot).await?;
            } else {
                println!("Activate it with: helpdesk plugin activate {slot} {id}");
            }
        }
        PluginCommand::Activate { slot, id } => {
            plugins.activate(&db, slot, id, &by).await?;
            println!(
                "Plugin #{id} is now the active {slot} plugin: every running server had compiled it, and switches to it at once."
            );
            report_statuses(&settings, &db, &plugins, slot).await?;
        }
        PluginCommand::Rollback { slot } => {
            let id = plugins.rollback(&db, slot, &by).await?;
            println!("Rolled back: plugin #{id} is the active {slot} plugin again.");
            report_statuses(&settings, &db, &plugins, slot).await?;
        }
        PluginCommand::Test { .. } | PluginCommand::CompileArtifact { .. } => {
            unreachable!("handled without a database")
        }
    }
    db.close().await;
    Ok(())
}

/// After a workflow change: the requests whose status the now active workflow does not know.
async fn report_statuses(
    settings: &Settings,
    db: &Db,
    plugins: &Arc<Plugins>,
    slot: Slot,
) -> anyhow::Result<()> {
    if slot != Slot::TicketWorkflow {
        return Ok(());
    }
    plugins.refresh(db).await?;
    let requests = state(settings, db, plugins.clone())?.requests;
    let (unknown, _) = requests.unknown_statuses(None).await?;
    let unknown: Vec<String> = unknown
        .into_iter()
        .map(|(k, n)| format!("{k} ({n})"))
        .collect();
    if !unknown.is_empty() {
        println!(
            "Requests in statuses this workflow does not know: {}. They stay listed as open; map them to a new status at /staff/statuses.",
            unknown.join(", ")
        );
    }
    Ok(())
}

async fn sites(settings: Settings, cmd: SiteCommand) -> anyhow::Result<()> {
    let (db, plugins) = open(&settings).await?;
    let accounts = state(&settings, &db, plugins)?.accounts;
    match cmd {
        SiteCommand::Add {
            name,
            domains,
            addresses,
            maintenance_until,
            licences,
        } => {
            let input = SiteInput {
                name,
                domains,
                addresses,
                maintenance_until,
                licences,
            };
            let id = accounts.save_site(None, None, &input).await?;
            println!("Added site #{id} {}.", input.name.trim());
        }
        SiteCommand::List => {
            println!(
                "{:>4}  {:<30} {:<12} {:>8}  DOMAINS / ADDRESSES",
                "ID", "NAME", "MAINTAINED", "LICENCES"
            );
            for s in accounts.sites(None).await? {
                let mut reg = s.domains.clone();
                reg.extend(s.addresses.iter().cloned());
                println!(
                    "{:>4}  {:<30} {:<12} {:>8}  {}",
                    s.id,
                    s.name,
                    s.maintenance_until.as_deref().unwrap_or("-"),
                    s.licences,
                    reg.join(", ")
                );
            }
        }
        SiteCommand::Update {
            site,
            name,
            domains,
            addresses,
            maintenance_until,
            licences,
        } => {
            let all = accounts.sites(None).await?;
            let Some(current) = all
                .iter()
                .find(|s| s.id.to_string() == site || s.name == site)
            else {
                bail!("no site with id or name `{site}`; see `helpdesk site list`");
            };
            let input = SiteInput {
                name: name.unwrap_or_else(|| current.name.clone()),
                domains: domains.unwrap_or_else(|| current.domains.clone()),
                addresses: addresses.unwrap_or_else(|| current.addresses.clone()),
                maintenance_until: match maintenance_until.as_deref() {
                    Some("none") => None,
                    Some(d) => Some(d.to_owned()),
                    None => current.maintenance_until.clone(),
                },
                licences: licences.unwrap_or(current.licences),
            };
            accounts.save_site(None, Some(current.id), &input).await?;
            println!("Updated site #{} {}.", current.id, input.name.trim());
        }
    }
    db.close().await;
    Ok(())
}

async fn staff(settings: Settings, cmd: StaffCommand) -> anyhow::Result<()> {
    let (db, plugins) = open(&settings).await?;
    let accounts = state(&settings, &db, plugins)?.accounts;
    match cmd {
        StaffCommand::Add {
            email,
            role,
            given_name,
            surname,
        } => {
            let role = Role::parse(&role).context("role must be agent or operator")?;
            let link = accounts
                .add_staff(&email, role, &given_name, &surname)
                .await?;
            println!(
                "Created {} {email}. Send them this one-time link to set their password (valid 72 hours):",
                role.as_str()
            );
            println!("{link}");
        }
    }
    db.close().await;
    Ok(())
}

fn test_plugin(
    settings: &Settings,
    slot: Slot,
    file: &PathBuf,
    examples_file: &PathBuf,
    budget: Raise,
) -> anyhow::Result<()> {
    let wasm = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let json = std::fs::read_to_string(examples_file)
        .with_context(|| format!("reading {}", examples_file.display()))?;
    let examples = examples::Examples::parse(&json).map_err(anyhow::Error::msg)?;
    if examples.slot != slot {
        bail!(
            "{} holds {} examples, not {slot} examples",
            examples_file.display(),
            examples.slot
        );
    }
    let compiler = child_compiler();
    let runtime = Arc::new(Runtime::with_compiler(
        settings.plugin_limits(),
        Some(settings.plugin_cache_dir()),
        compiler,
    )?);
    let budget = budget.apply(runtime.limits().budget(slot));
    let report = examples::run(&runtime, &wasm, &examples, Some(budget));
    print!("{}", report.render());
    if report.failed() > 0 {
        bail!("{} example(s) failed", report.failed());
    }
    Ok(())
}

/// A database URL without its password, for logs and messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Components compile in a child process of this same binary: its memory goes back when it
/// exits, and a component that brings the compiler down brings down only the child.
fn child_compiler() -> Option<crate::plugins::Compiler> {
    std::env::current_exe()
        .ok()
        .map(|program| crate::plugins::Compiler {
            program,
            args: vec!["plugin".into(), "compile-artifact".into()],
        })
}
