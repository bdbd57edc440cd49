//! Mail delivery: the outbox folder without SMTP, retry while the SMTP server is down, no
//! duplicates with several workers on one database, and a message sent again after a crash
//! under the same Message-ID.

use crate::support::{self, SmtpSink, TestDb, on_both_backends, test_retry};
use helpdesk::db;
use helpdesk::mail::{Email, Mailer, Transport, Worker};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

fn worker(t: &TestDb, transport: Transport) -> Worker {
    Worker {
        db: t.db.clone(),
        transport,
        from: "Customer Portal <portal@example.test>".parse().unwrap(),
        reply_to: None,
        wake: Arc::new(Notify::new()),
        retry: test_retry(),
    }
}

async fn queue(t: &TestDb, n: usize, subject: &str) {
    let mailer = Mailer::new("http://portal.test");
    let mut tx = t.db.pool().begin().await.unwrap();
    for i in 0..n {
        let email = Email {
            to: format!("user{i}@example.test"),
            subject: format!("{subject} {i}"),
            text: format!("Hello {i}\nhttp://portal.test/x"),
            html: format!("<p>Hello {i}</p>"),
            request: None,
            answers_mail: false,
        };
        mailer.queue(&mut tx, &email, db::now_ms()).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn folder_without_smtp(t: TestDb) {
    queue(&t, 2, "Folder").await;
    let dir = t.dir.path().join("outbox");
    worker(&t, Transport::Folder(dir.clone()))
        .deliver_due()
        .await
        .unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2);
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    for needle in [
        "From: \"Customer Portal\" <portal@example.test>",
        "To: user0@example.test",
        "Subject: Folder 0",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "Message-ID: <",
    ] {
        assert!(eml.contains(needle), "{needle} missing from\n{eml}");
    }
    let parsed = mail_parser::MessageParser::default()
        .parse(eml.as_bytes())
        .unwrap();
    assert_eq!(
        parsed.body_text(0).unwrap().trim().replace("\r\n", "\n"),
        "Hello 0\nhttp://portal.test/x"
    );
    // Delivered bodies are cleared from the database; nothing is left to send.
    assert!(db::outbox::pending(t.db.pool()).await.unwrap().is_empty());
    let bodies: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE text_body IS NOT NULL OR html_body IS NOT NULL",
    )
    .fetch_one(t.db.pool())
    .await
    .unwrap();
    assert_eq!(bodies, 0);
}
on_both_backends!(folder, folder_without_smtp);

async fn smtp_down_then_back(t: TestDb) {
    let port = support::free_port();
    queue(&t, 3, "Patience").await;
    let w = worker(
        &t,
        Transport::from_settings(
            Some(&format!("smtp://127.0.0.1:{port}")),
            Default::default(),
        )
        .unwrap(),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(w.run(async move {
        let _ = stopped.await;
    }));
    // The server is down: attempts fail and are kept, with the error.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let pending = db::outbox::pending(t.db.pool()).await.unwrap();
        if pending.len() == 3
            && pending
                .iter()
                .all(|p| p.attempts >= 2 && p.last_error.is_some())
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no failed attempts recorded: {pending:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // It comes back: everything is delivered, once.
    let sink = SmtpSink::start_on(port);
    for i in 0..3 {
        sink.wait(&format!("user{i}@example.test"), "Patience", 1)
            .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.all().len(), 3);
    assert!(db::outbox::pending(t.db.pool()).await.unwrap().is_empty());
    let _ = stop.send(());
    task.await.unwrap();
}
on_both_backends!(smtp_down, smtp_down_then_back);

async fn replicas_never_send_twice(t: TestDb) {
    let sink = SmtpSink::start();
    queue(&t, 40, "Once").await;
    let mut tasks = Vec::new();
    let (stop, _) = tokio::sync::watch::channel(false);
    for _ in 0..3 {
        let w = worker(
            &t,
            Transport::from_settings(Some(&sink.url()), Default::default()).unwrap(),
        );
        let mut rx = stop.subscribe();
        tasks.push(tokio::spawn(w.run(async move {
            let _ = rx.wait_for(|s| *s).await;
        })));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while sink.all().len() < 40 {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of 40 delivered",
            sink.all().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut subjects: Vec<String> = sink.all().into_iter().map(|m| m.subject).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(
        (sink.all().len(), subjects.len()),
        (40, 40),
        "each message exactly once"
    );
    let _ = stop.send(true);
    for task in tasks {
        task.await.unwrap();
    }
}
on_both_backends!(no_duplicates, replicas_never_send_twice);

#[tokio::test]
async fn a_rolled_back_change_sends_nothing() {
    let t = TestDb::new(support::Backend::Sqlite).await;
    let mailer = Mailer::new("http://portal.test");
    let mut tx = t.db.pool().begin().await.unwrap();
    let email = Email {
        to: "a@example.test".into(),
        subject: "Never".into(),
        text: "x".into(),
        html: "x".into(),
        request: None,
        answers_mail: false,
    };
    mailer.queue(&mut tx, &email, db::now_ms()).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(db::outbox::pending(t.db.pool()).await.unwrap().is_empty());
}

/// A worker that dies while the SMTP server is accepting a message (which the server keeps)
/// leaves it to another once its claim lapses: the recipient may get it twice, under the same
/// Message-ID, so mail systems and clients can tell it is the same message.
async fn a_message_sent_again_after_a_crash_keeps_its_message_id(t: TestDb) {
    let sink = SmtpSink::start();
    sink.stall(Duration::from_secs(5));
    queue(&t, 1, "Crash").await;
    let lease = Duration::from_millis(800);
    let mut dying = worker(
        &t,
        Transport::from_settings(Some(&sink.url()), Default::default()).unwrap(),
    );
    dying.retry.lease = lease;
    let task = tokio::spawn(async move {
        let _ = dying.deliver_due().await;
    });
    // The server has the message; the worker dies before it hears so.
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while sink.all().is_empty() {
        assert!(
            std::time::Instant::now() < until,
            "the first attempt never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task.abort();
    let died = std::time::Instant::now();
    sink.stall(Duration::ZERO);
    let mut next = worker(
        &t,
        Transport::from_settings(Some(&sink.url()), Default::default()).unwrap(),
    );
    next.retry.lease = lease;
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        next.deliver_due().await.unwrap();
        if sink.all().len() == 2 {
            break;
        }
        assert!(std::time::Instant::now() < until, "never sent again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again = died.elapsed();
    assert!(
        again >= lease / 2 && again < lease * 4,
        "sent again after {again:?}"
    );
    let ids: Vec<String> = sink
        .all()
        .iter()
        .map(|m| {
            m.raw
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert!(!ids[0].is_empty() && ids[0] == ids[1], "{ids:?}");
    // Recorded as sent now: no third copy.
    tokio::time::sleep(lease * 2).await;
    next.deliver_due().await.unwrap();
    assert_eq!(sink.all().len(), 2);
}
on_both_backends!(
    resent_after_crash,
    a_message_sent_again_after_a_crash_keeps_its_message_id
);
