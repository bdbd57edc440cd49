//! Who is calling: the client's address, the bearer session of an API call, and the cookies
//! of a browser.

use super::{ApiError, AppState, Web};
use crate::auth::{Client, Me};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use std::convert::Infallible;
use std::net::SocketAddr;

/// The peer address and user agent. Addresses come from the socket: a reverse proxy in front
/// makes every client look alike, so limits then apply per proxy.
#[derive(Debug, Clone)]
pub struct ClientInfo(pub Client);

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Behind a trusted proxy, the address it forwarded (see `proxies`).
        let ip = match parts.extensions.get::<super::proxies::ClientAddr>() {
            Some(c) => c.0.to_string(),
            None => parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "unknown".to_owned()),
        };
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect();
        Ok(ClientInfo(Client { ip, user_agent }))
    }
}

/// An API caller signed in with `Authorization: Bearer <session>`, at any stage; handlers
/// check the stage they need.
#[derive(Debug, Clone)]
pub struct Bearer(pub Me);

impl FromRequestParts<AppState> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let unauthenticated = || {
            ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Log in first: send `Authorization: Bearer <token>` from POST /api/v1/login.",
            )
        };
        let Some(token) = token else {
            return Err(unauthenticated());
        };
        match state.accounts.authenticate(token).await? {
            Some(me) => Ok(Bearer(me)),
            None => Err(unauthenticated()),
        }
    }
}

/// The value of cookie `name`, if the browser sent it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, `Secure` on https. `max_age` in
/// seconds; `None` makes a browser-session cookie, `Some(0)` deletes it.
pub fn set_cookie(web: &Web, base: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax",
        web.cookie_name(base)
    );
    if web.secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    // Names and values are ours (hex tokens), so this cannot fail.
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}
