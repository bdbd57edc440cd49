//! One webhook delivery over HTTP(S), with no way to reach inside: the host name is resolved
//! here, every address it resolves to is checked ([`crate::domain::net::is_internal`], unless
//! an operator allowed its range), and the connection goes to a checked address, so a name
//! that resolves differently a moment later cannot slip through. Redirects are not followed:
//! a 3xx is a failed attempt like any other.

use crate::domain::net::{Cidr, is_internal};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, pki_types::ServerName};

/// How long one attempt may take in all: connecting, TLS, sending and the answer's head.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a URL may not be registered or sent to.
pub fn check_url(url: &str) -> Result<url::Url, String> {
    let u = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err("the URL must start with https:// or http://".into());
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(
            "the URL must not hold a user name or password; the signature proves the sender".into(),
        );
    }
    if u.fragment().is_some() {
        return Err("the URL must not hold a fragment (#…)".into());
    }
    match u.host() {
        None => Err("the URL has no host".into()),
        Some(_) => Ok(u),
    }
}

/// Whether a connection to `ip` may be made: it is not internal, or in a range in `allow`.
pub fn reachable(ip: IpAddr, allow: &[Cidr]) -> bool {
    !is_internal(ip) || allow.iter().any(|c| c.contains(ip))
}

/// The addresses `u`'s host resolves to that may be connected to; an error naming the first
/// refused one when none may.
async fn addresses(u: &url::Url, allow: &[Cidr]) -> Result<Vec<SocketAddr>, String> {
    let port = u.port_or_known_default().unwrap_or(443);
    let all: Vec<SocketAddr> = match u.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(url::Host::Domain(name)) => tokio::net::lookup_host((name, port))
            .await
            .map_err(|e| format!("cannot resolve {name}: {e}"))?
            .collect(),
        None => return Err("the URL has no host".into()),
    };
    let ok: Vec<SocketAddr> = all
        .iter()
        .copied()
        .filter(|a| reachable(a.ip(), allow))
        .collect();
    match (ok.is_empty(), all.first()) {
        (false, _) => Ok(ok),
        (true, Some(a)) => Err(format!(
            "refused: {} is a loopback, private, link-local or reserved address (HELPDESK_WEBHOOK_ALLOW lists ranges that may be reached)",
            a.ip()
        )),
        (true, None) => Err("the host resolves to no address".into()),
    }
}

/// POSTs `body` (JSON) with `headers` to `url`; the answer's status, or why there is none.
pub async fn post(
    url: &str,
    headers: &[(&'static str, String)],
    body: String,
    allow: &[Cidr],
) -> Result<u16, String> {
    tokio::time::timeout(TIMEOUT, attempt(url, headers, body, allow))
        .await
        .map_err(|_| format!("no answer within {} s", TIMEOUT.as_secs()))?
}

async fn attempt(
    url: &str,
    headers: &[(&'static str, String)],
    body: String,
    allow: &[Cidr],
) -> Result<u16, String> {
    let u = check_url(url)?;
    let mut last = String::new();
    let mut tcp = None;
    for a in addresses(&u, allow).await? {
        match tokio::net::TcpStream::connect(a).await {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = format!("cannot connect to {a}: {e}"),
        }
    }
    let tcp = tcp.ok_or(last)?;
    let _ = tcp.set_nodelay(true);
    let host = u.host_str().unwrap_or_default().to_owned();
    let authority = match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let mut request =
        hyper::Request::post(&u[url::Position::BeforePath..url::Position::AfterQuery])
            .header(hyper::header::HOST, authority)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::USER_AGENT, "helpdesk-webhooks");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    if u.scheme() == "https" {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth();
        let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
            .map_err(|e| format!("{host}: {e}"))?;
        let tls = TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {host}: {e}"))?;
        exchange(tls, request).await
    } else {
        exchange(tcp, request).await
    }
}

async fn exchange<T>(io: T, request: hyper::Request<Full<Bytes>>) -> Result<u16, String>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| e.to_string())?;
    let driving = tokio::spawn(connection);
    let answer = sender.send_request(request).await;
    driving.abort();
    answer
        .map(|a| a.status().as_u16())
        .map_err(|e| format!("the receiver did not answer: {e}"))
}
