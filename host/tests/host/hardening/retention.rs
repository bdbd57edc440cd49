//! What the server keeps only for a while: audit entries past `HELPDESK_AUDIT_KEEP_DAYS` and
//! originals of received mail past `HELPDESK_MAIL_KEEP_DAYS` go at the hourly housekeeping (its
//! first round runs at start), and what is younger stays.

use crate::support::{NO_ENV, Spawned, TestDb, on_both_backends};
use std::time::Duration;

const DAY: i64 = 24 * 3600 * 1000;

async fn old_audit_entries_and_mail_originals_are_dropped(t: TestDb) {
    let pool = t.db.pool();
    let now = helpdesk::db::now_ms();
    for (at, detail) in [(now - 401 * DAY, "long ago"), (now - DAY, "yesterday")] {
        sqlx::query(
            "INSERT INTO audit_log (at, event, user_id, email, actor, ip, detail)
             VALUES ($1, 'login', NULL, 'ann@acme.example', 'ann@acme.example', '203.0.113.9', $2)",
        )
        .bind(at)
        .bind(detail)
        .execute(pool)
        .await
        .unwrap();
    }
    for (n, received) in [(1i64, now - 91 * DAY), (2, now - 89 * DAY)] {
        sqlx::query(
            "INSERT INTO inbound_mail (message_key, mailbox, uid_validity, uid, from_addr, subject,
                                       outcome, reason, eml_sha256, size, received_at)
             VALUES ($1, 'INBOX', 1, $2, 'ann@acme.example', 'Pump', 'accepted', '', $3, 100, $4)",
        )
        .bind(format!("<{n}@acme.example>"))
        .bind(n)
        .bind(format!("{n:064}"))
        .bind(received)
        .execute(pool)
        .await
        .unwrap();
    }
    let server = Spawned::start(Some(&t.url), NO_ENV).await;
    let audit = || async {
        sqlx::query_scalar::<_, String>("SELECT detail FROM audit_log WHERE ip = '203.0.113.9'")
            .fetch_all(pool)
            .await
            .unwrap()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while audit().await.len() > 1 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(audit().await, ["yesterday"]);
    let originals: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT uid, eml_sha256 FROM inbound_mail ORDER BY uid")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(originals, [(1, None), (2, Some(format!("{:064}", 2)))]);
    server.stop().await;
}
on_both_backends!(retention, old_audit_entries_and_mail_originals_are_dropped);
