//! Every operation of the API, in the order the document lists them.

use super::*;

/// A type's name, a field's label, an option.
const ONE_LINE: Field = Field::new("name", "Name", custom::MAX_NAME_CHARS, text::Kind::Line);

pub(super) fn operations(st: &Statuses) -> Vec<Op> {
    let email = || string(&text::EMAIL, true);
    let password = || string(&text::PASSWORD, false);
    let new_password = object(
        &["password", "confirm_password"],
        json!({ "password": password(), "confirm_password": password() }),
    );
    let date = json!({ "type": ["string", "null"], "anyOf": [
        { "type": "string", "format": "date" }, { "type": "string", "maxLength": 0 }, { "type": "null" } ] });
    let site = object(
        &["name"],
        json!({
            "name": string(&text::SITE_NAME, true),
            "domains": { "type": "array", "maxItems": crate::auth::MAX_DOMAINS, "items": { "type": "string", "maxLength": text::DOMAIN.max, "pattern": DOMAIN_PATTERN } },
            "addresses": { "type": "array", "maxItems": crate::auth::MAX_ADDRESSES, "items": email() },
            "maintenance_until": date,
            "licences": { "type": "integer", "minimum": 0, "maximum": 1_000_000 },
        }),
    );
    let mut filters: Vec<String> = vec!["all".into(), "open".into(), "closed".into()];
    filters.extend(st.known.iter().cloned());
    filters.extend(st.held.iter().cloned());
    let values = json!({ "type": "object", "maxProperties": custom::MAX_FIELDS,
        "propertyNames": { "pattern": custom::KEY_PATTERN },
        "additionalProperties": { "type": ["string", "number", "boolean", "null"], "pattern": "^[^\\u0000]*$" },
        "description": "Custom fields by key: a string, a number, a boolean (a checkbox) or null (no value)" });
    let mut at_least_one_field = values.clone();
    at_least_one_field["minProperties"] = json!(1);
    let new_request = object(
        &["subject", "description"],
        json!({ "subject": string(&text::SUBJECT, true), "description": string(&text::DESCRIPTION, true),
            "type_id": { "type": ["integer", "null"], "minimum": i64::MIN, "maximum": i64::MAX, "description": "One of the types of GET /api/v1/request-types; null or left out: none" },
            "fields": values.clone() }),
    );
    let name = || string(&ONE_LINE, true);
    let field_settings = json!({
        "label": name(),
        "options": { "type": "array", "maxItems": custom::MAX_OPTIONS, "items": name() },
        "required": { "type": "boolean" }, "customers": { "type": "boolean" },
        "on_form": { "type": "boolean", "description": "Offered on the new-request form; such a field is shown to customers" },
        "retired": { "type": "boolean" } });
    let mut new_field = field_settings.clone();
    new_field["key"] = json!({ "type": "string", "pattern": custom::KEY_PATTERN });
    new_field["kind"] = json!({ "enum": FIELD_KINDS });
    let new_message = object(
        &["body"],
        json!({ "body": string(&text::MESSAGE, true), "internal": { "type": "boolean", "description": "Staff only: an internal note no customer sees" } }),
    );
    vec![
        op("get", "/api/v1/password-policy", "The active password plugin's requirement sentence")
            .ok(200, Some(reference("Requirements"))),
        op("post", "/api/v1/password-policy/check", "Check a password against the active policy plugin")
            .json(object(&["password"], json!({
                "password": password(),
                "email": string(&text::EMAIL, false),
                "given_name": string(&text::GIVEN_NAME, false),
                "surname": string(&text::SURNAME, false),
            })))
            .ok(200, Some(reference("PasswordCheck")))
            .errors(&[429]),
        op("post", "/api/v1/signup", "Join now: email a verification link (the answer never reveals whether the address has an account)")
            .json(object(&["email"], json!({ "email": email() })))
            .ok(202, Some(message()))
            .errors(&[429]),
        op("get", "/api/v1/signup/{token}", "Open a verification link: the address, whether it may go on to create the account, and whether staff review the sign-up first")
            .ok(200, Some(object(&["email", "eligible", "review", "password_requirements"], json!({
                "email": { "type": "string" }, "eligible": { "type": "boolean" }, "review": { "type": "boolean" },
                "password_requirements": { "type": "string" } }))))
            .errors(&[404]),
        op("post", "/api/v1/signup/{token}", "Create the account")
            .json(object(&["password", "confirm_password", "given_name", "surname"], json!({
                "password": password(), "confirm_password": password(),
                "given_name": string(&text::GIVEN_NAME, true), "surname": string(&text::SURNAME, true) })))
            .ok(201, Some(object(&["message", "review"], json!({ "message": { "type": "string" }, "review": { "type": "boolean" } }))))
            .errors(&[403, 404, 409, 422]),
        op("post", "/api/v1/login", "Log in with email and password; answers a session token and its stage (mfa, password_change or full)")
            .json(object(&["email", "password"], json!({
                "email": email(), "password": password(), "stay_logged_in": { "type": "boolean" },
                "device_token": string(&text::TOKEN, false) })))
            .ok(200, Some(reference("Session")))
            .errors(&[401, 403, 429]),
        op("post", "/api/v1/login/code", "Send verification code (session at stage mfa)")
            .session()
            .ok(202, Some(message()))
            .errors(&[403, 429]),
        op("post", "/api/v1/login/code/verify", "Verify code; rotates the session token, and with remember_device returns a device_token")
            .session()
            .json(object(&["code"], json!({ "code": string(&text::CODE, false), "remember_device": { "type": "boolean" } })))
            .ok(200, Some(reference("Session")))
            .errors(&[403, 422, 429]),
        op("post", "/api/v1/logout", "End this session").session().ok(204, None),
        op("get", "/api/v1/me", "The signed-in person and session stage")
            .session()
            .ok(200, Some(reference("Me"))),
        op("put", "/api/v1/me/preferences", "The language and time zone the portal's pages use for the caller; null follows the browser")
            .session()
            .json(object(&["language", "time_zone"], json!({
                "language": { "enum": LANGUAGES },
                "time_zone": { "enum": time_zones() } })))
            .ok(200, Some(reference("Preferences")))
            .errors(&[400]),
        op("post", "/api/v1/me/password", "Change the password (required at stage password_change); other sessions end")
            .session()
            .json(object(&["password", "confirm_password"], json!({
                "current_password": password(), "password": password(), "confirm_password": password() })))
            .ok(200, Some(reference("Session")))
            .errors(&[403, 422]),
        op("get", "/api/v1/me/sites", "Sites the signed-in user may choose at first login")
            .session()
            .ok(200, Some(object(&["sites"], json!({ "sites": { "type": "array", "items": object(&["id", "name"], json!({ "id": { "type": "integer" }, "name": { "type": "string" } })) } }))))
            .errors(&[403]),
        op("post", "/api/v1/me/site", "Choose the site; the account then waits for activation")
            .session()
            .json(object(&["site_id"], json!({ "site_id": int64() })))
            .ok(200, Some(message()))
            .errors(&[403, 409, 422]),
        op("get", "/api/v1/sessions", "The signed-in user's sessions")
            .session()
            .ok(200, Some(object(&["sessions"], json!({ "sessions": list_of("SessionInfo") }))))
            .errors(&[403]),
        op("delete", "/api/v1/sessions/{id}", "End one of your sessions")
            .session()
            .ok(204, None)
            .errors(&[403, 404]),
        op("post", "/api/v1/sessions/end-all", "Sign out everywhere; remembered devices are forgotten too")
            .session()
            .ok(200, Some(object(&["ended"], json!({ "ended": { "type": "integer" } }))))
            .errors(&[403]),
        op("post", "/api/v1/password-reset", "Forgot your password?: email a one-hour reset link (same answer whether or not the address has an account)")
            .json(object(&["email"], json!({ "email": email() })))
            .ok(202, Some(message()))
            .errors(&[429]),
        op("get", "/api/v1/password-reset/{token}", "Whether a reset link is usable")
            .ok(200, Some(object(&["usable", "password_requirements"], json!({ "usable": { "type": "boolean" }, "password_requirements": { "type": "string" } }))))
            .errors(&[404]),
        op("post", "/api/v1/password-reset/{token}", "Set the new password; every session ends and remembered devices are forgotten")
            .json(new_password.clone())
            .ok(200, Some(message()))
            .errors(&[404, 422]),
        op("get", "/api/v1/approvals", "Accounts waiting for activation (staff: all; Site Administrator: their site)")
            .session()
            .ok(200, Some(object(&["pending"], json!({ "pending": list_of("PendingUser") }))))
            .errors(&[403]),
        op("post", "/api/v1/approvals/{user_id}", "Activate or reject a waiting account")
            .session()
            .json(object(&["approve"], json!({ "approve": { "type": "boolean" } })))
            .ok(204, None)
            .errors(&[403, 404, 409]),
        op("get", "/api/v1/signup-reviews", "Sign-ups the eligibility plugin sent to staff for review, with its reason (operators)")
            .session()
            .ok(200, Some(object(&["reviews"], json!({ "reviews": { "type": "array", "items": object(
                &["id", "email", "given_name", "surname", "reason", "created_at"],
                json!({ "id": int64(), "email": { "type": "string" }, "given_name": { "type": "string" },
                    "surname": { "type": "string" }, "reason": { "type": "string" }, "created_at": int64() })) } }))))
            .errors(&[403]),
        op("post", "/api/v1/signup-reviews/{user_id}", "Approve a reviewed sign-up for a site (the site's first person becomes its Site Administrator) or refuse it; the person is emailed either way (operators; audited)")
            .session()
            .json(object(&["approve"], json!({ "approve": { "type": "boolean" }, "site_id": int64() })))
            .ok(204, None)
            .errors(&[403, 404, 409, 422]),
        op("post", "/api/v1/invitations", "Invite someone (Site Administrator: to their site; staff: to site_id)")
            .session()
            .json(object(&["email", "given_name", "surname"], json!({
                "email": email(), "given_name": string(&text::GIVEN_NAME, true), "surname": string(&text::SURNAME, true),
                "site_id": int64(), "mode": { "enum": ["link", "temporary_password"] } })))
            .ok(201, Some(object(&["user_id"], json!({ "user_id": { "type": "integer" } }))))
            .errors(&[403, 409, 422]),
        op("get", "/api/v1/invitations/{token}", "Open an invitation link")
            .ok(200, Some(object(&["email", "given_name", "surname", "password_requirements"], json!({
                "email": { "type": "string" }, "given_name": { "type": "string" }, "surname": { "type": "string" }, "password_requirements": { "type": "string" } }))))
            .errors(&[404]),
        op("post", "/api/v1/invitations/{token}/accept", "Accept an invitation by choosing a password (and giving names, when the account has none)")
            .json(object(&["password", "confirm_password"], json!({
                "password": password(), "confirm_password": password(),
                "given_name": string(&text::GIVEN_NAME, true), "surname": string(&text::SURNAME, true) })))
            .ok(200, Some(message()))
            .errors(&[404, 422]),
        op("get", "/api/v1/users", "People (staff: everyone; Site Administrator: their site)")
            .session()
            .ok(200, Some(object(&["users"], json!({ "users": list_of("User") }))))
            .errors(&[403]),
        op("post", "/api/v1/users/{id}/resend-invitation", "Send an invitation again; the earlier link stops working")
            .session()
            .ok(204, None)
            .errors(&[403, 404, 409]),
        op("post", "/api/v1/users/{id}/role", "Change a role (operators)")
            .session()
            .json(object(&["role"], json!({ "role": { "enum": ROLES } })))
            .ok(204, None)
            .errors(&[403, 404, 422]),
        op("post", "/api/v1/users/{id}/disable", "Disable an account; its sessions end (operators)")
            .session()
            .ok(204, None)
            .errors(&[403, 404]),
        op("get", "/api/v1/sites", "Customer sites (staff)")
            .session()
            .ok(200, Some(object(&["sites"], json!({ "sites": list_of("Site") }))))
            .errors(&[403]),
        op("post", "/api/v1/sites", "Add a site (operators)")
            .session()
            .json(site.clone())
            .ok(201, Some(object(&["id"], json!({ "id": { "type": "integer" } }))))
            .errors(&[403, 409]),
        op("put", "/api/v1/sites/{id}", "Replace a site's details (operators)")
            .session()
            .json(site)
            .ok(204, None)
            .errors(&[403, 404, 409]),
        op("get", "/api/v1/audit", "The audit log: sign-in events and the changes people made (accounts, sites, plugins, requests' priority and tags), newest first (operators)")
            .session()
            .query(vec![
                query_param("before", int64(), "Only events with a smaller id"),
                query_param("limit", json!({ "type": "integer", "minimum": 1, "maximum": 500 }), "At most this many (default 100)"),
            ])
            .ok(200, Some(object(&["events"], json!({ "events": list_of("AuditEvent") }))))
            .errors(&[403]),
        op("get", "/api/v1/plugins", "Every slot: the active plugin's id, the installations (newest first) and the recent activations (operators)")
            .session()
            .ok(200, Some(object(&["slots"], json!({ "slots": list_of("SlotOverview") }))))
            .errors(&[403]),
        op("post", "/api/v1/plugins", "Install a component by upload: checked (world, imports, contract version, config) exactly as `helpdesk plugin install` checks it, and stored only when it passes; optionally activated (operators; audited)")
            .session()
            .multipart(object(&["slot", "component"], json!({
                "slot": { "enum": ["password-policy", "signup-eligibility", "ticket-workflow"] },
                "component": { "type": "string", "format": "binary", "description": "The WebAssembly component, at most 64 MiB" },
                "config": { "type": "string", "maxLength": 65536, "pattern": "^[^\\u0000]*$" },
                "signature": { "type": "string", "maxLength": 4096, "pattern": "^[^\\u0000]*$", "description": "The detached signature file's text, where the server requires signed components" },
                "activate": { "enum": ["true", "false"] },
                "instructions": { "type": "integer", "minimum": 1, "maximum": i64::MAX, "description": "Instructions one call may execute, instead of the slot's default" },
                "memory_mib": { "type": "integer", "minimum": 1, "maximum": 4096, "description": "Memory one call may use, in MiB, instead of the slot's default (within the server's ceiling)" },
                "output_kib": { "type": "integer", "minimum": 1, "maximum": 65536, "description": "Largest answer of one call, in KiB, instead of the slot's default" },
                "backstop_ms": { "type": "integer", "minimum": 1, "maximum": 60000, "description": "Wall-clock backstop of one call, in milliseconds, instead of the slot's default" },
            })))
            .ok(201, Some(reference("InstalledPlugin")))
            .errors(&[403, 413, 422]),
        op("post", "/api/v1/plugins/{id}/activate", "Make an installed plugin its slot's active plugin on every server (operators; audited)")
            .session()
            .ok(200, Some(reference("SlotChange")))
            .errors(&[403, 404, 409, 422]),
        op("post", "/api/v1/slots/{slot}/rollback", "Return a slot to the plugin active before the current one (operators; audited)")
            .session()
            .ok(200, Some(reference("SlotChange")))
            .errors(&[403, 404, 409]),
        op("post", "/api/v1/plugins/{id}/shadow", "Put an installed plugin in shadow for its slot on every server, in place of any other shadow there: every live decision of the slot is then also asked of it, off the request's path, and its disagreements with the active plugin are counted and recorded (operators; audited)")
            .session()
            .ok(200, Some(reference("ShadowStarted")))
            .errors(&[403, 404, 409, 422]),
        op("delete", "/api/v1/slots/{slot}/shadow", "Stop asking a slot's shadow; answers what it was compared on (operators; audited)")
            .session()
            .ok(200, Some(reference("Shadow")))
            .errors(&[403, 404, 409]),
        op("post", "/api/v1/slots/{slot}/shadow/promote", "Make a slot's shadow its active plugin on every server, which ends the shadowing (operators; audited)")
            .session()
            .ok(200, Some(reference("SlotChange")))
            .errors(&[403, 404, 409, 422]),
        op("post", "/api/v1/plugins/{id}/dry-run", "Ask an installed plugin a question by hand, and the active plugin of its slot the same: answers, time, instructions, memory and log lines side by side; nothing changes and nothing is logged as a decision (operators). password-policy needs `password`; signup-eligibility `email`; ticket-workflow `request` and `to` (asks can-transition) or `event` (asks react with the request as it is now, and answers the list of actions; `detail` is the status left, the field changed or the timer's name)")
            .session()
            .json(object(&[], json!({
                "password": password(),
                "email": string(&text::EMAIL, false),
                "given_name": string(&text::GIVEN_NAME, false),
                "surname": string(&text::SURNAME, false),
                "today": { "type": "string", "format": "date" },
                "request": { "type": "integer", "minimum": 1, "maximum": i64::MAX },
                "to": string(&text::STATUS, true),
                "actor": { "enum": ["customer", "site-admin", "agent", "operator", "system"] },
                "event": { "enum": ["created", "customer-replied", "staff-replied", "agent-replied", "note-added", "assigned", "status-changed", "field-changed", "timer"] },
                "detail": string(&text::STATUS, false),
            })))
            .ok(200, Some(reference("DryRun")))
            .errors(&[403, 404, 422]),
        op("get", "/api/v1/plugins/{id}/config", "An installed plugin's config, with the settings its component describes (contract 0.3 `describe-config`: key, label, help, type, default, bounds or choices) and each one's value under the config; `fields` is null when the plugin describes none, `values` null when the text cannot be read as the settings (operators)")
            .session()
            .ok(200, Some(reference("PluginConfig")))
            .errors(&[403, 404]),
        op("post", "/api/v1/plugins/{id}/config", "Save an installed plugin's component with another config as a new installation, checked by the plugin and not activated, with the line-by-line difference from the old config (operators; audited). Send the config as text (`config`), or as the plugin's described settings (`settings`: keys left out take their default; settings at their default are not written)")
            .session()
            .json(json!({ "oneOf": [
                object(&["config"], json!({ "config": { "type": "string", "maxLength": 65536, "pattern": "^[^\\u0000]*$" } })),
                object(&["settings"], json!({ "settings": {
                    "type": "object",
                    "maxProperties": helpdesk_plugin_host::config_form::MAX_FIELDS,
                    "additionalProperties": { "oneOf": [
                        { "type": "integer", "minimum": i64::MIN, "maximum": i64::MAX },
                        { "type": "boolean" },
                        { "type": "string", "maxLength": 4096, "pattern": "^[^\\u0000-\\u001f]*$" },
                        { "type": "array", "maxItems": 1000, "items": { "type": "string", "maxLength": 1024, "pattern": "^[^\\u0000-\\u001f]*$" } },
                    ] },
                } })),
            ] }))
            .ok(201, Some(reference("Reconfigured")))
            .errors(&[403, 404, 422]),
        op("post", "/api/v1/plugins/{id}/replay", "Run an installed plugin over the newest recorded decisions of its slot and list where it would have decided differently (operators; eligibility and workflow: the log keeps no passwords)")
            .session()
            .json(object(&[], json!({ "limit": { "type": "integer", "minimum": 1, "maximum": crate::console::REPLAY_MAX } })))
            .ok(200, Some(reference("Replay")))
            .errors(&[403, 404, 422]),
        op("get", "/api/v1/decisions", "Plugin decisions, newest first, a page at a time (operators). A password is recorded as its length and character classes only")
            .session()
            .query(vec![
                query_param("slot", json!({ "enum": ["password-policy", "signup-eligibility", "ticket-workflow"] }), "Only this slot's decisions"),
                query_param("plugin", json!({ "type": "integer", "minimum": 1, "maximum": i64::MAX }), "Only this installation's (`helpdesk plugin list`)"),
                query_param("outcome", json!({ "enum": crate::http::console_api::OUTCOMES }), "ok, failed (any failure), or one kind of failure"),
                query_param("request", json!({ "type": "integer", "minimum": 1, "maximum": i64::MAX }), "Only decisions about this request"),
                query_param("since", json!({ "type": "integer", "minimum": 0, "maximum": i64::MAX }), "Decided at or after, Unix milliseconds"),
                query_param("until", json!({ "type": "integer", "minimum": 0, "maximum": i64::MAX }), "Decided before, Unix milliseconds"),
                query_param("before", json!({ "type": "integer", "minimum": 1, "maximum": i64::MAX }), "Only ids below this: the previous page's `next_before`"),
                query_param("limit", json!({ "type": "integer", "minimum": 1, "maximum": 500 }), "At most this many (default 100)"),
                query_param("shadow", json!({ "enum": ["true", "false"] }), "true: the shadows' disagreements with the live plugin instead of live decisions"),
            ])
            .ok(200, Some(object(&["decisions", "next_before"], json!({ "decisions": list_of("Decision"), "next_before": { "type": ["integer", "null"] } }))))
            .errors(&[403]),
        op("get", "/api/v1/webhooks", "Webhook endpoints, oldest first (operators)")
            .session()
            .ok(200, Some(list_of("WebhookEndpoint")))
            .errors(&[403]),
        op("post", "/api/v1/webhooks", "Register a webhook endpoint: every event it wants on any request is POSTed to it, signed with the secret this answer shows once (operators; audited)")
            .session()
            .json(object(&["url", "events"], json!({
                "url": { "type": "string", "minLength": 1, "maxLength": crate::console::URL_MAX, "pattern": "^https?://[^\\s\\u0000-\\u001f\\u007f-\\u009f]+$" },
                "events": { "type": "array", "minItems": 1, "maxItems": 20, "items": { "enum": webhook_events() } },
                "description": { "type": "string", "maxLength": crate::console::DESCRIPTION_MAX, "pattern": "^[^\\u0000]*$" },
            })))
            .ok(201, Some(reference("NewWebhookEndpoint")))
            .errors(&[403, 409, 422]),
        op("get", "/api/v1/webhooks/{id}", "One webhook endpoint (operators)")
            .session()
            .ok(200, Some(reference("WebhookEndpoint")))
            .errors(&[403, 404]),
        op("delete", "/api/v1/webhooks/{id}", "Remove a webhook endpoint and its delivery log (operators; audited)")
            .session()
            .ok(204, None)
            .errors(&[403, 404]),
        op("put", "/api/v1/webhooks/{id}/state", "Turn a webhook endpoint on (its failures forgotten) or off (what waits for it is given up) (operators; audited)")
            .session()
            .json(object(&["enabled"], json!({ "enabled": { "type": "boolean" } })))
            .ok(200, Some(reference("WebhookEndpoint")))
            .errors(&[403, 404]),
        op("get", "/api/v1/webhooks/{id}/deliveries", "A webhook endpoint's newest 100 deliveries, newest first, with each one's state, attempts and last answer (operators)")
            .session()
            .ok(200, Some(list_of("WebhookDelivery")))
            .errors(&[403, 404]),
        op("post", "/api/v1/webhooks/{id}/deliveries/{delivery}/resend", "Send a delivery again, as a new delivery with the same body (operators; audited)")
            .session()
            .ok(201, Some(object(&["id"], json!({ "id": int64() }))))
            .errors(&[403, 404]),
        op("get", "/api/v1/mail/undelivered", "Email the outbox gave up on, with the reason (operators)")
            .session()
            .ok(200, Some(object(&["undelivered"], json!({ "undelivered": list_of("Undelivered") }))))
            .errors(&[403]),
        op("get", "/api/v1/mail/received", "The last 200 messages read from the support mailbox with what became of each (replied, opened, answered, ignored, bounce, refused, failed) and why, and the addresses bounces reported as undeliverable (operators)")
            .session()
            .ok(200, Some(object(&["received", "bouncing"], json!({ "received": list_of("ReceivedMail"), "bouncing": list_of("BouncingAddress") }))))
            .errors(&[403]),
        op("post", "/api/v1/mail/bouncing/clear", "Clear an address's bouncing mark, so mail to it is sent again (operators; audited)")
            .session()
            .json(object(&["email"], json!({ "email": email() })))
            .ok(204, None)
            .errors(&[403, 404]),
        op("get", "/api/v1/mail/wording", "The answer to mail from unknown or inactive addresses: the operators' wording (null: the built-in one is used) and the built-in wording; the link to join always follows it (operators)")
            .session()
            .ok(200, Some(reference("MailWording")))
            .errors(&[403]),
        op("put", "/api/v1/mail/wording", "Sets the answer to mail from unknown or inactive addresses; blank lines separate paragraphs, and an empty text goes back to the built-in wording (operators; audited)")
            .session()
            .json(object(&["join"], json!({ "join": string(&text::JOIN_WORDING, false) })))
            .ok(200, Some(reference("MailWording")))
            .errors(&[400, 403]),
        op("get", "/api/v1/requests", "Requests the caller may see, newest change first unless `sort` says otherwise, a page at a time")
            .session()
            .query(vec![
                query_param("status", json!({ "enum": filters }), "all, open, closed, or a status key"),
                query_param("site", int64(), "Staff: only this site's requests"),
                query_param("assignee", int64(), "Staff: only requests assigned to this person"),
                query_param("unassigned", json!({ "type": "boolean" }), "Staff: only unassigned requests"),
                query_param("priority", json!({ "enum": PRIORITIES }), "Only requests of this priority"),
                query_param("tag", json!({ "type": "string", "pattern": fields::TAG_PATTERN }), "Staff: only requests holding this tag"),
                query_param("type", int64(), "Only requests of this type"),
                query_param("field", json!({ "type": "string", "maxLength": 600, "pattern": format!("{}:", custom::KEY_PATTERN.trim_end_matches('$')) }), "Only requests whose custom field holds a value: `key:value`"),
                query_param("q", string(&text::SEARCH, false), "Words of the subject and public messages, or a request number; staff may add `tag:<tag>` terms"),
                query_param("sort", json!({ "enum": ["newest", "oldest", "priority"] }), "By last change (default newest), or most urgent first and then by last change"),
                query_param("limit", json!({ "type": "integer", "minimum": 1, "maximum": 100 }), "At most this many (default 25)"),
                query_param("after", json!({ "type": "string", "pattern": CURSOR_PATTERN }), "The previous page's `next`"),
            ])
            .ok(200, Some(object(&["requests", "next"], json!({ "requests": list_of("RequestSummary"), "next": { "type": ["string", "null"] } }))))
            .errors(&[403, 422]),
        op("post", "/api/v1/requests", "Raise a request for the caller's site: JSON, or multipart with `files` parts")
            .session()
            .json_or_files(new_request)
            .ok(201, Some(object(&["id", "number"], json!({ "id": { "type": "integer" }, "number": { "type": "string" } }))))
            .errors(&[403, 422]),
        op("get", "/api/v1/requests/{id}", "A request with its messages, attachments, status timeline and the statuses the caller may move it to")
            .session()
            .ok(200, Some(reference("RequestDetail")))
            .errors(&[403, 404]),
        op("post", "/api/v1/requests/{id}/messages", "Reply (staff: `internal: true` for a note no customer sees): JSON, or multipart with `files` parts")
            .session()
            .json_or_files(new_message)
            .ok(201, Some(object(&["id"], json!({ "id": { "type": "integer" } }))))
            .errors(&[403, 404]),
        op("put", "/api/v1/requests/{id}/status", "Move the request to a status, if the active workflow plugin allows it (422 with the plugin's reason if not); `version` guards against concurrent changes (409)")
            .session()
            .json(object(&["status"], json!({ "status": { "enum": st.known }, "version": int64() })))
            .ok(200, Some(reference("RequestDetail")))
            .errors(&[403, 404, 409, 422]),
        op("put", "/api/v1/requests/{id}/assignee", "Assign to a member of staff, or `null` to unassign (staff); `assignee_id` is required")
            .session()
            .json(object(&["assignee_id"], json!({ "assignee_id": nullable(int64()), "version": int64() })))
            .ok(200, Some(reference("RequestDetail")))
            .errors(&[403, 404, 409, 422]),
        op("put", "/api/v1/requests/{id}/fields", "Set the priority, the tags (every tag the request is to hold: at most 20, each a letter or digit then letters, digits, `-` or `_`, up to 32, stored lowercased), the type (`null`: none) or custom fields (those named; `null` or an empty string clears one, but not a required one), any of them (staff); `version` guards against concurrent changes (409)")
            .session()
            .json(at_least_one_of(
                &["priority", "tags", "type_id", "fields"],
                object(&[], json!({ "priority": { "enum": PRIORITIES },
                    "tags": { "type": "array", "maxItems": fields::MAX_TAGS, "items": { "type": "string", "pattern": fields::TAG_PATTERN } },
                    "type_id": nullable(int64()),
                    "fields": at_least_one_field,
                    "version": int64() })),
            ))
            .ok(200, Some(reference("RequestDetail")))
            .errors(&[400, 403, 404, 409, 422]),
        op("put", "/api/v1/requests/{id}/rating", "Rate a closed request good or bad, with an optional comment (its requester; a later rating replaces the earlier)")
            .session()
            .json(object(&["rating"], json!({ "rating": { "enum": ["good", "bad"] }, "comment": string(&text::MESSAGE, false) })))
            .ok(200, Some(reference("RequestDetail")))
            .errors(&[403, 404, 422]),
        op("post", "/api/v1/requests/{id}/cc", "Share the request with a colleague of its site (CC; its requester, the site's administrators, staff): an active customer or Site Administrator of that site, who is emailed a link")
            .session()
            .json(object(&["email"], json!({ "email": email() })))
            .ok(200, Some(reference("RequestDetail")))
            .errors(&[403, 404, 422]),
        op("delete", "/api/v1/requests/{id}/cc/{user}", "Stop sharing the request with someone (anyone may take themselves off)")
            .session()
            .ok(204, None)
            .errors(&[403, 404]),
        op("get", "/api/v1/requests/{id}/attachments/{file}", "Download an attachment (always `Content-Disposition: attachment`)")
            .session()
            .ok(200, Some(json!({ "type": "string", "format": "binary" })))
            .errors(&[403, 404]),
        op("get", "/api/v1/requests/{id}/messages/{message}/original", "Download the email a message arrived as, byte for byte (`.eml`, `Content-Disposition: attachment`; staff)")
            .session()
            .ok(200, Some(json!({ "type": "string", "format": "binary" })))
            .errors(&[403, 404]),
        op("get", "/api/v1/statuses", "The active workflow plugin's statuses and the plugin")
            .session()
            .ok(200, Some(reference("Workflow")))
            .errors(&[403]),
        op("get", "/api/v1/statuses/unknown", "Status keys held by requests that the active workflow does not know, with counts (operators)")
            .session()
            .ok(200, Some(object(&["unknown", "workflow"], json!({
                "unknown": { "type": "array", "items": object(&["status", "requests"], json!({ "status": { "type": "string" }, "requests": { "type": "integer" } })) },
                "workflow": reference("Workflow") }))))
            .errors(&[403]),
        op("post", "/api/v1/statuses/map", "Move every request in an unknown status to a status of the active workflow (operators)")
            .session()
            .json(object(&["from", "to"], json!({ "from": string(&text::STATUS, true), "to": { "enum": st.known } })))
            .ok(200, Some(object(&["moved"], json!({ "moved": { "type": "integer" } }))))
            .errors(&[403, 422]),
        op("get", "/api/v1/dashboard", "Open Requests and the Quick Links the caller's role sees")
            .session()
            .ok(200, Some(object(&["open_requests", "quick_links"], json!({ "open_requests": list_of("RequestSummary"), "quick_links": list_of("QuickLink") }))))
            .errors(&[403]),
        op("get", "/api/v1/quick-links", "Every quick link (operators)")
            .session()
            .ok(200, Some(list_of("QuickLink")))
            .errors(&[403]),
        op("post", "/api/v1/quick-links", "Add a dashboard quick link for chosen roles (operators)")
            .session()
            .json(object(&["title", "url", "roles"], json!({
                "title": string(&text::LINK_TITLE, true),
                "url": { "type": "string", "maxLength": text::URL.max, "pattern": URL_PATTERN },
                "roles": { "type": "array", "minItems": 1, "items": { "enum": ROLES } } })))
            .ok(201, Some(object(&["id"], json!({ "id": { "type": "integer" } }))))
            .errors(&[403]),
        op("delete", "/api/v1/quick-links/{id}", "Remove a quick link (operators)")
            .session()
            .ok(204, None)
            .errors(&[403, 404]),
        op("get", "/api/v1/request-types", "The request types: every one for staff, those offered (not retired) for customers")
            .session()
            .ok(200, Some(list_of("RequestType")))
            .errors(&[403]),
        op("post", "/api/v1/request-types", "Add a request type at the end of the list (operators; audited)")
            .session()
            .json(object(&["name"], json!({ "name": name() })))
            .ok(201, Some(object(&["id"], json!({ "id": { "type": "integer" } }))))
            .errors(&[403, 422]),
        op("put", "/api/v1/request-types/{id}", "Rename a request type, retire it (offered no more; requests keep it) or restore it (operators; audited); answers every type")
            .session()
            .json(object(&["name"], json!({ "name": name(), "retired": { "type": "boolean" } })))
            .ok(200, Some(list_of("RequestType")))
            .errors(&[403, 404, 422]),
        op("get", "/api/v1/request-fields", "The custom fields: every one for staff, those shown to customers (not retired) for customers")
            .session()
            .ok(200, Some(list_of("CustomField")))
            .errors(&[403]),
        op("post", "/api/v1/request-fields", "Define a custom field: its key and kind never change; a choice lists its options (operators; audited)")
            .session()
            .json(object(&["key", "kind", "label"], new_field))
            .ok(201, Some(object(&["id"], json!({ "id": { "type": "integer" } }))))
            .errors(&[403, 422]),
        op("put", "/api/v1/request-fields/{id}", "Change a custom field's label, options and settings; a choice keeps every option a request holds (operators; audited); answers every field")
            .session()
            .json(object(&["label"], field_settings))
            .ok(200, Some(list_of("CustomField")))
            .errors(&[403, 404, 422]),
        op("get", "/api/v1/saved-replies", "The saved replies the caller (staff) may insert into replies: their own and the shared ones, by title")
            .session()
            .ok(200, Some(list_of("SavedReply")))
            .errors(&[403]),
        op("post", "/api/v1/saved-replies", "Save a reply for the caller (staff), or for all staff when shared")
            .session()
            .json(object(&["title", "body"], json!({
                "title": string(&text::LINK_TITLE, true),
                "body": string(&text::MESSAGE, true),
                "shared": { "type": "boolean" } })))
            .ok(201, Some(object(&["id"], json!({ "id": { "type": "integer" } }))))
            .errors(&[403]),
        op("delete", "/api/v1/saved-replies/{id}", "Remove a saved reply: one's own, or a shared one (staff)")
            .session()
            .ok(204, None)
            .errors(&[403, 404]),
        op("get", "/api/v1/queue-views", "The caller's (staff) saved queue views: a name and the queue's query string")
            .session()
            .ok(200, Some(list_of("QueueView")))
            .errors(&[403]),
        op("post", "/api/v1/queue-views", "Save the queue's filter (its query string, e.g. status=open&assignee=me) as a view (staff)")
            .session()
            .json(object(&["name", "query"], json!({
                "name": string(&text::LINK_TITLE, true),
                "query": string(&text::URL, false) })))
            .ok(201, Some(object(&["id"], json!({ "id": { "type": "integer" } }))))
            .errors(&[403]),
        op("delete", "/api/v1/queue-views/{id}", "Remove one of the caller's saved queue views (staff)")
            .session()
            .ok(204, None)
            .errors(&[403, 404]),
        op("put", "/api/v1/me/watching", "Whether the caller (staff) is emailed about customer replies to unassigned requests")
            .session()
            .json(object(&["watching"], json!({ "watching": { "type": "boolean" } })))
            .ok(200, Some(object(&["watching"], json!({ "watching": { "type": "boolean" } }))))
            .errors(&[403]),
    ]
}
