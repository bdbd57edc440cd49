//! The whole conversation of a request, and concurrent changes to it.

use super::*;

async fn conversation_and_workflow(t: TestDb) {
    let d = Desk::new(&t).await;
    let env = &d.env;

    // Ann raises a request with a file; she is sent an acknowledgement.
    let (s, body) = d
        .multipart(
            "/api/v1/requests",
            &d.ann,
            &[
                ("subject", "Conveyor telemetry missing"),
                (
                    "description",
                    "Since 3 May the dashboard shows no conveyor data.",
                ),
            ],
            &[("../../screenshot.txt", b"pixels")],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    let number = body["number"].as_str().unwrap().to_owned();
    assert_eq!(number, format!("REQ-{id}"));
    assert!(id > 1000, "request numbers start above 1000");
    let ack = env
        .sink
        .wait(
            "ann@acme.example",
            &format!("[{number}] We received your request"),
            1,
        )
        .await;
    assert!(ack.text.contains(&format!("/requests/{id}")));

    let r = d.detail(&d.ann, id).await;
    assert_eq!(r["status"], "open");
    assert_eq!(r["status_label"], "Open");
    assert_eq!(r["assignee_id"], Value::Null);
    assert_eq!(r["attachments"][0]["file_name"], "screenshot.txt");
    assert_eq!(r["timeline"][0]["to_status"], "open");
    assert_eq!(r["timeline"][0]["plugin_name"], "workflow-default");
    assert_eq!(
        r["timeline"][0]["plugin_sha256"].as_str().unwrap().len(),
        64
    );
    // A customer may only close an open request.
    let moves: Vec<&str> = r["moves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    assert_eq!(moves, ["closed"]);

    // Bob, a customer of the same site, does not see Ann's request; the queue does.
    let (s, _) = env
        .get(&format!("/api/v1/requests/{id}"), Some(&d.bob))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(d.list(&d.bob, "").await.is_empty());
    assert_eq!(numbers(&d.list(&d.agent, "").await), [number.as_str()]);

    // The attachment downloads, as an attachment, to those who may see it.
    let file_id = r["attachments"][0]["id"].as_i64().unwrap();
    let res = env
        .http
        .get(
            env.server
                .url(&format!("/api/v1/requests/{id}/attachments/{file_id}")),
        )
        .bearer_auth(&d.agent)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"screenshot.txt\"; filename*=UTF-8''screenshot.txt"
    );
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"pixels");
    let res = env
        .http
        .get(
            env.server
                .url(&format!("/api/v1/requests/{id}/attachments/{file_id}")),
        )
        .bearer_auth(&d.bob)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Assigning moves it to In Progress, as the workflow says, recorded with the plugin.
    let v = d.detail(&d.agent, id).await["version"].as_i64().unwrap();
    let (s, body) = d
        .put(
            &format!("/api/v1/requests/{id}/assignee"),
            &d.agent,
            json!({ "assignee_id": d.agent_id, "version": v }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "in-progress");
    assert_eq!(body["assignee_name"], "Sam Staff");
    let last = body["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["cause"], "event:assigned");
    assert_eq!(last["actor_role"], "system");

    // A public reply reaches Ann by email; an internal note reaches nobody outside staff.
    let (s, _) = env
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&d.agent),
            json!({ "body": "We are restarting the gateway now." }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let reply = env
        .sink
        .wait("ann@acme.example", &format!("[{number}] New reply"), 1)
        .await;
    assert!(reply.text.contains("We are restarting the gateway now."));
    let (s, _) = d
        .multipart(
            &format!("/api/v1/requests/{id}/messages"),
            &d.agent,
            &[
                ("body", "Secret: gateway password is zebrafish"),
                ("internal", "true"),
            ],
            &[("notes.txt", b"internal file")],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // A customer cannot write an internal note.
    let (s, _) = env
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&d.ann),
            json!({ "body": "x", "internal": true }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let staff_view = d.detail(&d.agent, id).await;
    assert_eq!(staff_view["messages"].as_array().unwrap().len(), 3);
    let ann_view = d.detail(&d.ann, id).await;
    let text = ann_view.to_string();
    assert!(
        !text.contains("zebrafish"),
        "an internal note leaked: {text}"
    );
    assert!(!text.contains("notes.txt"), "an internal file leaked");
    assert_eq!(ann_view["messages"].as_array().unwrap().len(), 2);
    let note_file = staff_view["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["file_name"] == "notes.txt")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (s, _) = env
        .get(
            &format!("/api/v1/requests/{id}/attachments/{note_file}"),
            Some(&d.ann),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(d.list(&d.ann, "q=zebrafish").await.is_empty());
    assert!(
        d.list(&d.agent, "q=zebrafish").await.is_empty(),
        "notes are not indexed"
    );
    assert_eq!(d.list(&d.ann, "q=gateway+restarting").await.len(), 1);

    // Ann's reply goes to the assignee; a customer may not put the request on hold.
    let (s, _) = d
        .multipart(
            &format!("/api/v1/requests/{id}/messages"),
            &d.ann,
            &[("body", "Thanks, data is back.")],
            &[("log.txt", b"ok")],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let to_agent = env
        .sink
        .wait(
            "agent@vendor.test",
            &format!("[{number}] Customer replied"),
            1,
        )
        .await;
    assert!(to_agent.text.contains("Thanks, data is back."));
    let (s, body) = d
        .put(
            &format!("/api/v1/requests/{id}/status"),
            &d.ann,
            json!({ "status": "on-hold" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "transition_refused");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Only support staff")
    );
    assert_eq!(
        body["error"]["details"]["plugin"]["name"],
        "workflow-default"
    );

    // Staff put it on hold: Ann is told by email. She closes it herself: no email to her.
    let (s, body) = d
        .put(
            &format!("/api/v1/requests/{id}/status"),
            &d.agent,
            json!({ "status": "on-hold" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    env.sink
        .wait("ann@acme.example", "Status changed to On Hold", 1)
        .await;
    let (s, body) = d
        .put(
            &format!("/api/v1/requests/{id}/status"),
            &d.ann,
            json!({ "status": "closed" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let timeline: Vec<(String, String)> = body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["to_status"].as_str().unwrap().to_owned(),
                c["actor_role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        timeline,
        [
            ("open".into(), "site_admin".into()),
            ("in-progress".into(), "system".into()),
            ("on-hold".into(), "agent".into()),
            ("closed".into(), "site_admin".into()),
        ]
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        env.sink
            .to("ann@acme.example")
            .iter()
            .all(|m| !m.subject.contains("Closed") && !m.text.contains("zebrafish")),
        "no mail about her own change, and never the note"
    );
    // Closed requests leave the open list; the dashboard agrees.
    assert!(d.list(&d.ann, "status=open").await.is_empty());
    assert_eq!(d.list(&d.ann, "status=closed").await.len(), 1);
    let (_, dash) = env.get("/api/v1/dashboard", Some(&d.ann)).await;
    assert_eq!(dash["open_requests"], json!([]));
}
on_both_backends!(conversation, conversation_and_workflow);

async fn concurrent_changes(t: TestDb) {
    let d = Desk::new(&t).await;
    let id = d
        .raise(&d.ann, "Pump alarm", "The pump alarm rings every hour.")
        .await;
    let v = d.detail(&d.agent, id).await["version"].as_i64().unwrap();
    let path = format!("/api/v1/requests/{id}/status");
    // Two staff change the same version at once: exactly one wins, the other is told.
    let (a, b) = tokio::join!(
        d.put(
            &path,
            &d.agent,
            json!({ "status": "on-hold", "version": v })
        ),
        d.put(
            &path,
            &d.operator,
            json!({ "status": "closed", "version": v })
        ),
    );
    let mut codes = [a.0, b.0];
    codes.sort();
    assert_eq!(codes, [StatusCode::OK, StatusCode::CONFLICT], "{a:?} {b:?}");
    let loser = if a.0 == StatusCode::CONFLICT {
        &a.1
    } else {
        &b.1
    };
    assert_eq!(loser["error"]["code"], "conflict");
    assert!(
        loser["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("REQ-{id}"))
    );
    // A stale version is refused even later, and nothing changes.
    let before = d.detail(&d.agent, id).await;
    let (s, _) = d
        .put(&path, &d.agent, json!({ "status": "open", "version": v }))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(d.detail(&d.agent, id).await["status"], before["status"]);

    // Replies racing each other are all kept.
    let messages = format!("/api/v1/requests/{id}/messages");
    let replies = (0..8).map(|i| {
        let token = if i % 2 == 0 { &d.agent } else { &d.ann };
        d.env.post(
            &messages,
            Some(token),
            json!({ "body": format!("reply {i}") }),
        )
    });
    let results = futures_util::future::join_all(replies).await;
    assert!(
        results.iter().all(|(s, _)| *s == StatusCode::CREATED),
        "{results:?}"
    );
    let after = d.detail(&d.agent, id).await;
    assert_eq!(after["messages"].as_array().unwrap().len(), 9);
}
on_both_backends!(concurrency, concurrent_changes);
