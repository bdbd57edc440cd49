//! Incoming mail, read: who sent it, what it answers, what it says once the quoted history is
//! cut away, its files, and whether it is a person writing at all (an auto-reply, bulk mail or
//! a bounce is not). MIME is decoded by `mail-parser`; nothing here acts on the message.

pub mod imap;
mod quote;

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

pub use quote::strip_quoted;

/// What a message is, for what the help desk does with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Written by a person: it may become a reply or a request.
    Person,
    /// An auto-reply, a list or bulk message: never acted on and never answered.
    Automatic(String),
    /// A delivery status notification about mail the help desk sent.
    Bounce(Bounce),
}

/// What a delivery status notification reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    /// Message-IDs of the undelivered message, as quoted in the report.
    pub original_ids: Vec<String>,
    /// Recipients the report says failed for good.
    pub failed: Vec<String>,
    /// The status and diagnostic the report gives.
    pub reason: String,
}

/// A file carried by a message: an attachment, or an inline image of its HTML.
#[derive(Debug, Clone)]
pub struct File {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A message as read.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Its Message-ID, or `sha256:<hex of the bytes>` when it has none: what makes a message
    /// the same message however often it is fetched.
    pub key: String,
    /// The sender's address, lower-cased; `None` when it has no readable From.
    pub from: Option<String>,
    /// The sender's display name, when given.
    pub from_name: Option<String>,
    pub subject: String,
    /// The new text of the message: the quoted history and signature cut away.
    pub body: String,
    pub files: Vec<File>,
    pub kind: Kind,
    /// Reply tokens found in the addresses it was sent to and in the ids it answers.
    pub tokens: Vec<String>,
    /// The request named by the thread id it answers (`<request-N@our domain>`).
    pub thread: Option<i64>,
    /// The request number its subject names (`[REQ-1042]`).
    pub subject_request: Option<i64>,
    /// Why the message cannot be taken, when it cannot (a charset nobody knows).
    pub problem: Option<String>,
    /// Its `Authentication-Results` headers, topmost first: what receiving servers found of
    /// its sender (SPF, DKIM, DMARC). Believed only from a server the operator trusts.
    pub auth_results: Vec<String>,
}

/// `s` without NUL, which no text column takes and no person writes.
fn no_nul(s: &str) -> String {
    s.replace('\0', "")
}

/// A header's text on one line: control characters (NUL, line breaks) become spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Reads `raw`; `domain` is the domain of the help desk's own message ids.
pub fn read(raw: &[u8], domain: &str) -> Result<Incoming, String> {
    let Some(m) = MessageParser::default().parse(raw) else {
        return Err("The message is not a readable email (no headers found).".into());
    };
    if m.headers().is_empty() {
        return Err("The message is not a readable email (no headers found).".into());
    }
    let key = match m.message_id().map(one_line) {
        Some(id) if !id.is_empty() => format!("<{id}>"),
        _ => format!("sha256:{}", hex::encode(Sha256::digest(raw))),
    };
    let sender = m.from().and_then(|a| a.first());
    let from = sender
        .and_then(|a| a.address())
        .map(|a| one_line(a).to_ascii_lowercase())
        .filter(|a| a.contains('@') && !a.contains(' '));
    let from_name = sender
        .and_then(|a| a.name())
        .map(one_line)
        .filter(|n| !n.is_empty());
    let subject = one_line(m.subject().unwrap_or(""));
    let kind = kind(&m, raw, from.as_deref());
    let mut tokens = Vec::new();
    for address in recipients(&m) {
        if let Some(t) = plus_token(&address) {
            tokens.push(t);
        }
    }
    let mut thread = None;
    for id in answered_ids(&m) {
        let Some((local, host)) = id.rsplit_once('@') else {
            continue;
        };
        if !host.eq_ignore_ascii_case(domain) {
            continue;
        }
        if is_token(local) {
            tokens.push(local.to_ascii_lowercase());
        } else if let Some(n) = local.strip_prefix("request-").and_then(|n| n.parse().ok()) {
            thread = thread.or(Some(n));
        }
    }
    tokens.dedup();
    let problem = unknown_charset(&m);
    let text = no_nul(&m.body_text(0).unwrap_or_default());
    let auth_results = m
        .header_values("Authentication-Results")
        .filter_map(|v| v.as_text().map(one_line))
        .collect();
    Ok(Incoming {
        key,
        from,
        from_name,
        subject_request: subject_number(&subject),
        subject,
        body: strip_quoted(&text),
        files: files(&m),
        kind,
        tokens,
        thread,
        problem,
        auth_results,
    })
}

/// Whether the server that wrote `Authentication-Results` as `authserv_id` found that `from`
/// really sent the message: DMARC passed for its domain, or DKIM passed with a signature of its
/// domain (or a parent domain), or SPF passed for an envelope sender of its domain. Only the
/// topmost header of that server counts: a receiving server removes any of its own a sender
/// added, and puts its own on top.
pub fn from_authenticated(m: &Incoming, authserv_id: &str) -> bool {
    let Some(from) = m.from.as_deref() else {
        return false;
    };
    let Some((_, domain)) = from.rsplit_once('@') else {
        return false;
    };
    let Some(results) = m.auth_results.iter().find(|r| {
        r.split(';')
            .next()
            .and_then(|id| id.split_whitespace().next())
            .is_some_and(|id| id.eq_ignore_ascii_case(authserv_id))
    }) else {
        return false;
    };
    let aligned = |d: &str| {
        let d = d.trim().trim_matches(['"', '<', '>']).to_ascii_lowercase();
        let d = d.rsplit_once('@').map_or(d.as_str(), |(_, d)| d).to_owned();
        // Relaxed alignment: the same domain, or one within the other (never a bare top level).
        d.contains('.')
            && (domain == d
                || domain.ends_with(&format!(".{d}"))
                || d.ends_with(&format!(".{domain}")))
    };
    results.split(';').skip(1).any(|result| {
        let mut words = result.split_whitespace();
        let Some((method, verdict)) = words.next().and_then(|w| w.split_once('=')) else {
            return false;
        };
        if !verdict.eq_ignore_ascii_case("pass") {
            return false;
        }
        let property = |name: &str| {
            result
                .split_whitespace()
                .filter_map(|w| w.split_once('='))
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.to_owned())
        };
        match method.to_ascii_lowercase().as_str() {
            "dmarc" => property("header.from").is_some_and(|d| aligned(&d)),
            "dkim" => property("header.d")
                .or_else(|| property("header.i"))
                .is_some_and(|d| aligned(&d)),
            "spf" => property("smtp.mailfrom").is_some_and(|d| aligned(&d)),
            _ => false,
        }
    })
}

/// `true` for a reply token: 32 hex digits.
fn is_token(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The token of `local+token@domain`.
fn plus_token(address: &str) -> Option<String> {
    let (local, _) = address.rsplit_once('@')?;
    let (_, tag) = local.rsplit_once('+')?;
    is_token(tag).then(|| tag.to_ascii_lowercase())
}

/// Every address the message was delivered to, as the headers tell.
fn recipients(m: &Message<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for list in [m.to(), m.cc()].into_iter().flatten() {
        for a in list.iter() {
            if let Some(addr) = a.address() {
                out.push(addr.to_owned());
            }
        }
    }
    for name in ["Delivered-To", "X-Original-To", "Envelope-To"] {
        if let Some(v) = m.header_raw(name) {
            out.push(v.trim().trim_matches(['<', '>']).to_owned());
        }
    }
    out
}

/// The ids of In-Reply-To and References, without brackets.
fn answered_ids(m: &Message<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for v in [m.in_reply_to(), m.references()] {
        if let Some(list) = v.as_text_list() {
            out.extend(list.iter().map(|s| s.trim().to_owned()));
        } else if let Some(s) = v.as_text() {
            out.push(s.trim().to_owned());
        }
    }
    out
}

/// `[REQ-1042]` (or `REQ-1042` anywhere) in a subject.
pub fn subject_number(subject: &str) -> Option<i64> {
    let upper = subject.to_ascii_uppercase();
    let at = upper.find("REQ-")?;
    let digits: String = upper[at + 4..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    crate::requests::parse_number(&format!("REQ-{digits}"))
}

fn kind(m: &Message<'_>, raw: &[u8], from: Option<&str>) -> Kind {
    if let Some(b) = bounce(m, raw) {
        return Kind::Bounce(b);
    }
    let header = |name: &str| m.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    if let Some(v) = header("Auto-Submitted")
        && v != "no"
    {
        return Kind::Automatic(format!("Auto-Submitted: {v}"));
    }
    for name in ["X-Autoreply", "X-Autorespond"] {
        if let Some(v) = header(name) {
            return Kind::Automatic(format!("{name}: {v}"));
        }
    }
    if let Some(v) = header("Precedence")
        && matches!(v.as_str(), "bulk" | "list" | "junk" | "auto_reply")
    {
        return Kind::Automatic(format!("Precedence: {v}"));
    }
    if header("List-Id").is_some() || header("List-Unsubscribe").is_some() {
        return Kind::Automatic("mailing-list mail (List-Id)".into());
    }
    if let Some(v) = m.header_raw("Return-Path")
        && v.trim() == "<>"
    {
        return Kind::Automatic("empty return path".into());
    }
    if let Some(f) = from {
        let local = f.split('@').next().unwrap_or("");
        if matches!(
            local,
            "mailer-daemon" | "postmaster" | "noreply" | "no-reply"
        ) {
            return Kind::Automatic(format!("sent by {local}"));
        }
    }
    Kind::Person
}

/// A delivery status notification (RFC 3464): `multipart/report; report-type=delivery-status`.
fn bounce(m: &Message<'_>, raw: &[u8]) -> Option<Bounce> {
    let ct = m.content_type()?;
    let is_report = ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        && ct
            .attribute("report-type")
            .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"));
    if !is_report {
        return None;
    }
    let own = m.message_id().map(str::to_owned);
    let text = String::from_utf8_lossy(raw);
    let mut original_ids = Vec::new();
    let mut failed = Vec::new();
    let mut recipient: Option<String> = None;
    let mut status = Vec::new();
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "message-id" => {
                let id = one_line(value.trim_matches(['<', '>']));
                if Some(&id) != own.as_ref() && !original_ids.contains(&id) {
                    original_ids.push(id);
                }
            }
            "final-recipient" => {
                recipient = value
                    .split_once(';')
                    .map(|(_, a)| one_line(a).to_ascii_lowercase());
            }
            "action" if value.eq_ignore_ascii_case("failed") => {
                if let Some(r) = recipient.take()
                    && !failed.contains(&r)
                {
                    failed.push(r);
                }
            }
            "status" | "diagnostic-code" => status.push(one_line(value)),
            _ => {}
        }
    }
    Some(Bounce {
        original_ids,
        failed,
        reason: if status.is_empty() {
            "undeliverable".into()
        } else {
            status.join("; ")
        },
    })
}

/// A text part whose charset the decoder does not know: its words would come out wrong.
fn unknown_charset(m: &Message<'_>) -> Option<String> {
    for part in m.text_bodies().chain(m.html_bodies()) {
        if let Some(cs) = part.content_type().and_then(|c| c.attribute("charset"))
            && mail_parser::decoders::charsets::map::charset_decoder(cs.as_bytes()).is_none()
            && !matches!(
                cs.to_ascii_lowercase().as_str(),
                "utf-8" | "utf8" | "us-ascii" | "ascii"
            )
        {
            return Some(format!(
                "The message is written in the character set \"{cs}\", which cannot be read. Please send it as UTF-8."
            ));
        }
    }
    None
}

/// Attachments and inline images; the text and HTML bodies themselves are not files.
fn files(m: &Message<'_>) -> Vec<File> {
    let mut out = Vec::new();
    for (i, part) in m.attachments().enumerate() {
        let (bytes, default_type) = match &part.body {
            PartType::Message(inner) => (inner.raw_message().to_vec(), "message/rfc822"),
            PartType::Text(_) | PartType::Html(_) => {
                (part.contents().to_vec(), "text/plain; charset=utf-8")
            }
            _ => (part.contents().to_vec(), "application/octet-stream"),
        };
        let content_type = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(sub) => one_line(&format!("{}/{}", c.ctype(), sub)),
                None => one_line(c.ctype()),
            })
            .unwrap_or_else(|| default_type.to_owned());
        let name = part
            .attachment_name()
            .map(one_line)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| {
                let ext = content_type.split('/').nth(1).unwrap_or("bin");
                format!("attachment-{}.{ext}", i + 1)
            });
        out.push(File {
            name,
            content_type,
            bytes,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_plus_addresses_and_our_message_ids() {
        let t = "0123456789abcdef0123456789abcdef";
        let raw = format!(
            "From: Ann <Ann@Acme.example>\r\nTo: support+{t}@portal.example\r\nIn-Reply-To: <ffffffffffffffffffffffffffffffff@portal.example>\r\nReferences: <request-1042@portal.example> <x@elsewhere>\r\nSubject: Re: [REQ-1042] New reply\r\nMessage-ID: <abc@acme.example>\r\n\r\nThanks\r\n"
        );
        let m = read(raw.as_bytes(), "portal.example").unwrap();
        assert_eq!(m.from.as_deref(), Some("ann@acme.example"));
        assert_eq!(m.from_name.as_deref(), Some("Ann"));
        assert_eq!(m.key, "<abc@acme.example>");
        assert_eq!(
            m.tokens,
            vec![t.to_owned(), "ffffffffffffffffffffffffffffffff".to_owned()]
        );
        assert_eq!(m.thread, Some(1042));
        assert_eq!(m.subject_request, Some(1042));
        assert_eq!(m.kind, Kind::Person);
    }

    #[test]
    fn ids_of_other_domains_and_short_tags_are_not_tokens() {
        let raw = "From: a@b.example\r\nTo: support+abc@portal.example\r\nIn-Reply-To: <0123456789abcdef0123456789abcdef@evil.example>\r\nSubject: hi\r\n\r\nx\r\n";
        let m = read(raw.as_bytes(), "portal.example").unwrap();
        assert!(m.tokens.is_empty());
        assert!(m.key.starts_with("sha256:"));
    }

    #[test]
    fn automatic_mail_is_recognised() {
        for header in [
            "Auto-Submitted: auto-replied",
            "X-Autoreply: yes",
            "Precedence: bulk",
            "Precedence: list",
            "List-Id: <news.example>",
            "Return-Path: <>",
        ] {
            let raw =
                format!("From: a@b.example\r\n{header}\r\nSubject: Out of office\r\n\r\nAway\r\n");
            let m = read(raw.as_bytes(), "portal.example").unwrap();
            assert!(matches!(m.kind, Kind::Automatic(_)), "{header}");
        }
        let raw = "From: a@b.example\r\nAuto-Submitted: no\r\nSubject: hi\r\n\r\nx\r\n";
        assert_eq!(
            read(raw.as_bytes(), "portal.example").unwrap().kind,
            Kind::Person
        );
    }

    #[test]
    fn nul_and_line_breaks_never_reach_what_is_stored() {
        // An encoded word can carry any byte, NUL included.
        let raw = "From: =?utf-8?q?Ann=00_Smith?= <ann@acme.example>\r\nSubject: =?utf-8?q?Pump=00_4=0Ais_down?=\r\nMessage-ID: <a=00b@acme.example>\r\n\r\nText with a NUL\0 inside\r\n";
        let m = read(raw.as_bytes(), "portal.example").unwrap();
        assert_eq!(m.subject, "Pump  4 is down");
        assert_eq!(m.from_name.as_deref(), Some("Ann  Smith"));
        assert!(!m.body.contains('\0'), "{:?}", m.body);
        assert!(!m.key.contains('\0'));
    }

    #[test]
    fn a_sender_is_authenticated_only_by_the_trusted_servers_topmost_results() {
        let mail = |results: &[&str]| {
            let headers: String = results
                .iter()
                .map(|r| format!("Authentication-Results: {r}\r\n"))
                .collect();
            let raw = format!("{headers}From: ann@acme.example\r\nSubject: x\r\n\r\nx\r\n");
            read(raw.as_bytes(), "portal.example").unwrap()
        };
        let ok = |results: &[&str]| from_authenticated(&mail(results), "mx.vendor.example");
        assert!(ok(&[
            "mx.vendor.example; dmarc=pass header.from=acme.example"
        ]));
        assert!(ok(&[
            "mx.vendor.example; spf=fail smtp.mailfrom=x.example; dkim=pass header.d=acme.example"
        ]));
        assert!(ok(&[
            "mx.vendor.example; dkim=pass header.d=mail.acme.example"
        ]));
        assert!(ok(&[
            "mx.vendor.example; spf=pass smtp.mailfrom=bounce@acme.example"
        ]));
        assert!(!ok(&[
            "mx.vendor.example; dmarc=fail header.from=acme.example"
        ]));
        assert!(!ok(&["mx.vendor.example; dkim=pass header.d=evil.example"]));
        assert!(
            !ok(&["mx.other.example; dmarc=pass header.from=acme.example"]),
            "another server"
        );
        // What a sender wrote below the trusted server's own header is not read.
        assert!(!ok(&[
            "mx.vendor.example; dmarc=fail header.from=acme.example",
            "mx.vendor.example; dmarc=pass header.from=acme.example",
        ]));
        assert!(!ok(&[]));
    }

    #[test]
    fn subject_numbers() {
        assert_eq!(subject_number("Re: [REQ-1042] x"), Some(1042));
        assert_eq!(subject_number("AW: req-1001"), Some(1001));
        assert_eq!(subject_number("no number"), None);
        assert_eq!(subject_number("REQ-"), None);
    }
}
