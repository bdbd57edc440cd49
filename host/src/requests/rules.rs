//! What requests ask of the workflow plugin: its statuses, whether a move is allowed, and the
//! move it makes on its own after an event.
//!
//! A rule that fails refuses only what it decides. A person's move it cannot answer for is
//! refused; a request it cannot list moves for is still shown, with none offered and why; an
//! automatic move it cannot make is left out, and what caused the event (a new request, a
//! reply) goes through, with the failure recorded beside the request for staff, in the decision
//! log and in the plugin metrics for operators.

use super::*;
use crate::db::rule_failures::{self, NewFailure};

/// A change to the request's status decided inside an operation, to apply in its transaction.
pub(super) struct Move {
    pub from: String,
    pub to: String,
    pub actor_id: Option<i64>,
    pub role: ActorRole,
    pub cause: &'static str,
    pub by: PluginRef,
}

pub(super) async fn apply_move(
    conn: &mut AnyConnection,
    id: i64,
    m: &Move,
    now: i64,
) -> Result<()> {
    sql::set_status(conn, id, &m.to, now).await?;
    sql::insert_status_change(
        conn,
        &NewStatusChange {
            request_id: id,
            from: Some(&m.from),
            to: &m.to,
            actor_id: m.actor_id,
            actor_role: actor_name(m.role),
            cause: m.cause,
            plugin: &m.by,
            now,
        },
    )
    .await?;
    Ok(())
}

fn event_name(e: TicketEvent) -> &'static str {
    match e {
        TicketEvent::Created => "event:created",
        TicketEvent::CustomerReplied => "event:customer-replied",
        TicketEvent::AgentReplied => "event:agent-replied",
        TicketEvent::Assigned => "event:assigned",
    }
}

/// Why a rule could not answer, as a reader of the request is told: the plugin and what went
/// wrong for staff, that it is unavailable for everyone else.
#[derive(Debug, Clone, Serialize)]
pub struct RuleUnavailable {
    pub code: &'static str,
    /// The plugin that failed (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<PluginRef>,
    /// What it failed with (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl RuleUnavailable {
    pub(super) fn of(e: &PluginError, staff: bool) -> RuleUnavailable {
        RuleUnavailable {
            code: "rule_unavailable",
            plugin: staff.then(|| e.plugin.as_deref().cloned()).flatten(),
            detail: staff.then(|| bounded(&e.to_string())),
        }
    }
}

/// The most of a failure's text kept beside a request.
const FAILURE_CHARS: usize = 1000;

fn bounded(s: &str) -> String {
    s.chars().take(FAILURE_CHARS).collect()
}

impl Requests {
    /// Asks the plugins on the blocking pool: each call may take up to its deadline.
    pub(super) async fn ask<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Plugins) -> std::result::Result<T, PluginError> + Send + 'static,
    ) -> Result<T> {
        let plugins = self.plugins.clone();
        blocking(move || f(&plugins).map_err(RequestError::from)).await
    }

    /// The active workflow's statuses (asked of a plugin once, when it is loaded).
    pub async fn workflow(&self) -> Result<Workflow> {
        let d = self.ask(|p| p.statuses()).await?;
        Ok(Workflow {
            statuses: d.value,
            by: d.by,
        })
    }

    /// The status the workflow moves request `r` to after `event`, if any. A workflow that
    /// fails to say makes no move: the failure is recorded on `conn` (the transaction of what
    /// caused the event) and what caused the event goes on.
    pub(super) async fn on_event(
        &self,
        conn: &mut AnyConnection,
        event: TicketEvent,
        r: &RequestRow,
    ) -> Result<Option<Move>> {
        let context = EventContext {
            event,
            status: r.status.clone(),
            seconds_in_status: self.seconds_in_status(r),
        };
        let about = r.id;
        let d = match self.ask(move |p| p.on_event(&context, Some(about))).await {
            Ok(d) => d,
            Err(RequestError::Plugin(e)) => {
                tracing::warn!(request = %number(r.id), event = event_name(event), error = %e, "the workflow failed on an event; no automatic move");
                self.record_failure(conn, r.id, event_name(event), &e)
                    .await?;
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        Ok(d.value.filter(|to| *to != r.status).map(|to| Move {
            from: r.status.clone(),
            to,
            actor_id: None,
            role: ActorRole::System,
            cause: event_name(event),
            by: d.by,
        }))
    }

    async fn record_failure(
        &self,
        conn: &mut AnyConnection,
        request: i64,
        cause: &str,
        e: &PluginError,
    ) -> Result<()> {
        let unknown = PluginRef {
            id: 0,
            name: "(none)".into(),
            version: String::new(),
            sha256: String::new(),
        };
        rule_failures::insert(
            conn,
            &NewFailure {
                request_id: Some(request),
                slot: crate::domain::rules::Slot::TicketWorkflow.as_str(),
                function: "on-event",
                cause,
                plugin: e.plugin.as_deref().unwrap_or(&unknown),
                kind: e.kind.label(),
                message: &bounded(&e.to_string()),
                at: self.now(),
            },
        )
        .await?;
        Ok(())
    }

    pub(crate) fn seconds_in_status(&self, r: &RequestRow) -> u64 {
        u64::try_from((self.now() - r.status_since) / 1000).unwrap_or(0)
    }
}
