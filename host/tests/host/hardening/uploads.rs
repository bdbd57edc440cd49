//! Uploads: who may post is settled before a byte of the body is read, files stream to disk
//! under one budget for the whole process, failed uploads leave nothing behind, and blobs no
//! row references are swept once no upload can still be committing them.

use crate::accounts::Env;
use crate::pages::{Browser, env_without_codes};
use crate::requests::Desk;
use crate::support::{Options, SmtpSink, Spawned, TestDb, TestServer, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BOUNDARY: &str = "hardening-boundary-7f3a";

/// A multipart body with text `fields` and one file of `size` bytes.
fn multipart(fields: &[(&str, &str)], file_name: &str, size: usize) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend((0..size).map(|i| (i % 251) as u8));
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A raw upload: its headers declare `declared` bytes of body, of which `sent` are sent before
/// the answer is awaited. The connection stays open until this is dropped.
struct RawPost {
    stream: TcpStream,
}

impl RawPost {
    async fn start(
        addr: SocketAddr,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        declared: usize,
        sent: usize,
    ) -> RawPost {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {declared}\r\n"
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        stream
            .write_all(&body[..sent.min(body.len())])
            .await
            .unwrap();
        RawPost { stream }
    }

    async fn send_rest(&mut self, body: &[u8], from: usize) {
        self.stream.write_all(&body[from..]).await.unwrap();
    }

    /// The status of the answer, which must come within five seconds.
    async fn status(&mut self) -> u16 {
        self.status_within(Duration::from_secs(5)).await
    }

    async fn status_within(&mut self, wait: Duration) -> u16 {
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        let read = async {
            loop {
                let n = self.stream.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                if got.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        };
        tokio::time::timeout(wait, read)
            .await
            .expect("an answer before the body is complete");
        let head = String::from_utf8_lossy(&got);
        head.split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {head:?}"))
    }
}

fn staged(server: &TestServer) -> usize {
    std::fs::read_dir(server.files_dir.path().join("staging"))
        .map(|d| d.count())
        .unwrap_or(0)
}

async fn strangers_are_refused_before_their_body_is_read(t: TestDb) {
    let d = Desk::with(env_without_codes(&t).await).await;
    let addr = d.env.server.addr;
    let id = d.raise(&d.ann, "Printer", "Jammed.").await;
    let fifty_mib = 50 << 20;
    let body = multipart(
        &[("subject", "x"), ("description", "y")],
        "big.bin",
        64 << 10,
    );
    // Each of these declares 50 MiB, sends 64 KiB, and is answered at once.
    let ann = Browser::sign_in(&d.env, "ann@acme.example").await;
    let bob = d.bob.clone();
    let reply = format!("/requests/{id}/reply");
    let api_reply = format!("/api/v1/requests/{id}/messages");
    let none = Vec::new;
    let cases = vec![
        // A stranger posting a page form is sent to the login page.
        ("/requests?csrf=x", none(), 303),
        (reply.as_str(), none(), 303),
        // A signed-in browser without the CSRF token in the address is refused.
        ("/requests", vec![("Cookie", ann.cookies.clone())], 403),
        // The API wants a session, and one that may see the request.
        ("/api/v1/requests", none(), 401),
        (
            api_reply.as_str(),
            vec![("Authorization", format!("Bearer {bob}"))],
            404,
        ),
    ];
    for (path, headers, expected) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut post = RawPost::start(addr, path, &headers, &body, fifty_mib, body.len()).await;
        assert_eq!(post.status().await, expected, "{path}");
    }
    assert_eq!(
        staged(&d.env.server),
        0,
        "nothing of a refused upload is on disk"
    );
    assert_eq!(
        d.detail(&d.ann, id).await["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
on_both_backends!(
    refused_before_the_body,
    strangers_are_refused_before_their_body_is_read
);

/// A desk whose server holds at most `bytes` of uploads at once.
async fn desk_with_upload_budget(t: &TestDb, bytes: usize) -> Desk {
    let sink = SmtpSink::start();
    let server = TestServer::with(
        &t.db,
        Options {
            smtp: Some(sink.url()),
            uploads_in_flight: bytes,
            ..Options::default()
        },
    )
    .await;
    Desk::with(Env::from_parts(server, sink)).await
}

async fn uploads_share_one_budget(t: TestDb) {
    let d = desk_with_upload_budget(&t, 1 << 20).await;
    let addr = d.env.server.addr;
    let auth = format!("Bearer {}", d.ann);
    let headers = [("Authorization", auth.as_str())];
    let big = multipart(
        &[("subject", "Logs"), ("description", "Attached.")],
        "a.log",
        800 << 10,
    );
    // The first upload declares 800 KiB of the 1 MiB budget and is half-way through.
    let mut first = RawPost::start(
        addr,
        "/api/v1/requests",
        &headers,
        &big,
        big.len(),
        big.len() / 2,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (s, err) = d
        .multipart(
            "/api/v1/requests",
            &d.ann,
            &[("subject", "More logs"), ("description", "Attached.")],
            &[("b.log", &vec![7u8; 400 << 10])],
        )
        .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{err}");
    assert_eq!(err["error"]["code"], "uploads_busy");
    first.send_rest(&big, big.len() / 2).await;
    assert_eq!(first.status().await, 201);
    drop(first);
    let (s, err) = d
        .multipart(
            "/api/v1/requests",
            &d.ann,
            &[("subject", "More logs"), ("description", "Attached.")],
            &[("b.log", &vec![7u8; 400 << 10])],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "the budget came back: {err}");
    assert_eq!(staged(&d.env.server), 0);
}
on_both_backends!(upload_budget, uploads_share_one_budget);

/// One person's slow uploads hold at most their share of the budget: the sixth is refused
/// with 429 while someone else's upload goes through, and a body that trickles in is cut off
/// (408), giving its budget back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_person_holds_only_a_share_of_the_upload_budget() {
    let t = TestDb::new(crate::support::Backend::Sqlite).await;
    let d = desk_with_upload_budget(&t, 64 << 20).await;
    let addr = d.env.server.addr;
    let auth = format!("Bearer {}", d.ann);
    let headers = [("Authorization", auth.as_str())];
    let big = multipart(
        &[("subject", "Logs"), ("description", "Attached.")],
        "a.log",
        9 << 20,
    );
    // Five uploads of 9 MiB trickling in: 45 MiB of a 51 MiB share (one whole message).
    let started = std::time::Instant::now();
    let mut slow = Vec::new();
    for _ in 0..5 {
        slow.push(RawPost::start(addr, "/api/v1/requests", &headers, &big, big.len(), 4096).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let file = vec![7u8; 9 << 20];
    let (s, err) = d
        .multipart(
            "/api/v1/requests",
            &d.ann,
            &[("subject", "More logs"), ("description", "Attached.")],
            &[("b.log", &file)],
        )
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{err}");
    assert_eq!(err["error"]["code"], "uploads_in_progress");
    let (s, err) = d
        .multipart(
            "/api/v1/requests",
            &d.bob,
            &[("subject", "Bob's logs"), ("description", "Attached.")],
            &[("b.log", &file)],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "someone else still uploads: {err}");
    // The trickles are cut off once they fall below the minimum pace.
    for post in &mut slow {
        assert_eq!(post.status_within(Duration::from_secs(30)).await, 408);
    }
    let cut_after = started.elapsed();
    assert!(
        cut_after >= Duration::from_secs(10) && cut_after < Duration::from_secs(20),
        "cut off after {cut_after:?}"
    );
    drop(slow);
    let (s, err) = d
        .multipart(
            "/api/v1/requests",
            &d.ann,
            &[("subject", "More logs"), ("description", "Attached.")],
            &[("b.log", &file)],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "the share came back: {err}");
    assert_eq!(staged(&d.env.server), 0);
}

async fn failed_uploads_leave_nothing_behind(t: TestDb) {
    let d = Desk::new(&t).await;
    let server = &d.env.server;
    let auth = format!("Bearer {}", d.ann);
    let headers = [("Authorization", auth.as_str())];
    // Over the file limit: refused while streaming.
    let (s, _) = d
        .multipart(
            "/api/v1/requests",
            &d.ann,
            &[("subject", "Huge"), ("description", "Attached.")],
            &[("huge.bin", &vec![1u8; (10 << 20) + 1])],
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    // A client that goes away half-way.
    let body = multipart(
        &[("subject", "Gone"), ("description", "Attached.")],
        "gone.bin",
        2 << 20,
    );
    let post = RawPost::start(
        server.addr,
        "/api/v1/requests",
        &headers,
        &body,
        body.len(),
        1 << 20,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(post);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while staged(server) > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        staged(server),
        0,
        "staged files of failed uploads are removed"
    );
    assert!(d.list(&d.ann, "").await.is_empty());
}
on_both_backends!(failed_uploads, failed_uploads_leave_nothing_behind);

fn age(path: &std::path::Path, by: Duration) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - by)
        .unwrap();
}

async fn orphaned_blobs_are_swept(t: TestDb) {
    let d = Desk::new(&t).await;
    let files = &d.env.server.state.requests.files;
    let blob = |sha: &str| {
        d.env
            .server
            .files_dir
            .path()
            .join("attachments")
            .join(&sha[..2])
            .join(sha)
    };
    let (s, body) = d
        .multipart(
            "/api/v1/requests",
            &d.ann,
            &[("subject", "Kept"), ("description", "Attached.")],
            &[("kept.txt", b"referenced bytes")],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let id = body["id"].as_i64().unwrap();
    let detail = d.detail(&d.ann, id).await;
    let kept = detail["attachments"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    // Files stored for transactions that never committed (a crash between the two).
    let old = files.stage_bytes(b"orphan from yesterday").await.unwrap();
    let old_sha = old.sha256.clone();
    files.store.put(old).await.unwrap();
    let fresh = files.stage_bytes(b"orphan still committing").await.unwrap();
    let fresh_sha = fresh.sha256.clone();
    files.store.put(fresh).await.unwrap();
    let hour = Duration::from_secs(3600);
    age(&blob(&kept), 2 * hour);
    age(&blob(&old_sha), 2 * hour);

    let removed = files.sweep(&d.env.server.state.db, hour).await.unwrap();
    assert_eq!(removed, 1);
    assert!(!blob(&old_sha).exists(), "the old orphan is gone");
    assert!(
        blob(&fresh_sha).exists(),
        "a recent one may still be committing"
    );
    assert!(blob(&kept).exists(), "a referenced file stays, however old");
    let file_id = detail["attachments"][0]["id"].as_i64().unwrap();
    let res = d
        .env
        .http
        .get(
            d.env
                .server
                .url(&format!("/api/v1/requests/{id}/attachments/{file_id}")),
        )
        .bearer_auth(&d.ann)
        .send()
        .await
        .unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"referenced bytes");

    // Content stored again just now (an upload reusing an old orphan) is not swept from under
    // the row about to reference it: storing refreshes it, and retiring checks that.
    age(&blob(&fresh_sha), 2 * hour);
    let again = files.stage_bytes(b"orphan still committing").await.unwrap();
    files.store.put(again).await.unwrap();
    let before = SystemTime::now() - hour;
    assert!(
        files
            .store
            .retire(&fresh_sha, before)
            .await
            .unwrap()
            .is_none()
    );
    assert!(blob(&fresh_sha).exists());
}
on_both_backends!(orphan_sweep, orphaned_blobs_are_swept);

/// At start, the server removes what a crash left in the staging folder.
#[tokio::test]
async fn a_restart_clears_the_staging_folder() {
    let data = tempfile::tempdir().unwrap();
    let staging = data.path().join("tmp").join("uploads");
    std::fs::create_dir_all(&staging).unwrap();
    let stale = staging.join("upload-left-by-a-crash");
    std::fs::write(&stale, vec![0u8; 4096]).unwrap();
    age(&stale, Duration::from_secs(3600));
    let server = Spawned::start_in(data, None, crate::support::NO_ENV).await;
    assert!(!stale.exists());
    let ready: Value = crate::support::client()
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["ready"], json!(true));
}
