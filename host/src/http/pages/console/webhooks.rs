//! The operators' webhook pages: the endpoints with a form to register one (the signing secret
//! is shown once, on the page that follows), and each endpoint's delivery log with its switch,
//! its removal and a button to send any delivery again.

use super::*;
use crate::console::{EndpointInput, LOG_ROWS};
use crate::webhooks::EVENTS;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/webhooks", get(list_page).post(add))
        .route("/staff/webhooks/{id}", get(endpoint_page))
        .route("/staff/webhooks/{id}/state", post(set_state))
        .route("/staff/webhooks/{id}/remove", post(remove))
        .route(
            "/staff/webhooks/{id}/deliveries/{delivery}/resend",
            post(resend),
        )
}

struct EndpointView {
    id: i64,
    url: String,
    events: String,
    description: String,
    active: bool,
    state: String,
    failing_since: String,
}

struct DeliveryView {
    id: i64,
    event: String,
    request: Option<(i64, String)>,
    state: String,
    attempts: i64,
    answer: String,
    last_attempt: String,
    next_attempt: String,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct ListPage {
    layout: Layout,
    error: Option<String>,
    notice: Option<String>,
    /// The URL and secret of the endpoint just registered.
    created: Option<(String, String)>,
    endpoints: Vec<EndpointView>,
    events: &'static [&'static str],
    draft_url: String,
    draft_description: String,
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct EndpointPage {
    layout: Layout,
    error: Option<String>,
    notice: Option<String>,
    endpoint: EndpointView,
    deliveries: Vec<DeliveryView>,
    log_hint: String,
}

fn view(v: &Visit, e: crate::console::Endpoint) -> EndpointView {
    let r = e.row;
    EndpointView {
        id: r.id,
        events: if e.events.iter().any(|x| x == "*") {
            v.t("webhooks-all-events")
        } else {
            e.events.join(", ")
        },
        url: r.url,
        description: r.description,
        active: r.state == "active",
        state: match r.disabled_reason {
            Some(why) if r.state != "active" => format!("{} ({why})", v.t("webhooks-off")),
            _ if r.state != "active" => v.t("webhooks-off"),
            _ => v.t("webhooks-on"),
        },
        failing_since: r.failing_since.map(|t| v.when(t)).unwrap_or_default(),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
struct Notice {
    notice: Option<String>,
}

async fn list_page(v: Visit, Query(n): Query<Notice>) -> Response {
    let me = match v.require_active("/staff/webhooks") {
        Ok(me) => me,
        Err(r) => return r,
    };
    list_view(&v, me, StatusCode::OK, None, n.notice, None, None).await
}

async fn list_view(
    v: &Visit,
    me: &Me,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
    created: Option<(String, String)>,
    draft: Option<&EndpointInput>,
) -> Response {
    let endpoints = match v.state.console.webhooks(me).await {
        Ok(e) => e,
        Err(e) => return crate::http::ApiError::from(e).into_response(),
    };
    let page = ListPage {
        layout: v.layout(&v.t("nav-webhooks")),
        error,
        notice,
        created,
        endpoints: endpoints.into_iter().map(|e| view(v, e)).collect(),
        events: &EVENTS,
        draft_url: draft.map(|d| d.url.clone()).unwrap_or_default(),
        draft_description: draft.map(|d| d.description.clone()).unwrap_or_default(),
    };
    v.render(status, page)
}

async fn add(v: Visit, f: Posted) -> Response {
    let me = match v.require_active("/staff/webhooks") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let events: Vec<String> = if f.checked("all") {
        vec!["*".into()]
    } else {
        EVENTS
            .iter()
            .filter(|e| f.checked(&format!("event-{e}")))
            .map(|e| (*e).to_owned())
            .collect()
    };
    let input = EndpointInput {
        url: f.get("url").to_owned(),
        events,
        description: f.get("description").to_owned(),
    };
    match v.state.console.add_webhook(me, &v.client, &input).await {
        Ok((e, secret)) => {
            let notice = v.t("webhooks-added");
            list_view(
                &v,
                me,
                StatusCode::CREATED,
                None,
                Some(notice),
                Some((e.row.url, secret)),
                None,
            )
            .await
        }
        Err(e) => {
            let e = crate::http::ApiError::from(e);
            if e.status == StatusCode::FORBIDDEN {
                return e.into_response();
            }
            list_view(&v, me, e.status, Some(e.message), None, None, Some(&input)).await
        }
    }
}

async fn endpoint_page(v: Visit, Path(id): Path<i64>, Query(n): Query<Notice>) -> Response {
    let path = format!("/staff/webhooks/{id}");
    let me = match v.require_active(&path) {
        Ok(me) => me,
        Err(r) => return r,
    };
    endpoint_view(&v, me, id, StatusCode::OK, None, n.notice).await
}

async fn endpoint_view(
    v: &Visit,
    me: &Me,
    id: i64,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let found = match v.state.console.webhook(me, id).await {
        Ok(e) => e,
        Err(e) => return crate::http::ApiError::from(e).into_response(),
    };
    let deliveries = match v.state.console.webhook_deliveries(me, id).await {
        Ok(d) => d,
        Err(e) => return crate::http::ApiError::from(e).into_response(),
    };
    let deliveries = deliveries
        .into_iter()
        .map(|d| DeliveryView {
            id: d.id,
            event: d.event,
            request: d.request_id.map(|r| (r, crate::requests::number(r))),
            state: match d.resent_from {
                Some(from) => format!("{} ({} #{from})", d.state, v.t("webhooks-resent-from")),
                None => d.state,
            },
            attempts: d.attempts,
            answer: match (d.last_status, d.last_error) {
                (_, Some(e)) => e,
                (Some(s), None) => s.to_string(),
                (None, None) => String::new(),
            },
            last_attempt: d.last_attempt_at.map(|t| v.when(t)).unwrap_or_default(),
            next_attempt: if d.delivered_at.is_none() && d.last_attempt_at.is_some() {
                v.when(d.next_attempt_at)
            } else {
                String::new()
            },
        })
        .collect();
    let page = EndpointPage {
        layout: v.layout(&v.t("nav-webhooks")),
        error,
        notice,
        endpoint: view(v, found),
        deliveries,
        log_hint: v.ta("webhooks-log-hint", &[("rows", LOG_ROWS.into())]),
    };
    v.render(status, page)
}

/// Back to endpoint `id`'s page saying what happened, or with the refusal.
async fn settled(
    v: &Visit,
    me: &Me,
    id: i64,
    outcome: Result<String, crate::console::ConsoleError>,
) -> Response {
    match outcome {
        Ok(notice) => {
            let q = form_urlencoded::Serializer::new(String::new())
                .append_pair("notice", &notice)
                .finish();
            see_other(&format!("/staff/webhooks/{id}?{q}"))
        }
        Err(e) => {
            let e = crate::http::ApiError::from(e);
            if matches!(e.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) {
                return e.into_response();
            }
            endpoint_view(v, me, id, e.status, Some(e.message), None).await
        }
    }
}

async fn set_state(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
    let me = match v.require_active("/staff/webhooks") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let on = f.get("enabled") == "true";
    let outcome = v
        .state
        .console
        .enable_webhook(me, &v.client, id, on)
        .await
        .map(|_| {
            v.t(if on {
                "webhooks-turned-on"
            } else {
                "webhooks-turned-off"
            })
        });
    settled(&v, me, id, outcome).await
}

async fn remove(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    let me = match v.require_active("/staff/webhooks") {
        Ok(me) => me,
        Err(r) => return r,
    };
    match v.state.console.remove_webhook(me, &v.client, id).await {
        Ok(()) => {
            let q = form_urlencoded::Serializer::new(String::new())
                .append_pair("notice", &v.t("webhooks-removed"))
                .finish();
            see_other(&format!("/staff/webhooks?{q}"))
        }
        Err(e) => crate::http::ApiError::from(e).into_response(),
    }
}

async fn resend(v: Visit, Path((id, delivery)): Path<(i64, i64)>, _f: Posted) -> Response {
    let me = match v.require_active("/staff/webhooks") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let outcome = v
        .state
        .console
        .resend_webhook(me, &v.client, id, delivery)
        .await
        .map(|new| {
            v.ta(
                "webhooks-resent",
                &[("delivery", delivery.into()), ("new", new.into())],
            )
        });
    settled(&v, me, id, outcome).await
}
