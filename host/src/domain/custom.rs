//! Request types and the custom fields operators define: what a definition may say, and what a
//! value of each kind may hold, in the canonical text it is stored, filtered and spoken in.
//! Pages, the API and the rules that set them all go through these.

use std::fmt;

/// The most types and fields a desk defines (retired ones included).
pub const MAX_TYPES: usize = 50;
pub const MAX_FIELDS: usize = 50;
/// A type's name, a field's label, a choice's option.
pub const MAX_NAME_CHARS: usize = 80;
pub const MAX_OPTIONS: usize = 50;
/// A text field's value.
pub const MAX_TEXT_CHARS: usize = 500;
/// A field's key as the API accepts it (ECMA-262, for the OpenAPI document).
pub const KEY_PATTERN: &str = "^[a-z][a-z0-9_]{0,31}$";

/// What a custom field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One line of at most [`MAX_TEXT_CHARS`] characters.
    Text,
    /// A decimal number: an optional `-`, digits, an optional fraction.
    Number,
    /// A day, `YYYY-MM-DD`.
    Date,
    /// One of the field's options.
    Choice,
    /// Ticked (`yes`) or not (no value).
    Checkbox,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Text,
        Kind::Number,
        Kind::Date,
        Kind::Choice,
        Kind::Checkbox,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Number => "number",
            Kind::Date => "date",
            Kind::Choice => "choice",
            Kind::Checkbox => "checkbox",
        }
    }

    pub fn parse(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "There is no kind of field {s:?}: use text, number, date, choice or checkbox."
                )
            })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field's key: 1 to 32 lowercase letters, digits or `_`, starting with a letter.
pub fn key(s: &str) -> Result<String, String> {
    let ok = (1..=32).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "A field's key is 1 to 32 lowercase letters, digits or _, starting with a letter; {s:?} is not."
        ))
    }
}

/// A type's name, a field's label or an option: trimmed, 1 to [`MAX_NAME_CHARS`] characters,
/// one line.
pub fn name(what: &str, s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err(format!("{what}: write at least one character."));
    }
    if s.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "{what}: at most {MAX_NAME_CHARS} characters allowed."
        ));
    }
    if s.chars().any(not_in_a_line) {
        return Err(format!("{what}: one line, without control characters."));
    }
    Ok(s.to_owned())
}

/// A choice field's options as typed, one per line (blank lines skipped): at least one, at
/// most [`MAX_OPTIONS`], none twice. Other kinds take none.
pub fn options(kind: Kind, typed: &str) -> Result<Vec<String>, String> {
    let lines: Vec<&str> = typed
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if kind != Kind::Choice {
        return if lines.is_empty() {
            Ok(Vec::new())
        } else {
            Err(format!("A {kind} field has no options; only a choice has."))
        };
    }
    if lines.is_empty() {
        return Err("A choice needs at least one option, one per line.".into());
    }
    if lines.len() > MAX_OPTIONS {
        return Err(format!("A choice has at most {MAX_OPTIONS} options."));
    }
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        let o = name("Option", l)?;
        if out.iter().any(|x| x.eq_ignore_ascii_case(&o)) {
            return Err(format!("The option {o:?} is listed twice."));
        }
        out.push(o);
    }
    Ok(out)
}

/// A value as typed for a field of `kind` (with `options` for a choice), in canonical form;
/// `None` for no value (empty, or an unticked checkbox).
pub fn value(kind: Kind, options: &[String], typed: &str) -> Result<Option<String>, String> {
    let s = typed.trim();
    if s.is_empty() {
        return Ok(None);
    }
    match kind {
        Kind::Text => {
            if s.chars().count() > MAX_TEXT_CHARS {
                Err(format!("At most {MAX_TEXT_CHARS} characters allowed."))
            } else if s.chars().any(not_in_a_line) {
                Err("One line, without control characters.".into())
            } else {
                Ok(Some(s.to_owned()))
            }
        }
        Kind::Number => number(s).map(Some),
        Kind::Date => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            match time::Date::parse(s, format) {
                Ok(d) if s.len() == 10 => Ok(Some(d.to_string())),
                _ => Err(format!("{s:?} is not a date: write it as YYYY-MM-DD.")),
            }
        }
        Kind::Choice => options
            .iter()
            .find(|o| o.eq_ignore_ascii_case(s))
            .map(|o| Some(o.clone()))
            .ok_or_else(|| format!("{s:?} is not one of: {}.", options.join(", "))),
        Kind::Checkbox => match s.to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" | "1" => Ok(Some("yes".into())),
            "no" | "false" | "off" | "0" => Ok(None),
            _ => Err(format!("{s:?} is not yes or no.")),
        },
    }
}

/// A control character, or a line or paragraph separator.
fn not_in_a_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// A decimal number without leading zeros or a trailing fraction of zeros; at most 15
/// significant digits, so it reads back exactly wherever it goes.
fn number(s: &str) -> Result<String, String> {
    let bad = || format!("{s:?} is not a number: write digits, with - and . if needed.");
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || (digits.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    if whole.len() + fraction.len() > 15 {
        return Err(format!("{s:?} has more than 15 significant digits."));
    }
    let whole = if whole.is_empty() { "0" } else { whole };
    let mut out = String::new();
    if negative && (whole != "0" || !fraction.is_empty()) {
        out.push('-');
    }
    out.push_str(whole);
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_take_their_canonical_form() {
        let none: &[String] = &[];
        assert_eq!(
            value(Kind::Number, none, " 007.50 ").unwrap().unwrap(),
            "7.5"
        );
        assert_eq!(value(Kind::Number, none, "-0.0").unwrap().unwrap(), "0");
        assert_eq!(value(Kind::Number, none, "-12").unwrap().unwrap(), "-12");
        for bad in ["1e5", "1.", ".5", "--1", "1,5", "NaN", "1234567890123456"] {
            assert!(value(Kind::Number, none, bad).is_err(), "{bad}");
        }
        assert_eq!(
            value(Kind::Date, none, "2026-02-28").unwrap().unwrap(),
            "2026-02-28"
        );
        for bad in ["2026-02-30", "2026-2-3", "28.02.2026", "+2026-02-28"] {
            assert!(value(Kind::Date, none, bad).is_err(), "{bad}");
        }
        let options = vec!["Basic".to_owned(), "Premium".to_owned()];
        assert_eq!(
            value(Kind::Choice, &options, "premium").unwrap().unwrap(),
            "Premium"
        );
        assert!(value(Kind::Choice, &options, "Gold").is_err());
        assert_eq!(value(Kind::Checkbox, none, "on").unwrap().unwrap(), "yes");
        assert_eq!(value(Kind::Checkbox, none, "no").unwrap(), None);
        assert!(value(Kind::Checkbox, none, "maybe").is_err());
        assert_eq!(value(Kind::Text, none, "  ").unwrap(), None);
        assert!(value(Kind::Text, none, "two\nlines").is_err());
        assert!(value(Kind::Text, none, "two\u{2028}lines").is_err());
        assert!(value(Kind::Text, none, &"x".repeat(MAX_TEXT_CHARS + 1)).is_err());
    }

    #[test]
    fn definitions_are_checked() {
        assert!(key("serial_no").is_ok());
        for bad in ["", "Serial", "1st", "serial-no", &"a".repeat(33)] {
            assert!(key(bad).is_err(), "{bad}");
        }
        assert_eq!(
            options(Kind::Choice, "Basic\n\n Premium \n").unwrap(),
            ["Basic", "Premium"]
        );
        assert!(options(Kind::Choice, "a\nA").is_err());
        assert!(options(Kind::Choice, "").is_err());
        assert!(options(Kind::Text, "a").is_err());
        assert!(options(Kind::Text, " \n").unwrap().is_empty());
        assert!(name("Label", " ").is_err());
        assert!(name("Label", &"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert_eq!(Kind::parse("date"), Ok(Kind::Date));
        assert!(Kind::parse("Date").is_err());
    }
}
