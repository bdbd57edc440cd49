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
pub async fn serve(db: &Db, plugins: Arc<Plugins>, hasher: Arc<Hasher>, dir: &Path) -> SocketAddr {
    let config = AuthConfig {
        mfa: MfaPolicy::Never,
        limits: LimitConfig {
            login_per_ip: Limit::new(i64::MAX / 2, 60_000),
            password_checks_per_ip: Limit::new(i64::MAX / 2, 60_000),
            ..LimitConfig::default()
        },
        ..AuthConfig::default()
    };
    let state = AppState::new(
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
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(helpdesk::http::server::serve(
        listener,
        app(state),
        Default::default(),
        std::future::pending(),
    ));
    addr
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
