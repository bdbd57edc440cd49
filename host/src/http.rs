//! The HTTP server: one router per area, combined by [`app`], which `main` and the tests share.

mod error;
mod health;
mod home;
mod policy;

pub use error::ApiError;

use crate::db::Db;
use crate::plugins::Plugins;
use axum::Router;
use std::sync::Arc;
use tower_http::trace::TraceLayer;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub plugins: Arc<Plugins>,
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(home::router())
        .merge(health::router())
        .merge(policy::router())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Runs a plugin call on the blocking pool: a call may take up to its deadline, and async
/// workers must keep serving meanwhile.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("blocking task failed: {e}")))
}
