//! The API's error answer: a stable snake_case `code` and a human `message`. Details of server
//! faults go to the log, never to the client.

use crate::auth::AuthError;
use crate::plugins::PluginError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
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
        ApiError::internal(e)
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
            AuthError::InvalidLink => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_link", message)
            }
            AuthError::WrongCode { attempts_left } => ApiError {
                details: Some(json!({ "attempts_left": attempts_left })),
                ..ApiError::new(StatusCode::BAD_REQUEST, "wrong_code", message)
            },
            AuthError::CodeUnusable => {
                ApiError::new(StatusCode::BAD_REQUEST, "code_unusable", message)
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
            AuthError::Unauthenticated => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
            }
            AuthError::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            AuthError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", message),
            AuthError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            AuthError::Plugin(p) => ApiError::from(p),
            AuthError::Db(d) => ApiError::internal(d),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(details) = self.details {
            error["details"] = details;
        }
        let mut res = (self.status, Json(json!({ "error": error }))).into_response();
        if let Some(s) = self.retry_after
            && let Ok(v) = axum::http::HeaderValue::from_str(&s.to_string())
        {
            res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
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
            E::Db(d) => ApiError::internal(d),
            E::Storage(s) => ApiError::internal(s),
        }
    }
}
