//! The operators' console API for plugins: every slot with its active plugin, installed
//! candidates and history; activation and rollback; the decision log.

use super::accounts_api::full;
use super::extract::{Json, Path, Query};
use super::session::{Bearer, ClientInfo};
use super::{ApiError, AppState};
use crate::auth::{Client, Me, Role};
use crate::console::acting;
use crate::db::decisions::{DecisionRow, Filter};
use crate::domain::rules::Slot;
use crate::plugins::ManageError;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

/// Outcomes a decision can be filtered by: `ok`, `failed` (any failure), or one failure kind.
pub const OUTCOMES: &[&str] = &[
    "ok",
    "failed",
    "not_active",
    "out_of_fuel",
    "timeout",
    "memory_limit",
    "trap",
    "output_too_large",
    "malformed",
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/decisions", get(decisions))
        .route(
            "/api/v1/plugins",
            get(plugins)
                .post(install)
                .layer(axum::extract::DefaultBodyLimit::max(
                    UPLOAD_MAX + (64 << 10),
                )),
        )
        .route("/api/v1/plugins/{id}/activate", post(activate))
        .route("/api/v1/slots/{slot}/rollback", post(rollback))
        .route("/api/v1/plugins/{id}/dry-run", post(dry_run))
        .route("/api/v1/plugins/{id}/replay", post(replay))
        .route(
            "/api/v1/plugins/{id}/config",
            get(config_of).post(reconfigure),
        )
        .route("/api/v1/plugins/{id}/shadow", post(shadow))
        .route(
            "/api/v1/slots/{slot}/shadow",
            axum::routing::delete(stop_shadowing),
        )
        .route("/api/v1/slots/{slot}/shadow/promote", post(promote))
}

/// The decision log's filters, as the API and the page take them; an empty value (a form's
/// blank field) is no filter.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionQuery {
    pub slot: Option<String>,
    pub plugin: Option<String>,
    pub outcome: Option<String>,
    pub request: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub before: Option<String>,
    pub limit: Option<String>,
    /// `true`: shadows' disagreements instead of live decisions.
    pub shadow: Option<String>,
}

impl DecisionQuery {
    /// The filter and page size, or a 400 naming the parameter.
    pub fn parse(&self) -> Result<(Filter, i64), ApiError> {
        let bad = |field: &str, message: &str| {
            ApiError::bad_request(
                "invalid_query",
                format!("Query parameter `{field}`: {message}"),
            )
            .with_field(field)
        };
        let text = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
        let slot = text(&self.slot);
        if let Some(s) = &slot
            && s.parse::<Slot>().is_err()
        {
            return Err(bad(
                "slot",
                "one of password-policy, signup-eligibility, ticket-workflow.",
            ));
        }
        let outcome = text(&self.outcome);
        if let Some(o) = &outcome
            && !OUTCOMES.contains(&o.as_str())
        {
            return Err(bad("outcome", &format!("one of {}.", OUTCOMES.join(", "))));
        }
        // A whole number from `min` up, where one is given.
        let number = |field: &str, v: &Option<String>, min: i64, what: &str| match text(v)
            .map(|t| t.parse::<i64>())
        {
            None => Ok(None),
            Some(Ok(n)) if n >= min => Ok(Some(n)),
            Some(_) => Err(bad(field, what)),
        };
        let id = "a positive whole number.";
        let time = "a time in Unix milliseconds.";
        let shadow = match text(&self.shadow).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(bad("shadow", "true or false.")),
        };
        let limit = number("limit", &self.limit, 1, "from 1 to 500.")?.unwrap_or(100);
        if limit > 500 {
            return Err(bad("limit", "from 1 to 500."));
        }
        Ok((
            Filter {
                slot,
                plugin_id: number("plugin", &self.plugin, 1, id)?,
                outcome,
                request_id: number("request", &self.request, 1, id)?,
                since: number("since", &self.since, 0, time)?,
                until: number("until", &self.until, 0, time)?,
                before: number("before", &self.before, 1, id)?,
                shadow,
            },
            limit,
        ))
    }
}

/// A decision as the API shows it: the question and the answer as JSON values.
pub fn decision_json(d: DecisionRow) -> Value {
    let parse = |s: &str| serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()));
    json!({
        "id": d.id,
        "decided_at": d.decided_at,
        "slot": d.slot,
        "function": d.function,
        "plugin_id": d.plugin_id,
        "sha256": d.sha256,
        "request_id": d.request_id,
        "input": parse(&d.input),
        "answer": d.answer.as_deref().map(parse),
        "outcome": d.outcome,
        "error": d.error,
        "micros": d.micros,
        "live": d.live_plugin_id.map(|id| json!({
            "plugin_id": id,
            "outcome": d.live_outcome,
            "answer": d.live_answer.as_deref().map(parse),
        })),
    })
}

async fn decisions(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    Query(q): Query<DecisionQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    full(&me)?;
    let (filter, limit) = q.parse()?;
    let rows = s.accounts.decisions(&me, &filter, limit).await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    Ok(axum::Json(json!({
        "decisions": rows.into_iter().map(decision_json).collect::<Vec<_>>(),
        "next_before": next,
    })))
}

pub(crate) fn operator(me: &Me) -> Result<(), ApiError> {
    full(me)?;
    if me.is_active() && me.role == Role::Operator {
        Ok(())
    } else {
        Err(crate::auth::AuthError::Forbidden.into())
    }
}

/// A refused plugin change as an API error. A component that fails while it is being
/// installed or activated (it traps, loops or answers malformed in `info` or `validate-config`)
/// is refused for its own fault, with the reason: trying again would not help.
pub fn manage_error(e: ManageError) -> ApiError {
    let e = match e {
        ManageError::Plugin(p) if p.plugin.is_some() => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "plugin_failed",
                format!("The component failed while it was checked: {p}."),
            );
        }
        ManageError::Plugin(p) => return p.into(),
        ManageError::Db(d) => return d.into(),
        other => other,
    };
    let (status, code) = match &e {
        ManageError::UnknownPlugin(_) => (StatusCode::NOT_FOUND, "not_found"),
        ManageError::AlreadyActive(..)
        | ManageError::NothingToRollBack(_)
        | ManageError::NoShadow(_) => (StatusCode::CONFLICT, "conflict"),
        ManageError::NotReady { .. } => (StatusCode::CONFLICT, "not_ready"),
        _ => (StatusCode::UNPROCESSABLE_ENTITY, "plugin_refused"),
    };
    ApiError::new(status, code, format!("{e}."))
}

/// One slot as the console shows it: the plugin serving it, the candidate in shadow and what
/// it was compared on, what is installed for it (newest first), and its recent activations
/// (newest first).
#[derive(Debug, serde::Serialize)]
pub struct SlotOverview {
    pub slot: &'static str,
    pub active_id: Option<i64>,
    pub shadow: Option<crate::db::plugins::Shadow>,
    pub installed: Vec<crate::db::plugins::Installed>,
    pub history: Vec<crate::db::plugins::Activation>,
    /// How often the active plugin failed in the last 24 hours (up to [`FAILURES_CAP`]): what
    /// it would have decided was refused, or an automatic move not made.
    pub failures_24h: i64,
}

/// Failures of an active plugin are counted up to this many.
pub const FAILURES_CAP: i64 = 1000;

/// Every slot, for operators.
pub async fn overview(state: &AppState, me: &Me) -> Result<Vec<SlotOverview>, ApiError> {
    operator(me)?;
    let mut installed = crate::db::plugins::installed(&state.db).await?;
    let live_since = crate::db::now_ms() - crate::plugins::LIVE.as_millis() as i64;
    let counts = crate::db::replicas::compiled_counts(&state.db, live_since).await?;
    for p in &mut installed {
        if let Some((_, compiled, live)) = counts.iter().find(|(id, _, _)| *id == p.id) {
            (p.compiled_on, p.servers) = (*compiled, *live);
        }
    }
    let mut shadows = crate::db::plugins::shadows(&state.db).await?;
    let mut slots = Vec::new();
    for slot in Slot::ALL {
        let slot = slot.as_str();
        let active_id = crate::db::plugins::active_id(&state.db, slot).await?;
        let failures_24h = match active_id {
            Some(id) => {
                let since = crate::db::now_ms() - 24 * 3600 * 1000;
                crate::db::decisions::failures_since(&state.db, id, since, FAILURES_CAP).await?
            }
            None => 0,
        };
        slots.push(SlotOverview {
            slot,
            active_id,
            failures_24h,
            shadow: shadows.extract_if(.., |s| s.slot == slot).next(),
            installed: installed.extract_if(.., |p| p.slot == slot).collect(),
            history: crate::db::plugins::activations(&state.db, slot, 20).await?,
        });
    }
    Ok(slots)
}

async fn plugins(
    State(s): State<AppState>,
    Bearer(me): Bearer,
) -> Result<axum::Json<Value>, ApiError> {
    Ok(axum::Json(json!({ "slots": overview(&s, &me).await? })))
}

/// Makes installation `id` its slot's active plugin on every replica, and audits it.
pub async fn activate_plugin(
    state: &AppState,
    me: &Me,
    client: &Client,
    id: i64,
) -> Result<Value, ApiError> {
    operator(me)?;
    let row = crate::db::plugins::get(&state.db, id)
        .await?
        .ok_or_else(|| manage_error(ManageError::UnknownPlugin(id)))?;
    let slot: Slot = row
        .slot
        .parse()
        .map_err(|_| manage_error(ManageError::UnknownPlugin(id)))?;
    let by = acting(me);
    state
        .plugins
        .activate(&state.db, slot, id, &by)
        .await
        .map_err(manage_error)?;
    let detail = format!(
        "{slot}: #{id} {} {} (sha256 {})",
        row.name, row.version, row.sha256
    );
    state
        .accounts
        .audit_operator(me, client, "plugin_activated", &detail)
        .await?;
    Ok(json!({ "slot": slot.as_str(), "active_id": id }))
}

/// Returns `slot` to its previous plugin on every replica, and audits it.
pub async fn rollback_slot(
    state: &AppState,
    me: &Me,
    client: &Client,
    slot: Slot,
) -> Result<Value, ApiError> {
    operator(me)?;
    let by = acting(me);
    let id = state
        .plugins
        .rollback(&state.db, slot, &by)
        .await
        .map_err(manage_error)?;
    state
        .accounts
        .audit_operator(
            me,
            client,
            "plugin_rolled_back",
            &format!("{slot}: back to #{id}"),
        )
        .await?;
    Ok(json!({ "slot": slot.as_str(), "active_id": id }))
}

async fn activate(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    ClientInfo(client): ClientInfo,
    Path(id): Path<i64>,
) -> Result<axum::Json<Value>, ApiError> {
    Ok(axum::Json(activate_plugin(&s, &me, &client, id).await?))
}

/// A slot named in a path; an unknown one is a 404.
pub fn slot_named(slot: &str) -> Result<Slot, ApiError> {
    slot.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "No such slot: password-policy, signup-eligibility or ticket-workflow.",
        )
    })
}

async fn rollback(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    ClientInfo(client): ClientInfo,
    Path(slot): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let slot = slot_named(&slot)?;
    Ok(axum::Json(rollback_slot(&s, &me, &client, slot).await?))
}

/// Puts installation `id` in shadow for its slot on every replica, and audits it.
pub async fn start_shadow(
    state: &AppState,
    me: &Me,
    client: &Client,
    id: i64,
) -> Result<Value, ApiError> {
    operator(me)?;
    let by = acting(me);
    let slot = state
        .plugins
        .start_shadow(&state.db, id, &by)
        .await
        .map_err(manage_error)?;
    state
        .accounts
        .audit_operator(
            me,
            client,
            "plugin_shadow_started",
            &format!("{slot}: #{id}"),
        )
        .await?;
    Ok(json!({ "slot": slot.as_str(), "shadow_id": id }))
}

/// Stops `slot`'s shadow on every replica, and audits it with what it was compared on.
pub async fn stop_shadow(
    state: &AppState,
    me: &Me,
    client: &Client,
    slot: Slot,
) -> Result<crate::db::plugins::Shadow, ApiError> {
    operator(me)?;
    let by = acting(me);
    let shadow = state
        .plugins
        .stop_shadow(&state.db, slot, &by)
        .await
        .map_err(manage_error)?;
    state
        .accounts
        .audit_operator(
            me,
            client,
            "plugin_shadow_stopped",
            &shadow_detail(slot, &shadow),
        )
        .await?;
    Ok(shadow)
}

/// A shadow as the audit log records its end: the plugin and what it was compared on.
fn shadow_detail(slot: Slot, shadow: &crate::db::plugins::Shadow) -> String {
    format!(
        "{slot}: #{} ({} disagreements in {} decisions)",
        shadow.plugin_id, shadow.disagreed, shadow.asked
    )
}

/// Makes `slot`'s shadow its active plugin on every replica, and audits it.
pub async fn promote_shadow(
    state: &AppState,
    me: &Me,
    client: &Client,
    slot: Slot,
) -> Result<Value, ApiError> {
    operator(me)?;
    let by = acting(me);
    let shadow = state
        .plugins
        .promote_shadow(&state.db, slot, &by)
        .await
        .map_err(manage_error)?;
    state
        .accounts
        .audit_operator(
            me,
            client,
            "plugin_shadow_promoted",
            &shadow_detail(slot, &shadow),
        )
        .await?;
    Ok(json!({ "slot": slot.as_str(), "active_id": shadow.plugin_id }))
}

async fn shadow(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    ClientInfo(client): ClientInfo,
    Path(id): Path<i64>,
) -> Result<axum::Json<Value>, ApiError> {
    Ok(axum::Json(start_shadow(&s, &me, &client, id).await?))
}

async fn stop_shadowing(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    ClientInfo(client): ClientInfo,
    Path(slot): Path<String>,
) -> Result<axum::Json<crate::db::plugins::Shadow>, ApiError> {
    let slot = slot_named(&slot)?;
    Ok(axum::Json(stop_shadow(&s, &me, &client, slot).await?))
}

async fn promote(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    ClientInfo(client): ClientInfo,
    Path(slot): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let slot = slot_named(&slot)?;
    Ok(axum::Json(promote_shadow(&s, &me, &client, slot).await?))
}

async fn dry_run(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    Path(id): Path<i64>,
    Json(q): Json<crate::console::Question>,
) -> Result<axum::Json<Value>, ApiError> {
    operator(&me)?;
    Ok(axum::Json(s.console.dry_run(&me, id, q).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayBody {
    limit: Option<i64>,
}

async fn replay(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    Path(id): Path<i64>,
    Json(b): Json<ReplayBody>,
) -> Result<axum::Json<Value>, ApiError> {
    operator(&me)?;
    Ok(axum::Json(
        s.console.replay(&me, id, b.limit.unwrap_or(100)).await?,
    ))
}

/// The largest component an operator may upload.
pub const UPLOAD_MAX: usize = 64 << 20;

/// What an install form carries.
#[derive(Debug, Default)]
pub struct InstallForm {
    pub slot: String,
    pub component: Vec<u8>,
    pub config: String,
    pub signature: Option<String>,
    pub activate: bool,
    /// The installation's own budget, where it needs more (or less) than its slot's default.
    pub raise: crate::plugins::Raise,
}

/// The budget fields of an install form: name, and the largest value it takes.
const BUDGET_FIELDS: [(&str, u64); 4] = [
    ("instructions", i64::MAX as u64),
    ("memory_mib", 4096),
    ("output_kib", 65_536),
    ("backstop_ms", 60_000),
];

/// A budget field's value: empty for the slot's default, else a whole number from 1 up to its
/// maximum.
fn budget_value(name: &str, text: &str) -> Result<Option<u64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let most = BUDGET_FIELDS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(u64::MAX, |(_, m)| *m);
    match text.parse::<u64>() {
        Ok(v) if (1..=most).contains(&v) => Ok(Some(v)),
        _ => Err(format!(
            "`{name}`: a whole number from 1 to {most}, or empty for the slot's default."
        )),
    }
}

/// Reads an install form (`slot`, `component`, and optionally `config`, `signature`,
/// `activate` and the budget: `instructions`, `memory_mib`, `output_kib`, `backstop_ms`); a
/// malformed one is a 400 naming the field.
pub async fn read_install(mut form: axum::extract::Multipart) -> Result<InstallForm, ApiError> {
    let bad = |field: &str, message: String| {
        ApiError::bad_request("invalid_body", message).with_field(field)
    };
    let broken = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("A component may be at most {} MiB.", UPLOAD_MAX >> 20),
            )
        } else {
            ApiError::bad_request(
                "invalid_body",
                format!("The form could not be read: {}", e.body_text()),
            )
        }
    };
    let mut out = InstallForm::default();
    let mut has_component = false;
    while let Some(field) = form.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "component" => {
                out.component = field.bytes().await.map_err(broken)?.to_vec();
                has_component = true;
            }
            "slot" | "config" | "signature" | "activate" | "csrf" | "instructions"
            | "memory_mib" | "output_kib" | "backstop_ms" => {
                let text = field.text().await.map_err(broken)?;
                if text.contains('\0') {
                    return Err(bad(&name, format!("`{name}` must not contain NUL.")));
                }
                match name.as_str() {
                    "slot" => out.slot = text,
                    "config" => out.config = text,
                    "signature" => out.signature = Some(text).filter(|t| !t.trim().is_empty()),
                    "activate" => out.activate = matches!(text.as_str(), "true" | "on" | "1"),
                    "csrf" => {}
                    budget => {
                        let value = budget_value(budget, &text).map_err(|m| bad(budget, m))?;
                        let r = &mut out.raise;
                        match budget {
                            "instructions" => r.instructions = value,
                            "memory_mib" => r.memory_mib = value,
                            "output_kib" => r.output_kib = value,
                            _ => r.backstop_ms = value,
                        }
                    }
                }
            }
            other => return Err(bad(other, format!("Unknown field `{other}`."))),
        }
    }
    if out.slot.parse::<Slot>().is_err() {
        return Err(bad(
            "slot",
            "`slot`: password-policy, signup-eligibility or ticket-workflow.".into(),
        ));
    }
    if !has_component {
        return Err(bad(
            "component",
            "Choose the component (.wasm) to install.".into(),
        ));
    }
    if out.config.len() > 64 << 10 {
        return Err(bad("config", "`config`: at most 64 KiB.".into()));
    }
    Ok(out)
}

/// Checks and stores an uploaded component (and activates it when asked), audited; the same
/// checks, with the same messages, as `helpdesk plugin install`.
pub async fn install_component(
    state: &AppState,
    me: &Me,
    client: &Client,
    form: &InstallForm,
) -> Result<Value, ApiError> {
    operator(me)?;
    let slot: Slot = form
        .slot
        .parse()
        .map_err(|_| ApiError::bad_request("invalid_body", "Unknown slot.").with_field("slot"))?;
    let by = acting(me);
    let id = state
        .plugins
        .install_with(
            &state.db,
            &crate::plugins::Install {
                slot,
                bytes: &form.component,
                config: &form.config,
                raise: form.raise,
                signature: form.signature.as_deref(),
                by: &by,
                activate: form.activate,
            },
        )
        .await
        .map_err(manage_error)?;
    let row = crate::db::plugins::get(&state.db, id)
        .await?
        .ok_or_else(|| manage_error(ManageError::UnknownPlugin(id)))?;
    let active = crate::db::plugins::active_id(&state.db, slot.as_str()).await? == Some(id);
    let detail = format!(
        "{slot}: #{id} {} {} (sha256 {}){}",
        row.name,
        row.version,
        row.sha256,
        if active { ", active" } else { "" }
    );
    state
        .accounts
        .audit_operator(me, client, "plugin_installed", &detail)
        .await?;
    Ok(json!({
        "id": id,
        "slot": slot.as_str(),
        "name": row.name,
        "version": row.version,
        "sha256": row.sha256,
        "active": active,
    }))
}

async fn install(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    ClientInfo(client): ClientInfo,
    form: axum::extract::Multipart,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    // Who may install is settled before a byte of the component is read.
    operator(&me)?;
    let form = read_install(form).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(install_component(&s, &me, &client, &form).await?),
    ))
}

/// A new config: as text, or as the plugin's described settings (keys left out take their
/// default).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigBody {
    config: Option<String>,
    settings: Option<serde_json::Map<String, Value>>,
}

async fn config_of(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    Path(id): Path<i64>,
) -> Result<axum::Json<Value>, ApiError> {
    operator(&me)?;
    Ok(axum::Json(s.console.config_of(&me, id).await?.to_json()))
}

async fn reconfigure(
    State(s): State<AppState>,
    Bearer(me): Bearer,
    ClientInfo(client): ClientInfo,
    Path(id): Path<i64>,
    Json(b): Json<ConfigBody>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    // Who may is settled before what was sent is looked at.
    operator(&me)?;
    let done = match (b.config, b.settings) {
        (Some(config), None) => s.console.reconfigure(&me, &client, id, &config).await?,
        (None, Some(settings)) => {
            let mut input = std::collections::HashMap::new();
            for (key, value) in settings {
                let shown = match value {
                    Value::String(s) => s,
                    Value::Array(items) => {
                        let mut lines = Vec::with_capacity(items.len());
                        for item in items {
                            let Value::String(line) = item else {
                                return Err(setting_type(&key));
                            };
                            lines.push(line);
                        }
                        lines.join("\n")
                    }
                    Value::Number(n) if n.is_i64() => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Number(_) | Value::Null | Value::Object(_) => {
                        return Err(setting_type(&key));
                    }
                };
                input.insert(key, shown);
            }
            s.console
                .reconfigure_settings(&me, &client, id, &input)
                .await?
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_body",
                "Send either `config` (the text) or `settings` (the described settings), not both.",
            ));
        }
    };
    Ok((StatusCode::CREATED, axum::Json(done)))
}

fn setting_type(key: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_body",
        format!("`settings.{key}`: a whole number, true or false, a string or a list of strings."),
    )
    .with_field("settings")
}
