//! The description of a plugin's config (`describe-config`), one setting per call, so that the
//! operators' console renders a form:
//!
//! ```text
//! fn describe_config() -> Option<Vec<ConfigField>> {
//!     Some(vec![
//!         describe::integer("min-length", "Minimum length", "Fewest characters.", 8, 1, 1024),
//!         describe::boolean("reject-personal-info", "Refuse personal details", "…", false),
//!     ])
//! }
//! ```
//!
//! A plugin that describes its config reads it with [`crate::config::Config`], taking exactly
//! these keys with these defaults and bounds. [`defaults_written`] helps its tests prove that:
//! the host also checks, at install, that the plugin accepts every setting at its default.

use crate::config::Value;
use crate::types::{ChoiceSetting, ConfigField, ConfigKind, IntegerSetting};

fn field(key: &str, label: &str, help: &str, kind: ConfigKind) -> ConfigField {
    ConfigField {
        key: key.to_owned(),
        label: label.to_owned(),
        help: help.to_owned(),
        kind,
    }
}

/// A whole number from `min` to `max`.
pub fn integer(
    key: &str,
    label: &str,
    help: &str,
    default: i64,
    min: i64,
    max: i64,
) -> ConfigField {
    field(
        key,
        label,
        help,
        ConfigKind::Integer(IntegerSetting { default, min, max }),
    )
}

/// `true` or `false`.
pub fn boolean(key: &str, label: &str, help: &str, default: bool) -> ConfigField {
    field(key, label, help, ConfigKind::Boolean(default))
}

/// One line of text.
pub fn text(key: &str, label: &str, help: &str, default: &str) -> ConfigField {
    field(key, label, help, ConfigKind::Text(default.to_owned()))
}

/// One of `choices`.
pub fn choice(key: &str, label: &str, help: &str, default: &str, choices: &[&str]) -> ConfigField {
    field(
        key,
        label,
        help,
        ConfigKind::Choice(ChoiceSetting {
            default: default.to_owned(),
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
        }),
    )
}

/// A list of strings, such as email domains.
pub fn text_list(key: &str, label: &str, help: &str, default: &[&str]) -> ConfigField {
    field(
        key,
        label,
        help,
        ConfigKind::TextList(default.iter().map(|d| (*d).to_owned()).collect()),
    )
}

/// Every setting written at its default, as config lines: parsing it must give the same
/// settings as an empty config.
pub fn defaults_written(fields: &[ConfigField]) -> String {
    fields
        .iter()
        .map(|f| {
            let value = match &f.kind {
                ConfigKind::Integer(i) => Value::Int(i.default),
                ConfigKind::Boolean(b) => Value::Bool(*b),
                ConfigKind::Text(s) => Value::Str(s.clone()),
                ConfigKind::Choice(c) => Value::Str(c.default.clone()),
                ConfigKind::TextList(l) => Value::List(l.clone()),
            };
            value
                .line(&f.key)
                .unwrap_or_else(|e| panic!("the default of `{}` cannot be written: {e}", f.key))
        })
        .collect()
}
