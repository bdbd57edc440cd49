//! Reading the support mailbox over IMAP (`HELPDESK_IMAP_URL`). Every message in the folder is
//! handed to a [`Receive`] with its place (UIDVALIDITY and UID), then moved to the folder the
//! outcome names (`Processed` or `Failed` by default), so the folder only ever holds mail not
//! yet dealt with. The receiver records each message in the transaction of what it caused,
//! keyed by its Message-ID: a message fetched again (a crash between that commit and the move,
//! or another replica reading the same mailbox) is recognised and only moved on.
//!
//! One message that cannot be dealt with never holds up the ones behind it: it is tried again
//! on the next rounds, and after [`MAX_TRIES`] it is recorded as failed (by its bytes alone) and
//! moved to the failed folder. Messages are fetched a few at a time, at most [`FETCH_BYTES`] of
//! them at once, and moved in batches after each batch is recorded.
//!
//! Waiting uses IDLE where the server offers it, polling otherwise.

use futures_util::TryStreamExt;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, pki_types::ServerName};
use tokio_util::either::Either;

type Stream = Either<TcpStream, TlsStream<TcpStream>>;
type Session = async_imap::Session<Stream>;

/// Where and how to read mail.
#[derive(Clone)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub user: String,
    password: String,
    /// The folder read, `INBOX` unless the URL's path names another.
    pub folder: String,
    /// Where dealt-with mail goes.
    pub processed: String,
    /// Where mail that could not be taken goes.
    pub failed: String,
    /// How long to wait between looks when the server has no IDLE, and at most between looks
    /// when it has.
    pub poll: Duration,
    /// Messages larger than this are not downloaded; they are refused by their headers.
    pub max_message_bytes: u64,
    /// Certificate authorities trusted besides the public ones (`HELPDESK_IMAP_CA`).
    extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl std::fmt::Debug for ImapSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("folder", &self.folder)
            .finish_non_exhaustive()
    }
}

impl ImapSettings {
    /// `imaps://user:password@host[:port][/folder]` (TLS, port 993 by default) or `imap://…`
    /// (plain, port 143; for a server on the same host or a private network). User and
    /// password are percent-encoded as in any URL.
    pub fn from_url(raw: &str) -> Result<ImapSettings, String> {
        let bad = |why: &str| format!("HELPDESK_IMAP_URL is not usable: {why}");
        let url = url::Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
        let tls = match url.scheme() {
            "imaps" => true,
            "imap" => false,
            other => return Err(bad(&format!("the scheme is {other}, not imap or imaps"))),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("no host"))?
            .trim_matches(['[', ']'])
            .to_owned();
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| bad("the user or password is not UTF-8"))
        };
        let user = decode(url.username())?;
        if user.is_empty() {
            return Err(bad("no user"));
        }
        let password = decode(url.password().unwrap_or(""))?;
        let folder = decode(url.path().trim_start_matches('/'))?;
        Ok(ImapSettings {
            host,
            port: url.port().unwrap_or(if tls { 993 } else { 143 }),
            tls,
            user,
            password,
            folder: if folder.is_empty() {
                "INBOX".into()
            } else {
                folder
            },
            processed: "Processed".into(),
            failed: "Failed".into(),
            poll: Duration::from_secs(30),
            max_message_bytes: 25 * 1024 * 1024,
            extra_roots: Vec::new(),
        })
    }

    /// Trusts the certificate authorities of the PEM file at `path` for TLS, besides the
    /// public ones: a mail server whose certificate a private CA issued.
    pub fn trust_pem(&mut self, path: &std::path::Path) -> Result<(), String> {
        use rustls::pki_types::pem::PemObject;
        let bad = |why: String| format!("HELPDESK_IMAP_CA {}: {why}", path.display());
        let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
            .map_err(|e| bad(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("holds no certificate".into()));
        }
        // Each must be usable as a trust anchor, or the connection would fail later, vaguely.
        let mut roots = RootCertStore::empty();
        for c in &certs {
            roots.add(c.clone()).map_err(|e| bad(e.to_string()))?;
        }
        self.extra_roots.extend(certs);
        Ok(())
    }

    /// The URL without its password, for logs.
    pub fn redacted(&self) -> String {
        format!(
            "{}://{}@{}:{}/{}",
            if self.tls { "imaps" } else { "imap" },
            self.user,
            self.host,
            self.port,
            self.folder
        )
    }
}

/// A message's place in the mailbox.
#[derive(Debug, Clone)]
pub struct Place {
    pub mailbox: String,
    pub uid_validity: u32,
    pub uid: u32,
    /// Its size as the server reports it.
    pub size: u64,
}

/// What became of a message: it goes to the processed or the failed folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Processed,
    Failed,
}

/// What mail is handed to.
pub trait Receive: Send + Sync {
    /// Which of the messages at `places` (all in one mailbox of one UIDVALIDITY) were already
    /// dealt with, by UID (they are then only moved on).
    fn known(
        &self,
        places: &[Place],
    ) -> impl Future<Output = Result<Vec<(u32, Disposition)>, String>> + Send;

    /// Records that the message at `place` could not be dealt with, for `why`; it goes to the
    /// failed folder. `raw` is its bytes, as read.
    fn give_up(
        &self,
        raw: &[u8],
        place: &Place,
        why: &str,
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// Deals with one message: `raw` is the whole message, or only its header when it is
    /// larger than the limit `over` gives (`place.size` tells how large). An error leaves it
    /// in the folder to try again.
    fn receive(
        &self,
        raw: &[u8],
        place: &Place,
        over: Option<u64>,
    ) -> impl Future<Output = Result<Disposition, String>> + Send;
}

/// Reads the mailbox until stopped.
#[derive(Debug)]
pub struct Fetcher<R> {
    settings: ImapSettings,
    receiver: Arc<R>,
    /// Failed attempts per message (UIDVALIDITY, UID) on this server.
    failures: std::sync::Mutex<std::collections::HashMap<(u32, u32), u32>>,
}

/// Attempts after which a message that keeps failing is set aside in the failed folder.
pub const MAX_TRIES: u32 = 5;

/// The most message bytes fetched at once (one message larger than this is fetched alone).
pub const FETCH_BYTES: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("IMAP: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("connecting: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// Messages fetched per round trip.
const BATCH: usize = 20;

impl<R: Receive + 'static> Fetcher<R> {
    pub fn new(settings: ImapSettings, receiver: Arc<R>) -> Fetcher<R> {
        Fetcher {
            settings,
            receiver,
            failures: Default::default(),
        }
    }

    pub async fn run(self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        let mut backoff = Duration::from_secs(1);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                result = self.session() => {
                    match result {
                        Ok(()) => backoff = Duration::from_secs(1),
                        Err(e) => {
                            tracing::warn!(mailbox = %self.settings.redacted(), error = %e, retry_in_s = backoff.as_secs(), "mailbox unavailable");
                        }
                    }
                }
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(60));
        }
    }

    /// One connection: deal with what is there, wait for more, again, until an error. The
    /// connection is dropped when the caller stops waiting for it, between or within rounds;
    /// nothing done is undone by that, since each message's outcome is committed before it is
    /// moved.
    async fn session(&self) -> Result<(), Error> {
        let mut session = self.connect().await?;
        for folder in [&self.settings.processed, &self.settings.failed] {
            // Already there is the usual answer.
            let _ = session.create(folder).await;
        }
        let caps = session.capabilities().await?;
        let idle = caps.has_str("IDLE");
        let moves = caps.has_str("MOVE");
        tracing::info!(mailbox = %self.settings.redacted(), idle, "reading the support mailbox");
        loop {
            let mailbox = session.select(&self.settings.folder).await?;
            let uid_validity = mailbox.uid_validity.unwrap_or(0);
            let mut uids: Vec<u32> = session.uid_search("ALL").await?.into_iter().collect();
            uids.sort_unstable();
            let mut moved = 0;
            for chunk in uids.chunks(BATCH) {
                moved += self
                    .deal_with(&mut session, chunk, uid_validity, moves)
                    .await?;
            }
            if moved > 0 {
                // Look again at once: more may have come while these were dealt with.
                continue;
            }
            session = if idle {
                wait_idle(session, self.settings.poll).await?
            } else {
                tokio::time::sleep(self.settings.poll).await;
                session
            };
        }
    }

    /// Deals with the messages `uids`; returns how many left the folder.
    async fn deal_with(
        &self,
        session: &mut Session,
        uids: &[u32],
        uid_validity: u32,
        moves: bool,
    ) -> Result<usize, Error> {
        let set = uid_set(uids);
        let sizes: Vec<(u32, u64)> = session
            .uid_fetch(&set, "(UID RFC822.SIZE)")
            .await?
            .try_filter_map(
                |f| async move { Ok(f.uid.map(|u| (u, u64::from(f.size.unwrap_or(0))))) },
            )
            .try_collect()
            .await?;
        let places: Vec<Place> = sizes
            .into_iter()
            .map(|(uid, size)| Place {
                mailbox: self.settings.folder.clone(),
                uid_validity,
                uid,
                size,
            })
            .collect();
        let known = self.receiver.known(&places).await.map_err(Error::Other)?;
        let mut moved = self.move_all(session, &known, moves).await?;
        let fresh: Vec<&Place> = places
            .iter()
            .filter(|p| !known.iter().any(|(u, _)| *u == p.uid))
            .collect();
        for group in fetch_groups(&fresh, self.settings.max_message_bytes) {
            let too_large = group[0].size > self.settings.max_message_bytes;
            let query = if too_large {
                "(UID BODY.PEEK[HEADER])"
            } else {
                "(UID BODY.PEEK[])"
            };
            let uids: Vec<u32> = group.iter().map(|p| p.uid).collect();
            let fetched: Vec<(u32, Vec<u8>)> = session
                .uid_fetch(uid_set(&uids), query)
                .await?
                .try_filter_map(|f| async move {
                    let bytes = if too_large { f.header() } else { f.body() };
                    Ok(f.uid.zip(bytes.map(<[u8]>::to_vec)))
                })
                .try_collect()
                .await?;
            let mut done = Vec::new();
            for (uid, raw) in fetched {
                let Some(place) = group.iter().find(|p| p.uid == uid) else {
                    continue;
                };
                let over = too_large.then_some(self.settings.max_message_bytes);
                match self.receiver.receive(&raw, place, over).await {
                    Ok(d) => {
                        self.forget(place);
                        done.push((uid, d));
                    }
                    Err(why) => {
                        if self.give_up(&raw, place, &why).await {
                            done.push((uid, Disposition::Failed));
                        }
                    }
                }
            }
            // Each outcome is committed: a crash before the move leaves them to be found
            // already dealt with, and only moved on.
            moved += self.move_all(session, &done, moves).await?;
        }
        Ok(moved)
    }

    /// Counts a failed attempt at the message at `place`; after [`MAX_TRIES`] records it as
    /// failed. Returns whether it is set aside.
    async fn give_up(&self, raw: &[u8], place: &Place, why: &str) -> bool {
        let tries = {
            let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            let n = f.entry((place.uid_validity, place.uid)).or_default();
            *n += 1;
            *n
        };
        if tries < MAX_TRIES {
            tracing::warn!(mailbox = %self.settings.redacted(), uid = place.uid, tries, error = %why, "a message could not be dealt with; trying the others, and it again later");
            return false;
        }
        let why = format!("could not be dealt with in {tries} attempts: {why}");
        match self.receiver.give_up(raw, place, &why).await {
            Ok(()) => {
                tracing::error!(mailbox = %self.settings.redacted(), uid = place.uid, error = %why, "a message set aside in the failed folder");
                self.forget(place);
                true
            }
            Err(e) => {
                tracing::warn!(mailbox = %self.settings.redacted(), uid = place.uid, error = %e, "could not record a failed message");
                false
            }
        }
    }

    fn forget(&self, place: &Place) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(place.uid_validity, place.uid));
    }

    /// Moves each message to its disposition's folder, one command per folder; returns how
    /// many moved.
    async fn move_all(
        &self,
        session: &mut Session,
        outcomes: &[(u32, Disposition)],
        moves: bool,
    ) -> Result<usize, Error> {
        for d in [Disposition::Processed, Disposition::Failed] {
            let uids: Vec<u32> = outcomes
                .iter()
                .filter(|(_, x)| *x == d)
                .map(|(u, _)| *u)
                .collect();
            if !uids.is_empty() {
                self.move_to(session, &uids, d, moves).await?;
            }
        }
        Ok(outcomes.len())
    }

    async fn move_to(
        &self,
        session: &mut Session,
        uids: &[u32],
        d: Disposition,
        moves: bool,
    ) -> Result<(), Error> {
        let folder = match d {
            Disposition::Processed => &self.settings.processed,
            Disposition::Failed => &self.settings.failed,
        };
        let set = uid_set(uids);
        if moves {
            session.uid_mv(&set, folder).await?;
        } else {
            session.uid_copy(&set, folder).await?;
            let _: Vec<_> = session
                .uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
                .await?
                .try_collect()
                .await?;
            let _: Vec<_> = session.uid_expunge(&set).await?.try_collect().await?;
        }
        Ok(())
    }

    async fn connect(&self) -> Result<Session, Error> {
        let s = &self.settings;
        let tcp = tokio::time::timeout(
            Duration::from_secs(15),
            TcpStream::connect((s.host.as_str(), s.port)),
        )
        .await
        .map_err(|_| Error::Other(format!("connecting to {}:{} timed out", s.host, s.port)))??;
        tcp.set_nodelay(true)?;
        let stream: Stream = if s.tls {
            let mut roots = RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            for c in &s.extra_roots {
                roots
                    .add(c.clone())
                    .map_err(|e| Error::Other(format!("HELPDESK_IMAP_CA: {e}")))?;
            }
            let config = ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Other(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
            let name = ServerName::try_from(s.host.clone())
                .map_err(|e| Error::Other(format!("{}: {e}", s.host)))?;
            Either::Right(
                TlsConnector::from(Arc::new(config))
                    .connect(name, tcp)
                    .await?,
            )
        } else {
            Either::Left(tcp)
        };
        let mut client = async_imap::Client::new(stream);
        client
            .read_response()
            .await?
            .ok_or_else(|| Error::Other("the server closed the connection at once".into()))?;
        client
            .login(&s.user, &s.password)
            .await
            .map_err(|(e, _)| Error::Other(format!("login as {} refused: {e}", s.user)))
    }
}

/// Waits in IDLE until the server reports a change or `most` passes.
async fn wait_idle(session: Session, most: Duration) -> Result<Session, Error> {
    // A change reported while IDLE starts arrives as an unsolicited response, not as IDLE data.
    let unsolicited = session.unsolicited_responses.clone();
    while unsolicited.try_recv().is_ok() {}
    let mut idle = session.idle();
    idle.init().await?;
    if unsolicited.is_empty() {
        let (wait, _interrupt) = idle.wait_with_timeout(most);
        wait.await?;
    }
    Ok(idle.done().await?)
}

/// `places` in groups fetched together: messages up to `max` bytes, several at a time up to
/// [`FETCH_BYTES`] in all; larger ones (whose header alone is read) in a group of their own kind.
fn fetch_groups<'a>(places: &[&'a Place], max: u64) -> Vec<Vec<&'a Place>> {
    let mut groups: Vec<Vec<&'a Place>> = Vec::new();
    let mut bytes = 0u64;
    let (whole, headers): (Vec<&Place>, Vec<&Place>) =
        places.iter().copied().partition(|p| p.size <= max);
    for p in whole {
        match groups.last_mut() {
            Some(g) if bytes + p.size <= FETCH_BYTES => {
                g.push(p);
                bytes += p.size;
            }
            _ => {
                groups.push(vec![p]);
                bytes = p.size;
            }
        }
    }
    if !headers.is_empty() {
        groups.push(headers);
    }
    groups
}

/// `1,2,5` as IMAP writes a set of UIDs.
fn uid_set(uids: &[u32]) -> String {
    let unique: HashSet<&u32> = uids.iter().collect();
    let mut v: Vec<&u32> = unique.into_iter().collect();
    v.sort_unstable();
    v.iter()
        .map(|u| u.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let s =
            ImapSettings::from_url("imaps://support%40acme.example:p%40ss@mail.example/Support")
                .unwrap();
        assert_eq!(s.user, "support@acme.example");
        assert_eq!(s.password, "p@ss");
        assert_eq!(
            (s.host.as_str(), s.port, s.tls),
            ("mail.example", 993, true)
        );
        assert_eq!(s.folder, "Support");
        assert!(!format!("{s:?}").contains("p@ss"));
        assert!(!s.redacted().contains("p@ss"));
        let s = ImapSettings::from_url("imap://u:p@127.0.0.1:1143").unwrap();
        assert_eq!((s.port, s.tls, s.folder.as_str()), (1143, false, "INBOX"));
        assert!(ImapSettings::from_url("http://u:p@h").is_err());
        assert!(ImapSettings::from_url("imap://h").is_err());
    }
}
