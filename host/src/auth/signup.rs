//! Sign-up (verification link, eligibility plugin, password plugin), the choice of a site at
//! first login, and activation by staff or the site's Site Administrator.

use super::*;

impl Accounts {
    /// "Join now": sends a verification link, or, when the address already has an account, an
    /// email saying so. The answer is the same either way.
    pub async fn start_signup(&self, raw_email: &str, client: &Client) -> Result<()> {
        let email = normalize_email(raw_email)?;
        let l = &self.config.limits;
        self.limiter()
            .hit(&format!("signup:ip:{}", client.network()), l.signup_per_ip)
            .await?;
        self.limiter()
            .hit(&format!("signup:email:{email}"), l.signup_per_email)
            .await?;
        let now = self.now();
        let existing = db::users::by_email(self.db.pool(), &email).await?;
        let mut tx = self.db.begin().await?;
        let message = match &existing {
            Some(_) => messages::signup_existing_account(
                &email,
                &self.mailer.link("/login"),
                &self.mailer.link("/forgot"),
            ),
            None => {
                let (token, hash) = secret::new_token();
                db::tokens::insert(&mut *tx, &hash, "signup", &email, None, now, now + DAY).await?;
                messages::signup_verification(
                    &email,
                    &self.mailer.link(&format!("/join/verify/{token}")),
                )
            }
        };
        self.mailer.queue(&mut tx, &message, now).await?;
        tx.commit().await?;
        self.mailer.wake();
        let detail = if existing.is_some() {
            "address already has an account"
        } else {
            "verification link sent"
        };
        self.audit(
            "signup_started",
            existing.as_ref(),
            &email,
            "visitor",
            client,
            detail,
        )
        .await
    }

    /// Candidate sites for `email`, and the plugin's decision about them.
    async fn eligibility(
        &self,
        email: &str,
    ) -> Result<(Vec<db::sites::MatchedSite>, EligibilityDecision)> {
        let (matched, request) = self.eligibility_question(email, self.clock.today()).await?;
        let plugins = self.plugins.clone();
        let decision = blocking(move || plugins.decide_eligibility(&request))
            .await??
            .value;
        Ok((matched, decision))
    }

    /// The question the eligibility plugin is asked about `email` on `today`: the sites that
    /// match it, by address or domain.
    pub async fn eligibility_question(
        &self,
        email: &str,
        today: time::Date,
    ) -> Result<(Vec<db::sites::MatchedSite>, EligibilityRequest)> {
        let domain = email
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or_default()
            .to_owned();
        let matched = db::sites::matching(self.db.pool(), email, &domain).await?;
        let request = EligibilityRequest {
            email: email.to_owned(),
            domain,
            today,
            candidates: matched
                .iter()
                .map(|m| CandidateSite {
                    site_id: m.id as u64,
                    name: m.name.clone(),
                    matched_by: if m.by_address == 1 {
                        MatchKind::Address
                    } else {
                        MatchKind::Domain
                    },
                    maintenance_until: m.maintenance_until.as_deref().and_then(|d| {
                        time::Date::parse(
                            d,
                            time::macros::format_description!("[year]-[month]-[day]"),
                        )
                        .ok()
                    }),
                    active_licences: m.licences.clamp(0, u32::MAX as i64) as u32,
                })
                .collect(),
        };
        Ok((matched, request))
    }

    /// Opens a sign-up link (without using it up) and says whether the address may join.
    pub async fn open_signup_link(&self, token: &str) -> Result<SignupLink> {
        let row = db::tokens::usable(self.db.pool(), &secret::hash(token), "signup", self.now())
            .await?
            .ok_or(AuthError::InvalidLink)?;
        let (_, decision) = self.eligibility(&row.email).await?;
        Ok(SignupLink {
            email: row.email,
            eligible: !matches!(decision, EligibilityDecision::Ineligible(_)),
            review: matches!(decision, EligibilityDecision::NeedsReview(_)),
        })
    }

    /// "Create": the account exists from here on, waiting for its site to be chosen, or, where
    /// the eligibility plugin asked for it, for operators to review it (they are emailed).
    pub async fn complete_signup(
        &self,
        token: &str,
        password: &str,
        confirm: &str,
        given_name: &str,
        surname: &str,
        client: &Client,
    ) -> Result<SignedUp> {
        let now = self.now();
        let row = db::tokens::usable(self.db.pool(), &secret::hash(token), "signup", now)
            .await?
            .ok_or(AuthError::InvalidLink)?;
        let given_name = name_field(&text::GIVEN_NAME, given_name, "invalid_given_name")?;
        let surname = name_field(&text::SURNAME, surname, "invalid_surname")?;
        let (_, decision) = self.eligibility(&row.email).await?;
        let review = match decision {
            EligibilityDecision::Eligible(_) => None,
            EligibilityDecision::NeedsReview(why) => Some(why),
            EligibilityDecision::Ineligible(_) => {
                return Err(AuthError::AccountUnavailable("not_eligible", NOT_ELIGIBLE));
            }
        };
        self.check_new_password(
            password,
            confirm,
            PasswordContext {
                email: row.email.clone(),
                given_name: given_name.clone(),
                surname: surname.clone(),
            },
        )
        .await?;
        let hash = self.hash(password).await?;
        let mut tx = self.db.begin().await?;
        if !db::tokens::consume(&mut *tx, row.id, now).await? {
            return Err(AuthError::InvalidLink);
        }
        let user = db::users::NewUser {
            email: &row.email,
            given_name: &given_name,
            surname: &surname,
            password_hash: Some(&hash),
            role: "customer",
            state: if review.is_some() {
                "awaiting_review"
            } else {
                "choosing_site"
            },
            site_id: None,
            must_change_password: false,
        };
        let Some(id) = db::users::insert(&mut *tx, &user, now).await? else {
            return Err(AuthError::Conflict(
                "This address already has an account: log in instead.".into(),
            ));
        };
        if let Some(why) = &review {
            db::users::set_review_reason(&mut *tx, id, why).await?;
            let who = format!("{given_name} {surname}");
            for op in db::users::active_with_role(&mut *tx, "operator", None).await? {
                let m = messages::review_needed(
                    &op.email,
                    who.trim(),
                    &row.email,
                    why,
                    &self.mailer.link("/approvals"),
                );
                self.mailer.queue(&mut tx, &m, now).await?;
            }
        }
        tx.commit().await?;
        self.mailer.wake();
        let user = db::users::by_id(self.db.pool(), id).await?;
        self.audit(
            "signup_completed",
            user.as_ref(),
            &row.email,
            "visitor",
            client,
            "",
        )
        .await?;
        let Some(why) = review else {
            return Ok(SignedUp::ChooseSite);
        };
        self.audit(
            "signup_needs_review",
            user.as_ref(),
            &row.email,
            "eligibility plugin",
            client,
            &why,
        )
        .await?;
        Ok(SignedUp::Review)
    }

    /// Sign-ups waiting for operators' review, oldest first.
    pub async fn pending_reviews(&self, me: &Me) -> Result<Vec<ReviewedSignup>> {
        require_operator(me)?;
        let rows = db::users::in_state(self.db.pool(), "awaiting_review", None).await?;
        Ok(rows
            .into_iter()
            .map(|u| ReviewedSignup {
                id: u.id,
                email: u.email,
                given_name: u.given_name,
                surname: u.surname,
                reason: u.review_reason.unwrap_or_default(),
                created_at: u.created_at,
            })
            .collect())
    }

    /// An operator's decision on a reviewed sign-up: approved, the person joins `site` (its
    /// Site Administrator when it has none) and may sign in; refused, the account is closed.
    /// The person is emailed either way, and the decision is audited.
    pub async fn decide_review(
        &self,
        me: &Me,
        user_id: i64,
        site: Option<i64>,
        client: &Client,
    ) -> Result<()> {
        require_operator(me)?;
        let target = db::users::by_id(self.db.pool(), user_id)
            .await?
            .filter(|u| u.state == "awaiting_review")
            .ok_or(AuthError::NotFound)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let mut detail = String::new();
        match site {
            Some(site) => {
                let name = db::sites::name(&mut *tx, site).await?.ok_or_else(|| {
                    AuthError::Rule("unknown_site", "There is no such site.".into())
                })?;
                // Approvals for one site queue on its row: see `decide_approval`.
                db::sites::lock(&mut *tx, site).await?;
                if !db::users::transition(&mut *tx, user_id, "awaiting_review", "active", now)
                    .await?
                {
                    return Err(AuthError::Conflict(
                        "This sign-up is not waiting for review any more.".into(),
                    ));
                }
                db::users::assign_site(&mut *tx, user_id, site, now).await?;
                detail = format!("approved for {name}");
                if !db::users::site_has_admin(&mut *tx, site).await? {
                    db::users::set_role(&mut *tx, user_id, "site_admin", now).await?;
                    detail.push_str(" as Site Administrator");
                }
                let m = messages::account_activated(&target.email, &self.mailer.link("/login"));
                self.mailer.queue(&mut tx, &m, now).await?;
            }
            None => {
                if !db::users::transition(&mut *tx, user_id, "awaiting_review", "rejected", now)
                    .await?
                {
                    return Err(AuthError::Conflict(
                        "This sign-up is not waiting for review any more.".into(),
                    ));
                }
                detail.push_str("refused");
                let m = messages::account_rejected(&target.email);
                self.mailer.queue(&mut tx, &m, now).await?;
            }
        }
        tx.commit().await?;
        self.mailer.wake();
        self.audit(
            if site.is_some() {
                "signup_review_approved"
            } else {
                "signup_review_refused"
            },
            Some(&target),
            "",
            &me.email,
            client,
            &detail,
        )
        .await
    }

    /// The sites the signed-in user may choose at first login.
    pub async fn eligible_sites(&self, me: &Me) -> Result<Vec<(i64, String)>> {
        let (matched, decision) = self.eligibility(&me.email).await?;
        let EligibilityDecision::Eligible(ids) = decision else {
            return Ok(Vec::new());
        };
        Ok(matched
            .into_iter()
            .filter(|m| ids.contains(&(m.id as u64)))
            .map(|m| (m.id, m.name))
            .collect())
    }

    /// "Continue" on the site list: the account now waits for activation by the site's
    /// Site Administrator, or by vendor staff when the site has none yet.
    pub async fn choose_site(&self, me: &Me, site_id: i64, client: &Client) -> Result<()> {
        if me.stage != Stage::Full || me.state != "choosing_site" {
            return Err(AuthError::Conflict(
                "Your site has already been chosen.".into(),
            ));
        }
        if !self
            .eligible_sites(me)
            .await?
            .iter()
            .any(|(id, _)| *id == site_id)
        {
            return Err(AuthError::Rule(
                "site_not_eligible",
                "Choose one of the listed sites.".into(),
            ));
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        if !db::users::set_site(&mut *tx, me.id, site_id, now).await? {
            return Err(AuthError::Conflict(
                "Your site has already been chosen.".into(),
            ));
        }
        let site = db::sites::name(&mut *tx, site_id)
            .await?
            .unwrap_or_default();
        let mut approvers =
            db::users::active_with_role(&mut *tx, "site_admin", Some(site_id)).await?;
        if approvers.is_empty() {
            // A site's first user: the vendor's operators decide (agents may approve too, from
            // the Approvals page, but are not each emailed about every new site).
            approvers = db::users::active_with_role(&mut *tx, "operator", None).await?;
        }
        let who = me.full_name();
        for a in &approvers {
            let m = messages::approval_needed(
                &a.email,
                &who,
                &me.email,
                &site,
                &self.mailer.link("/approvals"),
            );
            self.mailer.queue(&mut tx, &m, now).await?;
        }
        tx.commit().await?;
        self.mailer.wake();
        // The account waits now: its session ends, as an unapproved account cannot sign in.
        db::sessions::revoke_all(self.db.pool(), me.id, None, now).await?;
        self.audit_me("site_chosen", me, client, &site).await
    }

    /// Accounts waiting for `me` to approve them: all of them for staff, their site's for a
    /// Site Administrator.
    pub async fn pending_approvals(&self, me: &Me) -> Result<Vec<PendingUser>> {
        let site = match me.role {
            Role::Agent | Role::Operator => None,
            Role::SiteAdmin if me.is_active() => me.site_id,
            _ => return Err(AuthError::Forbidden),
        };
        let rows = db::users::in_state(self.db.pool(), "pending_activation", site).await?;
        let sites = db::sites::list(&mut *self.db.pool().acquire().await?).await?;
        Ok(rows
            .into_iter()
            .map(|u| PendingUser {
                site_name: sites
                    .iter()
                    .find(|s| Some(s.id) == u.site_id)
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                id: u.id,
                email: u.email,
                given_name: u.given_name,
                surname: u.surname,
                site_id: u.site_id,
                created_at: u.created_at,
            })
            .collect())
    }

    /// Activates or rejects a waiting account. The first account activated for a site becomes
    /// its Site Administrator.
    pub async fn decide_approval(
        &self,
        me: &Me,
        user_id: i64,
        approve: bool,
        client: &Client,
    ) -> Result<()> {
        if !me.is_active() {
            return Err(AuthError::Forbidden);
        }
        let target = db::users::by_id(self.db.pool(), user_id)
            .await?
            .ok_or(AuthError::NotFound)?;
        let allowed = me.is_staff()
            || (me.role == Role::SiteAdmin && me.site_id.is_some() && me.site_id == target.site_id);
        if !allowed {
            return Err(AuthError::NotFound);
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        // Approvals for one site queue on the site's row, so "is there a Site Administrator
        // yet?" is answered after the previous approval committed: two first users approved at
        // the same moment never both become Site Administrator.
        if let Some(site) = target.site_id {
            db::sites::lock(&mut *tx, site).await?;
        }
        let to = if approve { "active" } else { "rejected" };
        if !db::users::transition(&mut *tx, user_id, "pending_activation", to, now).await? {
            return Err(AuthError::Conflict(
                "This account is not waiting for activation any more.".into(),
            ));
        }
        let mut detail = String::from(to);
        if approve {
            if let Some(site) = target.site_id
                && !db::users::site_has_admin(&mut *tx, site).await?
            {
                db::users::set_role(&mut *tx, user_id, "site_admin", now).await?;
                detail.push_str(" as Site Administrator");
            }
            self.mailer
                .queue(
                    &mut tx,
                    &messages::account_activated(&target.email, &self.mailer.link("/login")),
                    now,
                )
                .await?;
        } else {
            self.mailer
                .queue(&mut tx, &messages::account_rejected(&target.email), now)
                .await?;
        }
        tx.commit().await?;
        self.mailer.wake();
        self.audit(
            if approve {
                "user_approved"
            } else {
                "user_rejected"
            },
            Some(&target),
            "",
            &me.email,
            client,
            &detail,
        )
        .await
    }
}
