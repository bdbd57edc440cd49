//! Changes to requests: raising one, replying (and internal notes), moving it through the
//! workflow plugin, assigning it. Each change commits with the email it causes.

use super::*;

impl Requests {
    /// Raises a request for `me`'s site; returns its id.
    pub async fn create(
        &self,
        me: &Me,
        subject: &str,
        description: &str,
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
                author_id: me.id,
                body: &description,
                internal: false,
                extra: &subject,
                channel: via.channel(),
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
        let email =
            messages::request_received(&me.email, &number(id), &subject, &self.link(id)).about(id);
        self.mailer.queue(&mut tx, &email, now).await?;
        via.record(&mut tx, id, message_id, "opened").await?;
        tx.commit().await?;
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
        let body = text::required(&text::MESSAGE, body)?;
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
        let mut tx = self.db.begin().await?;
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
                channel: via.channel(),
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
        via.record(&mut tx, id, message_id, "replied").await?;
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
            return Ok(vec![
                messages::staff_reply(
                    &r.requester_email,
                    &n,
                    &r.subject,
                    &author,
                    body,
                    status.as_deref(),
                    &link,
                )
                .about(r.id),
            ]);
        }
        let to = match &r.assignee_email {
            Some(a) => vec![a.clone()],
            None => sql::queue_watchers(&mut *conn).await?,
        };
        Ok(to
            .iter()
            .map(|t| messages::customer_reply(t, &n, &r.subject, &author, body, &link).about(r.id))
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
        let mut tx = self.db.begin().await?;
        let r = self.lock(&mut tx, id, version, now).await?;
        let ask = TransitionRequest {
            from: r.status.clone(),
            to: target.key.clone(),
            actor: role,
            seconds_in_status: self.seconds_in_status(&r),
        };
        let about = r.id;
        let d = self
            .ask(move |p| p.can_transition(&ask, Some(about)))
            .await?;
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
            )
            .about(id);
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
            return Err(RequestError::Rule(
                "unknown_assignee",
                "Requests can only be assigned to active support staff.".into(),
            ));
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
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
}
