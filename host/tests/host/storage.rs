//! Attachments in S3-compatible object storage (a real one: moto's server mode): every
//! replica reads what another stored, files go up in parts and come back whole, nothing lands
//! on local disk, and the orphan sweep keeps its promises there too.

use crate::accounts::Env;
use crate::requests::Desk;
use crate::support::{S3Server, SmtpSink, TestDb, TestServer, on_both_backends};
use helpdesk::requests::files::BlobStore;
use reqwest::StatusCode;
use std::time::{Duration, SystemTime};

/// The site and people of [`Desk`], made through a server on `t` that keeps attachments under
/// `prefix` of `s3`'s bucket.
pub(crate) async fn desk_on(t: &TestDb, s3: &S3Server, prefix: &str) -> Desk {
    let sink = SmtpSink::start();
    let server = s3.replica(t, prefix, Some(&sink)).await;
    Desk::with(Env::from_parts(server, sink)).await
}

/// `n` bytes that differ from one file to the next.
fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8 ^ seed).collect()
}

async fn download(env: &Env, server: &TestServer, token: &str, id: i64, file: i64) -> Vec<u8> {
    let res = env
        .http
        .get(server.url(&format!("/api/v1/requests/{id}/attachments/{file}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.bytes().await.unwrap().to_vec()
}

async fn replicas_share_attachments_in_object_storage(t: TestDb) {
    let s3 = S3Server::start().await;
    let desk = desk_on(&t, &s3, "attachments").await;
    let second = s3.replica(&t, "attachments", None).await;

    // 6 MiB goes up in two parts; a small file in one.
    let big = bytes(6 << 20, 7);
    let small = b"a short note".to_vec();
    let (s, body) = desk
        .multipart(
            "/api/v1/requests",
            &desk.ann,
            &[("subject", "Logs attached"), ("description", "Both files.")],
            &[("trace.log", &big), ("note.txt", &small)],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    let detail = desk.detail(&desk.ann, id).await;
    let files: Vec<(i64, String)> = detail["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_i64().unwrap(),
                a["sha256"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(files.len(), 2);

    // Read back whole through the replica that did not store them, and through the one that did.
    for server in [&second, &desk.env.server] {
        assert_eq!(
            download(&desk.env, server, &desk.ann, id, files[0].0).await,
            big
        );
        assert_eq!(
            download(&desk.env, server, &desk.ann, id, files[1].0).await,
            small
        );
    }
    // Nothing on local disk.
    assert!(
        !desk
            .env
            .server
            .files_dir
            .path()
            .join("attachments")
            .exists()
    );
    let (reader, size) = s3.store("attachments").open(&files[0].1).await.unwrap();
    assert_eq!(size, big.len() as u64);
    drop(reader);
    // Under the prefix only.
    assert!(s3.store("").open(&files[0].1).await.is_err());

    // The orphan sweep: an old blob no row references goes, a recent one stays (it may still
    // be committing), a referenced one stays however old.
    let store = desk.env.server.state.requests.files.clone();
    let old = store.stage_bytes(b"orphan from before").await.unwrap();
    let old_sha = old.sha256.clone();
    store.store.put(old).await.unwrap();
    // Object times have whole seconds.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let cut = SystemTime::now();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fresh = store.stage_bytes(b"orphan still committing").await.unwrap();
    let fresh_sha = fresh.sha256.clone();
    store.store.put(fresh).await.unwrap();
    let removed = store
        .sweep(&desk.env.server.state.db, cut.elapsed().unwrap())
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert!(
        store.store.open(&old_sha).await.is_err(),
        "the old orphan is gone"
    );
    assert!(store.store.open(&fresh_sha).await.is_ok());
    for (_, sha) in &files {
        assert!(store.store.open(sha).await.is_ok(), "referenced files stay");
    }

    // Content stored again after the cut is not retired from under the row about to reference
    // it: storing marks it used, and retiring checks that.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let cut = SystemTime::now();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = store.stage_bytes(b"orphan still committing").await.unwrap();
    store.store.put(again).await.unwrap();
    assert!(
        store
            .store
            .stale(cut)
            .await
            .unwrap()
            .iter()
            .all(|s| *s != fresh_sha)
    );
    assert!(store.store.retire(&fresh_sha, cut).await.unwrap().is_none());
    assert!(store.store.open(&fresh_sha).await.is_ok());
    // Retired and put back, it is whole again.
    let retired = store
        .store
        .retire(&fresh_sha, SystemTime::now() + Duration::from_secs(60))
        .await
        .unwrap()
        .expect("retired");
    assert!(store.store.open(&fresh_sha).await.is_err());
    store.store.restore(retired).await.unwrap();
    let (mut reader, _) = store.store.open(&fresh_sha).await.unwrap();
    let mut back = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut back)
        .await
        .unwrap();
    assert_eq!(back, b"orphan still committing");
}

on_both_backends!(shared, replicas_share_attachments_in_object_storage);

#[tokio::test]
async fn a_wrong_bucket_is_refused_at_start() {
    let s3 = S3Server::start().await;
    let store =
        helpdesk::requests::files::s3::S3Store::connect("s3://no-such-bucket/x", s3.settings())
            .expect("a well-formed address");
    assert!(store.check().await.is_err());
    assert!(s3.store("x").check().await.is_ok());
    for bad in ["https://bucket/x", "s3://", "s3:///prefix"] {
        assert!(
            helpdesk::requests::files::s3::S3Store::connect(bad, s3.settings()).is_err(),
            "{bad}"
        );
    }
}

/// `helpdesk serve` takes the store from `HELPDESK_BLOB_URL` and `AWS_*`, and will not start on
/// a bucket that does not answer.
#[tokio::test]
async fn the_server_stores_where_helpdesk_blob_url_says() {
    let s3 = S3Server::start().await;
    let server = crate::support::Spawned::start(None, &s3.serve_env(&s3.bucket, "portal")).await;
    let ready = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    drop(server);

    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_helpdesk"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("HELPDESK_DATA_DIR", data.path())
        .envs(s3.settings())
        .env("HELPDESK_BLOB_URL", "s3://no-such-bucket/portal")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("attachment storage does not answer"),
        "{said}"
    );
}

/// 10 MiB files through S3 and through local disk, timed on the `helpdesk` binary, and its
/// memory while 16 such uploads to S3 run at once: a file is never held whole, at most the part
/// on its way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_mib_files_through_s3_and_local_disk() {
    let t = TestDb::new(crate::support::Backend::Postgres).await;
    let s3 = S3Server::start().await;
    let desk = desk_on(&t, &s3, "attachments").await;
    let on_s3 =
        crate::support::Spawned::start(Some(&t.url), &s3.serve_env(&s3.bucket, "attachments"))
            .await;
    let on_disk = crate::support::Spawned::start(Some(&t.url), crate::support::NO_ENV).await;
    let http = crate::support::client();
    let file = bytes(10 << 20, 3);

    let upload_as = |server: &crate::support::Spawned, n: u32, token: &str| {
        let form = reqwest::multipart::Form::new()
            .text("subject", format!("Big file {n}"))
            .text("description", "10 MiB.")
            .part(
                "files",
                reqwest::multipart::Part::bytes(file.clone()).file_name("big.bin"),
            );
        http.post(server.url("/api/v1/requests"))
            .bearer_auth(token)
            .timeout(Duration::from_secs(120))
            .multipart(form)
            .send()
    };
    let upload = |server: &crate::support::Spawned, n: u32| upload_as(server, n, &desk.ann);
    let p50 = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    for (name, server) in [("S3", &on_s3), ("local disk", &on_disk)] {
        let (mut up, mut down) = (Vec::new(), Vec::new());
        for n in 0..5 {
            let started = std::time::Instant::now();
            let res = upload(server, n).await.unwrap();
            assert_eq!(res.status(), StatusCode::CREATED);
            up.push(started.elapsed());
            let id = res.json::<serde_json::Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap();
            let detail = desk.detail(&desk.ann, id).await;
            let file_id = detail["attachments"][0]["id"].as_i64().unwrap();
            let started = std::time::Instant::now();
            let got = http
                .get(server.url(&format!("/api/v1/requests/{id}/attachments/{file_id}")))
                .bearer_auth(&desk.ann)
                .timeout(Duration::from_secs(120))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            down.push(started.elapsed());
            assert_eq!(got.len(), file.len());
        }
        eprintln!(
            "10 MiB through {name}: upload p50 {:?}, download p50 {:?}",
            p50(up),
            p50(down)
        );
    }

    // 16 uploads at once to the S3 replica, by four people (each holds at most a share of the
    // upload budget), its memory sampled meanwhile.
    let site = desk.env.add_site("Bulk Ltd", &["bulk.example"], &[]).await;
    let mut people = vec![desk.ann.clone(), desk.bob.clone()];
    for email in ["cat@bulk.example", "dan@bulk.example"] {
        people.push(desk.env.active_customer(email, site, &desk.operator).await);
    }
    let baseline = on_s3.resident();
    let peak = crate::support::Peak::watch(&on_s3, Duration::from_millis(10));
    let started = std::time::Instant::now();
    let all = futures_util::future::join_all(
        (0..16).map(|n| upload_as(&on_s3, 100 + n, &people[n as usize % 4])),
    )
    .await;
    let took = started.elapsed();
    let peak = peak.done().await;
    for res in all {
        assert_eq!(res.unwrap().status(), StatusCode::CREATED);
    }
    let grew = peak.saturating_sub(baseline);
    eprintln!(
        "16 uploads of 10 MiB to S3 at once: {took:?}; memory {} MiB before, {} MiB more at the peak",
        baseline >> 20,
        grew >> 20
    );
    assert!(
        grew < 160 << 20,
        "the files were held in memory: {} MiB",
        grew >> 20
    );
}

/// Uploads to S3 hold their part buffers under one cap for the whole process: sixteen files of
/// 12 MiB going up at once never hold more than 64 MiB of buffers, and all arrive whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part_buffers_stay_under_one_cap() {
    use helpdesk::requests::files::{AttachmentLimits, Files};
    let s3 = S3Server::start().await;
    let store = s3.store("capped");
    let dir = tempfile::tempdir().unwrap();
    let files = Files::new(
        store.clone(),
        AttachmentLimits::default(),
        dir.path().join("staging"),
        1 << 30,
    );
    let mut staged = Vec::new();
    for n in 0..16u8 {
        let bytes: Vec<u8> = (0..12 << 20).map(|i: usize| (i as u8) ^ n).collect();
        staged.push(files.stage_bytes(&bytes).await.unwrap());
    }
    let shas: Vec<String> = staged.iter().map(|s| s.sha256.clone()).collect();
    let puts = staged.into_iter().map(|s| store.put(s));
    for r in futures_util::future::join_all(puts).await {
        r.unwrap();
    }
    let peak = store.peak_buffers_mib();
    assert!(
        (10..=64).contains(&peak),
        "{peak} MiB of part buffers at once"
    );
    for sha in shas {
        let (_, size) = store.open(&sha).await.unwrap();
        assert_eq!(size, 12 << 20);
    }
}
