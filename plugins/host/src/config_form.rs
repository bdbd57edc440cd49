//! A described config (contract 0.3's `describe-config`) as a form: the checks a description
//! must pass, the values a config gives each field, and the config a filled-in form writes.
//! The config format is the `key = value` lines of `helpdesk-plugin-config`, the one a plugin
//! that describes its config must read.

use crate::rules::{ConfigField, ConfigKind};
use helpdesk_plugin_config::Config;
pub use helpdesk_plugin_config::Value;
use std::collections::{HashMap, HashSet};

/// The most fields a description may have.
pub const MAX_FIELDS: usize = 64;

/// Checks a plugin's description: well-formed unique keys, labels, defaults within what each
/// field allows. The message names the field, for the plugin's author.
pub fn check(fields: &[ConfigField]) -> Result<(), String> {
    if fields.len() > MAX_FIELDS {
        return Err(format!(
            "`describe-config` gave {} settings; at most {MAX_FIELDS}",
            fields.len()
        ));
    }
    let mut keys = HashSet::new();
    for f in fields {
        let key = &f.key;
        let well_formed = !key.is_empty()
            && key.len() <= 64
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !well_formed {
            return Err(format!(
                "setting key {key:?} is not 1 to 64 ASCII letters, digits, `-` and `_`"
            ));
        }
        if !keys.insert(key.as_str()) {
            return Err(format!("setting `{key}` is described twice"));
        }
        if f.label.trim().is_empty() || f.label.len() > 128 || f.help.len() > 1024 {
            return Err(format!(
                "setting `{key}` needs a label of 1 to 128 bytes and help of at most 1,024"
            ));
        }
        match &f.kind {
            ConfigKind::Integer { default, min, max } => {
                if min > max || !(min..=max).contains(&default) {
                    return Err(format!(
                        "setting `{key}`: default {default} is not within {min} to {max}"
                    ));
                }
            }
            ConfigKind::Choice { default, choices } => {
                if !choices.contains(default) {
                    return Err(format!(
                        "setting `{key}`: default {default:?} is not one of its choices"
                    ));
                }
            }
            ConfigKind::Boolean { .. } | ConfigKind::Text { .. } | ConfigKind::TextList { .. } => {}
        }
        default_of(&f.kind)
            .written()
            .map_err(|e| format!("setting `{key}`: its default cannot be written: {e}"))?;
    }
    Ok(())
}

/// Every setting written out at its default: a config the plugin must accept, since it means
/// the same as an empty one.
pub fn defaults_written(fields: &[ConfigField]) -> String {
    fields
        .iter()
        .map(|f| default_of(&f.kind).line(&f.key).unwrap_or_default())
        .collect()
}

/// The value a setting takes when the config leaves it out.
pub fn default_of(kind: &ConfigKind) -> Value {
    match kind {
        ConfigKind::Integer { default, .. } => Value::Int(*default),
        ConfigKind::Boolean { default } => Value::Bool(*default),
        ConfigKind::Text { default } | ConfigKind::Choice { default, .. } => {
            Value::Str(default.clone())
        }
        ConfigKind::TextList { default } => Value::List(default.clone()),
    }
}

/// A field's value as a form shows it: a number or text as typed, `true`/`false` for a
/// checkbox, a list one item per line.
pub fn shown(value: &Value) -> String {
    match value {
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Str(s) => s.clone(),
        Value::List(items) => items.join("\n"),
    }
}

/// A value on one line, as a hint or a report shows it: a list's items joined with commas.
pub fn shown_in_line(value: &Value) -> String {
    match value {
        Value::List(items) => items.join(", "),
        other => shown(other),
    }
}

/// The value of each field under `config`, its default where the config leaves it out, in the
/// description's order. Refuses a config the form cannot show (another format, a key the
/// description does not have), naming the line, so the console can fall back to the text.
pub fn values(fields: &[ConfigField], config: &str) -> Result<Vec<Value>, String> {
    let mut c = Config::parse(config)?;
    let mut out = Vec::with_capacity(fields.len());
    for f in fields {
        let key = f.key.as_str();
        let value = match &f.kind {
            ConfigKind::Integer { min, max, .. } => c.take_int(key, *min, *max)?.map(Value::Int),
            ConfigKind::Boolean { .. } => c.take_bool(key)?.map(Value::Bool),
            ConfigKind::Text { .. } | ConfigKind::Choice { .. } => c.take_str(key)?.map(Value::Str),
            ConfigKind::TextList { .. } => c.take_list(key)?.map(Value::List),
        };
        out.push(value.unwrap_or_else(|| default_of(&f.kind)));
    }
    c.finish()?;
    Ok(out)
}

/// The config a filled-in form writes: one line per setting that differs from its default, in
/// the description's order. `input` holds what the form gives for each key (a checkbox `true`
/// or `false`, a list one item per line); a setting it leaves out stays at its default, and a
/// key that is not a setting is refused. Errors name the field by its label.
pub fn write(fields: &[ConfigField], input: &HashMap<String, String>) -> Result<String, String> {
    let mut given: Vec<&String> = input.keys().collect();
    given.sort();
    if let Some(unknown) = given
        .into_iter()
        .find(|k| !fields.iter().any(|f| &&f.key == k))
    {
        return Err(format!(
            "This plugin has no setting `{unknown}` (its settings: {}).",
            fields
                .iter()
                .map(|f| f.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut out = String::new();
    for f in fields {
        let Some(raw) = input.get(&f.key) else {
            continue;
        };
        let raw = raw.trim();
        let label = &f.label;
        let value = match &f.kind {
            ConfigKind::Integer { default, .. } if raw.is_empty() => Value::Int(*default),
            ConfigKind::Integer { min, max, .. } => {
                let n = raw
                    .replace('_', "")
                    .parse::<i64>()
                    .map_err(|_| format!("{label}: {raw:?} is not a whole number."))?;
                if !(min..=max).contains(&&n) {
                    return Err(format!("{label}: use a number from {min} to {max}."));
                }
                Value::Int(n)
            }
            ConfigKind::Boolean { .. } => match raw {
                "true" | "on" => Value::Bool(true),
                "false" | "" => Value::Bool(false),
                other => return Err(format!("{label}: {other:?} is not true or false.")),
            },
            ConfigKind::Text { .. } => Value::Str(raw.to_owned()),
            ConfigKind::Choice { default, .. } if raw.is_empty() => Value::Str(default.clone()),
            ConfigKind::Choice { choices, .. } => {
                if !choices.iter().any(|c| c == raw) {
                    return Err(format!(
                        "{label}: {raw:?} is not one of {}.",
                        choices.join(", ")
                    ));
                }
                Value::Str(raw.to_owned())
            }
            ConfigKind::TextList { .. } => Value::List(
                raw.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
        };
        if value == default_of(&f.kind) {
            continue;
        }
        out.push_str(&value.line(&f.key).map_err(|e| format!("{label}: {e}"))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<ConfigField> {
        let field = |key: &str, kind| ConfigField {
            key: key.into(),
            label: key.to_uppercase(),
            help: String::new(),
            kind,
        };
        vec![
            field(
                "min-length",
                ConfigKind::Integer {
                    default: 8,
                    min: 1,
                    max: 64,
                },
            ),
            field("strict", ConfigKind::Boolean { default: false }),
            field(
                "symbols",
                ConfigKind::Text {
                    default: "@#".into(),
                },
            ),
            field(
                "mode",
                ConfigKind::Choice {
                    default: "a".into(),
                    choices: vec!["a".into(), "b".into()],
                },
            ),
            field("domains", ConfigKind::TextList { default: vec![] }),
        ]
    }

    #[test]
    fn a_form_writes_only_what_differs_and_reads_back() {
        let f = fields();
        let form: HashMap<String, String> = [
            ("min-length", "12"),
            ("strict", "true"),
            ("symbols", "@#"),
            ("mode", "b"),
            ("domains", "gmail.com\n\n  outlook.com \n"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let config = write(&f, &form).unwrap();
        assert_eq!(
            config,
            "min-length = 12\nstrict = true\nmode = \"b\"\ndomains = [\"gmail.com\", \"outlook.com\"]\n"
        );
        let shown_back: Vec<String> = values(&f, &config).unwrap().iter().map(shown).collect();
        assert_eq!(
            shown_back,
            ["12", "true", "@#", "b", "gmail.com\noutlook.com"]
        );
        assert_eq!(write(&f, &HashMap::new()).unwrap(), "");
    }

    #[test]
    fn bad_input_is_named_by_label() {
        let f = fields();
        let only = |key: &str, v: &str| HashMap::from([(key.to_owned(), v.to_owned())]);
        assert_eq!(
            write(&f, &only("min-length", "99")).unwrap_err(),
            "MIN-LENGTH: use a number from 1 to 64."
        );
        assert_eq!(
            write(&f, &only("min-length", "ten")).unwrap_err(),
            "MIN-LENGTH: \"ten\" is not a whole number."
        );
        assert_eq!(
            write(&f, &only("mode", "c")).unwrap_err(),
            "MODE: \"c\" is not one of a, b."
        );
        assert!(
            values(&f, "colour = \"red\"")
                .unwrap_err()
                .contains("unknown key `colour`")
        );
        assert_eq!(
            write(&f, &only("colour", "red")).unwrap_err(),
            "This plugin has no setting `colour` (its settings: min-length, strict, symbols, mode, domains)."
        );
    }

    #[test]
    fn descriptions_are_checked() {
        let mut f = fields();
        check(&f).unwrap();
        assert_eq!(
            defaults_written(&f),
            "min-length = 8\nstrict = false\nsymbols = \"@#\"\nmode = \"a\"\ndomains = []\n"
        );
        f[0].kind = ConfigKind::Integer {
            default: 0,
            min: 1,
            max: 64,
        };
        assert_eq!(
            check(&f).unwrap_err(),
            "setting `min-length`: default 0 is not within 1 to 64"
        );
        let mut twice = fields();
        twice[1].key = "min-length".into();
        assert_eq!(
            check(&twice).unwrap_err(),
            "setting `min-length` is described twice"
        );
    }
}
