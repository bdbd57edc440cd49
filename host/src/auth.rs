//! Accounts and sign-in: sign-up with email verification and the eligibility plugin, site
//! choice and activation, password login with emailed codes, password reset, invitations,
//! sessions, rate limits and the audit log. The HTTP pages and the JSON API both call this
//! module; neither holds any rule of its own.

pub mod limits;
pub mod password;
pub mod secret;

use crate::clock::Clock;
use crate::db::{self, Db, DbError, users::UserRow};
use crate::domain::rules::{
    CandidateSite, EligibilityDecision, EligibilityRequest, MatchKind, PasswordContext,
    PasswordVerdict, Violation,
};
use crate::mail::{Mailer, messages};
use crate::plugins::{PluginError, Plugins};
use limits::{Limit, Limiter};
use password::{Hasher, Verified};
use serde::Serialize;
use std::sync::Arc;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// When a login asks for an emailed code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MfaPolicy {
    Always,
    NewDevice,
    Never,
}

/// Account settings; the defaults are the product's.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub mfa: MfaPolicy,
    /// How long a device that passed the emailed code may skip it.
    pub mfa_trust_days: i64,
    /// A browser-session login ends after this much inactivity…
    pub session_idle_ms: i64,
    /// …or this long after it began, whichever comes first.
    pub session_absolute_ms: i64,
    /// "Stay logged in" keeps a session this long.
    pub persistent_ms: i64,
    pub limits: LimitConfig,
}

impl Default for AuthConfig {
    fn default() -> AuthConfig {
        AuthConfig {
            mfa: MfaPolicy::NewDevice,
            mfa_trust_days: 30,
            session_idle_ms: 2 * HOUR,
            session_absolute_ms: 12 * HOUR,
            persistent_ms: 30 * DAY,
            limits: LimitConfig::default(),
        }
    }
}

/// Rate limits, counted in the database so they hold across replicas.
#[derive(Debug, Clone)]
pub struct LimitConfig {
    pub login_per_ip: Limit,
    pub signup_per_ip: Limit,
    pub signup_per_email: Limit,
    pub reset_per_ip: Limit,
    pub reset_per_email: Limit,
    pub code_sends_per_account: Limit,
    pub code_checks_per_ip: Limit,
    /// Calls of the public password-check API, which runs a plugin per call.
    pub password_checks_per_ip: Limit,
    /// Failed passwords on one account before it backs off, doubling from `backoff_base_ms`.
    pub failures_before_backoff: i64,
    pub backoff_base_ms: i64,
    pub backoff_max_ms: i64,
}

impl Default for LimitConfig {
    fn default() -> LimitConfig {
        LimitConfig {
            login_per_ip: Limit::new(100, 15 * MINUTE),
            signup_per_ip: Limit::new(20, HOUR),
            signup_per_email: Limit::new(3, HOUR),
            reset_per_ip: Limit::new(20, HOUR),
            reset_per_email: Limit::new(3, HOUR),
            code_sends_per_account: Limit::new(10, 15 * MINUTE),
            code_checks_per_ip: Limit::new(30, 15 * MINUTE),
            password_checks_per_ip: Limit::new(300, MINUTE),
            failures_before_backoff: 5,
            backoff_base_ms: 30_000,
            backoff_max_ms: 15 * MINUTE,
        }
    }
}

/// Who is asking, as far as the network tells.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("The email address or password is incorrect.")]
    InvalidCredentials,
    #[error("Too many attempts. Try again in {retry_after_s} seconds.")]
    TooManyAttempts { retry_after_s: i64 },
    #[error("{1}")]
    AccountUnavailable(&'static str, &'static str),
    #[error("This link is invalid, has expired or has already been used. Ask for a new one.")]
    InvalidLink,
    #[error("That code is not correct. {attempts_left} attempt(s) left.")]
    WrongCode { attempts_left: i64 },
    #[error(
        "That code has expired or was replaced, or too many wrong codes were entered. Send a new verification code."
    )]
    CodeUnusable,
    #[error("The password does not meet the requirements.")]
    PasswordRejected(Vec<Violation>),
    #[error("{1}")]
    Invalid(&'static str, String),
    #[error("Please log in.")]
    Unauthenticated,
    #[error("You are not allowed to do that.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> AuthError {
        AuthError::Db(DbError::Sqlx(e))
    }
}

type Result<T, E = AuthError> = std::result::Result<T, E>;

/// Where a session stands: a password alone opens only the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The password was right; an emailed code is needed.
    Mfa,
    /// Signed in with a temporary password, which must be replaced first.
    PasswordChange,
    Full,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Stage::Mfa => "mfa",
            Stage::PasswordChange => "password_change",
            Stage::Full => "full",
        }
    }

    fn parse(s: &str) -> Option<Stage> {
        match s {
            "mfa" => Some(Stage::Mfa),
            "password_change" => Some(Stage::PasswordChange),
            "full" => Some(Stage::Full),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    SiteAdmin,
    Agent,
    Operator,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "customer" => Some(Role::Customer),
            "site_admin" => Some(Role::SiteAdmin),
            "agent" => Some(Role::Agent),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::SiteAdmin => "site_admin",
            Role::Agent => "agent",
            Role::Operator => "operator",
        }
    }

    pub fn is_staff(self) -> bool {
        matches!(self, Role::Agent | Role::Operator)
    }
}

/// A signed-in person, as every authenticated action sees them.
#[derive(Debug, Clone, Serialize)]
pub struct Me {
    pub id: i64,
    pub email: String,
    pub given_name: String,
    pub surname: String,
    pub role: Role,
    pub state: String,
    pub site_id: Option<i64>,
    pub session_id: i64,
    pub stage: Stage,
    #[serde(skip)]
    token_hash: String,
}

impl Me {
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }
    /// Fully signed in with an active account (not still choosing a site).
    pub fn is_active(&self) -> bool {
        self.stage == Stage::Full && self.state == "active"
    }
}

/// What a correct password (or code) leads to.
#[derive(Debug, Clone, Serialize)]
pub struct SignedIn {
    /// The session secret: a cookie for pages, a bearer token for the API.
    #[serde(skip)]
    pub token: String,
    pub stage: Stage,
    pub persistent: bool,
    /// When the session ends at the latest, Unix ms.
    pub expires_at: i64,
    /// Set when a device was remembered: present it at the next login to skip the code.
    #[serde(skip)]
    pub device_token: Option<String>,
}

/// The outcome of opening a sign-up link.
#[derive(Debug, Clone, Serialize)]
pub struct SignupLink {
    pub email: String,
    pub eligible: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    pub id: i64,
    pub current: bool,
    pub persistent: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub user_agent: String,
    pub ip: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PendingUser {
    pub id: i64,
    pub email: String,
    pub given_name: String,
    pub surname: String,
    pub site_id: Option<i64>,
    pub site_name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum InviteMode {
    /// A single-use sign-in link where the user chooses a password.
    #[default]
    Link,
    /// A temporary password in the email, to be changed at first sign-in.
    TemporaryPassword,
}

#[derive(Debug, Clone)]
pub struct Invite {
    pub email: String,
    pub given_name: String,
    pub surname: String,
    pub site_id: Option<i64>,
    pub mode: InviteMode,
}

/// Everything the account flows need.
#[derive(Debug, Clone)]
pub struct Accounts {
    pub db: Db,
    pub plugins: Arc<Plugins>,
    pub mailer: Mailer,
    pub clock: Arc<dyn Clock>,
    pub hasher: Arc<Hasher>,
    pub config: Arc<AuthConfig>,
    /// One permit per core for argon2 work.
    pub argon_slots: Arc<tokio::sync::Semaphore>,
}

/// A syntactically plausible email address, lowercased; the only proof of an address is the
/// link we send to it.
pub fn normalize_email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    let invalid = || {
        AuthError::Invalid(
            "invalid_email",
            "Enter a valid email address, like name@example.com.".into(),
        )
    };
    if email.len() > 254
        || email.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        })
    {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return Err(invalid());
    }
    Ok(email)
}

fn name_field(raw: &str, code: &'static str, label: &str) -> Result<String> {
    let v = raw.trim();
    if v.is_empty() || v.chars().count() > 100 || v.chars().any(char::is_control) {
        return Err(AuthError::Invalid(
            code,
            format!("Enter your {label} (at most 100 characters)."),
        ));
    }
    Ok(v.to_owned())
}

/// Runs CPU-heavy work (argon2) off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        AuthError::Db(DbError::Sqlx(sqlx::Error::Protocol(format!(
            "blocking task failed: {e}"
        ))))
    })
}

impl Accounts {
    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    fn limiter(&self) -> Limiter<'_> {
        Limiter::new(&self.db, self.now())
    }

    async fn audit(
        &self,
        event: &str,
        user: Option<&UserRow>,
        email: &str,
        actor: &str,
        client: &Client,
        detail: &str,
    ) -> Result<()> {
        db::audit::record(
            self.db.pool(),
            &db::audit::Entry {
                event,
                user_id: user.map(|u| u.id),
                email: user.map(|u| u.email.as_str()).unwrap_or(email),
                actor,
                ip: &client.ip,
                detail,
            },
            self.now(),
        )
        .await?;
        Ok(())
    }

    /// An event the signed-in user caused; `Me` already names the account.
    async fn audit_me(&self, event: &str, me: &Me, client: &Client, detail: &str) -> Result<()> {
        let entry = db::audit::Entry {
            event,
            user_id: Some(me.id),
            email: &me.email,
            actor: "user",
            ip: &client.ip,
            detail,
        };
        db::audit::record(self.db.pool(), &entry, self.now()).await?;
        Ok(())
    }

    /// Counts a call of the public password check from `client`.
    pub async fn limit_password_check(&self, client: &Client) -> Result<()> {
        self.limiter()
            .hit(
                &format!("password-check:ip:{}", client.ip),
                self.config.limits.password_checks_per_ip,
            )
            .await
    }

    /// The active password plugin's sentence for forms.
    pub async fn password_requirements(&self) -> Result<String> {
        let plugins = self.plugins.clone();
        Ok(blocking(move || plugins.password_requirements())
            .await??
            .value)
    }

    /// Checks a new password against the active policy plugin and its confirmation.
    async fn check_new_password(
        &self,
        password: &str,
        confirm: &str,
        ctx: PasswordContext,
    ) -> Result<()> {
        if password.len() > 4096 {
            return Err(AuthError::Invalid(
                "password_too_long",
                "Passwords are at most 4096 bytes.".into(),
            ));
        }
        let plugins = self.plugins.clone();
        let pw = password.to_owned();
        let verdict = blocking(move || plugins.check_password(&pw, &ctx))
            .await??
            .value;
        let mut violations = match verdict {
            PasswordVerdict::Accepted => Vec::new(),
            PasswordVerdict::Rejected(v) => v,
        };
        if password != confirm {
            violations.push(Violation {
                code: "confirmation-mismatch".into(),
                message: "The confirmation does not match the new password.".into(),
            });
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(AuthError::PasswordRejected(violations))
        }
    }

    async fn hash(&self, password: &str) -> Result<String> {
        let hasher = self.hasher.clone();
        let pw = password.to_owned();
        self.argon(move || hasher.hash(&pw)).await
    }

    /// Runs argon2 work with at most one computation per core: more at once only thrash the
    /// caches (each holds 19 MiB) and let a burst of logins claim unbounded memory.
    async fn argon<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let _slot = self
            .argon_slots
            .acquire()
            .await
            .map_err(|e| AuthError::Db(DbError::Sqlx(sqlx::Error::Protocol(e.to_string()))))?;
        blocking(f).await
    }

    // --- sign-up ---

    /// "Join now": sends a verification link, or, when the address already has an account, an
    /// email saying so. The answer is the same either way.
    pub async fn start_signup(&self, raw_email: &str, client: &Client) -> Result<()> {
        let email = normalize_email(raw_email)?;
        let l = &self.config.limits;
        self.limiter()
            .hit(&format!("signup:ip:{}", client.ip), l.signup_per_ip)
            .await?;
        self.limiter()
            .hit(&format!("signup:email:{email}"), l.signup_per_email)
            .await?;
        let now = self.now();
        let existing = db::users::by_email(self.db.pool(), &email).await?;
        let mut tx = self.db.pool().begin().await?;
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
        let domain = email
            .rsplit_once('@')
            .map(|(_, d)| d)
            .unwrap_or_default()
            .to_owned();
        let matched = db::sites::matching(self.db.pool(), email, &domain).await?;
        let request = EligibilityRequest {
            email: email.to_owned(),
            domain,
            today: self.clock.today(),
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
        let plugins = self.plugins.clone();
        let decision = blocking(move || plugins.decide_eligibility(&request))
            .await??
            .value;
        Ok((matched, decision))
    }

    /// Opens a sign-up link (without using it up) and says whether the address may join.
    pub async fn open_signup_link(&self, token: &str) -> Result<SignupLink> {
        let row = db::tokens::usable(self.db.pool(), &secret::hash(token), "signup", self.now())
            .await?
            .ok_or(AuthError::InvalidLink)?;
        let (_, decision) = self.eligibility(&row.email).await?;
        Ok(SignupLink {
            email: row.email,
            eligible: matches!(decision, EligibilityDecision::Eligible(_)),
        })
    }

    /// "Create": the account exists from here on, waiting for its site to be chosen.
    pub async fn complete_signup(
        &self,
        token: &str,
        password: &str,
        confirm: &str,
        given_name: &str,
        surname: &str,
        client: &Client,
    ) -> Result<()> {
        let now = self.now();
        let row = db::tokens::usable(self.db.pool(), &secret::hash(token), "signup", now)
            .await?
            .ok_or(AuthError::InvalidLink)?;
        let given_name = name_field(given_name, "invalid_given_name", "given name")?;
        let surname = name_field(surname, "invalid_surname", "surname")?;
        let (_, decision) = self.eligibility(&row.email).await?;
        if !matches!(decision, EligibilityDecision::Eligible(_)) {
            return Err(AuthError::AccountUnavailable("not_eligible", NOT_ELIGIBLE));
        }
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
        let mut tx = self.db.pool().begin().await?;
        if !db::tokens::consume(&mut *tx, row.id, now).await? {
            return Err(AuthError::InvalidLink);
        }
        let user = db::users::NewUser {
            email: &row.email,
            given_name: &given_name,
            surname: &surname,
            password_hash: Some(&hash),
            role: "customer",
            state: "choosing_site",
            site_id: None,
            must_change_password: false,
        };
        let Some(id) = db::users::insert(&mut *tx, &user, now).await? else {
            return Err(AuthError::Conflict(
                "This address already has an account: log in instead.".into(),
            ));
        };
        tx.commit().await?;
        let user = db::users::by_id(self.db.pool(), id).await?;
        self.audit(
            "signup_completed",
            user.as_ref(),
            &row.email,
            "visitor",
            client,
            "",
        )
        .await
    }

    // --- login ---

    /// Email and password. Unknown accounts cost the same argon2 work as known ones, and both
    /// get the same answer.
    pub async fn login(
        &self,
        raw_email: &str,
        password: &str,
        stay: bool,
        device_token: Option<&str>,
        client: &Client,
    ) -> Result<SignedIn> {
        let l = &self.config.limits;
        self.limiter()
            .hit(&format!("login:ip:{}", client.ip), l.login_per_ip)
            .await?;
        let email = raw_email.trim().to_lowercase();
        let fail_key = format!("login-fail:{email}");
        let had_failures = self.limiter().check_backoff(&fail_key).await?;
        let user = if email.len() <= 254 {
            db::users::by_email(self.db.pool(), &email).await?
        } else {
            None
        };
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let hasher = self.hasher.clone();
        let pw = password.to_owned();
        let verified = if password.len() > 4096 {
            Verified::Wrong
        } else {
            self.argon(move || hasher.verify(&pw, stored.as_deref()))
                .await?
        };
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
            "pending_activation" => {
                self.audit(
                    "login_refused",
                    Some(&user),
                    &email,
                    "visitor",
                    client,
                    "awaiting activation",
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
        let stage = match self.config.mfa {
            MfaPolicy::Always => Stage::Mfa,
            MfaPolicy::NewDevice if !trusted => Stage::Mfa,
            _ if user.must_change_password == 1 => Stage::PasswordChange,
            _ => Stage::Full,
        };
        // One commit for the session, its audit entry and the reset failure count.
        let mut tx = self.db.pool().begin().await?;
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
            detail: stage.as_str(),
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
            token_hash: hash,
        }))
    }

    /// Rotates the session's secret and moves it to `stage`.
    async fn rotate(&self, me: &Me, stage: Stage) -> Result<SignedIn> {
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
        let mut tx = self.db.pool().begin().await?;
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
                &format!("code-check:ip:{}", client.ip),
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

    // --- site choice and activation ---

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
            return Err(AuthError::Invalid(
                "site_not_eligible",
                "Choose one of the listed sites.".into(),
            ));
        }
        let now = self.now();
        let mut tx = self.db.pool().begin().await?;
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
            approvers = db::users::active_with_role(&mut *tx, "operator", None).await?;
            approvers.extend(db::users::active_with_role(&mut *tx, "agent", None).await?);
        }
        let who = format!("{} {}", me.given_name, me.surname);
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
        let mut tx = self.db.pool().begin().await?;
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

    // --- password reset and change ---

    /// "Forgot your password?": the same answer whether or not the address has an account.
    pub async fn request_reset(&self, raw_email: &str, client: &Client) -> Result<()> {
        let l = &self.config.limits;
        self.limiter()
            .hit(&format!("reset:ip:{}", client.ip), l.reset_per_ip)
            .await?;
        let Ok(email) = normalize_email(raw_email) else {
            return Ok(());
        };
        self.limiter()
            .hit(&format!("reset:email:{email}"), l.reset_per_email)
            .await?;
        let user = db::users::by_email(self.db.pool(), &email).await?;
        let Some(user) = user.filter(|u| {
            matches!(
                u.state.as_str(),
                "active" | "choosing_site" | "pending_activation"
            )
        }) else {
            return self
                .audit(
                    "reset_requested",
                    None,
                    &email,
                    "visitor",
                    client,
                    "no resettable account",
                )
                .await;
        };
        let now = self.now();
        let (token, hash) = secret::new_token();
        let mut tx = self.db.pool().begin().await?;
        db::tokens::retire(&mut *tx, user.id, "reset", now).await?;
        db::tokens::insert(
            &mut *tx,
            &hash,
            "reset",
            &email,
            Some(user.id),
            now,
            now + HOUR,
        )
        .await?;
        self.mailer
            .queue(
                &mut tx,
                &messages::password_reset(&email, &self.mailer.link(&format!("/reset/{token}"))),
                now,
            )
            .await?;
        tx.commit().await?;
        self.mailer.wake();
        self.audit(
            "reset_requested",
            Some(&user),
            &email,
            "visitor",
            client,
            "link sent",
        )
        .await
    }

    /// Whether a reset link can still be used, for the page that asks for the new password.
    pub async fn reset_link_usable(&self, token: &str) -> Result<bool> {
        Ok(
            db::tokens::usable(self.db.pool(), &secret::hash(token), "reset", self.now())
                .await?
                .is_some(),
        )
    }

    /// Sets the new password from a reset link and ends every session of the account.
    pub async fn complete_reset(
        &self,
        token: &str,
        password: &str,
        confirm: &str,
        client: &Client,
    ) -> Result<()> {
        let now = self.now();
        let row = db::tokens::usable(self.db.pool(), &secret::hash(token), "reset", now)
            .await?
            .ok_or(AuthError::InvalidLink)?;
        let user = db::users::by_id(self.db.pool(), row.user_id.unwrap_or(0))
            .await?
            .ok_or(AuthError::InvalidLink)?;
        if !matches!(
            user.state.as_str(),
            "active" | "choosing_site" | "pending_activation"
        ) {
            return Err(AuthError::InvalidLink);
        }
        self.check_new_password(password, confirm, context_of(&user))
            .await?;
        let hash = self.hash(password).await?;
        let mut tx = self.db.pool().begin().await?;
        if !db::tokens::consume(&mut *tx, row.id, now).await? {
            return Err(AuthError::InvalidLink);
        }
        db::users::set_password(&mut *tx, user.id, &hash, false, now).await?;
        db::sessions::revoke_all(&mut *tx, user.id, None, now).await?;
        tx.commit().await?;
        self.audit(
            "password_reset",
            Some(&user),
            "",
            "user",
            client,
            "all sessions ended",
        )
        .await
    }

    /// Replaces the password of the signed-in user (required after a temporary password);
    /// other sessions end, this one continues with a new secret.
    pub async fn change_password(
        &self,
        me: &Me,
        current: Option<&str>,
        password: &str,
        confirm: &str,
        client: &Client,
    ) -> Result<SignedIn> {
        let user = db::users::by_id(self.db.pool(), me.id)
            .await?
            .ok_or(AuthError::Unauthenticated)?;
        match me.stage {
            Stage::PasswordChange => {}
            Stage::Full => {
                let hasher = self.hasher.clone();
                let cur = current.unwrap_or_default().to_owned();
                let stored = user.password_hash.clone();
                if self
                    .argon(move || hasher.verify(&cur, stored.as_deref()))
                    .await?
                    == Verified::Wrong
                {
                    return Err(AuthError::Invalid(
                        "wrong_current_password",
                        "The current password is not correct.".into(),
                    ));
                }
            }
            Stage::Mfa => return Err(AuthError::Forbidden),
        }
        self.check_new_password(password, confirm, context_of(&user))
            .await?;
        let hash = self.hash(password).await?;
        let now = self.now();
        let mut tx = self.db.pool().begin().await?;
        db::users::set_password(&mut *tx, me.id, &hash, false, now).await?;
        db::tokens::retire(&mut *tx, me.id, "invite", now).await?;
        db::sessions::revoke_all(&mut *tx, me.id, Some(me.session_id), now).await?;
        tx.commit().await?;
        let signed_in = self.rotate(me, Stage::Full).await?;
        self.audit("password_changed", Some(&user), "", "user", client, "")
            .await?;
        Ok(signed_in)
    }

    // --- invitations ---

    /// Invites someone: a Site Administrator to their own site, staff to any site (or, with no
    /// site, as a new agent by CLI). Returns the new user's id.
    pub async fn invite(&self, me: &Me, invite: &Invite, client: &Client) -> Result<i64> {
        let site_id = match me.role {
            Role::SiteAdmin if me.is_active() => me.site_id,
            Role::Agent | Role::Operator if me.is_active() => invite.site_id,
            _ => return Err(AuthError::Forbidden),
        };
        let Some(site_id) = site_id else {
            return Err(AuthError::Invalid(
                "site_required",
                "Choose the site the person is invited to.".into(),
            ));
        };
        let site = db::sites::name(self.db.pool(), site_id)
            .await?
            .ok_or(AuthError::Invalid(
                "unknown_site",
                "There is no such site.".into(),
            ))?;
        let email = normalize_email(&invite.email)?;
        let given_name = name_field(&invite.given_name, "invalid_given_name", "given name")?;
        let surname = name_field(&invite.surname, "invalid_surname", "surname")?;
        let now = self.now();
        let (temp, temp_hash) = match invite.mode {
            InviteMode::Link => (None, None),
            InviteMode::TemporaryPassword => {
                let t = temporary_password();
                let h = self.hash(&t).await?;
                (Some(t), Some(h))
            }
        };
        let mut tx = self.db.pool().begin().await?;
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
        let mut tx = self.db.pool().begin().await?;
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
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: &str,
        confirm: &str,
        client: &Client,
    ) -> Result<()> {
        let now = self.now();
        let row = db::tokens::usable(self.db.pool(), &secret::hash(token), "invite", now)
            .await?
            .ok_or(AuthError::InvalidLink)?;
        let user = self.open_invitation(token).await?;
        self.check_new_password(password, confirm, context_of(&user))
            .await?;
        let hash = self.hash(password).await?;
        let mut tx = self.db.pool().begin().await?;
        if !db::tokens::consume(&mut *tx, row.id, now).await? {
            return Err(AuthError::InvalidLink);
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
        let now = self.now();
        let mut tx = self.db.pool().begin().await?;
        let new = db::users::NewUser {
            email: &email,
            given_name: given_name.trim(),
            surname: surname.trim(),
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

    // --- sessions ---

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
        let n = db::sessions::revoke_all(self.db.pool(), me.id, None, self.now()).await?;
        self.audit_me("signed_out_everywhere", me, client, &n.to_string())
            .await?;
        Ok(n)
    }

    // --- operators ---

    /// Changes a user's role (operators only).
    pub async fn set_role(&self, me: &Me, user_id: i64, role: Role, client: &Client) -> Result<()> {
        if !(me.is_active() && me.role == Role::Operator) {
            return Err(AuthError::Forbidden);
        }
        let user = db::users::by_id(self.db.pool(), user_id)
            .await?
            .ok_or(AuthError::NotFound)?;
        if matches!(role, Role::Customer | Role::SiteAdmin) && user.site_id.is_none() {
            return Err(AuthError::Invalid(
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
        let mut tx = self.db.pool().begin().await?;
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
        limit: i64,
    ) -> Result<Vec<db::audit::AuditRow>> {
        if !(me.is_active() && me.role == Role::Operator) {
            return Err(AuthError::Forbidden);
        }
        Ok(db::audit::recent(self.db.pool(), before, limit.clamp(1, 500)).await?)
    }
}

const MAX_CODE_ATTEMPTS: i64 = 5;

pub const NOT_ELIGIBLE: &str = "We could not match this address to a customer with an active maintenance contract. Please contact your local representative.";
pub const AWAITING: &str = "Your account is waiting for activation. Your Site Administrator, or your local representative if you are the first person from your company, will activate it.";
pub const DISABLED: &str =
    "This account cannot sign in. Contact your Site Administrator or your local representative.";
pub const TEMP_EXPIRED: &str =
    "Your temporary password has expired. Ask for the invitation to be sent again.";

fn context_of(user: &UserRow) -> PasswordContext {
    PasswordContext {
        email: user.email.clone(),
        given_name: user.given_name.clone(),
        surname: user.surname.clone(),
    }
}

/// A temporary password that passes any reasonable policy: mixed case, digits and a symbol.
fn temporary_password() -> String {
    let (t, _) = secret::new_token();
    format!("Tmp-{}{}9", &t[..6], t[6..10].to_uppercase())
}

// --- sites (operators, and the CLI) ---

/// A site as an operator types it, before checks.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct SiteInput {
    pub name: String,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub addresses: Vec<String>,
    /// `YYYY-MM-DD`; absent or empty for no contract.
    #[serde(default)]
    pub maintenance_until: Option<String>,
    #[serde(default)]
    pub licences: i64,
}

impl SiteInput {
    /// Checks and normalises the fields; the error names the field.
    pub fn validate(&self) -> Result<db::sites::SiteFields> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AuthError::Invalid(
                "invalid_name",
                "A site needs a name of at most 200 characters.".into(),
            ));
        }
        let mut domains = Vec::new();
        for d in &self.domains {
            let d = d.trim().trim_start_matches('@').to_lowercase();
            let ok = !d.is_empty()
                && d.len() <= 253
                && d.contains('.')
                && d.split('.').all(|l| {
                    !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            if !ok {
                return Err(AuthError::Invalid(
                    "invalid_domain",
                    format!("`{d}` is not a domain like example.com."),
                ));
            }
            if !domains.contains(&d) {
                domains.push(d);
            }
        }
        let mut addresses = Vec::new();
        for a in &self.addresses {
            let a = normalize_email(a).map_err(|_| {
                AuthError::Invalid(
                    "invalid_address",
                    format!("`{}` is not an email address.", a.trim()),
                )
            })?;
            if !addresses.contains(&a) {
                addresses.push(a);
            }
        }
        let maintenance_until = match self.maintenance_until.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => {
                time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                    .map_err(|_| {
                        AuthError::Invalid(
                            "invalid_maintenance_until",
                            format!("`{d}` is not a date like 2027-06-30."),
                        )
                    })?;
                Some(d.to_owned())
            }
        };
        if self.licences < 0 || self.licences > 1_000_000 {
            return Err(AuthError::Invalid(
                "invalid_licences",
                "Licences must be between 0 and 1000000.".into(),
            ));
        }
        Ok(db::sites::SiteFields {
            name: name.to_owned(),
            domains,
            addresses,
            maintenance_until,
            licences: self.licences,
        })
    }
}

impl Accounts {
    /// Creates (`id` = `None`) or replaces a site. `me` is `None` for the CLI.
    pub async fn save_site(
        &self,
        me: Option<&Me>,
        id: Option<i64>,
        input: &SiteInput,
    ) -> Result<i64> {
        if let Some(me) = me
            && !(me.is_active() && me.role == Role::Operator)
        {
            return Err(AuthError::Forbidden);
        }
        let fields = input.validate()?;
        if db::sites::name_taken(self.db.pool(), &fields.name, id.unwrap_or(0)).await? {
            return Err(AuthError::Conflict(format!(
                "A site named `{}` already exists.",
                fields.name
            )));
        }
        let mut tx = self.db.pool().begin().await?;
        let id = match id {
            None => db::sites::insert(&mut tx, &fields, self.now()).await?,
            Some(id) => {
                if !db::sites::update(&mut tx, id, &fields).await? {
                    return Err(AuthError::NotFound);
                }
                id
            }
        };
        tx.commit().await?;
        let actor = me.map(|m| m.email.as_str()).unwrap_or("cli");
        self.audit(
            "site_saved",
            None,
            "",
            actor,
            &Client::default(),
            &fields.name,
        )
        .await?;
        Ok(id)
    }

    pub async fn sites(&self, me: Option<&Me>) -> Result<Vec<db::sites::Site>> {
        if let Some(me) = me
            && !(me.is_active() && me.is_staff())
        {
            return Err(AuthError::Forbidden);
        }
        Ok(db::sites::list(&mut *self.db.pool().acquire().await?).await?)
    }

    /// People an operator (everyone) or a Site Administrator (their site) may see.
    pub async fn users(&self, me: &Me) -> Result<Vec<UserRow>> {
        let site = match me.role {
            Role::Operator | Role::Agent if me.is_active() => None,
            Role::SiteAdmin if me.is_active() => me.site_id,
            _ => return Err(AuthError::Forbidden),
        };
        if site.is_none() && !me.is_staff() {
            return Err(AuthError::Forbidden);
        }
        Ok(db::users::list(self.db.pool(), site).await?)
    }
}
