//! Who the client is behind a reverse proxy. Only a peer in `HELPDESK_TRUSTED_PROXIES` is
//! believed about the client, only by the one header that proxy writes (`HELPDESK_PROXY_HEADER`:
//! `X-Forwarded-For` unless set), and then only as far as the chain of trusted proxies goes: the
//! client is the right-most address that is not a trusted proxy. Every other header is ignored,
//! whoever sends it: a proxy that appends to `X-Forwarded-For` passes a client's own `Forwarded`
//! on untouched, so reading both would let the client pick the address its attempts are counted
//! against.

pub use crate::domain::net::Cidr;
use crate::domain::net::canonical;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};

/// The header a trusted proxy says who the client is in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, …`, as nginx's `$proxy_add_x_forwarded_for` and most
    /// load balancers append to it.
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1`.
    Forwarded,
    /// `X-Real-IP: client`: one address, which the proxy sets (never appends to).
    XRealIp,
}

impl ProxyHeader {
    /// `x-forwarded-for`, `forwarded` or `x-real-ip`, in any case.
    pub fn parse(s: &str) -> Result<ProxyHeader, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ProxyHeader::XForwardedFor),
            "forwarded" => Ok(ProxyHeader::Forwarded),
            "x-real-ip" => Ok(ProxyHeader::XRealIp),
            other => Err(format!(
                "`{other}`: the proxy header is x-forwarded-for, forwarded or x-real-ip"
            )),
        }
    }

    /// The hops it lists, from the farthest to the nearest.
    fn hops(self, headers: &HeaderMap) -> Vec<Option<IpAddr>> {
        match self {
            ProxyHeader::XForwardedFor => x_forwarded_for(headers),
            ProxyHeader::Forwarded => forwarded_for(headers),
            ProxyHeader::XRealIp => {
                // Set, not appended to: more than one line means something else wrote one.
                let mut lines = headers.get_all("x-real-ip").iter();
                match (lines.next(), lines.next()) {
                    (Some(v), None) => vec![node(v.to_str().unwrap_or(""))],
                    (None, _) => Vec::new(),
                    (Some(_), Some(_)) => vec![None],
                }
            }
        }
    }
}

/// The proxies whose word about the client is taken, and the header they write it in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    ranges: Vec<Cidr>,
    header: ProxyHeader,
}

impl TrustedProxies {
    /// A list separated by commas (or white space) of addresses and ranges; empty trusts none.
    /// They are believed by `X-Forwarded-For` until [`TrustedProxies::by`] says otherwise.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        list.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(Cidr::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(|ranges| TrustedProxies {
                ranges,
                header: ProxyHeader::default(),
            })
    }

    /// Believes them by `header` only.
    pub fn by(self, header: ProxyHeader) -> TrustedProxies {
        TrustedProxies { header, ..self }
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.ranges.iter().any(|c| c.contains(ip))
    }

    /// The client of a request that arrived from `peer` with `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let chain = self.header.hops(headers);
        // From the nearest hop outwards: the first address that is not one of ours is the
        // client. A hop that cannot be read (`unknown`, an obfuscated name) ends the walk at
        // the last proxy that could.
        let mut client = peer;
        for hop in chain.iter().rev() {
            match hop {
                Some(ip) if self.trusts(*ip) => client = *ip,
                Some(ip) => return *ip,
                None => return client,
            }
        }
        client
    }
}

/// The `for=` addresses of every `Forwarded` header, in order.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all(axum::http::header::FORWARDED)
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("").split(','))
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, v)| node(v))
        })
        .collect()
}

/// Every `X-Forwarded-For` address, in order.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("").split(','))
        .map(node)
        .collect()
}

/// One node: `192.0.2.1`, `"192.0.2.1:4711"`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn node(v: &str) -> Option<IpAddr> {
    let v = v.trim().trim_matches('"');
    if let Some(rest) = v.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok().map(canonical);
    }
    if let Ok(ip) = v.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    v.parse::<SocketAddr>().ok().map(|s| canonical(s.ip()))
}

/// The client's address, as [`TrustedProxies::client`] finds it, for every handler after.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// Puts the request's [`ClientAddr`] in its extensions.
pub async fn client_address(
    State(state): State<super::AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let ip = state.web.trusted_proxies.client(peer.ip(), req.headers());
        req.extensions_mut().insert(ClientAddr(ip));
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_parse_and_match() {
        let net = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(net.contains(ip("::ffff:10.1.0.9")), "IPv4 written as IPv6");
        assert!(Cidr::parse("::1").unwrap().contains(ip("::1")));
        assert!(
            Cidr::parse("2001:db8::/32")
                .unwrap()
                .contains(ip("2001:db8:5::1"))
        );
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains(ip("203.0.113.9"))
        );
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "example.com",
            "10.0.0.0/x",
            "10.0.0",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            TrustedProxies::parse(" 10.0.0.1, 192.168.0.0/24 ::1")
                .unwrap()
                .ranges
                .len(),
            3
        );
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.1,nope").is_err());
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop_and_only_behind_a_trusted_peer() {
        let trusted = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").unwrap();
        let xff = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.9, 10.0.0.5")]);
        // From a trusted proxy: past the trusted hops, the first other address.
        assert_eq!(trusted.client(ip("127.0.0.1"), &xff), ip("203.0.113.9"));
        // From anyone else: the headers are ignored.
        assert_eq!(trusted.client(ip("192.0.2.77"), &xff), ip("192.0.2.77"));
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), &xff),
            ip("127.0.0.1")
        );
        // Only the header the proxy writes is read: a client's own `Forwarded`, which a proxy
        // appending to X-Forwarded-For passes on, is not.
        let both = headers(&[
            (
                "forwarded",
                r#"for="[2001:db8::7]:4711";proto=https, for=10.0.0.9"#,
            ),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &both), ip("198.51.100.1"));
        // Behind a proxy that writes `Forwarded`: quoting, ports and IPv6 brackets are read,
        // and X-Forwarded-For is not.
        let by_forwarded = trusted.clone().by(ProxyHeader::Forwarded);
        assert_eq!(
            by_forwarded.client(ip("10.0.0.1"), &both),
            ip("2001:db8::7")
        );
        let only_xff = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(
            by_forwarded.client(ip("10.0.0.1"), &only_xff),
            ip("10.0.0.1")
        );
        // X-Real-IP is one address the proxy sets; a second line is not the proxy's.
        let by_real_ip = trusted.clone().by(ProxyHeader::XRealIp);
        let real = headers(&[("x-real-ip", "203.0.113.4"), ("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(by_real_ip.client(ip("127.0.0.1"), &real), ip("203.0.113.4"));
        let two = headers(&[("x-real-ip", "203.0.113.4"), ("x-real-ip", "1.2.3.4")]);
        assert_eq!(by_real_ip.client(ip("127.0.0.1"), &two), ip("127.0.0.1"));
        assert_eq!(ProxyHeader::parse("X-Real-IP"), Ok(ProxyHeader::XRealIp));
        assert!(ProxyHeader::parse("via").is_err());
        // Several header lines are one list.
        let lines = headers(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-for", "10.0.0.3"),
        ]);
        assert_eq!(trusted.client(ip("127.0.0.1"), &lines), ip("198.51.100.1"));
        // Every hop trusted: the farthest one.
        let inside = headers(&[("x-forwarded-for", "10.0.0.8, 10.0.0.3")]);
        assert_eq!(trusted.client(ip("127.0.0.1"), &inside), ip("10.0.0.8"));
        // An unreadable hop stops at the last proxy that could be read.
        let hidden = headers(&[("forwarded", "for=unknown, for=10.0.0.4")]);
        assert_eq!(
            by_forwarded.client(ip("127.0.0.1"), &hidden),
            ip("10.0.0.4")
        );
        // No header at all: the peer.
        assert_eq!(
            trusted.client(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
    }
}
