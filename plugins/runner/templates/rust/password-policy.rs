//! {{name}}: a password policy. It asks for a long passphrase; change `check` to your rule.
//!
//! Build: `cargo build --release` (the component is
//! `target/wasm32-wasip2/release/{{file}}.wasm`).
//! Test: `helpdesk-plugin test target/wasm32-wasip2/release/{{file}}.wasm examples.json`.
//!
//! Config (`key = value` lines, set by the operator at install): `min-length` (default 12).

use helpdesk_plugin_sdk::config::Config;
use helpdesk_plugin_sdk::password_policy::exports::helpdesk::plugins::password_rules::{
    self, PasswordContext, Verdict, Violation,
};
use helpdesk_plugin_sdk::describe;
use helpdesk_plugin_sdk::types::{ConfigField, PluginInfo};

/// Reads the operator's config; every error message is shown to the operator as it is.
fn min_length(config: &str) -> Result<usize, String> {
    let mut c = Config::parse(config)?;
    let min = c.take_int("min-length", 1, 256)?.unwrap_or(12) as usize;
    c.finish()?;
    Ok(min)
}

struct Plugin;

impl password_rules::Guest for Plugin {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "{{name}}".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            summary: "Any passphrase of at least 12 characters".to_owned(),
        }
    }

    fn validate_config(config: String) -> Result<(), String> {
        min_length(&config).map(|_| ())
    }

    fn describe_config() -> Option<Vec<ConfigField>> {
        // What `min_length` reads, so the console shows a form.
        Some(vec![describe::integer(
            "min-length",
            "Minimum length",
            "The fewest characters a passphrase may have.",
            12,
            1,
            256,
        )])
    }

    fn check(config: String, password: String, _context: PasswordContext) -> Verdict {
        let min = min_length(&config).unwrap_or(12);
        let length = password.chars().count();
        if length >= min {
            Verdict::Accepted
        } else {
            // Never log the password itself: logs reach the operator.
            helpdesk_plugin_sdk::log::debug(&format!("{length} characters, {min} needed"));
            Verdict::Rejected(vec![Violation {
                code: "too-short".to_owned(),
                message: format!("Use at least {min} characters; a few words make a good passphrase."),
            }])
        }
    }

    fn requirements(config: String) -> String {
        let min = min_length(&config).unwrap_or(12);
        format!("Use at least {min} characters; a few unrelated words make a strong, memorable passphrase.")
    }
}

helpdesk_plugin_sdk::export_password_policy!(Plugin);
