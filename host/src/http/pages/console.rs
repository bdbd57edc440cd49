//! The operators' console for plugins: every slot with its active plugin, candidates and
//! history, activation and rollback in one action; the decision log.

use super::*;
use crate::domain::rules::Slot;
use crate::http::console_api::{
    DecisionQuery, OUTCOMES, activate_plugin, overview, promote_shadow, rollback_slot, slot_named,
    start_shadow, stop_shadow,
};
use crate::http::extract::Query;
use helpdesk_plugin_host::config_form;
use helpdesk_plugin_host::rules::{ConfigField, ConfigKind};

mod decisions;
mod trying;
mod webhooks;
use decisions::decisions_page;
use trying::{reconfigure, replay_it, resettle, try_it, try_page};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/staff/decisions", get(decisions_page))
        .route(
            "/staff/plugins",
            get(plugins_page).post(install).layer(DefaultBodyLimit::max(
                crate::http::console_api::UPLOAD_MAX + (64 << 10),
            )),
        )
        .route("/staff/plugins/{id}/activate", post(activate))
        .route("/staff/slots/{slot}/rollback", post(rollback))
        .route("/staff/plugins/{id}/try", get(try_page).post(try_it))
        .route("/staff/plugins/{id}/replay", post(replay_it))
        .route("/staff/plugins/{id}/config", post(reconfigure))
        .route("/staff/plugins/{id}/settings", post(resettle))
        .route("/staff/plugins/{id}/shadow", post(shadow))
        .route("/staff/slots/{slot}/shadow/stop", post(stop_shadowing))
        .route("/staff/slots/{slot}/shadow/promote", post(promote))
        .merge(webhooks::router())
}

struct PluginView {
    id: i64,
    name: String,
    version: String,
    summary: String,
    sha256: String,
    size: String,
    config: String,
    installed: String,
    /// Whether every live server has compiled it, for an activation in milliseconds.
    readiness: String,
    active: bool,
    shadow: bool,
}

/// A slot's shadow as the page shows it.
struct ShadowView {
    plugin: String,
    plugin_id: i64,
    since: String,
    asked: i64,
    disagreed: i64,
}

struct SlotView {
    slot: String,
    active: Option<String>,
    active_id: i64,
    /// "How often the active plugin failed lately", when it did.
    failing: Option<String>,
    shadow: Option<ShadowView>,
    installed: Vec<PluginView>,
    /// (when, plugin, by, rolled back).
    history: Vec<(String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "plugins.html")]
struct PluginsPage {
    layout: Layout,
    error: Option<String>,
    notice: Option<String>,
    slots: Vec<SlotView>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Notice {
    notice: Option<String>,
}

async fn plugins_page(v: Visit, Query(n): Query<Notice>) -> Response {
    let me = match v.require_active("/staff/plugins") {
        Ok(me) => me,
        Err(r) => return r,
    };
    plugins_view(&v, me, StatusCode::OK, None, n.notice).await
}

async fn plugins_view(
    v: &Visit,
    me: &Me,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let overview = match overview(&v.state, me).await {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let slots = overview
        .into_iter()
        .map(|s| {
            let name_of = |id: i64| {
                s.installed.iter().find(|p| p.id == id).map_or_else(
                    || format!("#{id}"),
                    |p| format!("#{id} {} {}", p.name, p.version),
                )
            };
            SlotView {
                slot: s.slot.to_owned(),
                active: s.active_id.map(name_of),
                active_id: s.active_id.unwrap_or_default(),
                failing: (s.failures_24h > 0).then(|| {
                    let count = if s.failures_24h >= crate::http::console_api::FAILURES_CAP {
                        format!("{}+", s.failures_24h)
                    } else {
                        s.failures_24h.to_string()
                    };
                    v.ta("plugins-failing", &[("count", count.as_str().into())])
                }),
                shadow: s.shadow.as_ref().map(|sh| ShadowView {
                    plugin: name_of(sh.plugin_id),
                    plugin_id: sh.plugin_id,
                    since: format!("{} by {}", v.when(sh.started_at), sh.started_by),
                    asked: sh.asked,
                    disagreed: sh.disagreed,
                }),
                history: s
                    .history
                    .iter()
                    .map(|h| {
                        let rolled_back = h.rolled_back_at.map_or_else(String::new, |at| {
                            format!(
                                "{} by {}",
                                v.when(at),
                                h.rolled_back_by.as_deref().unwrap_or_default()
                            )
                        });
                        (
                            v.when(h.activated_at),
                            name_of(h.plugin_id),
                            h.activated_by.clone(),
                            rolled_back,
                        )
                    })
                    .collect(),
                installed: s
                    .installed
                    .iter()
                    .map(|p| PluginView {
                        id: p.id,
                        name: p.name.clone(),
                        version: p.version.clone(),
                        summary: p.summary.clone(),
                        sha256: p.sha256.clone(),
                        size: helpdesk_plugin_host::size(p.size as usize),
                        config: p.config.clone(),
                        installed: format!("{} by {}", v.when(p.installed_at), p.installed_by),
                        readiness: if p.servers == 0 || p.compiled_on >= p.servers {
                            String::new()
                        } else {
                            v.ta(
                                "plugins-compiling",
                                &[
                                    ("ready", p.compiled_on.into()),
                                    ("servers", p.servers.into()),
                                ],
                            )
                        },
                        active: Some(p.id) == s.active_id,
                        shadow: s.shadow.as_ref().is_some_and(|sh| sh.plugin_id == p.id),
                    })
                    .collect(),
            }
        })
        .collect();
    v.render(
        status,
        PluginsPage {
            layout: v.layout(&v.t("nav-plugins")),
            error,
            notice,
            slots,
        },
    )
}

/// After a change: back to the page, saying what happened.
fn changed(notice: &str) -> Response {
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("notice", notice)
        .finish();
    see_other(&format!("/staff/plugins?{q}"))
}

/// After an action on the Plugins page: back to the page saying what happened, or the page
/// again with the refusal (a 403 as it is).
async fn settle(v: &Visit, me: &Me, outcome: Result<String, crate::http::ApiError>) -> Response {
    match outcome {
        Ok(notice) => changed(&notice),
        Err(e) if e.status == StatusCode::FORBIDDEN => e.into_response(),
        Err(e) => plugins_view(v, me, e.status, Some(e.message), None).await,
    }
}

async fn activate(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    let me = match v.require_active("/staff/plugins") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let outcome = activate_plugin(&v.state, me, &v.client, id).await.map(|d| {
        v.ta(
            "plugins-now-serves",
            &[
                ("id", id.into()),
                ("slot", d["slot"].as_str().unwrap_or_default().into()),
            ],
        )
    });
    settle(&v, me, outcome).await
}

async fn rollback(v: Visit, Path(slot): Path<String>, _f: Posted) -> Response {
    let me = match v.require_active("/staff/plugins") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let outcome = match slot_named(&slot) {
        Ok(slot) => rollback_slot(&v.state, me, &v.client, slot).await,
        Err(e) => Err(e),
    };
    let outcome = outcome.map(|d| {
        format!(
            "{slot} is back on plugin #{} on every server.",
            d["active_id"].as_i64().unwrap_or_default()
        )
    });
    settle(&v, me, outcome).await
}

async fn shadow(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    let me = match v.require_active("/staff/plugins") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let outcome = start_shadow(&v.state, me, &v.client, id).await.map(|d| {
        v.ta(
            "plugins-shadow-started",
            &[
                ("id", id.into()),
                ("slot", d["slot"].as_str().unwrap_or_default().into()),
            ],
        )
    });
    settle(&v, me, outcome).await
}

async fn stop_shadowing(v: Visit, Path(slot): Path<String>, _f: Posted) -> Response {
    let me = match v.require_active("/staff/plugins") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let outcome = match slot_named(&slot) {
        Ok(slot) => stop_shadow(&v.state, me, &v.client, slot).await,
        Err(e) => Err(e),
    };
    let outcome = outcome.map(|sh| {
        v.ta(
            "plugins-shadow-stopped",
            &[
                ("slot", slot.as_str().into()),
                ("id", sh.plugin_id.into()),
                ("disagreed", sh.disagreed.into()),
                ("asked", sh.asked.into()),
            ],
        )
    });
    settle(&v, me, outcome).await
}

async fn promote(v: Visit, Path(slot): Path<String>, _f: Posted) -> Response {
    let me = match v.require_active("/staff/plugins") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let outcome = match slot_named(&slot) {
        Ok(slot) => promote_shadow(&v.state, me, &v.client, slot).await,
        Err(e) => Err(e),
    };
    let outcome = outcome.map(|d| {
        v.ta(
            "plugins-now-serves",
            &[
                ("id", d["active_id"].as_i64().unwrap_or_default().into()),
                ("slot", slot.as_str().into()),
            ],
        )
    });
    settle(&v, me, outcome).await
}

/// Installs an uploaded component. The CSRF token comes in the address (the form's action), so
/// that a forged upload is refused before a byte of its body is read ([`upload_csrf_matches`]).
async fn install(v: Visit, req: Request) -> Response {
    let me = match v.require_active("/staff/plugins") {
        Ok(me) => me,
        Err(r) => return r,
    };
    if let Err(e) = crate::http::console_api::operator(me) {
        return e.into_response();
    }
    if !upload_csrf_matches(&v, &req) {
        return form_expired(v.tr);
    }
    let form = match axum::extract::Multipart::from_request(req, &v.state).await {
        Ok(f) => f,
        Err(e) => return (StatusCode::BAD_REQUEST, e.body_text()).into_response(),
    };
    let outcome = match crate::http::console_api::read_install(form).await {
        Ok(form) => {
            crate::http::console_api::install_component(&v.state, me, &v.client, &form).await
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(p) => changed(&v.ta(
            if p["active"] == true {
                "plugins-installed-active"
            } else {
                "plugins-installed-one"
            },
            &[
                ("id", p["id"].as_i64().unwrap_or_default().into()),
                ("name", p["name"].as_str().unwrap_or_default().into()),
                ("version", p["version"].as_str().unwrap_or_default().into()),
                ("slot", p["slot"].as_str().unwrap_or_default().into()),
            ],
        )),
        Err(e) => plugins_view(&v, me, e.status, Some(v.error_words(&e)), None).await,
    }
}
