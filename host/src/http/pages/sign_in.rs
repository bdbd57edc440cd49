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
            v.layout(&v.t("portal-name")),
            &v.t("portal-name"),
            &[&v.t("home-intro")],
            &[("/login", &v.t("login-title")), ("/join", &v.t("join-now"))],
            false,
        ),
    )
}

#[derive(serde::Deserialize)]
struct NextQuery {
    next: Option<String>,
    notice: Option<String>,
}

fn notice_text(v: &Visit, key: Option<&str>) -> Option<String> {
    let key = match key? {
        "reset" => "notice-reset",
        "created" => "notice-created",
        "logged-out" => "notice-logged-out",
        "ended" => "notice-ended",
        _ => return None,
    };
    Some(v.t(key))
}

async fn login_page(
    v: Visit,
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Response {
    let page = LoginPage {
        layout: v.layout(&v.t("login-title")),
        error: None,
        notice: notice_text(&v, q.notice.as_deref()),
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
            let (msg, _) = match visible(&v, e) {
                Ok(m) => m,
                Err(page) => return page,
            };
            let page = LoginPage {
                layout: v.layout(&v.t("login-title")),
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
        layout: v.layout(&v.t("mfa-page-title")),
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
            Some(v.ta("mfa-sent", &[("email", (&me.email).into())])),
            StatusCode::OK,
        ),
        Err(e) => match visible(&v, e) {
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
                &v.t("verified-title"),
                &[&v.t("verified-text")],
                &[("/", &v.t("continue"))],
            );
            for c in v.session_cookies(&s) {
                res.headers_mut().append(SET_COOKIE, c);
            }
            res
        }
        Err(e) => match visible(&v, e) {
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
    let title = v.t("sessions-title");
    let mut page = TablePage::new(
        v.layout(&title),
        &title,
        &v.t("sessions-none"),
        vec![
            "col-signed-in",
            "col-last-active",
            "col-device",
            "col-address",
            "col-kind",
        ],
    );
    page.rows = sessions
        .into_iter()
        .map(|s| Row {
            id: s.id,
            label: v.ta("session-label", &[("id", s.id.into())]),
            href: None,
            cells: vec![
                v.when(s.created_at),
                v.when(s.last_seen_at),
                s.user_agent,
                s.ip,
                v.t(match (s.persistent, s.current) {
                    (true, true) => "session-persistent-current",
                    (true, false) => "session-persistent",
                    (false, true) => "session-browser-current",
                    (false, false) => "session-browser",
                }),
            ],
        })
        .collect();
    page.actions = vec![("/sessions/end".into(), String::new(), v.t("sign-out"))];
    page.forms = vec![FormSpec {
        action: "/sessions/end-all".into(),
        title: v.t("sessions-everywhere"),
        button: v.t("sign-out-everywhere"),
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
