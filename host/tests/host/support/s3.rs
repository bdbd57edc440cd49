//! An S3-compatible server for the storage tests: moto's server mode, from the Python registry.

use super::*;

/// An S3-compatible server (moto's server mode, from the Python package registry) on a free
/// port, with one empty bucket; stopped when dropped.
pub struct S3Server {
    child: std::process::Child,
    pub endpoint: String,
    pub bucket: String,
}

impl S3Server {
    pub async fn start() -> S3Server {
        let moto = python_tool(
            "HELPDESK_MOTO_SERVER",
            "moto-venv",
            "tests/s3/requirements.txt",
            "moto_server",
        );
        let port = free_port();
        let child = std::process::Command::new(moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start moto_server");
        let endpoint = format!("http://127.0.0.1:{port}");
        let bucket = format!("helpdesk-{}", BUCKETS.fetch_add(1, Ordering::Relaxed));
        let s = S3Server {
            child,
            endpoint,
            bucket,
        };
        let up = async {
            loop {
                if let Ok(r) = client()
                    .put(format!("{}/{}", s.endpoint, s.bucket))
                    .send()
                    .await
                    && r.status().is_success()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), up)
            .await
            .expect("the S3 server starts within a minute");
        s
    }

    /// The settings a server would take from `AWS_*`.
    pub fn settings(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT", self.endpoint.as_str()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "helpdesk-test"),
            ("AWS_SECRET_ACCESS_KEY", "helpdesk-test-secret"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// The Python that came with the server, which has boto3 (what the `aws` command uses).
    pub fn python(&self) -> std::path::PathBuf {
        python_tool(
            "HELPDESK_MOTO_SERVER",
            "moto-venv",
            "tests/s3/requirements.txt",
            "moto_server",
        )
        .with_file_name("python")
    }

    /// What `helpdesk serve` is given to keep attachments under `prefix` of `bucket` here: the
    /// `AWS_*` settings and `HELPDESK_BLOB_URL`.
    pub fn serve_env(&self, bucket: &str, prefix: &str) -> Vec<(String, String)> {
        let mut env = self.settings();
        env.push((
            "HELPDESK_BLOB_URL".into(),
            format!("s3://{bucket}/{prefix}"),
        ));
        env
    }

    /// A server on `t` keeping attachments under `prefix` of this server's bucket, emailing
    /// through `sink` if any.
    pub async fn replica(&self, t: &TestDb, prefix: &str, sink: Option<&SmtpSink>) -> TestServer {
        TestServer::with(
            &t.db,
            Options {
                smtp: sink.map(SmtpSink::url),
                blobs: Some(self.store(prefix) as Arc<dyn BlobStore>),
                ..Options::default()
            },
        )
        .await
    }

    /// A store on this server's bucket, under `prefix`.
    pub fn store(&self, prefix: &str) -> Arc<helpdesk::requests::files::s3::S3Store> {
        Arc::new(
            helpdesk::requests::files::s3::S3Store::connect(
                &format!("s3://{}/{prefix}", self.bucket),
                self.settings(),
            )
            .expect("S3 store"),
        )
    }
}

static BUCKETS: AtomicU32 = AtomicU32::new(0);

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
