//! Requests (tickets): what customers raise and staff answer. Pages and the JSON API both call
//! [`Requests`], which decides who sees what, asks the active ticket-workflow plugin about every
//! status change, and queues the email each change causes in the same transaction.
//!
//! Visibility: staff see every request; a Site Administrator sees every request of their site;
//! a customer sees their own. A request someone may not see is answered as not found, so its
//! existence is not revealed. Internal notes, and files attached to them, reach staff only.

mod changes;
pub mod custom;
mod fields;
mod hooks;
mod lists;
mod react;
mod rules;
use rules::{Move, apply_move};
mod sharing;
pub use changes::{Message, Update};
pub use lists::{ListPage, ListQuery};
pub use rules::RuleUnavailable;
pub use sharing::may_share;
pub mod files;
pub mod generate;
pub mod mailbox;
mod settings;
mod timers;
pub use timers::sweep_timers;

use crate::auth::{Me, Role};
use crate::clock::Clock;
use crate::db::requests::{
    self as sql, AttachmentRow, Filter, Key, MessageRow, NewAttachment, NewMessage, NewRequest,
    NewStatusChange, Page, QuickLink, RatingRow, RequestRow, StatusChangeRow,
};
use crate::db::{Db, DbError};
use crate::domain::rules::{ActorRole, PluginRef, Status, TransitionDecision, TransitionRequest};
use crate::domain::{markdown, text};
use crate::mail::{Email, Mailer, messages};
use crate::plugins::{PluginError, Plugins};
use files::{Files, Reader, Stored, Upload};
use serde::Serialize;
use sqlx::AnyConnection;
use std::sync::Arc;

/// Why a request action did not happen. Nothing was changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("No such request.")]
    NotFound,
    #[error("You are not allowed to do that.")]
    Forbidden,
    /// Input that does not have the documented form (400).
    #[error("{1}")]
    Invalid(&'static str, String),
    /// Text that breaks its field's rule (400; the code is the field's name).
    #[error("{0}")]
    Input(text::Invalid),
    /// Well-formed input that a rule refuses (422).
    #[error("{1}")]
    Rule(&'static str, String),
    /// Not for this person's role (403), with why.
    #[error("{1}")]
    Denied(&'static str, String),
    /// Someone else changed the request after the version the caller read.
    #[error(
        "Someone else changed {0} while you were looking at it. Reload it to see what changed, then try again."
    )]
    Conflict(String),
    /// The workflow plugin refused the status change; the reason is the plugin's.
    #[error("{0}")]
    Refused(String, PluginRef),
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("attachment storage failed: {0}")]
    Storage(#[from] std::io::Error),
    /// The email behind the change was already dealt with (by this server or another).
    #[error("This email was already dealt with.")]
    AlreadyReceived,
}

/// Where a change came from.
#[derive(Debug, Clone, Copy)]
pub enum Via<'a> {
    Portal,
    Api,
    /// A message read from the support mailbox: it is recorded in the change's own transaction,
    /// so that it causes the change once.
    Email(&'a crate::db::inbound::Record<'a>),
}

impl Via<'_> {
    pub fn channel(&self) -> &'static str {
        match self {
            Via::Portal => "portal",
            Via::Api => "api",
            Via::Email(_) => "email",
        }
    }

    /// Records the email behind the change, with what it became; a message recorded before
    /// makes the change [`RequestError::AlreadyReceived`].
    async fn record(
        &self,
        conn: &mut AnyConnection,
        request_id: i64,
        message_id: i64,
        outcome: &str,
    ) -> Result<()> {
        let Via::Email(r) = self else {
            return Ok(());
        };
        let r = crate::db::inbound::Record {
            outcome,
            request_id: Some(request_id),
            message_id: Some(message_id),
            ..(*r).clone()
        };
        if crate::db::inbound::record(conn, &r).await? {
            Ok(())
        } else {
            Err(RequestError::AlreadyReceived)
        }
    }
}

impl From<text::Invalid> for RequestError {
    fn from(e: text::Invalid) -> Self {
        RequestError::Input(e)
    }
}

impl From<sqlx::Error> for RequestError {
    fn from(e: sqlx::Error) -> Self {
        RequestError::Db(DbError::Sqlx(e))
    }
}

type Result<T> = std::result::Result<T, RequestError>;

/// `REQ-1042`: how people see and quote a request's id.
pub fn number(id: i64) -> String {
    format!("REQ-{id}")
}

/// The id in `REQ-1042`, `req-1042` or `1042`.
pub fn parse_number(s: &str) -> Option<i64> {
    let s = s.trim();
    let digits = s
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("req-"))
        .map_or(s, |_| &s[4..]);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The active workflow's statuses, and how to show keys it does not know.
#[derive(Debug, Clone, Serialize)]
pub struct Workflow {
    pub statuses: Vec<Status>,
    pub by: PluginRef,
}

impl Workflow {
    pub fn get(&self, key: &str) -> Option<&Status> {
        self.statuses.iter().find(|s| s.key == key)
    }

    /// The label of `key`; a key the workflow does not know is shown as it is, marked.
    pub fn label(&self, key: &str) -> String {
        match self.get(key) {
            Some(s) => s.label.clone(),
            None => format!("{key} (unknown status)"),
        }
    }

    /// Whether `key` counts as open. A status the workflow does not know counts as open, so
    /// such requests stay in view until an operator maps them.
    pub fn is_open(&self, key: &str) -> bool {
        self.get(key).is_none_or(|s| s.open)
    }

    pub fn closed_keys(&self) -> Vec<String> {
        self.statuses
            .iter()
            .filter(|s| !s.open)
            .map(|s| s.key.clone())
            .collect()
    }

    pub fn initial(&self) -> Option<&Status> {
        self.statuses.iter().find(|s| s.initial)
    }
}

/// Everything a request's page shows to the person asking.
#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    pub request: RequestRow,
    /// Its custom fields' values, as the asker may see them.
    pub values: Vec<custom::Value>,
    pub messages: Vec<MessageRow>,
    /// When `messages` is one page of a longer conversation: the first message shown, to ask
    /// for the page before it.
    #[serde(skip)]
    pub earlier: Option<i64>,
    pub attachments: Vec<AttachmentRow>,
    pub timeline: Vec<StatusChangeRow>,
    /// Changes of the request's fields (staff only).
    pub field_changes: Vec<crate::db::requests::fields::FieldChangeRow>,
    /// The request types and custom fields the asker may see (staff: all of them, to name the
    /// fields in `field_changes` and to offer in the composer).
    #[serde(skip)]
    pub definitions: custom::Definitions,
    /// The timers the workflow has set on it, soonest first (staff only).
    pub timers: Vec<crate::db::requests::fields::TimerRow>,
    /// The statuses the asker may move the request to now, per the workflow plugin.
    pub moves: Vec<Status>,
    /// Why `moves` is empty whatever the workflow allows: the workflow failed to answer.
    pub moves_unavailable: Option<RuleUnavailable>,
    /// Rules that failed while acting on the request on their own (staff only).
    pub rule_failures: Vec<crate::db::rule_failures::FailureRow>,
    /// The requester's rating, once the request was closed and rated.
    pub rating: Option<RatingRow>,
    /// Colleagues it is shared with.
    pub shared_with: Vec<crate::db::requests::cc::CcRow>,
}

/// The messages a request's page shows at once; earlier ones are a page away.
pub const PAGE_MESSAGES: i64 = 50;

/// The requests service; cheap to share.
#[derive(Debug)]
pub struct Requests {
    pub db: Db,
    pub plugins: Arc<Plugins>,
    pub mailer: Mailer,
    pub clock: Arc<dyn Clock>,
    pub files: Files,
}

fn actor(role: Role) -> ActorRole {
    match role {
        Role::Customer => ActorRole::Customer,
        Role::SiteAdmin => ActorRole::SiteAdmin,
        Role::Agent => ActorRole::Agent,
        Role::Operator => ActorRole::Operator,
    }
}

fn actor_name(a: ActorRole) -> &'static str {
    match a {
        ActorRole::Customer => "customer",
        ActorRole::SiteAdmin => "site_admin",
        ActorRole::Agent => "agent",
        ActorRole::Operator => "operator",
        ActorRole::System => "system",
    }
}

fn can_see(me: &Me, r: &RequestRow) -> bool {
    match me.role {
        Role::Agent | Role::Operator => true,
        Role::SiteAdmin => me.site_id == Some(r.site_id),
        Role::Customer => me.id == r.requester_id,
    }
}

/// Leaves out of `r` what `me` may not see: tags are staff's own.
fn redact(me: &Me, r: &mut RequestRow) {
    if !me.is_staff() {
        r.tags.clear();
    }
}

fn require_active(me: &Me) -> Result<()> {
    if me.is_active() {
        Ok(())
    } else {
        Err(RequestError::Forbidden)
    }
}

fn require_staff(me: &Me) -> Result<()> {
    require_active(me)?;
    if me.is_staff() {
        Ok(())
    } else {
        Err(RequestError::Forbidden)
    }
}

impl Requests {
    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Whether `me` may raise requests: settled before a byte of the form is read.
    pub fn may_raise(&self, me: &Me) -> Result<()> {
        require_active(me)?;
        match (me.role, me.site_id) {
            (Role::Customer | Role::SiteAdmin, Some(_)) => Ok(()),
            _ => Err(RequestError::Denied(
                "no_site",
                "Only customers of a site can raise requests.".into(),
            )),
        }
    }

    /// Whether `me` may post to request `id`: settled before a byte of the message is read.
    pub async fn may_reply(&self, me: &Me, id: i64) -> Result<()> {
        self.visible(me, id).await.map(|_| ())
    }

    /// The request, if `me` may see it: as staff, its site's administrator, its requester, or
    /// a colleague it is shared with.
    async fn visible(&self, me: &Me, id: i64) -> Result<RequestRow> {
        require_active(me)?;
        match sql::by_id(self.db.pool(), id).await? {
            Some(r) if can_see(me, &r) => Ok(r),
            Some(r)
                if matches!(me.role, Role::Customer | Role::SiteAdmin)
                    && me.site_id == Some(r.site_id)
                    && sql::cc::has(self.db.pool(), id, me.id).await? =>
            {
                Ok(r)
            }
            _ => Err(RequestError::NotFound),
        }
    }

    /// Stores the files of a message before its transaction, so a committed row always has its
    /// bytes. A transaction that then fails leaves blobs no row references, which the orphan
    /// sweep removes.
    async fn store(&self, uploads: Vec<Upload>) -> Result<Vec<Stored>> {
        let limits = self.files.limits;
        if uploads.len() > limits.max_files {
            return Err(RequestError::TooLarge(limits.too_many()));
        }
        if let Some(u) = uploads
            .iter()
            .find(|u| u.staged.size > limits.max_file_bytes as u64)
        {
            return Err(RequestError::TooLarge(limits.too_large(&u.file_name)));
        }
        let mut stored = Vec::with_capacity(uploads.len());
        for u in uploads {
            let file = Stored {
                file_name: u.file_name,
                content_type: u.content_type,
                size: u.staged.size,
                sha256: u.staged.sha256.clone(),
            };
            self.files.store.put(u.staged).await?;
            stored.push(file);
        }
        Ok(stored)
    }

    async fn attach(
        &self,
        conn: &mut AnyConnection,
        request_id: i64,
        message_id: i64,
        stored: &[Stored],
        now: i64,
    ) -> Result<()> {
        for f in stored {
            sql::insert_attachment(
                conn,
                &NewAttachment {
                    request_id,
                    message_id,
                    file_name: &f.file_name,
                    content_type: &f.content_type,
                    size: f.size as i64,
                    sha256: &f.sha256,
                    now,
                },
            )
            .await?;
        }
        Ok(())
    }

    fn link(&self, id: i64) -> String {
        self.mailer.link(&format!("/requests/{id}"))
    }

    /// The request with its whole conversation, files and timeline as `me` may see them.
    pub async fn detail(&self, me: &Me, id: i64) -> Result<(Detail, Workflow)> {
        self.detail_of(me, id, None, i64::MAX).await
    }

    /// [`Requests::detail`] with one page of the conversation: the newest [`PAGE_MESSAGES`]
    /// messages, or those before message `before`.
    pub async fn detail_page(
        &self,
        me: &Me,
        id: i64,
        before: Option<i64>,
    ) -> Result<(Detail, Workflow)> {
        self.detail_of(me, id, before, PAGE_MESSAGES).await
    }

    async fn detail_of(
        &self,
        me: &Me,
        id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> Result<(Detail, Workflow)> {
        let mut request = self.visible(me, id).await?;
        redact(me, &mut request);
        let staff = me.is_staff();
        let mut messages = sql::messages(self.db.pool(), id, staff, before, limit).await?;
        // One more than a page was read when there are earlier messages.
        let earlier = if messages.len() as i64 > limit {
            messages.remove(0);
            messages.first().map(|m| m.id)
        } else {
            None
        };
        let attachments = sql::attachments(self.db.pool(), id, staff).await?;
        let timeline = sql::status_changes(self.db.pool(), id).await?;
        let rating = sql::rating(self.db.pool(), id).await?;
        let shared_with = sql::cc::of(self.db.pool(), id).await?;
        let definitions = self.definitions(me).await?;
        let values = self.values_of(&definitions, id).await?;
        let workflow = self.workflow().await?;
        let (from, role, seconds) = (
            request.status.clone(),
            actor(me.role),
            self.seconds_in_status(&request),
        );
        let candidates: Vec<Status> = workflow
            .statuses
            .iter()
            .filter(|s| s.key != from)
            .cloned()
            .collect();
        let asked = self
            .ask(move |p| {
                let mut allowed = Vec::new();
                for s in candidates {
                    let d = p.can_transition(
                        &TransitionRequest {
                            from: from.clone(),
                            to: s.key.clone(),
                            actor: role,
                            seconds_in_status: seconds,
                        },
                        Some(id),
                    )?;
                    if d.value == TransitionDecision::Allowed {
                        allowed.push(s);
                    }
                }
                Ok(allowed)
            })
            .await;
        // A workflow that cannot answer leaves the request readable, with no moves offered.
        let (moves, moves_unavailable) = match asked {
            Ok(moves) => (moves, None),
            Err(RequestError::Plugin(e)) => (Vec::new(), Some(RuleUnavailable::of(&e, staff))),
            Err(e) => return Err(e),
        };
        let (rule_failures, field_changes, timers) = if staff {
            (
                crate::db::rule_failures::of_request(self.db.pool(), id).await?,
                crate::db::requests::fields::changes(self.db.pool(), id).await?,
                crate::db::requests::fields::timers(self.db.pool(), id).await?,
            )
        } else {
            (Vec::new(), Vec::new(), Vec::new())
        };
        Ok((
            Detail {
                request,
                values,
                messages,
                attachments,
                timeline,
                field_changes,
                definitions,
                timers,
                earlier,
                moves,
                moves_unavailable,
                rule_failures,
                rating,
                shared_with,
            },
            workflow,
        ))
    }

    /// A file of a request, with a reader of its bytes and their length, if `me` may see it.
    pub async fn attachment(
        &self,
        me: &Me,
        id: i64,
        file: i64,
    ) -> Result<(AttachmentRow, Reader, u64)> {
        self.visible(me, id).await?;
        let a = sql::attachment(self.db.pool(), id, file)
            .await?
            .filter(|a| a.internal == 0 || me.is_staff())
            .ok_or(RequestError::NotFound)?;
        let (reader, size) = self.files.store.open(&a.sha256).await?;
        Ok((a, reader, size))
    }

    /// The email message `message` of request `id` arrived as: its file name, a reader of its
    /// bytes and their length. Staff only.
    pub async fn original(&self, me: &Me, id: i64, message: i64) -> Result<(String, Reader, u64)> {
        require_staff(me)?;
        self.visible(me, id).await?;
        let o = crate::db::inbound::original_of(self.db.pool(), id, message)
            .await?
            .ok_or(RequestError::NotFound)?;
        let (reader, size) = self.files.store.open(&o.eml_sha256).await?;
        Ok((
            format!("{}-message-{message}.eml", number(id)),
            reader,
            size,
        ))
    }

    /// Active staff, for assigning: `(id, name, email)`.
    pub async fn staff(&self, me: &Me) -> Result<Vec<(i64, String, String)>> {
        require_staff(me)?;
        Ok(sql::staff(self.db.pool()).await?)
    }

    /// Whether `me` is emailed about customer replies to unassigned requests.
    pub async fn watching(&self, me: &Me) -> Result<bool> {
        require_staff(me)?;
        Ok(sql::is_watching(self.db.pool(), me.id).await?)
    }

    pub async fn set_watching(&self, me: &Me, on: bool) -> Result<()> {
        require_staff(me)?;
        Ok(sql::set_watching(self.db.pool(), me.id, on).await?)
    }
}

/// Runs `f` on the blocking pool: plugin calls and attachment file I/O must not hold up the
/// async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        RequestError::Db(DbError::Sqlx(sqlx::Error::Protocol(format!(
            "blocking task failed: {e}"
        ))))
    })?
}

/// `text` (Markdown) as the sanitized HTML stored beside it, rendered on the blocking pool: a
/// long message takes milliseconds.
async fn render(text: &str) -> Result<String> {
    let text = text.to_owned();
    blocking(move || Ok(markdown::render(&text))).await
}

/// Renders, in the background, every stored message not rendered by the current rules: those
/// written before messages were rendered when written, or by older rules. Returns how many.
pub async fn render_stored(db: &Db) -> Result<u64> {
    let mut done = 0u64;
    loop {
        let batch = sql::unrendered(db.pool(), markdown::RENDERER, 200).await?;
        if batch.is_empty() {
            return Ok(done);
        }
        let rendered = blocking(move || {
            Ok(batch
                .into_iter()
                .map(|(id, body)| (id, markdown::render(&body)))
                .collect::<Vec<_>>())
        })
        .await?;
        for (id, html) in rendered {
            sql::set_html(db.pool(), id, &html, markdown::RENDERER).await?;
            done += 1;
        }
    }
}

fn require_operator(me: &Me) -> Result<()> {
    require_active(me)?;
    if me.role == Role::Operator {
        Ok(())
    } else {
        Err(RequestError::Forbidden)
    }
}

/// Records on `conn`, in the audit log, that `me` did `event`, from their session's address.
async fn audit(
    conn: &mut AnyConnection,
    me: &Me,
    event: &'static str,
    detail: &str,
    now: i64,
) -> Result<()> {
    crate::db::audit::record_by_session(
        conn,
        &crate::db::audit::Entry {
            event,
            user_id: Some(me.id),
            email: &me.email,
            actor: &me.email,
            ip: "",
            detail,
        },
        me.session_id,
        now,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_numbers_read_back() {
        assert_eq!(number(1042), "REQ-1042");
        assert_eq!(parse_number("REQ-1042"), Some(1042));
        assert_eq!(parse_number(" req-7 "), Some(7));
        assert_eq!(parse_number("1042"), Some(1042));
        assert_eq!(parse_number("REQ-"), None);
        assert_eq!(parse_number("printer"), None);
    }
}
