//! Login: password (with back-off), emailed codes, remembered devices, sessions and their
//! stages, rotation, sign-out.

use super::*;

impl Accounts {
    /// Email and password. Unknown accounts cost the same argon2 work as known ones, and both
    /// get the same answer. Every attempt is counted by outcome (`helpdesk_logins_total`).
    pub async fn login(
        &self,
        raw_email: &str,
        password: &str,
        stay: bool,
        device_token: Option<&str>,
        client: &Client,
    ) -> Result<SignedIn> {
        let result = self
            .password_login(raw_email, password, stay, device_token, client)
            .await;
        let outcome = match &result {
            Ok(s) => match s.stage {
                Stage::Full => "signed_in",
                Stage::Mfa => "code_required",
                Stage::PasswordChange => "password_change",
            },
            Err(AuthError::InvalidCredentials) => "wrong_credentials",
            Err(AuthError::TooManyAttempts { .. }) => "limited",
            Err(AuthError::AccountUnavailable(..)) => "unavailable",
            Err(AuthError::Input(_) | AuthError::Invalid(..)) => "invalid",
            Err(_) => "error",
        };
        self.plugins.metrics().login(outcome);
        result
    }

    async fn password_login(
        &self,
        raw_email: &str,
        password: &str,
        stay: bool,
        device_token: Option<&str>,
        client: &Client,
    ) -> Result<SignedIn> {
        let l = &self.config.limits;
        self.limiter()
            .hit(&format!("login:ip:{}", client.network()), l.login_per_ip)
            .await?;
        // Malformed input says nothing about accounts: refuse it before it becomes a key or a
        // log line.
        let email = normalize_email(raw_email)?;
        text::check(&text::PASSWORD, password)?;
        if let Some(t) = device_token {
            text::check(&text::TOKEN, t)?;
        }
        // Back-off is per account *and* client: failures from elsewhere never lock the owner
        // out; they make the account ask for the emailed code instead (below).
        let fail_key = format!("login-fail:{email}|{}", client.network());
        let had_failures = self.limiter().check_backoff(&fail_key).await?;
        let user = db::users::by_email(self.db.pool(), &email).await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let hasher = self.hasher.clone();
        let pw = password.to_owned();
        let verified = self
            .argon(move |memory| hasher.verify(&pw, stored.as_deref(), memory))
            .await?;
        let user = match user {
            Some(u) if verified != Verified::Wrong => u,
            other => {
                self.limiter()
                    .failure(
                        &fail_key,
                        l.failures_before_backoff,
                        l.backoff_base_ms,
                        l.backoff_max_ms,
                    )
                    .await?;
                if let Some(u) = &other {
                    db::limits::login_failed(self.db.pool(), u.id, &client.network(), self.now())
                        .await?;
                }
                self.audit(
                    "login_failed",
                    other.as_ref(),
                    &email,
                    "visitor",
                    client,
                    "wrong email or password",
                )
                .await?;
                return Err(AuthError::InvalidCredentials);
            }
        };
        if verified == Verified::RightNeedsRehash {
            let new = self.hash(password).await?;
            if let Some(old) = &user.password_hash {
                db::users::upgrade_hash(self.db.pool(), user.id, old, &new).await?;
            }
        }
        match user.state.as_str() {
            "active" | "choosing_site" => {}
            "pending_activation" | "awaiting_review" => {
                self.audit(
                    "login_refused",
                    Some(&user),
                    &email,
                    "visitor",
                    client,
                    if user.state == "awaiting_review" {
                        "awaiting review"
                    } else {
                        "awaiting activation"
                    },
                )
                .await?;
                return Err(AuthError::AccountUnavailable(
                    "awaiting_activation",
                    AWAITING,
                ));
            }
            _ => {
                self.audit(
                    "login_refused",
                    Some(&user),
                    &email,
                    "visitor",
                    client,
                    &user.state,
                )
                .await?;
                return Err(AuthError::AccountUnavailable("account_disabled", DISABLED));
            }
        }
        let now = self.now();
        if user.must_change_password == 1
            && !db::tokens::has_usable(self.db.pool(), user.id, "invite", now).await?
        {
            self.audit(
                "login_refused",
                Some(&user),
                &email,
                "visitor",
                client,
                "temporary password expired",
            )
            .await?;
            return Err(AuthError::AccountUnavailable(
                "temporary_password_expired",
                TEMP_EXPIRED,
            ));
        }
        let trusted = match device_token {
            Some(t) => {
                db::sessions::is_trusted(self.db.pool(), &secret::hash(t), user.id, now).await?
            }
            None => false,
        };
        // Wrong passwords for this account from several addresses: someone else is guessing,
        // so the right password alone is not enough today, whatever the device or policy.
        let targeted = db::limits::failing_addresses(self.db.pool(), user.id, now - DAY).await?
            >= self.config.limits.code_after_failing_addresses;
        let stage = match self.config.mfa {
            _ if targeted => Stage::Mfa,
            MfaPolicy::Always => Stage::Mfa,
            MfaPolicy::NewDevice if !trusted => Stage::Mfa,
            _ if user.must_change_password == 1 => Stage::PasswordChange,
            _ => Stage::Full,
        };
        // One commit for the session, its audit entry and the reset failure counts.
        let mut tx = self.db.begin().await?;
        let signed_in = self
            .open_session(&mut tx, &user, stage, stay, client, now)
            .await?;
        if had_failures {
            db::limits::clear(&mut *tx, &fail_key).await?;
        }
        let event = if stage == Stage::Full {
            "login_succeeded"
        } else {
            "login_password_ok"
        };
        let entry = db::audit::Entry {
            event,
            user_id: Some(user.id),
            email: &user.email,
            actor: "user",
            ip: &client.ip,
            detail: if targeted {
                "mfa: code required after wrong passwords from several addresses"
            } else {
                stage.as_str()
            },
        };
        db::audit::record(&mut *tx, &entry, now).await?;
        tx.commit().await?;
        Ok(signed_in)
    }

    async fn open_session(
        &self,
        conn: &mut sqlx::AnyConnection,
        user: &UserRow,
        stage: Stage,
        stay: bool,
        client: &Client,
        now: i64,
    ) -> Result<SignedIn> {
        let (token, hash) = secret::new_token();
        let expires_at = match stage {
            // A half-finished login is short-lived.
            Stage::Mfa | Stage::PasswordChange => now + 15 * MINUTE,
            Stage::Full if stay => now + self.config.persistent_ms,
            Stage::Full => now + self.config.session_absolute_ms,
        };
        db::sessions::insert(
            conn,
            &db::sessions::NewSession {
                token_hash: &hash,
                user_id: user.id,
                stage: stage.as_str(),
                persistent: stay,
                expires_at,
                user_agent: &client.user_agent.chars().take(300).collect::<String>(),
                ip: &client.ip,
            },
            now,
        )
        .await?;
        Ok(SignedIn {
            token,
            stage,
            persistent: stay,
            expires_at,
            device_token: None,
        })
    }

    /// The signed-in person for a session secret, or `None` when it is unknown, ended, idle too
    /// long, or its account can no longer sign in.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Me>> {
        let now = self.now();
        let hash = secret::hash(token);
        let Some(s) = db::sessions::live(self.db.pool(), &hash, now).await? else {
            return Ok(None);
        };
        if s.persistent == 0 && now - s.last_seen_at > self.config.session_idle_ms {
            db::sessions::revoke(self.db.pool(), s.id, s.user_id, now).await?;
            return Ok(None);
        }
        let Some(user) = db::users::by_id(self.db.pool(), s.user_id).await? else {
            return Ok(None);
        };
        if !matches!(user.state.as_str(), "active" | "choosing_site") {
            db::sessions::revoke_all(self.db.pool(), user.id, None, now).await?;
            return Ok(None);
        }
        // Recording activity once a minute is enough for idle expiry and the sessions page.
        if now - s.last_seen_at > MINUTE {
            db::sessions::touch(self.db.pool(), s.id, now).await?;
        }
        let (Some(role), Some(stage)) = (Role::parse(&user.role), Stage::parse(&s.stage)) else {
            return Ok(None);
        };
        Ok(Some(Me {
            id: user.id,
            email: user.email,
            given_name: user.given_name,
            surname: user.surname,
            role,
            state: user.state,
            site_id: user.site_id,
            session_id: s.id,
            stage,
            language: user.language,
            time_zone: user.time_zone,
            token_hash: hash,
        }))
    }

    /// Rotates the session's secret and moves it to `stage`.
    pub(super) async fn rotate(&self, me: &Me, stage: Stage) -> Result<SignedIn> {
        let now = self.now();
        let sessions = db::sessions::of_user(self.db.pool(), me.id, now, 0).await?;
        let s = sessions
            .iter()
            .find(|s| s.id == me.session_id)
            .ok_or(AuthError::Unauthenticated)?;
        let mut expires_at = s.expires_at;
        if stage == Stage::Full && s.stage != "full" {
            // The short half-login window becomes a real session now.
            expires_at = now
                + if s.persistent == 1 {
                    self.config.persistent_ms
                } else {
                    self.config.session_absolute_ms
                };
        }
        let (token, hash) = secret::new_token();
        if !db::sessions::rotate(
            self.db.pool(),
            me.session_id,
            &me.token_hash,
            &hash,
            stage.as_str(),
            expires_at,
            now,
        )
        .await?
        {
            return Err(AuthError::Unauthenticated);
        }
        Ok(SignedIn {
            token,
            stage,
            persistent: s.persistent == 1,
            expires_at,
            device_token: None,
        })
    }

    /// "Send verification code": emails a fresh six-digit code; any earlier code stops working.
    pub async fn send_code(&self, me: &Me, client: &Client) -> Result<()> {
        if me.stage != Stage::Mfa {
            return Err(AuthError::Forbidden);
        }
        self.limiter()
            .hit(
                &format!("code-send:{}", me.id),
                self.config.limits.code_sends_per_account,
            )
            .await?;
        let now = self.now();
        let code = secret::new_code();
        let mut tx = self.db.begin().await?;
        db::sessions::replace_code(
            &mut tx,
            me.session_id,
            &secret::code_hash(me.session_id, &code),
            now,
            now + 10 * MINUTE,
        )
        .await?;
        self.mailer
            .queue(&mut tx, &messages::verification_code(&me.email, &code), now)
            .await?;
        tx.commit().await?;
        self.mailer.wake();
        self.audit_me("mfa_code_sent", me, client, "").await
    }

    /// "Verify code": at most five tries per code, ten minutes each; success rotates the
    /// session and may remember the device.
    pub async fn verify_code(
        &self,
        me: &Me,
        code: &str,
        remember_device: bool,
        client: &Client,
    ) -> Result<SignedIn> {
        if me.stage != Stage::Mfa {
            return Err(AuthError::Forbidden);
        }
        self.limiter()
            .hit(
                &format!("code-check:ip:{}", client.network()),
                self.config.limits.code_checks_per_ip,
            )
            .await?;
        let now = self.now();
        let user = db::users::by_id(self.db.pool(), me.id).await?;
        let Some(c) = db::sessions::attempt_code(self.db.pool(), me.session_id).await? else {
            return Err(AuthError::CodeUnusable);
        };
        if c.expires_at <= now || c.attempts >= MAX_CODE_ATTEMPTS {
            db::sessions::close_code(self.db.pool(), c.id, now).await?;
            return Err(AuthError::CodeUnusable);
        }
        let code = text::check(&text::CODE, code)?;
        let code = code.trim();
        if !secret::same(&secret::code_hash(me.session_id, code), &c.code_hash) {
            let left = MAX_CODE_ATTEMPTS - c.attempts - 1;
            if left == 0 {
                db::sessions::close_code(self.db.pool(), c.id, now).await?;
            }
            self.audit("mfa_failed", user.as_ref(), &me.email, "user", client, "")
                .await?;
            return Err(AuthError::WrongCode {
                attempts_left: left,
            });
        }
        if !db::sessions::close_code(self.db.pool(), c.id, now).await? {
            return Err(AuthError::CodeUnusable);
        }
        // The owner proved the address: failures others left on the account are done with.
        db::limits::forget_login_failures(self.db.pool(), me.id).await?;
        let must_change = user.as_ref().is_some_and(|u| u.must_change_password == 1);
        let mut signed_in = self
            .rotate(
                me,
                if must_change {
                    Stage::PasswordChange
                } else {
                    Stage::Full
                },
            )
            .await?;
        if remember_device {
            let (token, hash) = secret::new_token();
            db::sessions::trust_device(
                self.db.pool(),
                &hash,
                me.id,
                now,
                now + self.config.mfa_trust_days * DAY,
            )
            .await?;
            signed_in.device_token = Some(token);
        }
        self.audit(
            "mfa_verified",
            user.as_ref(),
            &me.email,
            "user",
            client,
            if remember_device {
                "device remembered"
            } else {
                ""
            },
        )
        .await?;
        Ok(signed_in)
    }

    pub async fn logout(&self, me: &Me, client: &Client) -> Result<()> {
        db::sessions::revoke(self.db.pool(), me.session_id, me.id, self.now()).await?;
        self.audit_me("logout", me, client, "").await
    }

    pub async fn sessions(&self, me: &Me) -> Result<Vec<SessionInfo>> {
        let now = self.now();
        Ok(db::sessions::of_user(
            self.db.pool(),
            me.id,
            now,
            now - self.config.session_idle_ms,
        )
        .await?
        .into_iter()
        .map(|s| SessionInfo {
            current: s.id == me.session_id,
            id: s.id,
            persistent: s.persistent == 1,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            user_agent: s.user_agent,
            ip: s.ip,
        })
        .collect())
    }

    pub async fn end_session(&self, me: &Me, session_id: i64, client: &Client) -> Result<()> {
        if !db::sessions::revoke(self.db.pool(), session_id, me.id, self.now()).await? {
            return Err(AuthError::NotFound);
        }
        self.audit_me("session_ended", me, client, &session_id.to_string())
            .await
    }

    /// "Sign out everywhere", this session included.
    pub async fn end_all_sessions(&self, me: &Me, client: &Client) -> Result<u64> {
        let mut tx = self.db.begin().await?;
        let n = db::sessions::revoke_all(&mut *tx, me.id, None, self.now()).await?;
        // A remembered device would otherwise skip the code at the next login.
        db::sessions::forget_devices(&mut *tx, me.id).await?;
        tx.commit().await?;
        self.audit_me("signed_out_everywhere", me, client, &n.to_string())
            .await?;
        Ok(n)
    }
}
