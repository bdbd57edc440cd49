//! The default sign-up eligibility rule: an address may join a customer site when its domain (or,
//! for a generic mail domain such as gmail.com, the full address) is registered to the site, the
//! site's maintenance contract has not expired, and the site has at least one active licence.
//!
//! Config (all optional):
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `generic-domains` | common free-mail domains | domains where only a registered full address counts |
//! | `min-active-licences` | 1 | licences a site needs |
//! | `review-unregistered` | false | send unknown addresses to staff for review instead of refusing |

use helpdesk_plugin_sdk::config::Config;
use helpdesk_plugin_sdk::describe;
use helpdesk_plugin_sdk::signup_eligibility::exports::helpdesk::plugins::eligibility::{
    self, CandidateSite, Decision, EligibilityRequest, MatchKind,
};
use helpdesk_plugin_sdk::types::Date;
use helpdesk_plugin_sdk::types::{ConfigField, PluginInfo};

/// Free-mail domains that identify a person, not an organisation.
pub const DEFAULT_GENERIC_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.net",
    "mail.com",
    "yandex.com",
    "qq.com",
    "163.com",
];

/// The settings [`Settings::parse`] reads, for the operators' console.
pub fn describe() -> Vec<ConfigField> {
    vec![
        describe::text_list(
            "generic-domains",
            "Generic mail domains",
            "Domains that identify a person, not an organisation (one per line): for them only a site's registered full address counts.",
            DEFAULT_GENERIC_DOMAINS,
        ),
        describe::integer(
            "min-active-licences",
            "Licences a site needs",
            "The fewest active product licences a site must have for new users to join it.",
            1,
            0,
            1_000_000,
        ),
        describe::boolean(
            "review-unregistered",
            "Review unknown addresses",
            "Send sign-ups from addresses no site has registered to staff for review, instead of refusing them.",
            false,
        ),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The operator's generic-domain list; `None` means [`DEFAULT_GENERIC_DOMAINS`].
    pub generic_domains: Option<Vec<String>>,
    pub min_active_licences: u32,
    pub review_unregistered: bool,
}

impl Settings {
    pub fn parse(src: &str) -> Result<Settings, String> {
        let mut c = Config::parse(src)?;
        let generic_domains = c
            .take_list("generic-domains")?
            .map(normalise_domains)
            .transpose()?;
        let min_active_licences = c
            .take_int("min-active-licences", 0, 1_000_000)?
            .unwrap_or(1) as u32;
        let review_unregistered = c.take_bool("review-unregistered")?.unwrap_or(false);
        c.finish()?;
        Ok(Settings {
            generic_domains,
            min_active_licences,
            review_unregistered,
        })
    }

    pub fn decide(&self, request: &EligibilityRequest) -> Decision {
        let generic = match &self.generic_domains {
            Some(list) => list.contains(&request.domain),
            None => DEFAULT_GENERIC_DOMAINS.contains(&request.domain.as_str()),
        };
        // For a generic domain, a domain match says nothing about the person.
        let registered: Vec<&CandidateSite> = request
            .candidates
            .iter()
            .filter(|c| !generic || c.matched_by == MatchKind::Address)
            .collect();
        if registered.is_empty() {
            let why = if generic {
                format!(
                    "{} is a generic mail domain and the address is not registered to any site",
                    request.domain
                )
            } else {
                format!(
                    "the domain {} is not registered to any site",
                    request.domain
                )
            };
            return if self.review_unregistered {
                Decision::NeedsReview(why)
            } else {
                Decision::Ineligible(why)
            };
        }
        let mut eligible = Vec::new();
        let mut problems = Vec::new();
        for site in registered {
            let maintained = site
                .maintenance_until
                .is_some_and(|until| date_key(until) >= date_key(request.today));
            let licensed = site.active_licences >= self.min_active_licences;
            match (maintained, licensed) {
                (true, true) => eligible.push(site.site_id),
                (false, _) => problems.push(format!(
                    "{}: maintenance contract {}",
                    site.name,
                    match site.maintenance_until {
                        Some(d) => format!("ended {:04}-{:02}-{:02}", d.year, d.month, d.day),
                        None => "missing".to_owned(),
                    }
                )),
                (true, false) => problems.push(format!(
                    "{}: {} active licence(s), {} needed",
                    site.name, site.active_licences, self.min_active_licences
                )),
            }
        }
        if eligible.is_empty() {
            Decision::Ineligible(format!(
                "no registered site qualifies ({})",
                problems.join("; ")
            ))
        } else {
            Decision::Eligible(eligible)
        }
    }
}

/// Lowercases and trims an operator's domain list, refusing anything that is not a domain.
fn normalise_domains(list: Vec<String>) -> Result<Vec<String>, String> {
    let list: Vec<String> = list.into_iter().map(|d| d.trim().to_lowercase()).collect();
    match list
        .iter()
        .find(|d| d.is_empty() || d.contains('@') || !d.contains('.'))
    {
        Some(bad) => Err(format!(
            "`generic-domains`: {bad:?} is not a domain like \"gmail.com\""
        )),
        None => Ok(list),
    }
}

fn date_key(d: Date) -> (i32, u8, u8) {
    (d.year, d.month, d.day)
}

/// The component: the exports of the `signup-eligibility` world.
#[derive(Debug)]
pub struct RegisteredDomain;

impl eligibility::Guest for RegisteredDomain {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "eligibility-registered-domain".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            summary: "Domain (or full address for generic mail domains) registered to a site with maintenance and an active licence".to_owned(),
        }
    }

    fn validate_config(config: String) -> Result<(), String> {
        Settings::parse(&config).map(|_| ())
    }

    fn describe_config() -> Option<Vec<ConfigField>> {
        Some(describe())
    }

    fn decide(config: String, request: EligibilityRequest) -> Decision {
        match Settings::parse(&config) {
            Ok(settings) => settings.decide(&request),
            Err(e) => Decision::Ineligible(format!("the eligibility plugin is misconfigured: {e}")),
        }
    }
}

// The component exports exist only in the wasm build; native builds run the same code in tests.
#[cfg(target_arch = "wasm32")]
helpdesk_plugin_sdk::export_signup_eligibility!(RegisteredDomain);

#[cfg(test)]
mod tests;
