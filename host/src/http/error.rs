//! Errors as clients see them. The API's answer is a stable snake_case `code` and a human
//! `message`; details of server faults go to the log, never to the client. [`uniform`] gives
//! every error one shape, whatever layer raises it: under `/api/` always the documented
//! `{"error": {"code", "message"}}` body, also when axum itself refused the request (an unknown
//! route, a method the route lacks, a body over its limit); elsewhere an HTML page, also for
//! the JSON errors that page handlers share with the API.

use crate::auth::AuthError;
use crate::i18n::{Lang, Tr};
use crate::plugins::PluginError;
use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Structured detail for the client, e.g. the password rule violations.
    pub details: Option<serde_json::Value>,
    /// Seconds, sent as `Retry-After`.
    pub retry_after: Option<i64>,
    /// The refused text's rule, for pages that word it in the reader's language.
    pub input: Option<Box<crate::domain::text::Invalid>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
            input: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Names the input field the error is about, as `details.field`.
    pub fn with_field(mut self, field: &str) -> ApiError {
        let mut details = self.details.take().unwrap_or_else(|| json!({}));
        details["field"] = json!(field);
        self.details = Some(details);
        self
    }

    /// The database cannot be reached: answered at once with 503 and `Retry-After`, so clients
    /// and proxies retry instead of waiting; the server recovers by itself when it is back.
    pub fn unavailable(detail: impl std::fmt::Display) -> ApiError {
        tracing::warn!(error = %detail, "database unavailable");
        ApiError {
            retry_after: Some(5),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "The service is briefly unavailable; nothing was changed. Please try again in a few seconds.",
            )
        }
    }

    /// A server fault: `detail` is logged, the client gets a generic message.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side; nothing was changed. Please try again.",
        )
    }
}

/// A plugin that cannot answer fails closed: the action is refused, the details (already
/// logged with the plugin's name, version and sha256) stay on the server.
impl From<PluginError> for ApiError {
    fn from(_: PluginError) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "rule_unavailable",
            "This rule cannot be checked right now, so nothing was changed. Please try again shortly.",
        )
    }
}

/// A body that is not the JSON the endpoint expects: 400 with serde's explanation, or 413.
impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> ApiError {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "The request body is too large.",
            )
        } else {
            ApiError::bad_request("invalid_json", rejection.body_text())
        }
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> ApiError {
        if e.is_full() {
            ApiError::storage_full(e)
        } else if e.is_unavailable() {
            ApiError::unavailable(e)
        } else {
            ApiError::internal(e)
        }
    }
}

impl ApiError {
    /// The disk (the database's or the files') has no room: 507, said as such, so operators
    /// and clients know what to do; the detail is logged.
    pub fn storage_full(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "storage full");
        ApiError {
            retry_after: Some(60),
            ..ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "storage_full",
                "The server has no room to store this right now; nothing was changed. Please try again later.",
            )
        }
    }
}

/// A file operation's failure: 507 when the disk is full, a server fault otherwise.
pub fn storage_error(e: std::io::Error, doing: &str) -> ApiError {
    if is_disk_full(&e) {
        ApiError::storage_full(format!("{doing}: {e}"))
    } else {
        ApiError::internal(format!("{doing}: {e}"))
    }
}

/// No space left on the device, or over a quota.
pub fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    )
}

/// Input refused at the boundary: 400, naming the field.
impl From<crate::domain::text::Invalid> for ApiError {
    fn from(e: crate::domain::text::Invalid) -> ApiError {
        let mut api = ApiError::bad_request("invalid_input", e.message.clone()).with_field(e.field);
        api.input = Some(Box::new(e));
        api
    }
}

/// Account errors keep their meaning on the wire: a stable code per case, and no detail that
/// would tell a visitor whether an account exists.
impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        let message = e.to_string();
        match e {
            AuthError::InvalidCredentials => {
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", message)
            }
            AuthError::TooManyAttempts { retry_after_s } => ApiError {
                retry_after: Some(retry_after_s),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", message)
            },
            AuthError::AccountUnavailable(code, _) => {
                ApiError::new(StatusCode::FORBIDDEN, code, message)
            }
            AuthError::InvalidLink => ApiError::new(StatusCode::NOT_FOUND, "invalid_link", message),
            AuthError::WrongCode { attempts_left } => ApiError {
                details: Some(json!({ "attempts_left": attempts_left })),
                ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "wrong_code", message)
            },
            AuthError::CodeUnusable => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "code_unusable", message)
            }
            AuthError::PasswordRejected(violations) => ApiError {
                details: Some(json!({ "violations": violations })),
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "password_rejected",
                    message,
                )
            },
            AuthError::Invalid(code, _) => ApiError::new(StatusCode::BAD_REQUEST, code, message),
            AuthError::Rule(code, _) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            AuthError::Unauthenticated => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
            }
            AuthError::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            AuthError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", message),
            AuthError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            AuthError::Input(i) => ApiError::from(i),
            AuthError::Plugin(p) => ApiError::from(p),
            AuthError::Db(d) => ApiError::from(d),
        }
    }
}

/// The message of an error answer, kept with the response so that a page can show it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub message: String,
    /// The error's code, for a page to word it in the reader's language.
    pub code: &'static str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(details) = self.details {
            error["details"] = details;
        }
        let mut res = (self.status, Json(json!({ "error": error }))).into_response();
        // Pages show the same error as a page: see `http::errors`.
        res.extensions_mut().insert(Shown {
            message: self.message,
            code: self.code,
        });
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

/// Request errors keep their meaning on the wire; a refused status change carries the
/// workflow plugin that refused it.
impl From<crate::requests::RequestError> for ApiError {
    fn from(e: crate::requests::RequestError) -> ApiError {
        use crate::requests::RequestError as E;
        let message = e.to_string();
        match e {
            E::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", message),
            E::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::Invalid(code, _) => ApiError::bad_request(code, message),
            E::Input(i) => {
                let field = i.field;
                ApiError {
                    input: Some(Box::new(i)),
                    ..ApiError::bad_request(field, message)
                }
            }
            E::Rule(code, _) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message),
            E::Denied(code, _) => ApiError::new(StatusCode::FORBIDDEN, code, message),
            E::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            E::Refused(_, by) => ApiError {
                details: Some(json!({ "plugin": by })),
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "transition_refused",
                    message,
                )
            },
            E::TooLarge(_) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "attachment_too_large",
                message,
            ),
            E::Plugin(p) => ApiError::from(p),
            E::Db(d) => ApiError::from(d),
            E::Storage(s) => storage_error(s, "storing attachments"),
            E::AlreadyReceived => ApiError::new(StatusCode::CONFLICT, "already_received", message),
        }
    }
}

/// The error middleware: see the module's documentation.
pub async fn uniform(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let tr = if api {
        Tr::default()
    } else {
        reader(req.headers())
    };
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if api {
        if content_type.starts_with("application/json") {
            return res;
        }
        let (parts, body) = res.into_parts();
        let text = axum::body::to_bytes(body, 16 * 1024)
            .await
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .unwrap_or_default();
        let mut e = ApiError::new(status, code_for(status), message_for(status, &text));
        if let Some(s) = parts
            .headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
        {
            e.retry_after = Some(s);
        }
        let mut out = e.into_response();
        for name in [header::ALLOW, header::CONNECTION] {
            if let Some(v) = parts.headers.get(&name) {
                out.headers_mut().insert(name, v.clone());
            }
        }
        return out;
    }
    // A page shows its own errors; a machine endpoint's JSON (`/readyz`) stays as it is.
    let shown = res.extensions().get::<Shown>().cloned();
    if content_type.starts_with("text/html")
        || (shown.is_none() && content_type.starts_with("application/json"))
    {
        return res;
    }
    // English readers get the message as raised, which can be more precise than the
    // catalogue's sentence for its code.
    let message = match shown {
        Some(s) if tr.lang == Lang::En => s.message,
        Some(s) => tr.find(&format!("error-{}", s.code)).unwrap_or(s.message),
        None => tr
            .find(&format!("error-status-{}", status.as_u16()))
            .unwrap_or_else(|| message_for(status, "")),
    };
    let retry_after = res.headers().get(header::RETRY_AFTER).cloned();
    let mut out = (status, Html(page(tr, status, &message))).into_response();
    if let Some(v) = retry_after {
        out.headers_mut().insert(header::RETRY_AFTER, v);
    }
    out
}

/// The stable code of an error axum raised before any handler ran: a 404 here is an address
/// no route serves (`unknown_route`), unlike a handler's `not_found` for a missing thing.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "unknown_route",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid_input",
        StatusCode::TOO_MANY_REQUESTS => "too_many_attempts",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}

fn message_for(status: StatusCode, text: &str) -> String {
    match status {
        StatusCode::NOT_FOUND => "There is nothing at this address.".into(),
        StatusCode::METHOD_NOT_ALLOWED => "This address does not take that method.".into(),
        StatusCode::REQUEST_TIMEOUT => {
            "The request arrived too slowly and was closed. Try again.".into()
        }
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.".into(),
        s if s.is_server_error() => {
            "Something went wrong on our side; nothing was changed. Please try again.".into()
        }
        _ if !text.is_empty() => text.chars().take(500).collect(),
        _ => status
            .canonical_reason()
            .unwrap_or("The request was refused.")
            .into(),
    }
}

/// A page for an error no page handler rendered: an unknown address, a refused method, a
/// request that arrived too slowly.
fn page(tr: Tr, status: StatusCode, message: &str) -> String {
    let title = match status {
        StatusCode::NOT_FOUND => "page-not-found",
        s if s.is_server_error() => "sorry",
        _ => "request-refused",
    };
    super::pages::standalone_message(tr, &tr.get(title), message)
}

/// The reader's language where no session is looked up.
fn reader(headers: &axum::http::HeaderMap) -> Tr {
    Tr::new(Lang::of_request(headers))
}

/// The fallback of every route that does not exist.
pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Body::empty()).into_response()
}

impl From<crate::console::ConsoleError> for ApiError {
    fn from(e: crate::console::ConsoleError) -> Self {
        use crate::console::ConsoleError as C;
        match e {
            C::Auth(e) => e.into(),
            C::Invalid { field, message } => {
                ApiError::bad_request("invalid_body", message).with_field(field)
            }
            C::Mismatch { field, message } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "question_mismatch",
                message,
            )
            .with_field(field),
            C::NoSettings(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "no_settings", m),
            C::InvalidSetting(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_setting", m)
                    .with_field("settings")
            }
            C::Manage(e) => super::console_api::manage_error(e),
            C::Requests(e) => e.into(),
            C::Text(e) => e.into(),
            C::Plugin(e) => e.into(),
            C::Db(e) => e.into(),
            C::Refused { field, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", message)
                    .with_field(field)
            }
            C::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "not_found", m),
            C::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            C::Internal(m) => ApiError::internal(m),
        }
    }
}
