//! Liveness and readiness for load balancers and orchestrators.

use super::AppState;
use crate::domain::rules::Slot;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
}

/// Ready when the database answers, every slot has a plugin serving, and the server is not
/// shutting down.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let draining = state.draining.load(std::sync::atomic::Ordering::Relaxed);
    // Answered within a second even when the database is gone, so a proxy learns fast.
    let database = state
        .db
        .ping(std::time::Duration::from_millis(800))
        .await
        .is_ok();
    let plugins: serde_json::Map<String, Value> = Slot::ALL
        .into_iter()
        .map(|slot| {
            let v = match state.plugins.active(slot) {
                Ok(p) => json!({ "id": p.plugin.id, "name": p.plugin.name, "version": p.plugin.version, "sha256": p.plugin.sha256 }),
                Err(_) => Value::Null,
            };
            (slot.to_string(), v)
        })
        .collect();
    let ready = database && !draining && plugins.values().all(|v| !v.is_null());
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(
            json!({ "ready": ready, "draining": draining, "database": database, "plugins": plugins }),
        ),
    )
}
