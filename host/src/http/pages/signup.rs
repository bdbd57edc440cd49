//! "Join now": the email, the verification link, the sign-up form, and the choice of a site at
//! first login.

use super::*;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/join", get(join_page).post(join))
        .route("/join/verify/{token}", get(email_validation))
        .route(
            "/join/create/{token}",
            get(signup_form).post(create_account),
        )
        .route("/choose-site", get(choose_site_page).post(choose_site))
}

// --- sign-up ---

fn join_form(v: &Visit, error: Option<String>, email: &str) -> EmailForm {
    EmailForm {
        layout: v.layout(&v.t("join-now")),
        heading: v.t("join-now"),
        intro: vec![v.t("join-intro")],
        error,
        action: "/join".into(),
        label: v.t("join-email"),
        email: email.to_owned(),
    }
}

async fn join_page(v: Visit) -> Response {
    v.render(StatusCode::OK, join_form(&v, None, ""))
}

async fn join(v: Visit, f: Posted) -> Response {
    match v
        .state
        .accounts
        .start_signup(f.get("email"), &v.client)
        .await
    {
        Ok(()) => v.message(
            &v.t("check-email-title"),
            &[&v.t("signup-sent"), &v.t("signup-sent-link")],
            &[],
        ),
        Err(e) => {
            let status = if matches!(e, AuthError::TooManyAttempts { .. }) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::BAD_REQUEST
            };
            match visible(&v, e) {
                Ok((msg, _)) => v.render(status, join_form(&v, Some(msg), f.get("email"))),
                Err(page) => page,
            }
        }
    }
}

async fn email_validation(v: Visit, Path(token): Path<String>) -> Response {
    match v.state.accounts.open_signup_link(&token).await {
        Ok(link) if link.eligible => v.message(
            &v.t("email-validation-title"),
            &[
                &v.ta("email-verified", &[("email", (&link.email).into())]),
                &v.t("email-verified-next"),
            ],
            &[(&format!("/join/create/{token}"), &v.t("continue"))],
        ),
        Ok(_) => v.render(
            StatusCode::OK,
            MessagePage::new(
                v.layout(&v.t("email-validation-title")),
                &v.t("email-validation-title"),
                &[&v.t("not-eligible")],
                &[],
                true,
            ),
        ),
        Err(AuthError::InvalidLink) => invalid_link(&v),
        Err(e) => error_page(e),
    }
}

async fn signup_form(v: Visit, Path(token): Path<String>) -> Response {
    match v.state.accounts.open_signup_link(&token).await {
        Ok(link) if link.eligible => match password_form(
            &v,
            &v.t("signup-title"),
            format!("/join/create/{token}"),
            true,
            &v.t("signup-create"),
        )
        .await
        {
            Ok(mut form) => {
                form.intro = vec![v.ta("signup-intro", &[("email", (&link.email).into())])];
                v.render(StatusCode::OK, form)
            }
            Err(r) => r,
        },
        Ok(_) => v.render(
            StatusCode::OK,
            MessagePage::new(
                v.layout(&v.t("signup-title")),
                &v.t("signup-title"),
                &[&v.t("not-eligible")],
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
        Ok(auth::SignedUp::ChooseSite) => v.message(
            &v.t("account-created-title"),
            &[&v.t("account-created-text")],
            &[("/login", &v.t("continue"))],
        ),
        Ok(auth::SignedUp::Review) => v.message(
            &v.t("account-review-title"),
            &[&v.t("account-review-text")],
            &[],
        ),
        Err(e) => match password_form(
            &v,
            &v.t("signup-title"),
            format!("/join/create/{token}"),
            true,
            &v.t("signup-create"),
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
                layout: v.layout(&v.t("choose-site-title")),
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
                    v.layout(&v.t("thank-you")),
                    &v.t("thank-you"),
                    &[
                        &v.t("site-chosen-1"),
                        &v.t("site-chosen-2"),
                        &v.t("site-chosen-3"),
                        &v.t("site-chosen-4"),
                    ],
                    &[],
                    false,
                ),
            );
            res.headers_mut()
                .append(SET_COOKIE, set_cookie(&v.state.web, SESSION, "", Some(0)));
            res
        }
        Err(e) => match visible(&v, e) {
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
                        layout: v.layout(&v.t("choose-site-title")),
                        error: Some(msg),
                        sites,
                    },
                )
            }
            Err(page) => page,
        },
    }
}
