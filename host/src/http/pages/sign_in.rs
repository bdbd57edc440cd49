//! The front page, logging in with the emailed code, logging out, and the sessions page.

use super::*;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/login/verify", get(mfa_page).post(verify_code))
        .route("/login/verify/send", post(send_code))
        .route("/logout", post(logout))
        .route("/sessions", get(sessions_page))
        .route("/sessions/end/{id}", post(end_session))
        .route("/sessions/end-all", post(end_all))
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
