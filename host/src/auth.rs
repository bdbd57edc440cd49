//! Accounts and sign-in: sign-up with email verification and the eligibility plugin, site
//! choice and activation, password login with emailed codes, password reset, invitations,
//! sessions, rate limits and the audit log. The HTTP pages and the JSON API both call this
//! module; neither holds any rule of its own.

pub mod limits;
pub mod password;
pub mod secret;

mod login;
mod people;
mod recovery;
mod signup;
mod sites;

pub use people::needs_names;
pub use sites::{MAX_ADDRESSES, MAX_DOMAINS, SiteInput};

use crate::clock::Clock;
use crate::db::{self, Db, DbError, users::UserRow};
use crate::domain::rules::{
    CandidateSite, EligibilityDecision, EligibilityRequest, MatchKind, PasswordContext,
    PasswordVerdict, Violation,
};
use crate::domain::text;
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
    /// Failed passwords on one account from one address before that address backs off,
    /// doubling from `backoff_base_ms`.
    pub failures_before_backoff: i64,
    /// Addresses with failed passwords on one account (within a day) from which its right
    /// password also needs the emailed code.
    pub code_after_failing_addresses: i64,
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
            code_after_failing_addresses: 2,
            backoff_base_ms: 30_000,
            backoff_max_ms: 15 * MINUTE,
        }
    }
}

/// Only an active operator may go on.
fn require_operator(me: &Me) -> Result<()> {
    if me.is_active() && me.role == Role::Operator {
        Ok(())
    } else {
        Err(AuthError::Forbidden)
    }
}

/// Who is asking, as far as the network tells.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

impl Client {
    /// What per-address limits count against: an IPv4 address, or the /64 an IPv6 address is
    /// in, since one subscriber is given a whole /64 and can pick any address in it.
    pub fn network(&self) -> String {
        match self.ip.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
                let prefix = u128::from(v6) & (u128::MAX << 64);
                format!("{}/64", std::net::Ipv6Addr::from(prefix))
            }
            Ok(std::net::IpAddr::V6(v6)) => v6
                .to_ipv4_mapped()
                .map_or_else(String::new, |v4| v4.to_string()),
            _ => self.ip.clone(),
        }
    }
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
    /// Input that does not have the documented form (400).
    #[error("{1}")]
    Invalid(&'static str, String),
    /// Well-formed input that a rule refuses: a site not eligible, a wrong current password,
    /// a site that does not exist (422).
    #[error("{1}")]
    Rule(&'static str, String),
    #[error("Please log in.")]
    Unauthenticated,
    #[error("You are not allowed to do that.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// Input refused at the boundary; the message names the field.
    #[error("{0}")]
    Input(#[from] text::Invalid),
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
    /// The portal language they chose (`en`, `de`); `None` follows the browser.
    pub language: Option<String>,
    /// The IANA time zone they chose; `None` follows the browser.
    pub time_zone: Option<String>,
    #[serde(skip)]
    token_hash: String,
}

impl Me {
    /// How this person is named in email and pages: given name and surname.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.surname)
    }

    /// The holder of an account acting by email, without a session: for a message whose sender
    /// the help desk has matched to them.
    pub fn by_email(user: UserRow) -> Option<Me> {
        Some(Me {
            id: user.id,
            role: Role::parse(&user.role)?,
            email: user.email,
            given_name: user.given_name,
            surname: user.surname,
            state: user.state,
            site_id: user.site_id,
            session_id: 0,
            stage: Stage::Full,
            language: user.language,
            time_zone: user.time_zone,
            token_hash: String::new(),
        })
    }

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
    /// The address may go on to the sign-up form (eligible, or to be reviewed by staff).
    pub eligible: bool,
    /// Staff review the sign-up before the account can be used.
    pub review: bool,
}

/// What a completed sign-up leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedUp {
    /// The person logs in and chooses their site.
    ChooseSite,
    /// Operators review the sign-up first; the person is emailed either way.
    Review,
}

/// A sign-up waiting for operators' review, with the eligibility plugin's reason.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewedSignup {
    pub id: i64,
    pub email: String,
    pub given_name: String,
    pub surname: String,
    pub reason: String,
    pub created_at: i64,
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
    /// argon2 work, one computation per core.
    pub argon: Arc<password::Workers>,
}

/// A valid email address (see [`text::EMAIL`]), lowercased: at most 254 characters, a
/// dot-atom, a domain of two labels or more, and one the mailer can send to (nothing accepted
/// here fails at delivery for its form). The only proof of an address is the link we send.
pub fn normalize_email(raw: &str) -> Result<String> {
    let invalid = |message: String| AuthError::Invalid("invalid_email", message);
    let email = text::required(&text::EMAIL, raw).map_err(|e| invalid(e.message))?;
    if email.parse::<lettre::Address>().is_err() {
        return Err(invalid(
            "Email address: enter an address like name@example.com.".into(),
        ));
    }
    Ok(email.to_lowercase())
}

/// A person's given name or surname: required, one line, at most 100 characters, no direction
/// controls.
fn name_field(field: &text::Field, raw: &str, code: &'static str) -> Result<String> {
    text::required(field, raw).map_err(|e| AuthError::Invalid(code, e.message))
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

    /// An operator's change outside the accounts (a plugin activated, rolled back, installed),
    /// for the audit log.
    pub async fn audit_operator(
        &self,
        me: &Me,
        client: &Client,
        event: &str,
        detail: &str,
    ) -> Result<()> {
        require_operator(me)?;
        self.audit_me(event, me, client, detail).await
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
                &format!("password-check:ip:{}", client.network()),
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
        text::check(&text::PASSWORD, password)?;
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
        self.argon(move |memory| hasher.hash(&pw, memory)).await
    }

    /// Runs argon2 work on one of the per-core workers (see [`password::Workers`]).
    async fn argon<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut password::Memory) -> T + Send + 'static,
    ) -> Result<T> {
        self.argon
            .run(f)
            .await
            .map_err(|e| AuthError::Db(DbError::Sqlx(sqlx::Error::Protocol(e))))
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

#[cfg(test)]
mod tests {
    use super::Client;

    #[test]
    fn per_address_limits_count_an_ipv6_slash_64_as_one_address() {
        let network = |ip: &str| {
            Client {
                ip: ip.into(),
                ..Client::default()
            }
            .network()
        };
        assert_eq!(network("203.0.113.7"), "203.0.113.7");
        assert_eq!(network("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(network("2001:db8:1:2:ffff:1:2:3"), "2001:db8:1:2::/64");
        assert_ne!(network("2001:db8:1:3::1"), network("2001:db8:1:2::1"));
        assert_eq!(network("::ffff:192.0.2.1"), "192.0.2.1");
        assert_eq!(network("not an address"), "not an address");
    }
}
