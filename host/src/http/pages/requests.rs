//! The request pages: the dashboard, the requests list (the staff queue), raising a request,
//! a request's conversation with reply, status and assignment, and the operators' quick links
//! and status mapping. Worded as the customer documentation words them.

use super::{Layout, Posted, Visit, see_other, when};
use crate::auth::{Me, Role};
use crate::db::requests::QuickLink;
use crate::http::requests_api::download;
use crate::http::{ApiError, AppState, upload};
use crate::requests::{ListQuery, RequestError, Workflow, number};
use askama::Template;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRequest, Multipart, Path, Query, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(dashboard))
        .route("/requests", get(list_page).post(create))
        .route("/requests/new", get(new_page))
        .route("/requests/watch", post(watch))
        .route("/requests/{id}", get(detail_page))
        .route("/requests/{id}/reply", post(reply))
        .route("/requests/{id}/status", post(set_status))
        .route("/requests/{id}/assign", post(assign))
        .route("/requests/{id}/files/{file}", get(file))
        .route("/staff/quick-links", get(links_page).post(add_link))
        .route("/staff/quick-links/{id}/delete", post(delete_link))
        .route("/staff/statuses", get(statuses_page))
        .route("/staff/statuses/map", post(map_status))
        .layer(DefaultBodyLimit::max(upload_limit))
}

/// A posted multipart form (files and fields) whose CSRF token matched the browser's cookie.
/// A form cut short by the upload limits keeps the fields read before the error.
struct PostedFiles(upload::Read);

impl FromRequest<AppState> for PostedFiles {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<PostedFiles, Response> {
        let expected =
            super::cookie(req.headers(), &state.web.cookie_name(super::CSRF)).map(str::to_owned);
        let form = Multipart::from_request(req, state)
            .await
            .map_err(|e| (StatusCode::BAD_REQUEST, e.body_text()).into_response())?;
        let read = upload::read(form, state.requests.files.limits, "files").await;
        let given = read
            .fields
            .get("csrf")
            .map(String::as_str)
            .unwrap_or_default();
        match expected {
            Some(e) if !given.is_empty() && crate::auth::secret::same(&e, given) => {
                Ok(PostedFiles(read))
            }
            _ => Err(super::form_expired()),
        }
    }
}

impl PostedFiles {
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
    v.render(
        e.status,
        super::MessagePage::new(
            v.layout("Sorry"),
            "Sorry",
            &[e.message.as_str()],
            &[("/requests", "Back to requests")],
            true,
        ),
    )
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
    updated: String,
}

fn list_row(w: &Workflow, r: crate::db::requests::RequestRow) -> ListRow {
    ListRow {
        id: r.id,
        number: number(r.id),
        status: w.label(&r.status),
        subject: r.subject,
        site: r.site_name,
        requester: r.requester_name,
        assignee: r.assignee_name.unwrap_or_else(|| "Unassigned".into()),
        updated: when(r.updated_at),
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
            layout: v.layout("Dashboard"),
            given_name: me.given_name.clone(),
            more: page.next.is_some(),
            open: page.requests.into_iter().map(|r| list_row(&w, r)).collect(),
            links,
            staff: me.is_staff(),
            operator: me.role == Role::Operator,
        },
    )
}

// --- list ---

#[derive(Debug, Default, serde::Deserialize)]
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
    sites: Vec<(String, String)>,
    site: String,
    assignees: Vec<(String, String)>,
    assignee: String,
    sort: String,
    next: Option<String>,
    watching: bool,
    notice: Option<String>,
    can_raise: bool,
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

async fn list_page(v: Visit, Query(p): Query<ListParams>) -> Response {
    let me = match active(&v, "/requests") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let staff = me.is_staff();
    // Staff land on the open queue; customers on all their requests.
    let status = p
        .status
        .clone()
        .unwrap_or_else(|| if staff { "open".into() } else { String::new() });
    let (assignee, unassigned) = match p.assignee.as_str() {
        "me" => (Some(me.id), false),
        "none" => (None, true),
        other => (other.parse().ok(), false),
    };
    let q = ListQuery {
        status: status.clone(),
        site: p.site.parse().ok(),
        assignee,
        unassigned,
        search: p.q.clone(),
        after: p.after.clone().filter(|a| !a.is_empty()),
        oldest_first: p.sort == "oldest",
        limit: 25,
    };
    let r = &v.state.requests;
    let (page, w) = match r.list(&me, &q).await {
        Ok(x) => x,
        Err(e) => return failed(&v, e),
    };
    let mut statuses = vec![
        (String::new(), "All statuses".to_owned()),
        ("open".to_owned(), "All open".to_owned()),
        ("closed".to_owned(), "All closed".to_owned()),
    ];
    statuses.extend(w.statuses.iter().map(|s| (s.key.clone(), s.label.clone())));
    let (mut sites, mut assignees, mut watching) = (Vec::new(), Vec::new(), false);
    if staff {
        sites.push((String::new(), "All sites".to_owned()));
        match v.state.accounts.sites(Some(&me)).await {
            Ok(all) => sites.extend(all.into_iter().map(|s| (s.id.to_string(), s.name))),
            Err(e) => return super::error_page(e),
        }
        assignees = vec![
            (String::new(), "Anyone".to_owned()),
            ("me".to_owned(), "Me".to_owned()),
            ("none".to_owned(), "Unassigned".to_owned()),
        ];
        match r.staff(&me).await {
            Ok(all) => {
                assignees.extend(all.into_iter().map(|(id, name, _)| (id.to_string(), name)))
            }
            Err(e) => return failed(&v, e),
        }
        watching = r.watching(&me).await.unwrap_or(false);
    }
    let next = page.next.map(|cursor| {
        format!(
            "/requests?{}",
            query_string(&[
                ("status", &status),
                ("q", &p.q),
                ("site", &p.site),
                ("assignee", &p.assignee),
                ("sort", &p.sort),
                ("after", &cursor),
            ])
        )
    });
    let notice = match p.notice.as_deref() {
        Some("watching") => {
            Some("You will be emailed about customer replies to unassigned requests.".to_owned())
        }
        Some("not-watching") => {
            Some("You will no longer be emailed about unassigned requests.".to_owned())
        }
        _ => None,
    };
    v.render(
        StatusCode::OK,
        ListPage {
            layout: v.layout(if staff { "Queue" } else { "Requests" }),
            heading: if staff { "Queue" } else { "Requests" }.to_owned(),
            staff,
            rows: page.requests.into_iter().map(|r| list_row(&w, r)).collect(),
            statuses,
            status,
            q: p.q,
            sites,
            site: p.site,
            assignees,
            assignee: p.assignee,
            sort: p.sort,
            next,
            watching,
            notice,
            can_raise: !staff,
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
    max_files: usize,
    max_size: String,
}

fn new_form(v: &Visit, error: Option<String>, subject: &str, description: &str) -> NewPage {
    let limits = v.state.requests.files.limits;
    NewPage {
        layout: v.layout("New request"),
        error,
        subject: subject.to_owned(),
        description: description.to_owned(),
        max_files: limits.max_files,
        max_size: limits.describe_size(),
    }
}

async fn new_page(v: Visit) -> Response {
    if let Err(r) = active(&v, "/requests/new") {
        return r;
    }
    v.render(StatusCode::OK, new_form(&v, None, "", ""))
}

async fn create(v: Visit, PostedFiles(form): PostedFiles) -> Response {
    let me = match active(&v, "/requests/new") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let subject = form.fields.get("subject").cloned().unwrap_or_default();
    let description = form.fields.get("description").cloned().unwrap_or_default();
    let again = |v: &Visit, status: StatusCode, message: String| {
        v.render(status, new_form(v, Some(message), &subject, &description))
    };
    let (_, files) = match form.into_result() {
        Ok(x) => x,
        Err(e) => return again(&v, e.status, e.message),
    };
    match v
        .state
        .requests
        .create(&me, &subject, &description, files)
        .await
    {
        Ok(id) => see_other(&format!("/requests/{id}?notice=created")),
        Err(e @ (RequestError::Invalid(..) | RequestError::TooLarge(_))) => {
            let api = ApiError::from(e);
            again(&v, api.status, api.message)
        }
        Err(e) => failed(&v, e),
    }
}

// --- one request ---

struct MessageView {
    author: String,
    staff: bool,
    internal: bool,
    at: String,
    body: String,
    files: Vec<FileView>,
}

struct FileView {
    id: i64,
    name: String,
    size: String,
}

struct TimelineView {
    at: String,
    from: String,
    to: String,
    by: String,
    plugin: String,
}

#[derive(Template)]
#[template(path = "request.html")]
struct DetailPage {
    layout: Layout,
    id: i64,
    number: String,
    subject: String,
    status: String,
    site: String,
    requester: String,
    assignee: String,
    version: i64,
    messages: Vec<MessageView>,
    timeline: Vec<TimelineView>,
    /// (status key, button label).
    moves: Vec<(String, String)>,
    staff: bool,
    /// (id, name, currently assigned) of staff to assign to.
    staff_list: Vec<(i64, String, bool)>,
    error: Option<String>,
    notice: Option<String>,
    draft: String,
    max_files: usize,
    max_size: String,
}

fn size(bytes: i64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.0} KiB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
struct DetailParams {
    notice: Option<String>,
}

async fn detail_view(
    v: &Visit,
    me: &Me,
    id: i64,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
    draft: &str,
) -> Response {
    let r = &v.state.requests;
    let (d, w) = match r.detail(me, id).await {
        Ok(x) => x,
        Err(e) => return failed(v, e),
    };
    let staff = me.is_staff();
    let staff_list = if staff {
        match r.staff(me).await {
            Ok(s) => s
                .into_iter()
                .map(|(id, name, _)| (id, name, d.request.assignee_id == Some(id)))
                .collect(),
            Err(e) => return failed(v, e),
        }
    } else {
        Vec::new()
    };
    let current_open = w.is_open(&d.request.status);
    let moves = d
        .moves
        .iter()
        .map(|s| {
            let label = if staff {
                s.label.clone()
            } else if !s.open {
                "Close request".to_owned()
            } else if !current_open {
                "Reopen request".to_owned()
            } else {
                format!("Mark as {}", s.label)
            };
            (s.key.clone(), label)
        })
        .collect();
    let messages = d
        .messages
        .iter()
        .map(|m| MessageView {
            author: m.author_name.clone(),
            staff: matches!(m.author_role.as_str(), "agent" | "operator"),
            internal: m.internal == 1,
            at: when(m.created_at),
            body: m.body.clone(),
            files: d
                .attachments
                .iter()
                .filter(|a| a.message_id == m.id)
                .map(|a| FileView {
                    id: a.id,
                    name: a.file_name.clone(),
                    size: size(a.size),
                })
                .collect(),
        })
        .collect();
    let timeline = d
        .timeline
        .iter()
        .map(|c| TimelineView {
            at: when(c.at),
            from: c
                .from_status
                .as_deref()
                .map(|k| w.label(k))
                .unwrap_or_default(),
            to: w.label(&c.to_status),
            by: match (&c.actor_name, c.cause.as_str()) {
                (Some(name), "created") => format!("{name} (raised the request)"),
                (Some(name), "mapped") => format!("{name} (mapped after a workflow change)"),
                (Some(name), _) => name.clone(),
                (None, cause) => format!(
                    "Workflow, after {}",
                    cause.trim_start_matches("event:").replace('-', " ")
                ),
            },
            plugin: format!(
                "{} {} (sha256 {})",
                c.plugin_name,
                c.plugin_version,
                c.plugin_sha256.get(..12).unwrap_or(&c.plugin_sha256)
            ),
        })
        .collect();
    let limits = r.files.limits;
    let req = d.request;
    v.render(
        status,
        DetailPage {
            layout: v.layout(&format!("{} {}", number(req.id), req.subject)),
            id: req.id,
            number: number(req.id),
            status: w.label(&req.status),
            site: req.site_name,
            requester: req.requester_name,
            assignee: req.assignee_name.unwrap_or_else(|| "Unassigned".into()),
            version: req.version,
            subject: req.subject,
            messages,
            timeline,
            moves,
            staff,
            staff_list,
            error,
            notice,
            draft: draft.to_owned(),
            max_files: limits.max_files,
            max_size: limits.describe_size(),
        },
    )
}

fn notice(key: Option<&str>) -> Option<String> {
    Some(
        match key? {
            "created" => "Your request has been sent. We have emailed you a confirmation.",
            "sent" => "Your message has been sent.",
            "noted" => "Internal note added. Customers never see it.",
            "status" => "Status changed.",
            "assigned" => "Assignment saved.",
            _ => return None,
        }
        .to_owned(),
    )
}

async fn detail_page(v: Visit, Path(id): Path<i64>, Query(p): Query<DetailParams>) -> Response {
    let me = match active(&v, &format!("/requests/{id}")) {
        Ok(me) => me,
        Err(r) => return r,
    };
    detail_view(
        &v,
        &me,
        id,
        StatusCode::OK,
        None,
        notice(p.notice.as_deref()),
        "",
    )
    .await
}

/// The request page again with `e` explained, keeping what was typed.
async fn redo(v: &Visit, me: &Me, id: i64, e: ApiError, draft: &str) -> Response {
    if e.status == StatusCode::NOT_FOUND || e.status == StatusCode::INTERNAL_SERVER_ERROR {
        return api_page(v, e);
    }
    detail_view(v, me, id, e.status, Some(e.message), None, draft).await
}

async fn reply(v: Visit, Path(id): Path<i64>, form: PostedFiles) -> Response {
    let me = match active(&v, &format!("/requests/{id}")) {
        Ok(me) => me,
        Err(r) => return r,
    };
    let body = form.get("body").to_owned();
    let internal = form.get("kind") == "note";
    let (_, files) = match form.0.into_result() {
        Ok(x) => x,
        Err(e) => return redo(&v, &me, id, e, &body).await,
    };
    match v
        .state
        .requests
        .reply(&me, id, &body, internal, files)
        .await
    {
        Ok(_) => see_other(&format!(
            "/requests/{id}?notice={}",
            if internal { "noted" } else { "sent" }
        )),
        Err(e) => redo(&v, &me, id, e.into(), &body).await,
    }
}

async fn set_status(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
    let me = match active(&v, &format!("/requests/{id}")) {
        Ok(me) => me,
        Err(r) => return r,
    };
    let version = f.get("version").parse().ok();
    match v
        .state
        .requests
        .change_status(&me, id, f.get("status"), version)
        .await
    {
        Ok(()) => see_other(&format!("/requests/{id}?notice=status")),
        Err(e) => redo(&v, &me, id, e.into(), "").await,
    }
}

async fn assign(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
    let me = match active(&v, &format!("/requests/{id}")) {
        Ok(me) => me,
        Err(r) => return r,
    };
    let version = f.get("version").parse().ok();
    let assignee = f.get("assignee").parse().ok();
    match v.state.requests.assign(&me, id, assignee, version).await {
        Ok(()) => see_other(&format!("/requests/{id}?notice=assigned")),
        Err(e) => redo(&v, &me, id, e.into(), "").await,
    }
}

async fn file(v: Visit, Path((id, file)): Path<(i64, i64)>) -> Response {
    let me = match active(&v, &format!("/requests/{id}")) {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v.state.requests.attachment(&me, id, file).await {
        Ok((a, bytes)) => download(&a, bytes),
        Err(e) => failed(&v, e),
    }
}

// --- operators: quick links and statuses ---

#[derive(Template)]
#[template(path = "quick_links.html")]
struct LinksPage {
    layout: Layout,
    links: Vec<QuickLink>,
    error: Option<String>,
    title: String,
    url: String,
    roles: Vec<(&'static str, &'static str, bool)>,
}

const ROLES: [(&str, &str); 4] = [
    ("customer", "Customers"),
    ("site_admin", "Site Administrators"),
    ("agent", "Agents"),
    ("operator", "Operators"),
];

async fn links_view(
    v: &Visit,
    me: &Me,
    status: StatusCode,
    error: Option<String>,
    form: Option<&Posted>,
) -> Response {
    let links = match v.state.requests.all_quick_links(me).await {
        Ok(l) => l,
        Err(e) => return failed(v, e),
    };
    let field = |k: &str| form.map(|f| f.get(k).to_owned()).unwrap_or_default();
    v.render(
        status,
        LinksPage {
            layout: v.layout("Quick links"),
            links,
            error,
            title: field("title"),
            url: field("url"),
            roles: ROLES
                .iter()
                .map(|(k, l)| (*k, *l, form.is_none_or(|f| f.checked(&format!("role_{k}")))))
                .collect(),
        },
    )
}

async fn links_page(v: Visit) -> Response {
    match active(&v, "/staff/quick-links") {
        Ok(me) => links_view(&v, &me, StatusCode::OK, None, None).await,
        Err(r) => r,
    }
}

async fn add_link(v: Visit, f: Posted) -> Response {
    let me = match active(&v, "/staff/quick-links") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let roles: Vec<String> = ROLES
        .iter()
        .filter(|(k, _)| f.checked(&format!("role_{k}")))
        .map(|(k, _)| (*k).to_owned())
        .collect();
    match v
        .state
        .requests
        .add_quick_link(&me, f.get("title"), f.get("url"), &roles)
        .await
    {
        Ok(_) => see_other("/staff/quick-links"),
        Err(e @ RequestError::Invalid(..)) => {
            let api = ApiError::from(e);
            links_view(&v, &me, api.status, Some(api.message), Some(&f)).await
        }
        Err(e) => failed(&v, e),
    }
}

async fn delete_link(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    let me = match active(&v, "/staff/quick-links") {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v.state.requests.delete_quick_link(&me, id).await {
        Ok(()) => see_other("/staff/quick-links"),
        Err(e) => failed(&v, e),
    }
}

#[derive(Template)]
#[template(path = "statuses.html")]
struct StatusesPage {
    layout: Layout,
    plugin: String,
    statuses: Vec<(String, String, bool)>,
    unknown: Vec<(String, i64)>,
    error: Option<String>,
    notice: Option<String>,
}

async fn statuses_view(
    v: &Visit,
    me: &Me,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let (unknown, w) = match v.state.requests.unknown_statuses(Some(me)).await {
        Ok(x) => x,
        Err(e) => return failed(v, e),
    };
    v.render(
        status,
        StatusesPage {
            layout: v.layout("Statuses"),
            plugin: w.by.to_string(),
            statuses: w
                .statuses
                .iter()
                .map(|s| (s.key.clone(), s.label.clone(), s.open))
                .collect(),
            unknown,
            error,
            notice,
        },
    )
}

async fn statuses_page(v: Visit) -> Response {
    match active(&v, "/staff/statuses") {
        Ok(me) => statuses_view(&v, &me, StatusCode::OK, None, None).await,
        Err(r) => r,
    }
}

async fn map_status(v: Visit, f: Posted) -> Response {
    let me = match active(&v, "/staff/statuses") {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v
        .state
        .requests
        .map_status(&me, f.get("from"), f.get("to"))
        .await
    {
        Ok(n) => {
            let done = format!(
                "Moved {n} request{} from \"{}\" to \"{}\".",
                if n == 1 { "" } else { "s" },
                f.get("from"),
                f.get("to")
            );
            statuses_view(&v, &me, StatusCode::OK, None, Some(done)).await
        }
        Err(e) => {
            let api = ApiError::from(e);
            statuses_view(&v, &me, api.status, Some(api.message), None).await
        }
    }
}
