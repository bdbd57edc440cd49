//! What requests ask of the workflow plugin: its statuses, whether a move is allowed, and what
//! it does on its own after an event (`react`, in `react.rs`).
//!
//! A rule that fails refuses only what it decides. A person's move it cannot answer for is
//! refused; a request it cannot list moves for is still shown, with none offered and why; an
//! answer to an event it cannot give, or that the host refuses, is left out as a whole, and
//! what caused the event (a new request, a reply, a timer) goes through, with the failure
//! recorded beside the request for staff, in the decision log and in the plugin metrics for
//! operators.

use super::*;
use crate::db::rule_failures::{self, NewFailure};

/// A change to the request's status decided inside an operation, to apply in its transaction.
#[derive(Clone)]
pub(super) struct Move {
    pub from: String,
    pub to: String,
    pub actor_id: Option<i64>,
    pub role: ActorRole,
    /// `requested`, `created`, or `event:<name>` for the workflow's answer to an event.
    pub cause: String,
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
            cause: &m.cause,
            plugin: &m.by,
            now,
        },
    )
    .await?;
    Ok(())
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

    /// Records, beside request `request`, that the workflow's answer to the event `cause`
    /// failed with `e`.
    pub(super) async fn record_failure(
        &self,
        conn: &mut AnyConnection,
        request: i64,
        cause: &str,
        e: &PluginError,
    ) -> Result<()> {
        let message = bounded(&e.to_string());
        self.record_rule_failure(
            conn,
            request,
            cause,
            e.plugin.as_deref(),
            e.kind.label(),
            &message,
        )
        .await
    }

    /// Records, beside request `request`, that the workflow's answers to the event `cause`
    /// were cut off [`super::react::CASCADE`] answers deep.
    pub(super) async fn record_cut(
        &self,
        conn: &mut AnyConnection,
        request: i64,
        cause: &str,
    ) -> Result<()> {
        let active = self
            .plugins
            .active(crate::domain::rules::Slot::TicketWorkflow)
            .ok();
        let message = format!(
            "Not asked: the workflow's answers kept raising events, and those raised {} answers deep are not asked.",
            react::CASCADE
        );
        self.record_rule_failure(
            conn,
            request,
            cause,
            active.as_ref().map(|a| &a.plugin),
            "cascade",
            &message,
        )
        .await
    }

    async fn record_rule_failure(
        &self,
        conn: &mut AnyConnection,
        request: i64,
        cause: &str,
        plugin: Option<&PluginRef>,
        kind: &str,
        message: &str,
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
                function: "react",
                cause,
                plugin: plugin.unwrap_or(&unknown),
                kind,
                message,
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
