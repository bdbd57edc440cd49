//! Webhooks: other systems told of what happens to requests. Operators register endpoints (a
//! URL, the events it wants, a secret the server makes); every event on a request writes one
//! delivery per endpoint that wants it, in the transaction of the event, so a delivery exists
//! exactly when its event does. A [`Worker`] on every server sends what is due, up to
//! [`PARALLEL`] deliveries at once (one endpoint's one after the other).
//!
//! A delivery is POSTed as JSON with `Helpdesk-Event`, `Helpdesk-Delivery` (its id, the same on
//! every attempt, so a receiver can drop a repeat) and `Helpdesk-Signature: t=<unix seconds>,
//! v1=<hex HMAC-SHA256 of "<t>.<body>" under the endpoint's secret>`, which proves the sender
//! and, by `t`, how fresh the message is. A 2xx answer delivers it; anything else (a redirect
//! too: none is followed) is tried again with back-off. An endpoint that has failed for a day
//! ([`Retry::disable_after`]) is disabled, what waits for it is given up, and operators are
//! emailed; an operator turns it back on and sends any delivery again from its log.
//!
//! Delivery is at least once: a server that dies between the receiver's answer and recording
//! it sends that delivery again, under the same id, once its claim lapses ([`Retry::lease`]).

pub mod seal;
pub mod send;
pub use seal::Sealer;

use crate::clock::Clock;
use crate::db::{self, Db, DbError};
use crate::domain::net::Cidr;
use crate::mail::{Mailer, messages};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The events an endpoint can want: those of requests, as the workflow hears them (a timer,
/// which changes nothing by itself, is not one).
pub const EVENTS: [&str; 7] = [
    "created",
    "customer-replied",
    "staff-replied",
    "note-added",
    "assigned",
    "status-changed",
    "field-changed",
];

/// What both sides of webhooks need: the key secrets are sealed with, and the internal ranges
/// an operator allowed endpoints in (`HELPDESK_WEBHOOK_ALLOW`).
#[derive(Debug, Clone)]
pub struct Webhooks {
    pub sealer: Arc<Sealer>,
    pub allow: Vec<Cidr>,
}

impl Webhooks {
    /// Webhooks whose secrets only this process can open, reaching no internal address.
    pub fn ephemeral() -> Webhooks {
        Webhooks {
            sealer: Arc::new(Sealer::ephemeral()),
            allow: Vec::new(),
        }
    }
}

/// `HELPDESK_WEBHOOK_ALLOW`: internal address ranges endpoints may reach.
#[derive(Debug, Clone, Default)]
pub struct Allowed(pub Vec<Cidr>);

impl Allowed {
    /// Ranges separated by commas or spaces.
    pub fn parse(list: &str) -> Result<Allowed, String> {
        list.split([',', ' '])
            .filter(|s| !s.trim().is_empty())
            .map(Cidr::parse)
            .collect::<Result<_, _>>()
            .map(Allowed)
    }
}

/// A new signing secret: `whsec_` and 256 random bits, hex.
pub fn new_secret() -> String {
    let (token, _) = crate::auth::secret::new_token();
    format!("whsec_{token}")
}

/// The `Helpdesk-Signature` header of `body` sent at `t` (Unix seconds) under `secret`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mac = ring::hmac::sign(&key, format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.as_ref()))
}

/// Deliveries a server sends at once.
pub const PARALLEL: usize = 8;

/// Retry timing and limits of deliveries.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// The wait after the first failed attempt, doubling per attempt up to `max`.
    pub base: Duration,
    pub max: Duration,
    /// How often due deliveries are looked for.
    pub poll: Duration,
    /// Attempts after which one delivery is given up, even if its endpoint answers others.
    pub max_attempts: i64,
    /// How long a worker's claim on a delivery lasts.
    pub lease: Duration,
    /// How long an endpoint may fail without a delivered attempt before it is disabled.
    pub disable_after: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            base: Duration::from_secs(10),
            max: Duration::from_secs(60 * 60),
            poll: Duration::from_secs(1),
            // A day and a half at the longest wait.
            max_attempts: 40,
            // Long enough for one endpoint's share of a round, one after the other.
            lease: send::TIMEOUT * (PARALLEL as u32 + 2),
            disable_after: Duration::from_secs(24 * 60 * 60),
        }
    }
}

impl Retry {
    fn delay(&self, attempts: i64) -> Duration {
        crate::clock::backoff(self.base, self.max, attempts)
    }
}

/// Sends due deliveries until stopped.
#[derive(Debug)]
pub struct Worker {
    pub db: Db,
    pub webhooks: Arc<Webhooks>,
    /// The time deliveries are scheduled and endpoints' failures counted by.
    pub clock: Arc<dyn Clock>,
    /// For telling operators of an endpoint disabled.
    pub mailer: Mailer,
    pub retry: Retry,
}

/// How an attempt ended.
enum Outcome {
    Delivered(u16),
    Failed(Option<u16>, String),
}

impl Worker {
    pub async fn run(self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let idle = match self.deliver_due().await {
                Ok(_) => self.sleep_for().await,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook deliveries unavailable");
                    self.retry.poll
                }
            };
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(idle) => {}
            }
        }
    }

    async fn sleep_for(&self) -> Duration {
        match db::webhooks::next_due(self.db.pool()).await {
            Ok(Some(due)) => Duration::from_millis(
                (due - self.clock.now_ms()).clamp(10, self.retry.poll.as_millis() as i64) as u64,
            ),
            _ => self.retry.poll,
        }
    }

    /// Sends every delivery due now; returns how many attempts were made. Up to [`PARALLEL`]
    /// are claimed at a time and sent side by side, one endpoint's in turn, so a slow receiver
    /// holds up only its own.
    pub async fn deliver_due(&self) -> Result<usize, DbError> {
        let mut attempts = 0;
        loop {
            let mut claimed = Vec::new();
            while claimed.len() < PARALLEL {
                match db::webhooks::claim(
                    self.db.pool(),
                    self.clock.now_ms(),
                    self.retry.lease.as_millis() as i64,
                )
                .await?
                {
                    Some(d) => claimed.push(d),
                    None => break,
                }
            }
            if claimed.is_empty() {
                return Ok(attempts);
            }
            attempts += claimed.len();
            let mut by_endpoint: std::collections::BTreeMap<i64, Vec<db::webhooks::Claimed>> =
                std::collections::BTreeMap::new();
            for d in claimed {
                by_endpoint.entry(d.endpoint_id).or_default().push(d);
            }
            let sent = futures_util::future::join_all(by_endpoint.into_values().map(
                |deliveries| async move {
                    for d in deliveries {
                        self.deliver(d).await?;
                    }
                    Ok::<(), DbError>(())
                },
            ))
            .await;
            for s in sent {
                s?;
            }
        }
    }

    /// Sends claimed delivery `d` and records how it went.
    async fn deliver(&self, d: db::webhooks::Claimed) -> Result<(), DbError> {
        // Removed since it was claimed (its deliveries went with it), or turned off (what
        // waited for it was given up).
        let Some(target) = db::webhooks::target(self.db.pool(), d.endpoint_id).await? else {
            return Ok(());
        };
        if target.state != "active" {
            return Ok(());
        }
        let outcome = self.attempt(&d, &target).await;
        let now = self.clock.now_ms();
        let mut tx = self.db.begin().await?;
        let mut disabled = false;
        match outcome {
            Outcome::Delivered(status) => {
                db::webhooks::mark_delivered(&mut tx, &d, status, now).await?;
                tracing::info!(
                    delivery = d.id,
                    endpoint = d.endpoint_id,
                    status,
                    "webhook delivered"
                );
            }
            Outcome::Failed(status, error) => {
                let failing_since = target.failing_since.unwrap_or(now);
                let disable = now - failing_since >= self.retry.disable_after.as_millis() as i64;
                let next = (!disable && d.attempts < self.retry.max_attempts)
                    .then(|| now + self.retry.delay(d.attempts).as_millis() as i64);
                db::webhooks::mark_failed(&mut tx, &d, status, &error, next, now).await?;
                tracing::warn!(delivery = d.id, endpoint = d.endpoint_id, attempts = d.attempts, error = %error, retry = next.is_some(), "webhook delivery failed");
                if disable {
                    disabled = true;
                    self.disable(
                        &mut tx,
                        d.endpoint_id,
                        &target.url,
                        failing_since,
                        &error,
                        now,
                    )
                    .await?;
                }
            }
        }
        tx.commit().await?;
        if disabled {
            self.mailer.wake();
        }
        Ok(())
    }

    async fn attempt(&self, d: &db::webhooks::Claimed, target: &db::webhooks::Target) -> Outcome {
        let secret = match self.webhooks.sealer.open(&target.secret_sealed) {
            Ok(s) => s,
            Err(e) => return Outcome::Failed(None, format!("cannot sign: {e}")),
        };
        let t = self.clock.now_ms().div_euclid(1000);
        let headers = [
            ("helpdesk-event", d.event.clone()),
            ("helpdesk-delivery", d.id.to_string()),
            ("helpdesk-signature", signature(&secret, t, &d.body)),
        ];
        match send::post(&target.url, &headers, d.body.clone(), &self.webhooks.allow).await {
            Ok(status) if (200..300).contains(&status) => Outcome::Delivered(status),
            Ok(status) if (300..400).contains(&status) => Outcome::Failed(
                Some(status),
                format!("the receiver answered {status}; redirects are not followed"),
            ),
            Ok(status) => Outcome::Failed(Some(status), format!("the receiver answered {status}")),
            Err(e) => Outcome::Failed(None, e),
        }
    }

    /// Disables endpoint `id` after failing since `since`, in `tx`, and tells operators.
    async fn disable(
        &self,
        tx: &mut sqlx::AnyConnection,
        id: i64,
        url: &str,
        since: i64,
        error: &str,
        now: i64,
    ) -> Result<(), DbError> {
        let reason = format!(
            "failing since {}: {error}",
            jiff::Timestamp::from_millisecond(since)
                .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default()
        );
        db::webhooks::set_state(&mut *tx, id, Some(&reason), now).await?;
        for op in db::users::active_with_role(&mut *tx, "operator", None).await? {
            let m = messages::webhook_disabled(
                &op.email,
                url,
                &reason,
                &self.mailer.link(&format!("/staff/webhooks/{id}")),
            );
            self.mailer.queue(&mut *tx, &m, now).await?;
        }
        tracing::error!(
            endpoint = id,
            "webhook endpoint disabled after failing for a day; operators emailed"
        );
        Ok(())
    }
}
