//! The requests JSON API: everything the request pages do, for programs. New requests and
//! replies take either JSON or `multipart/form-data` (text fields plus `files`).

use super::accounts_api::full;
use super::extract::{self, Json, Path, Query};
use super::session::Bearer;
use super::{ApiError, AppState, custom_api, upload};
use crate::auth::Me;
use crate::db::requests::fields::FieldChangeRow;
use crate::db::requests::{AttachmentRow, MessageRow, QuickLink, RequestRow, StatusChangeRow};
use crate::domain::fields::Priority;
use crate::requests::files::{Reader, Upload, content_disposition};
use crate::requests::{Detail, ListQuery, Via, Workflow, number};
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/api/v1/requests", get(list).post(create))
        .route("/api/v1/requests/{id}", get(detail))
        .route("/api/v1/requests/{id}/messages", post(reply))
        .route("/api/v1/requests/{id}/status", put(set_status))
        .route("/api/v1/requests/{id}/assignee", put(assign))
        .route("/api/v1/requests/{id}/fields", put(set_fields))
        .route("/api/v1/requests/{id}/rating", put(rate))
        .route("/api/v1/requests/{id}/cc", post(share))
        .route("/api/v1/requests/{id}/cc/{user}", delete(unshare))
        .route("/api/v1/requests/{id}/attachments/{file}", get(attachment))
        .route(
            "/api/v1/requests/{id}/messages/{message}/original",
            get(original),
        )
        .route("/api/v1/statuses", get(statuses))
        .route("/api/v1/statuses/unknown", get(unknown_statuses))
        .route("/api/v1/statuses/map", post(map_status))
        .route("/api/v1/dashboard", get(dashboard))
        .route("/api/v1/quick-links", get(quick_links).post(add_quick_link))
        .route("/api/v1/quick-links/{id}", delete(delete_quick_link))
        .route(
            "/api/v1/saved-replies",
            get(saved_replies).post(add_saved_reply),
        )
        .route("/api/v1/saved-replies/{id}", delete(delete_saved_reply))
        .route("/api/v1/queue-views", get(queue_views).post(add_queue_view))
        .route("/api/v1/queue-views/{id}", delete(delete_queue_view))
        .route("/api/v1/me/watching", put(set_watching))
        .layer(DefaultBodyLimit::max(upload_limit))
}

type ApiResult<T> = Result<T, ApiError>;

fn signed_in(b: Bearer) -> ApiResult<Me> {
    full(&b.0)?;
    Ok(b.0)
}

/// A request as lists and the detail show it.
#[derive(Debug, Serialize)]
pub struct RequestView {
    /// `REQ-1042`.
    number: String,
    status_label: String,
    open: bool,
    #[serde(flatten)]
    row: RequestRow,
}

fn view(w: &Workflow, row: RequestRow) -> RequestView {
    RequestView {
        number: number(row.id),
        status_label: w.label(&row.status),
        open: w.is_open(&row.status),
        row,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    site: Option<i64>,
    assignee: Option<i64>,
    #[serde(default)]
    unassigned: bool,
    priority: Option<String>,
    tag: Option<String>,
    #[serde(rename = "type")]
    type_id: Option<i64>,
    field: Option<String>,
    #[serde(default)]
    q: String,
    after: Option<String>,
    sort: Option<String>,
    limit: Option<i64>,
}

impl ListParams {
    fn query(self) -> ApiResult<ListQuery> {
        let (oldest_first, by_priority) = match self.sort.as_deref() {
            None | Some("newest") => (false, false),
            Some("oldest") => (true, false),
            Some("priority") => (false, true),
            Some(other) => {
                return Err(ApiError::bad_request(
                    "invalid_sort",
                    format!("Unknown sort \"{other}\": use newest, oldest or priority."),
                )
                .with_field("sort"));
            }
        };
        let limit = match self.limit {
            None => 25,
            Some(n @ 1..=100) => n,
            Some(_) => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    "Query parameter `limit`: from 1 to 100.",
                )
                .with_field("limit"));
            }
        };
        let status = match self.status {
            None => String::new(),
            Some(s) if s.is_empty() => {
                return Err(ApiError::bad_request(
                    "unknown_status",
                    "Query parameter `status`: leave it out for all requests, or name a status.",
                )
                .with_field("status"));
            }
            Some(s) => s,
        };
        // Left out means any; named, it must name one.
        let named = |v: Option<String>, field: &'static str, code: &'static str| match v {
            Some(v) if v.is_empty() => Err(ApiError::bad_request(
                code,
                format!("Query parameter `{field}`: leave it out for any, or name one."),
            )
            .with_field(field)),
            v => Ok(v.unwrap_or_default()),
        };
        let priority = named(self.priority, "priority", "invalid_priority")?;
        let tag = named(self.tag, "tag", "invalid_tag")?;
        let field = named(self.field, "field", "invalid_field")?;
        Ok(ListQuery {
            status,
            site: self.site,
            assignee: self.assignee,
            unassigned: self.unassigned,
            priority,
            tag,
            type_id: self.type_id,
            field,
            search: self.q,
            after: self.after,
            oldest_first,
            by_priority,
            limit,
        })
    }
}

async fn list(
    State(s): State<AppState>,
    b: Bearer,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    let me = signed_in(b)?;
    let (page, w) = s.requests.list(&me, &p.query()?).await?;
    let requests: Vec<RequestView> = page.requests.into_iter().map(|r| view(&w, r)).collect();
    Ok(Json(json!({ "requests": requests, "next": page.next })))
}

/// A body of type `T`, as JSON or as `multipart/form-data` whose text fields are `T`'s fields
/// (the `flags` among them read as booleans, `type_id` as a number or `null`, and `fields.<key>`
/// parts, or a `fields` part holding a JSON object, as the object `fields`) and whose `files`
/// parts are attachments. Unknown fields are refused either
/// way.
async fn body<T: DeserializeOwned>(
    s: &AppState,
    req: Request,
    flags: &[&str],
    owner: i64,
) -> ApiResult<(T, Vec<Upload>)> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let Json(t) = Json::<T>::from_request(req, s).await?;
        return Ok((t, Vec::new()));
    }
    let length = upload::declared_length(req.headers());
    let form = Multipart::from_request(req, s)
        .await
        .map_err(|e| ApiError::bad_request("invalid_form", e.body_text()))?;
    let (fields, files) = upload::read(form, length, &s.requests.files, "files", owner)
        .await
        .into_result()?;
    let mut object = serde_json::Map::new();
    let mut custom = serde_json::Map::new();
    for (k, v) in fields {
        if let Some(key) = k.strip_prefix("fields.") {
            custom.insert(key.to_owned(), Value::String(v));
            continue;
        }
        // The whole object in one part, as JSON.
        if k == "fields"
            && let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&v)
        {
            custom.extend(m);
            continue;
        }
        let integer = |v: &str| {
            let digits = v.strip_prefix('-').unwrap_or(v);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        };
        let value = if k == "type_id" && v == "null" {
            Value::Null
        } else if k == "type_id" && integer(&v) {
            // An integer too large for any id names no type.
            Value::from(v.parse::<i64>().map_err(|_| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_type",
                    format!("There is no request type {v} to choose."),
                )
            })?)
        } else if flags.contains(&k.as_str()) {
            match v.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(v),
            }
        } else {
            Value::String(v)
        };
        object.insert(k, value);
    }
    if !custom.is_empty() {
        object.insert("fields".into(), Value::Object(custom));
    }
    Ok((extract::from_value(Value::Object(object))?, files))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRequest {
    subject: String,
    description: String,
    type_id: Option<i64>,
    fields: Option<serde_json::Map<String, Value>>,
}

async fn create(State(s): State<AppState>, b: Bearer, req: Request) -> ApiResult<Response> {
    let me = signed_in(b)?;
    s.requests.may_raise(&me)?;
    let (r, files) = body::<NewRequest>(&s, req, &[], me.id).await?;
    let answers = custom_api::answers(r.type_id.map(Some), r.fields)?;
    let id = s
        .requests
        .create(&me, &r.subject, &r.description, &answers, files, Via::Api)
        .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/requests/{id}"))],
        Json(json!({ "id": id, "number": number(id) })),
    )
        .into_response())
}

#[derive(Debug, Serialize)]
struct DetailView {
    #[serde(flatten)]
    request: RequestView,
    messages: Vec<MessageRow>,
    attachments: Vec<AttachmentRow>,
    timeline: Vec<TimelineEntry>,
    /// Its custom fields' values the caller may see.
    fields: Vec<crate::requests::custom::Value>,
    /// Changes of the request's fields (staff only).
    field_changes: Vec<FieldChangeRow>,
    /// The timers the workflow has set on it (staff only).
    timers: Vec<crate::db::requests::fields::TimerRow>,
    /// Statuses the caller may move the request to now.
    moves: Vec<crate::domain::rules::Status>,
    /// Set when the workflow failed to say which moves there are: `moves` is then empty.
    moves_unavailable: Option<crate::requests::RuleUnavailable>,
    /// Rules that failed while acting on the request on their own (staff only).
    rule_failures: Vec<crate::db::rule_failures::FailureRow>,
    /// The requester's rating of the closed request, if given.
    rating: Option<crate::db::requests::RatingRow>,
    /// Colleagues of the site the request is shared with (CC).
    shared_with: Vec<crate::db::requests::cc::CcRow>,
}

#[derive(Debug, Serialize)]
struct TimelineEntry {
    from_label: Option<String>,
    to_label: String,
    #[serde(flatten)]
    change: StatusChangeRow,
}

fn detail_view(w: &Workflow, d: Detail) -> DetailView {
    DetailView {
        shared_with: d.shared_with,
        request: view(w, d.request),
        messages: d.messages,
        attachments: d.attachments,
        timeline: d
            .timeline
            .into_iter()
            .map(|c| TimelineEntry {
                from_label: c.from_status.as_deref().map(|k| w.label(k)),
                to_label: w.label(&c.to_status),
                change: c,
            })
            .collect(),
        fields: d.values,
        field_changes: d.field_changes,
        timers: d.timers,
        moves: d.moves,
        moves_unavailable: d.moves_unavailable,
        rule_failures: d.rule_failures,
        rating: d.rating,
    }
}

async fn detail(
    State(s): State<AppState>,
    b: Bearer,
    Path(id): Path<i64>,
) -> ApiResult<Json<DetailView>> {
    let me = signed_in(b)?;
    let (d, w) = s.requests.detail(&me, id).await?;
    Ok(Json(detail_view(&w, d)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMessage {
    body: String,
    #[serde(default)]
    internal: bool,
}

async fn reply(
    State(s): State<AppState>,
    b: Bearer,
    Path(id): Path<i64>,
    req: Request,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let me = signed_in(b)?;
    // Who may post here is settled before a byte of the body is read.
    s.requests.may_reply(&me, id).await?;
    let (m, files) = body::<NewMessage>(&s, req, &["internal"], me.id).await?;
    let message = s
        .requests
        .reply(&me, id, &m.body, m.internal, files, Via::Api)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": message }))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
    /// The version last read; omit to apply whatever the request's version.
    version: Option<i64>,
}

async fn set_status(
    State(s): State<AppState>,
    b: Bearer,
    Path(id): Path<i64>,
    Json(p): Json<StatusBody>,
) -> ApiResult<Json<DetailView>> {
    let me = signed_in(b)?;
    s.requests
        .change_status(&me, id, &p.status, p.version)
        .await?;
    let (d, w) = s.requests.detail(&me, id).await?;
    Ok(Json(detail_view(&w, d)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssigneeBody {
    /// A member of staff, or `null` to unassign; required, so that a misspelt key is an
    /// error rather than an unassignment.
    #[serde(deserialize_with = "Option::deserialize")]
    assignee_id: Option<i64>,
    version: Option<i64>,
}

async fn assign(
    State(s): State<AppState>,
    b: Bearer,
    Path(id): Path<i64>,
    Json(p): Json<AssigneeBody>,
) -> ApiResult<Json<DetailView>> {
    let me = signed_in(b)?;
    s.requests.assign(&me, id, p.assignee_id, p.version).await?;
    let (d, w) = s.requests.detail(&me, id).await?;
    Ok(Json(detail_view(&w, d)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldsBody {
    priority: Option<String>,
    /// Every tag the request is to hold.
    tags: Option<Vec<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "custom_api::nullable")]
    type_id: Option<Option<i64>>,
    /// Custom fields by key; those not named keep their values.
    fields: Option<serde_json::Map<String, Value>>,
    version: Option<i64>,
}

async fn set_fields(
    State(s): State<AppState>,
    b: Bearer,
    Path(id): Path<i64>,
    Json(p): Json<FieldsBody>,
) -> ApiResult<Json<DetailView>> {
    let me = signed_in(b)?;
    let priority = match p.priority.as_deref() {
        Some(p) => Some(Priority::parse(p).map_err(|why| {
            ApiError::bad_request("invalid_priority", why).with_field("priority")
        })?),
        None => None,
    };
    let answers = custom_api::answers(p.type_id, p.fields)?;
    s.requests
        .set_fields(&me, id, priority, p.tags, answers, p.version)
        .await?;
    let (d, w) = s.requests.detail(&me, id).await?;
    Ok(Json(detail_view(&w, d)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareBody {
    email: String,
}

async fn share(
    State(s): State<AppState>,
    b: Bearer,
    Path(id): Path<i64>,
    Json(p): Json<ShareBody>,
) -> ApiResult<Json<DetailView>> {
    let me = signed_in(b)?;
    s.requests.share(&me, id, &p.email).await?;
    let (d, w) = s.requests.detail(&me, id).await?;
    Ok(Json(detail_view(&w, d)))
}

async fn unshare(
    State(s): State<AppState>,
    b: Bearer,
    Path((id, user)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    let me = signed_in(b)?;
    s.requests.unshare(&me, id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RatingBody {
    rating: String,
    #[serde(default)]
    comment: String,
}

async fn rate(
    State(s): State<AppState>,
    b: Bearer,
    Path(id): Path<i64>,
    Json(p): Json<RatingBody>,
) -> ApiResult<Json<DetailView>> {
    let me = signed_in(b)?;
    s.requests.rate(&me, id, &p.rating, &p.comment).await?;
    let (d, w) = s.requests.detail(&me, id).await?;
    Ok(Json(detail_view(&w, d)))
}

/// An attachment's bytes, streamed, always as a download that browsers will not sniff or
/// render.
pub fn download(file_name: &str, reader: Reader, size: u64) -> Response {
    let mut res = Response::new(Body::from_stream(
        tokio_util::io::ReaderStream::with_capacity(reader, crate::requests::files::READ_CHUNK),
    ));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, header::HeaderValue::from(size));
    if let Ok(v) = header::HeaderValue::from_str(&content_disposition(file_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-store"),
    );
    res
}

async fn attachment(
    State(s): State<AppState>,
    b: Bearer,
    Path((id, file)): Path<(i64, i64)>,
) -> ApiResult<Response> {
    let me = signed_in(b)?;
    let (a, reader, size) = s.requests.attachment(&me, id, file).await?;
    Ok(download(&a.file_name, reader, size))
}

/// The email a message arrived as, for staff.
async fn original(
    State(s): State<AppState>,
    b: Bearer,
    Path((id, message)): Path<(i64, i64)>,
) -> ApiResult<Response> {
    let me = signed_in(b)?;
    let (name, reader, size) = s.requests.original(&me, id, message).await?;
    Ok(download(&name, reader, size))
}

async fn statuses(State(s): State<AppState>, b: Bearer) -> ApiResult<Json<Workflow>> {
    signed_in(b)?;
    Ok(Json(s.requests.workflow().await?))
}

async fn unknown_statuses(State(s): State<AppState>, b: Bearer) -> ApiResult<Json<Value>> {
    let me = signed_in(b)?;
    let (unknown, w) = s.requests.unknown_statuses(Some(&me)).await?;
    let unknown: Vec<Value> = unknown
        .into_iter()
        .map(|(status, requests)| json!({ "status": status, "requests": requests }))
        .collect();
    Ok(Json(json!({ "unknown": unknown, "workflow": w })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MapBody {
    from: String,
    to: String,
}

async fn map_status(
    State(s): State<AppState>,
    b: Bearer,
    Json(p): Json<MapBody>,
) -> ApiResult<Json<Value>> {
    let me = signed_in(b)?;
    let moved = s.requests.map_status(&me, &p.from, &p.to).await?;
    Ok(Json(json!({ "moved": moved })))
}

async fn dashboard(State(s): State<AppState>, b: Bearer) -> ApiResult<Json<Value>> {
    let me = signed_in(b)?;
    let (page, w, links) = s.requests.dashboard(&me).await?;
    let open: Vec<RequestView> = page.requests.into_iter().map(|r| view(&w, r)).collect();
    Ok(Json(json!({ "open_requests": open, "quick_links": links })))
}

async fn quick_links(State(s): State<AppState>, b: Bearer) -> ApiResult<Json<Vec<QuickLink>>> {
    let me = signed_in(b)?;
    Ok(Json(s.requests.all_quick_links(&me).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    title: String,
    url: String,
    roles: Vec<String>,
}

async fn add_quick_link(
    State(s): State<AppState>,
    b: Bearer,
    Json(p): Json<LinkBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let me = signed_in(b)?;
    let id = s
        .requests
        .add_quick_link(&me, &p.title, &p.url, &p.roles)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

async fn delete_quick_link(
    State(s): State<AppState>,
    b: Bearer,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let me = signed_in(b)?;
    s.requests.delete_quick_link(&me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The saved replies the caller (staff) may insert: their own and the shared ones.
async fn saved_replies(
    State(s): State<AppState>,
    b: Bearer,
) -> ApiResult<Json<Vec<crate::db::saved_replies::SavedReply>>> {
    let me = signed_in(b)?;
    Ok(Json(s.requests.saved_replies(&me).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedReplyBody {
    title: String,
    body: String,
    #[serde(default)]
    shared: bool,
}

async fn add_saved_reply(
    State(s): State<AppState>,
    b: Bearer,
    Json(p): Json<SavedReplyBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let me = signed_in(b)?;
    let id = s
        .requests
        .save_reply(&me, &p.title, &p.body, p.shared)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

async fn delete_saved_reply(
    State(s): State<AppState>,
    b: Bearer,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let me = signed_in(b)?;
    s.requests.delete_saved_reply(&me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's (staff) saved queue views.
async fn queue_views(
    State(s): State<AppState>,
    b: Bearer,
) -> ApiResult<Json<Vec<crate::db::saved_replies::QueueView>>> {
    let me = signed_in(b)?;
    Ok(Json(s.requests.queue_views(&me).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueViewBody {
    name: String,
    query: String,
}

async fn add_queue_view(
    State(s): State<AppState>,
    b: Bearer,
    Json(p): Json<QueueViewBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let me = signed_in(b)?;
    let id = s.requests.save_queue_view(&me, &p.name, &p.query).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

async fn delete_queue_view(
    State(s): State<AppState>,
    b: Bearer,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let me = signed_in(b)?;
    s.requests.delete_queue_view(&me, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchBody {
    watching: bool,
}

async fn set_watching(
    State(s): State<AppState>,
    b: Bearer,
    Json(p): Json<WatchBody>,
) -> ApiResult<Json<Value>> {
    let me = signed_in(b)?;
    let on = p.watching;
    s.requests.set_watching(&me, on).await?;
    Ok(Json(json!({ "watching": on })))
}
