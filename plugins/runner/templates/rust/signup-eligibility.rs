//! {{name}}: who may sign up. A visitor is eligible for every candidate site (a site whose
//! domain or address list matches the email) that has a licence free; change `decide` to your
//! rule.
//!
//! Build: `cargo build --release` (the component is
//! `target/wasm32-wasip2/release/{{file}}.wasm`).
//! Test: `helpdesk-plugin test target/wasm32-wasip2/release/{{file}}.wasm examples.json`.
//!
//! Config (`key = value` lines, set by the operator at install): `review-when-full` (default
//! false): ask staff to review instead of refusing when every candidate is out of licences.

use helpdesk_plugin_sdk::config::Config;
use helpdesk_plugin_sdk::signup_eligibility::exports::helpdesk::plugins::eligibility::{
    self, Decision, EligibilityRequest,
};
use helpdesk_plugin_sdk::describe;
use helpdesk_plugin_sdk::types::{ConfigField, PluginInfo};

fn review_when_full(config: &str) -> Result<bool, String> {
    let mut c = Config::parse(config)?;
    let review = c.take_bool("review-when-full")?.unwrap_or(false);
    c.finish()?;
    Ok(review)
}

struct Plugin;

impl eligibility::Guest for Plugin {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "{{name}}".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            summary: "Sign-up for sites that match the email and have a licence free".to_owned(),
        }
    }

    fn validate_config(config: String) -> Result<(), String> {
        review_when_full(&config).map(|_| ())
    }

    fn describe_config() -> Option<Vec<ConfigField>> {
        // What `review_when_full` reads, so the console shows a form.
        Some(vec![describe::boolean(
            "review-when-full",
            "Review when full",
            "Ask staff to review a sign-up, instead of refusing it, when every matching site is out of licences.",
            false,
        )])
    }

    fn decide(config: String, request: EligibilityRequest) -> Decision {
        if request.candidates.is_empty() {
            return Decision::Ineligible(format!(
                "No customer site is registered for {}.",
                request.domain
            ));
        }
        let open: Vec<u64> = request
            .candidates
            .iter()
            .filter(|c| c.active_licences > 0)
            .map(|c| c.site_id)
            .collect();
        if !open.is_empty() {
            Decision::Eligible(open)
        } else if review_when_full(&config).unwrap_or(false) {
            Decision::NeedsReview("Every matching site is out of licences.".to_owned())
        } else {
            Decision::Ineligible("Every matching site is out of licences.".to_owned())
        }
    }
}

helpdesk_plugin_sdk::export_signup_eligibility!(Plugin);
