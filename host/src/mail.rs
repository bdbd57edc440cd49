//! Email: messages are queued in the outbox inside the transaction of the change that causes
//! them, and a background [`Worker`] delivers them by SMTP, or as `.eml` files in a folder when
//! no SMTP server is configured, retrying with back-off until they go.

pub mod messages;

use crate::db::{self, Db, DbError};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::AnyConnection;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// A message ready to queue: always a plain-text and an HTML part.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What code that sends mail holds: where links point and how to wake the worker.
#[derive(Debug, Clone)]
pub struct Mailer {
    public_url: String,
    wake: Arc<Notify>,
}

impl Mailer {
    pub fn new(public_url: &str) -> Mailer {
        Mailer {
            public_url: public_url.trim_end_matches('/').to_owned(),
            wake: Arc::new(Notify::new()),
        }
    }

    /// An absolute link to `path` on the portal, built from the configured public URL.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Queues `email` on `conn`, which should be the transaction of the change it reports.
    /// Call [`Mailer::wake`] once that transaction has committed. `now` is the account clock's
    /// time of the change; delivery is scheduled on the system clock.
    pub async fn queue(
        &self,
        conn: &mut AnyConnection,
        email: &Email,
        now: i64,
    ) -> Result<(), DbError> {
        db::outbox::enqueue(
            conn,
            &email.to,
            &email.subject,
            &email.text,
            &email.html,
            now,
            db::now_ms(),
        )
        .await?;
        Ok(())
    }

    /// Tells the local worker there is new mail; other replicas find it on their next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}

/// Where delivered mail goes.
#[derive(Debug, Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// One RFC 5322 file per message, named after its outbox id.
    Folder(PathBuf),
}

impl Transport {
    /// SMTP when `smtp_url` is given (`smtp://host:port`, `smtps://…`, `?tls=required`),
    /// otherwise the folder.
    pub fn from_settings(smtp_url: Option<&str>, folder: PathBuf) -> Result<Transport, String> {
        match smtp_url {
            Some(url) => AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map(|b| Transport::Smtp(b.timeout(Some(Duration::from_secs(15))).build()))
                .map_err(|e| format!("HELPDESK_SMTP_URL is not a usable SMTP URL: {e}")),
            None => Ok(Transport::Folder(folder)),
        }
    }

    async fn deliver(&self, id: i64, message: Message) -> Result<(), Failure> {
        match self {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| Failure {
                permanent: e.is_permanent(),
                message: e.to_string(),
            }),
            Transport::Folder(dir) => {
                let dir = dir.clone();
                let bytes = message.formatted();
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    std::fs::create_dir_all(&dir)?;
                    let tmp = dir.join(format!(".{id:010}.eml.tmp"));
                    std::fs::write(&tmp, &bytes)?;
                    std::fs::rename(&tmp, dir.join(format!("{id:010}.eml")))
                })
                .await
                .map_err(|e| Failure::transient(e.to_string()))?
                .map_err(|e| Failure::transient(e.to_string()))
            }
        }
    }
}

/// Why a delivery attempt failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The server refused for good (SMTP 5xx), or the message cannot be built (an address the
    /// mailer cannot parse).
    pub permanent: bool,
    pub message: String,
}

impl Failure {
    fn transient(message: String) -> Failure {
        Failure {
            permanent: false,
            message,
        }
    }
}

/// Retry timing for failed deliveries: `base`, doubling per attempt, never more than `max`.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub base: Duration,
    pub max: Duration,
    /// How often the outbox is looked at when nothing wakes the worker (other replicas' mail).
    pub poll: Duration,
    /// Attempts after which a message that keeps failing is given up.
    pub max_attempts: i64,
    /// Permanent refusals (SMTP 5xx) after which a message is given up; a message that cannot
    /// even be built is given up at once.
    pub max_permanent: i64,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            base: Duration::from_secs(5),
            max: Duration::from_secs(15 * 60),
            poll: Duration::from_secs(2),
            // About a day of retries at the longest delay.
            max_attempts: 100,
            max_permanent: 3,
        }
    }
}

impl Retry {
    fn delay(&self, attempts: i64) -> Duration {
        let exp = attempts.clamp(1, 20) as u32 - 1;
        self.base.saturating_mul(1u32 << exp).min(self.max)
    }
}

/// Delivers queued mail until stopped.
#[derive(Debug)]
pub struct Worker {
    pub db: Db,
    pub transport: Transport,
    pub from: Mailbox,
    pub wake: Arc<Notify>,
    pub retry: Retry,
}

/// A claim lasts this long; a worker that dies mid-delivery leaves the message to others after.
const LEASE: Duration = Duration::from_secs(120);

impl Worker {
    pub async fn run(self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let idle = match self.deliver_due().await {
                Ok(()) => self.sleep_for().await,
                Err(e) => {
                    tracing::warn!(error = %e, "mail outbox unavailable");
                    self.retry.poll
                }
            };
            tokio::select! {
                _ = &mut stop => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
            }
        }
    }

    /// Delivers every message that is due now.
    pub async fn deliver_due(&self) -> Result<(), DbError> {
        while let Some(m) =
            db::outbox::claim(self.db.pool(), db::now_ms(), LEASE.as_millis() as i64).await?
        {
            let result = match self.build(&m) {
                Ok(message) => self.transport.deliver(m.id, message).await,
                Err(message) => Err(Failure {
                    permanent: true,
                    message,
                }),
            };
            match result {
                Ok(()) => {
                    db::outbox::mark_sent(self.db.pool(), m.id, db::now_ms()).await?;
                    tracing::info!(outbox_id = m.id, attempts = m.attempts, "mail delivered");
                }
                Err(f) if self.give_up(&m, &f) => {
                    db::outbox::give_up(self.db.pool(), m.id, &f.message, db::now_ms()).await?;
                    tracing::error!(outbox_id = m.id, attempts = m.attempts, permanent = f.permanent, error = %f.message, "mail given up; operators see it at /staff/mail");
                }
                Err(f) => {
                    let next = db::now_ms() + self.retry.delay(m.attempts).as_millis() as i64;
                    db::outbox::mark_failed(self.db.pool(), m.id, &f.message, next).await?;
                    tracing::warn!(outbox_id = m.id, attempts = m.attempts, error = %f.message, "mail delivery failed; will retry");
                }
            }
        }
        Ok(())
    }

    /// Whether a failed message should stop being tried: it cannot be built, the server
    /// refused it for good often enough, or it has failed too many times in all.
    fn give_up(&self, m: &db::outbox::Claimed, f: &Failure) -> bool {
        let unbuildable = f.permanent && f.message.starts_with(UNBUILDABLE);
        unbuildable
            || (f.permanent && m.attempts >= self.retry.max_permanent)
            || m.attempts >= self.retry.max_attempts
    }

    async fn sleep_for(&self) -> Duration {
        match db::outbox::next_due(self.db.pool()).await {
            Ok(Some(due)) => Duration::from_millis(
                (due - db::now_ms()).clamp(10, self.retry.poll.as_millis() as i64) as u64,
            ),
            _ => self.retry.poll,
        }
    }

    fn build(&self, m: &db::outbox::Claimed) -> Result<Message, String> {
        let to: Mailbox = m
            .to_addr
            .parse()
            .map_err(|e| format!("{UNBUILDABLE}: bad recipient: {e}"))?;
        let domain = self.from.email.domain().to_owned();
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            // A stable id: a message retried after a lost acknowledgement can be recognised.
            .message_id(Some(format!("<outbox-{}@{domain}>", m.id)))
            .multipart(MultiPart::alternative_plain_html(
                m.text_body.clone(),
                m.html_body.clone(),
            ))
            .map_err(|e| format!("{UNBUILDABLE}: {e}"))
    }
}

/// How the error of a message that cannot be built starts.
const UNBUILDABLE: &str = "cannot be built";
