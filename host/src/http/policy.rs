//! The password policy, asked of the active password-policy plugin: its requirement sentence
//! for forms, and a check clients can call as the user types.

use super::session::ClientInfo;
use super::{ApiError, AppState, blocking};
use crate::domain::rules::{PasswordContext, PasswordVerdict, PluginRef};
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::{Json, Router};
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

struct CheckRequest {
    password: String,
    #[serde(flatten)]
    context: PasswordContext,
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
    payload: Result<Json<CheckRequest>, JsonRejection>,
) -> Result<Json<CheckResponse>, ApiError> {
    state.accounts.limit_password_check(&client).await?;
    let Json(req) = payload?;
    if req.password.len() > 4096 {
        return Err(ApiError::bad_request(
            "password_too_long",
            "Passwords are at most 4096 bytes.",
        ));
    }
    let plugins = state.plugins.clone();
    let mut context = req.context;
    context.email = context.email.trim().to_lowercase();
    let d = blocking(move || plugins.check_password(&req.password, &context)).await??;
    Ok(Json(CheckResponse {
        verdict: d.value,
        decided_by: d.by,
    }))
}
