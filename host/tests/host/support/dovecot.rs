//! A real IMAP server for the tests: Dovecot (Debian's `dovecot-imapd`), started on a free
//! loopback port with a throwaway configuration, one user and a Maildir in a temporary folder.
//! Messages go in with IMAP APPEND, as a mail server's delivery would put them.

use async_imap::Session;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

pub struct Dovecot {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
    /// With TLS: the port IMAPS listens on, and the PEM of the CA that issued its certificate.
    pub tls: Option<(u16, String)>,
}

/// A certificate authority of the test's own, and a certificate it issued for `localhost`:
/// (the CA's PEM, the server's certificate PEM, its key PEM).
fn private_ca() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Helpdesk test CA");
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = KeyPair::generate().expect("server key");
    let params = CertificateParams::new(vec!["localhost".to_owned()]).expect("server params");
    let cert = params.signed_by(&key, &issuer).expect("server certificate");
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

pub const USER: &str = "support";
const PASSWORD: &str = "imap-test-secret";

fn binary() -> &'static str {
    if Path::new("/usr/sbin/dovecot").exists() {
        "/usr/sbin/dovecot"
    } else {
        "dovecot"
    }
}

/// Users the server's processes run as: Dovecot will not run its login process as root, so
/// as root it uses the accounts its package creates; otherwise everything runs as the caller.
fn accounts() -> (String, String, String) {
    use std::os::unix::fs::MetadataExt;
    if std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0) {
        ("dovenull".into(), "dovecot".into(), "dovecot".into())
    } else {
        let me = std::env::var("USER").expect("USER names the account the tests run as");
        (me.clone(), me.clone(), me)
    }
}

impl Dovecot {
    pub async fn start() -> Dovecot {
        Dovecot::start_with(false).await
    }

    /// A Dovecot that also speaks IMAPS, with a certificate from a private CA.
    pub async fn start_tls() -> Dovecot {
        Dovecot::start_with(true).await
    }

    async fn start_with(tls: bool) -> Dovecot {
        let dir = tempfile::tempdir().expect("dovecot dir");
        let root = dir.path();
        // The mail processes run as another user when the tests run as root.
        set_mode(root, 0o755);
        for sub in ["mail", "home"] {
            std::fs::create_dir_all(root.join(sub)).expect("dovecot folders");
            set_mode(&root.join(sub), 0o777);
        }
        let port = free_port();
        let (login, internal, mail) = accounts();
        let tls = tls.then(|| {
            let (ca, cert, key) = private_ca();
            std::fs::write(root.join("cert.pem"), cert).expect("cert.pem");
            std::fs::write(root.join("key.pem"), key).expect("key.pem");
            set_mode(&root.join("key.pem"), 0o644);
            (free_port(), ca)
        });
        let ssl = match &tls {
            Some(_) => format!(
                "ssl = yes\nssl_cert = <{root}/cert.pem\nssl_key = <{root}/key.pem\n",
                root = root.display()
            ),
            None => "ssl = no\n".to_owned(),
        };
        let imaps_port = tls.as_ref().map_or(0, |(p, _)| *p);
        let conf = format!(
            r#"base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login}
default_internal_user = {internal}
default_internal_group = {internal}
first_valid_uid = 0
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = static
  args = uid={mail} gid={mail} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
"#,
            root = root.display()
        );
        std::fs::write(root.join("dovecot.conf"), conf).expect("dovecot.conf");
        std::fs::write(root.join("users"), format!("{USER}:{{PLAIN}}{PASSWORD}\n"))
            .expect("dovecot users");
        set_mode(&root.join("users"), 0o644);
        let child = Command::new(binary())
            .arg("-F")
            .arg("-c")
            .arg(root.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start dovecot (apt-get install dovecot-imapd)");
        let d = Dovecot {
            port,
            dir,
            child,
            tls,
        };
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut s) = d.try_session().await {
                let _ = s.logout().await;
                break;
            }
            assert!(
                Instant::now() < until,
                "dovecot did not start:\n{}",
                d.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        d
    }

    /// `HELPDESK_IMAP_URL` for the support mailbox.
    pub fn url(&self) -> String {
        format!("imap://{USER}:{PASSWORD}@127.0.0.1:{}/INBOX", self.port)
    }

    /// `HELPDESK_IMAP_URL` over TLS (a server started with [`Dovecot::start_tls`]).
    pub fn tls_url(&self) -> String {
        let (port, _) = self.tls.as_ref().expect("a TLS server");
        format!("imaps://{USER}:{PASSWORD}@localhost:{port}/INBOX")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    async fn try_session(&self) -> Result<Session<TcpStream>, String> {
        let tcp = TcpStream::connect(("127.0.0.1", self.port))
            .await
            .map_err(|e| e.to_string())?;
        let mut client = async_imap::Client::new(tcp);
        client
            .read_response()
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no greeting")?;
        client
            .login(USER, PASSWORD)
            .await
            .map_err(|(e, _)| e.to_string())
    }

    pub async fn session(&self) -> Session<TcpStream> {
        self.try_session().await.expect("imap session")
    }

    /// Puts a message into the INBOX, as delivery would.
    pub async fn append(&self, raw: &[u8]) {
        let mut s = self.session().await;
        s.append("INBOX", None, None, raw).await.expect("APPEND");
        let _ = s.logout().await;
    }

    /// Messages in `folder`, `0` for a folder not made yet.
    pub async fn count(&self, folder: &str) -> u32 {
        let mut s = self.session().await;
        let n = match s.status(folder, "(MESSAGES)").await {
            Ok(m) => m.exists,
            Err(_) => 0,
        };
        let _ = s.logout().await;
        n
    }

    /// Waits until `folder` holds `n` messages.
    pub async fn wait_for(&self, folder: &str, n: u32) {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let have = self.count(folder).await;
            if have >= n {
                return;
            }
            assert!(
                Instant::now() < until,
                "{folder} holds {have} messages, not {n}; dovecot log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A free port on this machine for a server a test starts, which binds it a moment later.
///
/// Taken below the kernel's ephemeral range, where nothing else binds "any free port" or opens
/// outgoing connections, and never the same twice in this process: a port from
/// `bind(127.0.0.1:0)` could be handed to another listener or client between the check and the
/// server's own bind.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    let base = ephemeral_low.saturating_sub(SPAN).max(1_024);
    // Test binaries of one run start at different places, so they rarely try the same ports.
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id() % SPAN,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    for _ in 0..SPAN {
        let port = (base + NEXT.fetch_add(1, Ordering::Relaxed) % SPAN) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {base}..{}", base + SPAN)
}
