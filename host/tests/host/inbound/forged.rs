//! Anyone can write any `From`. Without a reply token of the sender's own, a message acts in
//! the name it gives only when the trusted mail server found the sender authentic; staff never
//! act without a token; answers are few and quote nothing; loops are cut; a delivery report is
//! believed only about mail the desk really sent; and mail to a bouncing address is not sent.

use super::*;
use crate::support::AUTHSERV_ID;

async fn a_forged_sender_acts_in_nobodys_name(t: TestDb) {
    let imap = Dovecot::start().await;
    let desk = desk_reading(&t, &imap).await;
    let id = desk
        .raise(&desk.bob, "Printer jams", "Tray 2 jams every morning.")
        .await;
    let number = format!("REQ-{id}");
    let mail = |from: &str, subject: &str, id: &str, headers: &str| {
        format!(
            "{headers}From: {from}\r\nTo: support@example.test\r\nSubject: {subject}\r\nMessage-ID: <{id}@mail.example>\r\n\r\nText of {id}.\r\n"
        )
    };

    // Bob's name on a reply by the subject alone: not believed, not posted.
    imap.append(
        mail(
            "bob@acme.example",
            &format!("Re: [{number}] hello"),
            "f1",
            "",
        )
        .as_bytes(),
    )
    .await;
    // Nor with the header of a server that is not the trusted one.
    let other = "Authentication-Results: mx.evil.example; dmarc=pass header.from=acme.example\r\n";
    imap.append(
        mail(
            "bob@acme.example",
            &format!("Re: [{number}] hi"),
            "f2",
            other,
        )
        .as_bytes(),
    )
    .await;
    // Nor a new request in Ann's name.
    imap.append(mail("ann@acme.example", "Please reset everything", "f3", "").as_bytes())
        .await;
    // The agent's name, even authenticated, never posts without the agent's own token.
    imap.append(
        mail(
            "agent@vendor.test",
            &format!("Re: [{number}] Closing"),
            "f4",
            &authenticated("agent@vendor.test"),
        )
        .as_bytes(),
    )
    .await;
    imap.wait_for("Failed", 4).await;
    let d = desk.detail(&desk.agent, id).await;
    assert_eq!(d["messages"].as_array().unwrap().len(), 1, "{d}");
    assert_eq!(desk.list(&desk.ann, "").await.len(), 1);
    let o = outcomes(&t).await;
    assert!(o.iter().all(|(_, k, _)| k == "refused"), "{o:?}");

    // Authenticated by the trusted server, Bob's reply by the subject is his.
    imap.append(
        mail(
            "bob@acme.example",
            &format!("Re: [{number}] more"),
            "ok1",
            &authenticated("bob@acme.example"),
        )
        .as_bytes(),
    )
    .await;
    imap.wait_for("Processed", 1).await;
    let d = desk.detail(&desk.agent, id).await;
    assert_eq!(d["messages"].as_array().unwrap().len(), 2, "{d}");
    assert_eq!(d["messages"][1]["author_role"], "customer");
    assert!(AUTHSERV_ID.starts_with("mx."));
}
on_both_backends!(forged_sender, a_forged_sender_acts_in_nobodys_name);

/// Forged mail in a victim's name brings them a few answers, never a flood, and never the
/// forger's words. Two auto-responders answering each other are stopped.
async fn answers_are_few_and_loops_are_cut(t: TestDb) {
    let imap = Dovecot::start().await;
    let desk = desk_reading_up_to(&t, &imap, 100).await;
    let mut s = imap.session().await;
    for n in 0..12 {
        // Half of them refused outright (a character set nobody reads), half from a stranger.
        let charset = if n % 2 == 0 { "utf-8" } else { "x-martian-9" };
        let raw = format!(
            "From: victim@nowhere.example\r\nTo: support@example.test\r\nSubject: BUY CHEAP PILLS {n}\r\nMessage-ID: <spam{n}@forger.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset={charset}\r\n\r\nVisit evil.example now.\r\n"
        );
        s.append("INBOX", None, None, raw.as_bytes()).await.unwrap();
    }
    let _ = s.logout().await;
    imap.wait_for("Processed", 6).await;
    imap.wait_for("Failed", 6).await;
    // Let the outbox settle.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let told = desk.env.sink.to("victim@nowhere.example");
    assert!(
        !told.is_empty() && told.len() <= 3,
        "{} answers to one address",
        told.len()
    );
    for m in &told {
        assert!(
            !m.subject.contains("PILLS")
                && !m.text.contains("PILLS")
                && !m.text.contains("evil.example"),
            "{}\n{}",
            m.subject,
            m.text
        );
    }

    // An auto-responder that does not say it is one answers every notification with the same
    // words: the same text on the same request again is taken for what it is.
    let id = desk
        .raise(&desk.bob, "Conveyor stops", "After a minute, error 42.")
        .await;
    let ack = desk
        .env
        .sink
        .wait("bob@acme.example", "We received your request", 1)
        .await;
    let token = token_of(&ack);
    for n in 0..3 {
        imap.append(
            format!(
                "From: bob@acme.example\r\nTo: support+{token}@example.test\r\nSubject: Re: away\r\nMessage-ID: <away{n}@acme.example>\r\n\r\nI am away this week and will answer on my return.\r\n"
            )
            .as_bytes(),
        )
        .await;
    }
    imap.wait_for("Processed", 9).await;
    let d = desk.detail(&desk.agent, id).await;
    assert_eq!(d["messages"].as_array().unwrap().len(), 2, "{d}");
    let o = outcomes(&t).await;
    assert!(
        o.iter()
            .any(|(_, k, why)| k == "ignored" && why.contains("automatic reply")),
        "{o:?}"
    );
}
on_both_backends!(backscatter, answers_are_few_and_loops_are_cut);

/// A delivery report marks an address as bouncing only when it names a message the desk sent
/// there; mail to a bouncing address is then not sent, until operators clear the mark.
async fn only_real_bounces_count_and_bouncing_addresses_get_no_mail(t: TestDb) {
    let imap = Dovecot::start().await;
    let desk = desk_reading(&t, &imap).await;
    let dsn = |n: usize, recipient: &str, original: &str| {
        format!(
            "From: MAILER-DAEMON@mx.acme.example\r\nTo: portal@example.test\r\nSubject: Undelivered\r\nMessage-ID: <dsn{n}@mx.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{original}>\r\n--r--\r\n"
        )
    };
    // A forged report about Bob, naming no message of ours, or a made-up one.
    imap.append(dsn(1, "bob@acme.example", "whatever@elsewhere.example").as_bytes())
        .await;
    imap.append(dsn(2, "bob@acme.example", "outbox-3@example.test").as_bytes())
        .await;
    imap.wait_for("Processed", 2).await;
    let bouncing = |email: &'static str| {
        let db = t.db.clone();
        async move {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT bouncing_since FROM users WHERE email = $1",
            )
            .bind(email)
            .fetch_one(db.pool())
            .await
            .unwrap()
        }
    };
    assert_eq!(bouncing("bob@acme.example").await, None);

    // A real one, naming the confirmation the desk sent Bob.
    let id = desk.raise(&desk.bob, "Scanner", "It is offline.").await;
    let ack = desk
        .env
        .sink
        .wait("bob@acme.example", "We received your request", 1)
        .await;
    let token = token_of(&ack);
    imap.append(dsn(3, "someone@else.example", &format!("{token}@example.test")).as_bytes())
        .await;
    imap.wait_for("Processed", 3).await;
    assert!(bouncing("bob@acme.example").await.is_some());
    assert_eq!(
        bouncing("ann@acme.example").await,
        None,
        "only the recipient of the message named"
    );

    // Mail to Bob is not sent any more; operators see why, and can clear the mark.
    let before = desk.env.sink.to("bob@acme.example").len();
    let (s, _) = desk
        .env
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&desk.agent),
            serde_json::json!({ "body": "Try turning it off and on." }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let until = Instant::now() + Duration::from_secs(10);
    let undelivered = loop {
        let (_, body) = desk
            .env
            .get("/api/v1/mail/undelivered", Some(&desk.operator))
            .await;
        if let Some(m) = body["undelivered"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["to_addr"] == "bob@acme.example")
        {
            break m.clone();
        }
        assert!(Instant::now() < until, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        undelivered["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("bounced")),
        "{undelivered}"
    );
    assert_eq!(desk.env.sink.to("bob@acme.example").len(), before);
    let (s, body) = desk
        .env
        .post(
            "/api/v1/mail/bouncing/clear",
            Some(&desk.operator),
            serde_json::json!({ "email": "bob@acme.example" }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(bouncing("bob@acme.example").await, None);
    let (s, _) = desk
        .env
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&desk.agent),
            serde_json::json!({ "body": "Any luck?" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    desk.env.sink.wait("bob@acme.example", "New reply", 1).await;
}
on_both_backends!(
    bounces,
    only_real_bounces_count_and_bouncing_addresses_get_no_mail
);
