//! The operators' request settings: dashboard quick links, and mapping statuses the active
//! workflow does not know.

use super::*;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/quick-links", get(links_page).post(add_link))
        .route("/staff/quick-links/{id}/delete", post(delete_link))
        .route(
            "/notifications",
            get(notifications_page).post(save_notifications),
        )
        .route("/staff/statuses", get(statuses_page))
        .route("/staff/statuses/map", post(map_status))
}

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

/// (role, the message key of its plural).
const ROLES: [(&str, &str); 4] = [
    ("customer", "roles-customer"),
    ("site_admin", "roles-site_admin"),
    ("agent", "roles-agent"),
    ("operator", "roles-operator"),
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
            layout: v.layout(&v.t("nav-quick-links")),
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
        .add_quick_link(&me, f.get("title"), f.get("url").trim(), &roles)
        .await
    {
        Ok(_) => see_other("/staff/quick-links"),
        Err(e @ RequestError::Invalid(..)) => {
            let api = ApiError::from(e);
            links_view(&v, &me, api.status, Some(v.error_words(&api)), Some(&f)).await
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
            layout: v.layout(&v.t("nav-statuses")),
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
            let done = v.ta(
                "statuses-moved",
                &[
                    ("count", n.into()),
                    ("from", f.get("from").into()),
                    ("to", f.get("to").into()),
                ],
            );
            statuses_view(&v, &me, StatusCode::OK, None, Some(done)).await
        }
        Err(e) => {
            let api = ApiError::from(e);
            statuses_view(&v, &me, api.status, Some(v.error_words(&api)), None).await
        }
    }
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    layout: Layout,
    notice: Option<String>,
    /// (field, label's message key, on).
    choices: Vec<(&'static str, &'static str, bool)>,
}

async fn notifications_view(v: &Visit, me: &Me, notice: Option<String>) -> Response {
    let n = match v.state.requests.notifications(me).await {
        Ok(n) => n,
        Err(e) => return failed(v, e),
    };
    v.render(
        StatusCode::OK,
        NotificationsPage {
            layout: v.layout(&v.t("notifications-title")),
            notice,
            choices: vec![
                ("created", "notifications-created", n.created),
                ("replies", "notifications-replies", n.replies),
                ("status", "notifications-status", n.status),
            ],
        },
    )
}

async fn notifications_page(v: Visit) -> Response {
    match active(&v, "/notifications") {
        Ok(me) => notifications_view(&v, &me, None).await,
        Err(r) => r,
    }
}

async fn save_notifications(v: Visit, f: Posted) -> Response {
    let me = match active(&v, "/notifications") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let n = crate::db::users::Notifications {
        created: f.checked("created"),
        replies: f.checked("replies"),
        status: f.checked("status"),
    };
    match v.state.requests.set_notifications(&me, n).await {
        Ok(()) => notifications_view(&v, &me, Some(v.t("notifications-saved"))).await,
        Err(e) => failed(&v, e),
    }
}
