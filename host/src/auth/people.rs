//! People: invitations (links or temporary passwords), staff accounts, roles, disabling, and
//! the audit log, for Site Administrators and operators.

use super::*;

impl Accounts {
    /// Saves the language and time zone `me` reads the portal in; `None` follows the browser.
    /// A language the portal does not speak, or a zone not among [`crate::i18n::time_zones`],
    /// is refused and nothing changes.
    pub async fn set_preferences(
        &self,
        me: &Me,
        language: Option<&str>,
        time_zone: Option<&str>,
    ) -> Result<()> {
        if !me.is_active() {
            return Err(AuthError::Unauthenticated);
        }
        let language = match language {
            Some(tag) => Some(
                crate::i18n::Lang::ALL
                    .into_iter()
                    .find(|l| l.code() == tag)
                    .ok_or_else(|| {
                        AuthError::Invalid(
                            "invalid_language",
                            "Choose a language from the list.".into(),
                        )
                    })?
                    .code(),
            ),
            None => None,
        };
        if let Some(zone) = time_zone
            && !crate::i18n::is_time_zone(zone)
        {
            return Err(AuthError::Invalid(
                "invalid_time_zone",
                "Choose a time zone from the list.".into(),
            ));
        }
        Ok(
            db::users::set_preferences(self.db.pool(), me.id, language, time_zone, self.now())
                .await?,
        )
    }

    /// Invites someone: a Site Administrator to their own site, staff to any site (or, with no
    /// site, as a new agent by CLI). Returns the new user's id.
    pub async fn invite(&self, me: &Me, invite: &Invite, client: &Client) -> Result<i64> {
        let site_id = match me.role {
            Role::SiteAdmin if me.is_active() => me.site_id,
            Role::Agent | Role::Operator if me.is_active() => invite.site_id,
            _ => return Err(AuthError::Forbidden),
        };
        let Some(site_id) = site_id else {
            return Err(AuthError::Rule(
                "site_required",
                "Choose the site the person is invited to.".into(),
            ));
        };
        let site = db::sites::name(self.db.pool(), site_id)
            .await?
            .ok_or(AuthError::Rule(
                "unknown_site",
                "There is no such site.".into(),
            ))?;
        let email = normalize_email(&invite.email)?;
        let given_name = name_field(&text::GIVEN_NAME, &invite.given_name, "invalid_given_name")?;
        let surname = name_field(&text::SURNAME, &invite.surname, "invalid_surname")?;
        let now = self.now();
        let (temp, temp_hash) = match invite.mode {
            InviteMode::Link => (None, None),
            InviteMode::TemporaryPassword => {
                let t = temporary_password();
                let h = self.hash(&t).await?;
                (Some(t), Some(h))
            }
        };
        let mut tx = self.db.begin().await?;
        let new = db::users::NewUser {
            email: &email,
            given_name: &given_name,
            surname: &surname,
            password_hash: temp_hash.as_deref(),
            role: "customer",
            state: if temp.is_some() { "active" } else { "invited" },
            site_id: Some(site_id),
            must_change_password: temp.is_some(),
        };
        let Some(id) = db::users::insert(&mut *tx, &new, now).await? else {
            return Err(AuthError::Conflict(
                "An account with this address already exists.".into(),
            ));
        };
        self.send_invitation(&mut tx, id, &email, &site, temp.as_deref(), now)
            .await?;
        tx.commit().await?;
        self.mailer.wake();
        let user = db::users::by_id(self.db.pool(), id).await?;
        self.audit(
            "invitation_sent",
            user.as_ref(),
            &email,
            &me.email,
            client,
            &format!("{:?}", invite.mode),
        )
        .await?;
        Ok(id)
    }

    async fn send_invitation(
        &self,
        tx: &mut sqlx::AnyConnection,
        user_id: i64,
        email: &str,
        site: &str,
        temp: Option<&str>,
        now: i64,
    ) -> Result<String> {
        let (token, hash) = secret::new_token();
        db::tokens::retire(&mut *tx, user_id, "invite", now).await?;
        db::tokens::insert(
            &mut *tx,
            &hash,
            "invite",
            email,
            Some(user_id),
            now,
            now + 72 * HOUR,
        )
        .await?;
        let m = match temp {
            Some(t) => {
                messages::invitation_with_password(email, site, t, &self.mailer.link("/login"))
            }
            None => {
                messages::invitation(email, site, &self.mailer.link(&format!("/invite/{token}")))
            }
        };
        self.mailer.queue(tx, &m, now).await?;
        Ok(token)
    }

    /// Sends an invitation again with a new link (or temporary password); the old one stops
    /// working.
    pub async fn resend_invitation(&self, me: &Me, user_id: i64, client: &Client) -> Result<()> {
        let user = db::users::by_id(self.db.pool(), user_id)
            .await?
            .ok_or(AuthError::NotFound)?;
        let allowed = me.is_active()
            && (me.is_staff()
                || (me.role == Role::SiteAdmin
                    && me.site_id.is_some()
                    && me.site_id == user.site_id));
        if !allowed {
            return Err(AuthError::NotFound);
        }
        let temp_mode = user.state == "active" && user.must_change_password == 1;
        if user.state != "invited" && !temp_mode {
            return Err(AuthError::Conflict(
                "This person has already accepted the invitation.".into(),
            ));
        }
        let site = match user.site_id {
            Some(s) => db::sites::name(self.db.pool(), s)
                .await?
                .unwrap_or_default(),
            None => "the vendor's staff".into(),
        };
        let now = self.now();
        let temp = if temp_mode {
            Some(temporary_password())
        } else {
            None
        };
        let temp_hash = match &temp {
            Some(t) => Some(self.hash(t).await?),
            None => None,
        };
        let mut tx = self.db.begin().await?;
        if let Some(h) = &temp_hash {
            db::users::set_password(&mut *tx, user.id, h, true, now).await?;
        }
        self.send_invitation(&mut tx, user.id, &user.email, &site, temp.as_deref(), now)
            .await?;
        tx.commit().await?;
        self.mailer.wake();
        self.audit("invitation_resent", Some(&user), "", &me.email, client, "")
            .await
    }

    /// The invited person's email and names, for the page that opens an invitation link.
    pub async fn open_invitation(&self, token: &str) -> Result<UserRow> {
        let row = db::tokens::usable(self.db.pool(), &secret::hash(token), "invite", self.now())
            .await?
            .ok_or(AuthError::InvalidLink)?;
        let user = db::users::by_id(self.db.pool(), row.user_id.unwrap_or(0))
            .await?
            .ok_or(AuthError::InvalidLink)?;
        if user.state != "invited" {
            return Err(AuthError::InvalidLink);
        }
        Ok(user)
    }

    /// Accepts an invitation link by choosing a password; the account is active at once.
    /// `names` (given name, surname) are required when the account has none yet, and
    /// otherwise may correct the ones the inviter typed.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: &str,
        confirm: &str,
        names: Option<(&str, &str)>,
        client: &Client,
    ) -> Result<()> {
        let now = self.now();
        let row = db::tokens::usable(self.db.pool(), &secret::hash(token), "invite", now)
            .await?
            .ok_or(AuthError::InvalidLink)?;
        let mut user = self.open_invitation(token).await?;
        let names = match names {
            Some((given, surname)) => Some((
                name_field(&text::GIVEN_NAME, given, "invalid_given_name")?,
                name_field(&text::SURNAME, surname, "invalid_surname")?,
            )),
            None if needs_names(&user) => {
                return Err(AuthError::Invalid(
                    "names_required",
                    "Enter your given name and surname: customers see them on your replies.".into(),
                ));
            }
            None => None,
        };
        if let Some((given, surname)) = &names {
            user.given_name.clone_from(given);
            user.surname.clone_from(surname);
        }
        self.check_new_password(password, confirm, context_of(&user))
            .await?;
        let hash = self.hash(password).await?;
        let mut tx = self.db.begin().await?;
        if !db::tokens::consume(&mut *tx, row.id, now).await? {
            return Err(AuthError::InvalidLink);
        }
        if let Some((given, surname)) = &names {
            db::users::set_profile(&mut *tx, user.id, given, surname, now).await?;
        }
        db::users::set_password(&mut *tx, user.id, &hash, false, now).await?;
        db::users::transition(&mut *tx, user.id, "invited", "active", now).await?;
        tx.commit().await?;
        self.audit("invitation_accepted", Some(&user), "", "user", client, "")
            .await
    }

    /// Creates a vendor staff account (CLI) and returns its one-time set-password link.
    pub async fn add_staff(
        &self,
        raw_email: &str,
        role: Role,
        given_name: &str,
        surname: &str,
    ) -> Result<String> {
        if !role.is_staff() {
            return Err(AuthError::Invalid(
                "invalid_role",
                "Staff are agents or operators.".into(),
            ));
        }
        let email = normalize_email(raw_email)?;
        let given_name = name_field(&text::GIVEN_NAME, given_name, "invalid_given_name")?;
        let surname = name_field(&text::SURNAME, surname, "invalid_surname")?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let new = db::users::NewUser {
            email: &email,
            given_name: &given_name,
            surname: &surname,
            password_hash: None,
            role: role.as_str(),
            state: "invited",
            site_id: None,
            must_change_password: false,
        };
        let Some(id) = db::users::insert(&mut *tx, &new, now).await? else {
            return Err(AuthError::Conflict(format!(
                "{email} already has an account."
            )));
        };
        let (token, hash) = secret::new_token();
        db::tokens::insert(
            &mut *tx,
            &hash,
            "invite",
            &email,
            Some(id),
            now,
            now + 72 * HOUR,
        )
        .await?;
        tx.commit().await?;
        let user = db::users::by_id(self.db.pool(), id).await?;
        self.audit(
            "staff_added",
            user.as_ref(),
            &email,
            "cli",
            &Client::default(),
            role.as_str(),
        )
        .await?;
        Ok(self.mailer.link(&format!("/invite/{token}")))
    }

    /// Changes a user's role (operators only).
    pub async fn set_role(&self, me: &Me, user_id: i64, role: Role, client: &Client) -> Result<()> {
        if !(me.is_active() && me.role == Role::Operator) {
            return Err(AuthError::Forbidden);
        }
        let user = db::users::by_id(self.db.pool(), user_id)
            .await?
            .ok_or(AuthError::NotFound)?;
        if matches!(role, Role::Customer | Role::SiteAdmin) && user.site_id.is_none() {
            return Err(AuthError::Rule(
                "site_required",
                "Customers belong to a site; this account has none.".into(),
            ));
        }
        db::users::set_role(self.db.pool(), user_id, role.as_str(), self.now()).await?;
        self.audit(
            "role_changed",
            Some(&user),
            "",
            &me.email,
            client,
            &format!("{} -> {}", user.role, role.as_str()),
        )
        .await
    }

    /// Disables an account (operators only); its sessions end at once.
    pub async fn disable(&self, me: &Me, user_id: i64, client: &Client) -> Result<()> {
        if !(me.is_active() && me.role == Role::Operator) || user_id == me.id {
            return Err(AuthError::Forbidden);
        }
        let user = db::users::by_id(self.db.pool(), user_id)
            .await?
            .ok_or(AuthError::NotFound)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        db::users::transition(&mut *tx, user_id, &user.state, "disabled", now).await?;
        db::sessions::revoke_all(&mut *tx, user_id, None, now).await?;
        tx.commit().await?;
        self.audit(
            "user_disabled",
            Some(&user),
            "",
            &me.email,
            client,
            &user.state,
        )
        .await
    }

    pub async fn audit_log(
        &self,
        me: &Me,
        before: Option<i64>,
        event: &str,
        search: &str,
        limit: i64,
    ) -> Result<Vec<db::audit::AuditRow>> {
        if !(me.is_active() && me.role == Role::Operator) {
            return Err(AuthError::Forbidden);
        }
        let search = text::check(&text::SEARCH, search)
            .map_err(|e| AuthError::Invalid(e.field, e.message))?;
        let event = text::check(&text::SEARCH, event)
            .map_err(|e| AuthError::Invalid(e.field, e.message))?;
        Ok(db::audit::recent(self.db.pool(), before, &event, &search, limit.clamp(1, 500)).await?)
    }

    /// Plugin decisions that pass `filter`, newest first; operators only.
    pub async fn decisions(
        &self,
        me: &Me,
        filter: &db::decisions::Filter,
        limit: i64,
    ) -> Result<Vec<db::decisions::DecisionRow>> {
        if !(me.is_active() && me.role == Role::Operator) {
            return Err(AuthError::Forbidden);
        }
        Ok(db::decisions::list(&self.db, filter, limit.clamp(1, 500)).await?)
    }

    /// Email the outbox gave up on (refused for good, unparseable address, too many failed
    /// attempts), newest first; operators only.
    pub async fn undelivered_mail(&self, me: &Me) -> Result<Vec<db::outbox::Undelivered>> {
        if !(me.is_active() && me.role == Role::Operator) {
            return Err(AuthError::Forbidden);
        }
        Ok(db::outbox::undelivered(self.db.pool(), 200).await?)
    }

    /// The most recent email read from the support mailbox, with what became of each, and the
    /// addresses bounces reported as undeliverable; operators only.
    pub async fn received_mail(
        &self,
        me: &Me,
    ) -> Result<(Vec<db::inbound::Received>, Vec<db::inbound::Bouncing>)> {
        if !(me.is_active() && me.role == Role::Operator) {
            return Err(AuthError::Forbidden);
        }
        Ok((
            db::inbound::recent(self.db.pool(), 200).await?,
            db::inbound::bouncing(self.db.pool()).await?,
        ))
    }

    /// Clears the bouncing mark of `email`, so mail to it is sent again (the mailbox works
    /// again); audited. Operators only. `false` when it was not marked.
    pub async fn clear_bouncing(&self, me: &Me, email: &str, client: &Client) -> Result<bool> {
        require_operator(me)?;
        let email = normalize_email(email)?;
        let cleared = db::inbound::clear_bouncing(self.db.pool(), &email).await?;
        if cleared {
            self.audit_me("bounce_cleared", me, client, &email).await?;
        }
        Ok(cleared)
    }

    /// The answer to mail from unknown addresses: what operators set, or `None`, and the
    /// built-in wording. Operators only.
    pub async fn join_wording(&self, me: &Me) -> Result<(Option<String>, &'static str)> {
        if !(me.is_active() && me.role == Role::Operator) {
            return Err(AuthError::Forbidden);
        }
        Ok((
            db::inbound::wording(self.db.pool(), "join").await?,
            messages::JOIN_WORDING,
        ))
    }

    /// Sets the answer to mail from unknown addresses; empty goes back to the built-in
    /// wording. Operators only; audited.
    pub async fn set_join_wording(&self, me: &Me, client: &Client, raw: &str) -> Result<()> {
        if !(me.is_active() && me.role == Role::Operator) {
            return Err(AuthError::Forbidden);
        }
        let text = text::check(&text::JOIN_WORDING, raw)?;
        let body = Some(text.as_str()).filter(|t| !t.is_empty());
        db::inbound::set_wording(self.db.pool(), "join", body, self.now()).await?;
        let detail = if body.is_some() {
            "answer to unknown senders set"
        } else {
            "answer to unknown senders back to the built-in wording"
        };
        self.audit_me("mail_wording_changed", me, client, detail)
            .await
    }
}

/// An account created before names were required (or by an inviter who left them out): its
/// owner is asked for them when choosing a password.
pub fn needs_names(user: &UserRow) -> bool {
    user.given_name.trim().is_empty() || user.surname.trim().is_empty()
}
