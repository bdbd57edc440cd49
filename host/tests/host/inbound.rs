//! Email in both directions, with a real IMAP server (Dovecot) and a real SMTP server: replies
//! to notifications land in their request, mail from customers opens requests, and auto-replies,
//! bounces, strangers and bad mail each get their documented outcome, once.

mod forged;
mod poison;
mod replicas;

use crate::accounts::Env;
use crate::requests::Desk;
use crate::support::dovecot::Dovecot;
use crate::support::{
    Options, Received, SmtpSink, TestDb, TestServer, authenticated, on_both_backends,
};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};

async fn desk_reading(t: &TestDb, imap: &Dovecot) -> Desk {
    desk_reading_with(t, imap, Options::default()).await
}

/// A desk reading `imap` that takes up to `per_hour` messages an hour from one address.
async fn desk_reading_up_to(t: &TestDb, imap: &Dovecot, per_hour: i64) -> Desk {
    let o = Options {
        mail_per_hour: per_hour,
        ..Options::default()
    };
    desk_reading_with(t, imap, o).await
}

async fn desk_reading_with(t: &TestDb, imap: &Dovecot, o: Options) -> Desk {
    let sink = SmtpSink::start();
    let server = TestServer::with(
        &t.db,
        Options {
            smtp: Some(sink.url()),
            imap: Some(imap.url()),
            ..o
        },
    )
    .await;
    Desk::with(Env::from_parts(server, sink)).await
}

/// The reply token of a notification: its Reply-To is `support+<token>@example.test`.
pub fn token_of(m: &Received) -> String {
    let parsed = mail_parser::MessageParser::default()
        .parse(m.raw.as_bytes())
        .unwrap();
    let reply_to = parsed
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_else(|| panic!("no Reply-To in\n{}", m.raw))
        .to_owned();
    let token = reply_to
        .strip_prefix("support+")
        .and_then(|r| r.strip_suffix("@example.test"))
        .unwrap_or_else(|| panic!("reply address {reply_to}"))
        .to_owned();
    assert_eq!(token.len(), 32, "{reply_to}");
    assert_eq!(
        parsed.message_id(),
        Some(format!("{token}@example.test").as_str())
    );
    token
}

/// Waits until request `id` holds `n` messages as `token` sees it.
async fn wait_messages(desk: &Desk, token: &str, id: i64, n: usize) -> Value {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let d = desk.detail(token, id).await;
        if d["messages"].as_array().unwrap().len() >= n {
            return d;
        }
        assert!(Instant::now() < until, "request {id} has {d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn download(desk: &Desk, path: &str, token: Option<&str>) -> (StatusCode, Vec<u8>) {
    let mut req = desk.env.http.get(desk.env.server.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.bytes().await.unwrap().to_vec())
}

async fn outcomes(t: &TestDb) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT from_addr, outcome, reason FROM inbound_mail ORDER BY id")
        .fetch_all(t.db.pool())
        .await
        .unwrap()
}

/// A Gmail-style reply: multipart/alternative text and HTML, quoted history, an attachment.
fn gmail_reply(from: &str, token: &str, number: &str, text: &str, id: &str) -> String {
    format!(
        "From: Bob Example <{from}>\r\n\
To: Support <support+{token}@example.test>\r\n\
Subject: Re: [{number}] We received your request\r\n\
In-Reply-To: <{token}@example.test>\r\n\
References: <{token}@example.test>\r\n\
Message-ID: <{id}@mail.gmail.example>\r\n\
Date: Tue, 1 Dec 2026 10:15:00 +0000\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"mixed\"\r\n\
\r\n\
--mixed\r\n\
Content-Type: multipart/alternative; boundary=\"alt\"\r\n\
\r\n\
--alt\r\n\
Content-Type: text/plain; charset=\"UTF-8\"\r\n\
\r\n\
{text}\r\n\
\r\n\
On Tue, 1 Dec 2026 at 10:02, Customer Portal <portal@example.test> wrote:\r\n\
> Thank you. Your request has reached our support team.\r\n\
--alt\r\n\
Content-Type: text/html; charset=\"UTF-8\"\r\n\
\r\n\
<div dir=\"ltr\">{text}</div><div class=\"gmail_quote\">On Tue wrote:<blockquote>old</blockquote></div>\r\n\
--alt--\r\n\
--mixed\r\n\
Content-Type: text/plain; charset=\"US-ASCII\"; name=\"printer.log\"\r\n\
Content-Disposition: attachment; filename=\"printer.log\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
RVJST1IgNDI6IHBhcGVyIGphbQo=\r\n\
--mixed--\r\n"
    )
}

async fn a_reply_by_email_lands_in_its_request(t: TestDb) {
    let imap = Dovecot::start().await;
    let desk = desk_reading(&t, &imap).await;
    let (s, _) = desk
        .put(
            "/api/v1/me/watching",
            &desk.agent,
            serde_json::json!({ "watching": true }),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let id = desk
        .raise(&desk.bob, "Printer jams", "It jams on page 2.")
        .await;
    let number = format!("REQ-{id}");
    let ack = desk
        .env
        .sink
        .wait("bob@acme.example", "We received your request", 1)
        .await;
    assert!(
        ack.text.starts_with(helpdesk::mail::REPLY_ABOVE),
        "{}",
        ack.text
    );
    assert!(
        ack.raw.contains("Auto-Submitted: auto-generated"),
        "{}",
        ack.raw
    );
    let token = token_of(&ack);

    imap.append(
        gmail_reply(
            "Bob@Acme.example",
            &token,
            &number,
            "It works after a restart.",
            "r1",
        )
        .as_bytes(),
    )
    .await;
    let d = wait_messages(&desk, &desk.agent, id, 2).await;
    let m = &d["messages"][1];
    assert_eq!(m["body"], "It works after a restart.");
    assert_eq!(m["channel"], "email");
    assert_eq!(m["author_role"], "customer");
    assert_eq!(d["messages"][0]["channel"], "api");
    let files = d["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{d}");
    assert_eq!(files[0]["file_name"], "printer.log");
    assert_eq!(files[0]["message_id"], m["id"]);
    // The file reads back as sent.
    let (s, bytes) = download(
        &desk,
        &format!("/api/v1/requests/{id}/attachments/{}", files[0]["id"]),
        Some(&desk.bob),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(bytes, b"ERROR 42: paper jam\n");
    // Staff may download the original message; its customer may not.
    let original = format!("/api/v1/requests/{id}/messages/{}/original", m["id"]);
    let (s, bytes) = download(&desk, &original, Some(&desk.agent)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&bytes).contains("Message-ID: <r1@mail.gmail.example>"));
    let (s, _) = download(&desk, &original, Some(&desk.bob)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    imap.wait_for("Processed", 1).await;
    assert_eq!(imap.count("INBOX").await, 0);

    // The same message delivered again (a second copy) adds nothing.
    imap.append(
        gmail_reply(
            "bob@acme.example",
            &token,
            &number,
            "It works after a restart.",
            "r1",
        )
        .as_bytes(),
    )
    .await;
    imap.wait_for("Processed", 2).await;
    // An out-of-office answer to the notification is ignored and never answered.
    imap.append(
        format!(
            "From: bob@acme.example\r\nTo: support+{token}@example.test\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\nMessage-ID: <ooo@acme.example>\r\n\r\nI am away until Monday.\r\n"
        )
        .as_bytes(),
    )
    .await;
    imap.wait_for("Processed", 3).await;
    // Operators word the answer to strangers.
    let (s, w) = desk
        .env
        .call(
            "PUT",
            "/api/v1/mail/wording",
            Some(&desk.operator),
            Some(serde_json::json!({ "join": "Hello from Acme support!\n\nOnly registered customers can write to us." })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{w}");
    assert!(
        w["join_built_in"]
            .as_str()
            .unwrap()
            .contains("could not match")
    );
    let (s, _) = desk
        .env
        .call(
            "PUT",
            "/api/v1/mail/wording",
            Some(&desk.agent),
            Some(serde_json::json!({ "join": "x" })),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Someone else using Bob's reply address is not posted as Bob: a stranger is told how to
    // join, once a day.
    for n in 0..2 {
        imap.append(
            gmail_reply(
                "mallory@elsewhere.example",
                &token,
                &number,
                "I am Bob, really.",
                &format!("m{n}"),
            )
            .as_bytes(),
        )
        .await;
    }
    imap.wait_for("Processed", 5).await;
    let told = desk
        .env
        .sink
        .wait(
            "mallory@elsewhere.example",
            "Your message to our support team",
            1,
        )
        .await;
    assert!(told.text.contains("/join"), "{}", told.text);
    assert!(
        told.text
            .replace("\r\n", "\n")
            .starts_with("Hello from Acme support!\n\nOnly registered customers can write to us."),
        "{}",
        told.text
    );
    assert!(told.raw.contains("Auto-Submitted: auto-replied"));
    let d = desk.detail(&desk.agent, id).await;
    assert_eq!(d["messages"].as_array().unwrap().len(), 2, "{d}");
    let o = outcomes(&t).await;
    let kinds: Vec<&str> = o.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        ["replied", "ignored", "answered", "ignored"],
        "{o:?}"
    );
    assert!(o[1].2.contains("Auto-Submitted"), "{o:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(desk.env.sink.to("mallory@elsewhere.example").len(), 1);
    assert!(
        desk.env
            .sink
            .to("bob@acme.example")
            .iter()
            .all(|m| !m.subject.contains("Out of office")),
        "an auto-reply was answered"
    );

    // The agent answers the customer's reply from Outlook: posted as the agent, and the
    // customer is emailed as for a reply in the portal.
    let note = desk
        .env
        .sink
        .wait("agent@vendor.test", "Customer replied", 1)
        .await;
    assert!(
        note.text.contains("It works after a restart."),
        "{}",
        note.text
    );
    let agent_token = token_of(&note);
    assert_ne!(agent_token, token);
    imap.append(
        format!(
            "From: Agent <agent@vendor.test>\r\n\
To: \"Support\" <support+{agent_token}@example.test>\r\n\
Subject: RE: [{number}] Customer replied: Printer jams\r\n\
Message-ID: <DB9PR01MB@outlook.example>\r\n\
Thread-Topic: [{number}] Customer replied: Printer jams\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=\"iso-8859-1\"\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Gl=FCck gehabt! Closing this one.\r\n\
\r\n\
________________________________\r\n\
From: Customer Portal <portal@example.test>\r\n\
Sent: Tuesday, December 1, 2026 10:20 AM\r\n\
To: Agent <agent@vendor.test>\r\n\
Subject: [{number}] Customer replied: Printer jams\r\n\
\r\n\
Bob Example added a message.\r\n"
        )
        .as_bytes(),
    )
    .await;
    let d = wait_messages(&desk, &desk.bob, id, 3).await;
    let m = &d["messages"][2];
    assert_eq!(m["body"], "Glück gehabt! Closing this one.");
    assert_eq!(m["author_role"], "agent");
    assert_eq!(m["channel"], "email");
    let reply = desk.env.sink.wait("bob@acme.example", "New reply", 1).await;
    assert!(reply.text.contains("Glück gehabt!"), "{}", reply.text);

    // Operators see every message read and what became of it.
    let (s, seen) = desk
        .env
        .get("/api/v1/mail/received", Some(&desk.operator))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(seen["received"].as_array().unwrap().len(), 5, "{seen}");
    assert_eq!(seen["received"][0]["outcome"], "replied");
    assert_eq!(seen["received"][0]["request_id"], id);
    let (s, _) = desk
        .env
        .get("/api/v1/mail/received", Some(&desk.agent))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
on_both_backends!(reply_by_email, a_reply_by_email_lands_in_its_request);

async fn mail_from_a_customer_opens_a_request(t: TestDb) {
    let imap = Dovecot::start().await;
    let desk = desk_reading(&t, &imap).await;
    // Outlook: HTML only, with an inline image.
    // The bytes 89 50 4e 47 0d 0a 1a 0a 01 02 03.
    let png = "iVBORw0KGgoBAgM=";
    let raw = format!(
        "{}From: Ann Admin <ann@acme.example>\r\n\
To: support@example.test\r\n\
Subject: Projector shows no picture\r\n\
Message-ID: <AM0PR01@outlook.example>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/related; boundary=\"rel\"\r\n\
\r\n\
--rel\r\n\
Content-Type: text/html; charset=\"utf-8\"\r\n\
\r\n\
<html><body><p>The projector in room 4 shows <b>no picture</b>.</p><script>alert(1)</script><img src=\"cid:img1\"></body></html>\r\n\
--rel\r\n\
Content-Type: image/png; name=\"image001.png\"\r\n\
Content-Disposition: inline; filename=\"image001.png\"\r\n\
Content-ID: <img1>\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
{}\r\n\
--rel--\r\n",
        authenticated("ann@acme.example"),
        png
    );
    imap.append(raw.as_bytes()).await;
    imap.wait_for("Processed", 1).await;
    let list = desk.list(&desk.ann, "").await;
    assert_eq!(list.len(), 1, "{list:?}");
    let id = list[0]["id"].as_i64().unwrap();
    let d = desk.detail(&desk.ann, id).await;
    assert_eq!(d["subject"], "Projector shows no picture");
    let body = d["messages"][0]["body"].as_str().unwrap();
    assert!(
        body.contains("The projector in room 4 shows no picture."),
        "{body}"
    );
    assert!(!body.contains("<") && !body.contains("alert"), "{body}");
    assert_eq!(d["attachments"][0]["file_name"], "image001.png");
    assert_eq!(d["attachments"][0]["content_type"], "image/png");
    desk.env
        .sink
        .wait(
            "ann@acme.example",
            &format!("[REQ-{id}] We received your request"),
            1,
        )
        .await;

    // Too many attachments: refused, kept in the failed folder, the sender told why.
    let mut many = authenticated("ann@acme.example");
    many.push_str(
        "From: ann@acme.example\r\nTo: support@example.test\r\nSubject: Logs\r\nMessage-ID: <many@acme.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nAll the logs.\r\n",
    );
    for i in 0..11 {
        many.push_str(&format!(
            "--b\r\nContent-Type: text/plain; name=\"log{i}.txt\"\r\nContent-Disposition: attachment; filename=\"log{i}.txt\"\r\n\r\nline {i}\r\n"
        ));
    }
    many.push_str("--b--\r\n");
    imap.append(many.as_bytes()).await;
    imap.wait_for("Failed", 1).await;
    let answer = desk
        .env
        .sink
        .wait("ann@acme.example", "was not accepted", 1)
        .await;
    assert!(answer.text.contains("at most"), "{}", answer.text);
    // An answer quotes nothing the sender wrote: not the subject, not a file's name.
    assert!(
        !answer.subject.contains("Logs") && !answer.text.contains("log1"),
        "{}",
        answer.text
    );
    assert_eq!(desk.list(&desk.ann, "").await.len(), 1);
    let (s, audit) = desk.env.get("/api/v1/audit", Some(&desk.operator)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(audit.to_string().contains("email_not_accepted"), "{audit}");

    // A character set nobody can read: refused, the sender told which.
    imap.append(
        b"From: ann@acme.example\r\nTo: support@example.test\r\nSubject: Strange\r\nMessage-ID: <cs@acme.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-martian-9\r\n\r\n\xa4\xa5\xa6\r\n",
    )
    .await;
    imap.wait_for("Failed", 2).await;
    let answer = desk
        .env
        .sink
        .wait("ann@acme.example", "was not accepted", 2)
        .await;
    assert!(answer.text.contains("x-martian-9"), "{}", answer.text);
    assert_eq!(desk.list(&desk.ann, "").await.len(), 1);

    // A bounce of a notification marks the address as bouncing.
    let ack = desk
        .env
        .sink
        .wait("ann@acme.example", "We received your request", 1)
        .await;
    let token = token_of(&ack);
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>\r\n\
To: portal@example.test\r\n\
Subject: Undelivered Mail Returned to Sender\r\n\
Message-ID: <dsn1@mx.acme.example>\r\n\
Auto-Submitted: auto-replied\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\
\r\n\
--r\r\n\
Content-Type: text/plain\r\n\
\r\n\
Your message could not be delivered.\r\n\
--r\r\n\
Content-Type: message/delivery-status\r\n\
\r\n\
Reporting-MTA: dns; mx.acme.example\r\n\
\r\n\
Final-Recipient: rfc822; ann@acme.example\r\n\
Action: failed\r\n\
Status: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 mailbox unavailable\r\n\
--r\r\n\
Content-Type: text/rfc822-headers\r\n\
\r\n\
From: Customer Portal <portal@example.test>\r\n\
Message-ID: <{token}@example.test>\r\n\
Subject: We received your request\r\n\
--r--\r\n"
    );
    imap.append(dsn.as_bytes()).await;
    imap.wait_for("Processed", 2).await;
    let bouncing: Option<String> =
        sqlx::query_scalar("SELECT bounce_reason FROM users WHERE email = 'ann@acme.example'")
            .fetch_one(t.db.pool())
            .await
            .unwrap();
    assert!(bouncing.is_some_and(|r| r.contains("5.1.1")));
    let (_, seen) = desk
        .env
        .get("/api/v1/mail/received", Some(&desk.operator))
        .await;
    assert_eq!(seen["bouncing"][0]["email"], "ann@acme.example", "{seen}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        desk.env.sink.all().iter().all(|m| !m
            .to
            .iter()
            .any(|t| t.contains("MAILER-DAEMON") || t.contains("mailer-daemon"))),
        "a bounce was answered"
    );
}
on_both_backends!(new_request_by_email, mail_from_a_customer_opens_a_request);

/// One address may send so many messages an hour; the rest are ignored, unanswered. A message
/// larger than the limit is refused from its header alone, and its sender told its size.
async fn floods_and_oversized_mail_are_cut_off(t: TestDb) {
    let imap = Dovecot::start().await;
    let desk = desk_reading_with(
        &t,
        &imap,
        Options {
            mail_per_hour: 3,
            mail_max_bytes: 20_000,
            auth: helpdesk::auth::AuthConfig {
                mfa: helpdesk::auth::MfaPolicy::Never,
                ..Default::default()
            },
            ..Options::default()
        },
    )
    .await;
    for n in 0..5 {
        imap.append(replicas::new_request("bob@acme.example", n).as_bytes())
            .await;
    }
    imap.wait_for("Processed", 5).await;
    assert_eq!(desk.list(&desk.bob, "").await.len(), 3);
    let o = outcomes(&t).await;
    let kinds: Vec<&str> = o.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["opened", "opened", "opened", "ignored", "ignored"]);
    assert!(o[3].2.contains("more than 3 messages"), "{o:?}");

    let big = format!(
        "From: ann@acme.example\r\nTo: support@example.test\r\nSubject: Big logs\r\nMessage-ID: <big@acme.example>\r\n\r\n{}\r\n",
        "0123456789abcdef".repeat(2000)
    );
    imap.append(big.as_bytes()).await;
    imap.wait_for("Failed", 1).await;
    let answer = desk
        .env
        .sink
        .wait("ann@acme.example", "was not accepted", 1)
        .await;
    assert!(
        answer
            .text
            .contains("The message is 33 KB; messages of at most 20 KB are accepted."),
        "{}",
        answer.text
    );
    // Ann, the Site Administrator, sees Bob's three requests and no fourth.
    assert_eq!(desk.list(&desk.ann, "").await.len(), 3);
    // Not kept: only its header was read.
    let kept: Option<String> = sqlx::query_scalar(
        "SELECT eml_sha256 FROM inbound_mail WHERE message_key = '<big@acme.example>'",
    )
    .fetch_one(t.db.pool())
    .await
    .unwrap();
    assert_eq!(kept, None);

    // Operators read what became of each message, and word the answer to strangers, in pages.
    let ops = crate::pages::Browser::sign_in(&desk.env, "ops@vendor.test").await;
    let page = ops
        .get(&desk.env, "/staff/mail/received")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("more than 3 messages from this address in an hour"),
        "{page}"
    );
    assert!(
        page.contains("Big logs") && page.contains("refused"),
        "{page}"
    );
    let res = ops
        .post(
            &desk.env,
            "/staff/mail/wording",
            &[("join", &"x".repeat(2001))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("at most 2000"));
    let res = ops
        .post(
            &desk.env,
            "/staff/mail/wording",
            &[("join", "Please register first.")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Answer saved.") && page.contains(">Please register first.</textarea>"),
        "{page}"
    );
    let (_, w) = desk
        .env
        .get("/api/v1/mail/wording", Some(&desk.operator))
        .await;
    assert_eq!(w["join"], "Please register first.");
}
on_both_backends!(cut_off, floods_and_oversized_mail_are_cut_off);
