//! Reading what a client sent, at the boundary: JSON bodies, query strings and path parameters.
//! Every rejection is an [`ApiError`] naming the field, so a bad request reads the same whether
//! serde, axum or a service refused it. NUL is refused in every string before anything else
//! sees it; JSON bodies have a size limit of their own, whatever the route allows for uploads.

use super::ApiError;
use crate::domain::text;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The largest JSON body any endpoint reads: room for the longest message (20,000 characters,
/// escaped) and nothing like the upload limit.
pub const JSON_LIMIT: usize = 256 * 1024;

/// A JSON body of type `T`. Unknown fields are refused where `T` says
/// `#[serde(deny_unknown_fields)]`, which every request body of the API does.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim();
                m.eq_ignore_ascii_case("application/json")
                    || (m.starts_with("application/") && m.ends_with("+json"))
            });
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON, with `Content-Type: application/json`.",
            ));
        }
        // The route's own limit (`DefaultBodyLimit`) applies first, then the JSON limit.
        let body = axum::RequestExt::with_limited_body(req).into_body();
        let bytes = read_limited(body, JSON_LIMIT).await?;
        Ok(Json(parse_json(&bytes)?))
    }
}

/// Answers are plain JSON, as axum writes it.
impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// The body's bytes, refusing more than `limit`.
pub async fn read_limited(body: axum::body::Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            if s.is::<http_body_util::LengthLimitError>() {
                return body_too_large();
            }
            source = s.source();
        }
        ApiError::bad_request("invalid_body", "The request body could not be read.")
    })
}

pub fn body_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "The request body is too large.",
    )
}

/// `bytes` as JSON of type `T`: NUL refused in every string, errors naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request("invalid_json", format!("The body is not JSON: {e}."))
    })?;
    if let Some(path) = nul_in(&value, String::new()) {
        return Err(ApiError::bad_request(
            "invalid_input",
            format!("`{path}`: NUL characters are not allowed."),
        )
        .with_field(&path));
    }
    from_value(value)
}

/// `value` as `T`, the error naming the field it is about. A number with no fractional part
/// (`3.0`) is an integer, as JSON Schema says it is.
pub fn from_value<T: DeserializeOwned>(mut value: Value) -> Result<T, ApiError> {
    integral(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." {
            ApiError::bad_request("invalid_json", format!("The body is not valid: {inner}."))
        } else {
            ApiError::bad_request("invalid_json", format!("`{path}`: {inner}.")).with_field(&path)
        }
    })
}

/// Turns every whole number written as a float (`3.0`) into an integer, in place.
fn integral(v: &mut Value) {
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f >= i64::MIN as f64
                && f < i64::MAX as f64
            {
                *v = Value::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral),
        Value::Object(map) => map.values_mut().for_each(integral),
        _ => {}
    }
}

/// The path of the first string (or key) in `v` holding a NUL.
fn nul_in(v: &Value, at: String) -> Option<String> {
    match v {
        Value::String(s) if s.contains('\0') => Some(if at.is_empty() { ".".into() } else { at }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| nul_in(x, format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            let here = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            if k.contains('\0') {
                Some(here.replace('\0', "\\0"))
            } else {
                nul_in(x, here)
            }
        }),
        _ => None,
    }
}

/// A query string of type `T`; unknown parameters are refused where `T` says
/// `#[serde(deny_unknown_fields)]`, as the API's do. Every value is checked: NUL refused, none
/// longer than [`text::ANY_FIELD_MAX`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or_default();
        check_pairs(raw)?;
        let pairs = form_urlencoded::parse(raw.as_bytes());
        serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs))
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                ApiError::bad_request(
                    "invalid_query",
                    format!("Query parameter `{path}`: {}.", e.into_inner()),
                )
                .with_field(&path)
            })
    }
}

/// NUL and over-long values in a query string or form body.
pub fn check_pairs(raw: &str) -> Result<(), ApiError> {
    let pairs: Vec<_> = form_urlencoded::parse(raw.as_bytes()).collect();
    if let Some(bad) = text::find_nul(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))) {
        return Err(ApiError::from(bad));
    }
    if let Some((k, _)) = pairs.iter().find(|(_, v)| v.len() > text::ANY_FIELD_MAX) {
        return Err(ApiError::bad_request(
            "invalid_input",
            format!("`{k}`: at most {} bytes allowed.", text::ANY_FIELD_MAX),
        )
        .with_field(k));
    }
    Ok(())
}

/// Refuses any request whose address holds a NUL, in the path or in a query parameter, before
/// any handler (page or API) sees it.
pub async fn refuse_nul(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = req.uri().path();
    if path.contains("%00") || path.contains('\0') {
        return ApiError::bad_request(
            "invalid_input",
            "The address holds a NUL character, which is not allowed.",
        )
        .into_response();
    }
    if let Err(e) = check_pairs(req.uri().query().unwrap_or_default()) {
        return e.into_response();
    }
    next.run(req).await
}

/// Path parameters of type `T`; a parameter that does not parse (`/requests/abc`) is a 400
/// naming it, a NUL in any segment too.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        use axum::extract::rejection::PathRejection;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(t)) => Ok(Path(t)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let kind = e.into_kind();
                Err(ApiError::bad_request(
                    "invalid_path",
                    format!("The address is not valid: {kind}."),
                ))
            }
            Err(e) => Err(ApiError::internal(e.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_body_over_the_routes_limit_is_too_large() {
        use axum::extract::DefaultBodyLimit;
        use tower::ServiceExt;
        let app = axum::Router::new()
            .route(
                "/",
                axum::routing::post(|Json(v): Json<Value>| async move { Json(v) }),
            )
            .layer(DefaultBodyLimit::max(16));
        let req = |body: &'static str| {
            axum::http::Request::post("/")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body))
                .unwrap()
        };
        let ok = app.clone().oneshot(req("[1]")).await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        let big = app.oneshot(req("[1111111111111111111111]")).await.unwrap();
        assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn nul_is_found_wherever_it_hides() {
        let v: Value = serde_json::json!({ "a": "ok", "b": [{ "c": "x\u{0}y" }] });
        assert_eq!(nul_in(&v, String::new()).as_deref(), Some("b[0].c"));
        assert_eq!(
            nul_in(&serde_json::json!({ "a": "ok" }), String::new()),
            None
        );
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        limit: Option<i64>,
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = parse_json::<Body>(br#"{"name": "x", "limit": "ten"}"#).unwrap_err();
        assert_eq!(e.code, "invalid_json");
        assert!(
            e.message.starts_with("`limit`: invalid type"),
            "{}",
            e.message
        );
        let e = parse_json::<Body>(br#"{"name": "x", "nmae": "y"}"#).unwrap_err();
        assert!(e.message.contains("unknown field `nmae`"), "{}", e.message);
        let e = parse_json::<Body>(br#"{"name": "a\u0000b"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            ("invalid_input", "`name`: NUL characters are not allowed.")
        );
    }
}
