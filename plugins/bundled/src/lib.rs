//! The plugins that ship inside the `helpdesk` binary, as WebAssembly component bytes, together
//! with the examples each one is tested against. On first start the host installs and activates
//! one per slot.

/// A plugin compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct Bundled {
    /// The slot it fills: `password-policy`, `signup-eligibility` or `ticket-workflow`.
    pub slot: &'static str,
    /// The component's bytes.
    pub wasm: &'static [u8],
    /// The plugin's `examples.json`, runnable with `helpdesk plugin test`.
    pub examples: &'static str,
}

macro_rules! wasm {
    ($file:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/", $file))
    };
}

pub const PASSWORD_DEFAULT: Bundled = Bundled {
    slot: "password-policy",
    wasm: wasm!("helpdesk_plugin_password_default.wasm"),
    examples: include_str!("../../password-default/examples.json"),
};

pub const ELIGIBILITY_REGISTERED_DOMAIN: Bundled = Bundled {
    slot: "signup-eligibility",
    wasm: wasm!("helpdesk_plugin_eligibility_registered_domain.wasm"),
    examples: include_str!("../../eligibility-registered-domain/examples.json"),
};

pub const WORKFLOW_DEFAULT: Bundled = Bundled {
    slot: "ticket-workflow",
    wasm: wasm!("helpdesk_plugin_workflow_default.wasm"),
    examples: include_str!("../../workflow-default/examples.json"),
};

/// The default plugin of every slot, installed and activated on first start.
pub const DEFAULTS: [Bundled; 3] = [
    PASSWORD_DEFAULT,
    ELIGIBILITY_REGISTERED_DOMAIN,
    WORKFLOW_DEFAULT,
];

/// Components for the host's own tests; built only with the `fixtures` feature.
#[cfg(feature = "fixtures")]
pub mod fixtures {
    use super::Bundled;

    /// A password policy that misbehaves as its config says (see `plugins/fixtures/hostile`).
    pub const HOSTILE: &[u8] = wasm!("helpdesk_plugin_hostile.wasm");

    /// The plugin template: a passphrase policy.
    pub const TEMPLATE: Bundled = Bundled {
        slot: "password-policy",
        wasm: wasm!("helpdesk_plugin_template.wasm"),
        examples: include_str!("../../template/examples.json"),
    };

    /// A second ticket workflow with other statuses: New, Triaged, Waiting on Customer, Resolved.
    pub const WORKFLOW_TRIAGE: &[u8] = wasm!("helpdesk_plugin_workflow_triage.wasm");

    /// A workflow that acts (contract 0.5): urgent renewals to a named agent (their site's
    /// administrators emailed, a webhook called), requests waiting for their customer reminded
    /// and closed by timers, and a loop of answers for the cascade's limit.
    pub const WORKFLOW_RENEWALS: &[u8] = wasm!("helpdesk_plugin_workflow_renewals.wasm");

    /// A password policy built against WIT 0.1.1, a patch release newer than the host's.
    pub const NEXT_PATCH: &[u8] = wasm!("helpdesk_plugin_next_patch.wasm");

    /// A ticket workflow built against WIT 0.3.0: it answers events through `on-event`.
    pub const THIRD_CONTRACT: &[u8] = wasm!("helpdesk_plugin_third_contract.wasm");

    /// A ticket workflow built against WIT 0.4.0: it reacts with 0.4's actions.
    pub const FOURTH_CONTRACT: &[u8] = wasm!("helpdesk_plugin_fourth_contract.wasm");

    /// A ticket workflow built against WIT 0.5.0: it reacts with 0.5's actions on the request
    /// as 0.5 sees it.
    pub const FIFTH_CONTRACT: &[u8] = wasm!("helpdesk_plugin_fifth_contract.wasm");

    /// A password policy built against WIT 0.1.0, the contract's first release.
    pub const FIRST_CONTRACT: &[u8] = wasm!("helpdesk_plugin_first_contract.wasm");

    /// A password policy built against WIT 0.2.0, which logs but does not describe its config.
    pub const SECOND_CONTRACT: &[u8] = wasm!("helpdesk_plugin_second_contract.wasm");

    /// A password policy whose `check` and `requirements` differ from the contract's.
    pub const WRONG_SHAPE: &[u8] = wasm!("helpdesk_plugin_wrong_shape.wasm");
}
