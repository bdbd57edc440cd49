//! What every piece of text from outside must look like before anything stores it, shows it or
//! uses it as a key. Each field has a documented maximum (docs/limits.md, and `maxLength` in the
//! OpenAPI document, both built from [`FIELDS`]); NUL is refused everywhere; one-line fields
//! (names, subjects, titles) refuse control characters and line separators; names also refuse
//! the bidirectional controls that make `invoice\u{202e}txt.exe` display as `invoiceexe.txt`.
//! Pages and the API call the same services, which call these functions, so both refuse the
//! same input with the same message.

use std::fmt;

/// A text field as the portal accepts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The field's name in forms and JSON bodies.
    pub name: &'static str,
    /// How people call it, for messages ("Given name").
    pub label: &'static str,
    /// The most it may hold, counted as [`Field::unit`] says.
    pub max: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One line of text: no control characters, no line breaks.
    Line,
    /// A person's or a file's name: one line, and no bidirectional controls either.
    Name,
    /// Several lines: line breaks and tabs allowed, other control characters refused.
    Text,
    /// Opaque input (a password, a code, a token): only NUL is refused.
    Secret,
    /// An email address: a dot-atom local part, `@`, and a domain of at least two labels,
    /// ASCII only (what every mail server takes; the mailer's own parser accepts all of it).
    Email,
}

impl Field {
    pub const fn new(name: &'static str, label: &'static str, max: usize, kind: Kind) -> Field {
        Field {
            name,
            label,
            max,
            kind,
        }
    }

    /// What `max` counts: characters (an email address is ASCII, so its 254 characters are
    /// also RFC 5321's 254 octets).
    pub fn unit(&self) -> &'static str {
        "characters"
    }

    /// The field's rule as a regular expression (ECMA-262, for the OpenAPI document): what
    /// [`check`] accepts, and, when `required`, with a character other than white space.
    pub fn pattern(&self, required: bool) -> String {
        if self.kind == Kind::Email {
            return if required {
                format!("^ *{EMAIL_PATTERN} *$")
            } else {
                format!("^( *{EMAIL_PATTERN} *)?$")
            };
        }
        let refused = match self.kind {
            Kind::Line => LINE_REFUSED.to_owned(),
            Kind::Name => format!("{LINE_REFUSED}{BIDI}"),
            Kind::Text => TEXT_REFUSED.to_owned(),
            Kind::Secret | Kind::Email => "\\u0000".to_owned(),
        };
        if required {
            format!("^[^{refused}]*[^\\s{refused}][^{refused}]*$")
        } else {
            format!("^[^{refused}]*$")
        }
    }
}

/// Characters a one-line field refuses, as a regular-expression class body: C0 and C1 controls,
/// DEL, and the line and paragraph separators.
const LINE_REFUSED: &str = "\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029";
/// Characters several lines of text refuse: as one line, but tab, line feed and carriage
/// return are allowed.
const TEXT_REFUSED: &str =
    "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u2028\\u2029";
/// The direction controls a name refuses.
const BIDI: &str = "\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069";
/// An email address: dot-atom `@` labels.
const EMAIL_PATTERN: &str = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+";

pub const EMAIL: Field = Field::new("email", "Email address", 254, Kind::Email);
pub const PASSWORD: Field = Field::new("password", "Password", 4096, Kind::Secret);
pub const GIVEN_NAME: Field = Field::new("given_name", "Given name", 100, Kind::Name);
pub const SURNAME: Field = Field::new("surname", "Surname", 100, Kind::Name);
pub const CODE: Field = Field::new("code", "Verification code", 32, Kind::Secret);
pub const TOKEN: Field = Field::new("token", "Link or device token", 128, Kind::Secret);
pub const SITE_NAME: Field = Field::new("name", "Site name", 200, Kind::Name);
pub const DOMAIN: Field = Field::new("domains", "Email domain", 253, Kind::Line);
pub const SUBJECT: Field = Field::new("subject", "Subject", 200, Kind::Line);
pub const DESCRIPTION: Field = Field::new("description", "Description", 20_000, Kind::Text);
pub const MESSAGE: Field = Field::new("body", "Message", 20_000, Kind::Text);
pub const JOIN_WORDING: Field = Field::new(
    "join",
    "Answer to mail from unknown addresses",
    2_000,
    Kind::Text,
);
pub const LINK_TITLE: Field = Field::new("title", "Title", 100, Kind::Line);
pub const URL: Field = Field::new("url", "URL", 2000, Kind::Line);
pub const STATUS: Field = Field::new("status", "Status", 64, Kind::Line);
pub const SEARCH: Field = Field::new("q", "Search", 200, Kind::Line);
pub const CURSOR: Field = Field::new("after", "Page cursor", 64, Kind::Line);
pub const FILE_NAME: Field = Field::new("files", "File name", 120, Kind::Name);

/// Every limited field, for the documentation and the OpenAPI document.
pub const FIELDS: [Field; 17] = [
    EMAIL,
    PASSWORD,
    GIVEN_NAME,
    SURNAME,
    CODE,
    TOKEN,
    SITE_NAME,
    DOMAIN,
    SUBJECT,
    DESCRIPTION,
    MESSAGE,
    LINK_TITLE,
    URL,
    STATUS,
    SEARCH,
    CURSOR,
    FILE_NAME,
];

/// Longest value of any form field or JSON string that has no limit of its own (an enum, a
/// flag, a number), so nothing unnamed is unbounded either.
pub const ANY_FIELD_MAX: usize = 4096;

/// Why a text was refused; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
    /// The rule broken, for pages that say it in the reader's language.
    pub reason: Reason,
}

/// The rule a refused text broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Nul,
    TooLong { max: usize },
    LineBreak,
    Direction,
    Control,
    Email,
    Empty,
}

impl Reason {
    /// The catalogue's key for this reason (`input-<reason>`).
    pub fn key(self) -> &'static str {
        match self {
            Reason::Nul => "input-nul",
            Reason::TooLong { .. } => "input-too-long",
            Reason::LineBreak => "input-line-break",
            Reason::Direction => "input-direction",
            Reason::Control => "input-control",
            Reason::Email => "input-email",
            Reason::Empty => "input-empty",
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Invalid {}

/// The bidirectional controls (embeddings, overrides, isolates, marks) that can make a name
/// display as something else.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// A character that breaks a line or controls the terminal.
fn breaks_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `value` checked against `field`, trimmed (and, for several lines, with `\r\n` made `\n`).
/// The length counts the value as sent, before trimming. An empty result is allowed here;
/// callers that need a value say so with [`required`].
pub fn check(field: &Field, value: &str) -> Result<String, Invalid> {
    let refuse = |why: &str, reason: Reason| Invalid {
        field: field.name,
        message: format!("{}: {why}", field.label),
        reason,
    };
    if value.contains('\0') {
        return Err(refuse("NUL characters are not allowed.", Reason::Nul));
    }
    if value.chars().count() > field.max {
        return Err(refuse(
            &format!("at most {} {} allowed.", field.max, field.unit()),
            Reason::TooLong { max: field.max },
        ));
    }
    match field.kind {
        Kind::Line | Kind::Name | Kind::Email if value.chars().any(breaks_line) => {
            return Err(refuse(
                "line breaks, tabs and other control characters are not allowed.",
                Reason::LineBreak,
            ));
        }
        Kind::Name if value.chars().any(is_bidi_control) => {
            return Err(refuse(
                "right-to-left override and other direction controls are not allowed.",
                Reason::Direction,
            ));
        }
        Kind::Text
            if value
                .chars()
                .any(|c| breaks_line(c) && !matches!(c, '\n' | '\r' | '\t')) =>
        {
            return Err(refuse(
                "control characters are not allowed.",
                Reason::Control,
            ));
        }
        _ => {}
    }
    // Secrets are taken as they are; an address loses the spaces typed around it.
    let value = match field.kind {
        Kind::Secret => value,
        Kind::Email => value.trim_matches(' '),
        _ => value.trim(),
    };
    if field.kind == Kind::Email && !value.is_empty() && !is_email(value) {
        return Err(refuse(
            "enter an address like name@example.com.",
            Reason::Email,
        ));
    }
    Ok(match field.kind {
        Kind::Text => value.replace("\r\n", "\n").replace('\r', "\n"),
        _ => value.to_owned(),
    })
}

/// Whether `s` is a dot-atom address with a domain of at least two labels, each of letters,
/// digits and inner hyphens: the documented pattern, checked by hand.
fn is_email(s: &str) -> bool {
    let atom_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    local.len() <= 64
        && local
            .split('.')
            .all(|a| !a.is_empty() && a.chars().all(atom_char))
        && domain.split('.').count() >= 2
        && domain.split('.').all(label)
}

/// As [`check`], and the value may not be empty.
pub fn required(field: &Field, value: &str) -> Result<String, Invalid> {
    let v = check(field, value)?;
    if v.is_empty() {
        return Err(Invalid {
            field: field.name,
            message: format!("{}: enter a value.", field.label),
            reason: Reason::Empty,
        });
    }
    Ok(v)
}

/// The first field of `fields` (name, value) whose value holds a NUL, for the boundary checks
/// of whole forms, query strings and JSON bodies.
pub fn find_nul<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Invalid> {
    fields
        .into_iter()
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        .map(|(k, _)| {
            let name = k.replace('\0', "\\0");
            Invalid {
                field: "input",
                message: format!("`{name}`: NUL characters are not allowed."),
                reason: Reason::Nul,
            }
        })
}

/// A file name shown to people: direction controls removed rather than refused, since the
/// name comes from someone's disk and the file is still wanted.
pub fn strip_bidi(s: &str) -> String {
    s.chars().filter(|c| !is_bidi_control(*c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn ok(field: &Field, input: &str, expected: &str) {
        assert_eq!(check(field, input).as_deref(), Ok(expected), "{input:?}");
    }

    #[track_caller]
    fn refused(field: &Field, input: &str, why: &str) {
        let e = check(field, input).expect_err(input);
        assert_eq!(e.field, field.name);
        assert!(e.message.contains(why), "{input:?}: {}", e.message);
        assert!(e.message.starts_with(field.label), "{}", e.message);
    }

    #[test]
    fn fields_refuse_what_they_cannot_hold() {
        ok(&SUBJECT, "  Printer down  ", "Printer down");
        ok(&SUBJECT, &"é".repeat(200), &"é".repeat(200));
        refused(&SUBJECT, &"é".repeat(201), "at most 200 characters");
        refused(&SUBJECT, "two\r\nlines", "line breaks");
        refused(&SUBJECT, "tab\there", "line breaks");
        refused(&SUBJECT, "nul\0", "NUL");
        refused(&SUBJECT, "line\u{2028}separator", "line breaks");
        ok(
            &MESSAGE,
            "one\r\ntwo\rthree\n\tfour",
            "one\ntwo\nthree\n\tfour",
        );
        refused(&MESSAGE, "bell\u{7}", "control characters");
        refused(&MESSAGE, "nul\0", "NUL");
        ok(&GIVEN_NAME, "Zoë", "Zoë");
        refused(&GIVEN_NAME, "Ann\u{202e}nnA", "direction controls");
        ok(&SUBJECT, "مرحبا \u{202b}x", "مرحبا \u{202b}x");
        let long = |last: usize| {
            let d = |n| "x".repeat(n);
            format!("{}@{}.{}.{}.example", "a".repeat(64), d(61), d(61), d(last))
        };
        ok(&EMAIL, &long(57), &long(57));
        refused(&EMAIL, &long(58), "at most 254 characters");
        for bad in [
            "a(b)@x.example",
            "a..b@x.example",
            ".a@x.example",
            "a@x",
            "a@-x.example",
            &format!("a@{}.example", "d".repeat(64)),
            &format!("{}@x.example", "l".repeat(65)),
            "ü@x.example",
            "a@x.example\u{a0}",
        ] {
            refused(&EMAIL, bad, "like name@example.com");
        }
        refused(&EMAIL, "\ta@x.example", "control characters");
        ok(&EMAIL, "  Ann@Acme.Example ", "Ann@Acme.Example");
        ok(&PASSWORD, " spaces kept ", " spaces kept ");
        refused(&PASSWORD, "pw\0", "NUL");
        refused(&PASSWORD, &"é".repeat(4097), "at most 4096 characters");
        // The length counts what was sent, spaces included.
        refused(&SUBJECT, &format!(" {}", "x".repeat(200)), "at most 200");
        assert!(required(&SUBJECT, "   ").is_err());
    }

    /// Every address the documented pattern accepts, the mailer can send to.
    #[test]
    fn the_mailer_takes_every_address_the_pattern_allows() {
        for a in [
            "a@b.c",
            "first.last+tag@sub.example.co.uk",
            "!#$%&'*+/=?^_`{|}~-@x-y.example",
            "0@0.0",
            "a--b@x--y.example",
            &format!("{}@{}.example", "l".repeat(64), "d".repeat(63)),
        ] {
            assert!(is_email(a), "{a}");
            assert!(a.parse::<lettre::Address>().is_ok(), "{a}");
        }
    }

    /// docs/limits.md states each field's maximum as it is enforced.
    #[test]
    fn the_documented_limits_are_the_enforced_ones() {
        let doc = include_str!("../../../docs/limits.md");
        let thousands = |n: usize| {
            let s = n.to_string();
            let mut out = String::new();
            for (i, c) in s.chars().enumerate() {
                if i > 0 && (s.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(c);
            }
            out
        };
        for f in FIELDS {
            let row = doc
                .lines()
                .find(|l| l.starts_with('|') && l.contains(&format!("`{}`", f.name)))
                .unwrap_or_else(|| panic!("docs/limits.md has no row for `{}`", f.name));
            assert!(
                row.contains(&format!("{} characters", thousands(f.max))),
                "docs/limits.md says {row:?} of `{}`, which allows {}",
                f.name,
                f.max
            );
        }
        assert!(doc.contains(&thousands(ANY_FIELD_MAX)));
    }

    #[test]
    fn file_names_lose_direction_controls() {
        assert_eq!(strip_bidi("invoice\u{202e}txt.exe"), "invoicetxt.exe");
    }

    #[test]
    fn nul_anywhere_names_its_field() {
        let e = find_nul([("status", "open"), ("q", "a\0b")]).expect("found");
        assert_eq!(e.message, "`q`: NUL characters are not allowed.");
        assert!(find_nul([("status", "open")]).is_none());
    }
}
