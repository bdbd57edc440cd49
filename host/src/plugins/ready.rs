//! Every replica compiles an installation as soon as it hears of it (by notification on
//! PostgreSQL, else at its next look) and says so in the database; an activation waits until
//! every live replica has, so that all of them switch within milliseconds, whatever the
//! component's language. A replica that cannot compile it refuses the activation, naming why.

use super::*;

/// How long an activation waits, by default, for every live replica to compile the plugin.
pub const READY_WAIT: Duration = Duration::from_secs(60);

/// A replica that has not said it serves for this long is gone.
pub const LIVE: Duration = Duration::from_secs(15);

/// How often a replica says it serves.
pub(super) const HEARTBEAT: Duration = Duration::from_secs(5);

/// Installations younger than this are compiled by a replica that has not yet.
const RECENT_INSTALLS: Duration = Duration::from_secs(7 * 24 * 3600);

impl Plugins {
    /// This server serves `db` from now on, as one of its replicas (under a random id).
    pub(super) async fn join(&self, db: &Db) {
        self.replica.get_or_init(|| {
            let mut bytes = [0u8; 8];
            let _ = getrandom::fill(&mut bytes);
            hex::encode(bytes)
        });
        self.heartbeat(db).await;
    }

    /// Says this replica still serves.
    pub(super) async fn heartbeat(&self, db: &Db) {
        let Some(id) = self.replica.get() else {
            return;
        };
        let host = hostname();
        if let Err(e) = db::replicas::seen(db, id, &host, self.started_at, db::now_ms()).await {
            tracing::warn!(error = %e, "could not say this server serves");
        }
    }

    /// Says this replica stops serving: activations no longer wait for it.
    pub(super) async fn leave(&self, db: &Db) {
        if let Some(id) = self.replica.get()
            && let Err(e) = db::replicas::gone(db, id).await
        {
            tracing::warn!(error = %e, "could not say this server stops serving");
        }
    }

    /// Records that this replica compiled installation `id` (or could not, with `error`).
    pub(super) async fn record_compiled(&self, db: &Db, id: i64, error: Option<&str>) {
        let Some(replica) = self.replica.get() else {
            return;
        };
        if id <= 0 {
            return;
        }
        if let Err(e) = db::replicas::compiled(db, id, replica, error, db::now_ms()).await {
            tracing::warn!(id, error = %e, "could not record a compiled plugin");
        }
    }

    /// Compiles what was installed lately and this replica has not compiled yet: what a
    /// notification announces, found by looking when one is missed (or on SQLite, a server
    /// compiling what the command line installed).
    pub(super) async fn compile_installed(&self, db: &Db) {
        let Some(replica) = self.replica.get() else {
            return;
        };
        let since = db::now_ms() - RECENT_INSTALLS.as_millis() as i64;
        let ids = match db::replicas::not_compiled_by(db, replica, since).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, "could not look for plugins to compile");
                return;
            }
        };
        for id in ids {
            self.prewarm_one(db, id).await;
        }
    }

    /// Prepares installed plugin `id` and lets it go: the compiled component stays in the
    /// runtime's memory and artifact cache for when it is activated. Recorded either way.
    pub(super) async fn prewarm_one(&self, db: &Db, id: i64) {
        let started = Instant::now();
        match self.prepared(db, id).await {
            Ok(_) => {
                tracing::debug!(id, took = ?started.elapsed(), "installed plugin compiled ahead of activation")
            }
            Err(e) => {
                tracing::warn!(id, error = %e, "could not prepare an installed plugin ahead of activation");
                self.record_compiled(db, id, Some(&e.to_string())).await;
            }
        }
    }

    /// Waits until every live replica has compiled installation `id`: then all of them switch
    /// to it at once. Refused when one cannot compile it, or has not within the wait.
    pub(super) async fn wait_until_compiled(&self, db: &Db, id: i64) -> Result<(), ManageError> {
        let deadline = Instant::now() + self.ready_wait;
        loop {
            let live_since = db::now_ms() - LIVE.as_millis() as i64;
            let replicas = db::replicas::readiness(db, id, live_since).await?;
            if let Some(r) = replicas.iter().find(|r| r.error.is_some()) {
                return Err(ManageError::Refused(format!(
                    "the server {} ({}) cannot load it: {}",
                    r.replica,
                    r.host,
                    r.error.as_deref().unwrap_or_default()
                )));
            }
            let waiting: Vec<&db::replicas::Readiness> = replicas
                .iter()
                .filter(|r| r.compiled_at.is_none())
                .collect();
            if waiting.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ManageError::NotReady {
                    compiling: waiting.len(),
                    of: replicas.len(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// This machine's name, as replicas are told apart in messages.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this host".into())
}
