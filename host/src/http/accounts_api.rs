//! The accounts JSON API: every sign-up, sign-in and administration flow of the pages, for
//! programs. Sessions are bearer tokens; see `/api/openapi.json`.

use super::extract::{Json, Path, Query};
use super::session::{Bearer, ClientInfo};
use super::{ApiError, AppState};
use crate::auth::{Invite, InviteMode, Me, Role, SignedIn, SiteInput, Stage};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/signup", post(start_signup))
        .route(
            "/api/v1/signup/{token}",
            get(open_signup).post(complete_signup),
        )
        .route("/api/v1/login", post(login))
        .route("/api/v1/login/code", post(send_code))
        .route("/api/v1/login/code/verify", post(verify_code))
        .route("/api/v1/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/preferences", put(set_preferences))
        .route("/api/v1/me/password", post(change_password))
        .route("/api/v1/me/sites", get(eligible_sites))
        .route("/api/v1/me/site", post(choose_site))
        .route("/api/v1/sessions", get(sessions))
        .route("/api/v1/sessions/{id}", axum::routing::delete(end_session))
        .route("/api/v1/sessions/end-all", post(end_all))
        .route("/api/v1/password-reset", post(request_reset))
        .route(
            "/api/v1/password-reset/{token}",
            get(open_reset).post(complete_reset),
        )
        .route("/api/v1/approvals", get(approvals))
        .route("/api/v1/approvals/{user_id}", post(decide))
        .route("/api/v1/signup-reviews", get(signup_reviews))
        .route("/api/v1/signup-reviews/{user_id}", post(decide_review))
        .route("/api/v1/invitations", post(invite))
        .route("/api/v1/invitations/{token}", get(open_invitation))
        .route(
            "/api/v1/invitations/{token}/accept",
            post(accept_invitation),
        )
        .route("/api/v1/users", get(users))
        .route(
            "/api/v1/users/{id}/resend-invitation",
            post(resend_invitation),
        )
        .route("/api/v1/users/{id}/role", post(set_role))
        .route("/api/v1/users/{id}/disable", post(disable))
        .route("/api/v1/sites", get(sites).post(create_site))
        .route("/api/v1/sites/{id}", put(update_site))
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/mail/undelivered", get(undelivered_mail))
        .route("/api/v1/mail/received", get(received_mail))
        .route("/api/v1/mail/bouncing/clear", post(clear_bouncing))
        .route(
            "/api/v1/mail/wording",
            get(mail_wording).put(set_mail_wording),
        )
        .layer(DefaultBodyLimit::max(64 * 1024))
}

type ApiResult<T> = Result<T, ApiError>;

/// The action needs a full session (password and, when asked, the emailed code).
pub(super) fn full(me: &Me) -> ApiResult<()> {
    match me.stage {
        Stage::Full => Ok(()),
        Stage::Mfa => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "verification_required",
            "Verify the emailed code first.",
        )),
        Stage::PasswordChange => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "password_change_required",
            "Choose a new password first.",
        )),
    }
}

fn accepted(message: &str) -> (StatusCode, Json<Value>) {
    (StatusCode::ACCEPTED, Json(json!({ "message": message })))
}

#[derive(Debug, Serialize)]
struct SessionAnswer {
    /// Send as `Authorization: Bearer <token>`.
    token: String,
    #[serde(flatten)]
    session: SignedIn,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_token: Option<String>,
}

impl From<SignedIn> for SessionAnswer {
    fn from(s: SignedIn) -> SessionAnswer {
        SessionAnswer {
            token: s.token.clone(),
            device_token: s.device_token.clone(),
            session: s,
        }
    }
}

// --- sign-up ---

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailBody {
    email: String,
}

pub const SIGNUP_SENT: &str =
    "Check your email: we have sent a message to that address with the next step.";

async fn start_signup(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Json(p): Json<EmailBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    s.accounts.start_signup(&p.email, &c).await?;
    Ok(accepted(SIGNUP_SENT))
}

async fn open_signup(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Json<Value>> {
    let link = s.accounts.open_signup_link(&token).await?;
    let requirements = s.accounts.password_requirements().await?;
    Ok(Json(
        json!({ "email": link.email, "eligible": link.eligible, "review": link.review, "password_requirements": requirements }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    password: String,
    confirm_password: String,
}

/// Accepting an invitation: the password, and the names when the account has none yet.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptInvitation {
    password: String,
    confirm_password: String,
    given_name: Option<String>,
    surname: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompleteSignup {
    password: String,
    confirm_password: String,
    given_name: String,
    surname: String,
}

async fn complete_signup(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Path(token): Path<String>,
    Json(p): Json<CompleteSignup>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let b = p;
    let done = s
        .accounts
        .complete_signup(
            &token,
            &b.password,
            &b.confirm_password,
            &b.given_name,
            &b.surname,
            &c,
        )
        .await?;
    let (review, message) = match done {
        crate::auth::SignedUp::ChooseSite => (
            false,
            "Your account has been created. Log in to choose your site.",
        ),
        crate::auth::SignedUp::Review => (
            true,
            "Your account has been created. Our staff will review your sign-up and email you when you can log in.",
        ),
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({ "message": message, "review": review })),
    ))
}

// --- login ---

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    email: String,
    password: String,
    #[serde(default)]
    stay_logged_in: bool,
    /// From an earlier `verify` with `remember_device`.
    #[serde(default)]
    device_token: Option<String>,
}

async fn login(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Json(p): Json<LoginBody>,
) -> ApiResult<Json<SessionAnswer>> {
    let b = p;
    let signed_in = s
        .accounts
        .login(
            &b.email,
            &b.password,
            b.stay_logged_in,
            b.device_token.as_deref(),
            &c,
        )
        .await?;
    Ok(Json(signed_in.into()))
}

async fn send_code(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Bearer(me): Bearer,
) -> ApiResult<(StatusCode, Json<Value>)> {
    s.accounts.send_code(&me, &c).await?;
    Ok(accepted(
        "A verification code is on its way to your email address. It is valid for 10 minutes.",
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    code: String,
    #[serde(default)]
    remember_device: bool,
}

async fn verify_code(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Bearer(me): Bearer,
    Json(p): Json<VerifyBody>,
) -> ApiResult<Json<SessionAnswer>> {
    let b = p;
    Ok(Json(
        s.accounts
            .verify_code(&me, &b.code, b.remember_device, &c)
            .await?
            .into(),
    ))
}

async fn logout(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Bearer(me): Bearer,
) -> ApiResult<StatusCode> {
    s.accounts.logout(&me, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(Bearer(me): Bearer) -> Json<Me> {
    Json(me)
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Preferences {
    language: Option<String>,
    time_zone: Option<String>,
}

async fn set_preferences(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    Json(body): Json<serde_json::Map<String, Value>>,
) -> Result<Json<Preferences>, ApiError> {
    // An object with both fields (null for the browser's): a struct would also read from an
    // array, and take a missing field as null.
    if let Some(missing) = ["language", "time_zone"]
        .into_iter()
        .find(|k| !body.contains_key(*k))
    {
        return Err(ApiError::bad_request(
            "invalid_json",
            format!("missing field `{missing}`"),
        ));
    }
    let p: Preferences = serde_json::from_value(Value::Object(body))
        .map_err(|e| ApiError::bad_request("invalid_json", e.to_string()))?;
    s.accounts
        .set_preferences(&me, p.language.as_deref(), p.time_zone.as_deref())
        .await?;
    Ok(Json(p))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangePassword {
    #[serde(default)]
    current_password: Option<String>,
    password: String,
    confirm_password: String,
}

async fn change_password(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Bearer(me): Bearer,
    Json(p): Json<ChangePassword>,
) -> ApiResult<Json<SessionAnswer>> {
    let b = p;
    let signed_in = s
        .accounts
        .change_password(
            &me,
            b.current_password.as_deref(),
            &b.password,
            &b.confirm_password,
            &c,
        )
        .await?;
    Ok(Json(signed_in.into()))
}

async fn eligible_sites(State(s): State<AppState>, Bearer(me): Bearer) -> ApiResult<Json<Value>> {
    full(&me)?;
    let sites: Vec<Value> = s
        .accounts
        .eligible_sites(&me)
        .await?
        .into_iter()
        .map(|(id, name)| json!({ "id": id, "name": name }))
        .collect();
    Ok(Json(json!({ "sites": sites })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChooseSite {
    site_id: i64,
}

async fn choose_site(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Bearer(me): Bearer,
    Json(p): Json<ChooseSite>,
) -> ApiResult<Json<Value>> {
    full(&me)?;
    s.accounts.choose_site(&me, p.site_id, &c).await?;
    Ok(Json(json!({ "message": crate::auth::AWAITING })))
}

// --- sessions ---

async fn sessions(State(s): State<AppState>, Bearer(me): Bearer) -> ApiResult<Json<Value>> {
    full(&me)?;
    Ok(Json(json!({ "sessions": s.accounts.sessions(&me).await? })))
}

async fn end_session(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Bearer(me): Bearer,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    full(&me)?;
    s.accounts.end_session(&me, id, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn end_all(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Bearer(me): Bearer,
) -> ApiResult<Json<Value>> {
    full(&me)?;
    let n = s.accounts.end_all_sessions(&me, &c).await?;
    Ok(Json(json!({ "ended": n })))
}

// --- password reset ---

pub const RESET_SENT: &str = "If that address has an account, we have sent it a link to choose a new password. The link works for one hour.";

async fn request_reset(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Json(p): Json<EmailBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    s.accounts.request_reset(&p.email, &c).await?;
    Ok(accepted(RESET_SENT))
}

async fn open_reset(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Json<Value>> {
    if !s.accounts.reset_link_usable(&token).await? {
        return Err(crate::auth::AuthError::InvalidLink.into());
    }
    Ok(Json(
        json!({ "usable": true, "password_requirements": s.accounts.password_requirements().await? }),
    ))
}

async fn complete_reset(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Path(token): Path<String>,
    Json(p): Json<NewPassword>,
) -> ApiResult<Json<Value>> {
    let b = p;
    s.accounts
        .complete_reset(&token, &b.password, &b.confirm_password, &c)
        .await?;
    Ok(Json(
        json!({ "message": "Your password has been changed and every session has ended. Log in with the new password." }),
    ))
}

// --- approvals and invitations ---

async fn approvals(State(s): State<AppState>, Bearer(me): Bearer) -> ApiResult<Json<Value>> {
    full(&me)?;
    Ok(Json(
        json!({ "pending": s.accounts.pending_approvals(&me).await? }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    approve: bool,
}

async fn decide(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Bearer(me): Bearer,
    Path(user_id): Path<i64>,
    Json(p): Json<Decision>,
) -> ApiResult<StatusCode> {
    full(&me)?;
    s.accounts
        .decide_approval(&me, user_id, p.approve, &c)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn signup_reviews(State(s): State<AppState>, Bearer(me): Bearer) -> ApiResult<Json<Value>> {
    full(&me)?;
    Ok(Json(
        json!({ "reviews": s.accounts.pending_reviews(&me).await? }),
    ))
}

/// An operator's decision on a reviewed sign-up: `site_id` to approve it for that site,
/// `approve: false` to refuse it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewDecision {
    approve: bool,
    #[serde(default)]
    site_id: Option<i64>,
}

async fn decide_review(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Bearer(me): Bearer,
    Path(user_id): Path<i64>,
    Json(p): Json<ReviewDecision>,
) -> ApiResult<StatusCode> {
    full(&me)?;
    let site = match (p.approve, p.site_id) {
        (true, Some(site)) => Some(site),
        (true, None) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "site_required",
                "Name the site the person joins: `site_id`.",
            )
            .with_field("site_id"));
        }
        (false, None) => None,
        (false, Some(_)) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "site_with_refusal",
                "A refused sign-up joins no site: leave out `site_id`.",
            )
            .with_field("site_id"));
        }
    };
    s.accounts.decide_review(&me, user_id, site, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    email: String,
    given_name: String,
    surname: String,
    #[serde(default)]
    site_id: Option<i64>,
    #[serde(default)]
    mode: InviteMode,
}

async fn invite(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Bearer(me): Bearer,
    Json(p): Json<InviteBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    full(&me)?;
    let b = p;
    let id = s
        .accounts
        .invite(
            &me,
            &Invite {
                email: b.email,
                given_name: b.given_name,
                surname: b.surname,
                site_id: b.site_id,
                mode: b.mode,
            },
            &c,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "user_id": id }))))
}

async fn resend_invitation(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Bearer(me): Bearer,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    full(&me)?;
    s.accounts.resend_invitation(&me, id, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn open_invitation(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Json<Value>> {
    let user = s.accounts.open_invitation(&token).await?;
    Ok(Json(
        json!({ "email": user.email, "given_name": user.given_name, "surname": user.surname, "password_requirements": s.accounts.password_requirements().await? }),
    ))
}

async fn accept_invitation(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Path(token): Path<String>,
    Json(b): Json<AcceptInvitation>,
) -> ApiResult<Json<Value>> {
    let names = match (&b.given_name, &b.surname) {
        (None, None) => None,
        (given, surname) => Some((
            given.as_deref().unwrap_or_default(),
            surname.as_deref().unwrap_or_default(),
        )),
    };
    s.accounts
        .accept_invitation(&token, &b.password, &b.confirm_password, names, &c)
        .await?;
    Ok(Json(
        json!({ "message": "Your account is ready. Log in with your new password." }),
    ))
}

// --- administration ---

#[derive(Debug, Serialize)]
struct UserView {
    id: i64,
    email: String,
    given_name: String,
    surname: String,
    role: String,
    state: String,
    site_id: Option<i64>,
}

async fn users(State(s): State<AppState>, Bearer(me): Bearer) -> ApiResult<Json<Value>> {
    full(&me)?;
    let users: Vec<UserView> = s
        .accounts
        .users(&me)
        .await?
        .into_iter()
        .map(|u| UserView {
            id: u.id,
            email: u.email,
            given_name: u.given_name,
            surname: u.surname,
            role: u.role,
            state: u.state,
            site_id: u.site_id,
        })
        .collect();
    Ok(Json(json!({ "users": users })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleBody {
    role: String,
}

async fn set_role(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Bearer(me): Bearer,
    Path(id): Path<i64>,
    Json(p): Json<RoleBody>,
) -> ApiResult<StatusCode> {
    full(&me)?;
    let raw = p.role;
    let role = Role::parse(&raw).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_role",
            format!("`{raw}` is not a role: customer, site_admin, agent or operator."),
        )
    })?;
    s.accounts.set_role(&me, id, role, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn disable(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Bearer(me): Bearer,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    full(&me)?;
    s.accounts.disable(&me, id, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn sites(State(s): State<AppState>, Bearer(me): Bearer) -> ApiResult<Json<Value>> {
    full(&me)?;
    Ok(Json(json!({ "sites": s.accounts.sites(Some(&me)).await? })))
}

async fn create_site(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    Json(p): Json<SiteInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    full(&me)?;
    let id = s.accounts.save_site(Some(&me), None, &p).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

async fn update_site(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    Path(id): Path<i64>,
    Json(p): Json<SiteInput>,
) -> ApiResult<StatusCode> {
    full(&me)?;
    s.accounts.save_site(Some(&me), Some(id), &p).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

async fn audit(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Value>> {
    full(&me)?;
    let limit = match q.limit {
        None => 100,
        Some(n @ 1..=500) => n,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "Query parameter `limit`: from 1 to 500.",
            )
            .with_field("limit"));
        }
    };
    Ok(Json(
        json!({ "events": s.accounts.audit_log(&me, q.before, "", "", limit).await? }),
    ))
}

async fn undelivered_mail(State(s): State<AppState>, Bearer(me): Bearer) -> ApiResult<Json<Value>> {
    full(&me)?;
    Ok(Json(
        json!({ "undelivered": s.accounts.undelivered_mail(&me).await? }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Address {
    email: String,
}

async fn clear_bouncing(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Bearer(me): Bearer,
    Json(p): Json<Address>,
) -> ApiResult<StatusCode> {
    full(&me)?;
    if s.accounts.clear_bouncing(&me, &p.email, &c).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "No account with that address is marked as bouncing.",
        ))
    }
}

async fn received_mail(State(s): State<AppState>, Bearer(me): Bearer) -> ApiResult<Json<Value>> {
    full(&me)?;
    let (received, bouncing) = s.accounts.received_mail(&me).await?;
    Ok(Json(json!({ "received": received, "bouncing": bouncing })))
}

async fn mail_wording(State(s): State<AppState>, Bearer(me): Bearer) -> ApiResult<Json<Value>> {
    full(&me)?;
    let (join, built_in) = s.accounts.join_wording(&me).await?;
    Ok(Json(json!({ "join": join, "join_built_in": built_in })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MailWording {
    join: String,
}

async fn set_mail_wording(
    State(s): State<AppState>,
    ClientInfo(c): ClientInfo,
    Bearer(me): Bearer,
    Json(w): Json<MailWording>,
) -> ApiResult<Json<Value>> {
    full(&me)?;
    s.accounts.set_join_wording(&me, &c, &w.join).await?;
    mail_wording(State(s), Bearer(me)).await
}
