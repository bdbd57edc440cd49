//! Email: messages are queued in the outbox inside the transaction of the change that causes
//! them, and a background [`Worker`] delivers them by SMTP, or as `.eml` files in a folder when
//! no SMTP server is configured, retrying with back-off until they go.
//!
//! Every message is named by a random token (`Message-ID: <token@domain>`), the same on every
//! attempt, so a delivery report can be matched to what was really sent and a receiver can tell
//! a message sent again after a crash from a new one. A message about a request also carries a
//! reply address holding that token, so that the [`inbound`] side can put a reply from the
//! recipient's mail client into that request.
//!
//! Delivery is at least once: a message is recorded as sent as soon as the server accepts it.
//! A server that dies between the acceptance and that record (a window of a database write)
//! sends it again once its claim lapses ([`LEASE`]), under the same Message-ID.

pub mod inbound;
pub mod messages;

use crate::db::{self, Db, DbError};
use lettre::message::header::{HeaderName, HeaderValue};
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
    /// The request it is about: the recipient may answer it by email.
    pub request: Option<i64>,
    /// It answers a message that came in (RFC 3834 `auto-replied`), rather than reporting a
    /// change (`auto-generated`). Either way, well-behaved responders do not answer it.
    pub answers_mail: bool,
}

impl Email {
    /// The message is about request `id`; its reply address leads back there.
    pub fn about(mut self, id: i64) -> Email {
        self.request = Some(id);
        self
    }

    /// The message answers incoming mail.
    pub fn answering(mut self) -> Email {
        self.answers_mail = true;
        self
    }
}

/// The token of a message (its Message-ID, and for a message about a request its reply
/// address): 128 random bits, hex. The address `support+<token>@…` stays within the 64
/// characters a local part may have.
fn reply_token() -> (String, String) {
    let mut bytes = [0u8; 16];
    // Without an OS random source nothing secure can be issued: stopping is the only safe answer.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    let token = hex::encode(bytes);
    let hash = token_sha256(&token);
    (token, hash)
}

/// How a reply token is stored and looked up.
pub fn token_sha256(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.to_ascii_lowercase().as_bytes()))
}

/// What code that sends mail holds: where links point and how to wake the worker.
#[derive(Debug, Clone)]
pub struct Mailer {
    public_url: String,
    wake: Arc<Notify>,
    replies: bool,
}

/// The first line of a message about a request when replies by email are read: what a reply
/// writes above it is the reply, whatever the mail client quotes below.
pub const REPLY_ABOVE: &str = "##- Reply above this line to answer by email -##";

impl Mailer {
    pub fn new(public_url: &str) -> Mailer {
        Mailer {
            public_url: public_url.trim_end_matches('/').to_owned(),
            wake: Arc::new(Notify::new()),
            replies: false,
        }
    }

    /// Replies by email are read: messages about a request say where to write a reply.
    pub fn reading_replies(mut self) -> Mailer {
        self.replies = true;
        self
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
        let token = reply_token();
        let (text, html) = match email.request {
            Some(_) if self.replies => (
                format!("{REPLY_ABOVE}\n\n{}", email.text),
                match email
                    .html
                    .find("<body")
                    .and_then(|b| email.html[b..].find('>').map(|e| b + e + 1))
                {
                    Some(at) => format!(
                        "{}<p style=\"color: #666\">{REPLY_ABOVE}</p>{}",
                        &email.html[..at],
                        &email.html[at..]
                    ),
                    None => email.html.clone(),
                },
            ),
            _ => (email.text.clone(), email.html.clone()),
        };
        db::outbox::enqueue(
            conn,
            &db::outbox::NewMail {
                to: &email.to,
                subject: &email.subject,
                text: &text,
                html: &html,
                request_id: email.request,
                reply_token: Some((token.0.as_str(), token.1.as_str())),
                auto_submitted: if email.answers_mail {
                    "auto-replied"
                } else {
                    "auto-generated"
                },
                created_at: now,
                due_at: db::now_ms(),
            },
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
    /// How long a worker's claim on a message lasts: a worker that dies mid-delivery leaves
    /// the message to others after it.
    pub lease: Duration,
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
            lease: LEASE,
        }
    }
}

impl Retry {
    fn delay(&self, attempts: i64) -> Duration {
        crate::clock::backoff(self.base, self.max, attempts)
    }
}

/// Delivers queued mail until stopped.
#[derive(Debug)]
pub struct Worker {
    pub db: Db,
    pub transport: Transport,
    pub from: Mailbox,
    /// The address of the mailbox that incoming mail is read from, when it is: a message about
    /// a request gets the reply address `local+<token>@domain` of it.
    pub reply_to: Option<Mailbox>,
    pub wake: Arc<Notify>,
    pub retry: Retry,
}

/// A claim lasts this long by default: four times the SMTP timeout, for messages that are
/// small (notifications carry links, not files).
pub const LEASE: Duration = Duration::from_secs(60);

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
        while let Some(m) = db::outbox::claim(
            self.db.pool(),
            db::now_ms(),
            self.retry.lease.as_millis() as i64,
        )
        .await?
        {
            // Mail to an address that bounces does not go: it would only bounce again, and
            // keeps the sender's reputation down. Operators see it, and can mail it again.
            if let Some(since) = db::inbound::bouncing_since(self.db.pool(), &m.to_addr).await? {
                let why = format!(
                    "not sent: the address bounced (marked {}); operators can clear the mark at /staff/mail/received",
                    utc_day(since)
                );
                db::outbox::give_up(self.db.pool(), m.id, &why, db::now_ms()).await?;
                tracing::warn!(outbox_id = m.id, "mail to a bouncing address given up");
                continue;
            }
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
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                m.auto_submitted.clone(),
            ));
        // A stable id: a message retried after a lost acknowledgement can be recognised. A
        // message about a request is named by its reply token, so that a reply whose client
        // dropped the reply address is still recognised by its In-Reply-To.
        builder = match (&m.reply_token, m.request_id) {
            (Some(token), Some(request)) => {
                // Mail clients thread every message about one request together.
                let thread = format!("<request-{request}@{domain}>");
                builder = builder
                    .message_id(Some(format!("<{token}@{domain}>")))
                    .in_reply_to(thread.clone())
                    .references(thread);
                match &self.reply_to {
                    Some(inbox) => builder.reply_to(plus_address(inbox, token)?),
                    None => builder,
                }
            }
            (Some(token), None) => builder.message_id(Some(format!("<{token}@{domain}>"))),
            // Queued by an older release, before every message had a token.
            (None, _) => builder.message_id(Some(format!("<outbox-{}@{domain}>", m.id))),
        };
        builder
            .multipart(MultiPart::alternative_plain_html(
                m.text_body.clone(),
                m.html_body.clone(),
            ))
            .map_err(|e| format!("{UNBUILDABLE}: {e}"))
    }
}

/// The day (UTC) of Unix milliseconds `ms`, as `2026-12-06`.
fn utc_day(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// `local+token@domain` of `inbox`, under the inbox's display name.
fn plus_address(inbox: &Mailbox, token: &str) -> Result<Mailbox, String> {
    let email = format!("{}+{token}@{}", inbox.email.user(), inbox.email.domain())
        .parse()
        .map_err(|e| format!("{UNBUILDABLE}: reply address: {e}"))?;
    Ok(Mailbox::new(inbox.name.clone(), email))
}

/// How the error of a message that cannot be built starts.
const UNBUILDABLE: &str = "cannot be built";
