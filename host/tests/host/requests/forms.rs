//! Attachment limits, and the CSRF token of the multipart request forms.

use super::*;

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

/// The request forms are multipart: a post without a session is sent to the login page and a
/// post without the CSRF token in its address is refused, both before the body is read, and a
/// refused post changes nothing.
async fn forms_need_a_session_and_the_csrf_token(t: TestDb) {
    let d = Desk::with(crate::pages::env_without_codes(&t).await).await;
    let count = || async { d.list(&d.ann, "").await.len() };
    let form = || {
        Form::new()
            .text("subject", "Forged")
            .text("description", "From another site.")
    };
    let plain = crate::pages::no_redirects();
    let res = plain
        .post(d.env.server.url("/requests?csrf=whatever"))
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    let ann = crate::pages::Browser::sign_in(&d.env, "ann@acme.example").await;
    for action in [
        "/requests",
        "/requests?csrf=",
        &format!("/requests?csrf={}", "0".repeat(64)),
    ] {
        let res = ann.post_multipart(&d.env, action, form()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{action}");
    }
    assert_eq!(count().await, 0);
    let id = d.raise(&d.ann, "Real", "A real request.").await;
    let res = ann
        .post_multipart(
            &d.env,
            &format!("/requests/{id}/reply"),
            Form::new()
                .text("csrf", ann.csrf.clone())
                .text("body", "Token in the body"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        d.detail(&d.ann, id).await["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The token in the address, as the page's form sends it.
    let res = ann
        .post_multipart(
            &d.env,
            &format!("/requests/{id}/reply?csrf={}", ann.csrf),
            Form::new().text("body", "From the page"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        d.detail(&d.ann, id).await["messages"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Pages of a request are for signed-in people only.
    let res = plain
        .get(d.env.server.url(&format!("/requests/{id}")))
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login"),
        "{:?}",
        res.headers()
    );
}
on_both_backends!(request_forms, forms_need_a_session_and_the_csrf_token);
