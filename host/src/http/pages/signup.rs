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
