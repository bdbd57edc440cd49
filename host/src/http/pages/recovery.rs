//! "Forgot your password?", invitation links, and changing a password.

use super::*;
use crate::auth::needs_names;
use crate::db::users::UserRow;

pub(super) fn router() -> Router<AppState> {
    Router::new()
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
}

// --- password reset, invitations, change ---

fn forgot_form(v: &Visit, error: Option<String>) -> EmailForm {
    EmailForm {
        layout: v.layout(&v.t("forgot-title")),
        heading: v.t("forgot-title"),
        intro: vec![v.t("forgot-intro")],
        error,
        action: "/forgot".into(),
        label: v.t("field-email"),
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
        Ok(()) => v.message(
            &v.t("check-email-title"),
            &[&v.t("reset-sent")],
            &[("/login", &v.t("login-title"))],
        ),
        Err(e) => match visible(&v, e) {
            Ok((msg, _)) => v.render(StatusCode::TOO_MANY_REQUESTS, forgot_form(&v, Some(msg))),
            Err(page) => page,
        },
    }
}

async fn reset_page(v: Visit, Path(token): Path<String>) -> Response {
    match v.state.accounts.reset_link_usable(&token).await {
        Ok(true) => match password_form(
            &v,
            &v.t("reset-title"),
            format!("/reset/{token}"),
            false,
            &v.t("submit"),
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
            &v.t("reset-title"),
            format!("/reset/{token}"),
            false,
            &v.t("submit"),
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
        Ok(user) => match invitation_form(&v, &token, &user).await {
            Ok(form) => v.render(StatusCode::OK, form),
            Err(r) => r,
        },
        Err(AuthError::InvalidLink) => invalid_link(&v),
        Err(e) => error_page(e),
    }
}

/// The page an invitation link opens: a welcome by name, and the password to choose. An
/// account without names asks for them too, since customers see them on every reply.
async fn invitation_form(v: &Visit, token: &str, user: &UserRow) -> Result<PasswordForm, Response> {
    let ask_names = needs_names(user);
    let mut form = password_form(
        v,
        &v.t("invitation-title"),
        format!("/invite/{token}"),
        ask_names,
        &v.t("invitation-submit"),
    )
    .await?;
    let greeting = if ask_names {
        v.t("welcome")
    } else {
        v.ta("dashboard-welcome", &[("name", (&user.given_name).into())])
    };
    form.intro = vec![format!(
        "{greeting} {}",
        v.ta("invitation-intro", &[("email", (&user.email).into())])
    )];
    form.given_name.clone_from(&user.given_name);
    form.surname.clone_from(&user.surname);
    Ok(form)
}

async fn accept_invitation(v: Visit, Path(token): Path<String>, f: Posted) -> Response {
    let user = match v.state.accounts.open_invitation(&token).await {
        Ok(user) => user,
        Err(AuthError::InvalidLink) => return invalid_link(&v),
        Err(e) => return error_page(e),
    };
    let names = needs_names(&user).then(|| (f.get("given_name"), f.get("surname")));
    match v
        .state
        .accounts
        .accept_invitation(
            &token,
            f.get("password"),
            f.get("confirm_password"),
            names,
            &v.client,
        )
        .await
    {
        Ok(()) => see_other("/login?notice=created"),
        Err(e) => match invitation_form(&v, &token, &user).await {
            Ok(form) => redo(&v, form, e, &f),
            Err(r) => r,
        },
    }
}

async fn change_password_page(v: Visit) -> Response {
    let Some(me) = v.me.as_ref().filter(|m| m.stage != Stage::Mfa) else {
        return see_other("/login?next=/password/change");
    };
    match password_form(
        &v,
        &v.t("change-password-title"),
        "/password/change".into(),
        false,
        &v.t("submit"),
    )
    .await
    {
        Ok(mut form) => {
            form.ask_current = me.stage == Stage::Full;
            if me.stage == Stage::PasswordChange {
                form.intro = vec![v.t("change-password-temporary")];
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
            &v.t("change-password-title"),
            "/password/change".into(),
            false,
            &v.t("submit"),
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
