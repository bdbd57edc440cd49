//! What a request tells the world outside: every event, one webhook delivery per endpoint that
//! wants it; and what a workflow's answer sends on purpose, a delivery to one endpoint
//! (`call-webhook`) or an email operators wrote (`send-email`). All are written in the
//! transaction of the event (see [`crate::webhooks`] and [`crate::mail`]), so they go exactly
//! when it commits.

use super::*;
use crate::db::requests::fields as field_sql;
use crate::domain::rules::{Recipient, RequestEvent, Wording};

/// The event a `call-webhook` action is delivered as.
pub const WORKFLOW_CALL: &str = "workflow-call";

impl Requests {
    /// Queues, on `conn` (the event's transaction), a delivery of `event` on `r` as it stands
    /// for every endpoint that wants it. A timer, which changes nothing by itself, tells none.
    pub(super) async fn tell_webhooks(
        &self,
        conn: &mut AnyConnection,
        event: &RequestEvent,
        r: &RequestRow,
        now: i64,
    ) -> Result<()> {
        let detail = match event {
            RequestEvent::Timer(_) => return Ok(()),
            RequestEvent::StatusChanged(from) => serde_json::json!({ "from": from }),
            RequestEvent::FieldChanged(field) => serde_json::json!({ "field": field }),
            _ => serde_json::json!({}),
        };
        let body = self.delivery(event.name(), detail, r, now);
        crate::db::webhooks::enqueue(&mut *conn, event.name(), Some(r.id), &body, now).await?;
        Ok(())
    }

    /// Queues a delivery to endpoint `endpoint` of the workflow's call `name` on `r`, sent by
    /// `plugin`. The endpoint was checked to be active in this transaction's answer.
    pub(super) async fn call_webhook(
        &self,
        conn: &mut AnyConnection,
        r: &RequestRow,
        endpoint: i64,
        name: &str,
        plugin: &str,
        now: i64,
    ) -> Result<()> {
        let detail = serde_json::json!({ "name": name, "plugin": plugin });
        let body = self.delivery(WORKFLOW_CALL, detail, r, now);
        crate::db::webhooks::enqueue_to(
            &mut *conn,
            endpoint,
            WORKFLOW_CALL,
            Some(r.id),
            &body,
            now,
        )
        .await?;
        Ok(())
    }

    /// The JSON body of a delivery of `event` on `r` as it stands.
    fn delivery(&self, event: &str, detail: serde_json::Value, r: &RequestRow, now: i64) -> String {
        serde_json::json!({
            "event": event,
            "occurred_at": jiff::Timestamp::from_millisecond(now).map(|t| t.to_string()).unwrap_or_default(),
            "detail": detail,
            "request": {
                "number": number(r.id),
                "url": self.link(r.id),
                "id": r.id,
                "subject": r.subject,
                "status": r.status,
                "priority": r.priority,
                "tags": crate::domain::fields::split(&r.tags),
                "site": { "id": r.site_id, "name": r.site_name },
                "requester": { "id": r.requester_id, "name": r.requester_name, "email": r.requester_email },
                "assignee": r.assignee_id.map(|id| serde_json::json!({
                    "id": id, "name": r.assignee_name, "email": r.assignee_email,
                })),
                "version": r.version,
                "created_at": r.created_at,
                "updated_at": r.updated_at,
            },
        })
        .to_string()
    }

    /// Queues, on `conn`, the email of a `send-email` action on `r`: to each recipient once,
    /// in the wording of their language (else English, else the first), with `{number}`,
    /// `{subject}`, `{name}` and `{link}` filled in. People of the request may answer it by
    /// email; a listed address gets it without that. The mail worker finds it at its next look
    /// after the commit ([`crate::mail::Retry::poll`]).
    pub(super) async fn send_rule_email(
        &self,
        conn: &mut AnyConnection,
        r: &RequestRow,
        to: &[Recipient],
        wordings: &[Wording],
        now: i64,
    ) -> Result<()> {
        let readers = field_sql::readers(conn, r.id).await?;
        // (address, name, language, one of the request's people)
        let mut sends: Vec<(String, String, String, bool)> = Vec::new();
        for recipient in to {
            let kind = match recipient {
                Recipient::Requester => "requester",
                Recipient::Assignee => "assignee",
                Recipient::SiteAdmins => "site-admin",
                Recipient::Address(a) => {
                    sends.push((a.clone(), a.clone(), String::new(), false));
                    continue;
                }
            };
            sends.extend(readers.iter().filter(|p| p.kind == kind).map(|p| {
                let language = p.language.clone().unwrap_or_default();
                (p.email.clone(), p.name.clone(), language, true)
            }));
        }
        let mut seen = std::collections::HashSet::new();
        sends.retain(|(address, ..)| seen.insert(address.to_ascii_lowercase()));
        let link = self.link(r.id);
        let n = number(r.id);
        for (address, name, language, of_request) in &sends {
            let Some(w) = Wording::pick(wordings, language) else {
                continue;
            };
            let fill = |s: &str| {
                s.replace("{number}", &n)
                    .replace("{subject}", &r.subject)
                    .replace("{name}", name)
                    .replace("{link}", &link)
            };
            let subject: String = fill(&w.subject).replace(['\r', '\n'], " ");
            let email = messages::rule_email(address, &subject, &fill(&w.body), &link);
            let email = if *of_request {
                email.about(r.id)
            } else {
                email
            };
            self.mailer.queue(conn, &email, now).await?;
        }
        Ok(())
    }
}
