//! Changes to requests: raising one, replying (and internal notes), moving it through the
//! workflow plugin, assigning it. Each change commits with the email it causes.

use super::*;
use crate::db::users;
use crate::domain::rules::RequestEvent;

impl Requests {
    /// Raises a request for `me`'s site, with the type and fields the new-request form offers
    /// (`answers`; a request raised by email has none, so its required fields may stay empty);
    /// returns its id.
    pub async fn create(
        &self,
        me: &Me,
        subject: &str,
        description: &str,
        answers: &custom::Answers,
        uploads: Vec<Upload>,
        via: Via<'_>,
    ) -> Result<i64> {
        require_active(me)?;
        let site_id = match (me.role, me.site_id) {
            (Role::Customer | Role::SiteAdmin, Some(site)) => site,
            _ => {
                return Err(RequestError::Denied(
                    "no_site",
                    "Only customers of a site can raise requests.".into(),
                ));
            }
        };
        let subject = text::required(&text::SUBJECT, subject)?;
        let description = text::required(&text::DESCRIPTION, description)?;
        let by_form = !matches!(via, Via::Email(_));
        let answers = self.check_answers(me, answers, by_form).await?;
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
        let mut uncommitted = Uncommitted::of(&self.files, &stored);
        let html = render(&description).await?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
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
                author_id: Some(me.id),
                plugin: None,
                body: &description,
                internal: false,
                extra: &subject,
                channel: via.channel(),
                html: &html,
                renderer: markdown::RENDERER,
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
        let mut row = sql::by_id(&mut *tx, id)
            .await?
            .ok_or(RequestError::NotFound)?;
        self.give_answers(&mut tx, &mut row, &answers).await?;
        self.react(&mut tx, RequestEvent::Created, &mut row, now)
            .await?;
        if users::notifications(&mut *tx, me.id).await?.created {
            let email =
                messages::request_received(&me.email, &number(id), &subject, &self.link(id))
                    .about(id);
            self.mailer.queue(&mut tx, &email, now).await?;
        }
        via.record(&mut tx, id, message_id, "opened").await?;
        tx.commit().await?;
        uncommitted.committed();
        self.mailer.wake();
        Ok(id)
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
        via: Via<'_>,
    ) -> Result<i64> {
        let u = Update {
            message: Some(Message {
                body,
                internal,
                uploads,
            }),
            ..Update::default()
        };
        let message = self.update(me, id, u, via).await?;
        message.ok_or(RequestError::NotFound)
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
        let u = Update {
            status: Some(to),
            version,
            ..Update::default()
        };
        self.update(me, id, u, Via::Portal).await.map(|_| ())
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
        let u = Update {
            assignee: Some(assignee),
            version,
            ..Update::default()
        };
        self.update(me, id, u, Via::Portal).await.map(|_| ())
    }

    /// Sets the request's priority, its tags (every tag it is to hold), its type and custom
    /// fields, any of them. Staff only.
    pub async fn set_fields(
        &self,
        me: &Me,
        id: i64,
        priority: Option<crate::domain::fields::Priority>,
        tags: Option<Vec<String>>,
        answers: custom::Answers,
        version: Option<i64>,
    ) -> Result<()> {
        require_staff(me)?;
        let u = Update {
            priority,
            tags,
            answers,
            version,
            ..Update::default()
        };
        self.update(me, id, u, Via::Portal).await.map(|_| ())
    }

    /// The requester's rating of their closed request: `good` or `bad`, with an optional
    /// comment; a later rating replaces it. Staff see it on the request.
    pub async fn rate(&self, me: &Me, id: i64, rating: &str, comment: &str) -> Result<()> {
        let r = self.visible(me, id).await?;
        if me.id != r.requester_id {
            return Err(RequestError::Forbidden);
        }
        if !matches!(rating, "good" | "bad") {
            return Err(RequestError::Invalid(
                "invalid_rating",
                "Rate the request good or bad.".into(),
            ));
        }
        let comment = text::check(&text::MESSAGE, comment)?;
        if self.workflow().await?.is_open(&r.status) {
            return Err(RequestError::Rule(
                "request_open",
                "A request can be rated once it is closed.".into(),
            ));
        }
        sql::rate(
            self.db.pool(),
            id,
            me.id,
            rating,
            comment.trim(),
            self.now(),
        )
        .await?;
        Ok(())
    }

    /// Applies a message, an assignment, a priority, tags, a type and custom fields, and a move,
    /// any of them, in one transaction: all of it happens or none does, with one email to the
    /// customer. In that order, as an agent works: the assignment, each field and the message each
    /// tell the workflow their event (`assigned`, `field-changed`, `staff-replied`,
    /// `customer-replied`, `note-added`) and take the actions it answers; the explicit status is
    /// then asked of the workflow from where the request has got to, and its `status-changed`
    /// answered. With a status, an assignee or a field, `version` is the version the caller
    /// last read, and a request changed since is a conflict; a message alone is never refused
    /// for one. Fields are staff's to set; each change is kept in the request's timeline.
    /// Returns the message's id.
    pub async fn update(
        &self,
        me: &Me,
        id: i64,
        u: Update<'_>,
        via: Via<'_>,
    ) -> Result<Option<i64>> {
        let body = match &u.message {
            Some(m) => Some(text::required(&text::MESSAGE, m.body)?),
            None => None,
        };
        let internal = u.message.as_ref().is_some_and(|m| m.internal);
        let fields = u.priority.is_some() || u.tags.is_some() || !u.answers.is_empty();
        if (internal || u.assignee.is_some() || fields) && !me.is_staff() {
            return Err(RequestError::Forbidden);
        }
        if body.is_none() && u.status.is_none() && u.assignee.is_none() && !fields {
            return Err(RequestError::Invalid(
                "nothing_to_change",
                "Write a message, or choose a status, an assignee, a priority, tags, a type or a field to change."
                    .into(),
            ));
        }
        let tags = match &u.tags {
            Some(t) => Some(
                crate::domain::fields::tags(t.iter().map(String::as_str))
                    .map_err(|why| RequestError::Invalid("invalid_tags", why))?,
            ),
            None => None,
        };
        self.visible(me, id).await?;
        let answers = self.check_answers(me, &u.answers, false).await?;
        if let Some(Some(a)) = u.assignee
            && !sql::staff(self.db.pool())
                .await?
                .iter()
                .any(|(sid, _, _)| *sid == a)
        {
            return Err(RequestError::Rule(
                "unknown_assignee",
                "Requests can only be assigned to active support staff.".into(),
            ));
        }
        let workflow = self.workflow().await?;
        let target = match u.status {
            Some(to) => Some(workflow.get(to).cloned().ok_or_else(|| {
                RequestError::Invalid(
                    "unknown_status",
                    format!(
                        "There is no status \"{to}\" in the {} workflow.",
                        workflow.by.name
                    ),
                )
            })?),
            None => None,
        };
        let stored = match u.message {
            Some(m) => self.store(m.uploads).await?,
            None => Vec::new(),
        };
        let mut uncommitted = Uncommitted::of(&self.files, &stored);
        let html = match &body {
            Some(b) => Some(render(b).await?),
            None => None,
        };
        let expected = u
            .version
            .filter(|_| u.status.is_some() || u.assignee.is_some() || fields);
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let first = self.lock(&mut tx, id, expected, now).await?;
        let mut r = first.clone();
        let (mut moved, mut changed) = (false, false);
        // Each change is applied at once and `r` follows it (and the workflow's answers to it),
        // so the next question to the workflow starts from where the request is.
        if let Some(assignee) = u.assignee
            && assignee != r.assignee_id
        {
            sql::set_assignee(&mut tx, id, assignee).await?;
            r.assignee_id = assignee;
            changed = true;
            if assignee.is_some() {
                moved |= self
                    .react(&mut tx, RequestEvent::Assigned, &mut r, now)
                    .await?;
            }
        }
        let by = fields::By {
            actor_id: Some(me.id),
            role: actor_name(actor(me.role)),
            cause: "requested",
            plugin: None,
        };
        // What this person changed, for the audit log.
        let mut audited = Vec::new();
        if let Some(p) = u.priority {
            let was = r.priority.clone();
            if self.set_priority(&mut tx, &mut r, p, by, now).await? {
                changed = true;
                audited.push(format!("priority {was} → {}", r.priority));
                let event = RequestEvent::FieldChanged("priority".into());
                moved |= self.react(&mut tx, event, &mut r, now).await?;
            }
        }
        if let Some(tags) = &tags {
            let was = r.tags.clone();
            if self.set_tags(&mut tx, &mut r, tags, by, now).await? {
                changed = true;
                let shown = |t: &str| {
                    if t.is_empty() {
                        "none".to_owned()
                    } else {
                        t.to_owned()
                    }
                };
                audited.push(format!("tags {} → {}", shown(&was), shown(&r.tags)));
                let event = RequestEvent::FieldChanged("tags".into());
                moved |= self.react(&mut tx, event, &mut r, now).await?;
            }
        }
        for (name, audit) in self
            .apply_answers(&mut tx, &mut r, &answers, by, now)
            .await?
        {
            changed = true;
            audited.push(audit);
            let event = RequestEvent::FieldChanged(name);
            moved |= self.react(&mut tx, event, &mut r, now).await?;
        }
        if !audited.is_empty() {
            let detail = format!("{}: {}", number(id), audited.join("; "));
            audit(&mut tx, me, "request_fields_changed", &detail, now).await?;
        }
        let mut message_id = None;
        if let Some(body) = &body {
            message_id = Some(
                sql::insert_message(
                    &mut tx,
                    self.db.backend(),
                    &NewMessage {
                        request_id: id,
                        author_id: Some(me.id),
                        plugin: None,
                        body,
                        internal,
                        extra: "",
                        channel: via.channel(),
                        html: html.as_deref().unwrap_or_default(),
                        renderer: markdown::RENDERER,
                        now,
                    },
                )
                .await?,
            );
            if let Some(m) = message_id {
                self.attach(&mut tx, id, m, &stored, now).await?;
            }
            let event = if internal {
                RequestEvent::NoteAdded
            } else if me.is_staff() {
                RequestEvent::StaffReplied
            } else {
                RequestEvent::CustomerReplied
            };
            moved |= self.react(&mut tx, event, &mut r, now).await?;
        }
        // A status the workflow has just moved the request to, because of the assignment or
        // the message, is where the caller wanted it: nothing more to ask.
        let arrived = moved && target.as_ref().is_some_and(|t| t.key == r.status);
        if let Some(target) = target.as_ref().filter(|_| !arrived) {
            let role = actor(me.role);
            let ask = TransitionRequest {
                from: r.status.clone(),
                to: target.key.clone(),
                actor: role,
                seconds_in_status: self.seconds_in_status(&r),
            };
            let d = self.ask(move |p| p.can_transition(&ask, Some(id))).await?;
            if let TransitionDecision::Refused(reason) = d.value {
                return Err(RequestError::Refused(reason, d.by));
            }
            let m = Move {
                from: r.status.clone(),
                to: target.key.clone(),
                actor_id: Some(me.id),
                role,
                cause: "requested".into(),
                by: d.by,
            };
            apply_move(&mut tx, id, &m, now).await?;
            r.status = m.to.clone();
            r.status_since = now;
            moved = true;
            self.react(&mut tx, RequestEvent::StatusChanged(m.from), &mut r, now)
                .await?;
        }
        // A customer's reply goes to the assignee (or the staff watching the queue). The
        // requester and the colleagues it is shared with hear of a staff reply and of a move
        // someone else made, each as they chose.
        let public_reply = body.is_some() && message_id.is_some() && !internal;
        let mut emails = match &body {
            Some(body) if public_reply && !me.is_staff() => {
                self.reply_emails(&mut tx, me, &first, body).await?
            }
            _ => Vec::new(),
        };
        let mut customers = vec![(r.requester_id, r.requester_email.clone())];
        customers.extend(
            crate::db::requests::cc::of(&mut *tx, id)
                .await?
                .into_iter()
                .map(|c| (c.user_id, c.email)),
        );
        let label = workflow.label(&r.status);
        for (user_id, address) in customers.into_iter().filter(|(u, _)| *u != me.id) {
            let wants = users::notifications(&mut *tx, user_id).await?;
            let status_email = || {
                messages::status_changed(&address, &number(id), &r.subject, &label, &self.link(id))
                    .about(id)
            };
            match &body {
                Some(body) if public_reply && me.is_staff() && wants.replies => {
                    let status = (moved && wants.status).then_some(label.as_str());
                    emails.push(self.staff_reply_email(me, &first, &address, body, status));
                }
                Some(_) if public_reply && me.is_staff() && moved && wants.status => {
                    emails.push(status_email());
                }
                _ if public_reply => {}
                _ if target.is_some() && wants.status => emails.push(status_email()),
                _ => {}
            }
        }
        for email in &emails {
            self.mailer.queue(&mut tx, email, now).await?;
        }
        if let Some(m) = message_id {
            via.record(&mut tx, id, m, "replied").await?;
        }
        if !(changed || moved || message_id.is_some()) {
            // Assigned to whom it already was: nothing to keep, not even the new version.
            return Ok(None);
        }
        tx.commit().await?;
        uncommitted.committed();
        if !emails.is_empty() {
            self.mailer.wake();
        }
        Ok(message_id)
    }

    /// Raises the request's version inside `tx`, which holds its row from then on, and reads it
    /// as it now is. With `expected`, a request changed since that version is a conflict.
    pub(super) async fn lock(
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

    /// A staff reply, emailed to `to` (the requester or a colleague it is shared with).
    fn staff_reply_email(
        &self,
        me: &Me,
        r: &RequestRow,
        to: &str,
        body: &str,
        status: Option<&str>,
    ) -> Email {
        let author = me.full_name();
        messages::staff_reply(
            to,
            &number(r.id),
            &r.subject,
            &author,
            body,
            status,
            &self.link(r.id),
        )
        .about(r.id)
    }

    /// The email a customer's reply causes: to the assignee, or, while unassigned, to the staff
    /// watching the queue. Reads on `conn`, the reply's own transaction, so a reply never waits
    /// for a second connection while it holds one.
    async fn reply_emails(
        &self,
        conn: &mut AnyConnection,
        me: &Me,
        r: &RequestRow,
        body: &str,
    ) -> Result<Vec<Email>> {
        let author = me.full_name();
        let n = number(r.id);
        let link = self.link(r.id);
        let to = match &r.assignee_email {
            Some(a) => vec![a.clone()],
            None => sql::queue_watchers(&mut *conn).await?,
        };
        Ok(to
            .iter()
            .map(|t| messages::customer_reply(t, &n, &r.subject, &author, body, &link).about(r.id))
            .collect())
    }
}

/// A message to add with an [`Update`].
#[derive(Debug)]
pub struct Message<'a> {
    pub body: &'a str,
    /// An internal note: staff only, seen by staff only, emailing nobody.
    pub internal: bool,
    pub uploads: Vec<Upload>,
}

/// What one change to a request holds; see [`Requests::update`].
#[derive(Debug, Default)]
pub struct Update<'a> {
    pub message: Option<Message<'a>>,
    /// The status key to move to.
    pub status: Option<&'a str>,
    /// `Some(None)` unassigns.
    pub assignee: Option<Option<i64>>,
    pub priority: Option<crate::domain::fields::Priority>,
    /// The tags the request is to hold (each checked and lowercased; the list sorted).
    pub tags: Option<Vec<String>>,
    /// A type and custom field values to set (staff).
    pub answers: custom::Answers,
    /// The version the caller last read.
    pub version: Option<i64>,
}

/// Files stored for a change that has not committed: if it never does (refused, conflicting,
/// the database out of room), the next housekeeping look sweeps them rather than the hourly one.
struct Uncommitted<'a> {
    files: &'a Files,
    pending: bool,
}

impl<'a> Uncommitted<'a> {
    fn of(files: &'a Files, stored: &[Stored]) -> Uncommitted<'a> {
        Uncommitted {
            files,
            pending: !stored.is_empty(),
        }
    }

    fn committed(&mut self) {
        self.pending = false;
    }
}

impl Drop for Uncommitted<'_> {
    fn drop(&mut self) {
        if self.pending {
            self.files.sweep_soon();
        }
    }
}
