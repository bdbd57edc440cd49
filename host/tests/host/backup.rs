//! The backup docs/deploy.md describes, done and undone: the PostgreSQL database dumped with
//! `pg_dump`, then the attachment bucket copied; both restored into a fresh database and a
//! fresh bucket; a server started on them serves the same requests and the same files.

use crate::support::{Backend, S3Server, Spawned, TestDb, run};
use reqwest::StatusCode;
use serde_json::Value;
use std::process::Command;

fn copy_bucket(s3: &S3Server, from: &str, to: &str) -> usize {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3/copy_bucket.py");
    run(Command::new(s3.python())
        .arg(script)
        .args([&s3.endpoint, from, to]))
    .trim()
    .parse()
    .expect("objects copied")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_into_a_fresh_database_and_bucket() {
    let t = TestDb::new(Backend::Postgres).await;
    let s3 = S3Server::start().await;
    let desk = crate::storage::desk_on(&t, &s3, "files").await;
    let photo: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let (s, body) = desk
        .multipart(
            "/api/v1/requests",
            &desk.ann,
            &[
                ("subject", "Pump 3 stopped"),
                ("description", "Photo attached."),
            ],
            &[("pump.jpg", &photo)],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (s, _) = desk
        .env
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&desk.agent),
            serde_json::json!({ "body": "On our way." }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let before = desk.detail(&desk.ann, id).await;

    // The backup: the database first, then the bucket (blobs never change, and none a dumped
    // row references is swept).
    let dump = t.dir.path().join("helpdesk.dump");
    run(Command::new("pg_dump")
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(&t.url));
    let backup_bucket = format!("{}-backup", s3.bucket);
    assert!(copy_bucket(&s3, &s3.bucket, &backup_bucket) >= 1);

    // The restore, into a database and a bucket that hold nothing.
    let fresh = TestDb::empty(Backend::Postgres).await;
    run(Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(&fresh.url)
        .arg(&dump));
    let restored_bucket = format!("{}-restored", s3.bucket);
    copy_bucket(&s3, &backup_bucket, &restored_bucket);

    let server = Spawned::start(Some(&fresh.url), &s3.serve_env(&restored_bucket, "files")).await;
    let http = crate::support::client();
    let after: Value = http
        .get(server.url(&format!("/api/v1/requests/{id}")))
        .bearer_auth(&desk.ann)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after, before, "the same request, messages and files");
    let file = after["attachments"][0]["id"].as_i64().unwrap();
    let got = http
        .get(server.url(&format!("/api/v1/requests/{id}/attachments/{file}")))
        .bearer_auth(&desk.ann)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await.unwrap().as_ref(), photo.as_slice());
}
