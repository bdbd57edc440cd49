//! `/metrics` for Prometheus, and the middleware that counts every HTTP request.
//!
//! Access: with `HELPDESK_METRICS_TOKEN` set, a scrape must send `Authorization: Bearer
//! <token>`; without it, only a client on this machine may scrape, and only directly (a request
//! that came through a proxy, which says so in `Forwarded` or `X-Forwarded-For`, is refused).

use super::{ApiError, AppState};
use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::time::Instant;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    allowed(&state, peer, req.headers())?;
    // Read at scrape time: the outbox and webhook deliveries are shared by every replica.
    if let Ok((waiting, failed)) = crate::db::outbox::depth(state.db.pool()).await {
        let metrics = state.plugins.metrics();
        let gauge = |s: &'static str| {
            metrics.gauge(
                "helpdesk_outbox_messages",
                vec![metrics::Label::new("state", s)],
            )
        };
        gauge("waiting").set(waiting as f64);
        gauge("failed").set(failed as f64);
    }
    if let Ok((waiting, failing, disabled)) = crate::db::webhooks::health(state.db.pool()).await {
        let metrics = state.plugins.metrics();
        metrics
            .gauge("helpdesk_webhook_deliveries_waiting", Vec::new())
            .set(waiting as f64);
        let endpoints = |s: &'static str| {
            metrics.gauge(
                "helpdesk_webhook_endpoints",
                vec![metrics::Label::new("state", s)],
            )
        };
        endpoints("failing").set(failing as f64);
        endpoints("disabled").set(disabled as f64);
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.plugins.metrics().render(),
    )
        .into_response())
}

fn allowed(
    state: &AppState,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    if let Some(expected) = &state.web.metrics_token_sha256 {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| Sha256::digest(t.trim().as_bytes()));
        return match sent {
            Some(d) if d[..] == expected[..] => Ok(()),
            _ => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Send the metrics token (HELPDESK_METRICS_TOKEN) as `Authorization: Bearer <token>`.",
            )),
        };
    }
    let direct =
        !headers.contains_key(header::FORWARDED) && !headers.contains_key("x-forwarded-for");
    if direct && peer.is_some_and(|p| p.ip().is_loopback()) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "Metrics are served to this machine only; set HELPDESK_METRICS_TOKEN to scrape from elsewhere.",
    ))
}

/// Counts the request by method, route pattern and status, and times it.
pub async fn count(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    // Methods are free text: anything unusual is counted together, so labels stay few.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m.to_owned(),
        _ => "other".to_owned(),
    };
    let started = Instant::now();
    let res = next.run(req).await;
    state
        .plugins
        .metrics()
        .http_request(&method, &route, res.status().as_u16(), started.elapsed());
    res
}
