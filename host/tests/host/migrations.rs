//! Migrations keep what a database of an older release holds: a database migrated as far as an
//! older release went, with rows in it, is migrated the rest of the way and keeps every row, id
//! and reference, with its foreign keys still enforced.

use crate::support::{Backend, TestDb};
use sqlx::Row;

/// The last migration before messages could be written by a workflow (`0025_rule_notes`,
/// which rebuilds `messages` on SQLite).
const BEFORE_RULE_NOTES: i64 = 24;

async fn insert_id(t: &TestDb, sql: &str) -> i64 {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(t.db.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get::<i64, _>(0)
}

async fn messages_survive_the_rebuild_that_lets_a_workflow_write_notes(backend: Backend) {
    let t = TestDb::empty(backend).await;
    t.db.migrate_through(BEFORE_RULE_NOTES).await.unwrap();
    let site = insert_id(
        &t,
        "INSERT INTO sites (name, licences, created_at) VALUES ('Acme', 1, 0) RETURNING id",
    )
    .await;
    let user = insert_id(&t, &format!(
        "INSERT INTO users (email, given_name, surname, role, state, site_id, created_at, updated_at)
         VALUES ('ann@acme.example', 'Ann', 'Lee', 'customer', 'active', {site}, 0, 0) RETURNING id"
    ))
    .await;
    let request = insert_id(&t, &format!(
        "INSERT INTO requests (site_id, requester_id, subject, status, status_since, version, created_at, updated_at)
         VALUES ({site}, {user}, 'Printer', 'open', 0, 1, 0, 0) RETURNING id"
    ))
    .await;
    let mut messages = Vec::new();
    for (body, channel) in [("It jams.", "portal"), ("Still jams.", "email")] {
        messages.push(insert_id(&t, &format!(
            "INSERT INTO messages (request_id, author_id, body, internal, created_at, channel, html, html_renderer)
             VALUES ({request}, {user}, '{body}', 0, 1, '{channel}', '<p>{body}</p>', 3) RETURNING id"
        ))
        .await);
    }
    let attachment = insert_id(&t, &format!(
        "INSERT INTO attachments (request_id, message_id, file_name, content_type, size, sha256, created_at)
         VALUES ({request}, {}, 'log.txt', 'text/plain', 3, 'abc', 1) RETURNING id",
        messages[0]
    ))
    .await;
    insert_id(&t, &format!(
        "INSERT INTO inbound_mail (message_key, mailbox, uid_validity, uid, from_addr, subject, outcome, reason, size, received_at, message_id)
         VALUES ('k1', 'INBOX', 1, 1, 'ann@acme.example', 'Still jams', 'replied', '', 10, 1, {}) RETURNING id",
        messages[1]
    ))
    .await;

    t.db.migrate().await.unwrap();

    // Every row, id and reference as it was.
    let rows = sqlx::query(
        "SELECT m.id, m.author_id, m.body, m.channel, m.html, m.html_renderer, m.plugin, a.id AS attachment
         FROM messages m LEFT JOIN attachments a ON a.message_id = m.id ORDER BY m.id",
    )
    .fetch_all(t.db.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get::<i64, _>("id"), messages[0]);
    assert_eq!(rows[0].get::<Option<i64>, _>("author_id"), Some(user));
    assert_eq!(rows[0].get::<String, _>("body"), "It jams.");
    assert_eq!(rows[0].get::<String, _>("html"), "<p>It jams.</p>");
    assert_eq!(rows[0].get::<i64, _>("html_renderer"), 3);
    assert_eq!(rows[0].get::<Option<String>, _>("plugin"), None);
    assert_eq!(
        rows[0].get::<Option<i64>, _>("attachment"),
        Some(attachment)
    );
    assert_eq!(rows[1].get::<String, _>("channel"), "email");
    let answered: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM inbound_mail i JOIN messages m ON m.id = i.message_id WHERE m.body = 'Still jams.'",
    )
    .fetch_one(t.db.pool())
    .await
    .unwrap();
    assert_eq!(answered, 1);

    // A workflow's note has no person for its author; new ids follow the old ones.
    let note = insert_id(&t, &format!(
        "INSERT INTO messages (request_id, author_id, body, internal, created_at, channel, plugin)
         VALUES ({request}, NULL, 'Renewal.', 1, 2, 'workflow', 'workflow-renewals 1.0.0') RETURNING id"
    ))
    .await;
    assert!(note > messages[1], "{note} after {messages:?}");
    // References are still enforced, on both backends.
    let orphan = sqlx::query(
        "INSERT INTO messages (request_id, author_id, body, internal, created_at) VALUES (999999, NULL, 'x', 1, 0)",
    )
    .execute(t.db.pool())
    .await;
    assert!(orphan.is_err(), "a message of no request was accepted");
    let attachment_of_nothing = sqlx::query(
        "INSERT INTO attachments (request_id, message_id, file_name, content_type, size, sha256, created_at)
         VALUES ($1, 999999, 'x', 'text/plain', 1, 'x', 0)",
    )
    .bind(request)
    .execute(t.db.pool())
    .await;
    assert!(
        attachment_of_nothing.is_err(),
        "an attachment of no message was accepted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_notes_sqlite() {
    messages_survive_the_rebuild_that_lets_a_workflow_write_notes(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_notes_postgres() {
    messages_survive_the_rebuild_that_lets_a_workflow_write_notes(Backend::Postgres).await;
}
