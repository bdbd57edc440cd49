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
}

struct DecisionView {
    at: String,
    slot: String,
    function: String,
    plugin: String,
    request: Option<(i64, String)>,
    input: String,
    answer: String,
    /// On a shadow's disagreement: the live plugin and its answer.
    live: Option<String>,
    outcome: String,
    micros: i64,
}

#[derive(Template)]
#[template(path = "decisions.html")]
struct DecisionsPage {
    layout: Layout,
    error: Option<String>,
    slots: Vec<&'static str>,
    outcomes: &'static [&'static str],
    slot: String,
    outcome: String,
    plugin: String,
    request: String,
    /// Shadows' disagreements instead of live decisions.
    shadow: bool,
    rows: Vec<DecisionView>,
    /// The query of the next (older) page, if there is one.
    older: Option<String>,
}

async fn decisions_page(v: Visit, Query(q): Query<DecisionQuery>) -> Response {
    let me = match v.require_active("/staff/decisions") {
        Ok(me) => me,
        Err(r) => return r,
    };
    let mut page = DecisionsPage {
        layout: v.layout(&v.t("decisions-title")),
        error: None,
        slots: Slot::ALL.iter().map(|s| s.as_str()).collect(),
        outcomes: OUTCOMES,
        slot: q.slot.clone().unwrap_or_default(),
        outcome: q.outcome.clone().unwrap_or_default(),
        plugin: q.plugin.clone().unwrap_or_default(),
        request: q.request.clone().unwrap_or_default(),
        shadow: q.shadow.as_deref() == Some("true"),
        rows: Vec::new(),
        older: None,
    };
    let (filter, limit) = match q.parse() {
        Ok(x) => x,
        Err(e) => {
            page.error = Some(e.message);
            return v.render(StatusCode::BAD_REQUEST, page);
        }
    };
    let rows = match v.state.accounts.decisions(me, &filter, limit).await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    if rows.len() as i64 == limit
        && let Some(last) = rows.last()
    {
        let mut older = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("slot", &page.slot),
            ("outcome", &page.outcome),
            ("plugin", &page.plugin),
            ("request", &page.request),
        ] {
            if !v.is_empty() {
                older.append_pair(k, v);
            }
        }
        if page.shadow {
            older.append_pair("shadow", "true");
        }
        older.append_pair("before", &last.id.to_string());
        page.older = Some(older.finish());
    }
    page.rows = rows
        .into_iter()
        .map(|d| DecisionView {
            at: v.when(d.decided_at),
            slot: d.slot,
            function: d.function,
            plugin: format!("#{} ({})", d.plugin_id, &d.sha256[..d.sha256.len().min(12)]),
            request: d.request_id.map(|id| (id, crate::requests::number(id))),
            input: d.input,
            answer: d.answer.unwrap_or_else(|| "—".into()),
            live: d.live_plugin_id.map(|id| {
                format!(
                    "#{id}: {}",
                    d.live_answer
                        .or(d.live_outcome)
                        .unwrap_or_else(|| "—".into())
                )
            }),
            outcome: d.outcome,
            micros: d.micros,
        })
        .collect();
    v.render(StatusCode::OK, page)
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

/// One side of a dry run, as the page shows it.
struct TriedView {
    plugin: String,
    outcome: String,
    answer: String,
    error: String,
    micros: u64,
    instructions: u64,
    memory: String,
    logs: Vec<String>,
}

impl TriedView {
    fn of(v: &serde_json::Value) -> TriedView {
        let p = &v["plugin"];
        TriedView {
            plugin: format!(
                "#{} {} {}",
                p["id"],
                p["name"].as_str().unwrap_or_default(),
                p["version"].as_str().unwrap_or_default()
            ),
            outcome: v["outcome"].as_str().unwrap_or_default().to_owned(),
            answer: if v["answer"].is_null() {
                "—".into()
            } else {
                v["answer"].to_string()
            },
            error: v["error"].as_str().unwrap_or_default().to_owned(),
            micros: v["micros"].as_u64().unwrap_or_default(),
            instructions: v["instructions"].as_u64().unwrap_or_default(),
            memory: helpdesk_plugin_host::size(
                v["peak_memory"].as_u64().unwrap_or_default() as usize
            ),
            logs: v["logs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| l.as_str().map(str::to_owned))
                .collect(),
        }
    }
}

/// A replayed decision answered otherwise: when, question, recorded answer, this plugin's.
type Difference = (String, String, String, String);

#[derive(Template)]
#[template(path = "try.html")]
struct TryPage {
    layout: Layout,
    id: i64,
    plugin: String,
    slot: String,
    error: Option<String>,
    /// The form's values, but the password.
    values: HashMap<String, String>,
    question: String,
    function: String,
    /// (candidate, active) when asked.
    tried: Option<(TriedView, TriedView)>,
    /// A replay's summary and its differences.
    replayed: Option<(String, Vec<Difference>)>,
    /// The installation's config.
    config: String,
    /// The settings the plugin describes, as form fields; `None`: only the text.
    settings: Option<Vec<SettingView>>,
    /// Why the config cannot be shown as the settings.
    unreadable: Option<String>,
    /// A new installation with another config: its id and the config's difference.
    reconfigured: Option<(i64, Vec<String>)>,
}

/// A described setting as a form field.
struct SettingView {
    key: String,
    label: String,
    help: String,
    /// `integer`, `boolean`, `text`, `choice` or `text-list`.
    kind: &'static str,
    value: String,
    default: String,
    min: String,
    max: String,
    choices: Vec<String>,
}

impl SettingView {
    /// `value`: the setting's value under the config; `None` when it cannot be read (the
    /// form then shows the default).
    fn of(field: &ConfigField, value: Option<&config_form::Value>) -> SettingView {
        let (kind, min, max, choices) = match &field.kind {
            ConfigKind::Integer { min, max, .. } => {
                ("integer", min.to_string(), max.to_string(), Vec::new())
            }
            ConfigKind::Boolean { .. } => ("boolean", String::new(), String::new(), Vec::new()),
            ConfigKind::Text { .. } => ("text", String::new(), String::new(), Vec::new()),
            ConfigKind::Choice { choices, .. } => {
                ("choice", String::new(), String::new(), choices.clone())
            }
            ConfigKind::TextList { .. } => ("text-list", String::new(), String::new(), Vec::new()),
        };
        let default = config_form::default_of(&field.kind);
        SettingView {
            key: field.key.clone(),
            label: field.label.clone(),
            help: field.help.clone(),
            kind,
            value: config_form::shown(value.unwrap_or(&default)),
            default: config_form::shown_in_line(&default),
            min,
            max,
            choices,
        }
    }
}

impl TryPage {
    /// The page again, saying why the console refused.
    fn refused(mut self, v: &Visit, e: crate::http::ApiError) -> Response {
        let status = e.status;
        self.error = Some(e.message);
        v.render(status, self)
    }

    fn value(&self, key: &str) -> &str {
        self.values.get(key).map_or("", String::as_str)
    }
}

/// The Try page of plugin `id`, before any question: operators only.
async fn blank_try_page(v: &Visit, me: &Me, id: i64) -> Result<TryPage, Response> {
    crate::http::console_api::operator(me).map_err(IntoResponse::into_response)?;
    let row = match crate::db::plugins::get(&v.state.db, id).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return Err(crate::http::console_api::manage_error(
                crate::plugins::ManageError::UnknownPlugin(id),
            )
            .into_response());
        }
        Err(e) => return Err(crate::http::ApiError::from(e).into_response()),
    };
    // A component that cannot be prepared here still has its text to edit.
    let (settings, unreadable) = match crate::console::config_of(&v.state, me, id).await {
        Ok(view) => (
            view.fields.as_ref().map(|fields| {
                fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| SettingView::of(f, view.values.as_ref().map(|v| &v[i])))
                    .collect()
            }),
            view.unreadable,
        ),
        Err(_) => (None, None),
    };
    Ok(TryPage {
        settings,
        unreadable,
        layout: v.layout(&v.ta("try-title", &[("plugin", format!("#{id}").as_str().into())])),
        id,
        plugin: format!("#{id} {} {}", row.name, row.version),
        slot: row.slot,
        error: None,
        values: HashMap::new(),
        question: String::new(),
        function: String::new(),
        tried: None,
        replayed: None,
        config: row.config,
        reconfigured: None,
    })
}

/// The Try page of plugin `id` for the operator signed in, who is sent to sign in first if not.
async fn signed_in_try_page(v: &Visit, id: i64) -> Result<(&Me, TryPage), Response> {
    let me = v.require_active(&format!("/staff/plugins/{id}/try"))?;
    Ok((me, blank_try_page(v, me, id).await?))
}

async fn try_view(v: &Visit, me: &Me, id: i64, form: Option<&Posted>) -> Response {
    let mut page = match blank_try_page(v, me, id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(form) = form else {
        return v.render(StatusCode::OK, page);
    };
    let field = |k: &str| Some(form.get(k).trim().to_owned()).filter(|s| !s.is_empty());
    let parsed = || -> Result<crate::console::Question, String> {
        let request = match field("request") {
            None => None,
            Some(r) => Some(
                r.trim_start_matches(|c: char| !c.is_ascii_digit())
                    .parse::<i64>()
                    .map_err(|_| v.t("try-request-number"))?,
            ),
        };

        Ok(crate::console::Question {
            password: field("password"),
            email: field("email"),
            given_name: field("given_name"),
            surname: field("surname"),
            today: field("today"),
            request,
            to: field("to"),
            actor: choice(field("actor"), "actor")?,
            event: choice(field("event"), "event")?,
        })
    };
    for k in [
        "email",
        "given_name",
        "surname",
        "today",
        "request",
        "to",
        "actor",
        "event",
    ] {
        page.values.insert(k.to_owned(), form.get(k).to_owned());
    }
    let question = match parsed() {
        Ok(q) => q,
        Err(e) => {
            page.error = Some(e);
            return v.render(StatusCode::BAD_REQUEST, page);
        }
    };
    match crate::console::dry_run(&v.state, me, id, question).await {
        Ok(r) => {
            page.question = r["question"].to_string();
            page.function = r["function"].as_str().unwrap_or_default().to_owned();
            page.tried = Some((TriedView::of(&r["candidate"]), TriedView::of(&r["active"])));
            v.render(StatusCode::OK, page)
        }
        Err(e) => page.refused(v, e),
    }
}

async fn try_page(v: Visit, Path(id): Path<i64>) -> Response {
    let me = match v.require_active(&format!("/staff/plugins/{id}/try")) {
        Ok(me) => me,
        Err(r) => return r,
    };
    try_view(&v, me, id, None).await
}

async fn try_it(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
    let me = match v.require_active(&format!("/staff/plugins/{id}/try")) {
        Ok(me) => me,
        Err(r) => return r,
    };
    try_view(&v, me, id, Some(&f)).await
}

/// A choice of a form's select, read as the API reads it.
fn choice<T: serde::de::DeserializeOwned>(
    value: Option<String>,
    name: &str,
) -> Result<Option<T>, String> {
    value
        .map(|s| serde_json::from_value(serde_json::Value::String(s)))
        .transpose()
        .map_err(|_| format!("Unknown {name}."))
}

async fn replay_it(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    let (me, mut page) = match signed_in_try_page(&v, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = crate::console::replay(&v.state, me, id, 100).await;
    match result {
        Ok(r) => {
            let answer = |v: &serde_json::Value| {
                if v["answer"].is_null() {
                    v["outcome"].as_str().unwrap_or_default().to_owned()
                } else {
                    v["answer"].to_string()
                }
            };
            let count = |k: &str| r[k].as_i64().unwrap_or_default();
            let summary = v.ta(
                "try-replayed",
                &[
                    ("replayed", count("replayed").into()),
                    ("same", count("same").into()),
                    (
                        "different",
                        r["differences"].as_array().map_or(0, Vec::len).into(),
                    ),
                    ("skipped", count("skipped").into()),
                ],
            );
            let rows = r["differences"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    (
                        v.when(d["decided_at"].as_i64().unwrap_or_default()),
                        format!(
                            "{} {}",
                            d["function"].as_str().unwrap_or_default(),
                            d["question"]
                        ),
                        answer(&d["recorded"]),
                        answer(&d["candidate"]),
                    )
                })
                .collect();
            page.replayed = Some((summary, rows));
            v.render(StatusCode::OK, page)
        }
        Err(e) => page.refused(&v, e),
    }
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

async fn reconfigure(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
    let (me, mut page) = match signed_in_try_page(&v, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let config = f.get("config").replace("\r\n", "\n");
    match crate::console::reconfigure(&v.state, me, &v.client, id, &config).await {
        Ok(r) => {
            page.reconfigured = Some(reconfigured(&r));
            page.config = config;
            v.render(StatusCode::OK, page)
        }
        Err(e) => {
            let status = e.status;
            page.error = Some(e.message);
            page.config = config;
            v.render(status, page)
        }
    }
}

/// Saves the described settings of plugin `id`'s form as a new installation.
async fn resettle(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
    let (me, mut page) = match signed_in_try_page(&v, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut input: HashMap<String, String> =
        f.0.iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix("setting-")?;
                Some((key.to_owned(), v.replace("\r\n", "\n")))
            })
            .collect();
    // A checkbox left unticked is not sent: it means false, not the default.
    for s in page.settings.iter().flatten() {
        if s.kind == "boolean" {
            input.entry(s.key.clone()).or_insert_with(|| "false".into());
        }
    }
    let result = crate::console::reconfigure_settings(&v.state, me, &v.client, id, &input).await;
    // The form shows what was sent, whether it was saved or refused.
    for s in page.settings.iter_mut().flatten() {
        if let Some(sent) = input.get(&s.key) {
            s.value = sent.clone();
        }
    }
    match result {
        Ok(r) => {
            page.reconfigured = Some(reconfigured(&r));
            v.render(StatusCode::OK, page)
        }
        Err(e) => page.refused(&v, e),
    }
}

/// A new installation's id and its config's difference, from the console's answer.
fn reconfigured(r: &serde_json::Value) -> (i64, Vec<String>) {
    let diff = r["diff"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l.as_str().map(str::to_owned))
        .collect();
    (r["id"].as_i64().unwrap_or_default(), diff)
}
