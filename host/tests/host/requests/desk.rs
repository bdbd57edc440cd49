//! The agents' desk in pages: the composer's one submit (a reply or an internal note with a
//! status and an assignee, all or nothing), "Assign to me", what customers see of the timeline,
//! and the queue's typed site filter.

use super::*;
use crate::pages::Browser;

/// Posts the request page's composer as `who`'s browser.
async fn compose(d: &Desk, who: &Browser, id: i64, fields: &[(&str, String)]) -> reqwest::Response {
    let mut form = Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.clone());
    }
    who.post_multipart(
        &d.env,
        &format!("/requests/{id}/reply?csrf={}", who.csrf),
        form,
    )
    .await
}

async fn page(d: &Desk, who: &Browser, path: &str) -> String {
    let res = who.get(&d.env, path).await;
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.unwrap()
}

async fn the_composer_does_it_all_in_one_submit(t: TestDb) {
    let d = Desk::with(crate::pages::env_without_codes(&t).await).await;
    let id = d
        .raise(&d.ann, "Pump stopped", "The pump stopped at 9:00.")
        .await;
    let agent = Browser::sign_in(&d.env, "agent@vendor.test").await;
    let ann = Browser::sign_in(&d.env, "ann@acme.example").await;

    let html = page(&d, &agent, &format!("/requests/{id}")).await;
    assert!(html.contains("Assign to me"), "{html}");
    // The status control starts on the current status, and offers the workflow's moves.
    assert!(
        html.contains(r#"<option value="">Open (unchanged)</option>"#),
        "{html}"
    );
    assert!(html.contains(r#"<option value="on-hold">On Hold</option>"#));
    assert!(
        html.contains("Allowed by"),
        "staff see which plugin allowed each move"
    );

    // Reply, move to On Hold and take it, in one submit.
    let version = d.detail(&d.agent, id).await["version"].as_i64().unwrap();
    let res = compose(
        &d,
        &agent,
        id,
        &[
            ("kind", "reply".into()),
            ("body", "We restarted the pump controller.".into()),
            ("status", "on-hold".into()),
            ("assignee", d.agent_id.to_string()),
            ("assignee_was", String::new()),
            ("version", version.to_string()),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        format!("/requests/{id}?notice=sent-updated").as_str()
    );
    let r = d.detail(&d.agent, id).await;
    assert_eq!(r["status"], "on-hold");
    assert_eq!(r["assignee_id"], d.agent_id);
    assert_eq!(r["messages"].as_array().unwrap().len(), 2);
    let moves: Vec<(&str, &str)> = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["to_status"].as_str().unwrap(),
                c["cause"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            ("open", "created"),
            ("in-progress", "event:assigned"),
            ("on-hold", "requested")
        ]
    );
    // One email for all of it, giving the new status.
    let mail = d.env.sink.wait("ann@acme.example", "New reply", 1).await;
    assert!(
        mail.text.contains("The request is now On Hold."),
        "{}",
        mail.text
    );
    let html = page(&d, &agent, &format!("/requests/{id}")).await;
    assert!(!html.contains("Assign to me"), "already the agent's");

    // All or nothing: a move the workflow refuses takes the message back with it.
    let version = d.detail(&d.agent, id).await["version"].as_i64().unwrap();
    let res = compose(
        &d,
        &agent,
        id,
        &[
            ("kind", "reply".into()),
            ("body", "Still on hold.".into()),
            ("status", "on-hold".into()),
            ("assignee", d.agent_id.to_string()),
            ("assignee_was", d.agent_id.to_string()),
            ("version", version.to_string()),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("already in that status"), "{html}");
    assert!(html.contains("Still on hold."), "the draft is kept: {html}");
    assert_eq!(
        d.detail(&d.agent, id).await["messages"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A stale page is a conflict for a move, and changes nothing.
    let res = compose(
        &d,
        &agent,
        id,
        &[
            ("kind", "reply".into()),
            ("body", "Closing.".into()),
            ("status", "closed".into()),
            ("assignee_was", d.agent_id.to_string()),
            ("assignee", d.agent_id.to_string()),
            ("version", (version - 1).to_string()),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let r = d.detail(&d.agent, id).await;
    assert_eq!(
        (
            r["status"].as_str(),
            r["messages"].as_array().unwrap().len()
        ),
        (Some("on-hold"), 2)
    );

    // An internal note with the switch: no email, only staff see it.
    let res = compose(
        &d,
        &agent,
        id,
        &[
            ("kind", "note".into()),
            ("body", "Controller firmware is 2.1.".into()),
            ("assignee", d.agent_id.to_string()),
            ("assignee_was", d.agent_id.to_string()),
            ("version", version.to_string()),
        ],
    )
    .await;
    assert_eq!(
        res.headers()["location"],
        format!("/requests/{id}?notice=noted").as_str()
    );

    // The status or the assignee alone, with an empty message.
    let res = compose(
        &d,
        &agent,
        id,
        &[
            ("kind", "reply".into()),
            ("body", String::new()),
            ("status", "in-progress".into()),
            ("assignee", String::new()),
            ("assignee_was", d.agent_id.to_string()),
            (
                "version",
                d.detail(&d.agent, id).await["version"].to_string(),
            ),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let r = d.detail(&d.agent, id).await;
    assert_eq!(
        (r["status"].as_str(), r["assignee_id"].is_null()),
        (Some("in-progress"), true)
    );
    assert_eq!(r["messages"].as_array().unwrap().len(), 3);
    // Nothing at all to do is said so.
    let res = compose(
        &d,
        &agent,
        id,
        &[("kind", "reply".into()), ("body", " ".into())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Customers see who moved their request and when, not the plugin that allowed it; staff
    // are shown by name.
    let html = page(&d, &ann, &format!("/requests/{id}")).await;
    assert!(!html.contains("Allowed by"), "{html}");
    assert!(!html.contains("workflow-default"), "{html}");
    assert!(!html.contains("sha256"), "{html}");
    assert!(!html.contains("firmware is 2.1"), "the note stays internal");
    assert!(html.contains("Sam Staff"), "{html}");
    // Ann's email: the acknowledgement, the one reply (with its move), and the move made
    // without a message.
    d.env
        .sink
        .wait("ann@acme.example", "Status changed to In Progress", 1)
        .await;
    let about: Vec<String> = d
        .env
        .sink
        .to("ann@acme.example")
        .into_iter()
        .map(|m| m.subject)
        .filter(|s| s.contains(&helpdesk::requests::number(id)))
        .collect();
    assert_eq!(about.len(), 3, "{about:?}");
}
on_both_backends!(composer, the_composer_does_it_all_in_one_submit);

async fn the_queue_filters_by_a_typed_site(t: TestDb) {
    let d = Desk::with(crate::pages::env_without_codes(&t).await).await;
    let id = d.raise(&d.ann, "Belt slipping", "Belt 4 slips.").await;
    let agent = Browser::sign_in(&d.env, "agent@vendor.test").await;
    let html = page(&d, &agent, "/requests?status=all&site=acme+MINING").await;
    assert!(html.contains("Belt slipping"), "{html}");
    assert!(html.contains(r#"value="Acme Mining""#), "{html}");
    assert!(
        !html.contains(r#"<select id="site""#),
        "no list of every site"
    );
    // Searching from the dashboard looks through every status.
    let html = page(&d, &agent, "/dashboard").await;
    assert!(html.contains(r#"<form method="get" action="/requests" role="search""#));
    assert!(html.contains(r#"<input type="hidden" name="status" value="">"#));
    let (s, body) = d
        .put(
            &format!("/api/v1/requests/{id}/status"),
            &d.agent,
            json!({ "status": "closed" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(
        !page(&d, &agent, "/requests?q=belt")
            .await
            .contains("Belt slipping")
    );
    let html = page(&d, &agent, "/requests?q=belt&status=").await;
    assert!(html.contains("Belt slipping"), "{html}");
    let html = page(&d, &agent, "/requests?status=all&site=Nowhere+Ltd").await;
    assert!(html.contains("There is no site named"), "{html}");
    assert!(!html.contains("Belt slipping"));
}
on_both_backends!(queue_site_filter, the_queue_filters_by_a_typed_site);

async fn rate(d: &Desk, id: i64, token: &str, body: Value) -> (StatusCode, Value) {
    d.put(&format!("/api/v1/requests/{id}/rating"), token, body)
        .await
}

/// A satisfaction rating: offered to the requester once the request is closed, changeable,
/// shown to staff, and refused to anyone else or while the request is open.
async fn customers_rate_closed_requests(t: TestDb) {
    let d = Desk::with(crate::pages::env_without_codes(&t).await).await;
    let id = d
        .raise(&d.bob, "Sensor offline", "Sensor 9 is offline.")
        .await;
    let (s, body) = rate(&d, id, &d.bob, json!({ "rating": "good" })).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("request_open"))
    );
    let bob = Browser::sign_in(&d.env, "bob@acme.example").await;
    assert!(
        !page(&d, &bob, &format!("/requests/{id}"))
            .await
            .contains("How did we do?")
    );
    let (s, _) = d
        .put(
            &format!("/api/v1/requests/{id}/status"),
            &d.agent,
            json!({ "status": "closed" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // Offered in the page once closed; rated there.
    let html = page(&d, &bob, &format!("/requests/{id}")).await;
    assert!(html.contains("How did we do?"), "{html}");
    let res = bob
        .post(
            &d.env,
            &format!("/requests/{id}/rating"),
            &[("rating", "bad"), ("comment", "Took three days.")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let r = d.detail(&d.agent, id).await;
    assert_eq!(
        (
            r["rating"]["rating"].as_str(),
            r["rating"]["comment"].as_str()
        ),
        (Some("bad"), Some("Took three days."))
    );
    // Changed later, through the API.
    let (s, body) = rate(
        &d,
        id,
        &d.bob,
        json!({ "rating": "good", "comment": "Fixed for good." }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["rating"]["rating"], "good");
    let agent = Browser::sign_in(&d.env, "agent@vendor.test").await;
    let html = page(&d, &agent, &format!("/requests/{id}")).await;
    assert!(
        html.contains("Customer rating: Good") && html.contains("Fixed for good."),
        "{html}"
    );
    assert!(!html.contains("How did we do?"), "staff are not asked");

    // Nobody else rates it: not the site's administrator, not staff; nor with another word.
    for who in [&d.ann, &d.agent] {
        let (s, _) = rate(&d, id, who, json!({ "rating": "bad" })).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, body) = rate(&d, id, &d.bob, json!({ "rating": "meh" })).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(d.detail(&d.agent, id).await["rating"]["rating"], "good");
}
on_both_backends!(satisfaction, customers_rate_closed_requests);

/// Saved replies: kept per agent or shared, inserted into the composer (without the script, by
/// a round trip that changes nothing), and removed only by whoever may.
async fn agents_insert_saved_replies(t: TestDb) {
    let d = Desk::with(crate::pages::env_without_codes(&t).await).await;
    let id = d
        .raise(&d.ann, "Login loop", "The login page keeps reloading.")
        .await;
    let agent = Browser::sign_in(&d.env, "agent@vendor.test").await;
    let ops = Browser::sign_in(&d.env, "ops@vendor.test").await;
    for (who, title, body, shared) in [
        (
            &agent,
            "Clear cookies",
            "Please clear the portal's cookies and sign in again.",
            false,
        ),
        (
            &ops,
            "Closing",
            "We are closing this request; reply to reopen it.",
            true,
        ),
    ] {
        let mut form = vec![("title", title), ("body", body)];
        if shared {
            form.push(("shared", "1"));
        }
        let res = who.post(&d.env, "/staff/replies", &form).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let res = agent
        .post(&d.env, "/staff/replies", &[("title", ""), ("body", "x")])
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // The agent has both; the operator only the shared one.
    let mine = page(&d, &agent, "/staff/replies").await;
    assert!(
        mine.contains("Clear cookies") && mine.contains("Closing"),
        "{mine}"
    );
    let theirs = page(&d, &ops, "/staff/replies").await;
    assert!(!theirs.contains("Clear cookies") && theirs.contains("Closing"));

    // Insert: the draft gains the reply, nothing is sent or changed.
    let html = page(&d, &agent, &format!("/requests/{id}")).await;
    let saved_id = |html: &str, title: &str| -> String {
        let at = html.find(&format!(">{title}</option>")).unwrap();
        let start = html[..at].rfind("<option value=\"").unwrap() + 15;
        html[start..].split('"').next().unwrap().to_owned()
    };
    let clear = saved_id(&html, "Clear cookies");
    let version = d.detail(&d.agent, id).await["version"].as_i64().unwrap();
    let res = compose(
        &d,
        &agent,
        id,
        &[
            ("kind", "reply".into()),
            ("body", "Hello Ann,".into()),
            ("saved", clear.clone()),
            ("action", "insert".into()),
            ("status", "closed".into()),
            ("version", version.to_string()),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(
            "Hello Ann,\n\nPlease clear the portal&#x27;s cookies and sign in again.</textarea>"
        ) || html.contains(
            "Hello Ann,\n\nPlease clear the portal&#39;s cookies and sign in again.</textarea>"
        ),
        "{html}"
    );
    assert!(html.contains("Inserted"));
    let r = d.detail(&d.agent, id).await;
    assert_eq!(
        (
            r["status"].as_str(),
            r["messages"].as_array().unwrap().len()
        ),
        (Some("open"), 1)
    );

    // Someone else's own reply is neither inserted nor removed; a shared one may be tidied.
    let res = compose(
        &d,
        &ops,
        id,
        &[("saved", clear.clone()), ("action", "insert".into())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = ops
        .post(&d.env, &format!("/staff/replies/{clear}/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let closing = saved_id(
        &page(&d, &agent, &format!("/requests/{id}")).await,
        "Closing",
    );
    let res = agent
        .post(&d.env, &format!("/staff/replies/{closing}/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!page(&d, &ops, "/staff/replies").await.contains("Closing"));
    // Customers have none.
    let ann = Browser::sign_in(&d.env, "ann@acme.example").await;
    assert_eq!(
        ann.get(&d.env, "/staff/replies").await.status(),
        StatusCode::FORBIDDEN
    );
}
on_both_backends!(saved_replies, agents_insert_saved_replies);

/// Customers choose which request emails they get: the acknowledgement, staff replies, status
/// changes. What they turn off is not sent; the rest still is.
async fn customers_choose_their_emails(t: TestDb) {
    let d = Desk::with(crate::pages::env_without_codes(&t).await).await;
    let bob = Browser::sign_in(&d.env, "bob@acme.example").await;
    let html = page(&d, &bob, "/notifications").await;
    assert_eq!(
        html.matches(" checked>").count(),
        3,
        "all on at first: {html}"
    );
    let subjects = || {
        d.env
            .sink
            .to("bob@acme.example")
            .into_iter()
            .map(|m| m.subject)
            .filter(|s| s.contains("REQ-"))
            .collect::<Vec<_>>()
    };

    // Only replies: no acknowledgement, no status change on its own.
    let res = bob
        .post(&d.env, "/notifications", &[("replies", "1")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Your choices are saved.")
    );
    let id = d.raise(&d.bob, "Pump noise", "Pump 2 is loud.").await;
    let path = format!("/api/v1/requests/{id}/status");
    let set = |status: &'static str| d.put(&path, &d.agent, json!({ "status": status }));
    assert_eq!(set("on-hold").await.0, StatusCode::OK);
    let (s, _) = d
        .env
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&d.agent),
            json!({ "body": "We are ordering a bearing." }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    d.env.sink.wait("bob@acme.example", "New reply", 1).await;
    let got = subjects();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("New reply"));

    // Only status changes: a reply that moves the request tells of the move alone.
    bob.post(&d.env, "/notifications", &[("status", "1")]).await;
    assert_eq!(set("in-progress").await.0, StatusCode::OK);
    d.env
        .sink
        .wait("bob@acme.example", "Status changed to In Progress", 1)
        .await;
    let (s, _) = d
        .env
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&d.agent),
            json!({ "body": "Bearing fitted." }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // Nothing more arrives for it: a sentinel mail sent after shows the queue drained.
    d.raise(&d.ann, "Sentinel", "After the reply.").await;
    d.env.sink.wait("ann@acme.example", "Sentinel", 1).await;
    let got = subjects();
    assert_eq!(got.len(), 2, "{got:?}");
    let html = page(&d, &bob, "/notifications").await;
    assert!(
        html.contains(r#"name="status" value="1" checked>"#),
        "{html}"
    );
    assert!(!html.contains(r#"name="replies" value="1" checked>"#));
}
on_both_backends!(notification_choices, customers_choose_their_emails);

/// Saved queue views: an agent keeps filters by name; the queue lists them with how many
/// requests each holds now, marks the one shown, and only for their owner.
async fn agents_save_queue_views(t: TestDb) {
    let d = Desk::with(crate::pages::env_without_codes(&t).await).await;
    for subject in ["Valve stuck", "Valve leaking", "Badge reader"] {
        d.raise(&d.ann, subject, "Details.").await;
    }
    let agent = Browser::sign_in(&d.env, "agent@vendor.test").await;
    // Ampersands in attributes, however the template escapes them.
    let html = page(&d, &agent, "/requests?status=open&q=valve")
        .await
        .replace("&#38;", "&amp;");
    assert!(
        html.contains(r#"<input type="hidden" name="query" value="status=open&amp;q=valve">"#),
        "{html}"
    );
    for (name, query) in [
        ("Valves", "status=open&q=valve"),
        ("Closed", "status=closed"),
    ] {
        let res = agent
            .post(
                &d.env,
                "/requests/views",
                &[("name", name), ("query", query)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let html = page(&d, &agent, "/requests?status=open&q=valve")
        .await
        .replace("&#38;", "&amp;");
    assert!(
        html.contains(r#"<a href="/requests?status=open&amp;q=valve" aria-current="page">Valves <span class="count">2</span></a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#">Closed <span class="count">0</span></a>"#),
        "{html}"
    );
    let res = agent
        .post(
            &d.env,
            "/requests/views",
            &[("name", " "), ("query", "status=all")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Another agent's queue has none of them, and cannot remove them.
    let ops = Browser::sign_in(&d.env, "ops@vendor.test").await;
    let theirs = page(&d, &ops, "/requests").await;
    assert!(!theirs.contains("Valves"));
    let at = html.find("/delete\"").unwrap();
    let id: String = html[..at].rsplit('/').next().unwrap().to_owned();
    let res = ops
        .post(&d.env, &format!("/requests/views/{id}/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = agent
        .post(&d.env, &format!("/requests/views/{id}/delete"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!page(&d, &agent, "/requests").await.contains(">Valves <"));
}
on_both_backends!(queue_views, agents_save_queue_views);

/// A saved view naming a status the active workflow lacks is counted as "—" and the queue
/// still loads; a hand-made address with a filter value the page does not offer is answered
/// 400 saying which, as the API does, instead of being ignored.
async fn queue_filters_are_checked_and_stale_views_kept(t: TestDb) {
    let d = Desk::with(crate::pages::env_without_codes(&t).await).await;
    let first = d.raise(&d.ann, "Valve stuck", "Details.").await;
    d.raise(&d.ann, "Badge reader", "Details.").await;
    let v = d.detail(&d.agent, first).await["version"].as_i64().unwrap();
    let (s, body) = d
        .put(
            &format!("/api/v1/requests/{first}/assignee"),
            &d.agent,
            json!({ "assignee_id": d.agent_id, "version": v }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let agent = Browser::sign_in(&d.env, "agent@vendor.test").await;
    let res = agent
        .post(
            &d.env,
            "/requests/views",
            &[("name", "Escalated"), ("query", "status=escalated")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = page(&d, &agent, "/requests").await;
    assert!(
        html.contains(r#">Escalated <span class="count">—</span></a>"#),
        "{html}"
    );
    for (query, field) in [
        ("sort=sideways", "sort"),
        ("assignee=someone", "assignee"),
        ("unassigned=maybe", "unassigned"),
        ("unassigned=true&assignee=me", "unassigned"),
    ] {
        let res = agent.get(&d.env, &format!("/requests?{query}")).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{query}");
        let html = res.text().await.unwrap();
        assert!(
            html.contains(&format!("`{field}` is not one this page offers")),
            "{query}: {html}"
        );
    }
    let html = page(&d, &agent, "/requests?unassigned=true").await;
    assert!(
        html.contains("Badge reader") && !html.contains("Valve stuck"),
        "{html}"
    );
}
on_both_backends!(
    queue_filters,
    queue_filters_are_checked_and_stale_views_kept
);

/// Sharing a request with colleagues of its site (CC): they see it, answer it and get its
/// emails as they chose; nobody outside the site can be added; anyone may take themselves off.
async fn customers_share_requests_with_colleagues(t: TestDb) {
    let d = Desk::with(crate::pages::env_without_codes(&t).await).await;
    let id = d.raise(&d.bob, "Printer jams", "Tray 2 jams.").await;
    let site = d.detail(&d.bob, id).await["site_id"].as_i64().unwrap();
    let cat = d
        .env
        .active_customer("cat@acme.example", site, &d.ann)
        .await;
    let other = d.env.add_site("Other Ltd", &["other.example"], &[]).await;
    let zed = d
        .env
        .active_customer("zed@other.example", other, &d.operator)
        .await;
    let bob = Browser::sign_in(&d.env, "bob@acme.example").await;

    // Not shared yet: Cat cannot see it.
    let path = format!("/api/v1/requests/{id}");
    assert_eq!(d.env.get(&path, Some(&cat)).await.0, StatusCode::NOT_FOUND);
    // Only people of the site, and not the requester.
    for (email, code) in [
        ("zed@other.example", "not_a_colleague"),
        ("agent@vendor.test", "not_a_colleague"),
        ("nobody@acme.example", "not_a_colleague"),
        ("bob@acme.example", "already_requester"),
    ] {
        let res = bob
            .post(
                &d.env,
                &format!("/requests/{id}/share"),
                &[("email", email)],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{email} {code}"
        );
    }
    let res = bob
        .post(
            &d.env,
            &format!("/requests/{id}/share"),
            &[("email", " Cat@Acme.example ")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    d.env
        .sink
        .wait("cat@acme.example", "Shared with you", 1)
        .await;
    let html = page(&d, &bob, &format!("/requests/{id}")).await;
    assert!(
        html.contains("Shared with") && html.contains("Casey"),
        "{html}"
    );

    // Cat sees it, in her list too, and answers it; Zed still cannot.
    assert_eq!(d.env.get(&path, Some(&cat)).await.0, StatusCode::OK);
    assert!(d.list(&cat, "").await.iter().any(|r| r["id"] == id));
    assert_eq!(d.env.get(&path, Some(&zed)).await.0, StatusCode::NOT_FOUND);
    let (s, _) = d
        .env
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&cat),
            json!({ "body": "Same on my floor." }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);

    // A staff reply reaches the requester and the colleague.
    let messages = format!("/api/v1/requests/{id}/messages");
    let reply = |body: &'static str| {
        d.env
            .post(&messages, Some(&d.agent), json!({ "body": body }))
    };
    assert_eq!(
        reply("New rollers are on the way.").await.0,
        StatusCode::CREATED
    );
    d.env.sink.wait("bob@acme.example", "New reply", 1).await;
    d.env.sink.wait("cat@acme.example", "New reply", 1).await;

    // Cat takes herself off: the request is gone from her sight.
    let cat_page = Browser::sign_in(&d.env, "cat@acme.example").await;
    let cat_id = d.env.user_id("cat@acme.example").await;
    let res = cat_page
        .post(
            &d.env,
            &format!("/requests/{id}/share/{cat_id}/remove"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(d.env.get(&path, Some(&cat)).await.0, StatusCode::NOT_FOUND);
    assert!(!d.list(&cat, "").await.iter().any(|r| r["id"] == id));
    assert_eq!(reply("Rollers fitted.").await.0, StatusCode::CREATED);
    d.env.sink.wait("bob@acme.example", "New reply", 2).await;
    d.raise(&d.ann, "Sentinel", "After the reply.").await;
    d.env.sink.wait("ann@acme.example", "Sentinel", 1).await;
    assert_eq!(
        d.env
            .sink
            .to("cat@acme.example")
            .iter()
            .filter(|m| m.subject.contains("New reply"))
            .count(),
        1
    );

    // The same through the API: shared, listed in the detail, and taken off again.
    let (s, body) = d
        .env
        .post(
            &format!("/api/v1/requests/{id}/cc"),
            Some(&d.bob),
            json!({ "email": "cat@acme.example" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["shared_with"][0]["email"], "cat@acme.example");
    let (s, body) = d
        .env
        .post(
            &format!("/api/v1/requests/{id}/cc"),
            Some(&d.bob),
            json!({ "email": "zed@other.example" }),
        )
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_a_colleague"))
    );
    let off = format!("/api/v1/requests/{id}/cc/{cat_id}");
    assert_eq!(
        d.env.call("DELETE", &off, Some(&zed), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        d.env.call("DELETE", &off, Some(&d.bob), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(d.detail(&d.bob, id).await["shared_with"], json!([]));
}
on_both_backends!(sharing, customers_share_requests_with_colleagues);
