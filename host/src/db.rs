//! Storage: one pool over SQLite or PostgreSQL, chosen by URL, with the migrations of
//! `migrations/<backend>/` applied at start. SQL lives in this module's children, one per entity;
//! queries are plain runtime SQL with `$n` parameters, which both backends accept.

/// SQL for how the person in the `users` row `$u` is shown: their names, or their email address
/// while they have none. A string literal, for `concat!`.
macro_rules! display_name {
    ($u:literal) => {
        concat!(
            "COALESCE(NULLIF(TRIM(",
            $u,
            ".given_name || ' ' || ",
            $u,
            ".surname), ''), ",
            $u,
            ".email)"
        )
    };
}

pub mod audit;
pub mod branding;
pub mod custom;
pub mod decisions;
pub mod inbound;
pub mod limits;
pub mod outbox;
pub mod plugins;
pub mod replicas;
pub mod requests;
pub mod rule_failures;
pub mod saved_replies;
pub mod sessions;
pub mod sites;
pub mod tokens;
pub mod users;
pub mod webhooks;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl DbError {
    /// The database cannot be reached right now (down, restarting, refusing connections, or
    /// every connection busy past the acquire timeout): a reason to answer 503 and retry, not
    /// a fault in the request.
    pub fn is_unavailable(&self) -> bool {
        let DbError::Sqlx(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            // PostgreSQL's connection exceptions (08…), shutdown and "cannot connect now" (57P…),
            // too many connections (53300); SQLite's "busy" past its timeout.
            sqlx::Error::Database(d) => d.code().is_some_and(|c| {
                c.starts_with("08") || c.starts_with("57P") || c == "53300" || c == "5" || c == "6"
            }),
            _ => false,
        }
    }
}

impl DbError {
    /// The database has no room: SQLite's file cannot grow (`SQLITE_FULL`), PostgreSQL's disk is
    /// full (53100) or over a quota.
    pub fn is_full(&self) -> bool {
        let DbError::Sqlx(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Database(d) => d.code().is_some_and(|c| c == "13" || c == "53100"),
            sqlx::Error::Io(io) => {
                matches!(
                    io.kind(),
                    std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
                )
            }
            _ => false,
        }
    }
}

/// How long a request waits for a PostgreSQL connection before it is answered with 503: short
/// enough that an outage answers quickly, long enough to ride out a burst.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1500);

/// SQLite cannot be "down": a request waiting for one of its connections is waiting for the disk
/// and for writers ahead of it, so it waits as long as SQLite itself waits for a lock.
const SQLITE_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// Kept for connections outside the pool (`LISTEN`); holds credentials, so never logged.
    url: std::sync::Arc<str>,
}

impl Db {
    /// Connects to `url` (`sqlite://path/to/file.db` or `postgres://…`); a missing SQLite file is
    /// created and put in WAL mode.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(url.to_owned()));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = sqlx::any::AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(match backend {
                Backend::Sqlite => SQLITE_ACQUIRE_TIMEOUT,
                Backend::Postgres => ACQUIRE_TIMEOUT,
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        if backend == Backend::Sqlite {
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        Ok(Db {
            pool,
            backend,
            url: url.into(),
        })
    }

    /// Applies the migrations this binary carries that the database has not seen.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Applies the migrations up to and including `version` that the database has not seen:
    /// a database as an older release of this binary left it, for proving a migration keeps
    /// what such a database holds.
    pub async fn migrate_through(&self, version: i64) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run_to(version, &self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run_to(version, &self.pool).await?,
        }
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// On PostgreSQL, a connection of its own that `LISTEN`s on `channel`; `None` on SQLite,
    /// where there is one server and it makes every change itself.
    pub async fn listen(
        &self,
        channel: &str,
    ) -> Result<Option<sqlx::postgres::PgListener>, DbError> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let connect = async {
            let mut listener = sqlx::postgres::PgListener::connect(&self.url).await?;
            listener.listen(channel).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match tokio::time::timeout(ACQUIRE_TIMEOUT, connect).await {
            Ok(listener) => Ok(Some(listener?)),
            Err(_) => Err(DbError::Sqlx(sqlx::Error::PoolTimedOut)),
        }
    }

    /// Starts a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so
    /// a transaction that reads and then writes waits its turn behind another writer instead of
    /// failing with "busy" when that writer commits first.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Whether the database answers within `within`; for `/readyz`.
    pub async fn ping(&self, within: Duration) -> Result<(), DbError> {
        match tokio::time::timeout(within, sqlx::query("SELECT 1").execute(&self.pool)).await {
            Ok(r) => {
                r?;
                Ok(())
            }
            Err(_) => Err(DbError::Sqlx(sqlx::Error::PoolTimedOut)),
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The `VALUES` of a multi-row insert: `rows` groups of `columns` placeholders, `($1, $2), ($3,
/// $4)`, numbered row by row as the values are bound.
pub(crate) fn value_rows(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| {
            let p: Vec<String> = (1..=columns)
                .map(|col| format!("${}", row * columns + col))
                .collect();
            format!("({})", p.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `ids` joined for an SQL `IN (…)` list: integers only, so nothing but digits is formatted in.
pub(crate) fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Now, as Unix milliseconds UTC: the representation of every stored time.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Rows read one past `limit`, cut to a page, with the key of the last row kept (by `key`)
/// to continue from when there were more.
pub fn page_of<T, K>(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> K) -> (Vec<T>, Option<K>) {
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let next = if more { rows.last().map(key) } else { None };
    (rows, next)
}

/// `%search%` in lower case, for `LIKE` with a backslash as the escape: the search's own `%`,
/// `_` and backslashes are taken literally. An empty search gives `%%`.
pub fn like_pattern(search: &str) -> String {
    format!(
        "%{}%",
        search
            .trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}
