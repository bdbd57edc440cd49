//! Trying a plugin before it goes live: a question by hand, a replay of past decisions, and
//! its config as text or as the form it describes.

use super::*;

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
    fn refused(mut self, v: &Visit, e: impl Into<crate::http::ApiError>) -> Response {
        let e: crate::http::ApiError = e.into();
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
    let (settings, unreadable) = match v.state.console.config_of(me, id).await {
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
            detail: field("detail"),
        })
    };
    for k in [
        "email",
        "given_name",
        "surname",
        "today",
        "request",
        "to",
        "detail",
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
    match v.state.console.dry_run(me, id, question).await {
        Ok(r) => {
            page.question = r["question"].to_string();
            page.function = r["function"].as_str().unwrap_or_default().to_owned();
            page.tried = Some((TriedView::of(&r["candidate"]), TriedView::of(&r["active"])));
            v.render(StatusCode::OK, page)
        }
        Err(e) => page.refused(v, e),
    }
}

pub(super) async fn try_page(v: Visit, Path(id): Path<i64>) -> Response {
    let me = match v.require_active(&format!("/staff/plugins/{id}/try")) {
        Ok(me) => me,
        Err(r) => return r,
    };
    try_view(&v, me, id, None).await
}

pub(super) async fn try_it(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
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

pub(super) async fn replay_it(v: Visit, Path(id): Path<i64>, _f: Posted) -> Response {
    let (me, mut page) = match signed_in_try_page(&v, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = v.state.console.replay(me, id, 100).await;
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

pub(super) async fn reconfigure(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
    let (me, mut page) = match signed_in_try_page(&v, id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let config = f.get("config").replace("\r\n", "\n");
    match v
        .state
        .console
        .reconfigure(me, &v.client, id, &config)
        .await
    {
        Ok(r) => {
            page.reconfigured = Some(reconfigured(&r));
            page.config = config;
            v.render(StatusCode::OK, page)
        }
        Err(e) => {
            let e = crate::http::ApiError::from(e);
            let status = e.status;
            page.error = Some(e.message);
            page.config = config;
            v.render(status, page)
        }
    }
}

/// Saves the described settings of plugin `id`'s form as a new installation.
pub(super) async fn resettle(v: Visit, Path(id): Path<i64>, f: Posted) -> Response {
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
    let result = v
        .state
        .console
        .reconfigure_settings(me, &v.client, id, &input)
        .await;
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
