//! Requests (tickets): what customers raise and staff answer. Pages and the JSON API both call
//! [`Requests`], which decides who sees what, asks the active ticket-workflow plugin about every
//! status change, and queues the email each change causes in the same transaction.
//!
//! Visibility: staff see every request; a Site Administrator sees every request of their site;
//! a customer sees their own. A request someone may not see is answered as not found, so its
//! existence is not revealed. Internal notes, and files attached to them, reach staff only.

pub mod files;
pub mod generate;

use crate::auth::{Me, Role};
use crate::clock::Clock;
use crate::db::requests::{
    self as sql, AttachmentRow, Filter, MessageRow, NewAttachment, NewMessage, NewRequest,
    NewStatusChange, Page, QuickLink, RequestRow, StatusChangeRow,
};
use crate::db::{Db, DbError};
use crate::domain::rules::{
    ActorRole, EventContext, PluginRef, Status, TicketEvent, TransitionDecision, TransitionRequest,
};
use crate::mail::{Email, Mailer, messages};
use crate::plugins::{PluginError, Plugins};
use files::{Files, Upload};
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
    #[error("{1}")]
    Invalid(&'static str, String),
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

/// What a list asks for. `status` is `open`, `closed`, a status key, or empty for all.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub status: String,
    pub site: Option<i64>,
    pub assignee: Option<i64>,
    pub unassigned: bool,
    pub search: String,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    pub oldest_first: bool,
    pub limit: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListPage {
    pub requests: Vec<RequestRow>,
    /// Pass as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
}

/// Everything a request's page shows to the person asking.
#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    pub request: RequestRow,
    pub messages: Vec<MessageRow>,
    pub attachments: Vec<AttachmentRow>,
    pub timeline: Vec<StatusChangeRow>,
    /// The statuses the asker may move the request to now, per the workflow plugin.
    pub moves: Vec<Status>,
}

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

fn event_name(e: TicketEvent) -> &'static str {
    match e {
        TicketEvent::Created => "event:created",
        TicketEvent::CustomerReplied => "event:customer-replied",
        TicketEvent::AgentReplied => "event:agent-replied",
        TicketEvent::Assigned => "event:assigned",
    }
}

fn can_see(me: &Me, r: &RequestRow) -> bool {
    match me.role {
        Role::Agent | Role::Operator => true,
        Role::SiteAdmin => me.site_id == Some(r.site_id),
        Role::Customer => me.id == r.requester_id,
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

fn text(field: &'static str, label: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(RequestError::Invalid(field, format!("Enter a {label}.")));
    }
    if v.chars().count() > max {
        return Err(RequestError::Invalid(
            field,
            format!("The {label} is too long: at most {max} characters."),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(RequestError::Invalid(
            field,
            format!("The {label} contains characters that cannot be shown."),
        ));
    }
    Ok(v.replace("\r\n", "\n"))
}

/// Words of a search, lowercased; at most 8.
fn search_words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_lowercase)
        .collect()
}

fn cursor(r: &RequestRow) -> String {
    format!("{}.{}", r.updated_at, r.id)
}

fn parse_cursor(s: &str) -> Result<(i64, i64)> {
    s.split_once('.')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or_else(|| {
            RequestError::Invalid(
                "invalid_cursor",
                "The page cursor is not one this server gave.".into(),
            )
        })
}

/// A change to the request's status decided inside an operation, to apply in its transaction.
struct Move {
    from: String,
    to: String,
    actor_id: Option<i64>,
    role: ActorRole,
    cause: &'static str,
    by: PluginRef,
}

async fn apply_move(conn: &mut AnyConnection, id: i64, m: &Move, now: i64) -> Result<()> {
    sql::set_status(conn, id, &m.to, now).await?;
    sql::insert_status_change(
        conn,
        &NewStatusChange {
            request_id: id,
            from: Some(&m.from),
            to: &m.to,
            actor_id: m.actor_id,
            actor_role: actor_name(m.role),
            cause: m.cause,
            plugin: &m.by,
            now,
        },
    )
    .await?;
    Ok(())
}

impl Requests {
    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Asks the plugins on the blocking pool: each call may take up to its deadline.
    async fn ask<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Plugins) -> std::result::Result<T, PluginError> + Send + 'static,
    ) -> Result<T> {
        let plugins = self.plugins.clone();
        blocking(move || f(&plugins).map_err(RequestError::from)).await
    }

    /// The active workflow's statuses.
    pub async fn workflow(&self) -> Result<Workflow> {
        let d = self.ask(|p| p.statuses()).await?;
        Ok(Workflow {
            statuses: d.value,
            by: d.by,
        })
    }

    /// The status the workflow moves a request to after `event`, if any.
    async fn on_event(&self, event: TicketEvent, r: &RequestRow) -> Result<Option<Move>> {
        let context = EventContext {
            event,
            status: r.status.clone(),
            seconds_in_status: self.seconds_in_status(r),
        };
        let d = self.ask(move |p| p.on_event(&context)).await?;
        Ok(d.value.filter(|to| *to != r.status).map(|to| Move {
            from: r.status.clone(),
            to,
            actor_id: None,
            role: ActorRole::System,
            cause: event_name(event),
            by: d.by,
        }))
    }

    fn seconds_in_status(&self, r: &RequestRow) -> u64 {
        u64::try_from((self.now() - r.status_since) / 1000).unwrap_or(0)
    }

    /// The request, if `me` may see it.
    async fn visible(&self, me: &Me, id: i64) -> Result<RequestRow> {
        require_active(me)?;
        match sql::by_id(self.db.pool(), id).await? {
            Some(r) if can_see(me, &r) => Ok(r),
            _ => Err(RequestError::NotFound),
        }
    }

    /// Stores the files of a message before its transaction, so a committed row always has its
    /// bytes on disk.
    async fn store(&self, uploads: Vec<Upload>) -> Result<Vec<(Upload, String)>> {
        let limits = self.files.limits;
        if uploads.len() > limits.max_files {
            return Err(RequestError::TooLarge(limits.too_many()));
        }
        if let Some(u) = uploads
            .iter()
            .find(|u| u.bytes.len() > limits.max_file_bytes)
        {
            return Err(RequestError::TooLarge(limits.too_large(&u.file_name)));
        }
        let store = self.files.store.clone();
        blocking(move || {
            uploads
                .into_iter()
                .map(|u| {
                    let sha = store.put(&u.bytes)?;
                    Ok((u, sha))
                })
                .collect()
        })
        .await
    }

    async fn attach(
        &self,
        conn: &mut AnyConnection,
        request_id: i64,
        message_id: i64,
        stored: &[(Upload, String)],
        now: i64,
    ) -> Result<()> {
        for (u, sha) in stored {
            sql::insert_attachment(
                conn,
                &NewAttachment {
                    request_id,
                    message_id,
                    file_name: &u.file_name,
                    content_type: &u.content_type,
                    size: u.bytes.len() as i64,
                    sha256: sha,
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

    /// Raises a request for `me`'s site; returns its id.
    pub async fn create(
        &self,
        me: &Me,
        subject: &str,
        description: &str,
        uploads: Vec<Upload>,
    ) -> Result<i64> {
        require_active(me)?;
        let site_id = match (me.role, me.site_id) {
            (Role::Customer | Role::SiteAdmin, Some(site)) => site,
            _ => {
                return Err(RequestError::Invalid(
                    "no_site",
                    "Only customers of a site can raise requests.".into(),
                ));
            }
        };
        let subject = text("subject", "subject", subject, 200)?;
        let description = text("description", "description", description, 20_000)?;
        let workflow = self.workflow().await?;
        let initial = workflow
            .initial()
            .ok_or_else(|| {
                PluginError::new(
                    workflow.by.clone(),
                    crate::plugins::PluginErrorKind::Malformed("no initial status".into()),
                )
            })?
            .key
            .clone();
        let stored = self.store(uploads).await?;
        let now = self.now();
        let mut tx = self.db.pool().begin().await?;
        let id = sql::insert(
            &mut tx,
            &NewRequest {
                site_id,
                requester_id: me.id,
                subject: &subject,
                status: &initial,
                now,
            },
        )
        .await?;
        let message_id = sql::insert_message(
            &mut tx,
            self.db.backend(),
            &NewMessage {
                request_id: id,
                author_id: me.id,
                body: &description,
                internal: false,
                extra: &subject,
                now,
            },
        )
        .await?;
        self.attach(&mut tx, id, message_id, &stored, now).await?;
        sql::insert_status_change(
            &mut tx,
            &NewStatusChange {
                request_id: id,
                from: None,
                to: &initial,
                actor_id: Some(me.id),
                actor_role: actor_name(actor(me.role)),
                cause: "created",
                plugin: &workflow.by,
                now,
            },
        )
        .await?;
        let row = sql::by_id(&mut *tx, id)
            .await?
            .ok_or(RequestError::NotFound)?;
        if let Some(m) = self.on_event(TicketEvent::Created, &row).await? {
            apply_move(&mut tx, id, &m, now).await?;
        }
        let email = messages::request_received(&me.email, &number(id), &subject, &self.link(id));
        self.mailer.queue(&mut tx, &email, now).await?;
        tx.commit().await?;
        self.mailer.wake();
        Ok(id)
    }

    /// A page of the requests `me` may see that match `q`.
    pub async fn list(&self, me: &Me, q: &ListQuery) -> Result<(ListPage, Workflow)> {
        require_active(me)?;
        let workflow = self.workflow().await?;
        let mut f = Filter::default();
        match me.role {
            Role::Customer => f.requester = Some(me.id),
            Role::SiteAdmin => f.site = Some(me.site_id.ok_or(RequestError::Forbidden)?),
            Role::Agent | Role::Operator => {
                f.site = q.site;
                f.assignee = q.assignee;
                f.unassigned = q.unassigned;
            }
        }
        match q.status.as_str() {
            "" | "all" => {}
            "open" => f.status_not_in = Some(workflow.closed_keys()),
            "closed" => f.status_in = Some(workflow.closed_keys()),
            key => f.status_in = Some(vec![key.to_owned()]),
        }
        if !q.search.trim().is_empty() {
            f.id = parse_number(&q.search);
            let words = search_words(&q.search);
            if !words.is_empty() {
                f.search = Some(words);
            }
        }
        let limit = if q.limit <= 0 { 25 } else { q.limit.min(100) };
        let page = Page {
            after: q.after.as_deref().map(parse_cursor).transpose()?,
            oldest_first: q.oldest_first,
            limit: limit + 1,
        };
        let mut conn = self.db.pool().acquire().await?;
        let mut requests = sql::list(&mut conn, self.db.backend(), &f, page).await?;
        let next = if requests.len() as i64 > limit {
            requests.truncate(limit as usize);
            requests.last().map(cursor)
        } else {
            None
        };
        Ok((ListPage { requests, next }, workflow))
    }

    /// The request with its conversation, files and timeline as `me` may see them.
    pub async fn detail(&self, me: &Me, id: i64) -> Result<(Detail, Workflow)> {
        let request = self.visible(me, id).await?;
        let staff = me.is_staff();
        let messages = sql::messages(self.db.pool(), id, staff).await?;
        let attachments = sql::attachments(self.db.pool(), id, staff).await?;
        let timeline = sql::status_changes(self.db.pool(), id).await?;
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
        let moves = self
            .ask(move |p| {
                let mut allowed = Vec::new();
                for s in candidates {
                    let d = p.can_transition(&TransitionRequest {
                        from: from.clone(),
                        to: s.key.clone(),
                        actor: role,
                        seconds_in_status: seconds,
                    })?;
                    if d.value == TransitionDecision::Allowed {
                        allowed.push(s);
                    }
                }
                Ok(allowed)
            })
            .await?;
        Ok((
            Detail {
                request,
                messages,
                attachments,
                timeline,
                moves,
            },
            workflow,
        ))
    }

    /// Adds a message. Staff may make it an internal note, which no customer ever sees and which
    /// emails nobody. A reply is never refused for a concurrent change: it takes the request's
    /// row lock, then applies to the request as it is.
    pub async fn reply(
        &self,
        me: &Me,
        id: i64,
        body: &str,
        internal: bool,
        uploads: Vec<Upload>,
    ) -> Result<i64> {
        let body = text("body", "message", body, 20_000)?;
        if internal && !me.is_staff() {
            return Err(RequestError::Forbidden);
        }
        self.visible(me, id).await?;
        let stored = self.store(uploads).await?;
        let event = if me.is_staff() {
            TicketEvent::AgentReplied
        } else {
            TicketEvent::CustomerReplied
        };
        let now = self.now();
        let mut tx = self.db.pool().begin().await?;
        let r = self.lock(&mut tx, id, None, now).await?;
        let step = if internal {
            None
        } else {
            self.on_event(event, &r).await?
        };
        let message_id = sql::insert_message(
            &mut tx,
            self.db.backend(),
            &NewMessage {
                request_id: id,
                author_id: me.id,
                body: &body,
                internal,
                extra: "",
                now,
            },
        )
        .await?;
        self.attach(&mut tx, id, message_id, &stored, now).await?;
        if let Some(m) = &step {
            apply_move(&mut tx, id, m, now).await?;
        }
        if !internal {
            let emails = self
                .reply_emails(&mut tx, me, &r, &body, step.as_ref())
                .await?;
            for email in emails {
                self.mailer.queue(&mut tx, &email, now).await?;
            }
        }
        tx.commit().await?;
        self.mailer.wake();
        Ok(message_id)
    }

    /// Raises the request's version inside `tx`, which holds its row from then on, and reads it
    /// as it now is. With `expected`, a request changed since that version is a conflict.
    async fn lock(
        &self,
        tx: &mut AnyConnection,
        id: i64,
        expected: Option<i64>,
        now: i64,
    ) -> Result<RequestRow> {
        if sql::bump(tx, id, expected, now).await?.is_none() {
            return Err(match expected {
                Some(_) => RequestError::Conflict(number(id)),
                None => RequestError::NotFound,
            });
        }
        sql::by_id(&mut *tx, id)
            .await?
            .ok_or(RequestError::NotFound)
    }

    /// The email a reply causes; reads on `conn`, the reply's own transaction, so a reply never
    /// waits for a second connection while it holds one.
    async fn reply_emails(
        &self,
        conn: &mut AnyConnection,
        me: &Me,
        r: &RequestRow,
        body: &str,
        step: Option<&Move>,
    ) -> Result<Vec<Email>> {
        let author = format!("{} {}", me.given_name, me.surname);
        let n = number(r.id);
        let link = self.link(r.id);
        if me.is_staff() {
            let status = match step {
                Some(m) => Some(self.workflow().await?.label(&m.to)),
                None => None,
            };
            return Ok(vec![messages::staff_reply(
                &r.requester_email,
                &n,
                &r.subject,
                &author,
                body,
                status.as_deref(),
                &link,
            )]);
        }
        let to = match &r.assignee_email {
            Some(a) => vec![a.clone()],
            None => sql::queue_watchers(&mut *conn).await?,
        };
        Ok(to
            .iter()
            .map(|t| messages::customer_reply(t, &n, &r.subject, &author, body, &link))
            .collect())
    }

    /// Moves the request to status `to`, if the workflow allows it for `me`. `version` is the
    /// version the caller last read; a request changed since then is a conflict.
    pub async fn change_status(
        &self,
        me: &Me,
        id: i64,
        to: &str,
        version: Option<i64>,
    ) -> Result<()> {
        self.visible(me, id).await?;
        let workflow = self.workflow().await?;
        let Some(target) = workflow.get(to).cloned() else {
            return Err(RequestError::Invalid(
                "unknown_status",
                format!(
                    "There is no status \"{to}\" in the {} workflow.",
                    workflow.by.name
                ),
            ));
        };
        let role = actor(me.role);
        let now = self.now();
        let mut tx = self.db.pool().begin().await?;
        let r = self.lock(&mut tx, id, version, now).await?;
        let ask = TransitionRequest {
            from: r.status.clone(),
            to: target.key.clone(),
            actor: role,
            seconds_in_status: self.seconds_in_status(&r),
        };
        let d = self.ask(move |p| p.can_transition(&ask)).await?;
        if let TransitionDecision::Refused(reason) = d.value {
            return Err(RequestError::Refused(reason, d.by));
        }
        let m = Move {
            from: r.status.clone(),
            to: target.key.clone(),
            actor_id: Some(me.id),
            role,
            cause: "requested",
            by: d.by,
        };
        apply_move(&mut tx, id, &m, now).await?;
        if me.id != r.requester_id {
            let email = messages::status_changed(
                &r.requester_email,
                &number(id),
                &r.subject,
                &target.label,
                &self.link(id),
            );
            self.mailer.queue(&mut tx, &email, now).await?;
        }
        tx.commit().await?;
        self.mailer.wake();
        Ok(())
    }

    /// Assigns the request to a member of staff, or unassigns it with `None`. Staff only.
    pub async fn assign(
        &self,
        me: &Me,
        id: i64,
        assignee: Option<i64>,
        version: Option<i64>,
    ) -> Result<()> {
        require_staff(me)?;
        self.visible(me, id).await?;
        if let Some(a) = assignee
            && !sql::staff(self.db.pool())
                .await?
                .iter()
                .any(|(sid, _, _)| *sid == a)
        {
            return Err(RequestError::Invalid(
                "unknown_assignee",
                "Requests can only be assigned to active support staff.".into(),
            ));
        }
        let now = self.now();
        let mut tx = self.db.pool().begin().await?;
        let r = self.lock(&mut tx, id, version, now).await?;
        if assignee == r.assignee_id {
            return Ok(());
        }
        let step = match assignee {
            Some(_) => self.on_event(TicketEvent::Assigned, &r).await?,
            None => None,
        };
        sql::set_assignee(&mut tx, id, assignee).await?;
        if let Some(m) = &step {
            apply_move(&mut tx, id, m, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A file of a request, with its bytes, if `me` may see it.
    pub async fn attachment(
        &self,
        me: &Me,
        id: i64,
        file: i64,
    ) -> Result<(AttachmentRow, Vec<u8>)> {
        self.visible(me, id).await?;
        let a = sql::attachment(self.db.pool(), id, file)
            .await?
            .filter(|a| a.internal == 0 || me.is_staff())
            .ok_or(RequestError::NotFound)?;
        let store = self.files.store.clone();
        let sha = a.sha256.clone();
        let bytes = blocking(move || Ok(store.get(&sha)?)).await?;
        Ok((a, bytes))
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

    /// Status keys held by requests that the active workflow does not know, with their counts.
    /// Operators only; `None` is the command line, which needs no account.
    pub async fn unknown_statuses(
        &self,
        me: Option<&Me>,
    ) -> Result<(Vec<(String, i64)>, Workflow)> {
        if let Some(me) = me {
            require_operator(me)?;
        }
        let workflow = self.workflow().await?;
        let counts = sql::status_counts(self.db.pool()).await?;
        Ok((
            counts
                .into_iter()
                .filter(|(k, _)| workflow.get(k).is_none())
                .collect(),
            workflow,
        ))
    }

    /// Moves every request in the unknown status `from` to the active workflow's status `to`.
    /// Operators only; each move is recorded in the request's timeline.
    pub async fn map_status(&self, me: &Me, from: &str, to: &str) -> Result<u64> {
        require_active(me)?;
        if me.role != Role::Operator {
            return Err(RequestError::Forbidden);
        }
        let workflow = self.workflow().await?;
        if workflow.get(from).is_some() {
            return Err(RequestError::Invalid(
                "known_status",
                format!(
                    "\"{from}\" is a status of the active workflow; change such requests one by one."
                ),
            ));
        }
        if workflow.get(to).is_none() {
            return Err(RequestError::Invalid(
                "unknown_status",
                format!(
                    "There is no status \"{to}\" in the {} workflow.",
                    workflow.by.name
                ),
            ));
        }
        let now = self.now();
        let mut tx = self.db.pool().begin().await?;
        let n = sql::map_status(&mut tx, from, to, me.id, &workflow.by, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// What the dashboard shows `me`: the first open requests they may see, and the quick links
    /// their role sees.
    pub async fn dashboard(&self, me: &Me) -> Result<(ListPage, Workflow, Vec<QuickLink>)> {
        let q = ListQuery {
            status: "open".into(),
            limit: 10,
            ..ListQuery::default()
        };
        let (page, workflow) = self.list(me, &q).await?;
        Ok((page, workflow, self.quick_links(me).await?))
    }

    /// The quick links `me`'s role may see.
    pub async fn quick_links(&self, me: &Me) -> Result<Vec<QuickLink>> {
        let role = me.role.as_str();
        Ok(sql::quick_links(self.db.pool())
            .await?
            .into_iter()
            .filter(|l| l.roles.split(',').any(|r| r == role))
            .collect())
    }

    /// Every quick link; operators only.
    pub async fn all_quick_links(&self, me: &Me) -> Result<Vec<QuickLink>> {
        require_operator(me)?;
        Ok(sql::quick_links(self.db.pool()).await?)
    }

    /// Adds a quick link shown on the dashboard to `roles`. Operators only.
    pub async fn add_quick_link(
        &self,
        me: &Me,
        title: &str,
        url: &str,
        roles: &[String],
    ) -> Result<i64> {
        require_operator(me)?;
        let title = text("title", "title", title, 100)?;
        let url = url.trim();
        let ok = (url.starts_with("https://")
            || url.starts_with("http://")
            || (url.starts_with('/') && !url.starts_with("//")))
            && url.len() <= 2000
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(RequestError::Invalid(
                "url",
                "Enter a URL starting with https://, http:// or / (a page of this portal).".into(),
            ));
        }
        if roles.is_empty() {
            return Err(RequestError::Invalid(
                "roles",
                "Choose at least one role that sees the link.".into(),
            ));
        }
        if let Some(bad) = roles.iter().find(|r| Role::parse(r).is_none()) {
            return Err(RequestError::Invalid(
                "roles",
                format!("Unknown role \"{bad}\": use customer, site_admin, agent or operator."),
            ));
        }
        let position = sql::quick_links(self.db.pool()).await?.len() as i64;
        Ok(sql::insert_quick_link(self.db.pool(), &title, url, &roles.join(","), position).await?)
    }

    pub async fn delete_quick_link(&self, me: &Me, id: i64) -> Result<()> {
        require_operator(me)?;
        if sql::delete_quick_link(self.db.pool(), id).await? {
            Ok(())
        } else {
            Err(RequestError::NotFound)
        }
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

fn require_operator(me: &Me) -> Result<()> {
    require_active(me)?;
    if me.role == Role::Operator {
        Ok(())
    } else {
        Err(RequestError::Forbidden)
    }
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

    #[test]
    fn search_words_drop_operators() {
        assert_eq!(
            search_words("printer* OR \"NEAR(x)\""),
            vec!["printer", "or", "near", "x"]
        );
    }
}
