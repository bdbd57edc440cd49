//! The portal's pages, worded as the customer documentation words them. Browsers hold a session
//! cookie (HttpOnly, SameSite=Lax); every form that changes something carries a CSRF token: one
//! derived from the session's secret when the browser has a session (so it is bound to that
//! session and new at every sign-in), else one matching the browser's CSRF cookie (the forms
//! that sign in and sign up).

// Handlers answer with a page either way: an early `Err(Response)` is the redirect or error
// page itself, not an error value worth boxing.
#![allow(clippy::result_large_err)]

use super::AppState;
use super::session::{ClientInfo, cookie, set_cookie};
use crate::auth::{self, AuthError, Invite, InviteMode, Me, Role, SignedIn, SiteInput, Stage};
use crate::i18n::{Arg, Lang, Tr};
use askama::Template;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use std::collections::HashMap;
use std::sync::Arc;

mod admin;
pub(crate) mod branding;
mod console;
mod preferences;
mod recovery;
mod requests;
mod sign_in;
mod signup;
mod words;

const SESSION: &str = "hd_session";
const CSRF: &str = "hd_csrf";
const DEVICE: &str = "hd_device";
/// The language a visitor picked in the footer, for pages before (and after) signing in.
const LANGUAGE: &str = crate::i18n::COOKIE;

/// The largest form a page posts, files aside.
const FORM_LIMIT: usize = 64 * 1024;

pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .merge(sign_in::router())
        .merge(signup::router())
        .merge(recovery::router())
        .merge(admin::router())
        .merge(console::router())
        .merge(preferences::router())
        .route("/assets/portal.js", get(script))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .merge(requests::router(upload_limit))
        .merge(branding::router())
}

/// The portal's one script: optional, first-party, small. Cached for a day; its address
/// carries the build, so a new release is fetched at once.
async fn script() -> Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../assets/portal.js"),
    )
        .into_response()
}

/// The address of [`script`], with the build in it.
const SCRIPT: &str = concat!("/assets/portal.js?v=", env!("CARGO_PKG_VERSION"));

// --- plumbing ---

/// One page view: who is signed in (if anyone), the CSRF token for its forms, the client.
struct Visit {
    state: AppState,
    me: Option<Me>,
    csrf: String,
    new_csrf: bool,
    client: auth::Client,
    device: Option<String>,
    /// The path asked for, to mark the current page in the navigation.
    path: String,
    brand: Arc<branding::Brand>,
    /// The reader's language: their preference, the footer's cookie, `Accept-Language`.
    tr: Tr,
    /// The reader's chosen time zone, if any; else times are shown in UTC and the portal's
    /// script shows them in the browser's zone.
    tz: Option<jiff::tz::TimeZone>,
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
        let existing = expected_csrf(&parts.headers, state);
        let new_csrf = existing.is_none();
        let csrf = existing.unwrap_or_else(|| auth::secret::new_token().0);
        let device = cookie(&parts.headers, &state.web.cookie_name(DEVICE)).map(str::to_owned);
        let lang = me
            .as_ref()
            .and_then(|m| m.language.as_deref())
            .and_then(Lang::parse)
            .unwrap_or_else(|| Lang::of_request(&parts.headers));
        let tz = me
            .as_ref()
            .and_then(|m| m.time_zone.as_deref())
            .and_then(|name| jiff::tz::TimeZone::get(name).ok());
        Ok(Visit {
            state: state.clone(),
            me,
            csrf,
            new_csrf,
            client,
            device,
            path: parts.uri.path().to_owned(),
            brand: state.brand.get(&state.db).await,
            tr: Tr::new(lang),
            tz,
        })
    }
}

impl Visit {
    fn layout(&self, title: &str) -> Layout {
        let mut nav = Vec::new();
        if let Some(me) = self.me.as_ref().filter(|m| m.is_active()) {
            nav.push(("/dashboard".to_owned(), self.t("nav-dashboard")));
            if me.is_staff() {
                nav.push(("/requests".into(), self.t("nav-queue")));
                nav.push(("/staff/replies".into(), self.t("nav-saved-replies")));
            } else {
                nav.push(("/requests".into(), self.t("nav-requests")));
                nav.push(("/requests/new".into(), self.t("nav-new-request")));
            }
            if me.is_staff() || me.role == Role::SiteAdmin {
                nav.push(("/approvals".into(), self.t("nav-approvals")));
                nav.push(("/invitations".into(), self.t("nav-invitations")));
            }
            if me.role == Role::Operator {
                nav.push(("/staff/sites".into(), self.t("nav-sites")));
                nav.push(("/staff/people".into(), self.t("nav-people")));
                nav.push(("/staff/quick-links".into(), self.t("nav-quick-links")));
                nav.push(("/staff/branding".into(), self.t("nav-branding")));
                nav.push(("/staff/statuses".into(), self.t("nav-statuses")));
                nav.push(("/staff/plugins".into(), self.t("nav-plugins")));
                nav.push(("/staff/decisions".into(), self.t("nav-decisions")));
                nav.push(("/staff/webhooks".into(), self.t("nav-webhooks")));
                nav.push(("/staff/audit".into(), self.t("nav-audit-log")));
                nav.push(("/staff/mail".into(), self.t("nav-mail")));
            }
            if !me.is_staff() {
                nav.push(("/notifications".into(), self.t("nav-notifications")));
            }
            nav.push(("/preferences".into(), self.t("nav-preferences")));
            nav.push(("/sessions".into(), self.t("nav-sessions")));
        }
        // The section the page belongs to: the longest link the path starts with.
        let current = nav
            .iter()
            .filter(|(href, _)| {
                self.path == *href
                    || (self.path.starts_with(href.as_str())
                        && self.path[href.len()..].starts_with('/'))
            })
            .map(|(href, _)| href.len())
            .max();
        let nav = nav
            .into_iter()
            .map(|(href, label)| {
                let here = Some(href.len()) == current && self.path.starts_with(href.as_str());
                NavLink { href, label, here }
            })
            .collect();
        Layout {
            t: self.tr,
            tz: self
                .tz
                .as_ref()
                .and_then(|tz| tz.iana_name())
                .unwrap_or_default()
                .to_owned(),
            path: self.path.clone(),
            script: SCRIPT,
            // The built-in name is the portal's own words; an operator's name is theirs.
            brand: if self.brand.name == branding::DEFAULT_NAME {
                self.t("portal-name")
            } else {
                self.brand.name.clone()
            },
            accent: self.brand.accent.clone(),
            logo: self.brand.logo,
            title: title.to_owned(),
            signed_in: self
                .me
                .as_ref()
                .filter(|m| m.stage == Stage::Full)
                .map(Me::full_name),
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
    /// The reader's language.
    t: Tr,
    /// The reader's chosen time zone (IANA name), or empty to follow the browser.
    tz: String,
    /// The page's path, for the language switch to come back to.
    path: String,
    /// The portal's script, by address.
    script: &'static str,
    /// The portal's name, accent colour and logo version.
    brand: String,
    accent: String,
    logo: Option<i64>,
    title: String,
    signed_in: Option<String>,
    nav: Vec<NavLink>,
    csrf: String,
}

struct NavLink {
    href: String,
    label: String,
    /// The page shown is this link's, or one under it (`aria-current`).
    here: bool,
}

/// The CSRF token a browser's forms must carry: derived from its session cookie when it has
/// one, else its CSRF cookie (none yet: a token is made and the cookie set with the page).
fn expected_csrf(headers: &axum::http::HeaderMap, state: &AppState) -> Option<String> {
    match cookie(headers, &state.web.cookie_name(SESSION)) {
        Some(session) => Some(auth::secret::csrf_of(session)),
        None => cookie(headers, &state.web.cookie_name(CSRF))
            .filter(|c| c.len() == 64)
            .map(str::to_owned),
    }
}

/// A posted form whose CSRF token is the one its browser's forms carry.
struct Posted(HashMap<String, String>);

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Posted, Response> {
        let expected = expected_csrf(req.headers(), state);
        let tr = Tr::new(Lang::of_request(req.headers()));
        let Form(fields) = Form::<HashMap<String, String>>::from_request(req, state)
            .await
            .map_err(|e| (e.status(), e.body_text()).into_response())?;
        if let Some(bad) =
            crate::domain::text::find_nul(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        {
            return Err(super::ApiError::from(bad).into_response());
        }
        let given = fields.get("csrf").map(String::as_str).unwrap_or_default();
        match expected {
            Some(e) if !given.is_empty() && auth::secret::same(&e, given) => Ok(Posted(fields)),
            _ => Err(form_expired(tr)),
        }
    }
}

/// The answer to a form whose CSRF token is missing or wrong.
/// Whether a multipart post carries this browser's CSRF token where it can be checked before
/// the body is read: in the address (`?csrf=`, the form's action) or in an `X-CSRF-Token`
/// header (from a script).
fn upload_csrf_matches(v: &Visit, req: &Request) -> bool {
    let given = req
        .headers()
        .get("x-csrf-token")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
                .find(|(k, _)| k == "csrf")
                .map(|(_, t)| t.into_owned())
        })
        .unwrap_or_default();
    !v.new_csrf && !given.is_empty() && auth::secret::same(&v.csrf, &given)
}

fn form_expired(tr: Tr) -> Response {
    (
        StatusCode::FORBIDDEN,
        Html(standalone_message(
            tr,
            &tr.get("form-expired-title"),
            &tr.get("form-expired"),
        )),
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
/// The error's status and message (and `Retry-After`), shown as a page by `error::uniform`.
fn error_page(e: AuthError) -> Response {
    super::ApiError::from(e).into_response()
}

/// Form errors shown in the page, in the reader's language; anything else (a refusal, a fault)
/// becomes an error page with the status the API gives it.
fn visible(v: &Visit, e: AuthError) -> Result<(String, Vec<String>), Response> {
    match e {
        AuthError::PasswordRejected(violations) => Ok((
            v.t("error-password_rejected"),
            violations
                .into_iter()
                .map(|x| {
                    v.tr.find(&format!("violation-{}", x.code))
                        .unwrap_or(x.message)
                })
                .collect(),
        )),
        AuthError::Forbidden
        | AuthError::NotFound
        | AuthError::Unauthenticated
        | AuthError::Plugin(_)
        | AuthError::Db(_) => Err(error_page(e)),
        other => Ok((v.error_words(&super::ApiError::from(other)), Vec::new())),
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

/// A page in the portal's own look for an error no page handler rendered (an unknown address,
/// a refused method), shown to someone whose session is not looked up.
pub fn standalone_message(tr: Tr, title: &str, message: &str) -> String {
    let layout = Layout {
        t: tr,
        tz: String::new(),
        path: String::new(),
        script: SCRIPT,
        brand: tr.get("portal-name"),
        accent: branding::DEFAULT_ACCENT.to_owned(),
        logo: None,
        title: title.to_owned(),
        signed_in: None,
        nav: Vec::new(),
        csrf: String::new(),
    };
    let (dashboard, login) = (tr.get("go-to-dashboard"), tr.get("login-title"));
    let links = [
        ("/dashboard", dashboard.as_str()),
        ("/login", login.as_str()),
    ];
    MessagePage::new(layout, title, &[message], &links, false)
        .render()
        .unwrap_or_else(|_| message.to_owned())
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

/// A field of a generated form. Its label and hint are message keys, shown in the reader's
/// language; its options are already worded.
struct Field {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
    required: bool,
    /// A message key, or empty for none.
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
    /// The headings, as message keys.
    columns: Vec<&'static str>,
    rows: Vec<Row>,
    /// (path prefix, path suffix, button label): each posts to `prefix/<row id>suffix`.
    actions: Vec<(String, String, String)>,
    forms: Vec<FormSpec>,
    /// A search box above the table, holding what was searched.
    search: Option<String>,
    /// The search box's label, as a message key.
    search_label: &'static str,
    /// Choices beside the search (selects whose `value` is the one chosen).
    filters: Vec<Field>,
    /// A link back to the list this page belongs to: (address, message key).
    back: Option<(&'static str, &'static str)>,
    /// The next page of the table.
    next: Option<String>,
    /// A link to a page of the same kind: (address, text).
    related: Option<(String, String)>,
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
            search: None,
            search_label: "search-name-email",
            filters: Vec::new(),
            back: None,
            next: None,
            related: None,
        }
    }
}

// --- password forms, shared by sign-up, reset, invitations and change ---

fn invalid_link(v: &Visit) -> Response {
    v.render(
        StatusCode::BAD_REQUEST,
        MessagePage::new(
            v.layout(&v.t("invalid-link-title")),
            &v.t("invalid-link-heading"),
            &[&v.t("error-invalid_link")],
            &[("/", &v.t("portal-name"))],
            true,
        ),
    )
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
        e => match visible(v, e) {
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
