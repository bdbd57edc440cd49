//! A request's priority and tags: set by staff over the API and in the composer, checked,
//! kept in the timeline and the audit log, listed, filtered, searched and sorted on; customers
//! see the priority, never the tags.

use super::*;
use crate::pages::Browser;

async fn fields(d: &Desk, token: &str, id: i64, body: Value) -> (StatusCode, Value) {
    d.put(&format!("/api/v1/requests/{id}/fields"), token, body)
        .await
}

fn tags(v: &Value) -> Vec<&str> {
    v["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect()
}

async fn staff_set_priority_and_tags(t: TestDb) {
    let d = Desk::new(&t).await;
    let id = d
        .raise(&d.ann, "Renewal quote", "Our licence ends soon.")
        .await;
    let other = d.raise(&d.bob, "Printer", "It jams.").await;
    let r = d.detail(&d.agent, id).await;
    assert_eq!(r["priority"], "normal");
    assert!(tags(&r).is_empty());
    assert_eq!(r["field_changes"], json!([]));

    // Tags are checked, lowercased, sorted and kept once.
    let (s, body) = fields(
        &d,
        &d.agent,
        id,
        json!({ "priority": "urgent", "tags": ["Renewal", "billing", "renewal"], "version": r["version"] }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["priority"], "urgent");
    assert_eq!(tags(&body), ["billing", "renewal"]);
    let changes = body["field_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{body}");
    assert_eq!(changes[0]["field"], "priority");
    assert_eq!(changes[0]["old_value"], "normal");
    assert_eq!(changes[0]["new_value"], "urgent");
    assert_eq!(changes[0]["actor_id"], d.agent_id);
    assert_eq!(changes[1]["field"], "tags");
    assert_eq!(changes[1]["new_value"], "billing renewal");
    // And in the audit log: who, from where, what.
    let (s, audit) = d
        .env
        .get("/api/v1/audit?limit=500", Some(&d.operator))
        .await;
    assert_eq!(s, StatusCode::OK, "{audit}");
    let entries: Vec<&Value> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "request_fields_changed")
        .collect();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["actor"], "agent@vendor.test");
    assert_eq!(entries[0]["ip"], "127.0.0.1");
    assert_eq!(
        entries[0]["detail"],
        format!("REQ-{id}: priority normal → urgent; tags none → billing renewal")
    );

    // Bad input is refused with a clear error and changes nothing.
    let before = d.detail(&d.agent, id).await;
    for (body, code) in [
        (json!({ "tags": ["two words"] }), "invalid_tags"),
        (json!({ "tags": ["-lead"] }), "invalid_tags"),
        (
            json!({ "tags": (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>() }),
            "invalid_tags",
        ),
        (json!({ "priority": "asap" }), "invalid_priority"),
        (json!({}), "nothing_to_change"),
    ] {
        let (s, res) = fields(&d, &d.agent, id, body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {res}");
        assert_eq!(res["error"]["code"], code, "{body}: {res}");
    }
    let after = d.detail(&d.agent, id).await;
    assert_eq!(before["version"], after["version"]);
    assert_eq!(after["field_changes"].as_array().unwrap().len(), 2);
    // Twenty tags are allowed.
    let twenty: Vec<String> = (0..20).map(|i| format!("t{i:02}")).collect();
    let (s, body) = fields(&d, &d.agent, other, json!({ "tags": twenty })).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(tags(&body).len(), 20);
    let (s, _) = fields(&d, &d.agent, other, json!({ "tags": [] })).await;
    assert_eq!(s, StatusCode::OK);

    // A stale version is a conflict.
    let (s, body) = fields(
        &d,
        &d.agent,
        id,
        json!({ "priority": "low", "version": r["version"] }),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");

    // Customers see the priority, not the tags, and cannot set either.
    let seen = d.detail(&d.ann, id).await;
    assert_eq!(seen["priority"], "urgent");
    assert!(tags(&seen).is_empty(), "{seen}");
    assert_eq!(seen["field_changes"], json!([]));
    let listed = d.list(&d.ann, "").await;
    assert!(listed.iter().all(|r| tags(r).is_empty()));
    let (s, _) = fields(&d, &d.ann, id, json!({ "priority": "low" })).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = d
        .env
        .get("/api/v1/requests?tag=renewal", Some(&d.ann))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Lists filter on both, and on a tag through its index.
    let ids =
        |rows: Vec<Value>| -> Vec<i64> { rows.iter().map(|r| r["id"].as_i64().unwrap()).collect() };
    assert_eq!(ids(d.list(&d.agent, "priority=urgent").await), [id]);
    assert_eq!(ids(d.list(&d.agent, "priority=normal").await), [other]);
    assert_eq!(ids(d.list(&d.agent, "tag=renewal").await), [id]);
    assert_eq!(
        ids(d.list(&d.agent, "tag=RENEWAL&priority=urgent").await),
        [id]
    );
    assert!(
        d.list(&d.agent, "tag=renewal&priority=low")
            .await
            .is_empty()
    );
    assert!(
        d.list(&d.agent, "tag=t01").await.is_empty(),
        "removed tags no longer match"
    );
    assert_eq!(ids(d.list(&d.ann, "priority=urgent").await), [id]);
    // Staff search by tag with `tag:` terms, beside words; a customer's `tag:` is words.
    for (query, found) in [
        ("q=tag:renewal", vec![id]),
        ("q=TAG:Renewal%20tag:billing", vec![id]),
        ("q=tag:renewal%20quote", vec![id]),
        ("q=tag:renewal%20printer", vec![]),
        ("q=tag:t01", vec![]),
        ("q=tag:not/a/tag", vec![]),
        ("q=tag:", vec![]),
    ] {
        assert_eq!(ids(d.list(&d.agent, query).await), found, "{query}");
    }
    assert!(d.list(&d.ann, "q=tag:renewal").await.is_empty());
    for query in ["priority=", "priority=asap", "tag=", "tag=two%20words"] {
        let (s, body) = d
            .env
            .get(&format!("/api/v1/requests?{query}"), Some(&d.agent))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {body}");
    }
}
on_both_backends!(priority_and_tags, staff_set_priority_and_tags);

async fn the_composer_and_the_queue_show_priority_and_tags(t: TestDb) {
    let d = Desk::with(crate::pages::env_without_codes(&t).await).await;
    let id = d.raise(&d.ann, "Conveyor alarm", "Alarm on belt 2.").await;
    let agent = Browser::sign_in(&d.env, "agent@vendor.test").await;
    let ann = Browser::sign_in(&d.env, "ann@acme.example").await;
    let html = agent
        .get(&d.env, &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"<dd id="request-priority">Normal</dd>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<option value="normal" selected>Normal</option>"#),
        "{html}"
    );

    // Priority and tags alone, with no message. Changed since the page was read (the customer
    // replied), the request is a conflict, and nothing is saved; read again, it is saved.
    let stale = d.detail(&d.agent, id).await["version"].as_i64().unwrap();
    let (s, _) = d
        .env
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&d.ann),
            json!({ "body": "Still alarming." }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let path = format!("/requests/{id}/reply?csrf={}", agent.csrf);
    let send = |fields: Vec<(&'static str, String)>| {
        let mut form = Form::new();
        for (k, v) in fields {
            form = form.text(k, v);
        }
        agent.post_multipart(&d.env, &path, form)
    };
    let fields = |version: i64| {
        vec![
            ("kind", "reply".into()),
            ("body", String::new()),
            ("version", version.to_string()),
            ("assignee", String::new()),
            ("assignee_was", String::new()),
            ("priority", "high".into()),
            ("priority_was", "normal".into()),
            ("tags", "Safety, belt-2".into()),
            ("tags_was", String::new()),
        ]
    };
    let res = send(fields(stale)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(d.detail(&d.agent, id).await["priority"], "normal");
    let version = d.detail(&d.agent, id).await["version"].as_i64().unwrap();
    let res = send(vec![
        ("kind", "reply".into()),
        ("body", String::new()),
        ("version", version.to_string()),
        ("assignee", String::new()),
        ("assignee_was", String::new()),
        ("priority", "high".into()),
        ("priority_was", "normal".into()),
        ("tags", "Safety, belt-2".into()),
        ("tags_was", String::new()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.ends_with("notice=updated"), "{to}");
    let html = agent.get(&d.env, &to).await.text().await.unwrap();
    assert!(html.contains("Changes saved."), "{html}");
    assert!(
        html.contains(r#"<dd id="request-priority">High</dd>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<a class="tag" href="/requests?status=all&amp;tag=safety">safety</a>"#),
        "{html}"
    );
    assert!(html.contains("Priority: Normal → High"), "{html}");
    assert!(html.contains("Tags added: belt-2 safety"), "{html}");

    // A reply that leaves them as shown changes neither.
    let res = send(vec![
        ("kind", "reply".into()),
        ("body", "We are on it.".into()),
        ("version", "1".into()),
        ("assignee", String::new()),
        ("assignee_was", String::new()),
        ("priority", "high".into()),
        ("priority_was", "high".into()),
        ("tags", "safety belt-2".into()),
        ("tags_was", "belt-2 safety".into()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        d.detail(&d.agent, id).await["field_changes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A bad tag is explained on the page, keeping what was typed.
    let res = send(vec![
        ("kind", "note".into()),
        ("body", "Checked the belt.".into()),
        ("priority", "high".into()),
        ("priority_was", "high".into()),
        ("tags", "safety, not/ok".into()),
        ("tags_was", "belt-2 safety".into()),
    ])
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(html.contains("is not one: a tag is"), "{html}");
    assert!(html.contains(r#"value="safety, not/ok""#), "{html}");
    assert!(html.contains("Checked the belt."), "the draft is kept");

    // The queue shows and filters them; a value the page does not offer is refused.
    let html = agent
        .get(&d.env, "/requests?status=all&priority=high")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Conveyor alarm")
            && html.contains(r#"<span class="badge priority">High</span>"#),
        "{html}"
    );
    let html = agent
        .get(&d.env, "/requests?status=all&priority=low")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Conveyor alarm"));
    let html = agent
        .get(&d.env, "/requests?status=all&tag=safety")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Conveyor alarm"), "{html}");
    let res = agent.get(&d.env, "/requests?priority=asap").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // The customer sees the priority, in their language's words, and no tags.
    let html = ann
        .get(&d.env, &format!("/requests/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"<dd id="request-priority">High</dd>"#),
        "{html}"
    );
    assert!(
        !html.contains("safety") && !html.contains("request-tags"),
        "{html}"
    );
    assert!(
        !html.contains("Priority: Normal"),
        "field changes are staff's"
    );
}
on_both_backends!(
    priority_and_tags_pages,
    the_composer_and_the_queue_show_priority_and_tags
);

/// Lists ordered by priority: most urgent first, then by last change, the same through every
/// page and with a search; a cursor of one order is refused in another; the queue offers the
/// order and keeps it.
async fn lists_by_priority(t: TestDb) {
    let d = Desk::with(crate::pages::env_without_codes(&t).await).await;
    let mut raised = Vec::new();
    for (i, priority) in [
        "low", "urgent", "normal", "urgent", "high", "normal", "high",
    ]
    .into_iter()
    .enumerate()
    {
        let who = if i % 2 == 0 { &d.ann } else { &d.bob };
        let id = d
            .raise(who, &format!("Conveyor fault {i}"), "The belt stops.")
            .await;
        if priority != "normal" {
            let (s, body) = fields(&d, &d.agent, id, json!({ "priority": priority })).await;
            assert_eq!(s, StatusCode::OK, "{body}");
        }
        raised.push((priority, id));
    }
    let rank = |p: &str| {
        ["low", "normal", "high", "urgent"]
            .iter()
            .position(|x| *x == p)
    };
    // Expected: by rank, then the newest change first (each request was last changed after
    // the ones raised before it), then the larger id.
    let mut expected = raised.clone();
    expected.sort_by_key(|&(p, id)| (std::cmp::Reverse(rank(p)), std::cmp::Reverse(id)));
    let expected: Vec<i64> = expected.into_iter().map(|(_, id)| id).collect();

    for query in [
        "sort=priority&limit=2",
        "sort=priority&limit=3&status=open",
        "sort=priority&limit=2&q=conveyor",
    ] {
        assert_eq!(d.all_pages(&d.agent, query).await, expected, "{query}");
    }
    let first = d.list(&d.agent, "sort=priority&limit=3").await;
    let priorities: Vec<&str> = first
        .iter()
        .map(|r| r["priority"].as_str().unwrap())
        .collect();
    assert_eq!(priorities, ["urgent", "urgent", "high"]);
    // A customer's list too, within what they may see (Bob, his own requests).
    let visible = d.all_pages(&d.bob, "limit=100").await;
    let bobs: Vec<i64> = expected
        .iter()
        .copied()
        .filter(|id| visible.contains(id))
        .collect();
    assert!(!bobs.is_empty() && bobs.len() < expected.len());
    assert_eq!(d.all_pages(&d.bob, "sort=priority&limit=1").await, bobs);

    // A cursor belongs to its order.
    let d = &d;
    let next = |query: &'static str| async move {
        let (s, body) = d
            .env
            .get(&format!("/api/v1/requests?{query}"), Some(&d.agent))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body["next"].as_str().unwrap().to_owned()
    };
    let by_priority = next("sort=priority&limit=2").await;
    let by_change = next("limit=2").await;
    for (cursor, sort) in [(&by_priority, "newest"), (&by_change, "priority")] {
        let (s, body) = d
            .env
            .get(
                &format!("/api/v1/requests?sort={sort}&after={cursor}"),
                Some(&d.agent),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{sort}: {body}");
        assert_eq!(body["error"]["code"], "invalid_cursor", "{body}");
    }
    let (s, body) = d
        .env
        .get("/api/v1/requests?sort=urgent", Some(&d.agent))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");

    // The queue: the order offered, chosen, and the rows in it.
    let agent = Browser::sign_in(&d.env, "agent@vendor.test").await;
    let html = agent
        .get(&d.env, "/requests?status=all&sort=priority")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(r#"<option value="priority" selected>Priority, most urgent first</option>"#),
        "{html}"
    );
    let at = |id: i64| {
        html.find(&format!("REQ-{id}<"))
            .unwrap_or_else(|| panic!("REQ-{id}: {html}"))
    };
    let shown: Vec<usize> = expected.iter().map(|id| at(*id)).collect();
    assert!(shown.is_sorted(), "{expected:?} at {shown:?}");
}
on_both_backends!(by_priority, lists_by_priority);
