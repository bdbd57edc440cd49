//! Replicas on different hosts, as deployed: nginx in front of two `helpdesk serve` processes,
//! each with its own data folder, on one PostgreSQL database and one S3 server. Under steady
//! load (logins from many clients, new requests with files, replies, downloads) one replica is
//! restarted, then the other, and a plugin is swapped: no request fails, every file reads back
//! through both replicas, and every email is sent once. A client's own `Forwarded` and
//! `X-Forwarded-For` never make it someone else: per-address limits and sessions see the address
//! nginx saw.

use crate::support::{self, Backend, S3Server, Spawned, TestDb, free_addr};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// nginx from Debian's package, in front of `upstreams`, on a port of its own.
struct Nginx {
    child: std::process::Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Listens on `addr`; the upstreams must be serving already.
    async fn start(addr: SocketAddr, upstreams: &[SocketAddr]) -> Nginx {
        let dir = tempfile::tempdir().expect("nginx dir");
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let servers: String = upstreams
            .iter()
            .map(|a| format!("    server {a} max_fails=1 fail_timeout=1s;\n"))
            .collect();
        let d = dir.path().display();
        let conf = format!(
            "{user}worker_processes 1;\ndaemon off;\nerror_log {d}/error.log warn;\npid {d}/nginx.pid;\n\
             events {{ worker_connections 512; }}\n\
             http {{\n  access_log off;\n  client_max_body_size 64m;\n  client_body_buffer_size 1m;\n\
               client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
               uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
               upstream helpdesk {{\n{servers}  }}\n\
               server {{\n    listen {addr};\n    location / {{\n      proxy_pass http://helpdesk;\n\
                 proxy_next_upstream error timeout http_502 http_503;\n\
                 proxy_set_header Host $host;\n\
                 proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
                 proxy_set_header X-Forwarded-Proto $scheme;\n    }}\n  }}\n}}\n",
            user = if root { "user root;\n" } else { "" },
        );
        let path = support::write_file(dir.path(), "nginx.conf", conf.as_bytes());
        let nginx = std::env::var("HELPDESK_NGINX").unwrap_or_else(|_| "/usr/sbin/nginx".into());
        assert!(
            std::path::Path::new(&nginx).exists(),
            "this test needs nginx at {nginx}: install Debian's `nginx` package (.ci/run does) or set HELPDESK_NGINX"
        );
        let child = std::process::Command::new(nginx)
            .args(["-c", path.to_str().unwrap(), "-p", &d.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start nginx");
        let n = Nginx {
            child,
            addr,
            _dir: dir,
        };
        let up = async {
            loop {
                if let Ok(r) = support::client().get(n.url("/healthz")).send().await
                    && r.status() == StatusCode::OK
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), up)
            .await
            .expect("nginx starts");
        n
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the load did: operations, failures (with what failed), files stored.
#[derive(Default)]
struct Tally {
    ops: AtomicU64,
    failures: Mutex<Vec<String>>,
    /// (request id, file id, bytes).
    files: Mutex<Vec<(i64, i64, Vec<u8>)>>,
    requests: Mutex<Vec<i64>>,
}

impl Tally {
    async fn check(
        &self,
        what: &str,
        r: Result<reqwest::Response, reqwest::Error>,
        ok: StatusCode,
    ) -> Option<reqwest::Response> {
        self.ops.fetch_add(1, Ordering::Relaxed);
        match r {
            Ok(res) if res.status() == ok => Some(res),
            Ok(res) => {
                let status = res.status();
                let body = res.text().await.unwrap_or_default();
                self.failures
                    .lock()
                    .await
                    .push(format!("{what}: {status} {body}"));
                None
            }
            Err(e) => {
                self.failures.lock().await.push(format!("{what}: {e}"));
                None
            }
        }
    }
}

/// Four clients looping through `base` until `running` turns false: a login from an address of
/// its own, a new request with a file, a reply, the request read, the file read back.
fn load(
    base: &str,
    ann: &str,
    tally: &Arc<Tally>,
    running: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut load = Vec::new();
    for worker in 0..4u8 {
        let (tally, running, base, ann) = (
            tally.clone(),
            running.clone(),
            base.to_owned(),
            ann.to_owned(),
        );
        load.push(tokio::spawn(async move {
            let http = support::client();
            let mut n: u32 = 0;
            while running.load(Ordering::Relaxed) {
                n += 1;
                // A login from a client of its own, told apart behind the proxy by the loopback
                // address it connects from (nginx trusts none of them).
                let login = from_address(loopback(worker + 1, n))
                    .post(format!("{base}/api/v1/login"))
                    .json(&json!({ "email": "bob@acme.example", "password": crate::accounts::PASSWORD }))
                    .send()
                    .await;
                tally.check("login", login, StatusCode::OK).await;
                // A new request with a file, a reply, and the file read back.
                let bytes: Vec<u8> = (0..(64 << 10) + usize::from(worker) * 1000 + n as usize)
                    .map(|i| (i as u32 ^ n) as u8)
                    .collect();
                let form = Form::new()
                    .text("subject", format!("Load {worker}-{n}"))
                    .text("description", "Under load.")
                    .part("files", Part::bytes(bytes.clone()).file_name("load.bin"));
                let created = http
                    .post(format!("{base}/api/v1/requests"))
                    .bearer_auth(&ann)
                    .multipart(form)
                    .send()
                    .await;
                let Some(res) = tally.check("new request", created, StatusCode::CREATED).await else {
                    continue;
                };
                let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
                tally.requests.lock().await.push(id);
                let reply = http
                    .post(format!("{base}/api/v1/requests/{id}/messages"))
                    .bearer_auth(&ann)
                    .json(&json!({ "body": "More detail." }))
                    .send()
                    .await;
                tally.check("reply", reply, StatusCode::CREATED).await;
                let detail = http
                    .get(format!("{base}/api/v1/requests/{id}"))
                    .bearer_auth(&ann)
                    .send()
                    .await;
                let Some(res) = tally.check("detail", detail, StatusCode::OK).await else {
                    continue;
                };
                let file = res.json::<Value>().await.unwrap()["attachments"][0]["id"]
                    .as_i64()
                    .unwrap();
                let got = http
                    .get(format!("{base}/api/v1/requests/{id}/attachments/{file}"))
                    .bearer_auth(&ann)
                    .send()
                    .await;
                if let Some(res) = tally.check("download", got, StatusCode::OK).await {
                    match res.bytes().await {
                        Ok(b) if b.as_ref() == bytes.as_slice() => {}
                        other => tally
                            .failures
                            .lock()
                            .await
                            .push(format!("download of {id}: {} bytes", other.map_or(0, |b| b.len()))),
                    }
                }
                tally.files.lock().await.push((id, file, bytes));
            }
        }));
    }

    load
}

/// A loopback address of its own for client `n` of group `group` (1 to 250).
fn loopback(group: u8, n: u32) -> std::net::IpAddr {
    std::net::Ipv4Addr::new(127, group, (n / 250 % 250) as u8, (n % 250 + 1) as u8).into()
}

/// An HTTP client whose connections come from `ip`.
fn from_address(ip: std::net::IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// A client behind nginx claims other addresses in `Forwarded` and `X-Forwarded-For`: it is
/// still counted and recorded as the address nginx saw.
async fn forged_forwarding_headers_change_nothing(nginx: &Nginx, operator: &str) {
    let me = loopback(250, 7);
    let http = from_address(me);
    // Sign-ups are limited to 20 an hour per address: new claims buy no more.
    let mut statuses = Vec::new();
    for i in 0..24 {
        let res = http
            .post(nginx.url("/api/v1/signup"))
            .header("forwarded", format!("for=203.0.113.{i}"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&json!({ "email": format!("visitor{i}@acme.example") }))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        4,
        "sign-ups beyond the limit of one address: {statuses:?}"
    );
    // The audit log records the address nginx saw.
    let audit: Value = http
        .get(nginx.url("/api/v1/audit?limit=500"))
        .bearer_auth(operator)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let addresses: std::collections::BTreeSet<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["event"] == "signup_started"
                && e["email"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("visitor"))
        })
        .map(|e| e["ip"].as_str().unwrap())
        .collect();
    assert_eq!(
        addresses,
        std::collections::BTreeSet::from([me.to_string().as_str()]),
        "{audit}"
    );
}

/// Operations per second of [`load`] through `base` for `secs` seconds; none may fail.
async fn throughput(base: &str, ann: &str, secs: u64) -> f64 {
    let tally = Arc::new(Tally::default());
    let running = Arc::new(AtomicBool::new(true));
    let started = Instant::now();
    let clients = load(base, ann, &tally, &running);
    tokio::time::sleep(Duration::from_secs(secs)).await;
    running.store(false, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let failures = tally.failures.lock().await.clone();
    assert!(failures.is_empty(), "{failures:#?}");
    tally.ops.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::test]
async fn replicas_behind_nginx_restart_and_swap_without_a_failed_request() {
    let t = TestDb::new(Backend::Postgres).await;
    let s3 = S3Server::start().await;
    // The people and the site, made through a server on the same database and bucket.
    let desk = crate::storage::desk_on(&t, &s3, "files").await;

    let (a, b, front) = (free_addr(), free_addr(), free_addr());
    let mut env = s3.serve_env(&s3.bucket, "files");
    env.extend(
        [
            ("HELPDESK_SMTP_URL", desk.env.sink.url()),
            ("HELPDESK_PUBLIC_URL", format!("http://{front}")),
            ("HELPDESK_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
            ("HELPDESK_DRAIN_SECONDS", "2".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let start = |addr: SocketAddr, data: tempfile::TempDir| {
        let (env, db_url) = (&env, &t.url);
        async move { Spawned::start_at(addr, data, Some(db_url), env).await }
    };
    let mut replica_a = start(a, tempfile::tempdir().unwrap()).await;
    let mut replica_b = start(b, tempfile::tempdir().unwrap()).await;
    let nginx = Nginx::start(front, &[a, b]).await;
    forged_forwarding_headers_change_nothing(&nginx, &desk.operator).await;

    // The same load through nginx with one replica behind it, then with both.
    let solo = Nginx::start(free_addr(), &[a]).await;
    let one = throughput(&solo.url(""), &desk.ann, 4).await;
    drop(solo);
    let two = throughput(&nginx.url(""), &desk.ann, 4).await;
    eprintln!(
        "replicas: {one:.0} requests/s through nginx with one replica, {two:.0}/s with two ({:.2}×; all on one machine)",
        two / one
    );

    // Steady load through nginx, through a rolling restart and a plugin swap.
    let tally = Arc::new(Tally::default());
    let running = Arc::new(AtomicBool::new(true));
    let clients = load(&nginx.url(""), &desk.ann, &tally, &running);

    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    // A rolling restart: one replica at a time, the next once the first is ready again.
    let data = replica_a.stop().await;
    replica_a = start(a, data).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let data = replica_b.stop().await;
    replica_b = start(b, data).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // And a plugin swap, from the CLI on one replica's host.
    let wasm = support::write_file(
        replica_a.data.path(),
        "workflow.wasm",
        helpdesk_bundled_plugins::WORKFLOW_DEFAULT.wasm,
    );
    let out = replica_a.command(&[
        "plugin",
        "install",
        "ticket-workflow",
        wasm.to_str().unwrap(),
        "--activate",
    ]);
    assert!(out.contains("as plugin #"), "{out}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    running.store(false, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let took = started.elapsed();

    let failures = tally.failures.lock().await.clone();
    let ops = tally.ops.load(Ordering::Relaxed);
    eprintln!(
        "replicas: {ops} requests through nginx in {took:?} ({:.0}/s) across two restarts and a swap, {} failed",
        ops as f64 / took.as_secs_f64(),
        failures.len()
    );
    if !failures.is_empty() {
        let log = std::fs::read_to_string(nginx._dir.path().join("error.log")).unwrap_or_default();
        let tail: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("[error]"))
            .take(5)
            .collect();
        panic!(
            "{} failed, first: {:#?}\nnginx said: {tail:#?}",
            failures.len(),
            &failures[..failures.len().min(3)]
        );
    }
    assert!(ops > 100, "too little load to prove anything: {ops}");

    // Every file reads back whole through each replica.
    let http = support::client();
    for (id, file, bytes) in tally.files.lock().await.iter() {
        for replica in [&replica_a, &replica_b] {
            let res = http
                .get(replica.url(&format!("/api/v1/requests/{id}/attachments/{file}")))
                .bearer_auth(&desk.ann)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.bytes().await.unwrap().as_ref(), bytes.as_slice());
        }
    }

    // Every request was confirmed to its requester by email, once.
    let ids = tally.requests.lock().await.clone();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mail = desk.env.sink.to("ann@acme.example");
        let counts: Vec<usize> = ids
            .iter()
            .map(|id| {
                let number = format!("REQ-{id}");
                mail.iter()
                    .filter(|m| {
                        m.subject.contains(&format!("[{number}]"))
                            && m.subject.contains("We received your request")
                    })
                    .count()
            })
            .collect();
        assert!(
            counts.iter().all(|c| *c <= 1),
            "an email was sent twice: {counts:?}"
        );
        if counts.iter().all(|c| *c == 1) {
            break;
        }
        assert!(Instant::now() < deadline, "emails missing: {counts:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut ids_seen = std::collections::HashSet::new();
    for m in desk.env.sink.all() {
        let id = m
            .raw
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
            .map(str::to_owned)
            .unwrap_or_default();
        assert!(
            ids_seen.insert(id.clone()) || id.is_empty(),
            "sent twice: {id}"
        );
    }
}
