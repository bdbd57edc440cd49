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
