//! Input at the boundary: every field has a maximum, NUL is refused everywhere, one-line fields
//! refuse control characters, names refuse direction controls, and every error (whichever
//! layer raises it) is the documented JSON body naming the field, or a page.

use crate::pages::{Browser, env_without_codes};
use crate::requests::Desk;
use crate::support::{TestDb, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A 400 naming `field`, in the documented error body.
#[track_caller]
fn refused(status: StatusCode, body: &Value, field: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(field) || body["error"]["details"]["field"] == field,
        "the error names {field}: {body}"
    );
}

async fn stored_text_sizes(d: &Desk) -> (i64, i64) {
    let pool = d.env.server.state.db.pool();
    let audit: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(LENGTH(email) + LENGTH(detail) + LENGTH(actor)), 0) FROM audit_log",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let keys: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(LENGTH(key)), 0) FROM rate_limits")
        .fetch_one(pool)
        .await
        .unwrap();
    (audit, keys)
}

async fn hostile_input_is_refused_at_the_boundary(t: TestDb) {
    let d = Desk::with(env_without_codes(&t).await).await;
    let env = &d.env;

    // A 2 MB login email: refused before it becomes a rate-limit key or an audit row.
    let huge = format!("{}@acme.example", "a".repeat(2_000_000));
    let (s, _) = env
        .post(
            "/api/v1/login",
            None,
            json!({ "email": huge, "password": "x" }),
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let long = format!("{}@acme.example", "a".repeat(300));
    let (s, body) = env
        .post(
            "/api/v1/login",
            None,
            json!({ "email": long, "password": "x" }),
        )
        .await;
    refused(s, &body, "Email address");
    let page = crate::pages::no_redirects()
        .post(env.server.url("/login"))
        .form(&[("email", huge.as_str()), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (audit, keys) = stored_text_sizes(&d).await;
    assert!(
        audit < 1000 && keys < 400,
        "stored {audit} and {keys} bytes"
    );

    // NUL, from a stranger and from a customer: 400 naming the field, never a 500.
    let (s, body) = env
        .post(
            "/api/v1/login",
            None,
            json!({ "email": "ann\u{0}@acme.example", "password": "x" }),
        )
        .await;
    refused(s, &body, "email");
    let (s, body) = env.get("/api/v1/requests?status=%00", Some(&d.ann)).await;
    refused(s, &body, "status");
    let (s, body) = env.get("/api/v1/requests/1%00", Some(&d.ann)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, body) = env
        .post(
            "/api/v1/requests",
            Some(&d.ann),
            json!({ "subject": "Printer", "description": "jam\u{0}med" }),
        )
        .await;
    refused(s, &body, "description");

    // One-line fields refuse line breaks and control characters; names refuse overrides.
    for name in [
        "Acme\u{0}Mining",
        "Acme\r\nMining",
        "Acme\nMining",
        "Acme\u{202e}gniniM",
    ] {
        let (s, body) = env
            .post(
                "/api/v1/sites",
                Some(&d.operator),
                json!({ "name": name, "licences": 1 }),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{name:?}: {body}");
    }
    let (s, body) = env
        .post(
            "/api/v1/requests",
            Some(&d.ann),
            json!({ "subject": "Printer\r\nBcc: x@evil.example", "description": "Jammed." }),
        )
        .await;
    refused(s, &body, "Subject");
    let (s, body) = env
        .post(
            "/api/v1/requests",
            Some(&d.ann),
            json!({ "subject": "x".repeat(201), "description": "Jammed." }),
        )
        .await;
    refused(s, &body, "Subject");
    let (s, body) = env
        .post(
            "/api/v1/invitations",
            Some(&d.ann),
            json!({ "email": "cy@acme.example", "given_name": "Cy\u{202e}", "surname": "Lee" }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let sites: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sites WHERE name <> 'Acme Mining'")
        .fetch_one(env.server.state.db.pool())
        .await
        .unwrap();
    assert_eq!(sites, 0, "nothing refused was stored");

    // A file's direction controls are removed: `invoice\u{202e}txt.exe` is not `invoiceexe.txt`.
    let (s, body) = d
        .multipart(
            "/api/v1/requests",
            &d.ann,
            &[("subject", "Invoice"), ("description", "Attached.")],
            &[("invoice\u{202e}txt.exe", b"MZ")],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let detail = d.detail(&d.ann, body["id"].as_i64().unwrap()).await;
    assert_eq!(detail["attachments"][0]["file_name"], "invoicetxt.exe");

    // A page form with a NUL gets a page naming the field.
    let ann = Browser::sign_in(env, "ann@acme.example").await;
    let res = ann
        .post(env, "/sessions/end-all", &[("note", "a\u{0}b")])
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(
        html.starts_with("<!doctype html>") && html.contains("`note`"),
        "{html}"
    );
}
on_both_backends!(hostile_input, hostile_input_is_refused_at_the_boundary);

/// The API's contract holds for every rejection: unknown or missing fields are errors, an
/// unknown status filter is an error, and path, query, route and method rejections all answer
/// the documented JSON body.
async fn every_error_is_the_documented_body(t: TestDb) {
    let d = Desk::new(&t).await;
    let env = &d.env;
    let id = d.raise(&d.ann, "Printer", "Jammed.").await;
    let path = format!("/api/v1/requests/{id}/assignee");
    let version = d.detail(&d.agent, id).await["version"].as_i64().unwrap();
    let (s, _) = d
        .put(
            &path,
            &d.agent,
            json!({ "assignee_id": d.agent_id, "version": version }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    for body in [
        json!({}),
        json!({ "asignee_id": null }),
        json!({ "assignee_id": null, "x": 1 }),
    ] {
        let (s, err) = d.put(&path, &d.agent, body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert_eq!(err["error"]["code"], "invalid_json", "{err}");
    }
    assert_eq!(
        d.detail(&d.agent, id).await["assignee_id"],
        d.agent_id,
        "a refused body unassigns nothing"
    );
    let (s, _) = d.put(&path, &d.agent, json!({ "assignee_id": null })).await;
    assert_eq!(s, StatusCode::OK, "an explicit null unassigns");

    let (s, err) = env
        .get("/api/v1/requests?status=nonsense", Some(&d.ann))
        .await;
    assert_eq!(
        (s, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_status"))
    );
    let (s, err) = env.get("/api/v1/requests?limit=ten", Some(&d.ann)).await;
    assert_eq!(
        (s, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );
    let (s, err) = env.get("/api/v1/requests?stauts=open", Some(&d.ann)).await;
    assert_eq!(
        (s, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );
    let (s, err) = env.get("/api/v1/requests/abc", Some(&d.ann)).await;
    assert_eq!(
        (s, err["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_path"))
    );
    let (s, err) = env.get("/api/v1/no-such-thing", Some(&d.ann)).await;
    assert_eq!(
        (s, err["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_route"))
    );
    let (s, err) = env
        .call("DELETE", "/api/v1/requests", Some(&d.ann), None)
        .await;
    assert_eq!(
        (s, err["error"]["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
    let res = env
        .http
        .post(env.server.url("/api/v1/login"))
        .body("email=a")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "unsupported_media_type");

    // Pages: an unknown address is a page, and so is an unknown status filter's message.
    let res = env
        .http
        .get(env.server.url("/no-such-page"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("Page not found"));
}
on_both_backends!(api_errors, every_error_is_the_documented_body);

async fn an_unknown_status_filter_is_explained_on_the_page(t: TestDb) {
    let d = Desk::with(env_without_codes(&t).await).await;
    let ann = Browser::sign_in(&d.env, "ann@acme.example").await;
    let res = ann.get(&d.env, "/requests?status=nonsense").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("There is no status") && html.contains("nonsense"),
        "{html}"
    );
}
on_both_backends!(
    status_filter_page,
    an_unknown_status_filter_is_explained_on_the_page
);
