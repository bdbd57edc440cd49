//! Test fixtures: a fresh database per test on either backend, a plugin runtime with test
//! limits, and a server on a real socket.

use helpdesk::db::Db;
use helpdesk::plugins::{Limits, Plugins, Runtime};
use helpdesk::{AppState, app};
use sqlx::{Connection, Executor};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
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
        db.migrate().await.expect("migrate");
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

/// A server on a real loopback socket, with the bundled plugins active and the plugin watcher
/// polling every `poll`. Dropping it stops the server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start(db: &Db, poll: Duration) -> TestServer {
        TestServer::start_with(db, poll, None).await
    }

    /// As [`TestServer::start`], keeping compiled plugins in `cache_dir`.
    pub async fn start_with(
        db: &Db,
        poll: Duration,
        cache_dir: Option<std::path::PathBuf>,
    ) -> TestServer {
        let plugins = Arc::new(Plugins::new(Arc::new(
            Runtime::new(test_limits(), cache_dir).expect("runtime"),
        )));
        plugins.ensure_defaults(db).await.expect("bundled plugins");
        plugins.refresh(db).await.expect("refresh");
        let state = AppState {
            db: db.clone(),
            plugins: plugins.clone(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (watch_stop, watch_stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(plugins.watch(db.clone(), poll, async move {
            let _ = watch_stopped.await;
        }));
        let router = app(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                    let _ = watch_stop.send(());
                })
                .await
                .expect("serve");
        });
        TestServer {
            addr,
            state,
            stop: Some(stop),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
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
