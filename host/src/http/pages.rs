//! The portal's pages, worded as the customer documentation words them. Browsers hold a session
//! cookie (HttpOnly, SameSite=Lax); every form that changes something carries a CSRF token that
//! must match the browser's CSRF cookie.

// Handlers answer with a page either way: an early `Err(Response)` is the redirect or error
// page itself, not an error value worth boxing.
#![allow(clippy::result_large_err)]

use super::AppState;
use super::accounts_api::{RESET_SENT, SIGNUP_SENT};
use super::session::{ClientInfo, cookie, set_cookie};
use crate::auth::{self, AuthError, Invite, InviteMode, Me, Role, SignedIn, SiteInput, Stage};
use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use std::collections::HashMap;

mod requests;

const SESSION: &str = "hd_session";
const CSRF: &str = "hd_csrf";
const DEVICE: &str = "hd_device";

pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .merge(requests::router(upload_limit))
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/login/verify", get(mfa_page).post(verify_code))
        .route("/login/verify/send", post(send_code))
        .route("/logout", post(logout))
        .route("/join", get(join_page).post(join))
        .route("/join/verify/{token}", get(email_validation))
        .route(
            "/join/create/{token}",
            get(signup_form).post(create_account),
        )
        .route("/choose-site", get(choose_site_page).post(choose_site))
        .route("/forgot", get(forgot_page).post(forgot))
        .route("/reset/{token}", get(reset_page).post(reset))
        .route(
            "/invite/{token}",
            get(invitation_page).post(accept_invitation),
        )
        .route(
            "/password/change",
            get(change_password_page).post(change_password),
        )
        .route("/sessions", get(sessions_page))
        .route("/sessions/end/{id}", post(end_session))
        .route("/sessions/end-all", post(end_all))
        .route("/approvals", get(approvals_page))
        .route("/approvals/{id}/approve", post(approve))
        .route("/approvals/{id}/reject", post(reject))
        .route("/invitations", get(invitations_page).post(invite))
        .route("/invitations/{id}/resend", post(resend_invitation))
        .route("/staff/sites", get(sites_page).post(create_site))
        .route("/staff/sites/{id}", get(edit_site_page).post(update_site))
        .route("/staff/audit", get(audit_page))
        .route("/staff/people", get(people_page))
        .route("/staff/people/role", post(change_role))
        .route("/staff/people/disable", post(disable_person))
}

// --- plumbing ---

/// One page view: who is signed in (if anyone), the CSRF token for its forms, the client.
struct Visit {
    state: AppState,
    me: Option<Me>,
    csrf: String,
    new_csrf: bool,
    client: auth::Client,
    device: Option<String>,
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Visit, Response> {
        let ClientInfo(client) = ClientInfo::from_request_parts(parts, state)
            .await
            .map_err(|e| match e {})?;
        let me = match cookie(&parts.headers, &state.web.cookie_name(SESSION)) {
            Some(token) => state
                .accounts
                .authenticate(token)
                .await
                .map_err(error_page)?,
            None => None,
        };
        let existing = cookie(&parts.headers, &state.web.cookie_name(CSRF))
            .filter(|c| c.len() == 64)
            .map(str::to_owned);
        let new_csrf = existing.is_none();
        let csrf = existing.unwrap_or_else(|| auth::secret::new_token().0);
        let device = cookie(&parts.headers, &state.web.cookie_name(DEVICE)).map(str::to_owned);
        Ok(Visit {
            state: state.clone(),
            me,
            csrf,
            new_csrf,
            client,
            device,
        })
    }
}

impl Visit {
    fn layout(&self, title: &str) -> Layout {
        let mut nav = Vec::new();
        if let Some(me) = self.me.as_ref().filter(|m| m.is_active()) {
            nav.push(("/dashboard".to_owned(), "Dashboard".to_owned()));
            if me.is_staff() {
                nav.push(("/requests".into(), "Queue".into()));
            } else {
                nav.push(("/requests".into(), "Requests".into()));
                nav.push(("/requests/new".into(), "New request".into()));
            }
            if me.is_staff() || me.role == Role::SiteAdmin {
                nav.push(("/approvals".into(), "Approvals".into()));
                nav.push(("/invitations".into(), "Invitations".into()));
            }
            if me.role == Role::Operator {
                nav.push(("/staff/sites".into(), "Sites".into()));
                nav.push(("/staff/people".into(), "People".into()));
                nav.push(("/staff/quick-links".into(), "Quick links".into()));
                nav.push(("/staff/statuses".into(), "Statuses".into()));
                nav.push(("/staff/audit".into(), "Audit log".into()));
            }
            nav.push(("/sessions".into(), "Sessions".into()));
        }
        Layout {
            title: title.to_owned(),
            signed_in: self
                .me
                .as_ref()
                .filter(|m| m.stage == Stage::Full)
                .map(|m| format!("{} {}", m.given_name, m.surname)),
            nav,
            csrf: self.csrf.clone(),
        }
    }

    fn render(&self, status: StatusCode, page: impl Template) -> Response {
        let mut res = match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                return error_page(AuthError::Db(crate::db::DbError::Sqlx(
                    sqlx::Error::Protocol(format!("template: {e}")),
                )));
            }
        };
        if self.new_csrf {
            res.headers_mut().append(
                SET_COOKIE,
                set_cookie(&self.state.web, CSRF, &self.csrf, None),
            );
        }
        res
    }

    fn message(&self, title: &str, paragraphs: &[&str], links: &[(&str, &str)]) -> Response {
        self.render(
            StatusCode::OK,
            MessagePage::new(self.layout(title), title, paragraphs, links, false),
        )
    }

    /// The signed-in, active user, or a redirect to the login page.
    fn require_active(&self, path: &str) -> Result<&Me, Response> {
        match &self.me {
            Some(me) if me.is_active() => Ok(me),
            Some(me) if me.stage == Stage::Mfa => Err(see_other("/login/verify")),
            Some(me) if me.stage == Stage::PasswordChange => Err(see_other("/password/change")),
            Some(me) if me.state == "choosing_site" => Err(see_other("/choose-site")),
            _ => Err(see_other(&format!("/login?next={}", encode(path)))),
        }
    }

    /// The cookies that hold a new session (and a remembered device, if any).
    fn session_cookies(&self, s: &SignedIn) -> Vec<HeaderValue> {
        let max_age = s
            .persistent
            .then(|| (s.expires_at - self.state.accounts.clock.now_ms()) / 1000);
        let mut cookies = vec![set_cookie(&self.state.web, SESSION, &s.token, max_age)];
        if let Some(device) = &s.device_token {
            let days = self.state.accounts.config.mfa_trust_days;
            cookies.push(set_cookie(
                &self.state.web,
                DEVICE,
                device,
                Some(days * 86_400),
            ));
        }
        cookies
    }

    /// After a successful password or code: set the session cookie and go to the next step.
    fn signed_in(&self, s: &SignedIn, next: &str) -> Response {
        let to = match s.stage {
            Stage::Mfa => "/login/verify",
            Stage::PasswordChange => "/password/change",
            Stage::Full => next,
        };
        let mut res = see_other(to);
        for c in self.session_cookies(s) {
            res.headers_mut().append(SET_COOKIE, c);
        }
        res
    }
}

struct Layout {
    title: String,
    signed_in: Option<String>,
    nav: Vec<(String, String)>,
    csrf: String,
}

/// A posted form whose CSRF token matched the browser's cookie.
struct Posted(HashMap<String, String>);

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Posted, Response> {
        let expected = cookie(req.headers(), &state.web.cookie_name(CSRF)).map(str::to_owned);
        let Form(fields) = Form::<HashMap<String, String>>::from_request(req, state)
            .await
            .map_err(|e| (StatusCode::BAD_REQUEST, e.body_text()).into_response())?;
        let given = fields.get("csrf").map(String::as_str).unwrap_or_default();
        match expected {
            Some(e) if !given.is_empty() && auth::secret::same(&e, given) => Ok(Posted(fields)),
            _ => Err(form_expired()),
        }
    }
}

/// The answer to a form whose CSRF token is missing or wrong.
fn form_expired() -> Response {
    (
        StatusCode::FORBIDDEN,
        Html("<!doctype html><title>Form expired</title><p>This form has expired or did not come from this site. Go back, reload the page and try again.</p>"),
    )
        .into_response()
}

impl Posted {
    fn get(&self, key: &str) -> &str {
        self.0.get(key).map(String::as_str).unwrap_or_default()
    }
    fn checked(&self, key: &str) -> bool {
        !self.get(key).is_empty()
    }
}

fn see_other(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    res.headers_mut().insert(
        LOCATION,
        HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static("/")),
    );
    res
}

/// Only paths on this site: `/x`, never `//host`, `/\host` or `https://…`.
pub fn local_path(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if ok { next } else { "/" }
}

fn encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An error that is not the visitor's: logged, and a plain apology shown.
fn error_page(e: AuthError) -> Response {
    let api = super::ApiError::from(e);
    let status = api.status;
    (
        status,
        Html(format!(
            "<!doctype html><title>Error</title><main><h1>Sorry</h1><p>{}</p></main>",
            html_escape(&api.message)
        )),
    )
        .into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Form errors shown in the page; anything else becomes an error page.
fn visible(e: AuthError) -> Result<(String, Vec<String>), Response> {
    match e {
        AuthError::PasswordRejected(v) => Ok((
            AuthError::PasswordRejected(Vec::new()).to_string(),
            v.into_iter().map(|v| v.message).collect(),
        )),
        AuthError::Plugin(_) | AuthError::Db(_) => Err(error_page(e)),
        other => Ok((other.to_string(), Vec::new())),
    }
}

// --- templates ---

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    layout: Layout,
    heading: String,
    paragraphs: Vec<String>,
    links: Vec<(String, String)>,
    warn: bool,
}

impl MessagePage {
    fn new(
        layout: Layout,
        heading: &str,
        paragraphs: &[&str],
        links: &[(&str, &str)],
        warn: bool,
    ) -> MessagePage {
        MessagePage {
            layout,
            heading: heading.to_owned(),
            paragraphs: paragraphs.iter().map(|p| (*p).to_owned()).collect(),
            links: links
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
            warn,
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    error: Option<String>,
    notice: Option<String>,
    email: String,
    next: String,
}

#[derive(Template)]
#[template(path = "email_form.html")]
struct EmailForm {
    layout: Layout,
    heading: String,
    intro: Vec<String>,
    error: Option<String>,
    action: String,
    label: String,
    email: String,
}

#[derive(Template)]
#[template(path = "password_form.html")]
struct PasswordForm {
    layout: Layout,
    heading: String,
    intro: Vec<String>,
    error: Option<String>,
    violations: Vec<String>,
    action: String,
    requirements: String,
    ask_current: bool,
    ask_names: bool,
    given_name: String,
    surname: String,
    button: String,
}

#[derive(Template)]
#[template(path = "mfa.html")]
struct MfaPage {
    layout: Layout,
    email: String,
    error: Option<String>,
    notice: Option<String>,
    sent: bool,
    trust_days: i64,
}

#[derive(Template)]
#[template(path = "choose_site.html")]
struct ChooseSitePage {
    layout: Layout,
    error: Option<String>,
    sites: Vec<(i64, String)>,
}

struct Row {
    id: i64,
    label: String,
    /// Where the first cell links to, if anywhere.
    href: Option<String>,
    cells: Vec<String>,
}

struct Field {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
    required: bool,
    hint: &'static str,
    options: Vec<(String, String)>,
}

impl Field {
    fn new(name: &'static str, label: &'static str, kind: &'static str, required: bool) -> Field {
        Field {
            name,
            label,
            kind,
            value: String::new(),
            required,
            hint: "",
            options: Vec::new(),
        }
    }
}

struct FormSpec {
    action: String,
    title: String,
    button: String,
    fields: Vec<Field>,
}

#[derive(Template)]
#[template(path = "table.html")]
struct TablePage {
    layout: Layout,
    heading: String,
    error: Option<String>,
    notice: Option<String>,
    empty: String,
    columns: Vec<&'static str>,
    rows: Vec<Row>,
    /// (path prefix, path suffix, button label): each posts to `prefix/<row id>suffix`.
    actions: Vec<(String, String, String)>,
    forms: Vec<FormSpec>,
}

impl TablePage {
    fn new(layout: Layout, heading: &str, empty: &str, columns: Vec<&'static str>) -> TablePage {
        TablePage {
            layout,
            heading: heading.to_owned(),
            error: None,
            notice: None,
            empty: empty.to_owned(),
            columns,
            rows: Vec::new(),
            actions: Vec::new(),
            forms: Vec::new(),
        }
    }
}

fn when(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} UTC",
                t.year(),
                t.month() as u8,
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_default()
}

// --- home and login ---

async fn home(v: Visit) -> Response {
    if v.me.is_some() {
        return match v.require_active("/dashboard") {
            Ok(_) => see_other("/dashboard"),
            Err(redirect) => redirect,
        };
    }
    v.render(
        StatusCode::OK,
        MessagePage::new(
            v.layout("Customer Portal"),
            "Customer Portal",
            &["Track your support requests and talk to our team in one place."],
            &[("/login", "Log in"), ("/join", "Join now")],
            false,
        ),
    )
}

#[derive(serde::Deserialize)]
struct NextQuery {
    next: Option<String>,
    notice: Option<String>,
}

fn notice_text(key: Option<&str>) -> Option<String> {
    match key? {
        "reset" => Some("Your password has been changed. Log in with the new password.".into()),
        "created" => Some("Your account is ready. Log in with your new password.".into()),
        "logged-out" => Some("You have logged out.".into()),
        "ended" => Some("You have been signed out everywhere.".into()),
        _ => None,
    }
}

async fn login_page(
    v: Visit,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Response {
    let page = LoginPage {
        layout: v.layout("Log in"),
        error: None,
        notice: notice_text(q.notice.as_deref()),
        email: String::new(),
        next: local_path(q.next.as_deref().unwrap_or("/")).to_owned(),
    };
    v.render(StatusCode::OK, page)
}

async fn login(v: Visit, f: Posted) -> Response {
    let next = local_path(f.get("next")).to_owned();
    let a = &v.state.accounts;
    match a
        .login(
            f.get("email"),
            f.get("password"),
            f.checked("stay"),
            v.device.as_deref(),
            &v.client,
        )
        .await
    {
        Ok(s) => v.signed_in(&s, &next),
        Err(e) => {
            let status = match &e {
                AuthError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
                AuthError::InvalidCredentials => StatusCode::UNAUTHORIZED,
                _ => StatusCode::FORBIDDEN,
            };
            let (msg, _) = match visible(e) {
                Ok(m) => m,
                Err(page) => return page,
            };
            let page = LoginPage {
                layout: v.layout("Log in"),
                error: Some(msg),
                notice: None,
                email: f.get("email").to_owned(),
                next,
            };
            v.render(status, page)
        }
    }
}

fn mfa_me(v: &Visit) -> Result<&Me, Response> {
    match &v.me {
        Some(me) if me.stage == Stage::Mfa => Ok(me),
        Some(_) => Err(see_other("/dashboard")),
        None => Err(see_other("/login")),
    }
}

fn mfa_page_with(
    v: &Visit,
    me: &Me,
    sent: bool,
    error: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let page = MfaPage {
        layout: v.layout("Verify your email"),
        email: me.email.clone(),
        error,
        notice,
        sent,
        trust_days: v.state.accounts.config.mfa_trust_days,
    };
    v.render(status, page)
}

async fn mfa_page(v: Visit) -> Response {
    let me = match mfa_me(&v) {
        Ok(me) => me,
        Err(r) => return r,
    };
    mfa_page_with(&v, me, false, None, None, StatusCode::OK)
}

async fn send_code(v: Visit, _f: Posted) -> Response {
    let me = match mfa_me(&v) {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v.state.accounts.send_code(me, &v.client).await {
        Ok(()) => mfa_page_with(
            &v,
            me,
            true,
            None,
            Some(format!(
                "We have sent a verification code to {}. Check your junk folder if it does not arrive.",
                me.email
            )),
            StatusCode::OK,
        ),
        Err(e) => match visible(e) {
            Ok((msg, _)) => {
                mfa_page_with(&v, me, true, Some(msg), None, StatusCode::TOO_MANY_REQUESTS)
            }
            Err(page) => page,
        },
    }
}

async fn verify_code(v: Visit, f: Posted) -> Response {
    let me = match mfa_me(&v) {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v
        .state
        .accounts
        .verify_code(me, f.get("code"), f.checked("remember"), &v.client)
        .await
    {
        // A temporary password still has to be replaced.
        Ok(s) if s.stage != Stage::Full => v.signed_in(&s, "/"),
        Ok(s) => {
            // The seed's "verification message", then Continue to the dashboard.
            let mut res = v.message(
                "Email address verified",
                &["Thank you: your email address has been verified."],
                &[("/", "Continue")],
            );
            for c in v.session_cookies(&s) {
                res.headers_mut().append(SET_COOKIE, c);
            }
            res
        }
        Err(e) => match visible(e) {
            Ok((msg, _)) => mfa_page_with(&v, me, true, Some(msg), None, StatusCode::BAD_REQUEST),
            Err(page) => page,
        },
    }
}

async fn logout(v: Visit, _f: Posted) -> Response {
    if let Some(me) = &v.me
        && let Err(e) = v.state.accounts.logout(me, &v.client).await
    {
        return error_page(e);
    }
    let mut res = see_other("/login?notice=logged-out");
    res.headers_mut()
        .append(SET_COOKIE, set_cookie(&v.state.web, SESSION, "", Some(0)));
    res
}

// --- sign-up ---

fn join_form(v: &Visit, error: Option<String>, email: &str) -> EmailForm {
    EmailForm {
        layout: v.layout("Join now"),
        heading: "Join now".into(),
        intro: vec![
            "Enter your email address. We will send you a link to verify it and sign up.".into(),
        ],
        error,
        action: "/join".into(),
        label: "Email".into(),
        email: email.to_owned(),
    }
}

async fn join_page(v: Visit) -> Response {
    v.render(StatusCode::OK, join_form(&v, None, ""))
}

async fn join(v: Visit, f: Posted) -> Response {
    match v.state.accounts.start_signup(f.get("email"), &v.client).await {
        Ok(()) => v.message("Check your email", &[SIGNUP_SENT, "The link in it works once and for 24 hours. Check your junk folder if it does not arrive."], &[]),
        Err(e) => {
            let status = if matches!(e, AuthError::TooManyAttempts { .. }) { StatusCode::TOO_MANY_REQUESTS } else { StatusCode::BAD_REQUEST };
            match visible(e) {
                Ok((msg, _)) => v.render(status, join_form(&v, Some(msg), f.get("email"))),
                Err(page) => page,
            }
        }
    }
}

fn invalid_link(v: &Visit) -> Response {
    v.render(
        StatusCode::BAD_REQUEST,
        MessagePage::new(
            v.layout("Link not valid"),
            "This link cannot be used",
            &[&AuthError::InvalidLink.to_string()],
            &[("/", "Customer Portal")],
            true,
        ),
    )
}

async fn email_validation(v: Visit, Path(token): Path<String>) -> Response {
    match v.state.accounts.open_signup_link(&token).await {
        Ok(link) if link.eligible => v.message(
            "Email Validation",
            &[
                &format!("Thank you: {} is verified.", link.email),
                "Continue to choose your password and tell us your name.",
            ],
            &[(&format!("/join/create/{token}"), "Continue")],
        ),
        Ok(_) => v.render(
            StatusCode::OK,
            MessagePage::new(
                v.layout("Email Validation"),
                "Email Validation",
                &[auth::NOT_ELIGIBLE],
                &[],
                true,
            ),
        ),
        Err(AuthError::InvalidLink) => invalid_link(&v),
        Err(e) => error_page(e),
    }
}

async fn password_form(
    v: &Visit,
    heading: &str,
    action: String,
    ask_names: bool,
    button: &str,
) -> Result<PasswordForm, Response> {
    let requirements = v
        .state
        .accounts
        .password_requirements()
        .await
        .map_err(error_page)?;
    Ok(PasswordForm {
        layout: v.layout(heading),
        heading: heading.to_owned(),
        intro: Vec::new(),
        error: None,
        violations: Vec::new(),
        action,
        requirements,
        ask_current: false,
        ask_names,
        given_name: String::new(),
        surname: String::new(),
        button: button.to_owned(),
    })
}

/// Re-shows a password form with what went wrong, keeping the names typed.
fn redo(v: &Visit, mut form: PasswordForm, e: AuthError, f: &Posted) -> Response {
    match e {
        AuthError::InvalidLink => invalid_link(v),
        e => match visible(e) {
            Ok((msg, violations)) => {
                form.error = Some(msg);
                form.violations = violations;
                form.given_name = f.get("given_name").to_owned();
                form.surname = f.get("surname").to_owned();
                v.render(StatusCode::UNPROCESSABLE_ENTITY, form)
            }
            Err(page) => page,
        },
    }
}

async fn signup_form(v: Visit, Path(token): Path<String>) -> Response {
    match v.state.accounts.open_signup_link(&token).await {
        Ok(link) if link.eligible => match password_form(
            &v,
            "Sign up",
            format!("/join/create/{token}"),
            true,
            "Create",
        )
        .await
        {
            Ok(mut form) => {
                form.intro = vec![format!("Create your account for {}.", link.email)];
                v.render(StatusCode::OK, form)
            }
            Err(r) => r,
        },
        Ok(_) => v.render(
            StatusCode::OK,
            MessagePage::new(
                v.layout("Sign up"),
                "Sign up",
                &[auth::NOT_ELIGIBLE],
                &[],
                true,
            ),
        ),
        Err(AuthError::InvalidLink) => invalid_link(&v),
        Err(e) => error_page(e),
    }
}

async fn create_account(v: Visit, Path(token): Path<String>, f: Posted) -> Response {
    let result = v
        .state
        .accounts
        .complete_signup(
            &token,
            f.get("password"),
            f.get("confirm_password"),
            f.get("given_name"),
            f.get("surname"),
            &v.client,
        )
        .await;
    match result {
        Ok(()) => v.message(
            "Account created",
            &["Your account has been created. Log in to select your site."],
            &[("/login", "Continue")],
        ),
        Err(e) => match password_form(
            &v,
            "Sign up",
            format!("/join/create/{token}"),
            true,
            "Create",
        )
        .await
        {
            Ok(form) => redo(&v, form, e, &f),
            Err(r) => r,
        },
    }
}

// --- site choice ---

async fn choose_site_page(v: Visit) -> Response {
    let Some(me) =
        v.me.as_ref()
            .filter(|m| m.stage == Stage::Full && m.state == "choosing_site")
    else {
        return see_other("/");
    };
    match v.state.accounts.eligible_sites(me).await {
        Ok(sites) => v.render(
            StatusCode::OK,
            ChooseSitePage {
                layout: v.layout("Select your site"),
                error: None,
                sites,
            },
        ),
        Err(e) => error_page(e),
    }
}

async fn choose_site(v: Visit, f: Posted) -> Response {
    let Some(me) =
        v.me.as_ref()
            .filter(|m| m.stage == Stage::Full && m.state == "choosing_site")
    else {
        return see_other("/");
    };
    let site_id = f.get("site_id").parse::<i64>().unwrap_or(0);
    match v.state.accounts.choose_site(me, site_id, &v.client).await {
        Ok(()) => {
            let mut res = v.render(
                StatusCode::OK,
                MessagePage::new(
                    v.layout("Thank you"),
                    "Thank you",
                    &[
                        "Thank you for signing up to the Customer Portal.",
                        "If you are the first person in your company to sign up, contact your local representative and ask them to activate your account. By default you will be your company's Site Administrator.",
                        "If your company already has a Site Administrator, contact that person to ask them to activate your account. They have been sent an email.",
                        "We will email you when your account has been activated.",
                    ],
                    &[],
                    false,
                ),
            );
            res.headers_mut()
                .append(SET_COOKIE, set_cookie(&v.state.web, SESSION, "", Some(0)));
            res
        }
        Err(e) => match visible(e) {
            Ok((msg, _)) => {
                let sites = v
                    .state
                    .accounts
                    .eligible_sites(me)
                    .await
                    .unwrap_or_default();
                v.render(
                    StatusCode::BAD_REQUEST,
                    ChooseSitePage {
                        layout: v.layout("Select your site"),
                        error: Some(msg),
                        sites,
                    },
                )
            }
            Err(page) => page,
        },
    }
}

// --- password reset, invitations, change ---

fn forgot_form(v: &Visit, error: Option<String>) -> EmailForm {
    EmailForm {
        layout: v.layout("Forgot your password?"),
        heading: "Forgot your password?".into(),
        intro: vec!["Enter the email address of your account. We will send you a link to choose a new password.".into()],
        error,
        action: "/forgot".into(),
        label: "Email address".into(),
        email: String::new(),
    }
}

async fn forgot_page(v: Visit) -> Response {
    v.render(StatusCode::OK, forgot_form(&v, None))
}

async fn forgot(v: Visit, f: Posted) -> Response {
    match v
        .state
        .accounts
        .request_reset(f.get("email"), &v.client)
        .await
    {
        Ok(()) => v.message("Check your email", &[RESET_SENT], &[("/login", "Log in")]),
        Err(e) => match visible(e) {
            Ok((msg, _)) => v.render(StatusCode::TOO_MANY_REQUESTS, forgot_form(&v, Some(msg))),
            Err(page) => page,
        },
    }
}

async fn reset_page(v: Visit, Path(token): Path<String>) -> Response {
    match v.state.accounts.reset_link_usable(&token).await {
        Ok(true) => match password_form(
            &v,
            "Choose a new password",
            format!("/reset/{token}"),
            false,
            "Submit",
        )
        .await
        {
            Ok(form) => v.render(StatusCode::OK, form),
            Err(r) => r,
        },
        Ok(false) => invalid_link(&v),
        Err(e) => error_page(e),
    }
}

async fn reset(v: Visit, Path(token): Path<String>, f: Posted) -> Response {
    match v
        .state
        .accounts
        .complete_reset(
            &token,
            f.get("password"),
            f.get("confirm_password"),
            &v.client,
        )
        .await
    {
        Ok(()) => {
            let mut res = see_other("/login?notice=reset");
            res.headers_mut()
                .append(SET_COOKIE, set_cookie(&v.state.web, SESSION, "", Some(0)));
            res
        }
        Err(e) => match password_form(
            &v,
            "Choose a new password",
            format!("/reset/{token}"),
            false,
            "Submit",
        )
        .await
        {
            Ok(form) => redo(&v, form, e, &f),
            Err(r) => r,
        },
    }
}

async fn invitation_page(v: Visit, Path(token): Path<String>) -> Response {
    match v.state.accounts.open_invitation(&token).await {
        Ok(user) => {
            match password_form(&v, "Sign in", format!("/invite/{token}"), false, "Sign in").await {
                Ok(mut form) => {
                    form.intro = vec![format!(
                        "Welcome, {}. Choose the password for {}.",
                        user.given_name, user.email
                    )];
                    v.render(StatusCode::OK, form)
                }
                Err(r) => r,
            }
        }
        Err(AuthError::InvalidLink) => invalid_link(&v),
        Err(e) => error_page(e),
    }
}

async fn accept_invitation(v: Visit, Path(token): Path<String>, f: Posted) -> Response {
    match v
        .state
        .accounts
        .accept_invitation(
            &token,
            f.get("password"),
            f.get("confirm_password"),
            &v.client,
        )
        .await
    {
        Ok(()) => see_other("/login?notice=created"),
        Err(e) => {
            match password_form(&v, "Sign in", format!("/invite/{token}"), false, "Sign in").await {
                Ok(form) => redo(&v, form, e, &f),
                Err(r) => r,
            }
        }
    }
}

async fn change_password_page(v: Visit) -> Response {
    let Some(me) = v.me.as_ref().filter(|m| m.stage != Stage::Mfa) else {
        return see_other("/login?next=/password/change");
    };
    match password_form(
        &v,
        "Change your password",
        "/password/change".into(),
        false,
        "Submit",
    )
    .await
    {
        Ok(mut form) => {
            form.ask_current = me.stage == Stage::Full;
            if me.stage == Stage::PasswordChange {
                form.intro = vec!["You signed in with a temporary password. Choose your own password to continue.".into()];
            }
            v.render(StatusCode::OK, form)
        }
        Err(r) => r,
    }
}

async fn change_password(v: Visit, f: Posted) -> Response {
    let Some(me) = v.me.as_ref().filter(|m| m.stage != Stage::Mfa) else {
        return see_other("/login");
    };
    let current = Some(f.get("current_password")).filter(|c| !c.is_empty());
    match v
        .state
        .accounts
        .change_password(
            me,
            current,
            f.get("password"),
            f.get("confirm_password"),
            &v.client,
        )
        .await
    {
        Ok(s) => v.signed_in(&s, "/dashboard"),
        Err(e) => match password_form(
            &v,
            "Change your password",
            "/password/change".into(),
            false,
            "Submit",
        )
        .await
        {
            Ok(mut form) => {
                form.ask_current = me.stage == Stage::Full;
                redo(&v, form, e, &f)
            }
            Err(r) => r,
        },
    }
}

// --- sessions ---

async fn sessions_page(v: Visit) -> Response {
    let me = match v.require_active("/sessions") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let sessions = match v.state.accounts.sessions(me).await {
        Ok(s) => s,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout("Your sessions"),
        "Your sessions",
        "No sessions.",
        vec!["Signed in", "Last active", "Device", "Address", "Kind"],
    );
    page.rows = sessions
        .into_iter()
        .map(|s| Row {
            id: s.id,
            label: format!("session {}", s.id),
            href: None,
            cells: vec![
                when(s.created_at),
                when(s.last_seen_at),
                s.user_agent,
                s.ip,
                format!(
                    "{}{}",
                    if s.persistent {
                        "Stay logged in"
                    } else {
                        "Browser session"
                    },
                    if s.current { " (this one)" } else { "" }
                ),
            ],
        })
        .collect();
    page.actions = vec![("/sessions/end".into(), String::new(), "Sign out".into())];
    page.forms = vec![FormSpec {
        action: "/sessions/end-all".into(),
        title: "Everywhere".into(),
        button: "Sign out everywhere".into(),
        fields: Vec::new(),
    }];
    v.render(StatusCode::OK, page)
}

async fn end_session(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    let me = match v.require_active("/sessions") {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v.state.accounts.end_session(me, id, &v.client).await {
        Ok(()) if id == me.session_id => see_other("/login?notice=logged-out"),
        Ok(()) | Err(AuthError::NotFound) => see_other("/sessions"),
        Err(e) => error_page(e),
    }
}

async fn end_all(v: Visit, _f: Posted) -> Response {
    let me = match v.require_active("/sessions") {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v.state.accounts.end_all_sessions(me, &v.client).await {
        Ok(_) => {
            let mut res = see_other("/login?notice=ended");
            res.headers_mut()
                .append(SET_COOKIE, set_cookie(&v.state.web, SESSION, "", Some(0)));
            res
        }
        Err(e) => error_page(e),
    }
}

// --- approvals and invitations ---

async fn approvals_page(v: Visit) -> Response {
    let me = match v.require_active("/approvals") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let pending = match v.state.accounts.pending_approvals(me).await {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout("Approve a New User Account"),
        "Approve a New User Account",
        "Nobody is waiting for activation.",
        vec!["Name", "Email", "Site", "Signed up"],
    );
    page.rows = pending
        .into_iter()
        .map(|p| Row {
            id: p.id,
            label: p.email.clone(),
            href: None,
            cells: vec![
                format!("{} {}", p.given_name, p.surname),
                p.email,
                p.site_name,
                when(p.created_at),
            ],
        })
        .collect();
    page.actions = vec![
        ("/approvals".into(), "/approve".into(), "Approve".into()),
        ("/approvals".into(), "/reject".into(), "Reject".into()),
    ];
    v.render(StatusCode::OK, page)
}

async fn decide(v: Visit, id: i64, approve: bool) -> Response {
    let me = match v.require_active("/approvals") {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v
        .state
        .accounts
        .decide_approval(me, id, approve, &v.client)
        .await
    {
        Ok(()) | Err(AuthError::Conflict(_)) => see_other("/approvals"),
        Err(e) => error_page(e),
    }
}

async fn approve(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    decide(v, id, true).await
}

async fn reject(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    decide(v, id, false).await
}

async fn invitations_view(
    v: &Visit,
    me: &Me,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let users = match v.state.accounts.users(me).await {
        Ok(u) => u,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout("Invitations"),
        "Invitations",
        "No invitations are waiting.",
        vec!["Name", "Email", "State"],
    );
    page.error = error;
    page.notice = notice;
    page.rows = users
        .into_iter()
        .filter(|u| u.state == "invited" || u.must_change_password == 1)
        .map(|u| Row {
            id: u.id,
            label: u.email.clone(),
            href: None,
            cells: vec![
                format!("{} {}", u.given_name, u.surname),
                u.email,
                "Invited".into(),
            ],
        })
        .collect();
    page.actions = vec![("/invitations".into(), "/resend".into(), "Resend".into())];
    let mut fields = vec![
        Field::new("email", "Email address", "email", true),
        Field::new("given_name", "Given name", "text", true),
        Field::new("surname", "Surname", "text", true),
    ];
    if me.is_staff() {
        let mut site = Field::new("site_id", "Site", "select", true);
        site.options = v
            .state
            .accounts
            .sites(Some(me))
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|s| (s.id.to_string(), s.name))
            .collect();
        fields.push(site);
    }
    let mut mode = Field::new("mode", "Welcome email", "select", true);
    mode.options = vec![
        ("link".into(), "A sign-in link".into()),
        ("temporary_password".into(), "A temporary password".into()),
    ];
    fields.push(mode);
    page.forms = vec![FormSpec {
        action: "/invitations".into(),
        title: "Invite someone".into(),
        button: "Invite".into(),
        fields,
    }];
    v.render(
        if page.error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        page,
    )
}

async fn invitations_page(v: Visit) -> Response {
    let me = match v.require_active("/invitations") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    invitations_view(&v, &me, None, None).await
}

async fn invite(v: Visit, f: Posted) -> Response {
    let me = match v.require_active("/invitations") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    let invite = Invite {
        email: f.get("email").to_owned(),
        given_name: f.get("given_name").to_owned(),
        surname: f.get("surname").to_owned(),
        site_id: f.get("site_id").parse().ok(),
        mode: if f.get("mode") == "temporary_password" {
            InviteMode::TemporaryPassword
        } else {
            InviteMode::Link
        },
    };
    match v.state.accounts.invite(&me, &invite, &v.client).await {
        Ok(_) => {
            invitations_view(
                &v,
                &me,
                None,
                Some(format!("Invitation sent to {}.", invite.email.trim())),
            )
            .await
        }
        Err(e) => match visible(e) {
            Ok((msg, _)) => invitations_view(&v, &me, Some(msg), None).await,
            Err(page) => page,
        },
    }
}

async fn resend_invitation(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    let me = match v.require_active("/invitations") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    match v.state.accounts.resend_invitation(&me, id, &v.client).await {
        Ok(()) => {
            invitations_view(
                &v,
                &me,
                None,
                Some("Invitation sent again; the earlier one no longer works.".into()),
            )
            .await
        }
        Err(e) => match visible(e) {
            Ok((msg, _)) => invitations_view(&v, &me, Some(msg), None).await,
            Err(page) => page,
        },
    }
}

// --- operators ---

async fn sites_view(
    v: &Visit,
    me: &Me,
    editing: Option<i64>,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let sites = match v.state.accounts.sites(Some(me)).await {
        Ok(s) => s,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout("Sites"),
        "Sites",
        "No sites yet.",
        vec![
            "Name",
            "Domains",
            "Addresses",
            "Maintenance until",
            "Licences",
        ],
    );
    page.error = error;
    page.notice = notice;
    let edited = editing.and_then(|id| sites.iter().find(|s| s.id == id).cloned());
    page.forms = vec![match &edited {
        Some(site) => site_form(
            format!("/staff/sites/{}", site.id),
            format!("Edit {}", site.name),
            "Save site",
            Some(site),
        ),
        None => site_form("/staff/sites".into(), "Add a site".into(), "Add site", None),
    }];
    page.rows = sites
        .into_iter()
        .map(|s| Row {
            id: s.id,
            label: s.name.clone(),
            href: Some(format!("/staff/sites/{}", s.id)),
            cells: vec![
                s.name,
                s.domains.join(", "),
                s.addresses.join(", "),
                s.maintenance_until.unwrap_or_else(|| "none".into()),
                s.licences.to_string(),
            ],
        })
        .collect();
    let status = if page.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    v.render(status, page)
}

/// The form that adds a site, or edits `site` with its current values filled in.
fn site_form(
    action: String,
    title: String,
    button: &str,
    site: Option<&crate::db::sites::Site>,
) -> FormSpec {
    let mut name = Field::new("name", "Name", "text", true);
    let mut domains = Field::new("domains", "Email domains", "text", false);
    domains.hint = "Separated by commas, e.g. example.com, example.co.uk";
    let mut addresses = Field::new("addresses", "Individual addresses", "text", false);
    addresses.hint = "For people on generic domains such as gmail.com; separated by commas.";
    let mut until = Field::new("maintenance_until", "Maintenance until", "date", false);
    let mut licences = Field::new("licences", "Active licences", "number", true);
    licences.value = "0".into();
    if let Some(s) = site {
        name.value = s.name.clone();
        domains.value = s.domains.join(", ");
        addresses.value = s.addresses.join(", ");
        until.value = s.maintenance_until.clone().unwrap_or_default();
        licences.value = s.licences.to_string();
    }
    FormSpec {
        action,
        title,
        button: button.to_owned(),
        fields: vec![name, domains, addresses, until, licences],
    }
}

async fn sites_page(v: Visit) -> Response {
    let me = match v.require_active("/staff/sites") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    sites_view(&v, &me, None, None, None).await
}

async fn edit_site_page(v: Visit, Path(id): Path<i64>) -> Response {
    let me = match v.require_active("/staff/sites") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    sites_view(&v, &me, Some(id), None, None).await
}

fn list(raw: &str) -> Vec<String> {
    raw.split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn create_site(v: Visit, f: Posted) -> Response {
    save_site(v, None, f).await
}

async fn update_site(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
    save_site(v, Some(id), f).await
}

async fn save_site(v: Visit, id: Option<i64>, f: Posted) -> Response {
    let me = match v.require_active("/staff/sites") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    let Ok(licences) = f.get("licences").trim().parse::<i64>() else {
        let msg = "Active licences must be a whole number.".to_owned();
        return sites_view(&v, &me, id, Some(msg), None).await;
    };
    let input = SiteInput {
        name: f.get("name").to_owned(),
        domains: list(f.get("domains")),
        addresses: list(f.get("addresses")),
        maintenance_until: Some(f.get("maintenance_until").to_owned()),
        licences,
    };
    match v.state.accounts.save_site(Some(&me), id, &input).await {
        Ok(_) => {
            let done = if id.is_some() { "saved" } else { "added" };
            let notice = format!("Site {} {done}.", input.name.trim());
            sites_view(&v, &me, None, None, Some(notice)).await
        }
        Err(e) => match visible(e) {
            Ok((msg, _)) => sites_view(&v, &me, id, Some(msg), None).await,
            Err(page) => page,
        },
    }
}

async fn people_view(
    v: &Visit,
    me: &Me,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let (people, sites) = match (
        v.state.accounts.users(me).await,
        v.state.accounts.sites(Some(me)).await,
    ) {
        (Ok(p), Ok(s)) => (p, s),
        (Err(e), _) | (_, Err(e)) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout("People"),
        "People",
        "Nobody yet.",
        vec!["Name", "Email", "Role", "State", "Site"],
    );
    page.error = error;
    page.notice = notice;
    page.rows = people
        .into_iter()
        .map(|u| Row {
            id: u.id,
            label: u.email.clone(),
            href: None,
            cells: vec![
                format!("{} {}", u.given_name, u.surname),
                u.email,
                u.role,
                u.state,
                sites
                    .iter()
                    .find(|s| Some(s.id) == u.site_id)
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
            ],
        })
        .collect();
    let mut role = Field::new("role", "Role", "select", true);
    role.options = ["customer", "site_admin", "agent", "operator"]
        .iter()
        .map(|r| ((*r).to_owned(), (*r).replace('_', " ")))
        .collect();
    page.forms = vec![
        FormSpec {
            action: "/staff/people/role".into(),
            title: "Change a role".into(),
            button: "Change role".into(),
            fields: vec![Field::new("email", "Email address", "email", true), role],
        },
        FormSpec {
            action: "/staff/people/disable".into(),
            title: "Disable an account".into(),
            button: "Disable".into(),
            fields: vec![Field::new("email", "Email address", "email", true)],
        },
    ];
    let status = if page.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    v.render(status, page)
}

async fn people_page(v: Visit) -> Response {
    let me = match v.require_active("/staff/people") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    people_view(&v, &me, None, None).await
}

/// The person an operator's form names by email address.
async fn person(v: &Visit, me: &Me, email: &str) -> Result<i64, AuthError> {
    let email = email.trim().to_lowercase();
    v.state
        .accounts
        .users(me)
        .await?
        .into_iter()
        .find(|u| u.email == email)
        .map(|u| u.id)
        .ok_or(AuthError::Invalid(
            "unknown_person",
            format!("Nobody has the address {email}."),
        ))
}

async fn change_role(v: Visit, f: Posted) -> Response {
    let me = match v.require_active("/staff/people") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    let result = match (
        person(&v, &me, f.get("email")).await,
        Role::parse(f.get("role")),
    ) {
        (Ok(id), Some(role)) => v.state.accounts.set_role(&me, id, role, &v.client).await,
        (Err(e), _) => Err(e),
        (_, None) => Err(AuthError::Invalid("invalid_role", "Choose a role.".into())),
    };
    match result {
        Ok(()) => {
            people_view(
                &v,
                &me,
                None,
                Some(format!("Role of {} changed.", f.get("email").trim())),
            )
            .await
        }
        Err(e) => match visible(e) {
            Ok((msg, _)) => people_view(&v, &me, Some(msg), None).await,
            Err(page) => page,
        },
    }
}

async fn disable_person(v: Visit, f: Posted) -> Response {
    let me = match v.require_active("/staff/people") {
        Ok(me) => me.clone(),
        Err(r) => return r,
    };
    let result = match person(&v, &me, f.get("email")).await {
        Ok(id) => v.state.accounts.disable(&me, id, &v.client).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            people_view(
                &v,
                &me,
                None,
                Some(format!("{} can no longer sign in.", f.get("email").trim())),
            )
            .await
        }
        Err(e) => match visible(e) {
            Ok((msg, _)) => people_view(&v, &me, Some(msg), None).await,
            Err(page) => page,
        },
    }
}

async fn audit_page(v: Visit) -> Response {
    let me = match v.require_active("/staff/audit") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let events = match v.state.accounts.audit_log(me, None, 200).await {
        Ok(e) => e,
        Err(e) => return error_page(e),
    };
    let mut page = TablePage::new(
        v.layout("Audit log"),
        "Audit log",
        "No events yet.",
        vec!["When", "Event", "Account", "By", "Address", "Detail"],
    );
    page.rows = events
        .into_iter()
        .map(|e| Row {
            id: e.id,
            label: e.event.clone(),
            href: None,
            cells: vec![when(e.at), e.event, e.email, e.actor, e.ip, e.detail],
        })
        .collect();
    v.render(StatusCode::OK, page)
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn redirects_stay_on_this_site() {
        assert_eq!(local_path("/sessions"), "/sessions");
        assert_eq!(local_path("/dashboard?x=1"), "/dashboard?x=1");
        for evil in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "evil",
            "",
            "/\t/evil",
        ] {
            assert_eq!(local_path(evil), "/", "{evil:?}");
        }
    }
}
