//! The operators' API for webhook endpoints: register, list, turn off and on, remove, read the
//! delivery log and send a delivery again. See [`crate::webhooks`] for what is delivered.

use super::console_api::operator;
use super::extract::{Json, Path};
use super::session::{Bearer, ClientInfo};
use super::{ApiError, AppState};
use crate::console::{Endpoint, EndpointInput};
use crate::db::webhooks::DeliveryRow;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks", get(list).post(add))
        .route("/api/v1/webhooks/{id}", get(one).delete(remove))
        .route("/api/v1/webhooks/{id}/state", put(set_state))
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries))
        .route(
            "/api/v1/webhooks/{id}/deliveries/{delivery}/resend",
            post(resend),
        )
}

async fn list(
    State(s): State<AppState>,
    Bearer(me): Bearer,
) -> Result<axum::Json<Vec<Endpoint>>, ApiError> {
    operator(&me)?;
    Ok(axum::Json(s.console.webhooks(&me).await?))
}

async fn one(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    Path(id): Path<i64>,
) -> Result<axum::Json<Endpoint>, ApiError> {
    operator(&me)?;
    Ok(axum::Json(s.console.webhook(&me, id).await?))
}

async fn add(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    ClientInfo(client): ClientInfo,
    Json(input): Json<EndpointInput>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    operator(&me)?;
    let (endpoint, secret) = s.console.add_webhook(&me, &client, &input).await?;
    let mut body = serde_json::to_value(endpoint).map_err(|e| ApiError::internal(e.to_string()))?;
    body["secret"] = json!(secret);
    Ok((StatusCode::CREATED, axum::Json(body)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateBody {
    enabled: bool,
}

async fn set_state(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    ClientInfo(client): ClientInfo,
    Path(id): Path<i64>,
    Json(b): Json<StateBody>,
) -> Result<axum::Json<Endpoint>, ApiError> {
    operator(&me)?;
    Ok(axum::Json(
        s.console
            .enable_webhook(&me, &client, id, b.enabled)
            .await?,
    ))
}

async fn remove(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    ClientInfo(client): ClientInfo,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    operator(&me)?;
    s.console.remove_webhook(&me, &client, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn deliveries(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    Path(id): Path<i64>,
) -> Result<axum::Json<Vec<DeliveryRow>>, ApiError> {
    operator(&me)?;
    Ok(axum::Json(s.console.webhook_deliveries(&me, id).await?))
}

async fn resend(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    ClientInfo(client): ClientInfo,
    Path((id, delivery)): Path<(i64, i64)>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    operator(&me)?;
    let new = s.console.resend_webhook(&me, &client, id, delivery).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({ "id": new }))))
}
