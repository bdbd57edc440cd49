//! What the HTTP benchmarks share: the database they measure and a server over it with every
//! rule of the request path on.

use helpdesk::auth::limits::Limit;
use helpdesk::auth::password::Hasher;
use helpdesk::auth::{AuthConfig, LimitConfig, MfaPolicy};
use helpdesk::clock::SystemClock;
use helpdesk::db::{self, Db};
use helpdesk::mail::Mailer;
use helpdesk::plugins::{Limits, Plugins, Runtime};
use helpdesk::requests::files::{Files, LocalStore};
use helpdesk::{AppState, app};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// Runs a benchmark's async body on a multi-threaded runtime.
#[allow(dead_code)] // not every benchmark is async
pub fn block_on(body: impl Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(body);
}

/// The data the request benchmarks generate: 100,000 requests and 1,000,000 messages over 500
/// sites, times `HELPDESK_BENCH_SCALE` (1 by default); `HELPDESK_BENCH_MESSAGES` sets the number
/// of messages apart from the scale. At least `min_requests` requests.
#[allow(dead_code)] // not every benchmark generates requests
pub fn scale(min_requests: usize) -> helpdesk::requests::generate::Scale {
    let factor: f64 = std::env::var("HELPDESK_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    helpdesk::requests::generate::Scale {
        sites: ((500.0 * factor) as usize).max(1),
        customers_per_site: 4,
        agents: 20,
        requests: ((100_000.0 * factor) as usize).max(min_requests),
        messages: std::env::var("HELPDESK_BENCH_MESSAGES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(((1_000_000.0 * factor) as usize).max(1)),
        seed: 42,
    }
}

/// A folder for the run's files, the database in it (see [`database`]), its name, and the
/// bundled plugins active over it.
#[allow(dead_code)] // not every benchmark needs all of it
pub async fn setup() -> (tempfile::TempDir, Db, &'static str, Arc<Plugins>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, backend) = database(dir.path()).await;
    let plugins = plugins(&db).await;
    (dir, db, backend, plugins)
}

/// A migrated database: `HELPDESK_BENCH_DATABASE_URL`, or SQLite in `dir`; and its name.
pub async fn database(dir: &Path) -> (Db, &'static str) {
    sqlx::any::install_default_drivers();
    let url = std::env::var("HELPDESK_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.join("bench.db").display()));
    let db = Db::connect(&url).await.expect("connect");
    db.migrate().await.expect("migrate");
    let backend = match db.backend() {
        db::Backend::Sqlite => "SQLite",
        db::Backend::Postgres => "PostgreSQL",
    };
    (db, backend)
}

/// The bundled plugins, installed and active.
pub async fn plugins(db: &Db) -> Arc<Plugins> {
    let plugins = Arc::new(Plugins::new(Arc::new(
        Runtime::new(Limits::default(), None).expect("plugin runtime"),
    )));
    plugins.ensure_defaults(db).await.expect("plugins");
    plugins.refresh(db).await.expect("plugins");
    plugins
}

/// Serves the portal over `db` on a free loopback port, attachments in `dir`. Every rule of the
/// login path stays on; the emailed code is off, and the per-address allowances of logins and
/// password checks are raised so one benchmarking client is not refused.
#[allow(dead_code)] // not every benchmark serves HTTP
pub async fn serve(db: &Db, plugins: Arc<Plugins>, hasher: Arc<Hasher>, dir: &Path) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(helpdesk::http::server::serve(
        listener,
        app(state(db, plugins, hasher, dir)),
        Default::default(),
        std::future::pending(),
    ));
    addr
}

/// The services over `db` as the server has them, attachments in `dir`, with the rules of
/// [`serve`].
#[allow(dead_code)] // not every benchmark calls the services directly
pub fn state(db: &Db, plugins: Arc<Plugins>, hasher: Arc<Hasher>, dir: &Path) -> AppState {
    let config = AuthConfig {
        mfa: MfaPolicy::Never,
        limits: LimitConfig {
            login_per_ip: Limit::new(i64::MAX / 2, 60_000),
            password_checks_per_ip: Limit::new(i64::MAX / 2, 60_000),
            ..LimitConfig::default()
        },
        ..AuthConfig::default()
    };
    AppState::new(
        db.clone(),
        plugins,
        Mailer::new("http://127.0.0.1"),
        config,
        Arc::new(SystemClock),
        hasher,
        Files::new(
            Arc::new(LocalStore::new(dir.join("files"))),
            Default::default(),
            dir.join("staging"),
            256 << 20,
        ),
    )
}

/// Signs `email` in through the login page, as a browser does; returns the `Cookie` header its
/// pages are asked with.
#[allow(dead_code)]
pub async fn page_session(
    http: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> String {
    let res = http
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login page");
    let csrf_cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hd_csrf="))
        .and_then(|v| v.split(';').next())
        .expect("the login page sets its CSRF cookie")
        .to_owned();
    let html = res.text().await.expect("login page");
    let token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the login form's CSRF token")
        .to_owned();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let res = no_redirects
        .post(format!("{base}/login"))
        .header("cookie", &csrf_cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("email", email),
            ("password", password),
            ("next", "/dashboard"),
        ])
        .send()
        .await
        .expect("login");
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| !v.starts_with("hd_csrf="))
        .and_then(|v| v.split(';').next())
        .expect("signed in")
        .to_owned();
    format!("{session}; {csrf_cookie}")
}
