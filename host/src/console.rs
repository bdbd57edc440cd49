//! The operators' console: asking an installed plugin a question by hand (a dry run), next to
//! what the active plugin of its slot answers, with the time, instructions and memory each took
//! and what each logged. Nothing is changed and nothing is recorded as a decision: the plugins
//! are called directly, outside the request path.

use crate::auth::Me;
use crate::domain::rules::{
    ActorRole, EventContext, PasswordContext, Slot, TicketEvent, TransitionRequest,
};
use crate::domain::text;
use crate::http::{ApiError, AppState};
use crate::plugins::{Asked, Loaded, measure};
use helpdesk_plugin_host::config_form;
use helpdesk_plugin_host::rules::ConfigField;
use serde::Deserialize;
use serde_json::{Value, json};

/// A question by hand. Which fields it needs depends on the plugin's slot:
/// password-policy `password` (and `email`, `given_name`, `surname`); signup-eligibility
/// `email` (and `today`, YYYY-MM-DD); ticket-workflow `request` and either `to` (with `actor`,
/// default agent) or `event`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub password: Option<String>,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub today: Option<String>,
    pub request: Option<i64>,
    pub to: Option<String>,
    pub actor: Option<ActorRole>,
    pub event: Option<TicketEvent>,
}

/// Installed plugin `id`, prepared to be asked by hand.
async fn prepared(state: &AppState, id: i64) -> Result<Loaded, ApiError> {
    state
        .plugins
        .prepared(&state.db, id)
        .await
        .map_err(crate::http::console_api::manage_error)
}

/// `asked` of `plugin`, measured: its answer, time, instructions, memory and logs.
fn tried(asked: &Asked, plugin: &Loaded) -> Value {
    let (answer, usage) = measure(|| asked.answer(plugin));
    let (outcome, answer, error) = match answer {
        Ok(a) => ("ok", parsed(&a), Value::Null),
        Err(e) => (e.kind.label(), Value::Null, json!(e.to_string())),
    };
    json!({
        "plugin": plugin.plugin,
        "outcome": outcome,
        "answer": answer,
        "error": error,
        "micros": usage.elapsed.as_micros() as u64,
        "instructions": usage.instructions,
        "peak_memory": usage.peak_memory,
        "logs": usage.logs.iter().map(|l| format!("{}: {}", l.level, l.message)).collect::<Vec<_>>(),
    })
}

/// An answer as JSON text, as a value.
fn parsed(answer: &str) -> Value {
    serde_json::from_str(answer).unwrap_or_else(|_| Value::String(answer.to_owned()))
}

/// A well-formed question that does not fit the plugin's slot (422).
fn missing(field: &str, message: String) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "question_mismatch",
        message,
    )
    .with_field(field)
}

/// Asks installed plugin `id` the question `q`, and the active plugin of its slot the same.
pub async fn dry_run(state: &AppState, me: &Me, id: i64, q: Question) -> Result<Value, ApiError> {
    crate::http::console_api::operator(me)?;
    let candidate = prepared(state, id).await?;
    let slot = candidate.slot;
    let asked = match slot {
        Slot::PasswordPolicy => {
            let password = q.password.ok_or_else(|| {
                missing("password", format!("A {slot} question needs `password`."))
            })?;
            let context = PasswordContext {
                email: q.email.unwrap_or_default(),
                given_name: q.given_name.unwrap_or_default(),
                surname: q.surname.unwrap_or_default(),
            };
            for (field, value) in [
                (&text::PASSWORD, &password),
                (&text::EMAIL, &context.email),
                (&text::GIVEN_NAME, &context.given_name),
                (&text::SURNAME, &context.surname),
            ] {
                text::check(field, value)?;
            }
            Asked::Password(password, context)
        }
        Slot::SignupEligibility => {
            let email = q
                .email
                .filter(|e| !e.is_empty())
                .ok_or_else(|| missing("email", format!("A {slot} question needs `email`.")))?;
            let email = crate::auth::normalize_email(&email)?;
            let today = match q.today.as_deref() {
                None | Some("") => state.accounts.clock.today(),
                Some(d) => {
                    time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                        .map_err(|_| {
                            ApiError::bad_request("invalid_body", "`today` is a date, YYYY-MM-DD.")
                                .with_field("today")
                        })?
                }
            };
            let (_, request) = state.accounts.eligibility_question(&email, today).await?;
            Asked::Eligibility(request)
        }
        Slot::TicketWorkflow => {
            let id = q
                .request
                .ok_or_else(|| missing("request", format!("A {slot} question needs `request`.")))?;
            let (detail, _) = state.requests.detail(me, id).await?;
            let r = detail.request;
            let seconds_in_status = state.requests.seconds_in_status(&r);
            match (q.to, q.event) {
                (Some(to), None) => Asked::Transition(TransitionRequest {
                    from: r.status,
                    to: {
                        text::check(&text::STATUS, &to)?;
                        to
                    },
                    actor: q.actor.unwrap_or(ActorRole::Agent),
                    seconds_in_status,
                }),
                (None, Some(event)) => Asked::Event(EventContext {
                    event,
                    status: r.status,
                    seconds_in_status,
                }),
                _ => {
                    return Err(missing(
                        "to",
                        format!("A {slot} question needs either `to` (a transition) or `event`."),
                    ));
                }
            }
        }
    };
    let active = state.plugins.active(slot)?;
    let (asked, candidate_answer, active_answer) = crate::http::blocking(move || {
        let c = tried(&asked, &candidate);
        let a = tried(&asked, &active);
        (asked, c, a)
    })
    .await?;
    Ok(json!({
        "slot": slot.as_str(),
        "function": asked.function(),
        "question": asked.shown(),
        "candidate": candidate_answer,
        "active": active_answer,
    }))
}

/// Most recorded decisions one replay runs.
pub const REPLAY_MAX: i64 = 1_000;

/// Runs installed plugin `id` over the newest `limit` recorded decisions of its slot and lists
/// where it would have answered differently. Password checks cannot be replayed: the log keeps
/// no password.
pub async fn replay(state: &AppState, me: &Me, id: i64, limit: i64) -> Result<Value, ApiError> {
    crate::http::console_api::operator(me)?;
    if !(1..=REPLAY_MAX).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_body",
            format!("`limit`: from 1 to {REPLAY_MAX}."),
        )
        .with_field("limit"));
    }
    let candidate = prepared(state, id).await?;
    let slot = candidate.slot;
    if slot == Slot::PasswordPolicy {
        return Err(missing(
            "limit",
            "Password decisions cannot be replayed: the decision log keeps no passwords. Ask the plugin by hand (dry run) instead.".into(),
        ));
    }
    let filter = crate::db::decisions::Filter {
        slot: Some(slot.as_str().to_owned()),
        ..Default::default()
    };
    let recorded = crate::db::decisions::list(&state.db, &filter, limit).await?;
    crate::http::blocking(move || {
        let mut differences = Vec::new();
        let mut same = 0;
        let mut skipped = 0;
        for d in &recorded {
            let asked = match d.function.as_str() {
                "decide" => serde_json::from_str(&d.input).map(Asked::Eligibility),
                "can-transition" => serde_json::from_str(&d.input).map(Asked::Transition),
                "on-event" => serde_json::from_str(&d.input).map(Asked::Event),
                _ => {
                    skipped += 1;
                    continue;
                }
            };
            let Ok(asked) = asked else {
                skipped += 1;
                continue;
            };
            let (outcome, answer) = match asked.answer(&candidate) {
                Ok(a) => ("ok", Some(parsed(&a))),
                Err(e) => (e.kind.label(), None),
            };
            let was = d.answer.as_deref().map(parsed);
            if outcome == d.outcome && answer == was {
                same += 1;
                continue;
            }
            differences.push(json!({
                "decision_id": d.id,
                "decided_at": d.decided_at,
                "function": d.function,
                "request_id": d.request_id,
                "question": asked.shown(),
                "recorded": { "plugin_id": d.plugin_id, "outcome": d.outcome, "answer": was },
                "candidate": { "outcome": outcome, "answer": answer },
            }));
        }
        json!({
            "slot": slot.as_str(),
            "plugin": candidate.plugin,
            "replayed": same + differences.len(),
            "same": same,
            "skipped": skipped,
            "differences": differences,
        })
    })
    .await
}

/// Saves plugin `id`'s component with `config` as a new installation (checked by the plugin,
/// not activated, audited), and shows how the config differs from `id`'s, line by line.
pub async fn reconfigure(
    state: &AppState,
    me: &Me,
    client: &crate::auth::Client,
    id: i64,
    config: &str,
) -> Result<Value, ApiError> {
    crate::http::console_api::operator(me)?;
    if config.len() > 64 << 10 || config.contains('\0') {
        return Err(ApiError::bad_request(
            "invalid_body",
            "`config`: at most 64 KiB, without NUL.",
        )
        .with_field("config"));
    }
    let before = crate::db::plugins::get(&state.db, id)
        .await?
        .ok_or_else(|| {
            crate::http::console_api::manage_error(crate::plugins::ManageError::UnknownPlugin(id))
        })?;
    let by = crate::http::console_api::acting(me);
    let new = state
        .plugins
        .reconfigure(&state.db, id, config, &by)
        .await
        .map_err(crate::http::console_api::manage_error)?;
    let diff = config_diff(&before.config, config);
    state
        .accounts
        .audit_operator(
            me,
            client,
            "plugin_reconfigured",
            &format!(
                "{}: #{id} → #{new} {} {}",
                before.slot, before.name, before.version
            ),
        )
        .await?;
    Ok(json!({ "id": new, "from": id, "slot": before.slot, "diff": diff }))
}

/// An installed plugin's config as the console edits it.
#[derive(Debug)]
pub struct ConfigView {
    pub id: i64,
    pub config: String,
    /// The settings the plugin describes (contract 0.3); `None`: edit the text.
    pub fields: Option<Vec<ConfigField>>,
    /// Each described setting's value under `config` (its default where left out), in the
    /// order of `fields`; `None` when the text cannot be read as the settings (see
    /// `unreadable`).
    pub values: Option<Vec<config_form::Value>>,
    /// Why `config` cannot be shown as the described settings: edit it as text.
    pub unreadable: Option<String>,
}

impl ConfigView {
    /// As the API answers it: the values by key.
    pub fn to_json(&self) -> Value {
        let values = self
            .fields
            .iter()
            .flatten()
            .zip(self.values.iter().flatten());
        json!({
            "id": self.id,
            "config": self.config,
            "fields": self.fields,
            "values": self.values.as_ref().map(|_| {
                values
                    .map(|(f, v)| (f.key.clone(), json_of(v)))
                    .collect::<serde_json::Map<_, _>>()
            }),
            "unreadable": self.unreadable,
        })
    }
}

/// Plugin `id`'s config, with the settings its component describes and their values.
pub async fn config_of(state: &AppState, me: &Me, id: i64) -> Result<ConfigView, ApiError> {
    crate::http::console_api::operator(me)?;
    let loaded = prepared(state, id).await?;
    let (values, unreadable) = match &loaded.config_fields {
        None => (None, None),
        Some(fields) => match config_form::values(fields, &loaded.config) {
            Ok(values) => (Some(values), None),
            Err(e) => (None, Some(e)),
        },
    };
    Ok(ConfigView {
        id,
        config: loaded.config.clone(),
        fields: loaded.config_fields.clone(),
        values,
        unreadable,
    })
}

fn json_of(value: &config_form::Value) -> Value {
    match value {
        config_form::Value::Int(n) => json!(n),
        config_form::Value::Bool(b) => json!(b),
        config_form::Value::Str(s) => json!(s),
        config_form::Value::List(items) => json!(items),
    }
}

/// [`reconfigure`] from the described settings: `input` gives settings' values as a form holds
/// them (a list one item per line); a setting left out takes its default. Refused (422) when
/// the plugin describes no settings, `input` names one it does not describe, or a value does
/// not fit its setting ([`config_form::write`]).
pub async fn reconfigure_settings(
    state: &AppState,
    me: &Me,
    client: &crate::auth::Client,
    id: i64,
    input: &std::collections::HashMap<String, String>,
) -> Result<Value, ApiError> {
    crate::http::console_api::operator(me)?;
    let loaded = prepared(state, id).await?;
    let Some(fields) = &loaded.config_fields else {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "no_settings",
            format!(
                "Plugin #{id} ({} {}) does not describe its settings: send its `config` as text.",
                loaded.info.name, loaded.info.version
            ),
        ));
    };
    let config = config_form::write(fields, input).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_setting",
            e,
        )
        .with_field("settings")
    })?;
    reconfigure(state, me, client, id, &config).await
}

/// `new` against `old`, line by line: `- ` removed, `+ ` added, `  ` kept.
pub fn config_diff(old: &str, new: &str) -> Vec<String> {
    similar::TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|c| {
            let sign = match c.tag() {
                similar::ChangeTag::Delete => "- ",
                similar::ChangeTag::Insert => "+ ",
                similar::ChangeTag::Equal => "  ",
            };
            format!("{sign}{}", c.value().trim_end_matches('\n'))
        })
        .collect()
}
