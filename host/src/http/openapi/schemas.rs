//! The document's named schemas: the bodies the API answers with, referenced from its
//! operations by name.

use super::*;

pub(super) fn schemas() -> Value {
    let s = || json!({ "type": "string" });
    let i = || json!({ "type": "integer" });
    let b = || json!({ "type": "boolean" });
    let null_i = || json!({ "type": ["integer", "null"] });
    let null_s = || json!({ "type": ["string", "null"] });
    let summary = json!({
        "id": i(), "number": s(), "status_label": s(), "open": b(),
        "site_id": i(), "site_name": s(), "requester_id": i(), "requester_name": s(), "requester_email": s(),
        "assignee_id": null_i(), "assignee_name": null_s(), "assignee_email": null_s(),
        "subject": s(), "status": s(), "status_since": i(), "version": i(), "created_at": i(), "updated_at": i(),
        "priority": { "enum": PRIORITIES }, "tags": { "type": "array", "items": s() },
        "type_id": null_i(), "type_name": null_s(),
    });
    let endpoint = json!({
        "id": i(), "url": s(), "events": { "type": "array", "items": { "enum": webhook_events() } }, "description": s(),
        "state": { "enum": ["active", "disabled"] }, "disabled_reason": null_s(), "failing_since": null_i(), "created_at": i() });
    let endpoint_keys = [
        "id",
        "url",
        "events",
        "description",
        "state",
        "disabled_reason",
        "failing_since",
        "created_at",
    ];
    // Registering answers the endpoint and, this once, its signing secret.
    let mut new_endpoint = endpoint.clone();
    new_endpoint["secret"] = json!({ "type": "string", "pattern": "^whsec_[0-9a-f]{64}$" });
    let mut new_endpoint_keys = endpoint_keys.to_vec();
    new_endpoint_keys.push("secret");
    let summary_keys: Vec<String> = summary
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut detail = summary.clone();
    detail["messages"] = list_of("RequestMessage");
    detail["attachments"] = list_of("Attachment");
    detail["timeline"] = list_of("TimelineEntry");
    detail["fields"] = json!({ "type": "array", "items": object(&["key", "label", "kind", "value"], json!({
        "key": s(), "label": s(), "kind": { "enum": FIELD_KINDS }, "value": s() })) });
    detail["field_changes"] = json!({ "type": "array", "items": object(
        &["id", "field", "old_value", "new_value", "actor_id", "actor_name", "actor_role", "cause", "plugin", "at"],
        json!({ "id": i(), "field": { "type": "string", "description": "priority, tags, type, or a custom field's key" }, "old_value": s(), "new_value": s(),
            "actor_id": null_i(), "actor_name": null_s(), "actor_role": s(), "cause": s(),
            "plugin": null_s(), "at": i() })) });
    detail["timers"] = json!({ "type": "array", "items": object(&["name", "due_at", "set_at"],
        json!({ "name": s(), "due_at": i(), "set_at": i() })) });
    detail["moves"] = list_of("Status");
    detail["moves_unavailable"] = json!({ "anyOf": [
        object(&["code"], json!({ "code": { "enum": ["rule_unavailable"] },
            "plugin": reference("PluginRef"), "detail": s() })),
        { "type": "null" } ] });
    detail["rule_failures"] = json!({ "type": "array", "items": object(
        &["id", "request_id", "slot", "function", "cause", "plugin_id", "plugin_name", "plugin_version",
          "plugin_sha256", "kind", "message", "at"],
        json!({ "id": i(), "request_id": null_i(), "slot": s(), "function": s(), "cause": s(),
            "plugin_id": i(), "plugin_name": s(), "plugin_version": s(), "plugin_sha256": s(),
            "kind": s(), "message": s(), "at": i() })) });
    detail["rating"] = json!({ "anyOf": [
        object(&["rating", "comment", "rated_at"], json!({
            "rating": { "enum": ["good", "bad"] }, "comment": s(), "rated_at": i() })),
        { "type": "null" } ] });
    detail["shared_with"] = json!({ "type": "array", "items": object(&["user_id", "name", "email"], json!({
        "user_id": i(), "name": s(), "email": s() })) });
    let mut detail_keys = summary_keys.clone();
    detail_keys.extend(
        [
            "messages",
            "attachments",
            "timeline",
            "fields",
            "field_changes",
            "timers",
            "moves",
            "moves_unavailable",
            "rule_failures",
            "rating",
            "shared_with",
        ]
        .map(String::from),
    );
    fn keys(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    let plugin = object(
        &["id", "name", "version", "sha256"],
        json!({ "id": i(), "name": s(), "version": s(), "sha256": s() }),
    );
    json!({
        "Error": { "type": "object", "additionalProperties": false, "required": ["error"], "properties": { "error": {
            "type": "object", "additionalProperties": false, "required": ["code", "message"],
            "properties": { "code": s(), "message": s(), "details": { "type": "object" } } } } },
        "Message": object(&["message"], json!({ "message": s() })),
        "PluginRef": plugin,
        "Requirements": object(&["requirements", "decided_by"], json!({ "requirements": s(), "decided_by": reference("PluginRef") })),
        "Violation": object(&["code", "message"], json!({ "code": s(), "message": s() })),
        "PasswordCheck": object(&["outcome", "decided_by"], json!({
            "outcome": { "enum": ["accepted", "rejected"] }, "violations": list_of("Violation"), "decided_by": reference("PluginRef") })),
        "Session": object(&["token", "stage", "persistent", "expires_at"], json!({
            "token": s(), "stage": { "enum": ["mfa", "password_change", "full"] }, "persistent": b(), "expires_at": i(), "device_token": s() })),
        "Me": object(&["id", "email", "given_name", "surname", "role", "state", "site_id", "session_id", "stage", "language", "time_zone"], json!({
            "id": i(), "email": s(), "given_name": s(), "surname": s(), "role": { "enum": ROLES }, "state": s(),
            "site_id": null_i(), "session_id": i(), "stage": { "enum": ["mfa", "password_change", "full"] },
            "language": { "enum": LANGUAGES }, "time_zone": null_s() })),
        "Preferences": object(&["language", "time_zone"], json!({
            "language": { "enum": LANGUAGES }, "time_zone": null_s() })),
        "SessionInfo": object(&["id", "current", "persistent", "created_at", "last_seen_at", "expires_at", "user_agent", "ip"], json!({
            "id": i(), "current": b(), "persistent": b(), "created_at": i(), "last_seen_at": i(), "expires_at": i(), "user_agent": s(), "ip": s() })),
        "PendingUser": object(&["id", "email", "given_name", "surname", "site_id", "site_name", "created_at"], json!({
            "id": i(), "email": s(), "given_name": s(), "surname": s(), "site_id": null_i(), "site_name": s(), "created_at": i() })),
        "User": object(&["id", "email", "given_name", "surname", "role", "state", "site_id"], json!({
            "id": i(), "email": s(), "given_name": s(), "surname": s(), "role": s(), "state": s(), "site_id": null_i() })),
        "Site": object(&["id", "name", "domains", "addresses", "maintenance_until", "licences"], json!({
            "id": i(), "name": s(), "domains": { "type": "array", "items": s() }, "addresses": { "type": "array", "items": s() },
            "maintenance_until": null_s(), "licences": i() })),
        "Installed": object(&["id", "slot", "name", "version", "summary", "sha256", "size", "config", "installed_at", "installed_by", "compiled_on", "servers"], json!({
            "id": i(), "slot": s(), "name": s(), "version": s(), "summary": s(), "sha256": s(), "size": i(), "config": s(),
            "installed_at": i(), "installed_by": s(),
            "compiled_on": { "type": "integer", "description": "Live servers that have compiled it: activation waits until all have" },
            "servers": { "type": "integer", "description": "Live servers" } })),
        "Activation": object(&["id", "slot", "plugin_id", "activated_at", "activated_by", "rolled_back_at", "rolled_back_by"], json!({
            "id": i(), "slot": s(), "plugin_id": i(), "activated_at": i(), "activated_by": s(), "rolled_back_at": null_i(), "rolled_back_by": null_s() })),
        "SlotOverview": object(&["slot", "active_id", "shadow", "installed", "history", "failures_24h"], json!({
            "slot": s(), "active_id": null_i(), "shadow": { "anyOf": [reference("Shadow"), { "type": "null" }] },
            "installed": list_of("Installed"), "history": list_of("Activation"),
            "failures_24h": { "type": "integer", "minimum": 0, "maximum": 1000, "description": "How often the active plugin failed in the last 24 hours (counted up to 1000): decisions refused, automatic moves not made" } })),
        "Shadow": object(&["slot", "plugin_id", "started_at", "started_by", "asked", "disagreed"], json!({
            "slot": s(), "plugin_id": i(), "started_at": i(), "started_by": s(),
            "asked": { "type": "integer", "description": "Live decisions it was asked, on every server" },
            "disagreed": { "type": "integer", "description": "Of those, how many it answered otherwise" } })),
        "ShadowStarted": object(&["slot", "shadow_id"], json!({ "slot": s(), "shadow_id": i() })),
        "InstalledPlugin": object(&["id", "slot", "name", "version", "sha256", "active"], json!({
            "id": i(), "slot": s(), "name": s(), "version": s(), "sha256": s(), "active": b() })),
        "PluginConfig": object(&["id", "config", "fields", "values", "unreadable"], json!({
            "id": i(), "config": s(),
            "fields": { "type": ["array", "null"], "items": object(&["key", "label", "help", "type"], json!({
                "key": s(), "label": s(), "help": s(),
                "type": { "enum": ["integer", "boolean", "text", "choice", "text-list"] },
                "default": {}, "min": i(), "max": i(), "choices": { "type": "array", "items": s() },
            })) },
            "values": { "type": ["object", "null"] },
            "unreadable": { "type": ["string", "null"] },
        })),
        "Reconfigured": object(&["id", "from", "slot", "diff"], json!({ "id": i(), "from": i(), "slot": s(), "diff": { "type": "array", "items": s() } })),
        "SlotChange": object(&["slot", "active_id"], json!({ "slot": s(), "active_id": i() })),
        "Tried": object(&["plugin", "outcome", "answer", "error", "micros", "instructions", "peak_memory", "logs"], json!({
            "plugin": reference("PluginRef"), "outcome": { "enum": crate::http::console_api::OUTCOMES }, "answer": { "description": "The answer as JSON; null when the call failed" },
            "error": null_s(), "micros": i(), "instructions": i(), "peak_memory": i(), "logs": { "type": "array", "items": s() } })),
        "DryRun": object(&["slot", "function", "question", "candidate", "active"], json!({
            "slot": s(), "function": s(), "question": { "description": "The question as asked; a password only as its length and character classes" },
            "candidate": reference("Tried"), "active": reference("Tried") })),
        "Replay": object(&["slot", "plugin", "replayed", "same", "skipped", "differences"], json!({
            "slot": s(), "plugin": reference("PluginRef"), "replayed": i(), "same": i(), "skipped": i(),
            "differences": { "type": "array", "items": object(&["decision_id", "decided_at", "function", "request_id", "question", "recorded", "candidate"], json!({
                "decision_id": i(), "decided_at": i(), "function": s(), "request_id": null_i(), "question": {},
                "recorded": object(&["plugin_id", "outcome", "answer"], json!({ "plugin_id": i(), "outcome": s(), "answer": {} })),
                "candidate": object(&["outcome", "answer"], json!({ "outcome": s(), "answer": {} })) })) } })),
        "Decision": object(&["id", "decided_at", "slot", "function", "plugin_id", "sha256", "request_id", "input", "answer", "outcome", "error", "micros", "live"], json!({
            "id": i(), "decided_at": i(), "slot": s(), "function": s(), "plugin_id": i(), "sha256": s(), "request_id": null_i(),
            "input": { "description": "The question, as JSON" }, "answer": { "description": "The answer as JSON; null when the call failed" },
            "outcome": { "enum": crate::http::console_api::OUTCOMES },
            "error": { "type": ["string", "null"], "description": "What a failed call failed with (the trap, what was malformed); null when it answered" },
            "micros": i(),
            "live": { "description": "On a shadow's disagreement: what the live plugin decided", "anyOf": [
                object(&["plugin_id", "outcome", "answer"], json!({ "plugin_id": i(), "outcome": s(), "answer": {} })),
                { "type": "null" } ] } })),
        "AuditEvent": object(&["id", "at", "event", "user_id", "email", "actor", "ip", "detail"], json!({
            "id": i(), "at": i(), "event": s(), "user_id": null_i(), "email": s(), "actor": s(), "ip": s(), "detail": s() })),
        "Undelivered": object(&["id", "to_addr", "subject", "attempts", "last_error", "created_at", "failed_at"], json!({
            "id": i(), "to_addr": s(), "subject": s(), "attempts": i(), "last_error": null_s(), "created_at": i(), "failed_at": i() })),
        "WebhookEndpoint": object(&endpoint_keys, endpoint.clone()),
        "NewWebhookEndpoint": object(&new_endpoint_keys, new_endpoint),
        "WebhookDelivery": object(&["id", "event", "request_id", "state", "attempts", "last_status", "last_error", "last_attempt_at",
                "next_attempt_at", "delivered_at", "resent_from", "created_at"], json!({
            "id": i(), "event": { "enum": crate::webhooks::EVENTS }, "request_id": null_i(), "state": { "enum": ["pending", "delivered", "failed"] },
            "attempts": i(), "last_status": null_i(), "last_error": null_s(), "last_attempt_at": null_i(), "next_attempt_at": i(),
            "delivered_at": null_i(), "resent_from": null_i(), "created_at": i() })),
        "Status": object(&["key", "label", "open", "initial"], json!({ "key": s(), "label": s(), "open": b(), "initial": b() })),
        "Workflow": object(&["statuses", "by"], json!({ "statuses": list_of("Status"), "by": reference("PluginRef") })),
        "RequestSummary": object(&keys(&summary_keys), summary),
        "RequestDetail": object(&keys(&detail_keys), detail),
        "MailWording": object(&["join", "join_built_in"], json!({ "join": null_s(), "join_built_in": s() })),
        "ReceivedMail": object(&["id", "from_addr", "subject", "outcome", "reason", "request_id", "received_at"], json!({
            "id": i(), "from_addr": s(), "subject": s(),
            "outcome": { "enum": ["replied", "opened", "answered", "ignored", "bounce", "refused", "failed"] },
            "reason": s(), "request_id": null_i(), "received_at": i() })),
        "BouncingAddress": object(&["email", "bouncing_since", "bounce_reason"], json!({
            "email": s(), "bouncing_since": i(), "bounce_reason": null_s() })),
        "RequestMessage": object(&["id", "author_id", "author_name", "author_role", "body", "internal", "channel", "created_at"], json!({
            "id": i(),
            "author_id": { "type": ["integer", "null"], "description": "The person who wrote it; null for a workflow's internal note, whose author_name is the plugin (name and version) and author_role `system`" },
            "author_name": s(), "author_role": s(), "body": s(), "internal": { "enum": [0, 1] },
            "channel": { "enum": ["portal", "api", "email", "workflow"], "description": "Where the message came from (`workflow`: a workflow's note); for email, staff may download the original at /api/v1/requests/{id}/messages/{message}/original" },
            "created_at": i() })),
        "Attachment": object(&["id", "request_id", "message_id", "file_name", "content_type", "size", "sha256", "created_at", "internal"], json!({
            "id": i(), "request_id": i(), "message_id": i(), "file_name": s(), "content_type": s(), "size": i(), "sha256": s(),
            "created_at": i(), "internal": { "enum": [0, 1] } })),
        "TimelineEntry": object(&["id", "from_status", "from_label", "to_status", "to_label", "actor_id", "actor_name", "actor_role", "cause", "plugin_id", "plugin_name", "plugin_version", "plugin_sha256", "at"], json!({
            "id": i(), "from_status": null_s(), "from_label": null_s(), "to_status": s(), "to_label": s(), "actor_id": null_i(),
            "actor_name": null_s(), "actor_role": s(), "cause": s(), "plugin_id": i(), "plugin_name": s(), "plugin_version": s(),
            "plugin_sha256": s(), "at": i() })),
        "SavedReply": object(&["id", "owner_id", "title", "body"], json!({
            "id": i(), "owner_id": null_i(), "title": s(), "body": s() })),
        "RequestType": object(&["id", "name", "position", "retired"], json!({
            "id": i(), "name": s(), "position": i(), "retired": b() })),
        "CustomField": object(&["id", "key", "label", "kind", "options", "required", "customers", "on_form", "position", "retired"], json!({
            "id": i(), "key": s(), "label": s(), "kind": { "enum": FIELD_KINDS }, "options": { "type": "array", "items": s() },
            "required": b(), "customers": b(), "on_form": b(), "position": i(), "retired": b() })),
        "QueueView": object(&["id", "name", "query"], json!({ "id": i(), "name": s(), "query": s() })),
        "QuickLink": object(&["id", "title", "url", "roles", "position"], json!({
            "id": i(), "title": s(), "url": s(), "roles": { "type": "string", "description": "Comma-separated roles" }, "position": i() })),
    })
}
