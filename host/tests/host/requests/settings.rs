//! Quick links, queue watchers, and swapping the workflow plugin while the server runs.

use super::*;

async fn quick_links_and_watchers(t: TestDb) {
    let d = Desk::new(&t).await;
    let (s, body) = d
        .env
        .post(
            "/api/v1/quick-links",
            Some(&d.operator),
            json!({ "title": "Documentation", "url": "https://docs.example.com", "roles": ["customer", "site_admin"] }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (s, body) = d
        .env
        .post(
            "/api/v1/quick-links",
            Some(&d.operator),
            json!({ "title": "Bad", "url": "javascript:alert(1)", "roles": ["customer"] }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, _) = d
        .env
        .post(
            "/api/v1/quick-links",
            Some(&d.agent),
            json!({ "title": "Mine", "url": "/x", "roles": ["agent"] }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, dash) = d.env.get("/api/v1/dashboard", Some(&d.bob)).await;
    assert_eq!(dash["quick_links"][0]["title"], "Documentation");
    let (_, dash) = d.env.get("/api/v1/dashboard", Some(&d.agent)).await;
    assert_eq!(dash["quick_links"], json!([]));

    // An unassigned request's customer reply goes to the staff watching the queue.
    let (s, _) = d
        .put(
            "/api/v1/me/watching",
            &d.operator,
            json!({ "watching": true }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let id = d.raise(&d.bob, "Hoist", "The hoist stops.").await;
    d.env
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&d.bob),
            json!({ "body": "It stopped again at noon." }),
        )
        .await;
    let m = d
        .env
        .sink
        .wait("ops@vendor.test", "Customer replied", 1)
        .await;
    assert!(m.text.contains("It stopped again at noon."));
}
on_both_backends!(links, quick_links_and_watchers);

/// An operator installs a workflow with other statuses while the server runs: lists, filters
/// and transitions follow it, and requests in statuses it does not know are reported, still
/// listed as open, and mapped by the operator, never lost.
async fn workflow_swap(t: TestDb) {
    let d = Desk::new(&t).await;
    let old = d
        .raise(
            &d.ann,
            "Before the swap",
            "Raised under the default workflow.",
        )
        .await;

    // Installed through another process's view of the database, as the CLI does.
    let other = crate::support::plugins();
    let installed = other
        .install(
            &t.db,
            Slot::TicketWorkflow,
            helpdesk_bundled_plugins::fixtures::WORKFLOW_TRIAGE,
            "",
            "ops@vendor.test",
            true,
        )
        .await
        .unwrap();
    // The server follows within its poll interval.
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = d.env.get("/api/v1/statuses", Some(&d.agent)).await;
        if body["by"]["id"] == installed {
            let keys: Vec<&str> = body["statuses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["key"].as_str().unwrap())
                .collect();
            assert_eq!(keys, ["new", "triaged", "waiting-on-customer", "resolved"]);
            break;
        }
        assert!(
            std::time::Instant::now() < give_up,
            "the server never switched"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The old request keeps its status, reported and shown as open.
    let (s, body) = d
        .env
        .get("/api/v1/statuses/unknown", Some(&d.operator))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        body["unknown"],
        json!([{ "status": "open", "requests": 1 }])
    );
    let open = d.list(&d.agent, "status=open").await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["status_label"], "open (unknown status)");

    // New requests start in the new workflow and move by its rules.
    let new = d
        .raise(&d.ann, "After the swap", "Raised under triage.")
        .await;
    let r = d.detail(&d.ann, new).await;
    assert_eq!(r["status"], "new");
    assert_eq!(r["timeline"][0]["plugin_name"], "workflow-triage");
    let (s, body) = d
        .put(
            &format!("/api/v1/requests/{new}/status"),
            &d.ann,
            json!({ "status": "triaged" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"]["message"],
        "Customers can only resolve a request."
    );
    d.env
        .post(
            &format!("/api/v1/requests/{new}/messages"),
            Some(&d.agent),
            json!({ "body": "Could you send the logs?" }),
        )
        .await;
    assert_eq!(d.detail(&d.ann, new).await["status"], "waiting-on-customer");
    assert_eq!(
        d.list(&d.agent, "status=waiting-on-customer").await.len(),
        1
    );

    // The operator maps the stranded status; the move is in the request's timeline.
    let (s, body) = d
        .env
        .post(
            "/api/v1/statuses/map",
            Some(&d.operator),
            json!({ "from": "open", "to": "triaged" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["moved"], 1);
    let r = d.detail(&d.agent, old).await;
    assert_eq!(r["status"], "triaged");
    assert_eq!(
        r["timeline"].as_array().unwrap().last().unwrap()["cause"],
        "mapped"
    );
    let (_, body) = d
        .env
        .get("/api/v1/statuses/unknown", Some(&d.operator))
        .await;
    assert_eq!(body["unknown"], json!([]));
    let (s, _) = d
        .env
        .post(
            "/api/v1/statuses/map",
            Some(&d.agent),
            json!({ "from": "x", "to": "new" }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Rolling back brings the default statuses back everywhere.
    other
        .rollback(&t.db, Slot::TicketWorkflow, "ops@vendor.test")
        .await
        .unwrap();
    let give_up = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = d.env.get("/api/v1/statuses", Some(&d.agent)).await;
        if body["by"]["name"] == "workflow-default" {
            break;
        }
        assert!(
            std::time::Instant::now() < give_up,
            "rollback never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
on_both_backends!(swap_workflow, workflow_swap);

/// Saved replies and queue views through the API, as the pages keep them: staff only, one's
/// own or shared replies, one's own views; bad input and other people's items change nothing.
async fn saved_replies_and_views_by_api(t: TestDb) {
    let d = Desk::new(&t).await;
    let env = &d.env;
    let list = |token: &str, path: &str| {
        let (env, token, path) = (env, token.to_owned(), path.to_owned());
        async move {
            let (s, body) = env.get(&path, Some(&token)).await;
            assert_eq!(s, StatusCode::OK, "{body}");
            body.as_array().unwrap().clone()
        }
    };

    let delete = |path: &str, token: &str| {
        let (env, path, token) = (env, path.to_owned(), token.to_owned());
        async move { env.call("DELETE", &path, Some(&token), None).await.0 }
    };

    // Replies: the agent's own, and one shared with all staff.
    let (s, own) = env
        .post(
            "/api/v1/saved-replies",
            Some(&d.agent),
            json!({ "title": "Restart", "body": "Please **restart** the pump." }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{own}");
    let (s, shared) = env
        .post(
            "/api/v1/saved-replies",
            Some(&d.agent),
            json!({ "title": "Thanks", "body": "Thank you.", "shared": true }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{shared}");
    let mine = list(&d.agent, "/api/v1/saved-replies").await;
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0]["title"], "Restart");
    assert_eq!(mine[0]["body"], "Please **restart** the pump.");
    assert!(mine[1]["owner_id"].is_null(), "shared");
    let theirs = list(&d.operator, "/api/v1/saved-replies").await;
    assert_eq!(
        theirs.len(),
        1,
        "another agent sees the shared one only: {theirs:?}"
    );
    // Customers have none; bad input is refused; another's own reply cannot be removed.
    let (s, _) = env.get("/api/v1/saved-replies", Some(&d.ann)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = env
        .post(
            "/api/v1/saved-replies",
            Some(&d.agent),
            json!({ "title": "", "body": "x" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let own_id = own["id"].as_i64().unwrap();
    assert_eq!(
        delete(&format!("/api/v1/saved-replies/{own_id}"), &d.operator).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        delete(&format!("/api/v1/saved-replies/{own_id}"), &d.agent).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(list(&d.agent, "/api/v1/saved-replies").await.len(), 1);

    // Views: the queue's query string under a name; the page lists the same.
    let (s, view) = env
        .post(
            "/api/v1/queue-views",
            Some(&d.agent),
            json!({ "name": "My open", "query": "status=open&assignee=me" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{view}");
    let views = list(&d.agent, "/api/v1/queue-views").await;
    assert_eq!(
        views,
        vec![json!({ "id": view["id"], "name": "My open", "query": "status=open&assignee=me" })]
    );
    assert!(
        list(&d.operator, "/api/v1/queue-views").await.is_empty(),
        "views are one's own"
    );
    let (s, _) = env
        .post(
            "/api/v1/queue-views",
            Some(&d.agent),
            json!({ "name": "Bad", "query": "a\nb" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let view_id = view["id"].as_i64().unwrap();
    assert_eq!(
        delete(&format!("/api/v1/queue-views/{view_id}"), &d.operator).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        delete(&format!("/api/v1/queue-views/{view_id}"), &d.agent).await,
        StatusCode::NO_CONTENT
    );
    assert!(list(&d.agent, "/api/v1/queue-views").await.is_empty());
}

on_both_backends!(saved_by_api, saved_replies_and_views_by_api);
