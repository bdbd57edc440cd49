//! Requests over the JSON API, on both backends: raising, replying, internal notes, assignment,
//! status changes through the workflow plugin, email, attachments, concurrency, lists and
//! search, quick links, and swapping the workflow plugin while the server runs.

use crate::accounts::Env;
use crate::support::{Options, SmtpSink, TestDb, TestServer, on_both_backends};
use helpdesk::auth::Role;
use helpdesk::domain::rules::Slot;
use helpdesk::requests::files::AttachmentLimits;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::time::Duration;

/// A site with Ann (its Site Administrator) and Bob (a customer), an operator and an agent.
struct Desk {
    env: Env,
    operator: String,
    agent: String,
    agent_id: i64,
    ann: String,
    bob: String,
}

impl Desk {
    async fn new(t: &TestDb) -> Desk {
        Desk::with(Env::new(t).await).await
    }

    async fn with(env: Env) -> Desk {
        let site = env.add_site("Acme Mining", &["acme.example"], &[]).await;
        let operator = env.staff("ops@vendor.test", Role::Operator).await;
        let agent = env.staff("agent@vendor.test", Role::Agent).await;
        let agent_id = env.user_id("agent@vendor.test").await;
        let ann = env
            .active_customer("ann@acme.example", site, &operator)
            .await;
        let bob = env.active_customer("bob@acme.example", site, &ann).await;
        Desk {
            env,
            operator,
            agent,
            agent_id,
            ann,
            bob,
        }
    }

    async fn multipart(
        &self,
        path: &str,
        token: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &[u8])],
    ) -> (StatusCode, Value) {
        let mut form = Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        for (name, bytes) in files {
            form = form.part(
                "files",
                Part::bytes(bytes.to_vec())
                    .file_name(name.to_string())
                    .mime_str("text/plain")
                    .unwrap(),
            );
        }
        let res = self
            .env
            .http
            .post(self.env.server.url(path))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn raise(&self, token: &str, subject: &str, description: &str) -> i64 {
        let (s, body) = self
            .env
            .post(
                "/api/v1/requests",
                Some(token),
                json!({ "subject": subject, "description": description }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        body["id"].as_i64().unwrap()
    }

    async fn detail(&self, token: &str, id: i64) -> Value {
        let (s, body) = self
            .env
            .get(&format!("/api/v1/requests/{id}"), Some(token))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body
    }

    async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.env.call("PUT", path, Some(token), Some(body)).await
    }

    async fn list(&self, token: &str, query: &str) -> Vec<Value> {
        let (s, body) = self
            .env
            .get(&format!("/api/v1/requests?{query}"), Some(token))
            .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body["requests"].as_array().unwrap().clone()
    }
}

impl Desk {
    /// The ids of every page of `query`, following each page's `next` cursor.
    async fn all_pages(&self, token: &str, query: &str) -> Vec<i64> {
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let (s, body) = self
                .env
                .get(&format!("/api/v1/requests?{query}{after}"), Some(token))
                .await;
            assert_eq!(s, StatusCode::OK, "{body}");
            seen.extend(
                body["requests"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["id"].as_i64().unwrap()),
            );
            match body["next"].as_str() {
                Some(next) => after = format!("&after={next}"),
                None => return seen,
            }
        }
    }
}

fn numbers(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|r| r["number"].as_str().unwrap().to_owned())
        .collect()
}

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

async fn lists_filters_search_and_pages(t: TestDb) {
    let d = Desk::new(&t).await;
    let mut ids = Vec::new();
    for i in 0..23 {
        let who = if i % 3 == 0 { &d.bob } else { &d.ann };
        let words = if i == 7 {
            "printer jams on tray two"
        } else {
            "screen flickers"
        };
        ids.push(d.raise(who, &format!("Issue {i}"), words).await);
        d.env.server.clock.advance(Duration::from_secs(1));
    }
    // Keyset pages of 10 walk every request once, newest first.
    let seen = d.all_pages(&d.agent, "limit=10").await;
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);
    let oldest = d.list(&d.agent, "sort=oldest&limit=3").await;
    assert_eq!(oldest[0]["id"].as_i64().unwrap(), ids[0]);

    // Customers see their own; the Site Administrator sees the site's.
    assert_eq!(d.list(&d.bob, "limit=100").await.len(), 8);
    assert_eq!(d.list(&d.ann, "limit=100").await.len(), 23);

    // Search by words (stemmed) and by request number.
    let hit = d.list(&d.agent, "q=printers+jam").await;
    assert_eq!(numbers(&hit), [format!("REQ-{}", ids[7])]);
    let hit = d.list(&d.bob, &format!("q=REQ-{}", ids[3])).await;
    assert_eq!(hit.len(), 1);
    assert!(
        d.list(&d.bob, &format!("q=REQ-{}", ids[1]))
            .await
            .is_empty(),
        "not Bob's"
    );

    // Filters: status, assignee, unassigned, site.
    let (_, body) = d
        .put(
            &format!("/api/v1/requests/{}/assignee", ids[5]),
            &d.agent,
            json!({ "assignee_id": d.agent_id }),
        )
        .await;
    assert_eq!(body["status"], "in-progress");
    assert_eq!(d.list(&d.agent, "status=in-progress").await.len(), 1);
    assert_eq!(
        d.list(&d.agent, &format!("assignee={}", d.agent_id))
            .await
            .len(),
        1
    );
    assert_eq!(
        d.list(&d.agent, "unassigned=true&limit=100").await.len(),
        22
    );
    assert_eq!(d.list(&d.agent, "status=closed").await.len(), 0);
    let site = d.list(&d.agent, "limit=1").await[0]["site_id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        d.list(&d.agent, &format!("site={site}&limit=100"))
            .await
            .len(),
        23
    );
    assert!(d.list(&d.agent, "site=999999").await.is_empty());

    // Bad input is a clear error.
    let (s, body) = d
        .env
        .get("/api/v1/requests?after=garbage", Some(&d.agent))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, body) = d
        .env
        .post(
            "/api/v1/requests",
            Some(&d.ann),
            json!({ "subject": "  ", "description": "x" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "subject");
    let (s, _) = d
        .env
        .post(
            "/api/v1/requests",
            Some(&d.agent),
            json!({ "subject": "x", "description": "x" }),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "staff have no site to raise for"
    );
}
on_both_backends!(lists, lists_filters_search_and_pages);

async fn attachment_limits(t: TestDb) {
    let sink = SmtpSink::start();
    let server = TestServer::with(
        &t.db,
        Options {
            smtp: Some(sink.url()),
            attachments: AttachmentLimits {
                max_file_bytes: 1024,
                max_files: 2,
            },
            ..Options::default()
        },
    )
    .await;
    let d = Desk::with(Env::from_parts(server, sink)).await;
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM requests")
            .fetch_one(d.env.server.state.db.pool())
            .await
            .unwrap()
    };
    let fields = [("subject", "Logs"), ("description", "See attached.")];
    let (s, body) = d
        .multipart(
            "/api/v1/requests",
            &d.ann,
            &fields,
            &[("a.txt", b"1"), ("b.txt", b"2"), ("c.txt", b"3")],
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(
        body["error"]["message"],
        "Attach at most 2 files to one message."
    );
    let big = vec![b'x'; 1025];
    let (s, body) = d
        .multipart("/api/v1/requests", &d.ann, &fields, &[("big.log", &big)])
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        body["error"]["message"],
        "big.log is larger than the 1 KiB limit for one file."
    );
    assert_eq!(count().await, 0, "a refused upload changes nothing");
    let (s, _) = d
        .multipart(
            "/api/v1/requests",
            &d.ann,
            &fields,
            &[
                ("a.txt", &big[..1024]),
                ("a.txt", b"same name, other bytes"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(count().await, 1);
}
on_both_backends!(attachments, attachment_limits);

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

/// The request forms are multipart; they still need the CSRF token, and a refused post changes
/// nothing.
async fn forms_need_the_csrf_token(t: TestDb) {
    let d = Desk::new(&t).await;
    let form = Form::new()
        .text("subject", "Forged")
        .text("description", "From another site.");
    let res = d
        .env
        .http
        .post(d.env.server.url("/requests"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let id = d.raise(&d.ann, "Real", "A real request.").await;
    let form = Form::new()
        .text("csrf", "0".repeat(64))
        .text("body", "Forged reply");
    let res = d
        .env
        .http
        .post(d.env.server.url(&format!("/requests/{id}/reply")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        d.detail(&d.ann, id).await["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Pages of a request are for signed-in people only.
    let res = d
        .env
        .http
        .get(d.env.server.url(&format!("/requests/{id}")))
        .send()
        .await
        .unwrap();
    assert!(res.url().path().starts_with("/login"), "{}", res.url());
}
on_both_backends!(request_forms, forms_need_the_csrf_token);

/// Generated data at a small scale: exact counts, and a search for a common word pages through
/// exactly the requests whose subject or public messages hold it.
async fn generated_data_and_common_words(t: TestDb) {
    use helpdesk::requests::generate::{Scale, generate};
    let d = Desk::new(&t).await;
    let db = &d.env.server.state.db;
    let scale = Scale {
        sites: 5,
        customers_per_site: 2,
        agents: 2,
        requests: 2500,
        messages: 6000,
        seed: 3,
    };
    let hash = crate::support::hasher().hash("Sunny-Day42");
    let g = generate(db, scale, &hash, helpdesk::db::now_ms())
        .await
        .unwrap();
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(db.pool())
            .await
            .unwrap()
    };
    assert_eq!(count("SELECT COUNT(*) FROM requests").await, 2500);
    assert_eq!(count("SELECT COUNT(*) FROM messages").await, 6000);
    assert_eq!(g.last_request - g.first_request + 1, 2500);

    let expected_sql = match db.backend() {
        helpdesk::db::Backend::Sqlite => {
            "SELECT rowid FROM request_search WHERE request_search MATCH '\"the\"' AND rowid IN (SELECT id FROM requests WHERE status <> 'closed') ORDER BY 1"
        }
        helpdesk::db::Backend::Postgres => {
            "SELECT request_id FROM request_search WHERE doc @@ plainto_tsquery('english', 'the fleet') AND request_id IN (SELECT id FROM requests WHERE status <> 'closed') ORDER BY 1"
        }
    };
    let word = match db.backend() {
        helpdesk::db::Backend::Sqlite => "the",
        // "the" is a stop word in PostgreSQL's English configuration.
        helpdesk::db::Backend::Postgres => "fleet",
    };
    let expected_sql = expected_sql.replace("the fleet", word);
    let mut expected: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(expected_sql))
        .fetch_all(db.pool())
        .await
        .unwrap();
    // On SQLite, more matches than a search reads by id: the pages are cut by walking the list.
    let many = if db.backend() == helpdesk::db::Backend::Sqlite {
        1000
    } else {
        50
    };
    assert!(expected.len() > many, "a common word: {}", expected.len());
    let mut seen = d
        .all_pages(&d.agent, &format!("q={word}&limit=100&status=open"))
        .await;
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected);
}
on_both_backends!(generated, generated_data_and_common_words);
