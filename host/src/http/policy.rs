//! The password policy, asked of the active password-policy plugin: its requirement sentence
//! for forms, and a check clients can call as the user types.

use super::extract::Json;
use super::session::ClientInfo;
use super::{ApiError, AppState, blocking};
use crate::domain::rules::{PasswordContext, PasswordVerdict, PluginRef};
use crate::domain::text;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/password-policy", get(requirements))
        .route(
            "/api/v1/password-policy/check",
            post(check).layer(DefaultBodyLimit::max(16 * 1024)),
        )
}

#[derive(Debug, Serialize)]
struct Requirements {
    requirements: String,
    decided_by: PluginRef,
}

async fn requirements(State(state): State<AppState>) -> Result<Json<Requirements>, ApiError> {
    let plugins = state.plugins.clone();
    let d = blocking(move || plugins.password_requirements()).await??;
    Ok(Json(Requirements {
        requirements: d.value,
        decided_by: d.by,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRequest {
    password: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    surname: String,
}

#[derive(Debug, Serialize)]
struct CheckResponse {
    #[serde(flatten)]
    verdict: PasswordVerdict,
    decided_by: PluginRef,
}

async fn check(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    Json(req): Json<CheckRequest>,
) -> Result<Json<CheckResponse>, ApiError> {
    state.accounts.limit_password_check(&client).await?;
    text::check(&text::PASSWORD, &req.password)?;
    let plugins = state.plugins.clone();
    let context = PasswordContext {
        email: text::check(&text::EMAIL, &req.email)?.to_lowercase(),
        given_name: text::check(&text::GIVEN_NAME, &req.given_name)?,
        surname: text::check(&text::SURNAME, &req.surname)?,
    };
    let d = blocking(move || plugins.preview_password(&req.password, &context)).await??;
    Ok(Json(CheckResponse {
        verdict: d.value,
        decided_by: d.by,
    }))
}
