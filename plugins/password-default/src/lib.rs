//! The default password policy: the portal's long-standing rule of 8 to 16 characters drawn from
//! lowercase, uppercase, digits and a fixed set of symbols, with at least 3 of those 4 classes.
//!
//! Config (all optional):
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `min-length` | 8 | fewest characters |
//! | `max-length` | 16 | most characters |
//! | `min-classes` | 3 | how many of lowercase, uppercase, digits, symbols must appear (1–4) |
//! | `symbols` | ``@#$%^&*-_+=[]{}\|\:',?/`~"();.`` | the symbols allowed |
//! | `reject-personal-info` | false | refuse passwords containing the email's local part, given name or surname (3+ letters) |
//!
//! Characters outside the four classes (spaces, letters with accents, other symbols) are refused.

use helpdesk_plugin_sdk::config::Config;
use helpdesk_plugin_sdk::describe;
use helpdesk_plugin_sdk::password_policy::exports::helpdesk::plugins::password_rules::{
    self, PasswordContext, Verdict, Violation,
};
use helpdesk_plugin_sdk::types::{ConfigField, PluginInfo};

/// The symbols of the seed rule: @ # $ % ^ & * - _ + = [ ] { } | \ : ' , ? / ` ~ " ( ) ; .
pub const DEFAULT_SYMBOLS: &str = "@#$%^&*-_+=[]{}|\\:',?/`~\"();.";

/// The policy's settings after reading the operator's config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub min_length: usize,
    pub max_length: usize,
    pub min_classes: usize,
    pub symbols: String,
    pub reject_personal_info: bool,
}

impl Settings {
    pub fn parse(src: &str) -> Result<Settings, String> {
        let mut c = Config::parse(src)?;
        let min_length = c.take_int("min-length", 1, 1024)?.unwrap_or(8) as usize;
        let max_length = c.take_int("max-length", 1, 1024)?.unwrap_or(16) as usize;
        let min_classes = c.take_int("min-classes", 1, 4)?.unwrap_or(3) as usize;
        let symbols = c
            .take_str("symbols")?
            .unwrap_or_else(|| DEFAULT_SYMBOLS.to_owned());
        let reject_personal_info = c.take_bool("reject-personal-info")?.unwrap_or(false);
        c.finish()?;
        if min_length > max_length {
            return Err(format!(
                "`min-length` ({min_length}) is greater than `max-length` ({max_length})"
            ));
        }
        if let Some(bad) = symbols
            .chars()
            .find(|c| c.is_ascii_alphanumeric() || c.is_whitespace() || c.is_control())
        {
            return Err(format!(
                "`symbols` may not contain letters, digits or spaces (found {bad:?})"
            ));
        }
        Ok(Settings {
            min_length,
            max_length,
            min_classes,
            symbols,
            reject_personal_info,
        })
    }

    /// Every violation of `password`, in a stable order; empty when the password is acceptable.
    pub fn violations(&self, password: &str, context: &PasswordContext) -> Vec<Violation> {
        let mut out = Vec::new();
        let length = password.chars().count();
        if length < self.min_length {
            out.push(violation(
                "too-short",
                format!("Use at least {} characters.", self.min_length),
            ));
        }
        if length > self.max_length {
            out.push(violation(
                "too-long",
                format!("Use at most {} characters.", self.max_length),
            ));
        }
        let (mut lower, mut upper, mut digit, mut symbol, mut other) =
            (false, false, false, false, false);
        for c in password.chars() {
            match c {
                'a'..='z' => lower = true,
                'A'..='Z' => upper = true,
                '0'..='9' => digit = true,
                c if self.symbols.contains(c) => symbol = true,
                _ => other = true,
            }
        }
        if other {
            out.push(violation(
                "invalid-character",
                format!(
                    "Use only letters a–z and A–Z, digits 0–9 and these symbols: {}",
                    spaced(&self.symbols)
                ),
            ));
        }
        let classes = [lower, upper, digit, symbol].iter().filter(|&&b| b).count();
        if classes < self.min_classes {
            out.push(violation(
                "too-few-classes",
                format!(
                    "Use at least {} of: lowercase letters, uppercase letters, digits, symbols.",
                    self.min_classes
                ),
            ));
        }
        if self.reject_personal_info && contains_personal_info(password, context) {
            out.push(violation(
                "contains-personal-info",
                "Do not use your name or email address in your password.".to_owned(),
            ));
        }
        out
    }

    pub fn requirements(&self) -> String {
        let classes = match self.min_classes {
            4 => "all of".to_owned(),
            n => format!("at least {n} of"),
        };
        let mut s = format!(
            "Use {} to {} characters, with {classes}: lowercase letters, uppercase letters, digits (0-9), symbols ({}).",
            self.min_length,
            self.max_length,
            spaced(&self.symbols)
        );
        if self.reject_personal_info {
            s.push_str(" Do not use your name or email address.");
        }
        s
    }
}

/// The settings [`Settings::parse`] reads, for the operators' console.
pub fn describe() -> Vec<ConfigField> {
    vec![
        describe::integer(
            "min-length",
            "Minimum length",
            "The fewest characters a password may have.",
            8,
            1,
            1024,
        ),
        describe::integer(
            "max-length",
            "Maximum length",
            "The most characters a password may have; not less than the minimum.",
            16,
            1,
            1024,
        ),
        describe::integer(
            "min-classes",
            "Character kinds required",
            "How many of lowercase letters, uppercase letters, digits and symbols a password must mix.",
            3,
            1,
            4,
        ),
        describe::text(
            "symbols",
            "Symbols allowed",
            "Every symbol a password may use (no letters, digits or spaces); other characters are refused.",
            DEFAULT_SYMBOLS,
        ),
        describe::boolean(
            "reject-personal-info",
            "Refuse personal details",
            "Refuse passwords that contain the account's email name, given name or surname (3 letters or more).",
            false,
        ),
    ]
}

fn violation(code: &str, message: String) -> Violation {
    Violation {
        code: code.to_owned(),
        message,
    }
}

fn spaced(symbols: &str) -> String {
    let mut out = String::with_capacity(symbols.len() * 2);
    for (i, c) in symbols.chars().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn contains_personal_info(password: &str, context: &PasswordContext) -> bool {
    let password = password.to_lowercase();
    let local = context.email.split('@').next().unwrap_or_default();
    [local, context.given_name.as_str(), context.surname.as_str()]
        .iter()
        .map(|part| part.trim().to_lowercase())
        .any(|part| part.chars().count() >= 3 && password.contains(&part))
}

/// The component: the exports of the `password-policy` world.
#[derive(Debug)]
pub struct PasswordDefault;

impl password_rules::Guest for PasswordDefault {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "password-default".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            summary: "8–16 characters with 3 of lowercase, uppercase, digits and symbols; limits configurable".to_owned(),
        }
    }

    fn validate_config(config: String) -> Result<(), String> {
        Settings::parse(&config).map(|_| ())
    }

    fn describe_config() -> Option<Vec<ConfigField>> {
        Some(describe())
    }

    fn check(config: String, password: String, context: PasswordContext) -> Verdict {
        match Settings::parse(&config) {
            Ok(settings) => {
                let violations = settings.violations(&password, &context);
                if violations.is_empty() {
                    Verdict::Accepted
                } else {
                    Verdict::Rejected(violations)
                }
            }
            // The host validated the config at install; refuse rather than guess if it did not.
            Err(e) => Verdict::Rejected(vec![violation("invalid-config", e)]),
        }
    }

    fn requirements(config: String) -> String {
        Settings::parse(&config)
            .map(|s| s.requirements())
            .unwrap_or_else(|e| format!("The password policy is misconfigured: {e}"))
    }
}

// The component exports exist only in the wasm build; native builds run the same code in tests.
#[cfg(target_arch = "wasm32")]
helpdesk_plugin_sdk::export_password_policy!(PasswordDefault);

#[cfg(test)]
mod tests;
