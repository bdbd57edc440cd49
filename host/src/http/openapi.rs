//! The API's OpenAPI 3.1 document, served at `/api/openapi.json`: every operation with its
//! parameters, its body, and every answer it can give with the answer's schema. Field rules
//! come from [`crate::domain::text`] (the functions the server checks input with) and the
//! statuses from the active workflow plugin, so the document says what the server enforces.
//! A test sends a request to every operation listed here, and schemathesis fuzzes the server
//! from this document in CI: an answer or a status it does not describe is a failure.
//!
//! Status codes follow one rule: 400 when a request does not have the documented form, 422 when
//! it does but a rule refuses it (a plugin, a request's state, an id that names nothing usable).

use super::{ApiError, AppState};
use crate::domain::text::{self, Field};
use crate::domain::{custom, fields};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

mod operations;
mod schemas;
use operations::operations;
use schemas::schemas;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(serve))
}

async fn serve(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let workflow = s.requests.workflow().await?;
    let (held, _) = s.requests.unknown_statuses(None).await?;
    Ok(Json(document(&Statuses {
        known: workflow.statuses.iter().map(|s| s.key.clone()).collect(),
        held: held.into_iter().map(|(k, _)| k).collect(),
        max_files: s.requests.files.limits.max_files,
    })))
}

/// What the document takes from the running server: the status keys of the active workflow,
/// keys requests still hold that it does not know (lists can filter on them until an operator
/// maps them), and how many files one message may carry.
#[derive(Debug, Clone, Default)]
pub struct Statuses {
    pub known: Vec<String>,
    pub held: Vec<String>,
    pub max_files: usize,
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    Anyone,
    Session,
}

/// The body an operation takes.
#[derive(Debug, Clone)]
enum Body {
    None,
    Json(Value),
    /// JSON, or `multipart/form-data` with the same fields as text parts and `files` parts.
    JsonOrMultipart(Value),
    /// `multipart/form-data` only.
    Multipart(Value),
}

#[derive(Debug, Clone)]
struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    auth: Auth,
    query: Vec<Value>,
    body: Body,
    /// The success status and its body (`None`: no body).
    ok: (u16, Option<Value>),
    /// Error statuses besides those every operation can give (see [`Op::errors`]).
    errors: &'static [u16],
}

fn op(method: &'static str, path: &'static str, summary: &'static str) -> Op {
    Op {
        method,
        path,
        summary,
        auth: Auth::Anyone,
        query: Vec::new(),
        body: Body::None,
        ok: (200, None),
        errors: &[],
    }
}

impl Op {
    fn session(mut self) -> Op {
        self.auth = Auth::Session;
        self
    }
    fn json(mut self, schema: Value) -> Op {
        self.body = Body::Json(schema);
        self
    }
    fn multipart(mut self, schema: Value) -> Op {
        self.body = Body::Multipart(schema);
        self
    }
    fn json_or_files(mut self, schema: Value) -> Op {
        self.body = Body::JsonOrMultipart(schema);
        self
    }
    fn query(mut self, params: Vec<Value>) -> Op {
        self.query = params;
        self
    }
    fn ok(mut self, status: u16, body: Option<Value>) -> Op {
        self.ok = (status, body);
        self
    }
    fn errors(mut self, errors: &'static [u16]) -> Op {
        self.errors = errors;
        self
    }

    /// Every error the operation can answer: its own, a malformed address or query (400), a
    /// database or rule plugin briefly unavailable (503), and for a body: malformed (400), too
    /// large (413), not JSON (415), too slow (408); for a session: missing (401).
    fn all_errors(&self) -> Vec<u16> {
        let mut e = vec![400, 503];
        if !matches!(self.body, Body::None) {
            e.extend([408, 413, 415]);
        }
        if self.auth == Auth::Session {
            e.push(401);
        }
        e.extend(self.errors);
        e.sort_unstable();
        e.dedup();
        e
    }
}

// --- schema helpers ---

/// A string field with its documented rule; `required` asks for more than white space.
fn string(f: &Field, required: bool) -> Value {
    let mut s = json!({ "type": "string", "maxLength": f.max, "pattern": f.pattern(required) });
    if required {
        s["minLength"] = json!(1);
    }
    if f.kind == text::Kind::Email {
        // RFC 5321's 64 characters before the `@`, which one pattern cannot also say.
        s["allOf"] =
            json!([{ "pattern": if required { "^[^@]{1,64}@" } else { "^([^@]{1,64}@|$)" } }]);
    }
    s
}

/// An object with exactly these properties (unknown ones are refused), `required` among them.
fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "additionalProperties": false, "required": required, "properties": properties })
}

/// `schema`, which must hold at least one of `keys`.
fn at_least_one_of(keys: &[&str], mut schema: Value) -> Value {
    schema["anyOf"] = keys.iter().map(|k| json!({ "required": [k] })).collect();
    schema
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn list_of(name: &str) -> Value {
    json!({ "type": "array", "items": reference(name) })
}

/// A 64-bit integer (ids, versions, times in Unix milliseconds).
fn int64() -> Value {
    json!({ "type": "integer", "minimum": i64::MIN, "maximum": i64::MAX })
}

fn nullable(mut schema: Value) -> Value {
    schema["type"] = json!([schema["type"].clone(), "null"]);
    schema
}

fn message() -> Value {
    reference("Message")
}

fn query_param(name: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": description })
}

const ROLES: [&str; 4] = ["customer", "site_admin", "agent", "operator"];
const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];
const FIELD_KINDS: [&str; 5] = ["text", "number", "date", "choice", "checkbox"];

/// What an endpoint can want: an event of [`crate::webhooks::EVENTS`], or `*` for all.
fn webhook_events() -> Vec<&'static str> {
    crate::webhooks::EVENTS
        .iter()
        .copied()
        .chain(["*"])
        .collect()
}

/// The portal's languages, or null for the browser's.
const LANGUAGES: [Option<&str>; 3] = [Some("en"), Some("de"), None];
/// The time zones a person may choose, or null for the browser's.
fn time_zones() -> Vec<Option<&'static str>> {
    crate::i18n::time_zones()
        .iter()
        .map(|z| Some(z.as_str()))
        .chain([None])
        .collect()
}

/// A registered email domain, as `SiteInput` checks it.
pub const DOMAIN_PATTERN: &str = "^@*[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$";
/// A quick link: an absolute http(s) URL, or a path of this portal.
pub const URL_PATTERN: &str = "^(https?://[^\\s\\u0000-\\u001f\\u007f-\\u009f]*|/([^/\\s\\u0000-\\u001f\\u007f-\\u009f][^\\s\\u0000-\\u001f\\u007f-\\u009f]*)?)$";
/// A page cursor as lists give it.
pub const CURSOR_PATTERN: &str = "^[0-9]{1,18}(\\.[0-9]{1,18}){1,2}$";

/// Every operation as (method, path), for the test that calls each one.
pub fn listed() -> Vec<(&'static str, &'static str)> {
    operations(&Statuses::default())
        .into_iter()
        .map(|o| (o.method, o.path))
        .collect()
}

fn path_parameters(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            let schema = if name == "token" {
                json!({ "type": "string", "minLength": 1, "maxLength": text::TOKEN.max, "pattern": "^[^\\u0000]+$" })
            } else if name == "slot" {
                json!({ "enum": ["password-policy", "signup-eligibility", "ticket-workflow"] })
            } else {
                int64()
            };
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect()
}

fn responses(o: &Op) -> Value {
    let mut r = Map::new();
    let (status, body) = &o.ok;
    let mut ok = json!({ "description": "Done" });
    if let Some(schema) = body {
        let media = if schema["format"] == "binary" {
            "application/octet-stream"
        } else {
            "application/json"
        };
        ok["content"] = json!({ media: { "schema": schema } });
    }
    if *status == 201 && o.path == "/api/v1/requests" {
        ok["headers"] = json!({ "Location": { "schema": { "type": "string" }, "description": "The new request" } });
    }
    r.insert(status.to_string(), ok);
    for e in o.all_errors() {
        r.insert(
            e.to_string(),
            json!({ "$ref": format!("#/components/responses/E{e}") }),
        );
    }
    Value::Object(r)
}

fn error_response(status: u16, description: &str) -> Value {
    let mut r = json!({ "description": description, "content": { "application/json": { "schema": reference("Error") } } });
    if matches!(status, 429 | 503) {
        r["headers"] = json!({ "Retry-After": { "schema": { "type": "integer" }, "description": "Seconds to wait before trying again" } });
    }
    r
}

pub fn document(st: &Statuses) -> Value {
    let max_files = st.max_files;
    let mut paths = Map::new();
    for o in operations(st) {
        let mut parameters = path_parameters(o.path);
        parameters.extend(o.query.iter().cloned());
        let mut spec = json!({ "summary": o.summary, "operationId": format!("{} {}", o.method.to_uppercase(), o.path), "parameters": parameters, "responses": responses(&o) });
        match &o.body {
            Body::None => {}
            Body::Json(schema) => {
                spec["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": schema } } });
            }
            Body::JsonOrMultipart(schema) => {
                let mut form = schema.clone();
                form["properties"]["files"] = json!({ "type": "array", "maxItems": max_files, "items": { "type": "string", "format": "binary" } });
                spec["requestBody"] = json!({ "required": true, "content": {
                    "application/json": { "schema": schema },
                    "multipart/form-data": { "schema": form } } });
            }
            Body::Multipart(schema) => {
                spec["requestBody"] = json!({ "required": true, "content": {
                    "multipart/form-data": { "schema": schema } } });
            }
        }
        if o.auth == Auth::Session {
            spec["security"] = json!([{ "session": [] }]);
        }
        let entry = paths.entry(o.path.to_owned()).or_insert_with(|| json!({}));
        entry[o.method] = spec;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Help desk API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Accounts, sign-in and requests of the help desk. Errors are `{\"error\": {\"code\", \"message\", \"details\"?}}` with a stable `code`; 400 means the request does not have the documented form, 422 that a rule refused it; 429 and 503 answers carry `Retry-After`."
        },
        "paths": paths,
        "components": {
            "securitySchemes": { "session": { "type": "http", "scheme": "bearer", "description": "The `token` from POST /api/v1/login or /api/v1/login/code/verify" } },
            "responses": {
                "E400": error_response(400, "The request does not have the documented form; `details.field` names the field when there is one"),
                "E401": error_response(401, "No session, or not a live one (`unauthenticated`); or a wrong email or password (`invalid_credentials`)"),
                "E403": error_response(403, "Not for this account, role or session stage"),
                "E404": error_response(404, "No such thing, or one the caller may not see; or a link that is invalid, expired or used (`invalid_link`)"),
                "E408": error_response(408, "The request body arrived too slowly"),
                "E409": error_response(409, "Changed by someone else since the version given, or already in the state asked for"),
                "E413": error_response(413, "The body or an attachment is over its limit"),
                "E415": error_response(415, "The body is not JSON (or multipart where files are allowed)"),
                "E422": error_response(422, "Well-formed, but a rule refused it: the password plugin, the workflow plugin, or the state of what it names"),
                "E429": error_response(429, "Too many attempts; see `Retry-After`"),
                "E503": error_response(503, "The database or a rule plugin is briefly unavailable, or the upload budget is used up; nothing was changed"),
            },
            "schemas": schemas(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_resolves() {
        let doc = document(&Statuses {
            known: vec!["open".into()],
            held: Vec::new(),
            max_files: 5,
        });
        let text = doc.to_string();
        for part in text.split("\"$ref\":\"#/components/").skip(1) {
            let target = part.split('"').next().unwrap_or_default();
            let (kind, name) = target.split_once('/').unwrap_or_default();
            assert!(doc["components"][kind][name].is_object(), "{target}");
        }
    }
}
