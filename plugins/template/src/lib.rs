//! An example rule plugin inside this workspace: a password policy that asks for a long
//! passphrase. To start a plugin of your own, outside this repository and in Rust, Python or
//! JavaScript, use the plugin runner: `helpdesk-plugin new password-policy my-policy` (see
//! docs/plugins.md).
//!
//! Build the component with
//!
//! ```text
//! cargo build -p helpdesk-plugin-template --target wasm32-wasip2 --profile plugin
//! ```
//!
//! and run its examples with `helpdesk-plugin test
//! target/wasm32-wasip2/plugin/helpdesk_plugin_template.wasm plugins/template/examples.json`.
//!
//! Config: `min-length` (default 12).

use helpdesk_plugin_sdk::config::Config;
use helpdesk_plugin_sdk::describe;
use helpdesk_plugin_sdk::password_policy::exports::helpdesk::plugins::password_rules::{
    self, PasswordContext, Verdict, Violation,
};
use helpdesk_plugin_sdk::types::{ConfigField, PluginInfo};

/// Reads the operator's config; every error message is shown to the operator as it is.
fn min_length(config: &str) -> Result<usize, String> {
    let mut c = Config::parse(config)?;
    let min = c.take_int("min-length", 1, 256)?.unwrap_or(12) as usize;
    c.finish()?;
    Ok(min)
}

#[derive(Debug)]
pub struct Passphrase;

impl password_rules::Guest for Passphrase {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "password-passphrase".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            summary: "Any passphrase of at least 12 characters".to_owned(),
        }
    }

    fn validate_config(config: String) -> Result<(), String> {
        min_length(&config).map(|_| ())
    }

    fn describe_config() -> Option<Vec<ConfigField>> {
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
        if password.chars().count() >= min {
            Verdict::Accepted
        } else {
            Verdict::Rejected(vec![Violation {
                code: "too-short".to_owned(),
                message: format!(
                    "Use at least {min} characters; a few words make a good passphrase."
                ),
            }])
        }
    }

    fn requirements(config: String) -> String {
        let min = min_length(&config).unwrap_or(12);
        format!(
            "Use at least {min} characters; a few unrelated words make a strong, memorable passphrase."
        )
    }
}

// The component exports exist only in the wasm build; native builds run the same code in tests.
#[cfg(target_arch = "wasm32")]
helpdesk_plugin_sdk::export_password_policy!(Passphrase);

#[cfg(test)]
mod tests {
    use super::*;
    use password_rules::Guest as _;

    #[test]
    fn examples_table() {
        let examples: serde_json::Value =
            serde_json::from_str(include_str!("../examples.json")).unwrap();
        for case in examples["cases"].as_array().unwrap() {
            let config = examples["configs"][case["config"].as_str().unwrap()]
                .as_str()
                .unwrap()
                .to_owned();
            let context = PasswordContext {
                email: String::new(),
                given_name: String::new(),
                surname: String::new(),
            };
            let got: Vec<String> =
                match Passphrase::check(config, case["password"].as_str().unwrap().into(), context)
                {
                    Verdict::Accepted => vec![],
                    Verdict::Rejected(v) => v.into_iter().map(|v| v.code).collect(),
                };
            let expected: Vec<String> = serde_json::from_value(case["expect"].clone()).unwrap();
            assert_eq!(got, expected, "{case}");
        }
    }
}
