//! Test fixtures: a fresh database per test on either backend, a plugin runtime with test
//! limits, and a server on a real socket.

pub mod dovecot;
mod s3;
mod smtp;
pub use s3::S3Server;
pub use smtp::{Received, SmtpSink};

use helpdesk::auth::AuthConfig;
use helpdesk::auth::password::Hasher;
use helpdesk::clock::ManualClock;
use helpdesk::db::Db;
use helpdesk::mail::inbound::imap::{Fetcher, ImapSettings};
use helpdesk::mail::{Mailer, Retry, Transport, Worker};
use helpdesk::plugins::{Limits, Plugins, Runtime};
use helpdesk::requests::files::{AttachmentLimits, BlobStore, Files, LocalStore};
use helpdesk::requests::mailbox::{MailDesk, TrustFrom};
use helpdesk::{AppState, app};
use sqlx::{Connection, Executor};
use std::ffi::OsStr;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database of its own for one test, dropped with it.
pub struct TestDb {
    pub url: String,
    pub db: Db,
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

fn postgres_base() -> String {
    std::env::var("HELPDESK_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let t = TestDb::empty(backend).await;
        t.db.migrate().await.expect("migrate");
        t
    }

    /// A database with nothing in it, not even the schema (to restore a backup into).
    pub async fn empty(backend: Backend) -> TestDb {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("tempdir");
        let (url, pg) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("test.db").display()),
                None,
            ),
            Backend::Postgres => {
                static N: AtomicU32 = AtomicU32::new(0);
                let base = postgres_base();
                let name = format!(
                    "helpdesk_test_{}_{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                );
                let mut conn = sqlx::AnyConnection::connect(&base)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {base} is needed by the tests: {e}"));
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .expect("create database");
                conn.close().await.ok();
                let (prefix, _) = base.rsplit_once('/').expect("database URL with a path");
                (format!("{prefix}/{name}"), Some((base, name)))
            }
        };
        let db = Db::connect(&url).await.expect("connect");
        TestDb { url, db, dir, pg }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, name)) = self.pg.take() {
            // Drop runs outside any async context we can borrow: use a small runtime of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    if let Ok(mut conn) = sqlx::AnyConnection::connect(&base).await {
                        let _ = conn
                            .execute(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Runs an async test body once per backend, as `<name>::sqlite` and `<name>::postgres`.
macro_rules! on_both_backends {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body(crate::support::TestDb::new(crate::support::Backend::Sqlite).await)
                    .await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body(crate::support::TestDb::new(crate::support::Backend::Postgres).await)
                    .await
            }
        }
    };
}
pub(crate) use on_both_backends;

pub fn test_limits() -> Limits {
    Limits {
        max_concurrent: 16,
        ..Limits::default()
    }
}

pub fn runtime() -> Arc<Runtime> {
    Arc::new(Runtime::new(test_limits(), None).expect("runtime"))
}

pub fn plugins() -> Arc<Plugins> {
    Arc::new(Plugins::new(runtime()))
}

/// A server on a real loopback socket, with the bundled plugins active, the plugin watcher
/// polling every `poll`, a clock the test moves, and mail delivered to a real SMTP server on
/// loopback ([`SmtpSink`]) when one is given. Dropping it stops the server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    /// Attachments (`attachments/`) and staged uploads (`staging/`).
    pub files_dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// How a [`TestServer`] is set up.
pub struct Options {
    pub poll: Duration,
    pub cache_dir: Option<std::path::PathBuf>,
    pub smtp: Option<String>,
    pub auth: AuthConfig,
    pub public_url: Option<String>,
    /// Attachment limits; files go to a fresh temporary folder.
    pub attachments: AttachmentLimits,
    pub timeouts: helpdesk::http::server::Timeouts,
    /// Upload bytes the server may hold at once.
    pub uploads_in_flight: usize,
    /// `HELPDESK_METRICS_TOKEN`.
    pub metrics_token: Option<String>,
    /// `HELPDESK_IMAP_URL`: the support mailbox read for replies and new requests.
    pub imap: Option<String>,
    /// `HELPDESK_MAIL_PER_HOUR`.
    pub mail_per_hour: i64,
    /// `HELPDESK_MAIL_TRUST_FROM`; the trusted mail server is [`AUTHSERV_ID`].
    pub mail_trust_from: TrustFrom,
    /// The largest email read whole.
    pub mail_max_bytes: u64,
    /// `HELPDESK_TRUSTED_PROXIES`.
    pub trusted_proxies: Option<String>,
    /// Where attachments go; a fresh local folder when `None`.
    pub blobs: Option<Arc<dyn BlobStore>>,
    /// The folder of staged uploads (`staging/`) and local attachments (`attachments/`); a
    /// fresh temporary folder when `None`.
    pub files_dir: Option<std::path::PathBuf>,
    /// `HELPDESK_WEBHOOK_ALLOW`: internal ranges webhook endpoints may reach.
    pub webhook_allow: Option<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            poll: Duration::from_millis(100),
            cache_dir: None,
            smtp: None,
            auth: AuthConfig::default(),
            public_url: None,
            attachments: AttachmentLimits::default(),
            timeouts: helpdesk::http::server::Timeouts::default(),
            uploads_in_flight: 256 << 20,
            metrics_token: None,
            imap: None,
            mail_per_hour: 30,
            mail_trust_from: TrustFrom::Authenticated,
            mail_max_bytes: 25 << 20,
            trusted_proxies: None,
            blobs: None,
            files_dir: None,
            webhook_allow: None,
        }
    }
}

/// The `Authentication-Results` id of the mail server a test server believes about senders.
pub const AUTHSERV_ID: &str = "mx.example.test";

/// The header that mail server adds to a message from `from` whose sender it found authentic.
pub fn authenticated(from: &str) -> String {
    let domain = from.rsplit_once('@').map_or(from, |(_, d)| d);
    format!("Authentication-Results: {AUTHSERV_ID}; dmarc=pass header.from={domain}\r\n")
}

/// Retry quickly in tests: a message refused by a stopped SMTP server goes again within 200 ms.
pub fn test_retry() -> Retry {
    Retry {
        base: Duration::from_millis(100),
        max: Duration::from_millis(200),
        poll: Duration::from_millis(100),
        ..Retry::default()
    }
}

impl TestServer {
    pub async fn start(db: &Db, poll: Duration) -> TestServer {
        TestServer::start_with(db, poll, None).await
    }

    /// As [`TestServer::start`], keeping compiled plugins in `cache_dir`. These servers are
    /// load-tested through the password-check API, so it has no per-address limit here.
    pub async fn start_with(
        db: &Db,
        poll: Duration,
        cache_dir: Option<std::path::PathBuf>,
    ) -> TestServer {
        let mut auth = AuthConfig::default();
        auth.limits.password_checks_per_ip =
            helpdesk::auth::limits::Limit::new(i64::MAX / 2, 60_000);
        let o = Options {
            poll,
            cache_dir,
            auth,
            ..Options::default()
        };
        TestServer::with(db, o).await
    }

    pub async fn with(db: &Db, o: Options) -> TestServer {
        let plugins = Arc::new(Plugins::new(Arc::new(
            Runtime::new(test_limits(), o.cache_dir).expect("runtime"),
        )));
        plugins.ensure_defaults(db).await.expect("bundled plugins");
        plugins.refresh(db).await.expect("refresh");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let public_url = o.public_url.unwrap_or_else(|| format!("http://{addr}"));
        let clock = ManualClock::new();
        let files_dir = tempfile::tempdir().expect("attachments dir");
        let files_at = o
            .files_dir
            .clone()
            .unwrap_or_else(|| files_dir.path().to_path_buf());
        let state = AppState::new(
            db.clone(),
            plugins.clone(),
            if o.imap.is_some() {
                Mailer::new(&public_url).reading_replies()
            } else {
                Mailer::new(&public_url)
            },
            o.auth,
            clock.clone(),
            hasher(),
            Files::new(
                o.blobs
                    .unwrap_or_else(|| Arc::new(LocalStore::new(files_at.join("attachments")))),
                o.attachments,
                files_at.join("staging"),
                o.uploads_in_flight,
            ),
        )
        .with_metrics_token(o.metrics_token.as_deref())
        .with_trusted_proxies(
            helpdesk::http::proxies::TrustedProxies::parse(
                o.trusted_proxies.as_deref().unwrap_or(""),
            )
            .expect("HELPDESK_TRUSTED_PROXIES"),
        )
        .with_webhooks(Arc::new(helpdesk::webhooks::Webhooks {
            sealer: Arc::new(helpdesk::webhooks::Sealer::ephemeral()),
            allow: helpdesk::webhooks::Allowed::parse(o.webhook_allow.as_deref().unwrap_or(""))
                .expect("HELPDESK_WEBHOOK_ALLOW")
                .0,
        }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (watch_stop, watch_stopped) = tokio::sync::watch::channel(false);
        let mut rx = watch_stopped.clone();
        let (log, writer) =
            helpdesk::decisions::DecisionLog::start(db.clone(), plugins.metrics(), async move {
                let _ = rx.wait_for(|s| *s).await;
            });
        plugins.log_decisions(log);
        tokio::spawn(writer);
        let mut rx = watch_stopped.clone();
        tokio::spawn(plugins.ask_shadows(db.clone(), async move {
            let _ = rx.wait_for(|s| *s).await;
        }));
        let mut rx = watch_stopped.clone();
        tokio::spawn(plugins.watch(db.clone(), o.poll, async move {
            let _ = rx.wait_for(|s| *s).await;
        }));
        if let Some(smtp) = o.smtp {
            let mut rx = watch_stopped.clone();
            tokio::spawn(
                Worker {
                    db: db.clone(),
                    transport: Transport::from_settings(Some(&smtp), std::path::PathBuf::new())
                        .expect("smtp url"),
                    from: "Customer Portal <portal@example.test>"
                        .parse()
                        .expect("from"),
                    reply_to: o
                        .imap
                        .as_ref()
                        .map(|_| "Support <support@example.test>".parse().expect("inbox")),
                    wake: state.accounts.mailer.waker(),
                    retry: test_retry(),
                }
                .run(async move {
                    let _ = rx.wait_for(|s| *s).await;
                }),
            );
        }
        if let Some(url) = &o.imap {
            let mut settings = ImapSettings::from_url(url).expect("imap url");
            settings.poll = Duration::from_secs(5);
            settings.max_message_bytes = o.mail_max_bytes;
            let mut rx = watch_stopped.clone();
            tokio::spawn(
                Fetcher::new(
                    settings,
                    Arc::new(MailDesk {
                        requests: state.requests.clone(),
                        domain: "example.test".into(),
                        own_address: "portal@example.test".into(),
                        per_hour: o.mail_per_hour,
                        trust_from: o.mail_trust_from,
                        authserv_id: Some(AUTHSERV_ID.into()),
                    }),
                )
                .run(async move {
                    let _ = rx.wait_for(|s| *s).await;
                }),
            );
        }
        let router = app(state.clone());
        tokio::spawn(async move {
            helpdesk::http::server::serve(listener, router, o.timeouts, async move {
                let _ = stopped.await;
                let _ = watch_stop.send(true);
            })
            .await
            .expect("serve");
        });
        TestServer {
            addr,
            state,
            clock,
            files_dir,
            stop: Some(stop),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// One argon2id hasher with the product's parameters, built once per test binary.
pub fn hasher() -> Arc<Hasher> {
    static H: std::sync::OnceLock<Arc<Hasher>> = std::sync::OnceLock::new();
    H.get_or_init(|| Arc::new(Hasher::owasp())).clone()
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// Writes `bytes` to a file in `dir` and returns its path.
pub fn write_file(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write file");
    path
}

/// The `helpdesk` binary serving on a free port with its own data folder: for what must be
/// measured on a process of its own (resident memory) or needs the real start-up.
pub struct Spawned {
    pub child: std::process::Child,
    pub addr: SocketAddr,
    pub data: tempfile::TempDir,
    pub database_url: String,
    /// What the server wrote to standard error, shown when it ends unexpectedly.
    log: tempfile::NamedTempFile,
}

/// No settings added to a spawned server's environment.
pub const NO_ENV: &[(&str, &str)] = &[];

impl Spawned {
    /// Runs `helpdesk serve` on `database_url` (an SQLite file in its data folder when `None`)
    /// with `env` added, and waits until it is ready.
    pub async fn start(
        database_url: Option<&str>,
        env: &[(impl AsRef<OsStr>, impl AsRef<OsStr>)],
    ) -> Spawned {
        let data = tempfile::tempdir().expect("data dir");
        Spawned::start_in(data, database_url, env).await
    }

    pub async fn start_in(
        data: tempfile::TempDir,
        database_url: Option<&str>,
        env: &[(impl AsRef<OsStr>, impl AsRef<OsStr>)],
    ) -> Spawned {
        Spawned::start_at(free_addr(), data, database_url, env).await
    }

    /// As [`Spawned::start_in`], listening on `addr`.
    pub async fn start_at(
        addr: SocketAddr,
        data: tempfile::TempDir,
        database_url: Option<&str>,
        env: &[(impl AsRef<OsStr>, impl AsRef<OsStr>)],
    ) -> Spawned {
        let database_url = database_url
            .map(str::to_owned)
            .unwrap_or_else(|| format!("sqlite://{}", data.path().join("helpdesk.db").display()));
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_helpdesk"));
        cmd.args(["serve", "--listen", &addr.to_string()])
            .env("HELPDESK_DATA_DIR", data.path())
            .env("HELPDESK_DATABASE_URL", &database_url)
            .env("HELPDESK_PUBLIC_URL", format!("http://{addr}"))
            .env("HELPDESK_LOG", "warn")
            .stdout(std::process::Stdio::null());
        let log = tempfile::NamedTempFile::new().expect("log file");
        cmd.stderr(log.reopen().expect("log file"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start helpdesk");
        let mut s = Spawned {
            child,
            addr,
            data,
            database_url,
            log,
        };
        let ready = async {
            loop {
                // Checked first, so that a server that could not start is never taken for
                // ready because something else answers on its address.
                if let Some(status) = s.child.try_wait().expect("wait") {
                    panic!(
                        "the server ended before it was ready ({status}): {}",
                        s.said()
                    );
                }
                if let Ok(r) = client().get(s.url("/readyz")).send().await
                    && r.status() == 200
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(120), ready)
            .await
            .expect("the server starts within two minutes");
        s
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server as an orchestrator does (SIGTERM), waits until it has exited cleanly,
    /// and hands back its data folder.
    pub async fn stop(mut self) -> tempfile::TempDir {
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(killed.success());
        let status = self.exited(Duration::from_secs(60)).await;
        assert!(
            status.success(),
            "a stopped server exits cleanly: {status}: {}",
            self.said()
        );
        std::mem::replace(&mut self.data, tempfile::tempdir().expect("data dir"))
    }

    /// The last lines the server wrote to standard error.
    pub fn said(&self) -> String {
        let log = std::fs::read_to_string(self.log.path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// How the server process ended, which it must within `within`.
    pub async fn exited(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server ends within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Resident memory of the server process, in bytes.
    pub fn resident(&self) -> u64 {
        resident(self.child.id()).expect("VmRSS")
    }

    /// Runs a `helpdesk` command on the same data folder and database.
    pub fn command(&self, args: &[&str]) -> String {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_helpdesk"))
            .args(args)
            .env("HELPDESK_DATA_DIR", self.data.path())
            .env("HELPDESK_DATABASE_URL", &self.database_url)
            .output()
            .expect("run helpdesk");
        assert!(
            out.status.success(),
            "helpdesk {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Python program from the package registry: `env_var` when set, else installed once into
/// a virtual environment in the test target folder from the pinned `requirements` (relative to
/// the crate).
pub fn python_tool(
    env_var: &str,
    venv: &str,
    requirements: &str,
    program: &str,
) -> std::path::PathBuf {
    use std::path::Path;
    use std::process::Command;
    if let Ok(path) = std::env::var(env_var) {
        return path.into();
    }
    static INSTALL: Mutex<()> = Mutex::new(());
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(venv);
    let bin = venv.join("bin").join(program);
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join(requirements);
    let stamp = venv.join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("requirements");
    if bin.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return bin;
    }
    let run = |cmd: &mut Command| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        assert!(
            out.status.success(),
            "{cmd:?} failed (this test needs Python 3 with venv and the Python package registry, or {env_var}): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
    run(Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements));
    std::fs::write(&stamp, wanted).expect("stamp");
    bin
}

/// Resident memory of process `pid`, in bytes, while it runs.
pub fn resident(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())?;
    Some(kib * 1024)
}

/// The highest resident memory of a server process, sampled every `every` until [`Peak::done`].
pub struct Peak {
    stop: Arc<std::sync::atomic::AtomicBool>,
    peak: Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Peak {
    pub fn watch(server: &Spawned, every: Duration) -> Peak {
        use std::sync::atomic::{AtomicBool, AtomicU64};
        let pid = server.child.id();
        let (stop, peak) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
        );
        let (s, p) = (stop.clone(), peak.clone());
        let task = tokio::spawn(async move {
            while !s.load(Ordering::Relaxed) {
                if let Some(bytes) = resident(pid) {
                    p.fetch_max(bytes, Ordering::Relaxed);
                }
                tokio::time::sleep(every).await;
            }
        });
        Peak { stop, peak, task }
    }

    pub async fn done(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        self.peak.load(Ordering::Relaxed)
    }
}

pub use dovecot::free_port;

/// A free address on this machine.
pub fn free_addr() -> SocketAddr {
    ([127, 0, 0, 1], free_port()).into()
}

/// Runs `cmd`, which must succeed; its standard output.
pub fn run(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
