//! Request types and custom fields: operators define them (API and page, audited), customers
//! give what the new-request form offers (required ones enforced, staff-only ones refused),
//! staff set the rest; values are checked per kind, kept in the timeline and the audit log,
//! shown to whom they may be, and listed and filtered on; workflows (contract 0.6) read and set
//! them.

use super::*;
use crate::console::decisions;
use crate::pages::Browser;
use crate::requests::reacting::workflow;
use helpdesk_bundled_plugins::fixtures::WORKFLOW_RENEWALS;

/// The desk's types, by name: their ids.
async fn type_id(d: &Desk, name: &str) -> i64 {
    let (s, types) = d.env.get("/api/v1/request-types", Some(&d.agent)).await;
    assert_eq!(s, StatusCode::OK, "{types}");
    types
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no type {name}: {types}"))["id"]
        .as_i64()
        .unwrap()
}

async fn add_field(d: &Desk, body: Value) -> i64 {
    let (s, res) = d
        .env
        .post("/api/v1/request-fields", Some(&d.operator), body.clone())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}: {res}");
    res["id"].as_i64().unwrap()
}

/// The value of field `key` as `v` (a request) shows it.
fn value<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .map(|f| f["value"].as_str().unwrap())
}

async fn define_and_use(t: TestDb) {
    let d = Desk::new(&t).await;
    // A new desk starts with four types.
    let (s, types) = d.env.get("/api/v1/request-types", Some(&d.bob)).await;
    assert_eq!(s, StatusCode::OK);
    let names: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Question", "Incident", "Problem", "Feature request"]
    );

    // Operators add, rename and retire types; no one else may.
    let (s, _) = d
        .env
        .post(
            "/api/v1/request-types",
            Some(&d.agent),
            json!({ "name": "Billing" }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, res) = d
        .env
        .post(
            "/api/v1/request-types",
            Some(&d.operator),
            json!({ "name": " Billing " }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{res}");
    let billing = res["id"].as_i64().unwrap();
    let (s, res) = d
        .env
        .post(
            "/api/v1/request-types",
            Some(&d.operator),
            json!({ "name": "billing" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{res}");
    assert_eq!(res["error"]["code"], "type_exists");
    let problem = type_id(&d, "Problem").await;
    let (s, res) = d
        .put(
            &format!("/api/v1/request-types/{problem}"),
            &d.operator,
            json!({ "name": "Problem", "retired": true }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{res}");

    // Fields of each kind; a choice needs options, a form field is one customers see.
    add_field(
        &d,
        json!({ "key": "serial", "kind": "text", "label": "Serial number",
        "required": true, "customers": true, "on_form": true }),
    )
    .await;
    add_field(
        &d,
        json!({ "key": "units", "kind": "number", "label": "Units affected",
        "customers": true, "on_form": true }),
    )
    .await;
    add_field(
        &d,
        json!({ "key": "plan", "kind": "choice", "label": "Plan",
        "options": ["Basic", "Premium"], "customers": true }),
    )
    .await;
    add_field(
        &d,
        json!({ "key": "outage", "kind": "date", "label": "Outage began" }),
    )
    .await;
    let escalated = add_field(
        &d,
        json!({ "key": "escalated", "kind": "checkbox", "label": "Escalated" }),
    )
    .await;
    for (body, status, code) in [
        (
            json!({ "key": "tier", "kind": "choice", "label": "Tier" }),
            422,
            "options",
        ),
        (
            json!({ "key": "note", "kind": "text", "label": "Note", "options": ["a"] }),
            422,
            "options",
        ),
        (
            json!({ "key": "Bad Key", "kind": "text", "label": "X" }),
            400,
            "key",
        ),
        (
            json!({ "key": "priority", "kind": "text", "label": "X" }),
            422,
            "key",
        ),
        (
            json!({ "key": "size", "kind": "colour", "label": "X" }),
            400,
            "kind",
        ),
        (
            json!({ "key": "size", "kind": "text", "label": "X", "on_form": true }),
            422,
            "on_form",
        ),
        (
            json!({ "key": "serial", "kind": "text", "label": "Again" }),
            422,
            "field_exists",
        ),
    ] {
        let (s, res) = d
            .env
            .post("/api/v1/request-fields", Some(&d.operator), body.clone())
            .await;
        assert_eq!(s.as_u16(), status, "{body}: {res}");
        assert_eq!(res["error"]["code"], code, "{body}: {res}");
    }
    // Customers see only the fields shown to them.
    let (s, seen) = d.env.get("/api/v1/request-fields", Some(&d.bob)).await;
    assert_eq!(s, StatusCode::OK);
    let keys: Vec<&str> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["serial", "units", "plan"]);
    let (_, types) = d.env.get("/api/v1/request-types", Some(&d.bob)).await;
    assert!(!types.to_string().contains("Problem"), "retired: {types}");

    // A customer raises a request with a type and the form's fields; required ones must be
    // given, and fields the form does not offer cannot be.
    let incident = type_id(&d, "Incident").await;
    let raise = |body: Value| d.env.post("/api/v1/requests", Some(&d.bob), body);
    for (body, status, code) in [
        (
            json!({ "subject": "Pump", "description": "Stopped.", "type_id": incident }),
            422,
            "required_field",
        ),
        (
            json!({ "subject": "Pump", "description": "Stopped.", "fields": { "serial": "  " } }),
            422,
            "required_field",
        ),
        (
            json!({ "subject": "Pump", "description": "Stopped.", "fields": { "serial": "P-1", "units": "many" } }),
            422,
            "invalid_field",
        ),
        (
            json!({ "subject": "Pump", "description": "Stopped.", "fields": { "serial": "P-1", "plan": "Basic" } }),
            422,
            "unknown_field",
        ),
        (
            json!({ "subject": "Pump", "description": "Stopped.", "fields": { "serial": "P-1", "nope": "x" } }),
            422,
            "unknown_field",
        ),
        (
            json!({ "subject": "Pump", "description": "Stopped.", "fields": { "serial": "P-1" }, "type_id": problem }),
            422,
            "unknown_type",
        ),
        (
            json!({ "subject": "Pump", "description": "Stopped.", "fields": { "serial": ["P-1"] } }),
            400,
            "invalid_field",
        ),
    ] {
        let (s, res) = raise(body.clone()).await;
        assert_eq!(s.as_u16(), status, "{body}: {res}");
        assert_eq!(res["error"]["code"], code, "{body}: {res}");
    }
    assert!(
        d.list(&d.agent, "status=all").await.is_empty(),
        "nothing was raised"
    );
    let (s, res) = raise(json!({ "subject": "Pump", "description": "Stopped.",
        "type_id": incident, "fields": { "serial": " P-1 ", "units": 3.50 } }))
    .await;
    assert_eq!(s, StatusCode::CREATED, "{res}");
    let id = res["id"].as_i64().unwrap();
    // By multipart too, as the portal's form posts it.
    let (s, res) = d
        .multipart(
            "/api/v1/requests",
            &d.bob,
            &[
                ("subject", "Valve"),
                ("description", "Leaks."),
                ("type_id", &billing.to_string()),
                ("fields.serial", "V-9"),
            ],
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{res}");
    let valve = res["id"].as_i64().unwrap();
    // Or the whole object in one part, as JSON.
    let (s, res) = d
        .multipart(
            "/api/v1/requests",
            &d.bob,
            &[
                ("subject", "Gasket"),
                ("description", "Worn."),
                ("fields", r#"{"serial": "G-2", "units": 2}"#),
            ],
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{res}");
    let gasket = d.detail(&d.agent, res["id"].as_i64().unwrap()).await;
    assert_eq!(value(&gasket, "serial"), Some("G-2"));
    assert_eq!(value(&gasket, "units"), Some("2"));
    let r = d.detail(&d.agent, id).await;
    assert_eq!(r["type_name"], "Incident");
    assert_eq!(r["type_id"], incident);
    assert_eq!(value(&r, "serial"), Some("P-1"));
    assert_eq!(
        value(&r, "units"),
        Some("3.5"),
        "numbers are kept canonical"
    );
    assert_eq!(
        r["field_changes"],
        json!([]),
        "what it was raised with is no change"
    );
    assert_eq!(d.detail(&d.agent, valve).await["type_name"], "Billing");

    // Staff set the rest; each change is in the timeline and the audit log.
    let (s, res) = d
        .put(
            &format!("/api/v1/requests/{id}/fields"),
            &d.agent,
            json!({ "type_id": null, "fields": { "plan": "premium", "outage": "2026-12-01",
                "escalated": true, "units": null }, "version": r["version"] }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{res}");
    assert_eq!(res["type_name"], Value::Null);
    assert_eq!(value(&res, "plan"), Some("Premium"));
    assert_eq!(value(&res, "outage"), Some("2026-12-01"));
    assert_eq!(value(&res, "escalated"), Some("yes"));
    assert_eq!(value(&res, "units"), None);
    let changes: Vec<(String, String, String)> = res["field_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_owned();
            (s("field"), s("old_value"), s("new_value"))
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("type", "Incident", ""),
        ("escalated", "", "yes"),
        ("outage", "", "2026-12-01"),
        ("plan", "", "Premium"),
        ("units", "3.5", ""),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(changes, expected);
    let (_, audit) = d
        .env
        .get("/api/v1/audit?limit=500", Some(&d.operator))
        .await;
    let detail = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "request_fields_changed")
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .unwrap();
    assert_eq!(
        detail,
        format!(
            "REQ-{id}: type Incident → none; escalated none → yes; outage none → 2026-12-01; plan none → Premium; units 3.5 → none"
        )
    );
    for event in [
        "request_type_added",
        "request_type_changed",
        "custom_field_added",
    ] {
        assert!(audit.to_string().contains(event), "{event}");
    }

    // Bad values are refused and change nothing; a required field cannot be cleared.
    let before = d.detail(&d.agent, id).await;
    for (body, status, code) in [
        (
            json!({ "fields": { "outage": "2026-02-30" } }),
            422,
            "invalid_field",
        ),
        (
            json!({ "fields": { "plan": "Gold" } }),
            422,
            "invalid_field",
        ),
        (
            json!({ "fields": { "escalated": "maybe" } }),
            422,
            "invalid_field",
        ),
        (json!({ "fields": { "serial": "" } }), 422, "required_field"),
        (
            json!({ "fields": { "units": 1e300 } }),
            422,
            "invalid_field",
        ),
        (json!({ "type_id": 999_999 }), 422, "unknown_type"),
        (
            json!({ "fields": { "plan": "Basic", "nope": "x" } }),
            422,
            "unknown_field",
        ),
    ] {
        let (s, res) = d
            .put(
                &format!("/api/v1/requests/{id}/fields"),
                &d.agent,
                body.clone(),
            )
            .await;
        assert_eq!(s.as_u16(), status, "{body}: {res}");
        assert_eq!(res["error"]["code"], code, "{body}: {res}");
    }
    let after = d.detail(&d.agent, id).await;
    assert_eq!(before["version"], after["version"]);
    assert_eq!(before["fields"], after["fields"]);
    // Customers cannot set fields after raising, and see only theirs.
    let (s, _) = d
        .put(
            &format!("/api/v1/requests/{id}/fields"),
            &d.bob,
            json!({ "fields": { "units": 4 } }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let seen = d.detail(&d.bob, id).await;
    let keys: Vec<&str> = seen["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["serial", "plan"], "{seen}");

    // A choice keeps the options requests hold; a retired field is set no more.
    let plan = seen["fields"].as_array().unwrap()[1].clone();
    assert_eq!(plan["label"], "Plan");
    let (_, defs) = d.env.get("/api/v1/request-fields", Some(&d.operator)).await;
    let plan_id = defs
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "plan")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (s, res) = d
        .put(
            &format!("/api/v1/request-fields/{plan_id}"),
            &d.operator,
            json!({ "label": "Plan", "options": ["Basic"], "customers": true }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{res}");
    assert_eq!(res["error"]["code"], "option_in_use");
    let (s, res) = d
        .put(
            &format!("/api/v1/request-fields/{escalated}"),
            &d.operator,
            json!({ "label": "Escalated", "retired": true }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{res}");
    let (s, res) = d
        .put(
            &format!("/api/v1/requests/{id}/fields"),
            &d.agent,
            json!({ "fields": { "escalated": false } }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{res}");

    // Lists filter by type and by a field's value, in canonical form.
    let ids =
        |rows: Vec<Value>| -> Vec<i64> { rows.iter().map(|r| r["id"].as_i64().unwrap()).collect() };
    assert_eq!(
        ids(d.list(&d.agent, &format!("type={billing}")).await),
        [valve]
    );
    assert_eq!(ids(d.list(&d.agent, "field=plan:PREMIUM").await), [id]);
    assert_eq!(ids(d.list(&d.agent, "field=serial:V-9").await), [valve]);
    assert_eq!(ids(d.list(&d.bob, "field=serial:P-1").await), [id]);
    assert!(d.list(&d.agent, "field=plan:Basic").await.is_empty());
    for (who, query, status) in [
        (&d.agent, "field=plan", 400),
        (&d.agent, "field=plan:Gold", 422),
        (&d.agent, "field=nope:x", 422),
        (&d.bob, "field=outage:2026-12-01", 422),
        (&d.agent, "field=", 400),
    ] {
        let (s, body) = d
            .env
            .get(&format!("/api/v1/requests?{query}"), Some(who))
            .await;
        assert_eq!(s.as_u16(), status, "{query}: {body}");
    }
}
on_both_backends!(types_and_fields, define_and_use);

async fn on_the_pages(t: TestDb) {
    let d = Desk::with(crate::pages::env_without_codes(&t).await).await;
    let operator = Browser::sign_in(&d.env, "ops@vendor.test").await;
    let agent = Browser::sign_in(&d.env, "agent@vendor.test").await;
    let bob = Browser::sign_in(&d.env, "bob@acme.example").await;

    // The operator defines a field on the page; a bad one is explained.
    let res = operator
        .post(
            &d.env,
            "/staff/request-fields/fields",
            &[
                ("key", "site_code"),
                ("kind", "text"),
                ("label", "Site code"),
                ("required", "1"),
                ("customers", "1"),
                ("on_form", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Saved."));
    let res = operator
        .post(
            &d.env,
            "/staff/request-fields/fields",
            &[("key", "tier"), ("kind", "choice"), ("label", "Tier")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("at least one option"));
    let res = operator
        .post(
            &d.env,
            "/staff/request-fields/fields",
            &[
                ("key", "tier"),
                ("kind", "choice"),
                ("label", "Tier"),
                ("options", "Gold\nSilver"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = operator
        .post(&d.env, "/staff/request-fields/types", &[("name", "Outage")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = operator
        .get(&d.env, "/staff/request-fields")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"value="Outage""#) && html.contains("<code>tier</code>"),
        "{html}"
    );
    let res = agent.get(&d.env, "/staff/request-fields").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The customer's form offers the types and its field, not the staff's.
    let html = bob.get(&d.env, "/requests/new").await.text().await.unwrap();
    assert!(
        html.contains(r#"<option value="">No type</option>"#),
        "{html}"
    );
    assert!(html.contains(">Outage</option>"), "{html}");
    assert!(
        html.contains(r#"name="field.site_code""#) && html.contains("required"),
        "{html}"
    );
    assert!(!html.contains("field.tier"), "{html}");
    let outage = type_id(&d, "Outage").await;
    let new_request = format!("/requests?csrf={}", bob.csrf);
    let post = |fields: Vec<(&'static str, String)>| {
        let mut form = Form::new();
        for (k, v) in fields {
            form = form.text(k, v);
        }
        bob.post_multipart(&d.env, &new_request, form)
    };
    // Left empty, the required field is explained and what was typed kept.
    let res = post(vec![
        ("subject", "Power cut".into()),
        ("description", "Site dark.".into()),
        ("type", outage.to_string()),
        ("field.site_code", String::new()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("Site code is required."), "{html}");
    assert!(
        html.contains("Power cut")
            && html.contains(&format!(r#"<option value="{outage}" selected>"#)),
        "{html}"
    );
    let res = post(vec![
        ("subject", "Power cut".into()),
        ("description", "Site dark.".into()),
        ("type", outage.to_string()),
        ("field.site_code", "NORTH-7".into()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let html = bob.get(&d.env, &to).await.text().await.unwrap();
    assert!(
        html.contains(r#"<dd id="request-type">Outage</dd>"#),
        "{html}"
    );
    assert!(
        html.contains("<dt>Site code</dt><dd>NORTH-7</dd>"),
        "{html}"
    );
    let id: i64 = to
        .trim_start_matches("/requests/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // The agent's composer sets the type and the staff field; only what changed counts.
    let html = agent
        .get(&d.env, &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"name="field.tier_was" value="""#), "{html}");
    let incident = type_id(&d, "Incident").await;
    let path = format!("/requests/{id}/reply?csrf={}", agent.csrf);
    let mut form = Form::new();
    for (k, v) in [
        ("kind", "reply".to_owned()),
        ("body", String::new()),
        (
            "version",
            d.detail(&d.agent, id).await["version"].to_string(),
        ),
        ("assignee", String::new()),
        ("assignee_was", String::new()),
        ("priority", "normal".into()),
        ("priority_was", "normal".into()),
        ("tags", String::new()),
        ("tags_was", String::new()),
        ("type", incident.to_string()),
        ("type_was", outage.to_string()),
        ("field.site_code", "NORTH-7".into()),
        ("field.site_code_was", "NORTH-7".into()),
        ("field.tier", "silver".into()),
        ("field.tier_was", String::new()),
    ] {
        form = form.text(k, v);
    }
    let res = agent.post_multipart(&d.env, &path, form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let html = agent.get(&d.env, &to).await.text().await.unwrap();
    assert!(
        html.contains(r#"<dd id="request-type">Incident</dd>"#),
        "{html}"
    );
    assert!(html.contains("<dt>Tier</dt><dd>Silver</dd>"), "{html}");
    assert!(html.contains("Type: Outage → Incident"), "{html}");
    assert!(html.contains("Tier: none → Silver"), "{html}");
    assert_eq!(
        d.detail(&d.agent, id).await["field_changes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The queue filters by type and field, and marks the type.
    let html = agent
        .get(
            &d.env,
            &format!("/requests?status=all&type={incident}&field=tier%3Asilver"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Power cut") && html.contains(r#"<span class="badge">Incident</span>"#),
        "{html}"
    );
    let html = agent
        .get(&d.env, &format!("/requests?status=all&type={outage}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Power cut"), "{html}");
    let res = agent.get(&d.env, "/requests?type=abc").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // The customer never sees the staff field or the timeline of fields.
    let html = bob
        .get(&d.env, &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Tier") && !html.contains("Silver"), "{html}");
}
on_both_backends!(types_and_fields_pages, on_the_pages);

/// Contract 0.6: a workflow sees a request's type and custom fields, sets them (each change in
/// the timeline, by the plugin, raising `field-changed` in turn), and an answer naming a type
/// or value the desk does not keep is refused as a whole while the event stands.
async fn rules_read_and_set_them(t: TestDb) {
    let d = Desk::new(&t).await;
    add_field(
        &d,
        json!({ "key": "impact", "kind": "choice", "label": "Impact", "options": ["Low", "High"] }),
    )
    .await;
    add_field(
        &d,
        json!({ "key": "severity", "kind": "text", "label": "Severity" }),
    )
    .await;
    let config = "outage-type = \"incident\"\noutage-field = \"impact=high\"\nurgent-when = \"severity=critical\"";
    workflow(&d, &t, WORKFLOW_RENEWALS, config).await;

    // A new request about an outage gets the type and the value, in canonical form.
    let id = d
        .raise(&d.bob, "Outage at plant 4", "Everything stopped.")
        .await;
    let r = d.detail(&d.agent, id).await;
    assert_eq!(r["rule_failures"], json!([]), "{r}");
    assert_eq!(r["type_name"], "Incident", "{r}");
    assert_eq!(value(&r, "impact"), Some("High"));
    let changes: Vec<(&str, &str, &str)> = r["field_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["field"].as_str().unwrap(),
                c["new_value"].as_str().unwrap(),
                c["plugin"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("type", "Incident", "workflow-renewals 1.0.0"),
            ("impact", "High", "workflow-renewals 1.0.0")
        ]
    );
    // Each change raised `field-changed`, asked with the request as the change left it.
    let logged = decisions(&d, &format!("?request={id}"), |l| {
        l.iter()
            .any(|x| x["input"]["detail"] == "impact" && x["input"]["event"] == "field-changed")
    })
    .await;
    let asked = logged
        .iter()
        .find(|x| x["input"]["detail"] == "impact")
        .unwrap();
    assert_eq!(asked["input"]["request"]["request_type"], "Incident");
    assert_eq!(
        asked["input"]["request"]["fields"],
        json!([{ "key": "impact", "value": "High" }])
    );
    // A request without an outage in its subject is left alone.
    let calm = d.raise(&d.bob, "A question", "How do I export?").await;
    assert!(d.detail(&d.agent, calm).await["type_name"].is_null());

    // Staff set a field; the workflow reads it and acts.
    let version = d.detail(&d.agent, id).await["version"].clone();
    let (s, res) = d
        .put(
            &format!("/api/v1/requests/{id}/fields"),
            &d.agent,
            json!({ "fields": { "severity": "Critical" }, "version": version }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{res}");
    assert_eq!(d.detail(&d.agent, id).await["priority"], "urgent");

    // A value the field cannot hold, or a type the desk does not keep: nothing of the answer.
    for (config, action, why) in [
        (
            "outage-type = \"incident\"\noutage-field = \"impact=catastrophic\"",
            "action 2 (set-field)",
            "\"catastrophic\" is not one of: Low, High",
        ),
        (
            "outage-type = \"Maintenance\"\noutage-field = \"impact=high\"",
            "action 1 (set-type)",
            "there is no request type \"Maintenance\"",
        ),
        (
            "outage-field = \"plant=4\"",
            "action 1 (set-field)",
            "there is no custom field \"plant\"",
        ),
    ] {
        workflow(&d, &t, WORKFLOW_RENEWALS, config).await;
        let id = d.raise(&d.bob, "Another outage", "Again.").await;
        let r = d.detail(&d.agent, id).await;
        assert!(r["type_name"].is_null(), "{config}: {r}");
        assert_eq!(value(&r, "impact"), None, "{config}");
        assert_eq!(r["status"], "open", "the event itself stands");
        let message = r["rule_failures"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(
            message.contains(action) && message.contains(why),
            "{config}: {message}"
        );
    }
}
on_both_backends!(set_by_rules, rules_read_and_set_them);
