//! Exactly once: two servers reading one mailbox, and a server killed (`kill -9`) again and
//! again while it reads, each open every request once and only once.

use super::{desk_reading, desk_reading_up_to};
use crate::requests::Desk;
use crate::support::dovecot::Dovecot;
use crate::support::{Options, Spawned, TestDb, TestServer, on_both_backends};
use std::time::{Duration, Instant};

/// A new request from `from`: plain text, about 5 KB, like a real one with a log pasted in.
pub fn new_request(from: &str, n: usize) -> String {
    let filler = "The conveyor stops after a minute and the panel shows error 42. ".repeat(75);
    format!(
        "{}From: {from}\r\nTo: support@example.test\r\nSubject: Load {n}\r\nMessage-ID: <load-{n}@acme.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMessage {n}.\r\n{filler}\r\n",
        crate::support::authenticated(from)
    )
}

/// Appends `n` messages over one connection.
pub async fn append_all(imap: &Dovecot, from: &str, n: usize) {
    let mut s = imap.session().await;
    for i in 0..n {
        s.append("INBOX", None, None, new_request(from, i).as_bytes())
            .await
            .expect("APPEND");
    }
    let _ = s.logout().await;
}

/// Subjects of every request, with how many requests carry each.
async fn subjects(t: &TestDb) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT subject, COUNT(*) FROM requests GROUP BY subject ORDER BY subject")
        .fetch_all(t.db.pool())
        .await
        .unwrap()
}

async fn assert_each_once(t: &TestDb, n: usize) {
    let s = subjects(t).await;
    assert_eq!(s.len(), n, "requests opened: {s:?}");
    assert!(
        s.iter().all(|(_, c)| *c == 1),
        "a message opened two requests"
    );
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbound_mail")
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert_eq!(rows, n as i64);
    let acks: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE subject LIKE '%We received your request: Load %'",
    )
    .fetch_one(t.db.pool())
    .await
    .unwrap();
    assert_eq!(acks, n as i64, "each request is acknowledged once");
}

async fn two_servers_read_one_mailbox(t: TestDb) {
    const N: usize = 60;
    let imap = Dovecot::start().await;
    let desk: Desk = desk_reading_up_to(&t, &imap, 1000).await;
    let _second = TestServer::with(
        &t.db,
        Options {
            imap: Some(imap.url()),
            mail_per_hour: 1000,
            ..Options::default()
        },
    )
    .await;
    append_all(&imap, "bob@acme.example", N).await;
    // Both may file one message (each moves what it finds dealt with), so the processed
    // folder can hold a copy twice; the database says what acted.
    imap.wait_for("Processed", N as u32).await;
    let until = Instant::now() + Duration::from_secs(30);
    while imap.count("INBOX").await > 0 {
        assert!(Instant::now() < until, "messages left in the INBOX");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_each_once(&t, N).await;
    assert_eq!(desk.all_pages(&desk.bob, "status=all").await.len(), N);
}
on_both_backends!(two_servers, two_servers_read_one_mailbox);

/// The server is killed at random moments while it reads 200 messages (or
/// `HELPDESK_TEST_CRASH_MESSAGES`), and started again, until the mailbox is empty.
async fn killed_while_reading(t: TestDb) {
    let n: usize = std::env::var("HELPDESK_TEST_CRASH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let imap = Dovecot::start().await;
    // The site and its customers, made by a server that is then stopped.
    drop(desk_reading(&t, &imap).await);
    append_all(&imap, "bob@acme.example", n).await;
    let env = [
        ("HELPDESK_IMAP_URL", imap.url()),
        ("HELPDESK_MAIL_FROM", "Portal <portal@example.test>".into()),
        ("HELPDESK_MAIL_PER_HOUR", "100000".into()),
        (
            "HELPDESK_MAIL_AUTHSERV_ID",
            crate::support::AUTHSERV_ID.into(),
        ),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("kill schedule seed {seed}");
    let mut data = tempfile::tempdir().unwrap();
    let mut kills = 0;
    let until = Instant::now() + Duration::from_secs(60 + n as u64);
    let most_kills = (n / 16).max(12);
    loop {
        let mut s = Spawned::start_in(data, Some(&t.url), &env).await;
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        // Killed at a random moment of its reading: after a random time, or once it has read a
        // random share of what is left, whichever comes first, so that a server reading faster
        // than usual is still killed while it reads.
        let after = Duration::from_millis(50 + (seed >> 33) % 700);
        let share = 1 + ((seed >> 17) % (n as u64 / 10).max(1)) as u32;
        let started = Instant::now();
        let at_start = imap.count("INBOX").await;
        let mut left = at_start;
        while left > 0 && at_start - left < share && started.elapsed() < after {
            tokio::time::sleep(Duration::from_millis(10)).await;
            left = imap.count("INBOX").await;
        }
        if left == 0 || kills >= most_kills {
            imap.wait_for("Processed", n as u32).await;
            break;
        }
        s.child.kill().unwrap();
        s.child.wait().unwrap();
        kills += 1;
        data = std::mem::replace(&mut s.data, tempfile::tempdir().unwrap());
        assert!(Instant::now() < until, "{left} messages still unread");
    }
    eprintln!("{n} messages, killed {kills} times");
    assert!(
        kills >= 2,
        "the server finished before it could be killed twice"
    );
    assert_eq!(imap.count("INBOX").await, 0);
    assert_each_once(&t, n).await;
}
on_both_backends!(killed, killed_while_reading);
