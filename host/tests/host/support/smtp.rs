//! A real SMTP server on a loopback port (mailin-embedded) that keeps what it receives.

use super::*;

/// A message as an SMTP server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub raw: String,
}

impl Received {
    /// The first absolute link in the plain-text part that contains `fragment`.
    pub fn link(&self, fragment: &str) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains(fragment))
            .unwrap_or_else(|| panic!("no link with {fragment} in {:?}", self.text))
            .to_owned()
    }

    /// The six-digit code in a verification email.
    pub fn code(&self) -> String {
        self.text
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or_else(|| panic!("no code in {:?}", self.text))
            .to_owned()
    }
}

/// A real SMTP server (mailin-embedded) on a loopback port, keeping what it receives.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
    refused: Arc<Mutex<Vec<String>>>,
    stall: Arc<Mutex<Duration>>,
}

#[derive(Clone)]
struct SinkHandler {
    inbox: Arc<Mutex<Vec<Received>>>,
    refused: Arc<Mutex<Vec<String>>>,
    /// How long the server takes to say it accepted a message it already keeps.
    stall: Arc<Mutex<Duration>>,
    to: Vec<String>,
    buf: Vec<u8>,
}

impl mailin_embedded::Handler for SinkHandler {
    fn rcpt(&mut self, to: &str) -> mailin_embedded::Response {
        let to = to.trim_matches(|c| c == '<' || c == '>');
        if self.refused.lock().unwrap().iter().any(|r| r == to) {
            mailin_embedded::response::NO_MAILBOX
        } else {
            mailin_embedded::response::OK
        }
    }

    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.to = to.to_vec();
        self.buf.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let raw = String::from_utf8_lossy(&self.buf).into_owned();
        let parsed = mail_parser::MessageParser::default().parse(&self.buf);
        if let Some(m) = parsed {
            let from = m
                .from()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_owned();
            let received = Received {
                to: self.to.clone(),
                from,
                subject: m.subject().unwrap_or_default().to_owned(),
                text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
                html: m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
                raw,
            };
            self.inbox.lock().unwrap().push(received);
        }
        let stall = *self.stall.lock().unwrap();
        std::thread::sleep(stall);
        mailin_embedded::response::OK
    }
}

impl SmtpSink {
    /// Starts a server on a free port.
    pub fn start() -> SmtpSink {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind smtp");
        let port = listener.local_addr().expect("addr").port();
        SmtpSink::serve(listener, port)
    }

    /// Starts a server on `port`, which must be free (a "down" server coming back).
    pub fn start_on(port: u16) -> SmtpSink {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind smtp port");
        SmtpSink::serve(listener, port)
    }

    fn serve(listener: std::net::TcpListener, port: u16) -> SmtpSink {
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(Vec::new()));
        let stall = Arc::new(Mutex::new(Duration::ZERO));
        let handler = SinkHandler {
            inbox: inbox.clone(),
            refused: refused.clone(),
            stall: stall.clone(),
            to: Vec::new(),
            buf: Vec::new(),
        };
        let mut server = mailin_embedded::Server::new(handler);
        server
            .with_name("sink.test")
            .with_ssl(mailin_embedded::SslConfig::None)
            .expect("no tls")
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        SmtpSink {
            port,
            inbox,
            refused,
            stall,
        }
    }

    /// From now on, keeps each message and waits `stall` before saying it accepted it.
    pub fn stall(&self, stall: Duration) {
        *self.stall.lock().unwrap() = stall;
    }

    /// From now on, refuses mail to `address` for good (550), as a server does for a mailbox
    /// that does not exist.
    pub fn refuse(&self, address: &str) {
        self.refused.lock().unwrap().push(address.to_owned());
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn all(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().clone()
    }

    /// Every message to `to` so far.
    pub fn to(&self, to: &str) -> Vec<Received> {
        self.all()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == to))
            .collect()
    }

    /// Waits (up to 10 s) for the `n`th message (1-based) to `to` whose subject contains
    /// `subject`.
    pub async fn wait(&self, to: &str, subject: &str, n: usize) -> Received {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let found: Vec<Received> = self
                .to(to)
                .into_iter()
                .filter(|m| m.subject.contains(subject))
                .collect();
            if found.len() >= n {
                return found[n - 1].clone();
            }
            if std::time::Instant::now() > deadline {
                panic!(
                    "no message {n} to {to} about {subject:?}; received: {:#?}",
                    self.all()
                        .iter()
                        .map(|m| (&m.to, &m.subject))
                        .collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
