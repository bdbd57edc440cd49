//! The operators' console: asking an installed plugin a question by hand (a dry run), next to
//! what the active plugin of its slot answers, with the time, instructions and memory each took
//! and what each logged. Nothing is changed and nothing is recorded as a decision: the plugins
//! are called directly, outside the request path. Also replaying recorded decisions against
//! an installed plugin, and reconfiguring one.
//!
//! A service like `requests` and `auth`: the API and the pages call it, and it answers with
//! [`ConsoleError`], which each of them words as it words everything else.

use crate::auth::{Accounts, AuthError, Me, Role};
use crate::db::{Db, DbError};
use crate::domain::rules::{ActorRole, PasswordContext, RequestEvent, Slot, TransitionRequest};
use crate::domain::text;
use crate::plugins::{Asked, Loaded, ManageError, PluginError, Plugins, measure};
use crate::requests::{RequestError, Requests};
use helpdesk_plugin_host::config_form;
use helpdesk_plugin_host::rules::ConfigField;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

mod webhooks;
pub use webhooks::{DESCRIPTION_MAX, Endpoint, EndpointInput, LOG_ROWS, MAX_ENDPOINTS, URL_MAX};

/// Why the console did not do what it was asked. Nothing was changed in any case.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Not an active operator, or what the accounts service refused.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// Input that does not have the documented form (400), naming its field.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// A well-formed question that does not fit the plugin's slot (422).
    #[error("{message}")]
    Mismatch {
        field: &'static str,
        message: String,
    },
    /// Settings sent for a plugin that describes none (422).
    #[error("{0}")]
    NoSettings(String),
    /// A setting's value that does not fit it (422).
    #[error("{0}")]
    InvalidSetting(String),
    #[error(transparent)]
    Manage(#[from] ManageError),
    #[error(transparent)]
    Requests(#[from] RequestError),
    #[error(transparent)]
    Text(#[from] text::Invalid),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Db(#[from] DbError),
    /// Well-formed input a rule refuses (422), naming its field.
    #[error("{message}")]
    Refused {
        field: &'static str,
        message: String,
    },
    /// Nothing of that id (404).
    #[error("{0}")]
    NotFound(&'static str),
    /// Refused by what already exists (409).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Internal(String),
}

type Result<T> = std::result::Result<T, ConsoleError>;

/// The console service; cheap to share.
#[derive(Debug)]
pub struct Console {
    pub db: Db,
    pub plugins: Arc<Plugins>,
    pub accounts: Arc<Accounts>,
    pub requests: Arc<Requests>,
    pub webhooks: Arc<crate::webhooks::Webhooks>,
}

/// Who a console change is recorded as.
pub fn acting(me: &Me) -> String {
    format!("operator:{}", me.email)
}

fn require_operator(me: &Me) -> Result<()> {
    if me.is_active() && me.role == Role::Operator {
        Ok(())
    } else {
        Err(AuthError::Forbidden.into())
    }
}

/// Runs `f` on the blocking pool: plugin calls must not hold up the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ConsoleError::Internal(format!("blocking task failed: {e}")))
}

/// A question by hand. Which fields it needs depends on the plugin's slot:
/// password-policy `password` (and `email`, `given_name`, `surname`); signup-eligibility
/// `email` (and `today`, YYYY-MM-DD); ticket-workflow `request` and either `to` (with `actor`,
/// default agent) or `event` (with `detail` where the event has one), which asks `react` with
/// the request as it is now: the answer is the list of actions the plugin would take.
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
    pub event: Option<EventName>,
    /// For `status-changed`, the status left (default: the request's own); for
    /// `field-changed`, `priority` or `tags` (default `priority`); for `timer`, its name.
    pub detail: Option<String>,
}

/// An event by its name in contract 0.4 (`agent-replied`, the older name of `staff-replied`,
/// is read too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventName {
    Created,
    CustomerReplied,
    #[serde(alias = "agent-replied")]
    StaffReplied,
    NoteAdded,
    Assigned,
    StatusChanged,
    FieldChanged,
    Timer,
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
fn missing(field: &'static str, message: String) -> ConsoleError {
    ConsoleError::Mismatch { field, message }
}

impl Console {
    /// Installed plugin `id`, prepared to be asked by hand.
    async fn prepared(&self, id: i64) -> Result<Loaded> {
        Ok(self.plugins.prepared(&self.db, id).await?)
    }

    /// Asks installed plugin `id` the question `q`, and the active plugin of its slot the same.
    pub async fn dry_run(&self, me: &Me, id: i64, q: Question) -> Result<Value> {
        require_operator(me)?;
        let candidate = self.prepared(id).await?;
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
                    None | Some("") => self.accounts.clock.today(),
                    Some(d) => time::Date::parse(
                        d,
                        time::macros::format_description!("[year]-[month]-[day]"),
                    )
                    .map_err(|_| ConsoleError::Invalid {
                        field: "today",
                        message: "`today` is a date, YYYY-MM-DD.".into(),
                    })?,
                };
                let (_, request) = self.accounts.eligibility_question(&email, today).await?;
                Asked::Eligibility(request)
            }
            Slot::TicketWorkflow => {
                let id = q.request.ok_or_else(|| {
                    missing("request", format!("A {slot} question needs `request`."))
                })?;
                let (detail, _) = self.requests.detail(me, id).await?;
                let r = detail.request;
                let seconds_in_status = self.requests.seconds_in_status(&r);
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
                    (None, Some(event)) => {
                        let detail = q.detail.filter(|d| !d.is_empty());
                        if let Some(d) = &detail {
                            text::check(&text::STATUS, d)?;
                        }
                        let event = match event {
                            EventName::Created => RequestEvent::Created,
                            EventName::CustomerReplied => RequestEvent::CustomerReplied,
                            EventName::StaffReplied => RequestEvent::StaffReplied,
                            EventName::NoteAdded => RequestEvent::NoteAdded,
                            EventName::Assigned => RequestEvent::Assigned,
                            EventName::StatusChanged => RequestEvent::StatusChanged(
                                detail.unwrap_or_else(|| r.status.clone()),
                            ),
                            EventName::FieldChanged => RequestEvent::FieldChanged(
                                detail.unwrap_or_else(|| "priority".into()),
                            ),
                            EventName::Timer => RequestEvent::Timer(detail.ok_or_else(|| {
                                missing(
                                    "detail",
                                    "A timer event needs the timer's name in `detail`.".into(),
                                )
                            })?),
                        };
                        Asked::React(Box::new(self.requests.reaction(me, id, event).await?))
                    }
                    _ => {
                        return Err(missing(
                            "to",
                            format!(
                                "A {slot} question needs either `to` (a transition) or `event`."
                            ),
                        ));
                    }
                }
            }
        };
        let active = self.plugins.active(slot)?;
        let (asked, candidate_answer, active_answer) = blocking(move || {
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

    /// Runs installed plugin `id` over the newest `limit` recorded decisions of its slot and lists
    /// where it would have answered differently. Password checks cannot be replayed: the log keeps
    /// no password.
    pub async fn replay(&self, me: &Me, id: i64, limit: i64) -> Result<Value> {
        require_operator(me)?;
        if !(1..=REPLAY_MAX).contains(&limit) {
            return Err(ConsoleError::Invalid {
                field: "limit",
                message: format!("`limit`: from 1 to {REPLAY_MAX}."),
            });
        }
        let candidate = self.prepared(id).await?;
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
        let recorded = crate::db::decisions::list(&self.db, &filter, limit).await?;
        blocking(move || {
            let mut differences = Vec::new();
            let mut same = 0;
            let mut skipped = 0;
            for d in &recorded {
                let asked = match d.function.as_str() {
                    "decide" => serde_json::from_str(&d.input).map(Asked::Eligibility),
                    "can-transition" => serde_json::from_str(&d.input).map(Asked::Transition),
                    "on-event" => serde_json::from_str(&d.input).map(Asked::Event),
                    "react" => serde_json::from_str(&d.input).map(|r| Asked::React(Box::new(r))),
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
        &self,
        me: &Me,
        client: &crate::auth::Client,
        id: i64,
        config: &str,
    ) -> Result<Value> {
        require_operator(me)?;
        if config.len() > 64 << 10 || config.contains('\0') {
            return Err(ConsoleError::Invalid {
                field: "config",
                message: "`config`: at most 64 KiB, without NUL.".into(),
            });
        }
        let before = crate::db::plugins::get(&self.db, id)
            .await?
            .ok_or(ManageError::UnknownPlugin(id))?;
        let by = acting(me);
        let new = self.plugins.reconfigure(&self.db, id, config, &by).await?;
        let diff = config_diff(&before.config, config);
        self.accounts
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

    /// Plugin `id`'s config, with the settings its component describes and their values.
    pub async fn config_of(&self, me: &Me, id: i64) -> Result<ConfigView> {
        require_operator(me)?;
        let loaded = self.prepared(id).await?;
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

    /// [`reconfigure`] from the described settings: `input` gives settings' values as a form holds
    /// them (a list one item per line); a setting left out takes its default. Refused (422) when
    /// the plugin describes no settings, `input` names one it does not describe, or a value does
    /// not fit its setting ([`config_form::write`]).
    pub async fn reconfigure_settings(
        &self,
        me: &Me,
        client: &crate::auth::Client,
        id: i64,
        input: &std::collections::HashMap<String, String>,
    ) -> Result<Value> {
        require_operator(me)?;
        let loaded = self.prepared(id).await?;
        let Some(fields) = &loaded.config_fields else {
            return Err(ConsoleError::NoSettings(format!(
                "Plugin #{id} ({} {}) does not describe its settings: send its `config` as text.",
                loaded.info.name, loaded.info.version
            )));
        };
        let config = config_form::write(fields, input).map_err(ConsoleError::InvalidSetting)?;
        self.reconfigure(me, client, id, &config).await
    }
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

fn json_of(value: &config_form::Value) -> Value {
    match value {
        config_form::Value::Int(n) => json!(n),
        config_form::Value::Bool(b) => json!(b),
        config_form::Value::Str(s) => json!(s),
        config_form::Value::List(items) => json!(items),
    }
}

/// Most recorded decisions one replay runs.
pub const REPLAY_MAX: i64 = 1_000;

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
