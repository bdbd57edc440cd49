//! Mail from the support mailbox, acted on as the portal would act on a page: a reply to a
//! notification becomes a public reply by its recipient on that request; mail from an active
//! customer that answers nothing opens a request for their site. Either goes through
//! [`Requests::reply`] and [`Requests::create`], so the same permissions, workflow plugin and
//! notifications apply.
//!
//! Which request a message answers: the token of the reply address it was sent to (or of the
//! notification it names in In-Reply-To/References), issued to one recipient of one message.
//! Mail from anyone else carrying that token is treated as a new message from its real
//! sender. Without a token, the thread id or the subject's `[REQ-n]` names the request, for a
//! sender allowed to see it.
//!
//! Every message ends as one row of `inbound_mail`, written in the transaction of what it
//! caused, keyed by Message-ID: it acts once, however often it is fetched and by whichever
//! replica.

use super::*;
use crate::db;
use crate::db::inbound::{self as received, Record};
use crate::mail::inbound::imap::{Disposition, Place, Receive};
use crate::mail::inbound::{self, Bounce, File, Incoming, Kind};
use sha2::Digest;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Acts on the mail of the support mailbox.
#[derive(Debug)]
pub struct MailDesk {
    pub requests: Arc<Requests>,
    /// The domain of the help desk's own message ids (its sender address's domain).
    pub domain: String,
    /// The help desk's own address: mail from it is never answered.
    pub own_address: String,
    /// Messages an address may send in an hour; more are ignored.
    pub per_hour: i64,
}

fn disposition(outcome: &str) -> Disposition {
    match outcome {
        "refused" | "failed" => Disposition::Failed,
        _ => Disposition::Processed,
    }
}

impl Receive for MailDesk {
    async fn known(&self, place: &Place) -> std::result::Result<Option<Disposition>, String> {
        received::outcome_at(
            self.requests.db.pool(),
            &place.mailbox,
            i64::from(place.uid_validity),
            i64::from(place.uid),
        )
        .await
        .map(|o| o.as_deref().map(disposition))
        .map_err(|e| e.to_string())
    }

    async fn receive(
        &self,
        raw: Vec<u8>,
        place: &Place,
        over: Option<u64>,
    ) -> std::result::Result<Disposition, String> {
        self.take(&raw, place, over)
            .await
            .map_err(|e| e.to_string())
    }
}

/// What a message became, before it is recorded.
struct Settled<'a> {
    outcome: &'static str,
    reason: String,
    /// The answer to its sender, if any.
    answer: Option<Email>,
    /// Addresses a bounce reports as undeliverable.
    bouncing: &'a [String],
}

impl MailDesk {
    /// Acts on one message and records what it became. With `over`, only its header was read,
    /// since it is larger than that many bytes.
    pub async fn take(&self, raw: &[u8], place: &Place, over: Option<u64>) -> Result<Disposition> {
        let r = &self.requests;
        let m = match inbound::read(raw, &self.domain) {
            Ok(m) => m,
            Err(why) => {
                let key = format!("sha256:{}", hex::encode(sha2::Sha256::digest(raw)));
                let rec = self.record(place, &key, "", "", None);
                return self.settle(&rec, Settled::failed(why)).await;
            }
        };
        if let Some(o) = received::outcome_of(r.db.pool(), &m.key).await? {
            // The same message again, under another UID (a copy, or a folder re-read).
            return Ok(disposition(&o));
        }
        let eml = if over.is_some() {
            None
        } else {
            Some(self.keep(raw).await?)
        };
        let from = m.from.clone().unwrap_or_default();
        let rec = self.record(place, &m.key, &from, &m.subject, eml.as_deref());
        match &m.kind {
            Kind::Automatic(why) => {
                return self.settle(&rec, Settled::ignored(why.clone())).await;
            }
            Kind::Bounce(b) => return self.bounce(&rec, b).await,
            Kind::Person => {}
        }
        if from.is_empty() {
            return self
                .settle(
                    &rec,
                    Settled::failed("The message has no sender address.".into()),
                )
                .await;
        }
        if from.eq_ignore_ascii_case(&self.own_address) {
            return self
                .settle(
                    &rec,
                    Settled::ignored("sent by the help desk itself".into()),
                )
                .await;
        }
        if let Some(limit) = over {
            let why = format!(
                "The message is {}; messages of at most {} are accepted.",
                weight(place.size),
                weight(limit)
            );
            return self.settle(&rec, self.refusal(&m, why)).await;
        }
        if let Some(why) = &m.problem {
            return self.settle(&rec, self.refusal(&m, why.clone())).await;
        }
        let sent = received::count_from(r.db.pool(), &from, r.now() - HOUR, None).await?;
        if sent >= self.per_hour {
            let why = format!(
                "more than {} messages from this address in an hour",
                self.per_hour
            );
            return self.settle(&rec, Settled::ignored(why)).await;
        }
        if let Some(why) = self.too_many_or_too_large(&m.files) {
            return self.settle(&rec, self.refusal(&m, why)).await;
        }
        let me = db::users::by_email(r.db.pool(), &from)
            .await?
            .and_then(Me::by_email);
        if let (Some(id), Some(me)) = (self.answers(&m, me.as_ref()).await?, &me) {
            let body = body_of(&m);
            let uploads = self.uploads(&m.files).await?;
            match r
                .reply(me, id, &body, false, uploads, Via::Email(&rec))
                .await
            {
                Ok(_) => {
                    tracing::info!(request = %number(id), "email reply added");
                    return Ok(Disposition::Processed);
                }
                Err(RequestError::AlreadyReceived) => return Ok(Disposition::Processed),
                Err(RequestError::NotFound | RequestError::Forbidden) => {}
                Err(RequestError::Invalid(_, why) | RequestError::TooLarge(why)) => {
                    return self.settle(&rec, self.refusal(&m, why)).await;
                }
                Err(RequestError::Input(i)) => {
                    return self.settle(&rec, self.refusal(&m, i.message)).await;
                }
                Err(e) => return Err(e),
            }
        }
        self.open(&rec, &m, me).await
    }

    /// A message that answers no request: a new request from an active customer, otherwise an
    /// answer saying what the sender can do.
    async fn open(&self, rec: &Record<'_>, m: &Incoming, me: Option<Me>) -> Result<Disposition> {
        let r = &self.requests;
        match me {
            Some(me)
                if me.is_active()
                    && matches!(me.role, Role::Customer | Role::SiteAdmin)
                    && me.site_id.is_some() =>
            {
                let subject = subject_of(&m.subject);
                let body = body_of(m);
                let uploads = self.uploads(&m.files).await?;
                match r
                    .create(&me, &subject, &body, uploads, Via::Email(rec))
                    .await
                {
                    Ok(id) => {
                        tracing::info!(request = %number(id), "request opened by email");
                        Ok(Disposition::Processed)
                    }
                    Err(RequestError::AlreadyReceived) => Ok(Disposition::Processed),
                    Err(
                        RequestError::Invalid(_, why)
                        | RequestError::TooLarge(why)
                        | RequestError::Rule(_, why),
                    ) => self.settle(rec, self.refusal(m, why)).await,
                    Err(RequestError::Input(i)) => {
                        self.settle(rec, self.refusal(m, i.message)).await
                    }
                    Err(e) => Err(e),
                }
            }
            Some(me) if me.is_staff() && me.is_active() => {
                let why = "Support staff answer requests by replying to their notifications; this message answers no request you can see.".to_owned();
                self.settle(rec, self.refusal(m, why)).await
            }
            _ => {
                let from = rec.from_addr;
                let told = received::count_from(r.db.pool(), from, r.now() - DAY, Some("answered"))
                    .await?;
                if told > 0 {
                    return self
                        .settle(
                            rec,
                            Settled::ignored(
                                "no active account; already told how to join today".into(),
                            ),
                        )
                        .await;
                }
                let wording = received::wording(r.db.pool(), "join").await?;
                let answer = messages::join_the_portal(
                    from,
                    &m.subject,
                    &r.mailer.link("/join"),
                    wording.as_deref(),
                );
                self.settle(
                    rec,
                    Settled {
                        outcome: "answered",
                        reason: "no active account; told how to join".into(),
                        answer: Some(answer),
                        bouncing: &[],
                    },
                )
                .await
            }
        }
    }

    /// The request `m` answers, if its sender may answer it as themselves. A token issued to
    /// someone else settles it: the message is then new, from its real sender.
    async fn answers(&self, m: &Incoming, me: Option<&Me>) -> Result<Option<i64>> {
        let pool = self.requests.db.pool();
        for t in &m.tokens {
            let Some(issued) =
                db::outbox::by_reply_token(pool, &crate::mail::token_sha256(t)).await?
            else {
                continue;
            };
            let Some(request) = issued.request_id else {
                continue;
            };
            let theirs = me.is_some_and(|me| me.email.eq_ignore_ascii_case(&issued.to_addr));
            return Ok(theirs.then_some(request));
        }
        Ok(m.thread.or(m.subject_request))
    }

    async fn bounce(&self, rec: &Record<'_>, b: &Bounce) -> Result<Disposition> {
        let pool = self.requests.db.pool();
        let mut addresses = b.failed.clone();
        for id in &b.original_ids {
            let Some((local, host)) = id.rsplit_once('@') else {
                continue;
            };
            if !host.eq_ignore_ascii_case(&self.domain) {
                continue;
            }
            let issued = match local.strip_prefix("outbox-").and_then(|n| n.parse().ok()) {
                Some(n) => db::outbox::issued(pool, n).await?,
                None => db::outbox::by_reply_token(pool, &crate::mail::token_sha256(local)).await?,
            };
            if let Some(i) = issued
                && !addresses.contains(&i.to_addr.to_ascii_lowercase())
            {
                addresses.push(i.to_addr.to_ascii_lowercase());
            }
        }
        let reason = if addresses.is_empty() {
            format!("bounce for no known address: {}", b.reason)
        } else {
            format!("{}: {}", addresses.join(", "), b.reason)
        };
        self.settle(
            rec,
            Settled {
                outcome: "bounce",
                reason,
                answer: None,
                bouncing: &addresses,
            },
        )
        .await
    }

    /// Records what a message became, with its answer and bounce marks, in one transaction;
    /// refused and failed mail is also written to the audit log.
    async fn settle(&self, rec: &Record<'_>, s: Settled<'_>) -> Result<Disposition> {
        let r = &self.requests;
        let now = r.now();
        let rec = Record {
            outcome: s.outcome,
            reason: &s.reason,
            ..rec.clone()
        };
        let mut tx = r.db.begin().await?;
        if !received::record(&mut *tx, &rec).await? {
            return Ok(Disposition::Processed);
        }
        for a in s.bouncing {
            received::mark_bouncing(&mut *tx, a, rec.reason, now).await?;
        }
        if let Some(answer) = &s.answer {
            r.mailer.queue(&mut tx, answer, now).await?;
        }
        if matches!(s.outcome, "refused" | "failed") {
            let detail = format!("{}: {}", rec.subject, rec.reason);
            db::audit::record(
                &mut *tx,
                &db::audit::Entry {
                    event: "email_not_accepted",
                    email: rec.from_addr,
                    actor: "email",
                    detail: &detail,
                    ..Default::default()
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        if s.answer.is_some() {
            r.mailer.wake();
        }
        match s.outcome {
            "refused" | "failed" => {
                tracing::warn!(outcome = s.outcome, reason = %rec.reason, "email not accepted")
            }
            _ => tracing::info!(outcome = s.outcome, reason = %rec.reason, "email dealt with"),
        }
        Ok(disposition(s.outcome))
    }

    /// Refused, with an answer saying why, unless the sender is the help desk itself.
    fn refusal(&self, m: &Incoming, why: String) -> Settled<'static> {
        let answer = m
            .from
            .as_deref()
            .filter(|f| !f.eq_ignore_ascii_case(&self.own_address))
            .map(|f| messages::mail_not_accepted(f, &m.subject, &why));
        Settled {
            outcome: "refused",
            reason: why,
            answer,
            bouncing: &[],
        }
    }

    fn record<'a>(
        &self,
        place: &'a Place,
        key: &'a str,
        from: &'a str,
        subject: &'a str,
        eml: Option<&'a str>,
    ) -> Record<'a> {
        Record {
            key,
            mailbox: &place.mailbox,
            uid_validity: i64::from(place.uid_validity),
            uid: i64::from(place.uid),
            from_addr: from,
            subject,
            outcome: "",
            reason: "",
            request_id: None,
            message_id: None,
            eml_sha256: eml,
            size: place.size as i64,
            now: self.requests.now(),
        }
    }

    /// Keeps the original message in the attachment store; returns its sha256.
    async fn keep(&self, raw: &[u8]) -> Result<String> {
        let staged = self.requests.files.stage_bytes(raw).await?;
        let sha = staged.sha256.clone();
        self.requests.files.store.put(staged).await?;
        Ok(sha)
    }

    fn too_many_or_too_large(&self, files: &[File]) -> Option<String> {
        let limits = self.requests.files.limits;
        if files.len() > limits.max_files {
            return Some(limits.too_many());
        }
        files
            .iter()
            .find(|f| f.bytes.len() > limits.max_file_bytes)
            .map(|f| limits.too_large(&files::sanitize_file_name(&f.name)))
    }

    async fn uploads(&self, list: &[File]) -> Result<Vec<Upload>> {
        let mut out = Vec::with_capacity(list.len());
        for f in list {
            out.push(Upload {
                file_name: files::sanitize_file_name(&f.name),
                content_type: f.content_type.clone(),
                staged: self.requests.files.stage_bytes(&f.bytes).await?,
                budget: None,
            });
        }
        Ok(out)
    }
}

impl Settled<'_> {
    fn ignored(reason: String) -> Settled<'static> {
        Settled {
            outcome: "ignored",
            reason,
            answer: None,
            bouncing: &[],
        }
    }

    fn failed(reason: String) -> Settled<'static> {
        Settled {
            outcome: "failed",
            reason,
            answer: None,
            bouncing: &[],
        }
    }
}

/// `2.5 MB`, `40 KB`.
fn weight(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    } else {
        format!("{} KB", bytes.div_ceil(1000))
    }
}

/// The text a message adds; a message of files only says so.
fn body_of(m: &Incoming) -> String {
    match (m.body.trim().is_empty(), m.files.is_empty()) {
        (true, false) => "(files attached by email)".into(),
        _ => m.body.clone(),
    }
}

/// A request's subject from an email's: within the subject's length, never empty.
fn subject_of(subject: &str) -> String {
    let s: String = subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(text::SUBJECT.max)
        .collect();
    match s.trim() {
        "" => "(no subject)".into(),
        t => t.to_owned(),
    }
}
