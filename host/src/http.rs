//! The HTTP server: one router per area, combined by [`app`], which `main` and the tests share.
//! Pages (server-rendered HTML with cookie sessions and CSRF tokens) and the JSON API under
//! `/api/v1/` (bearer sessions) call the same account code in `crate::auth`.

mod accounts_api;
pub(crate) mod console_api;
mod custom_api;
mod error;
pub mod extract;
mod health;
mod metrics;
pub mod openapi;
mod pages;
mod policy;
pub mod proxies;
mod requests_api;
pub mod server;
mod session;
mod upload;
mod webhooks_api;

pub use error::{ApiError, storage_error};

use crate::auth::password::Hasher;
use crate::auth::{Accounts, AuthConfig};
use crate::clock::Clock;
use crate::db::Db;
use crate::mail::Mailer;
use crate::plugins::Plugins;
use crate::requests::Requests;
use crate::requests::files::Files;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use std::sync::Arc;
use tower_http::trace::TraceLayer;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub plugins: Arc<Plugins>,
    pub accounts: Arc<Accounts>,
    pub requests: Arc<Requests>,
    pub console: Arc<crate::console::Console>,
    pub web: Arc<Web>,
    /// The portal's brand, as last read from the database.
    pub(crate) brand: Arc<pages::branding::BrandCache>,
    /// Set when the server starts to shut down: `/readyz` then answers 503, so a proxy sends
    /// new requests elsewhere while this server still serves what reaches it.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

/// How the browser side is set up, derived from the public URL.
#[derive(Debug, Clone)]
pub struct Web {
    /// Cookies carry `Secure` (and the `__Host-` prefix), and answers
    /// `Strict-Transport-Security`, when the portal is served over https.
    pub secure: bool,
    /// The sha256 of `HELPDESK_METRICS_TOKEN`; without one, `/metrics` answers this machine only.
    pub metrics_token_sha256: Option<[u8; 32]>,
    /// `HELPDESK_TRUSTED_PROXIES`: the peers believed about the client's address.
    pub trusted_proxies: proxies::TrustedProxies,
}

impl Web {
    pub fn cookie_name(&self, base: &str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }
}

impl AppState {
    pub fn new(
        db: Db,
        plugins: Arc<Plugins>,
        mailer: Mailer,
        config: AuthConfig,
        clock: Arc<dyn Clock>,
        hasher: Arc<Hasher>,
        files: Files,
    ) -> AppState {
        let secure = mailer.public_url().starts_with("https://");
        let requests = Arc::new(Requests {
            db: db.clone(),
            plugins: plugins.clone(),
            mailer: mailer.clone(),
            clock: clock.clone(),
            files,
        });
        let accounts = Arc::new(Accounts {
            db: db.clone(),
            plugins: plugins.clone(),
            mailer,
            clock,
            hasher,
            config: Arc::new(config),
            argon: Arc::new(crate::auth::password::Workers::per_core()),
        });
        AppState {
            console: Arc::new(crate::console::Console {
                db: db.clone(),
                plugins: plugins.clone(),
                accounts: accounts.clone(),
                requests: requests.clone(),
                webhooks: Arc::new(crate::webhooks::Webhooks::ephemeral()),
            }),
            requests,
            accounts,
            db,
            plugins,
            brand: Arc::default(),
            draining: Arc::default(),
            web: Arc::new(Web {
                secure,
                metrics_token_sha256: None,
                trusted_proxies: proxies::TrustedProxies::default(),
            }),
        }
    }

    /// Lets `/metrics` be scraped from anywhere with `Authorization: Bearer <token>`.
    pub fn with_metrics_token(mut self, token: Option<&str>) -> AppState {
        use sha2::Digest;
        let web = Web {
            metrics_token_sha256: token.map(|t| sha2::Sha256::digest(t.as_bytes()).into()),
            ..(*self.web).clone()
        };
        self.web = Arc::new(web);
        self
    }

    /// Seals webhook secrets with `webhooks`' key and lets endpoints reach its allowed ranges.
    pub fn with_webhooks(mut self, webhooks: Arc<crate::webhooks::Webhooks>) -> AppState {
        let c = &self.console;
        self.console = Arc::new(crate::console::Console {
            db: c.db.clone(),
            plugins: c.plugins.clone(),
            accounts: c.accounts.clone(),
            requests: c.requests.clone(),
            webhooks,
        });
        self
    }

    /// Believes these proxies about the client's address (see [`proxies`]).
    pub fn with_trusted_proxies(mut self, proxies: proxies::TrustedProxies) -> AppState {
        let web = Web {
            trusted_proxies: proxies,
            ..(*self.web).clone()
        };
        self.web = Arc::new(web);
        self
    }
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    let upload_limit = state.requests.files.limits.body_limit();
    let https = state.web.secure;
    Router::new()
        .merge(health::router())
        .merge(policy::router())
        .merge(accounts_api::router())
        .merge(console_api::router())
        .merge(webhooks_api::router())
        .merge(requests_api::router(upload_limit))
        .merge(custom_api::router())
        .merge(pages::router(upload_limit))
        .merge(openapi::router())
        .merge(metrics::router())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count,
        ))
        .layer(axum::middleware::from_fn(extract::refuse_nul))
        .layer(axum::middleware::from_fn(error::uniform))
        .layer(axum::middleware::map_response(move |res| security_headers(res, https)))
        .layer(compression())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            tracing::debug_span!("request", method = %req.method(), path = %redact_path(req.uri().path()))
        }))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            proxies::client_address,
        ))
        .with_state(state)
}

/// Gzip for pages, JSON and the portal's script above a few hundred bytes, for clients that
/// accept it. Files are
/// sent as they are: most are compressed already, and a download keeps its length.
fn compression()
-> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::Predicate;
    use tower_http::compression::predicate::SizeAbove;
    let textual = |_: axum::http::StatusCode,
                   _: axum::http::Version,
                   h: &axum::http::HeaderMap,
                   _: &axum::http::Extensions| {
        h.get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| {
                ["text/html", "application/json", "text/javascript"]
                    .iter()
                    .any(|kind| t.starts_with(kind))
            })
    };
    tower_http::compression::CompressionLayer::new()
        .gzip(true)
        .compress_when(SizeAbove::new(512).and(textual))
}

/// Headers every answer carries: no framing, no MIME sniffing, no referrer leaking tokens in
/// paths, a strict content policy for pages, and over https, HSTS for a year.
async fn security_headers(mut res: Response, https: bool) -> Response {
    let h = res.headers_mut();
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    // A stricter policy set by the handler (an image shown inline) stays.
    if !h.contains_key("content-security-policy") {
        h.insert(
            "content-security-policy",
            HeaderValue::from_static("default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// A request path fit for logs: segments that look like secrets (the tokens of emailed links)
/// are replaced, and the query string is never included.
pub fn redact_path(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.len() >= 32 && seg.bytes().all(|b| b.is_ascii_hexdigit()) {
                "[token]"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
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

#[cfg(test)]
mod tests {
    #[test]
    fn logged_paths_hide_link_tokens() {
        let token = "ab".repeat(32);
        assert_eq!(
            super::redact_path(&format!("/join/verify/{token}")),
            "/join/verify/[token]"
        );
        assert_eq!(
            super::redact_path("/api/v1/sessions/42"),
            "/api/v1/sessions/42"
        );
    }
}
