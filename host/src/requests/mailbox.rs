//! Mail from the support mailbox, acted on as the portal would act on a page: a reply to a
//! notification becomes a public reply by its recipient on that request; mail from an active
//! customer that answers nothing opens a request for their site. Either goes through
//! [`Requests::reply`] and [`Requests::create`], so the same permissions, workflow plugin and
//! notifications apply.
//!
//! Which request a message answers: the token of the reply address it was sent to (or of the
//! notification it names in In-Reply-To/References), issued to one recipient of one message.
//! Mail from anyone else carrying that token is treated as a new message from its real
//! sender.
//!
//! Anyone can write any `From`. Without a token, a message acts in its sender's name (a reply
//! by the thread id or the subject's `[REQ-n]`, a new request) only where the operator says
//! `From` is believed ([`TrustFrom`]): always, or when the receiving server the operator trusts
//! found it authentic (its `Authentication-Results`: DMARC, DKIM or SPF aligned with the sender's
//! domain). Staff act by email only through a token of their own.
//!
//! Floods and loops are cut before anything is answered or kept: an address may send
//! `per_hour` messages an hour and a sixth of that (at least five) in ten minutes, the same text on the same request again
//! within a day is taken for an automatic reply, and an address is answered at most three times
//! a day. An answer never quotes what the sender wrote. The original of a message is kept only
//! when it becomes a reply or a request.
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

const MINUTE: i64 = 60_000;

/// Messages an address may send in ten minutes, at least; more are ignored (two auto-responders
/// answering each other send faster than people write). A sixth of the hourly limit where that
/// is more.
const PER_TEN_MINUTES: i64 = 5;

/// Answers (refusals, how to join) an address gets in a day at most: mail with a forged sender
/// is never turned into a flood of answers to someone else.
const ANSWERS_PER_DAY: i64 = 3;

/// When a message's `From` is believed without a reply token of its sender's own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TrustFrom {
    /// Never: only a reply to one of the sender's own notifications acts in their name.
    Never,
    /// When the receiving server that writes `Authentication-Results` as this id (the operator's
    /// mail server, which removes such headers it did not write) found the sender authentic.
    /// Without an id, never.
    #[default]
    Authenticated,
    /// Always (a mailbox only trusted senders can reach).
    Always,
}

impl TrustFrom {
    /// `never`, `authenticated` or `always`.
    pub fn parse(s: &str) -> std::result::Result<TrustFrom, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "never" => Ok(TrustFrom::Never),
            "authenticated" => Ok(TrustFrom::Authenticated),
            "always" => Ok(TrustFrom::Always),
            other => Err(format!("`{other}`: say never, authenticated or always")),
        }
    }
}

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
    /// When `From` is believed without a token.
    pub trust_from: TrustFrom,
    /// The `Authentication-Results` id of the receiving server believed about senders.
    pub authserv_id: Option<String>,
}

fn disposition(outcome: &str) -> Disposition {
    match outcome {
        "refused" | "failed" => Disposition::Failed,
        _ => Disposition::Processed,
    }
}

impl Receive for MailDesk {
    async fn known(
        &self,
        places: &[Place],
    ) -> std::result::Result<Vec<(u32, Disposition)>, String> {
        let Some(first) = places.first() else {
            return Ok(Vec::new());
        };
        let uids: Vec<i64> = places.iter().map(|p| i64::from(p.uid)).collect();
        received::outcomes_at(
            self.requests.db.pool(),
            &first.mailbox,
            i64::from(first.uid_validity),
            &uids,
        )
        .await
        .map(|found| {
            found
                .into_iter()
                .filter_map(|(uid, o)| Some((u32::try_from(uid).ok()?, disposition(&o))))
                .collect()
        })
        .map_err(|e| e.to_string())
    }

    async fn receive(
        &self,
        raw: &[u8],
        place: &Place,
        over: Option<u64>,
    ) -> std::result::Result<Disposition, String> {
        self.take(raw, place, over).await.map_err(|e| e.to_string())
    }

    async fn give_up(
        &self,
        raw: &[u8],
        place: &Place,
        why: &str,
    ) -> std::result::Result<(), String> {
        // Only what cannot fail to be stored: the bytes' hash, not a word the message says.
        let key = format!("sha256:{}", hex::encode(sha2::Sha256::digest(raw)));
        let rec = self.record(place, &key, "", "", None);
        self.settle(&rec, Settled::failed(why.replace('\0', "")))
            .await
            .map(|_| ())
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
        let from = m.from.clone().unwrap_or_default();
        let rec = self.record(place, &m.key, &from, &m.subject, None);
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
        if let Some(why) = self.flooding(&from).await? {
            return self.settle(&rec, Settled::ignored(why)).await;
        }
        if let Some(limit) = over {
            let why = format!(
                "The message is {}; messages of at most {} are accepted.",
                weight(place.size),
                weight(limit)
            );
            return self.settle(&rec, self.refusal(&m, why).await?).await;
        }
        if let Some(why) = &m.problem {
            return self
                .settle(&rec, self.refusal(&m, why.clone()).await?)
                .await;
        }
        if let Some(why) = self.too_many_or_too_large(&m.files) {
            return self.settle(&rec, self.refusal(&m, why).await?).await;
        }
        let me = db::users::by_email(r.db.pool(), &from)
            .await?
            .and_then(Me::by_email);
        let believed = self.believed(&m);
        let answered = self.answers(&m, me.as_ref(), believed).await?;
        if let (Some(id), Some(me)) = (answered, &me) {
            let body = body_of(&m);
            if self.repeated(&from, id, &body).await? {
                let why = "the same text again on this request within a day: taken for an automatic reply".into();
                return self.settle(&rec, Settled::ignored(why)).await;
            }
            let eml = self.keep(raw).await?;
            let rec = Record {
                eml_sha256: Some(&eml),
                ..rec.clone()
            };
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
                    return self.settle(&rec, self.refusal(&m, why).await?).await;
                }
                Err(RequestError::Input(i)) => {
                    return self.settle(&rec, self.refusal(&m, i.message).await?).await;
                }
                Err(e) => return Err(e),
            }
        }
        self.open(&rec, &m, raw, me, believed).await
    }

    /// Why mail from `from` is ignored before anything else is done with it: too much of it in
    /// the last hour, or in the last ten minutes.
    async fn flooding(&self, from: &str) -> Result<Option<String>> {
        let r = &self.requests;
        let now = r.now();
        let sent = received::count_from(r.db.pool(), from, now - HOUR, None).await?;
        if sent >= self.per_hour {
            return Ok(Some(format!(
                "more than {} messages from this address in an hour",
                self.per_hour
            )));
        }
        let most = (self.per_hour / 6).max(PER_TEN_MINUTES);
        let burst = received::count_from(r.db.pool(), from, now - 10 * MINUTE, None).await?;
        if burst >= most {
            return Ok(Some(format!(
                "more than {most} messages from this address in ten minutes"
            )));
        }
        Ok(None)
    }

    /// Whether `from` sent `body` to request `id` already within the last day: auto-responders
    /// answering one another say the same thing every time.
    async fn repeated(&self, from: &str, id: i64, body: &str) -> Result<bool> {
        let r = &self.requests;
        Ok(received::said_before(r.db.pool(), from, id, body, r.now() - DAY).await?)
    }

    /// Whether the message's `From` is believed without a token of the sender's own.
    fn believed(&self, m: &Incoming) -> bool {
        match (&self.trust_from, &self.authserv_id) {
            (TrustFrom::Always, _) => true,
            (TrustFrom::Authenticated, Some(id)) => inbound::from_authenticated(m, id),
            _ => false,
        }
    }

    /// A message that answers no request: a new request from an active customer, otherwise an
    /// answer saying what the sender can do.
    async fn open(
        &self,
        rec: &Record<'_>,
        m: &Incoming,
        raw: &[u8],
        me: Option<Me>,
        believed: bool,
    ) -> Result<Disposition> {
        let r = &self.requests;
        match me {
            Some(me)
                if me.is_active()
                    && matches!(me.role, Role::Customer | Role::SiteAdmin)
                    && me.site_id.is_some()
                    && !believed =>
            {
                let why = "We could not confirm that this message was sent by you, so it was not added to any request. Reply to one of our emails about your request, or sign in to the portal to raise a new one.".to_owned();
                self.settle(rec, self.refusal(m, why).await?).await
            }
            Some(me)
                if me.is_active()
                    && matches!(me.role, Role::Customer | Role::SiteAdmin)
                    && me.site_id.is_some() =>
            {
                let subject = subject_of(&m.subject);
                let body = body_of(m);
                let eml = self.keep(raw).await?;
                let rec = &Record {
                    eml_sha256: Some(&eml),
                    ..rec.clone()
                };
                let uploads = self.uploads(&m.files).await?;
                match r
                    .create(
                        &me,
                        &subject,
                        &body,
                        &Default::default(),
                        uploads,
                        Via::Email(rec),
                    )
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
                    ) => self.settle(rec, self.refusal(m, why).await?).await,
                    Err(RequestError::Input(i)) => {
                        self.settle(rec, self.refusal(m, i.message).await?).await
                    }
                    Err(e) => Err(e),
                }
            }
            Some(me) if me.is_staff() && me.is_active() => {
                let why = "Support staff answer requests by replying to their notifications; this message answers no request you can see.".to_owned();
                self.settle(rec, self.refusal(m, why).await?).await
            }
            _ => {
                let from = rec.from_addr;
                let told = received::count_from(r.db.pool(), from, r.now() - DAY, Some("answered"))
                    .await?;
                if told > 0 || self.answered_enough(from).await? {
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
                let answer =
                    messages::join_the_portal(from, &r.mailer.link("/join"), wording.as_deref());
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
    /// someone else settles it: the message is then new, from its real sender. Without a token
    /// the thread or the subject names the request, where `From` is believed, and never for
    /// staff.
    async fn answers(&self, m: &Incoming, me: Option<&Me>, believed: bool) -> Result<Option<i64>> {
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
        if !believed || me.is_some_and(Me::is_staff) {
            return Ok(None);
        }
        Ok(m.thread.or(m.subject_request))
    }

    /// Whether `from` has had its share of answers today.
    async fn answered_enough(&self, from: &str) -> Result<bool> {
        let r = &self.requests;
        Ok(received::answers_to(r.db.pool(), from, r.now() - DAY).await? >= ANSWERS_PER_DAY)
    }

    /// A delivery report marks an address as bouncing only when it names a message the help
    /// desk sent (by its unguessable id) to that address; what else a report claims is not
    /// believed, since anyone can write one.
    async fn bounce(&self, rec: &Record<'_>, b: &Bounce) -> Result<Disposition> {
        let pool = self.requests.db.pool();
        let mut addresses: Vec<String> = Vec::new();
        for id in &b.original_ids {
            let Some((local, host)) = id.rsplit_once('@') else {
                continue;
            };
            if !host.eq_ignore_ascii_case(&self.domain) {
                continue;
            }
            let issued =
                db::outbox::by_reply_token(pool, &crate::mail::token_sha256(local)).await?;
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

    /// Refused, with an answer saying why, unless the sender is the help desk itself or has
    /// had its share of answers today.
    async fn refusal(&self, m: &Incoming, why: String) -> Result<Settled<'static>> {
        let to = m
            .from
            .as_deref()
            .filter(|f| !f.eq_ignore_ascii_case(&self.own_address));
        let answer = match to {
            Some(f) if !self.answered_enough(f).await? => {
                Some(messages::mail_not_accepted(f, &why))
            }
            _ => None,
        };
        Ok(Settled {
            outcome: "refused",
            reason: why,
            answer,
            bouncing: &[],
        })
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

    /// Why the files are refused, without naming them: an answer quotes nothing the sender
    /// wrote.
    fn too_many_or_too_large(&self, files: &[File]) -> Option<String> {
        let limits = self.requests.files.limits;
        if files.len() > limits.max_files {
            return Some(limits.too_many());
        }
        files
            .iter()
            .position(|f| f.bytes.len() > limits.max_file_bytes)
            .map(|i| limits.too_large(&format!("File {} of the message", i + 1)))
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
