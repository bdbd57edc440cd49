//! One request: its conversation, files and timeline, and replying, moving and assigning it.

use super::*;
use crate::domain::markdown;
use crate::requests::custom::Answers;
use crate::requests::files::{picture_type, sniff_picture};
use crate::requests::{Message, Update};
use axum::http::{HeaderValue, header};
use timeline::TimelineView;

mod timeline;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/requests/{id}", get(detail_page))
        .route("/requests/{id}/reply", post(reply))
        .route("/requests/{id}/status", post(set_status))
        .route("/requests/{id}/assign", post(assign))
        .route("/requests/{id}/rating", post(rate))
        .route("/requests/{id}/share", post(share))
        .route("/requests/{id}/share/{user}/remove", post(unshare))
        .route("/requests/{id}/files/{file}", get(file))
        .route("/requests/{id}/files/{file}/view", get(view_image))
        .route("/requests/{id}/messages/{message}/original", get(original))
}

struct MessageView {
    id: i64,
    author: String,
    staff: bool,
    /// Where it came from: portal, API or email.
    via: String,
    /// Arrived by email; staff may download the original.
    by_email: bool,
    internal: bool,
    at: String,
    /// Sanitized HTML, rendered from the message's Markdown.
    body: String,
    files: Vec<FileView>,
}

struct FileView {
    id: i64,
    name: String,
    size: String,
    /// Sent as a picture the page shows (its bytes are checked again when it is viewed).
    image: bool,
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
    /// The priority's label.
    priority: String,
    /// The priority's key, and every priority as (key, label), for the composer (staff).
    priority_key: String,
    /// The request's priority as the page showed it, for the composer to tell a change.
    priority_was: String,
    priorities: Vec<(String, String)>,
    /// Staff only.
    tags: Vec<String>,
    /// Its type's name.
    kind: String,
    /// Its custom fields' values the reader may see: (label, value).
    values: Vec<(String, String)>,
    /// For the staff's composer: the types as (id, name), the one chosen, the one the page
    /// showed, and the custom fields' inputs.
    types: Vec<(String, String)>,
    kind_id: String,
    kind_was: String,
    inputs: Vec<custom::FieldInput>,
    version: i64,
    messages: Vec<MessageView>,
    /// The first message shown, when earlier ones are on a page before.
    earlier: Option<i64>,
    /// Showing a page before the newest.
    paged: bool,
    timeline: Vec<TimelineView>,
    /// The workflow's timers on the request: (name, when it falls due). Staff only.
    timers: Vec<(String, String)>,
    /// (status key, button label).
    moves: Vec<(String, String)>,
    /// Why no moves are offered although the workflow may have some: it failed to say.
    moves_unavailable: Option<String>,
    staff: bool,
    /// An operator: link to the plugin decisions about this request.
    decisions_link: bool,
    /// (id, name, currently assigned) of staff to assign to.
    staff_list: Vec<(i64, String, bool)>,
    error: Option<String>,
    notice: Option<String>,
    draft: Draft,
    /// Whether the request is assigned to the reader (no "Assign to me" then).
    mine: bool,
    my_id: i64,
    /// The assignee's id as the page showed it, for the composer to tell a change.
    assignee_id: String,
    /// The requester may rate it: it is theirs, and closed.
    may_rate: bool,
    /// Staff's saved replies to insert: (id, title, body).
    saved: Vec<(i64, String, String)>,
    /// Colleagues it is shared with: (user id, name, may be removed by the reader).
    shared: Vec<(i64, String, bool)>,
    /// The reader may share it: staff, the requester, the site's administrators.
    may_share: bool,
    my_id_cc: i64,
    /// The rating given: (good, comment).
    rating: Option<(bool, String)>,
    max_files: usize,
    max_size: String,
}

/// What the composer held when it was sent back with an error.
#[derive(Default)]
struct Draft {
    body: String,
    note: bool,
    status: String,
    /// The priority and tags the composer held, when they differ from the request's.
    priority: Option<String>,
    tags: Option<String>,
    /// Likewise its type (an id, or empty for none) and custom fields: (key, value).
    kind: Option<String>,
    values: Vec<(String, String)>,
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
    /// Show the messages before this one (a long conversation is shown a page at a time).
    before: Option<i64>,
}

/// How the request page is shown: its status, what to say, what the composer holds, and which
/// messages.
#[derive(Default)]
struct Showing {
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
    draft: Draft,
    /// The page of messages before this message; the newest page without it.
    before: Option<i64>,
}

async fn detail_view(v: &Visit, me: &Me, id: i64, showing: Showing) -> Response {
    let Showing {
        status,
        error,
        notice,
        draft,
        before,
    } = showing;
    let r = &v.state.requests;
    let (d, w) = match r.detail_page(me, id, before).await {
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
    let saved = if staff {
        match r.saved_replies(me).await {
            Ok(all) => all.into_iter().map(|s| (s.id, s.title, s.body)).collect(),
            Err(e) => return failed(v, e),
        }
    } else {
        Vec::new()
    };
    let may_share = crate::requests::may_share(me, &d.request);
    let shared = d
        .shared_with
        .iter()
        .map(|c| (c.user_id, c.name.clone(), may_share || c.user_id == me.id))
        .collect();
    let current_open = w.is_open(&d.request.status);
    let moves = d
        .moves
        .iter()
        .map(|s| {
            let name = v.translated_status(&s.key, &s.label);
            let label = if staff {
                name
            } else if !s.open {
                v.t("move-close")
            } else if !current_open {
                v.t("move-reopen")
            } else {
                v.ta("move-mark-as", &[("status", (&name).into())])
            };
            (s.key.clone(), label)
        })
        .collect();
    let messages = d
        .messages
        .iter()
        .map(|m| MessageView {
            id: m.id,
            author: m.author_name.clone(),
            staff: matches!(m.author_role.as_str(), "agent" | "operator" | "system"),
            via: v.t(match m.channel.as_str() {
                "email" => "channel-email",
                "api" => "channel-api",
                "workflow" => "channel-workflow",
                _ => "channel-portal",
            }),
            by_email: m.channel == "email",
            internal: m.internal == 1,
            at: v.time_tag(m.created_at),
            body: match (&m.html, m.html_renderer) {
                (Some(html), markdown::RENDERER) => html.clone(),
                // Written before the current rules; the server is rendering it again.
                _ => markdown::render(&m.body),
            },
            files: d
                .attachments
                .iter()
                .filter(|a| a.message_id == m.id)
                .map(|a| FileView {
                    id: a.id,
                    name: a.file_name.clone(),
                    size: size(a.size),
                    image: picture_type(&a.content_type).is_some(),
                })
                .collect(),
        })
        .collect();
    let timeline = timeline::entries(v, &w, &d, staff);
    let timers = d
        .timers
        .iter()
        .map(|t| (t.name.clone(), v.time_tag(t.due_at)))
        .collect();
    let limits = r.files.limits;
    let values = d
        .values
        .iter()
        .map(|x| {
            let shown = if x.kind == "checkbox" {
                v.t("field-yes")
            } else {
                x.value.clone()
            };
            (x.label.clone(), shown)
        })
        .collect();
    let holds = |key: &str| {
        d.values
            .iter()
            .find(|x| x.key == key)
            .map(|x| x.value.clone())
    };
    let drafted = |key: &str| {
        draft
            .values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, x)| x.clone())
    };
    let inputs = if staff {
        custom::edits(
            d.definitions.fields.iter().filter(|f| f.retired == 0),
            drafted,
            holds,
        )
    } else {
        Vec::new()
    };
    let kind_was = d.request.type_id.map(|t| t.to_string()).unwrap_or_default();
    let req = d.request;
    v.render(
        status,
        DetailPage {
            layout: v.layout(&format!("{} {}", number(req.id), req.subject)),
            id: req.id,
            number: number(req.id),
            status: v.status_label(&w, &req.status),
            site: req.site_name,
            requester: req.requester_name,
            assignee: req.assignee_name.unwrap_or_else(|| v.t("unassigned")),
            priority: v.t(&format!("priority-{}", req.priority)),
            priority_key: draft.priority.clone().unwrap_or(req.priority.clone()),
            priority_was: req.priority,
            priorities: crate::domain::fields::Priority::ALL
                .map(|p| (p.as_str().to_owned(), v.t(&format!("priority-{p}"))))
                .to_vec(),
            tags: crate::domain::fields::split(&req.tags),
            kind: req.type_name.clone().unwrap_or_else(|| v.t("field-none")),
            values,
            types: custom::type_choices(&d.definitions, req.type_id),
            kind_id: draft.kind.clone().unwrap_or(kind_was.clone()),
            kind_was,
            inputs,
            version: req.version,
            subject: req.subject,
            messages,
            earlier: d.earlier,
            paged: before.is_some(),
            timeline,
            timers,
            moves,
            moves_unavailable: d.moves_unavailable.as_ref().map(|u| match &u.detail {
                Some(detail) => v.ta(
                    "moves-unavailable-staff",
                    &[("detail", detail.as_str().into())],
                ),
                None => v.t("moves-unavailable"),
            }),
            staff,
            decisions_link: me.role == Role::Operator,
            staff_list,
            error,
            notice,
            draft,
            mine: req.assignee_id == Some(me.id),
            may_rate: me.id == req.requester_id && !w.is_open(&req.status),
            saved,
            shared,
            may_share,
            my_id_cc: me.id,
            rating: d.rating.map(|r| (r.rating == "good", r.comment)),
            my_id: me.id,
            assignee_id: req.assignee_id.map(|a| a.to_string()).unwrap_or_default(),
            max_files: limits.max_files,
            max_size: limits.describe_size(),
        },
    )
}

fn notice(v: &Visit, key: Option<&str>) -> Option<String> {
    let key = key?;
    const KNOWN: [&str; 11] = [
        "created",
        "sent",
        "noted",
        "status",
        "assigned",
        "rated",
        "shared",
        "unshared",
        "sent-updated",
        "noted-updated",
        "updated",
    ];
    KNOWN
        .contains(&key)
        .then(|| v.t(&format!("notice-request-{key}")))
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
        Showing {
            notice: notice(&v, p.notice.as_deref()),
            before: p.before,
            ..Showing::default()
        },
    )
    .await
}

/// The request page again with `e` explained, keeping what was typed.
async fn redo(v: &Visit, me: &Me, id: i64, e: ApiError, draft: Draft) -> Response {
    if e.status == StatusCode::NOT_FOUND || e.status == StatusCode::INTERNAL_SERVER_ERROR {
        return api_page(v, e);
    }
    let showing = Showing {
        status: e.status,
        error: Some(v.error_words(&e)),
        draft,
        ..Showing::default()
    };
    detail_view(v, me, id, showing).await
}

/// The composer: a customer's reply, or for staff a reply or internal note together with a
/// status and an assignee, all applied in one transaction.
async fn reply(v: Visit, Path(id): Path<i64>, req: Request) -> Response {
    let me = match active(&v, &format!("/requests/{id}")) {
        Ok(me) => me,
        Err(r) => return r,
    };
    if let Err(e) = v.state.requests.may_reply(&me, id).await {
        return failed(&v, e);
    }
    let form = match PostedFiles::read(&v, req, me.id).await {
        Ok(form) => form,
        Err(r) => return r,
    };
    // Priority and tags count as changed only when they differ from what the page showed, so
    // that a reply alone is never a conflict.
    let changed = |field: &str| {
        let was = form.get(&format!("{field}_was"));
        let now = form.get(field);
        let same = match field {
            "tags" => crate::domain::fields::tags_typed(now)
                .is_ok_and(|t| crate::domain::fields::joined(&t) == was),
            _ => now == was,
        };
        (me.is_staff() && !same).then(|| now.to_owned())
    };
    let (kind, values) = if me.is_staff() {
        custom::changed(&form.0.fields)
    } else {
        (None, Vec::new())
    };
    let draft = Draft {
        body: form.get("body").to_owned(),
        note: form.get("kind") == "note",
        status: form.get("status").to_owned(),
        priority: changed("priority"),
        tags: changed("tags"),
        kind,
        values,
    };
    let assignee = match form.get("assignee") {
        a if a == form.get("assignee_was") => None,
        "" => Some(None),
        a => match a.parse() {
            Ok(a) => Some(Some(a)),
            Err(_) => Some(Some(0)),
        },
    };
    let version = form.get("version").parse().ok();
    let insert = form.get("action") == "insert";
    let saved = form.get("saved").parse::<i64>().ok();
    let (_, files) = match form.0.into_result() {
        Ok(x) => x,
        Err(e) => return redo(&v, &me, id, e, draft).await,
    };
    if insert {
        // "Insert" without the script: the page again, the saved reply added to the draft.
        return insert_saved(&v, &me, id, draft, saved, !files.is_empty()).await;
    }
    let writes = !draft.body.trim().is_empty() || !files.is_empty() || !me.is_staff();
    let priority = match draft
        .priority
        .as_deref()
        .map(crate::domain::fields::Priority::parse)
    {
        Some(Err(why)) => {
            let e = ApiError::bad_request("invalid_priority", why).with_field("priority");
            return redo(&v, &me, id, e, draft).await;
        }
        Some(Ok(p)) => Some(p),
        None => None,
    };
    let tags = match draft.tags.as_deref().map(crate::domain::fields::tags_typed) {
        Some(Err(why)) => {
            let e = ApiError::bad_request("invalid_tags", why).with_field("tags");
            return redo(&v, &me, id, e, draft).await;
        }
        Some(Ok(t)) => Some(t),
        None => None,
    };
    let update = Update {
        message: writes.then(|| Message {
            body: &draft.body,
            internal: draft.note,
            uploads: files,
        }),
        status: Some(draft.status.as_str()).filter(|s| !s.is_empty()),
        assignee,
        priority,
        tags,
        answers: Answers {
            // Not a number: a type that does not exist, refused as such.
            type_id: draft
                .kind
                .as_deref()
                .map(|t| (!t.is_empty()).then(|| t.parse().unwrap_or(0))),
            values: draft.values.clone(),
        },
        version,
    };
    let more = update.status.is_some()
        || update.assignee.is_some()
        || update.priority.is_some()
        || update.tags.is_some()
        || !update.answers.is_empty();
    let assigned = update.assignee.is_some();
    match v.state.requests.update(&me, id, update, Via::Portal).await {
        Ok(_) => {
            let notice = match (writes, draft.note, more) {
                (true, false, false) => "sent",
                (true, true, false) => "noted",
                (true, false, true) => "sent-updated",
                (true, true, true) => "noted-updated",
                (false, ..) if !draft.status.is_empty() => "status",
                (false, ..) if assigned => "assigned",
                (false, ..) => "updated",
            };
            see_other(&format!("/requests/{id}?notice={notice}"))
        }
        Err(e) => redo(&v, &me, id, e.into(), draft).await,
    }
}

/// The request page with saved reply `saved` added to the draft, changing nothing.
async fn insert_saved(
    v: &Visit,
    me: &Me,
    id: i64,
    mut draft: Draft,
    saved: Option<i64>,
    had_files: bool,
) -> Response {
    let all = match v.state.requests.saved_replies(me).await {
        Ok(all) => all,
        Err(e) => return failed(v, e),
    };
    let Some(reply) = all.into_iter().find(|r| Some(r.id) == saved) else {
        return failed(v, RequestError::NotFound);
    };
    if !draft.body.trim().is_empty() {
        draft.body.push_str("\n\n");
    }
    draft.body.push_str(&reply.body);
    let mut notice = v.ta("notice-inserted", &[("title", (&reply.title).into())]);
    if had_files {
        notice.push(' ');
        notice.push_str(&v.t("notice-files-again"));
    }
    let showing = Showing {
        notice: Some(notice),
        draft,
        ..Showing::default()
    };
    detail_view(v, me, id, showing).await
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
        Err(e) => redo(&v, &me, id, e.into(), Draft::default()).await,
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
        Err(e) => redo(&v, &me, id, e.into(), Draft::default()).await,
    }
}

/// The requester's rating of their closed request.
async fn rate(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
    let me = match active(&v, &format!("/requests/{id}")) {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v
        .state
        .requests
        .rate(&me, id, f.get("rating"), f.get("comment"))
        .await
    {
        Ok(()) => see_other(&format!("/requests/{id}?notice=rated#rating")),
        Err(e) => redo(&v, &me, id, e.into(), Draft::default()).await,
    }
}

async fn share(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
    let me = match active(&v, &format!("/requests/{id}")) {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v.state.requests.share(&me, id, f.get("email")).await {
        Ok(()) => see_other(&format!("/requests/{id}?notice=shared")),
        Err(e) => redo(&v, &me, id, e.into(), Draft::default()).await,
    }
}

async fn unshare(v: Visit, Path((id, user)): Path<(i64, i64)>, _f: Posted) -> Response {
    let me = match active(&v, &format!("/requests/{id}")) {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v.state.requests.unshare(&me, id, user).await {
        // Taking oneself off leaves a request one may no longer see.
        Ok(()) if user == me.id => see_other("/requests"),
        Ok(()) => see_other(&format!("/requests/{id}?notice=unshared")),
        Err(e) => redo(&v, &me, id, e.into(), Draft::default()).await,
    }
}

async fn file(v: Visit, Path((id, file)): Path<(i64, i64)>) -> Response {
    let me = match active(&v, &format!("/requests/{id}")) {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v.state.requests.attachment(&me, id, file).await {
        Ok((a, reader, size)) => download(&a.file_name, reader, size),
        Err(e) => failed(&v, e),
    }
}

/// The email a message arrived as, for staff.
async fn original(v: Visit, Path((id, message)): Path<(i64, i64)>) -> Response {
    let me = match active(&v, &format!("/requests/{id}")) {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v.state.requests.original(&me, id, message).await {
        Ok((name, reader, size)) => download(&name, reader, size),
        Err(e) => failed(&v, e),
    }
}

/// An attached picture, to show in the page: only when its bytes are a PNG, JPEG, GIF or
/// WebP, sent as that type, sandboxed and unable to load or run anything. Anything else is
/// not found here (the download link still serves it as a file).
async fn view_image(v: Visit, Path((id, file)): Path<(i64, i64)>) -> Response {
    use tokio::io::AsyncReadExt;
    let me = match active(&v, &format!("/requests/{id}")) {
        Ok(me) => me,
        Err(r) => return r,
    };
    let (a, mut reader, size) = match v.state.requests.attachment(&me, id, file).await {
        Ok(x) => x,
        Err(e) => return failed(&v, e),
    };
    let mut head = vec![0u8; 12];
    let mut read = 0;
    while read < head.len() {
        match reader.read(&mut head[read..]).await {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return failed(&v, RequestError::Storage(e)),
        }
    }
    head.truncate(read);
    let Some(kind) = sniff_picture(&head).filter(|k| picture_type(&a.content_type) == Some(k))
    else {
        return failed(&v, RequestError::NotFound);
    };
    let body = std::io::Cursor::new(head).chain(reader);
    let mut res = Response::new(axum::body::Body::from_stream(
        tokio_util::io::ReaderStream::with_capacity(body, crate::requests::files::READ_CHUNK),
    ));
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    res
}
