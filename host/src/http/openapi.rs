//! The API's OpenAPI 3.1 document, served at `/api/openapi.json`. A test sends a request to
//! every operation listed here, so the document cannot name a route the server lacks.

use super::AppState;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(|| async { Json(document()) }))
}

/// (method, path, summary, request body schema, needs a bearer session)
type Op = (
    &'static str,
    &'static str,
    &'static str,
    Option<Value>,
    bool,
);

fn operations() -> Vec<Op> {
    let email = json!({ "type": "object", "required": ["email"], "properties": { "email": { "type": "string", "format": "email" } } });
    let new_password = json!({ "type": "object", "required": ["password", "confirm_password"], "properties": { "password": { "type": "string" }, "confirm_password": { "type": "string" } } });
    let site = json!({ "type": "object", "required": ["name"], "properties": {
        "name": { "type": "string" }, "domains": { "type": "array", "items": { "type": "string" } },
        "addresses": { "type": "array", "items": { "type": "string", "format": "email" } },
        "maintenance_until": { "type": ["string", "null"], "format": "date" }, "licences": { "type": "integer", "minimum": 0 } } });
    let new_request = json!({ "type": "object", "required": ["subject", "description"], "properties": { "subject": { "type": "string", "maxLength": 200 }, "description": { "type": "string" } } });
    let message = json!({ "type": "object", "required": ["body"], "properties": { "body": { "type": "string" }, "internal": { "type": "boolean" } } });
    vec![
        (
            "get",
            "/api/v1/password-policy",
            "The active password plugin's requirement sentence",
            None,
            false,
        ),
        (
            "post",
            "/api/v1/password-policy/check",
            "Check a password against the active policy plugin",
            Some(
                json!({ "type": "object", "required": ["password"], "properties": { "password": { "type": "string" }, "email": { "type": "string" }, "given_name": { "type": "string" }, "surname": { "type": "string" } } }),
            ),
            false,
        ),
        (
            "post",
            "/api/v1/signup",
            "Join now: email a verification link (the answer never reveals whether the address has an account)",
            Some(email.clone()),
            false,
        ),
        (
            "get",
            "/api/v1/signup/{token}",
            "Open a verification link: the address and whether it may join",
            None,
            false,
        ),
        (
            "post",
            "/api/v1/signup/{token}",
            "Create the account",
            Some(
                json!({ "type": "object", "required": ["password", "confirm_password", "given_name", "surname"], "properties": { "password": { "type": "string" }, "confirm_password": { "type": "string" }, "given_name": { "type": "string" }, "surname": { "type": "string" } } }),
            ),
            false,
        ),
        (
            "post",
            "/api/v1/login",
            "Log in with email and password; answers a session token and its stage (mfa, password_change or full)",
            Some(
                json!({ "type": "object", "required": ["email", "password"], "properties": { "email": { "type": "string" }, "password": { "type": "string" }, "stay_logged_in": { "type": "boolean" }, "device_token": { "type": "string" } } }),
            ),
            false,
        ),
        (
            "post",
            "/api/v1/login/code",
            "Send verification code (session at stage mfa)",
            None,
            true,
        ),
        (
            "post",
            "/api/v1/login/code/verify",
            "Verify code; rotates the session token, and with remember_device returns a device_token",
            Some(
                json!({ "type": "object", "required": ["code"], "properties": { "code": { "type": "string", "pattern": "^[0-9]{6}$" }, "remember_device": { "type": "boolean" } } }),
            ),
            true,
        ),
        ("post", "/api/v1/logout", "End this session", None, true),
        (
            "get",
            "/api/v1/me",
            "The signed-in person and session stage",
            None,
            true,
        ),
        (
            "post",
            "/api/v1/me/password",
            "Change the password (required at stage password_change); other sessions end",
            Some(
                json!({ "type": "object", "required": ["password", "confirm_password"], "properties": { "current_password": { "type": "string" }, "password": { "type": "string" }, "confirm_password": { "type": "string" } } }),
            ),
            true,
        ),
        (
            "get",
            "/api/v1/me/sites",
            "Sites the signed-in user may choose at first login",
            None,
            true,
        ),
        (
            "post",
            "/api/v1/me/site",
            "Choose the site; the account then waits for activation",
            Some(
                json!({ "type": "object", "required": ["site_id"], "properties": { "site_id": { "type": "integer" } } }),
            ),
            true,
        ),
        (
            "get",
            "/api/v1/sessions",
            "The signed-in user's sessions",
            None,
            true,
        ),
        (
            "delete",
            "/api/v1/sessions/{id}",
            "End one of your sessions",
            None,
            true,
        ),
        (
            "post",
            "/api/v1/sessions/end-all",
            "Sign out everywhere",
            None,
            true,
        ),
        (
            "post",
            "/api/v1/password-reset",
            "Forgot your password?: email a one-hour reset link (same answer for unknown addresses)",
            Some(email.clone()),
            false,
        ),
        (
            "get",
            "/api/v1/password-reset/{token}",
            "Whether a reset link is usable",
            None,
            false,
        ),
        (
            "post",
            "/api/v1/password-reset/{token}",
            "Set the new password; every session ends",
            Some(new_password.clone()),
            false,
        ),
        (
            "get",
            "/api/v1/approvals",
            "Accounts waiting for activation (staff: all; Site Administrator: their site)",
            None,
            true,
        ),
        (
            "post",
            "/api/v1/approvals/{user_id}",
            "Activate or reject a waiting account",
            Some(
                json!({ "type": "object", "required": ["approve"], "properties": { "approve": { "type": "boolean" } } }),
            ),
            true,
        ),
        (
            "post",
            "/api/v1/invitations",
            "Invite someone (Site Administrator: to their site; staff: to site_id)",
            Some(
                json!({ "type": "object", "required": ["email", "given_name", "surname"], "properties": { "email": { "type": "string" }, "given_name": { "type": "string" }, "surname": { "type": "string" }, "site_id": { "type": "integer" }, "mode": { "enum": ["link", "temporary_password"] } } }),
            ),
            true,
        ),
        (
            "get",
            "/api/v1/invitations/{token}",
            "Open an invitation link",
            None,
            false,
        ),
        (
            "post",
            "/api/v1/invitations/{token}/accept",
            "Accept an invitation by choosing a password",
            Some(new_password),
            false,
        ),
        (
            "get",
            "/api/v1/users",
            "People (staff: everyone; Site Administrator: their site)",
            None,
            true,
        ),
        (
            "post",
            "/api/v1/users/{id}/resend-invitation",
            "Send an invitation again; the earlier link stops working",
            None,
            true,
        ),
        (
            "post",
            "/api/v1/users/{id}/role",
            "Change a role (operators)",
            Some(
                json!({ "type": "object", "required": ["role"], "properties": { "role": { "enum": ["customer", "site_admin", "agent", "operator"] } } }),
            ),
            true,
        ),
        (
            "post",
            "/api/v1/users/{id}/disable",
            "Disable an account; its sessions end (operators)",
            None,
            true,
        ),
        ("get", "/api/v1/sites", "Customer sites (staff)", None, true),
        (
            "post",
            "/api/v1/sites",
            "Add a site (operators)",
            Some(site.clone()),
            true,
        ),
        (
            "put",
            "/api/v1/sites/{id}",
            "Replace a site's details (operators)",
            Some(site),
            true,
        ),
        (
            "get",
            "/api/v1/audit",
            "Authentication events, newest first (operators)",
            None,
            true,
        ),
        (
            "get",
            "/api/v1/requests",
            "Requests the caller may see, newest change first. Query: status (open, closed, a status key), site, assignee, unassigned, q (words or REQ-number), sort (newest, oldest), limit, after (the previous page's `next`)",
            None,
            true,
        ),
        (
            "post",
            "/api/v1/requests",
            "Raise a request for the caller's site: JSON, or multipart with `files` parts",
            Some(new_request),
            true,
        ),
        (
            "get",
            "/api/v1/requests/{id}",
            "A request with its messages, attachments, status timeline and the statuses the caller may move it to",
            None,
            true,
        ),
        (
            "post",
            "/api/v1/requests/{id}/messages",
            "Reply (staff: `internal: true` for a note no customer sees): JSON, or multipart with `files` parts",
            Some(message),
            true,
        ),
        (
            "put",
            "/api/v1/requests/{id}/status",
            "Move the request to a status, if the active workflow plugin allows it; `version` guards against concurrent changes (409)",
            Some(
                json!({ "type": "object", "required": ["status"], "properties": { "status": { "type": "string" }, "version": { "type": "integer" } } }),
            ),
            true,
        ),
        (
            "put",
            "/api/v1/requests/{id}/assignee",
            "Assign to a member of staff, or `null` to unassign (staff)",
            Some(
                json!({ "type": "object", "properties": { "assignee_id": { "type": ["integer", "null"] }, "version": { "type": "integer" } } }),
            ),
            true,
        ),
        (
            "get",
            "/api/v1/requests/{id}/attachments/{file}",
            "Download an attachment (always `Content-Disposition: attachment`)",
            None,
            true,
        ),
        (
            "get",
            "/api/v1/statuses",
            "The active workflow plugin's statuses and the plugin",
            None,
            true,
        ),
        (
            "get",
            "/api/v1/statuses/unknown",
            "Status keys held by requests that the active workflow does not know, with counts (operators)",
            None,
            true,
        ),
        (
            "post",
            "/api/v1/statuses/map",
            "Move every request in an unknown status to a status of the active workflow (operators)",
            Some(
                json!({ "type": "object", "required": ["from", "to"], "properties": { "from": { "type": "string" }, "to": { "type": "string" } } }),
            ),
            true,
        ),
        (
            "get",
            "/api/v1/dashboard",
            "Open Requests and the Quick Links the caller's role sees",
            None,
            true,
        ),
        (
            "get",
            "/api/v1/quick-links",
            "Every quick link (operators)",
            None,
            true,
        ),
        (
            "post",
            "/api/v1/quick-links",
            "Add a dashboard quick link for chosen roles (operators)",
            Some(
                json!({ "type": "object", "required": ["title", "url", "roles"], "properties": { "title": { "type": "string" }, "url": { "type": "string" }, "roles": { "type": "array", "items": { "enum": ["customer", "site_admin", "agent", "operator"] } } } }),
            ),
            true,
        ),
        (
            "delete",
            "/api/v1/quick-links/{id}",
            "Remove a quick link (operators)",
            None,
            true,
        ),
        (
            "put",
            "/api/v1/me/watching",
            "Whether the caller (staff) is emailed about customer replies to unassigned requests",
            Some(
                json!({ "type": "object", "required": ["watching"], "properties": { "watching": { "type": "boolean" } } }),
            ),
            true,
        ),
    ]
}

/// Every operation as (method, path), for the test that calls each one.
pub fn listed() -> Vec<(&'static str, &'static str)> {
    operations().into_iter().map(|(m, p, ..)| (m, p)).collect()
}

pub fn document() -> Value {
    let error = json!({ "description": "An error: `{ \"error\": { \"code\", \"message\", \"details\"? } }` with a stable snake_case code", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    let mut paths = serde_json::Map::new();
    for (method, path, summary, body, auth) in operations() {
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let mut op = json!({ "summary": summary, "parameters": params, "responses": { "2XX": { "description": "Success" }, "4XX": error.clone(), "503": error.clone() } });
        if let Some(schema) = body {
            op["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": schema } } });
        }
        if auth {
            op["security"] = json!([{ "session": [] }]);
        }
        let entry = paths.entry(path.to_owned()).or_insert_with(|| json!({}));
        entry[method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Help desk API", "version": env!("CARGO_PKG_VERSION"), "description": "Accounts, sign-in and rule plugins of the help desk. Errors carry a stable `code`; 429 answers carry `Retry-After`." },
        "paths": paths,
        "components": {
            "securitySchemes": { "session": { "type": "http", "scheme": "bearer", "description": "The `token` from POST /api/v1/login or /api/v1/login/code/verify" } },
            "schemas": { "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "object", "required": ["code", "message"], "properties": { "code": { "type": "string" }, "message": { "type": "string" }, "details": {} } } } } }
        }
    })
}
