//! What an event on a request tells webhook endpoints: one delivery per endpoint that wants
//! the event, written in the event's transaction (see [`crate::webhooks`]).

use super::*;
use crate::domain::rules::RequestEvent;

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
        let body = serde_json::json!({
            "event": event.name(),
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
        });
        crate::db::webhooks::enqueue(&mut *conn, event.name(), Some(r.id), &body.to_string(), now)
            .await?;
        Ok(())
    }
}
