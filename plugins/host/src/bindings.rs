//! Host bindings for the worlds of the contract, and the conversions between their generated
//! types and the plain types of `crate::rules`. Each call also checks the answer against the
//! contract (size, shape), so a malformed answer never reaches the domain.
//!
//! The host speaks every version of the contract it has ever published: `wit/helpdesk.wit` (the
//! current one, 0.6) and the frozen copies of the older minor versions in `plugins/host/wit/`
//! (0.1, 0.2, 0.3, 0.4, 0.5). The slots' questions are the same in all of them, so one body of code,
//! instantiated per version by `contract!`, serves them all; what a version adds comes on top:
//! 0.2's `log` import, which the linker provides once for every world, 0.3's `describe-config`
//! (`describes_config!`), which older components answer with "no description", 0.4's
//! `react` (`reacts!`), which older workflows answer through `on-event`, the actions 0.5
//! adds to its answer (`acts_0_5!`), and the request's type and fields and their actions that
//! 0.6 adds (`sees_0_6!`, `acts_0_6!`).

use super::runtime::{Bounds, CallState};
use super::{PluginError, PluginErrorKind};
use crate::rules::{
    Action, ActorRole, CandidateSite, ConfigField, ConfigKind, EligibilityDecision,
    EligibilityRequest, EventContext, MatchKind, PasswordContext, PasswordVerdict, PluginInfo,
    PluginRef, Reaction, Slot, Status, TicketEvent, TransitionDecision, TransitionRequest,
    Violation,
};
use std::collections::HashSet;
use wasmtime::component::{InstancePre, Linker};

mod answers;
use answers::{OutputSize, validate_statuses};
#[macro_use]
mod since_0_3;
#[macro_use]
mod since_0_4;
#[macro_use]
mod contract;

/// A version of the contract this host speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    V0_1,
    V0_2,
    V0_3,
    V0_4,
    V0_5,
    V0_6,
}

impl Contract {
    /// Newest first: the order in which a component's exports are matched.
    pub const ALL: [Contract; 6] = [
        Contract::V0_6,
        Contract::V0_5,
        Contract::V0_4,
        Contract::V0_3,
        Contract::V0_2,
        Contract::V0_1,
    ];

    /// The newest: the version of `wit/helpdesk.wit`.
    pub const CURRENT: Contract = Contract::V0_6;

    pub fn version(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1.0",
            Contract::V0_2 => "0.2.0",
            Contract::V0_3 => "0.3.0",
            Contract::V0_4 => "0.4.0",
            Contract::V0_5 => "0.5.0",
            Contract::V0_6 => "0.6.0",
        }
    }

    /// Whether components of this version import `log` (from 0.2).
    fn logs(self) -> bool {
        self != Contract::V0_1
    }
}

/// The name of the interface a component built against `contract` exports to fill `slot`; a
/// component exporting a compatible version of it (`surface::compatible`) fills the slot too.
pub fn export_name(slot: Slot, contract: Contract) -> String {
    let interface = match slot {
        Slot::PasswordPolicy => "password-rules",
        Slot::SignupEligibility => "eligibility",
        Slot::TicketWorkflow => "workflow",
    };
    format!("helpdesk:plugins/{interface}@{}", contract.version())
}

/// The contract's own interfaces a component may import, per version.
pub fn granted_imports() -> impl Iterator<Item = String> {
    Contract::ALL.into_iter().flat_map(|c| {
        let types = format!("helpdesk:plugins/types@{}", c.version());
        let log = c
            .logs()
            .then(|| format!("helpdesk:plugins/log@{}", c.version()));
        std::iter::once(types).chain(log)
    })
}

/// A log line's level, as the `log` interface defines it.
#[derive(
    wasmtime::component::ComponentType, wasmtime::component::Lift, Debug, Clone, Copy, PartialEq, Eq,
)]
#[component(enum)]
#[repr(u8)]
#[allow(dead_code)] // built by the lift from a guest's call
pub enum Level {
    #[component(name = "debug")]
    Debug,
    #[component(name = "info")]
    Info,
    #[component(name = "warn")]
    Warn,
    #[component(name = "error")]
    Error,
}

/// What the contract lets a plugin import: the types-only interface of every version (nothing
/// to provide but its name), and `log`.
pub fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    for contract in Contract::ALL {
        linker.instance(&format!("helpdesk:plugins/types@{}", contract.version()))?;
        if contract.logs() {
            linker
                .instance(&format!("helpdesk:plugins/log@{}", contract.version()))?
                .func_wrap(
                    "write",
                    |mut store: wasmtime::StoreContextMut<'_, CallState>,
                     (level, message): (Level, String)| {
                        store.data_mut().log(level, message);
                        Ok(())
                    },
                )?;
        }
    }
    Ok(())
}

/// A compiled, pre-linked component for one slot, in the version of the contract it was built
/// against.
#[derive(Debug)]
pub enum SlotPre {
    V0_1(v0_1::SlotPre),
    V0_2(v0_2::SlotPre),
    V0_3(v0_3::SlotPre),
    V0_4(v0_4::SlotPre),
    V0_5(v0_5::SlotPre),
    V0_6(v0_6::SlotPre),
}

/// Forwards a question to the bindings of the component's version.
macro_rules! each_version {
    ($self:ident, $pre:ident => $call:expr) => {
        match $self {
            SlotPre::V0_1($pre) => $call,
            SlotPre::V0_2($pre) => $call,
            SlotPre::V0_3($pre) => $call,
            SlotPre::V0_4($pre) => $call,
            SlotPre::V0_5($pre) => $call,
            SlotPre::V0_6($pre) => $call,
        }
    };
}

/// Checks every function of the slot's interface, for the component's version of the contract.
pub fn check_signatures(
    pre: &InstancePre<CallState>,
    slot: Slot,
    contract: Contract,
) -> Result<(), String> {
    let export = export_name(slot, contract);
    match contract {
        Contract::V0_1 => v0_1::check_signatures(pre, slot, &export),
        Contract::V0_2 => v0_2::check_signatures(pre, slot, &export),
        Contract::V0_3 => v0_3::check_signatures(pre, slot, &export)
            .and_then(|()| v0_3::check_describe_config(pre, &export)),
        Contract::V0_4 => v0_4::check_signatures(pre, slot, &export)
            .and_then(|()| v0_4::check_describe_config(pre, &export))
            .and_then(|()| match slot {
                Slot::TicketWorkflow => v0_4::check_react(pre, &export),
                _ => Ok(()),
            }),
        Contract::V0_5 => v0_5::check_signatures(pre, slot, &export)
            .and_then(|()| v0_5::check_describe_config(pre, &export))
            .and_then(|()| match slot {
                Slot::TicketWorkflow => v0_5::check_react(pre, &export),
                _ => Ok(()),
            }),
        Contract::V0_6 => v0_6::check_signatures(pre, slot, &export)
            .and_then(|()| v0_6::check_describe_config(pre, &export))
            .and_then(|()| match slot {
                Slot::TicketWorkflow => v0_6::check_react(pre, &export),
                _ => Ok(()),
            }),
    }
}

impl SlotPre {
    pub fn new(
        slot: Slot,
        contract: Contract,
        pre: InstancePre<CallState>,
    ) -> wasmtime::Result<SlotPre> {
        Ok(match contract {
            Contract::V0_1 => SlotPre::V0_1(v0_1::SlotPre::new(slot, pre)?),
            Contract::V0_2 => SlotPre::V0_2(v0_2::SlotPre::new(slot, pre)?),
            Contract::V0_3 => SlotPre::V0_3(v0_3::SlotPre::new(slot, pre)?),
            Contract::V0_4 => SlotPre::V0_4(v0_4::SlotPre::new(slot, pre)?),
            Contract::V0_5 => SlotPre::V0_5(v0_5::SlotPre::new(slot, pre)?),
            Contract::V0_6 => SlotPre::V0_6(v0_6::SlotPre::new(slot, pre)?),
        })
    }

    pub fn contract(&self) -> Contract {
        match self {
            SlotPre::V0_1(_) => Contract::V0_1,
            SlotPre::V0_2(_) => Contract::V0_2,
            SlotPre::V0_3(_) => Contract::V0_3,
            SlotPre::V0_4(_) => Contract::V0_4,
            SlotPre::V0_5(_) => Contract::V0_5,
            SlotPre::V0_6(_) => Contract::V0_6,
        }
    }

    /// The plugin's description of its config, checked against the contract's rules; `None`
    /// when it gives none, as every component older than 0.3 does.
    pub fn describe_config(
        &self,
        rt: &Bounds<'_>,
        plugin: &PluginRef,
    ) -> Result<Option<Vec<ConfigField>>, PluginError> {
        let fields = match self {
            SlotPre::V0_3(pre) => pre.describe_config(rt, plugin)?,
            SlotPre::V0_4(pre) => pre.describe_config(rt, plugin)?,
            SlotPre::V0_5(pre) => pre.describe_config(rt, plugin)?,
            SlotPre::V0_6(pre) => pre.describe_config(rt, plugin)?,
            _ => return Ok(None),
        };
        if let Some(fields) = &fields {
            crate::config_form::check(fields).map_err(|why| malformed(plugin, why))?;
        }
        Ok(fields)
    }

    pub fn info(&self, rt: &Bounds<'_>, plugin: &PluginRef) -> Result<PluginInfo, PluginError> {
        each_version!(self, pre => pre.info(rt, plugin))
    }

    pub fn validate_config(
        &self,
        rt: &Bounds<'_>,
        plugin: &PluginRef,
        config: &str,
    ) -> Result<Result<(), String>, PluginError> {
        each_version!(self, pre => pre.validate_config(rt, plugin, config))
    }

    pub fn check_password(
        &self,
        rt: &Bounds<'_>,
        plugin: &PluginRef,
        config: &str,
        password: &str,
        context: &PasswordContext,
    ) -> Result<PasswordVerdict, PluginError> {
        each_version!(self, pre => pre.check_password(rt, plugin, config, password, context))
    }

    pub fn password_requirements(
        &self,
        rt: &Bounds<'_>,
        plugin: &PluginRef,
        config: &str,
    ) -> Result<String, PluginError> {
        each_version!(self, pre => pre.password_requirements(rt, plugin, config))
    }

    pub fn decide_eligibility(
        &self,
        rt: &Bounds<'_>,
        plugin: &PluginRef,
        config: &str,
        request: &EligibilityRequest,
    ) -> Result<EligibilityDecision, PluginError> {
        each_version!(self, pre => pre.decide_eligibility(rt, plugin, config, request))
    }

    pub fn workflow_statuses(
        &self,
        rt: &Bounds<'_>,
        plugin: &PluginRef,
        config: &str,
    ) -> Result<Vec<Status>, PluginError> {
        each_version!(self, pre => pre.workflow_statuses(rt, plugin, config))
    }

    pub fn can_transition(
        &self,
        rt: &Bounds<'_>,
        plugin: &PluginRef,
        config: &str,
        request: &TransitionRequest,
    ) -> Result<TransitionDecision, PluginError> {
        each_version!(self, pre => pre.can_transition(rt, plugin, config, request))
    }

    pub fn on_event(
        &self,
        rt: &Bounds<'_>,
        plugin: &PluginRef,
        config: &str,
        context: &EventContext,
    ) -> Result<Option<String>, PluginError> {
        each_version!(self, pre => pre.on_event(rt, plugin, config, context))
    }

    /// The actions the workflow takes on an event. A component of 0.4 or later is asked `react`;
    /// an older one `on-event`, for the events it knows, and its move (if any) is the one
    /// action.
    pub fn react(
        &self,
        rt: &Bounds<'_>,
        plugin: &PluginRef,
        config: &str,
        reaction: &Reaction,
    ) -> Result<Vec<Action>, PluginError> {
        match self {
            SlotPre::V0_4(pre) => return pre.react(rt, plugin, config, reaction),
            SlotPre::V0_5(pre) => return pre.react(rt, plugin, config, reaction),
            SlotPre::V0_6(pre) => return pre.react(rt, plugin, config, reaction),
            _ => {}
        }
        let Some(event) = reaction.event.older() else {
            return Ok(Vec::new());
        };
        let context = EventContext {
            event,
            status: reaction.request.status.clone(),
            seconds_in_status: reaction.request.seconds_in_status,
        };
        Ok(self
            .on_event(rt, plugin, config, &context)?
            .map(|status| Action::SetStatus { status })
            .into_iter()
            .collect())
    }
}

/// Checks that function `name` of the component's `export` has the contract's signature.
fn check_function<Params, Results>(
    pre: &InstancePre<CallState>,
    export: &str,
    name: &str,
) -> Result<(), String>
where
    Params: wasmtime::component::ComponentNamedList + wasmtime::component::Lower,
    Results: wasmtime::component::ComponentNamedList + wasmtime::component::Lift,
{
    use wasmtime::component::types::ComponentItem;
    let component = pre.component();
    let (_, interface) = component
        .get_export(None, export)
        .ok_or_else(|| format!("the component does not export `{export}`"))?;
    let item = component.get_export(Some(&interface), name).map(|(i, _)| i);
    let Some(ComponentItem::ComponentFunc(func)) = item else {
        return Err(format!("`{export}` has no function `{name}`"));
    };
    func.typecheck::<Params, Results>(&pre.instance_type())
        .map_err(|e| {
            format!(
                "`{name}` in `{export}` does not match the contract: {e:#} (rebuild the plugin against wit/helpdesk.wit)"
            )
        })
}

contract!(v0_1, "wit/v0.1");
contract!(v0_2, "wit/v0.2");
contract!(v0_3, "wit/v0.3", describes_config);
contract!(
    v0_4,
    "wit/v0.4",
    describes_config,
    reacts,
    acts_0_4,
    sees_0_4
);
contract!(
    v0_5,
    "wit/v0.5",
    describes_config,
    reacts,
    acts_0_5,
    sees_0_4
);
contract!(
    v0_6,
    "../../wit",
    describes_config,
    reacts,
    acts_0_6,
    sees_0_6
);

fn malformed(plugin: &PluginRef, why: String) -> PluginError {
    let err = PluginError::new(plugin.clone(), PluginErrorKind::Malformed(why));
    tracing::error!(plugin.name = %plugin.name, plugin.version = %plugin.version, plugin.sha256 = %plugin.sha256, error = %err, "plugin answer refused");
    err
}

fn wrong_slot(plugin: &PluginRef, wanted: Slot, found: Slot) -> PluginError {
    PluginError::new(
        plugin.clone(),
        PluginErrorKind::Malformed(format!("a {found} plugin was asked a {wanted} question")),
    )
}
