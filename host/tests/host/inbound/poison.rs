//! One message that cannot be dealt with never holds up the mail behind it: it is tried a few
//! times, then set aside in the failed folder. Text from mail never brings a NUL to the
//! database. And the mailbox can be read over TLS from a server with a private CA.

use super::*;
use helpdesk::mail::inbound::imap::{
    Disposition, Fetcher, ImapSettings, MAX_TRIES, Place, Receive,
};
use std::sync::{Arc, Mutex};

/// A receiver that fails on every message saying `POISON` and takes the rest, remembering
/// what it took and what it set aside, by UID.
#[derive(Default)]
struct Picky {
    taken: Mutex<Vec<(u32, Disposition)>>,
    attempts: Mutex<u32>,
    set_aside: Mutex<Vec<String>>,
}

impl Receive for Picky {
    async fn known(&self, places: &[Place]) -> Result<Vec<(u32, Disposition)>, String> {
        let taken = self.taken.lock().unwrap();
        Ok(taken
            .iter()
            .filter(|(u, _)| places.iter().any(|p| p.uid == *u))
            .copied()
            .collect())
    }

    async fn receive(
        &self,
        raw: &[u8],
        place: &Place,
        _over: Option<u64>,
    ) -> Result<Disposition, String> {
        if String::from_utf8_lossy(raw).contains("POISON") {
            *self.attempts.lock().unwrap() += 1;
            return Err("this message breaks the receiver".into());
        }
        self.taken
            .lock()
            .unwrap()
            .push((place.uid, Disposition::Processed));
        Ok(Disposition::Processed)
    }

    async fn give_up(&self, _raw: &[u8], place: &Place, why: &str) -> Result<(), String> {
        self.set_aside.lock().unwrap().push(why.to_owned());
        self.taken
            .lock()
            .unwrap()
            .push((place.uid, Disposition::Failed));
        Ok(())
    }
}

fn message(n: usize, body: &str) -> String {
    format!(
        "From: bob@acme.example\r\nTo: support@example.test\r\nSubject: m{n}\r\nMessage-ID: <m{n}@acme.example>\r\n\r\n{body}\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_keeps_failing_is_set_aside_and_holds_nothing_up() {
    let imap = Dovecot::start().await;
    imap.append(message(0, "POISON").as_bytes()).await;
    for n in 1..=3 {
        imap.append(message(n, "fine").as_bytes()).await;
    }
    let mut settings = ImapSettings::from_url(&imap.url()).unwrap();
    settings.poll = Duration::from_millis(200);
    let picky = Arc::new(Picky::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let reader = tokio::spawn(Fetcher::new(settings, picky.clone()).run(async {
        let _ = stopped.await;
    }));
    // The three behind it are taken at once, though the first fails.
    imap.wait_for("Processed", 3).await;
    // The failing one is tried a few times, then set aside where operators look.
    imap.wait_for("Failed", 1).await;
    let _ = stop.send(());
    reader.await.unwrap();
    assert_eq!(*picky.attempts.lock().unwrap(), MAX_TRIES);
    let why = picky.set_aside.lock().unwrap().clone();
    assert_eq!(why.len(), 1, "{why:?}");
    assert!(why[0].contains("breaks the receiver"), "{why:?}");
    assert_eq!(imap.count("INBOX").await, 0);
}

/// An encoded subject can carry a NUL, which PostgreSQL refuses in text: it is dropped, and the
/// message is dealt with like any other, as are those behind it.
async fn a_nul_in_mail_never_reaches_the_database(t: TestDb) {
    let imap = Dovecot::start().await;
    let desk = desk_reading(&t, &imap).await;
    let from = "ann@acme.example";
    imap.append(
        format!(
            "{}From: =?utf-8?q?Ann=00_Admin?= <{from}>\r\nTo: support@example.test\r\nSubject: =?utf-8?q?Pump=004_is_down?=\r\nMessage-ID: <nul@acme.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIt stopped\0 at nine.\r\n",
            authenticated(from)
        )
        .as_bytes(),
    )
    .await;
    imap.append(
        format!(
            "{}From: {from}\r\nTo: support@example.test\r\nSubject: Second\r\nMessage-ID: <after-nul@acme.example>\r\n\r\nAnd another thing.\r\n",
            authenticated(from)
        )
        .as_bytes(),
    )
    .await;
    imap.wait_for("Processed", 2).await;
    let list = desk.list(&desk.ann, "").await;
    let subjects: Vec<&str> = list
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    assert!(subjects.contains(&"Pump 4 is down"), "{subjects:?}");
    assert!(subjects.contains(&"Second"), "{subjects:?}");
    let id = list
        .iter()
        .find(|r| r["subject"] == "Pump 4 is down")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let d = desk.detail(&desk.ann, id).await;
    let body = d["messages"][0]["body"].as_str().unwrap();
    assert!(
        body.starts_with("It stopped") && body.ends_with("at nine.") && !body.contains('\0'),
        "{body:?}"
    );
}
on_both_backends!(nul, a_nul_in_mail_never_reaches_the_database);

/// `HELPDESK_IMAP_CA`: a mail server whose certificate a private CA issued is read over TLS
/// once its CA is trusted, and refused before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mailbox_is_read_over_tls_with_a_private_ca() {
    let imap = Dovecot::start_tls().await;
    imap.append(message(1, "over TLS").as_bytes()).await;
    let read = |settings: ImapSettings| {
        let picky = Arc::new(Picky::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(Fetcher::new(settings, picky.clone()).run(async {
            let _ = stopped.await;
        }));
        (picky, stop, task)
    };
    // The public roots alone do not know the server's CA: nothing is read.
    let untrusted = ImapSettings::from_url(&imap.tls_url()).unwrap();
    let (picky, stop, task) = read(untrusted);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(picky.taken.lock().unwrap().is_empty());
    let _ = stop.send(());
    task.await.unwrap();
    assert_eq!(imap.count("INBOX").await, 1);

    // With the CA trusted, it is.
    let dir = tempfile::tempdir().unwrap();
    let ca = crate::support::write_file(
        dir.path(),
        "ca.pem",
        imap.tls.as_ref().unwrap().1.as_bytes(),
    );
    let mut trusted = ImapSettings::from_url(&imap.tls_url()).unwrap();
    trusted.trust_pem(&ca).unwrap();
    let (picky, stop, task) = read(trusted);
    imap.wait_for("Processed", 1).await;
    assert_eq!(picky.taken.lock().unwrap().len(), 1);
    let _ = stop.send(());
    task.await.unwrap();

    // A file that holds no certificate is refused when the setting is read.
    let junk = crate::support::write_file(dir.path(), "junk.pem", b"not a certificate");
    let mut settings = ImapSettings::from_url(&imap.tls_url()).unwrap();
    let e = settings.trust_pem(&junk).unwrap_err();
    assert!(e.contains("HELPDESK_IMAP_CA"), "{e}");
}
