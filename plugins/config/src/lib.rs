//! A reader for plugin configs written as `key = value` lines, a small subset of TOML:
//!
//! ```text
//! # comments start with '#'
//! min-length = 8
//! reject-personal-info = true
//! symbols = "@#$%"
//! generic-domains = ["gmail.com", "outlook.com"]
//! ```
//!
//! Values are integers, `true`/`false`, double-quoted strings (escapes `\"` and `\\`) or lists of
//! strings on one line. Every error names the line and the key, because operators read them.
//! Parsing is cheap enough to do on every call, which is what a fresh-instance-per-call plugin does.
//!
//! [`Value::written`] writes a value back in the same format, which is how the operators'
//! console turns a form into a config.

use std::collections::BTreeMap;
use std::fmt;

/// One config value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Bool(bool),
    Str(String),
    List(Vec<String>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(_) => f.write_str("an integer"),
            Value::Bool(_) => f.write_str("true or false"),
            Value::Str(_) => f.write_str("a string"),
            Value::List(_) => f.write_str("a list of strings"),
        }
    }
}

/// A parsed config. Take each known key with the typed `take_*` methods, then call
/// [`Config::finish`], which refuses any key the plugin did not take (a typo must not be
/// silently ignored).
#[derive(Debug, Default)]
pub struct Config {
    entries: BTreeMap<String, (usize, Value)>,
    known: Vec<String>,
}

impl Config {
    /// Parses `src`. An empty or all-comment config gives an empty `Config`.
    pub fn parse(src: &str) -> Result<Config, String> {
        let mut entries = BTreeMap::new();
        for (index, raw) in src.lines().enumerate() {
            let line_no = index + 1;
            let line = strip_comment(raw).trim();
            if line.is_empty() {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(format!("line {line_no}: expected `key = value`"));
            };
            let key = key.trim();
            if key.is_empty()
                || !key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(format!("line {line_no}: `{key}` is not a valid key"));
            }
            let value = parse_value(value.trim()).map_err(|e| format!("line {line_no}: {e}"))?;
            if entries.insert(key.to_owned(), (line_no, value)).is_some() {
                return Err(format!("line {line_no}: `{key}` is set twice"));
            }
        }
        Ok(Config {
            entries,
            known: Vec::new(),
        })
    }

    fn take(&mut self, key: &str) -> Option<(usize, Value)> {
        self.known.push(key.to_owned());
        self.entries.remove(key)
    }

    /// Takes an integer in `min..=max`.
    pub fn take_int(&mut self, key: &str, min: i64, max: i64) -> Result<Option<i64>, String> {
        match self.take(key) {
            None => Ok(None),
            Some((_, Value::Int(n))) if (min..=max).contains(&n) => Ok(Some(n)),
            Some((line, Value::Int(n))) => Err(format!(
                "line {line}: `{key}` is {n}, expected {min} to {max}"
            )),
            Some((line, other)) => Err(mismatch(line, key, "an integer", &other)),
        }
    }

    /// Takes `true` or `false`.
    pub fn take_bool(&mut self, key: &str) -> Result<Option<bool>, String> {
        match self.take(key) {
            None => Ok(None),
            Some((_, Value::Bool(b))) => Ok(Some(b)),
            Some((line, other)) => Err(mismatch(line, key, "true or false", &other)),
        }
    }

    /// Takes a string.
    pub fn take_str(&mut self, key: &str) -> Result<Option<String>, String> {
        match self.take(key) {
            None => Ok(None),
            Some((_, Value::Str(s))) => Ok(Some(s)),
            Some((line, other)) => Err(mismatch(line, key, "a string", &other)),
        }
    }

    /// Takes a list of strings.
    pub fn take_list(&mut self, key: &str) -> Result<Option<Vec<String>>, String> {
        match self.take(key) {
            None => Ok(None),
            Some((_, Value::List(items))) => Ok(Some(items)),
            Some((line, other)) => Err(mismatch(line, key, "a list of strings", &other)),
        }
    }

    /// Refuses any key that was not taken, naming the keys that are understood.
    pub fn finish(self) -> Result<(), String> {
        match self.entries.into_iter().next() {
            None => Ok(()),
            Some((key, (line, _))) => Err(format!(
                "line {line}: unknown key `{key}` (known keys: {})",
                self.known.join(", ")
            )),
        }
    }
}

impl Value {
    /// `key = value` and a line break: how a config holds the value under `key`.
    pub fn line(&self, key: &str) -> Result<String, String> {
        Ok(format!("{key} = {}\n", self.written()?))
    }

    /// The value as a config line writes it, read back by [`Config::parse`] as the same value.
    /// Refuses a string that cannot be written on one line (a line break or another control
    /// character).
    pub fn written(&self) -> Result<String, String> {
        fn quoted(s: &str) -> Result<String, String> {
            if let Some(c) = s.chars().find(|c| c.is_control()) {
                return Err(format!("{s:?} holds {c:?}; a value is one line of text"));
            }
            Ok(format!(
                "\"{}\"",
                s.replace('\\', "\\\\").replace('"', "\\\"")
            ))
        }
        Ok(match self {
            Value::Int(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Str(s) => quoted(s)?,
            Value::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|i| quoted(i))
                    .collect::<Result<Vec<_>, _>>()?
                    .join(", ")
            ),
        })
    }
}

fn mismatch(line: usize, key: &str, expected: &str, found: &Value) -> String {
    format!("line {line}: `{key}` must be {expected}, found {found}")
}

/// Cuts a `#` comment, ignoring `#` inside double quotes.
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..i],
            _ => {}
        }
    }
    line
}

fn parse_value(src: &str) -> Result<Value, String> {
    match src {
        "" => Err("missing value after `=`".into()),
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        _ if src.starts_with('"') => {
            let (s, rest) = parse_string(src)?;
            if rest.trim().is_empty() {
                Ok(Value::Str(s))
            } else {
                Err(format!("unexpected `{}` after the string", rest.trim()))
            }
        }
        _ if src.starts_with('[') => parse_list(src).map(Value::List),
        _ => src
            .replace('_', "")
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| format!("`{src}` is not a number, true/false, a \"string\" or a [list]")),
    }
}

/// Parses a double-quoted string at the start of `src`; returns it and what follows.
fn parse_string(src: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = src.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &src[i + 1..])),
            '\\' => match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, other)) => return Err(format!("unknown escape `\\{other}`")),
                None => break,
            },
            c => out.push(c),
        }
    }
    Err("unterminated string".into())
}

fn parse_list(src: &str) -> Result<Vec<String>, String> {
    let mut rest = src[1..].trim_start();
    let mut items = Vec::new();
    loop {
        if let Some(after) = rest.strip_prefix(']') {
            return if after.trim().is_empty() {
                Ok(items)
            } else {
                Err(format!("unexpected `{}` after the list", after.trim()))
            };
        }
        if !rest.starts_with('"') {
            return Err("a list holds double-quoted strings, like [\"a\", \"b\"]".into());
        }
        let (item, after) = parse_string(rest)?;
        items.push(item);
        rest = after.trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
        } else if !rest.starts_with(']') {
            return Err("expected `,` or `]` in the list".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind_of_value() {
        let mut c = Config::parse(
            "# policy\nmin-length = 10 # inline\nflag = true\nname = \"a # not a comment \\\"q\\\"\"\nlist = [\"x\", \"y\",]\n",
        )
        .unwrap();
        assert_eq!(c.take_int("min-length", 1, 100).unwrap(), Some(10));
        assert_eq!(c.take_bool("flag").unwrap(), Some(true));
        assert_eq!(
            c.take_str("name").unwrap().as_deref(),
            Some("a # not a comment \"q\"")
        );
        assert_eq!(
            c.take_list("list").unwrap(),
            Some(vec!["x".into(), "y".into()])
        );
        assert_eq!(c.take_int("absent", 0, 1).unwrap(), None);
        c.finish().unwrap();
    }

    #[test]
    fn errors_name_the_line_and_the_key() {
        let cases: &[(&str, &str)] = &[
            ("a = 1\nb", "line 2: expected `key = value`"),
            ("a = 1\na = 2", "line 2: `a` is set twice"),
            ("a = \"open", "line 1: unterminated string"),
            ("a = [1, 2]", "line 1: a list holds double-quoted strings"),
            ("a = yes", "line 1: `yes` is not a number"),
            ("bad key = 1", "line 1: `bad key` is not a valid key"),
        ];
        for (src, expected) in cases {
            let err = Config::parse(src).unwrap_err();
            assert!(err.starts_with(expected), "{src:?}: {err}");
        }
    }

    #[test]
    fn typed_takes_refuse_the_wrong_type_and_range() {
        let mut c = Config::parse("n = 500\ns = 3").unwrap();
        assert_eq!(
            c.take_int("n", 1, 100).unwrap_err(),
            "line 1: `n` is 500, expected 1 to 100"
        );
        assert_eq!(
            c.take_str("s").unwrap_err(),
            "line 2: `s` must be a string, found an integer"
        );
    }

    #[test]
    fn written_values_read_back_the_same() {
        let values = [
            Value::Int(-42),
            Value::Bool(false),
            Value::Str("a \"quoted\" \\ # not a comment".into()),
            Value::List(vec!["gmail.com".into(), "x\"y".into()]),
            Value::List(vec![]),
        ];
        for v in values {
            let line = v.line("k").unwrap();
            let mut c = Config::parse(&line).unwrap();
            let back = match &v {
                Value::Int(_) => c.take_int("k", i64::MIN, i64::MAX).unwrap().map(Value::Int),
                Value::Bool(_) => c.take_bool("k").unwrap().map(Value::Bool),
                Value::Str(_) => c.take_str("k").unwrap().map(Value::Str),
                Value::List(_) => c.take_list("k").unwrap().map(Value::List),
            };
            assert_eq!(back, Some(v), "{line}");
        }
        assert!(Value::Str("two\nlines".into()).written().is_err());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let mut c = Config::parse("min-lenght = 3").unwrap();
        c.take_int("min-length", 1, 10).unwrap();
        assert_eq!(
            c.finish().unwrap_err(),
            "line 1: unknown key `min-lenght` (known keys: min-length)"
        );
    }
}
