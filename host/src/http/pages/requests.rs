//! The request pages: the dashboard, the requests list (the staff queue), raising a request,
//! a request's conversation with reply, status and assignment, and the operators' quick links
//! and status mapping. Worded as the customer documentation words them.

use super::{Layout, Posted, Visit, see_other};
use crate::auth::{Me, Role};
use crate::db::requests::QuickLink;
use crate::http::requests_api::download;
use crate::http::{ApiError, AppState, upload};
use crate::requests::custom::Definitions;
use crate::requests::{ListQuery, RequestError, Via, Workflow, number};
use askama::Template;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRequest, Multipart, Path, Query, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

mod conversation;
mod custom;
mod saved;
mod settings;

pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(dashboard))
        .route("/requests", get(list_page).post(create))
        .route("/requests/new", get(new_page))
        .route("/requests/watch", post(watch))
        .route("/requests/views", post(save_view))
        .route("/requests/views/{id}/delete", post(delete_view))
        .merge(conversation::router())
        .merge(settings::router())
        .merge(saved::router())
        .merge(custom::router())
        .layer(DefaultBodyLimit::max(upload_limit))
}

/// A posted multipart form (files and fields). The handler has checked who is posting; this
/// checks the CSRF token, which multipart forms carry in their address (`?csrf=`, or an
/// `X-CSRF-Token` header from a script), so that a forged or stranger's upload is refused
/// before a byte of its body is read. A form cut short by the upload limits keeps the fields
/// read before the error.
struct PostedFiles(upload::Read);

impl PostedFiles {
    /// Reads the form `req` that `owner` posts.
    async fn read(v: &Visit, req: Request, owner: i64) -> Result<PostedFiles, Response> {
        if !super::upload_csrf_matches(v, &req) {
            return Err(super::form_expired(v.tr));
        }
        let length = upload::declared_length(req.headers());
        let form = Multipart::from_request(req, &v.state)
            .await
            .map_err(|e| (StatusCode::BAD_REQUEST, e.body_text()).into_response())?;
        Ok(PostedFiles(
            upload::read(form, length, &v.state.requests.files, "files", owner).await,
        ))
    }

    fn get(&self, key: &str) -> &str {
        self.0
            .fields
            .get(key)
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// A request error as a page: the status of its API answer, and its message.
fn failed(v: &Visit, e: RequestError) -> Response {
    api_page(v, ApiError::from(e))
}

fn api_page(v: &Visit, e: ApiError) -> Response {
    let mut res = v.render(
        e.status,
        super::MessagePage::new(
            v.layout(&v.t("sorry")),
            &v.t("sorry"),
            &[&v.error_words(&e)],
            &[("/requests", &v.t("back-to-requests"))],
            true,
        ),
    );
    if let Some(s) = e.retry_after {
        res.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(s),
        );
    }
    res
}

fn active(v: &Visit, path: &str) -> Result<Me, Response> {
    v.require_active(path).cloned()
}

// --- dashboard ---

struct ListRow {
    id: i64,
    number: String,
    subject: String,
    status: String,
    site: String,
    requester: String,
    assignee: String,
    /// The priority's label; empty for `normal`, which lists leave unmarked.
    priority: String,
    /// Staff only.
    tags: Vec<String>,
    /// Its type's name, or empty.
    kind: String,
    updated: String,
}

fn list_row(v: &Visit, w: &Workflow, r: crate::db::requests::RequestRow) -> ListRow {
    ListRow {
        id: r.id,
        number: number(r.id),
        status: v.status_label(w, &r.status),
        subject: r.subject,
        site: r.site_name,
        requester: r.requester_name,
        assignee: r.assignee_name.unwrap_or_else(|| v.t("unassigned")),
        priority: match r.priority.as_str() {
            "normal" => String::new(),
            p => v.t(&format!("priority-{p}")),
        },
        tags: crate::domain::fields::split(&r.tags),
        kind: r.type_name.unwrap_or_default(),
        updated: v.time_tag(r.updated_at),
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    given_name: String,
    open: Vec<ListRow>,
    more: bool,
    links: Vec<QuickLink>,
    staff: bool,
    operator: bool,
}

async fn dashboard(v: Visit) -> Response {
    let me = match active(&v, "/dashboard") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let (page, w, links) = match v.state.requests.dashboard(&me).await {
        Ok(x) => x,
        Err(e) => return failed(&v, e),
    };
    v.render(
        StatusCode::OK,
        DashboardPage {
            layout: v.layout(&v.t("dashboard-title")),
            given_name: me.given_name.clone(),
            more: page.next.is_some(),
            open: page
                .requests
                .into_iter()
                .map(|r| list_row(&v, &w, r))
                .collect(),
            links,
            staff: me.is_staff(),
            operator: me.role == Role::Operator,
        },
    )
}

// --- list ---

#[derive(Debug, Default, Clone, serde::Deserialize)]
struct ListParams {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    site: String,
    /// A staff id, `me`, `none` (unassigned) or empty for anyone.
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    sort: String,
    /// As the API says it: `true` for unassigned requests only (as `assignee=none`).
    #[serde(default)]
    unassigned: String,
    /// `low`, `normal`, `high`, `urgent` or empty for any.
    #[serde(default)]
    priority: String,
    /// One tag, or empty for any (staff).
    #[serde(default)]
    tag: String,
    /// A request type's id, or empty for any.
    #[serde(default, rename = "type")]
    kind: String,
    /// A custom field's value, `key:value`, or empty for any.
    #[serde(default)]
    field: String,
    after: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "requests.html")]
struct ListPage {
    layout: Layout,
    heading: String,
    staff: bool,
    rows: Vec<ListRow>,
    statuses: Vec<(String, String)>,
    status: String,
    q: String,
    /// The site filtered on, by name.
    site: String,
    assignees: Vec<(String, String)>,
    assignee: String,
    priorities: Vec<(String, String)>,
    priority: String,
    tag: String,
    /// (id, name) of the types to filter by, and the one chosen.
    types: Vec<(String, String)>,
    kind: String,
    field: String,
    sort: String,
    next: Option<String>,
    watching: bool,
    notice: Option<String>,
    can_raise: bool,
    /// The agent's saved views, with how many requests each holds now.
    views: Vec<ViewLink>,
    /// This list's filter as a query string, to save as a view.
    current: String,
}

struct ViewLink {
    id: i64,
    name: String,
    href: String,
    /// "12", "100+" past the count's cap, or "—" for a view the workflow no longer answers.
    count: String,
    /// The list shown is this view.
    here: bool,
}

/// Views count their requests up to this many.
const VIEW_COUNT_CAP: i64 = 100;

/// The filter of `p` as a query string (no page cursor, no notice).
fn filter_query(p: &ListParams, status: &str) -> String {
    query_string(&[
        ("status", status),
        ("q", &p.q),
        ("site", &p.site),
        (
            "assignee",
            if p.unassigned == "true" {
                "none"
            } else {
                &p.assignee
            },
        ),
        ("priority", &p.priority),
        ("tag", &p.tag),
        ("type", &p.kind),
        ("field", &p.field),
        ("sort", &p.sort),
    ])
}

/// `me`'s saved views, each counted; `current` marks the one shown.
async fn view_links(v: &Visit, me: &Me, current: &str) -> Result<Vec<ViewLink>, Response> {
    let r = &v.state.requests;
    let views = r.queue_views(me).await.map_err(|e| failed(v, e))?;
    // A view saved with filters this page no longer takes is counted as nothing.
    let mut queries = Vec::with_capacity(views.len());
    for view in &views {
        let p: ListParams = serde_urlencoded::from_str(&view.query).unwrap_or_default();
        queries.push(list_query(v, me, &p).await.ok().map(|(q, ..)| q));
    }
    let usable: Vec<ListQuery> = queries.iter().flatten().cloned().collect();
    let mut counted = r
        .counts(me, &usable, VIEW_COUNT_CAP)
        .await
        .map_err(|e| failed(v, e))?
        .into_iter();
    let counts: Vec<Option<i64>> = queries
        .iter()
        .map(|q| q.as_ref().and_then(|_| counted.next().flatten()))
        .collect();
    Ok(views
        .into_iter()
        .zip(counts)
        .map(|(view, n)| ViewLink {
            id: view.id,
            here: view.query == current,
            href: format!("/requests?{}", view.query),
            name: view.name,
            count: match n {
                Some(n) if n >= VIEW_COUNT_CAP => format!("{VIEW_COUNT_CAP}+"),
                Some(n) => n.to_string(),
                None => "—".to_owned(),
            },
        })
        .collect())
}

async fn save_view(v: Visit, f: Posted) -> Response {
    let me = match active(&v, "/requests") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let query = f.get("query");
    match v
        .state
        .requests
        .save_queue_view(&me, f.get("name"), query)
        .await
    {
        Ok(_) => see_other(&format!("/requests?{query}")),
        Err(e) => failed(&v, e),
    }
}

async fn delete_view(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    let me = match active(&v, "/requests") {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v.state.requests.delete_queue_view(&me, id).await {
        Ok(()) => see_other("/requests"),
        Err(e) => failed(&v, e),
    }
}

fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A list address with a value the page does not offer.
fn bad_filter(v: &Visit, field: &'static str) -> Response {
    api_page(
        v,
        ApiError::bad_request(
            "invalid_query",
            v.ta("queue-bad-filter", &[("field", field.into())]),
        )
        .with_field(field),
    )
}

/// The list `p` asks for, as `me` sees it: the query, the site's name as shown, and a notice
/// when the typed site does not exist.
async fn list_query(
    v: &Visit,
    me: &Me,
    p: &ListParams,
) -> Result<(ListQuery, String, Option<String>), Response> {
    let staff = me.is_staff();
    // Staff land on the open queue; customers on all their requests.
    let status = p
        .status
        .clone()
        .unwrap_or_else(|| if staff { "open".into() } else { String::new() });
    // What the page's own choices can say, and nothing else: a hand-made address with another
    // value is told so, as the API tells it.
    let only_unassigned = match p.unassigned.as_str() {
        "" | "false" => false,
        "true" => true,
        _ => return Err(bad_filter(v, "unassigned")),
    };
    let (assignee, unassigned) = match p.assignee.as_str() {
        "" if only_unassigned => (None, true),
        _ if only_unassigned => return Err(bad_filter(v, "unassigned")),
        "" => (None, false),
        "me" => (Some(me.id), false),
        "none" => (None, true),
        other => match other.parse::<i64>() {
            Ok(id) if id > 0 => (Some(id), false),
            _ => return Err(bad_filter(v, "assignee")),
        },
    };
    if !matches!(p.sort.as_str(), "" | "newest" | "oldest" | "priority") {
        return Err(bad_filter(v, "sort"));
    }
    if !p.priority.is_empty() && crate::domain::fields::Priority::parse(&p.priority).is_err() {
        return Err(bad_filter(v, "priority"));
    }
    let tag = match p.tag.trim() {
        "" => String::new(),
        _ if !staff => String::new(),
        typed => match crate::domain::fields::tag(typed) {
            Ok(t) => t,
            Err(_) => return Err(bad_filter(v, "tag")),
        },
    };
    let type_id = match p.kind.trim() {
        "" => None,
        typed => match typed.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => return Err(bad_filter(v, "type")),
        },
    };
    // The site is typed: a name in any letter case, or its number. Staff only.
    let mut notice = None;
    let (site_id, site_name) = match p.site.trim() {
        "" => (None, String::new()),
        _ if !staff => (None, String::new()),
        typed => {
            let pool = v.state.db.pool();
            let found = match typed.parse::<i64>() {
                Ok(id) => crate::db::sites::name(pool, id)
                    .await
                    .map(|n| n.map(|n| (id, n))),
                Err(_) => crate::db::sites::by_name(pool, typed).await,
            };
            match found {
                Ok(Some((id, name))) => (Some(id), name),
                // No such site: nothing matches.
                Ok(None) => {
                    notice = Some(v.ta("queue-no-site", &[("name", typed.into())]));
                    (Some(0), typed.to_owned())
                }
                Err(e) => return Err(failed(v, e.into())),
            }
        }
    };
    let q = ListQuery {
        status: status.clone(),
        site: site_id,
        assignee,
        unassigned,
        priority: p.priority.clone(),
        tag,
        type_id,
        field: p.field.trim().to_owned(),
        search: p.q.clone(),
        after: p.after.clone().filter(|a| !a.is_empty()),
        oldest_first: p.sort == "oldest",
        by_priority: p.sort == "priority",
        limit: 25,
    };
    Ok((q, site_name, notice))
}

async fn list_page(v: Visit, Query(p): Query<ListParams>) -> Response {
    let me = match active(&v, "/requests") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let staff = me.is_staff();
    let (q, site_name, notice) = match list_query(&v, &me, &p).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let status = q.status.clone();
    let r = &v.state.requests;
    let (page, w) = match r.list(&me, &q).await {
        Ok(x) => x,
        Err(e) => return failed(&v, e),
    };
    let mut statuses = vec![
        (String::new(), v.t("statuses-all")),
        ("open".to_owned(), v.t("statuses-open")),
        ("closed".to_owned(), v.t("statuses-closed")),
    ];
    statuses.extend(
        w.statuses
            .iter()
            .map(|s| (s.key.clone(), v.translated_status(&s.key, &s.label))),
    );
    let (mut assignees, mut watching, mut views) = (Vec::new(), false, Vec::new());
    let current = filter_query(&p, &status);
    if staff {
        views = match view_links(&v, &me, &current).await {
            Ok(views) => views,
            Err(r) => return r,
        };
        assignees = vec![
            (String::new(), v.t("assignee-anyone")),
            ("me".to_owned(), v.t("assignee-me")),
            ("none".to_owned(), v.t("unassigned")),
        ];
        match r.staff(&me).await {
            Ok(all) => {
                assignees.extend(all.into_iter().map(|(id, name, _)| (id.to_string(), name)))
            }
            Err(e) => return failed(&v, e),
        }
        watching = r.watching(&me).await.unwrap_or(false);
    }
    let types = match r.definitions(&me).await {
        Ok(d) => std::iter::once((String::new(), v.t("type-any")))
            .chain(d.types.into_iter().map(|t| (t.id.to_string(), t.name)))
            .collect(),
        Err(e) => return failed(&v, e),
    };
    let next = page.next.map(|cursor| {
        format!(
            "/requests?{}",
            query_string(&[
                ("status", &status),
                ("q", &p.q),
                ("site", &p.site),
                ("assignee", &p.assignee),
                ("priority", &p.priority),
                ("tag", &p.tag),
                ("type", &p.kind),
                ("field", &p.field),
                ("sort", &p.sort),
                ("after", &cursor),
            ])
        )
    });
    let notice = match p.notice.as_deref() {
        Some("watching") => Some(v.t("notice-watching")),
        Some("not-watching") => Some(v.t("notice-not-watching")),
        _ => notice,
    };
    v.render(
        StatusCode::OK,
        ListPage {
            layout: v.layout(&v.t(if staff { "nav-queue" } else { "nav-requests" })),
            heading: v.t(if staff { "nav-queue" } else { "nav-requests" }),
            staff,
            rows: page
                .requests
                .into_iter()
                .map(|r| list_row(&v, &w, r))
                .collect(),
            statuses,
            status,
            q: p.q,
            site: site_name,
            assignees,
            assignee: p.assignee,
            priorities: std::iter::once((String::new(), v.t("priority-any")))
                .chain(
                    crate::domain::fields::Priority::ALL
                        .map(|p| (p.as_str().to_owned(), v.t(&format!("priority-{p}")))),
                )
                .collect(),
            priority: p.priority,
            tag: p.tag,
            types,
            kind: p.kind,
            field: p.field,
            sort: p.sort,
            next,
            watching,
            notice,
            can_raise: !staff,
            views,
            current,
        },
    )
}

async fn watch(v: Visit, f: Posted) -> Response {
    let me = match active(&v, "/requests") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let on = f.get("watch") == "on";
    match v.state.requests.set_watching(&me, on).await {
        Ok(()) => see_other(if on {
            "/requests?notice=watching"
        } else {
            "/requests?notice=not-watching"
        }),
        Err(e) => failed(&v, e),
    }
}

// --- new request ---

#[derive(Template)]
#[template(path = "request_form.html")]
struct NewPage {
    layout: Layout,
    error: Option<String>,
    subject: String,
    description: String,
    /// (id, name) of the types to choose from, and the one chosen.
    types: Vec<(String, String)>,
    kind: String,
    /// The custom fields the form offers.
    inputs: Vec<custom::FieldInput>,
    max_files: usize,
    max_size: String,
}

/// The new-request form, holding what `typed` says of each field.
fn new_form(
    v: &Visit,
    d: &Definitions,
    error: Option<String>,
    typed: impl Fn(&str) -> Option<String>,
) -> NewPage {
    let limits = v.state.requests.files.limits;
    NewPage {
        layout: v.layout(&v.t("nav-new-request")),
        error,
        subject: typed("subject").unwrap_or_default(),
        description: typed("description").unwrap_or_default(),
        types: custom::type_choices(d, None),
        kind: typed("type").unwrap_or_default(),
        inputs: custom::inputs(d.form_fields(), |key| typed(&format!("field.{key}"))),
        max_files: limits.max_files,
        max_size: limits.describe_size(),
    }
}

async fn new_page(v: Visit) -> Response {
    let me = match active(&v, "/requests/new") {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v.state.requests.definitions(&me).await {
        Ok(d) => v.render(StatusCode::OK, new_form(&v, &d, None, |_| None)),
        Err(e) => failed(&v, e),
    }
}

async fn create(v: Visit, req: Request) -> Response {
    let me = match active(&v, "/requests/new") {
        Ok(me) => me,
        Err(r) => return r,
    };
    if let Err(e) = v.state.requests.may_raise(&me) {
        return failed(&v, e);
    }
    let d = match v.state.requests.definitions(&me).await {
        Ok(d) => d,
        Err(e) => return failed(&v, e),
    };
    let form = match PostedFiles::read(&v, req, me.id).await {
        Ok(PostedFiles(form)) => form,
        Err(r) => return r,
    };
    let fields = form.fields.clone();
    let typed = |k: &str| fields.get(k).cloned();
    let subject = typed("subject").unwrap_or_default();
    let description = typed("description").unwrap_or_default();
    let answers = custom::posted(typed, d.form_fields());
    let again = |v: &Visit, status: StatusCode, message: String| {
        v.render(status, new_form(v, &d, Some(message), typed))
    };
    let (_, files) = match form.into_result() {
        Ok(x) => x,
        Err(e) => return again(&v, e.status, v.error_words(&e)),
    };
    match v
        .state
        .requests
        .create(&me, &subject, &description, &answers, files, Via::Portal)
        .await
    {
        Ok(id) => see_other(&format!("/requests/{id}?notice=created")),
        Err(
            e @ (RequestError::Invalid(..)
            | RequestError::Input(_)
            | RequestError::TooLarge(_)
            | RequestError::Rule(..)),
        ) => {
            let api = ApiError::from(e);
            again(&v, api.status, v.error_words(&api))
        }
        Err(e) => failed(&v, e),
    }
}
