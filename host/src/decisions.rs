//! The decision log: each plugin decision on the request path is recorded with its question
//! (redacted: a password becomes its length and character classes), its answer, its time and
//! the plugin that made it, for operators to browse, filter and replay.
//!
//! Recording never slows or fails the decision: entries go into a bounded queue, and one writer
//! per server stores what gathers over 200 ms (up to 512) in a single statement. When the queue
//! is full (the database cannot keep up), entries are dropped and counted in
//! `helpdesk_decision_log_dropped_total`.

use crate::db::decisions::NewDecision;
use crate::db::{self, Db};
use crate::metrics::Metrics;
use metrics::Counter;
use std::time::Duration;
use tokio::sync::mpsc;

/// Entries that may wait for the writer.
const QUEUE: usize = 16_384;

/// Entries stored by one statement at most.
const BATCH: usize = 512;

/// How long the writer gathers entries before it writes them.
const LINGER: Duration = Duration::from_millis(200);

/// How long decisions are kept, by age and by count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub days: i64,
    pub rows: i64,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            days: 30,
            rows: 1_000_000,
        }
    }
}

/// Where decisions are sent; cheap to clone.
#[derive(Debug, Clone)]
pub struct DecisionLog {
    queue: mpsc::Sender<NewDecision>,
    dropped: Counter,
}

impl DecisionLog {
    /// The log and the writer that stores it, which runs until `shutdown` resolves (or every
    /// sender is gone), storing what is queued before it returns.
    pub fn start<S: Future<Output = ()> + Send>(
        db: Db,
        metrics: &Metrics,
        shutdown: S,
    ) -> (DecisionLog, impl Future<Output = ()> + Send + use<S>) {
        let (queue, rx) = mpsc::channel(QUEUE);
        let log = DecisionLog {
            queue,
            dropped: metrics.counter("helpdesk_decision_log_dropped_total", vec![]),
        };
        let stored = metrics.counter("helpdesk_decision_log_stored_total", vec![]);
        (log, write(db, rx, stored, shutdown))
    }

    pub fn record(&self, decision: NewDecision) {
        if self.queue.try_send(decision).is_err() {
            self.dropped.increment(1);
        }
    }
}

async fn write(
    db: Db,
    mut rx: mpsc::Receiver<NewDecision>,
    stored: Counter,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut batch = Vec::with_capacity(BATCH);
    let mut closing = false;
    loop {
        let got = tokio::select! {
            got = rx.recv_many(&mut batch, BATCH) => got,
            () = &mut shutdown, if !closing => {
                // Take nothing new; store what is queued (the next turns), then stop.
                closing = true;
                rx.close();
                continue;
            }
        };
        if got == 0 {
            return;
        }
        // Gather what comes in the next moments too: one write (one sync to disk) for all of
        // them, so that a busy server writes a few times a second, not once per decision.
        if !closing {
            let _ = tokio::time::timeout(LINGER, async {
                while batch.len() < BATCH {
                    let room = BATCH - batch.len();
                    if rx.recv_many(&mut batch, room).await == 0 {
                        break;
                    }
                }
            })
            .await;
        }
        // A database that is down for a moment: try the same batch a few times, then let it go.
        for attempt in 0..3 {
            match db::decisions::insert(&db, &batch).await {
                Ok(()) => {
                    stored.increment(batch.len() as u64);
                    break;
                }
                Err(e) if attempt == 2 => {
                    tracing::warn!(error = %e, lost = batch.len(), "could not store plugin decisions");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        batch.clear();
    }
}

/// Prunes the log to `retention`; for the hourly housekeeping.
pub async fn prune(db: &Db, retention: Retention) -> Result<u64, db::DbError> {
    let older_than = db::now_ms() - retention.days * 24 * 3600 * 1000;
    db::decisions::prune(db, older_than, retention.rows).await
}

/// What a log keeps of a password: its length and which classes of character it has, never
/// the password.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PasswordShape {
    pub length: usize,
    pub classes: Vec<&'static str>,
}

impl PasswordShape {
    pub fn of(password: &str) -> PasswordShape {
        let (mut lower, mut upper, mut digit, mut symbol, mut other) =
            (false, false, false, false, false);
        let mut length = 0;
        for c in password.chars() {
            length += 1;
            match c {
                'a'..='z' => lower = true,
                'A'..='Z' => upper = true,
                '0'..='9' => digit = true,
                c if c.is_ascii_punctuation() || c == ' ' => symbol = true,
                _ => other = true,
            }
        }
        let classes = [
            (lower, "lower"),
            (upper, "upper"),
            (digit, "digit"),
            (symbol, "symbol"),
            (other, "non-ascii"),
        ]
        .into_iter()
        .filter_map(|(has, name)| has.then_some(name))
        .collect();
        PasswordShape { length, classes }
    }
}

#[cfg(test)]
mod tests {
    use super::PasswordShape;

    #[test]
    fn a_password_becomes_its_shape() {
        assert_eq!(
            serde_json::to_value(PasswordShape::of("Ab1 é")).unwrap(),
            serde_json::json!({ "length": 5, "classes": ["lower", "upper", "digit", "symbol", "non-ascii"] })
        );
        assert_eq!(
            serde_json::to_value(PasswordShape::of("")).unwrap(),
            serde_json::json!({ "length": 0, "classes": [] })
        );
    }
}
