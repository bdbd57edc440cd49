//! The body of code every version of the contract shares: `contract!` expands it once per
//! version, inside a module of that version's generated types, with the macros of what later
//! versions add (`since_0_3`, `since_0_4`).

/// The bindings of one version of the contract: the three worlds' generated types, the
/// pre-linked component of a slot, and one method per question.
/// `$added` names macros that add what later versions have on top of the shared questions.
macro_rules! contract {
    ($version:ident, $wit:tt $(, $added:ident)*) => {
        pub mod $version {
            use super::*;

            mod password {
                wasmtime::component::bindgen!({ world: "password-policy", path: $wit });
            }
            mod eligibility {
                wasmtime::component::bindgen!({ world: "signup-eligibility", path: $wit });
            }
            mod workflow {
                wasmtime::component::bindgen!({ world: "ticket-workflow", path: $wit });
            }

            $( $added!(); )*

            use eligibility::exports::helpdesk::plugins::eligibility as e;
            use password::exports::helpdesk::plugins::password_rules as p;
            use workflow::exports::helpdesk::plugins::workflow as w;

            /// Checks every function of the slot's interface against the contract before
            /// anything runs, naming the first that differs.
            pub fn check_signatures(
                pre: &InstancePre<CallState>,
                slot: Slot,
                export: &str,
            ) -> Result<(), String> {
                macro_rules! check {
                    ($name:literal, $params:ty, $results:ty) => {
                        check_function::<$params, $results>(pre, export, $name)?
                    };
                }
                match slot {
                    Slot::PasswordPolicy => {
                        check!("info", (), (password::helpdesk::plugins::types::PluginInfo,));
                        check!("validate-config", (&str,), (Result<(), String>,));
                        check!("check", (&str, &str, &p::PasswordContext), (p::Verdict,));
                        check!("requirements", (&str,), (String,));
                    }
                    Slot::SignupEligibility => {
                        check!("info", (), (eligibility::helpdesk::plugins::types::PluginInfo,));
                        check!("validate-config", (&str,), (Result<(), String>,));
                        check!("decide", (&str, &e::EligibilityRequest), (e::Decision,));
                    }
                    Slot::TicketWorkflow => {
                        check!("info", (), (workflow::helpdesk::plugins::types::PluginInfo,));
                        check!("validate-config", (&str,), (Result<(), String>,));
                        check!("statuses", (&str,), (Vec<w::Status>,));
                        check!("can-transition", (&str, &w::TransitionRequest), (w::TransitionDecision,));
                        check!("on-event", (&str, &w::EventContext), (Option<String>,));
                    }
                }
                Ok(())
            }

        pub enum SlotPre {
            Password(password::PasswordPolicyPre<CallState>),
            Eligibility(eligibility::SignupEligibilityPre<CallState>),
            Workflow(workflow::TicketWorkflowPre<CallState>),
        }

        impl std::fmt::Debug for SlotPre {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(match self {
                    SlotPre::Password(_) => "SlotPre::Password",
                    SlotPre::Eligibility(_) => "SlotPre::Eligibility",
                    SlotPre::Workflow(_) => "SlotPre::Workflow",
                })
            }
        }

        impl SlotPre {
            pub fn new(slot: Slot, pre: InstancePre<CallState>) -> wasmtime::Result<SlotPre> {
                Ok(match slot {
                    Slot::PasswordPolicy => SlotPre::Password(password::PasswordPolicyPre::new(pre)?),
                    Slot::SignupEligibility => {
                        SlotPre::Eligibility(eligibility::SignupEligibilityPre::new(pre)?)
                    }
                    Slot::TicketWorkflow => SlotPre::Workflow(workflow::TicketWorkflowPre::new(pre)?),
                })
            }

            pub fn slot(&self) -> Slot {
                match self {
                    SlotPre::Password(_) => Slot::PasswordPolicy,
                    SlotPre::Eligibility(_) => Slot::SignupEligibility,
                    SlotPre::Workflow(_) => Slot::TicketWorkflow,
                }
            }

            /// Runs one export in a fresh instance, then applies the output cap.
            pub(super) fn run<T: OutputSize>(
                &self,
                rt: &Bounds<'_>,
                plugin: &PluginRef,
                f: impl FnOnce(&mut wasmtime::Store<CallState>, &SlotPre) -> wasmtime::Result<T>,
            ) -> Result<T, PluginError> {
                let value = rt.call(plugin, self, f)?;
                rt.check_output(plugin, value.output_size())?;
                Ok(value)
            }

            pub fn info(&self, rt: &Bounds<'_>, plugin: &PluginRef) -> Result<PluginInfo, PluginError> {
                let info = self.run(rt, plugin, |store, pre| {
                    Ok(match pre {
                        SlotPre::Password(pre) => {
                            let i = pre.instantiate(&mut *store)?;
                            let info = i.helpdesk_plugins_password_rules().call_info(&mut *store)?;
                            PluginInfo {
                                name: info.name,
                                version: info.version,
                                summary: info.summary,
                            }
                        }
                        SlotPre::Eligibility(pre) => {
                            let i = pre.instantiate(&mut *store)?;
                            let info = i.helpdesk_plugins_eligibility().call_info(&mut *store)?;
                            PluginInfo {
                                name: info.name,
                                version: info.version,
                                summary: info.summary,
                            }
                        }
                        SlotPre::Workflow(pre) => {
                            let i = pre.instantiate(&mut *store)?;
                            let info = i.helpdesk_plugins_workflow().call_info(&mut *store)?;
                            PluginInfo {
                                name: info.name,
                                version: info.version,
                                summary: info.summary,
                            }
                        }
                    })
                })?;
                let valid_name = !info.name.is_empty()
                    && info.name.len() <= 64
                    && info
                        .name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                if !valid_name {
                    return Err(malformed(
                        plugin,
                        format!(
                            "`info` gave the name {:?}; use 1 to 64 lowercase letters, digits and dashes",
                            info.name
                        ),
                    ));
                }
                if info.version.is_empty() || info.version.len() > 64 || info.summary.len() > 512 {
                    return Err(malformed(
                        plugin,
                        "`info` gave an empty or overlong version, or a summary over 512 bytes".into(),
                    ));
                }
                Ok(info)
            }

            pub fn validate_config(
                &self,
                rt: &Bounds<'_>,
                plugin: &PluginRef,
                config: &str,
            ) -> Result<Result<(), String>, PluginError> {
                self.run(rt, plugin, |store, pre| match pre {
                    SlotPre::Password(pre) => pre
                        .instantiate(&mut *store)?
                        .helpdesk_plugins_password_rules()
                        .call_validate_config(&mut *store, config),
                    SlotPre::Eligibility(pre) => pre
                        .instantiate(&mut *store)?
                        .helpdesk_plugins_eligibility()
                        .call_validate_config(&mut *store, config),
                    SlotPre::Workflow(pre) => pre
                        .instantiate(&mut *store)?
                        .helpdesk_plugins_workflow()
                        .call_validate_config(&mut *store, config),
                })
            }

            fn password(
                &self,
                plugin: &PluginRef,
            ) -> Result<&password::PasswordPolicyPre<CallState>, PluginError> {
                match self {
                    SlotPre::Password(pre) => Ok(pre),
                    other => Err(wrong_slot(plugin, Slot::PasswordPolicy, other.slot())),
                }
            }

            fn eligibility(
                &self,
                plugin: &PluginRef,
            ) -> Result<&eligibility::SignupEligibilityPre<CallState>, PluginError> {
                match self {
                    SlotPre::Eligibility(pre) => Ok(pre),
                    other => Err(wrong_slot(plugin, Slot::SignupEligibility, other.slot())),
                }
            }

            fn workflow(
                &self,
                plugin: &PluginRef,
            ) -> Result<&workflow::TicketWorkflowPre<CallState>, PluginError> {
                match self {
                    SlotPre::Workflow(pre) => Ok(pre),
                    other => Err(wrong_slot(plugin, Slot::TicketWorkflow, other.slot())),
                }
            }

            pub fn check_password(
                &self,
                rt: &Bounds<'_>,
                plugin: &PluginRef,
                config: &str,
                password: &str,
                context: &PasswordContext,
            ) -> Result<PasswordVerdict, PluginError> {
                let pre = self.password(plugin)?;
                let ctx = p::PasswordContext {
                    email: context.email.clone(),
                    given_name: context.given_name.clone(),
                    surname: context.surname.clone(),
                };
                let verdict = self.run(rt, plugin, |store, _| {
                    let verdict = pre
                        .instantiate(&mut *store)?
                        .helpdesk_plugins_password_rules()
                        .call_check(&mut *store, config, password, &ctx)?;
                    Ok(match verdict {
                        p::Verdict::Accepted => PasswordVerdict::Accepted,
                        p::Verdict::Rejected(list) => PasswordVerdict::Rejected(
                            list.into_iter()
                                .map(|v| Violation {
                                    code: v.code,
                                    message: v.message,
                                })
                                .collect(),
                        ),
                    })
                })?;
                if let PasswordVerdict::Rejected(list) = &verdict {
                    if list.is_empty() {
                        return Err(malformed(
                            plugin,
                            "`check` rejected the password without naming a violation".into(),
                        ));
                    }
                    if let Some(v) = list
                        .iter()
                        .find(|v| v.code.is_empty() || v.message.is_empty())
                    {
                        return Err(malformed(
                            plugin,
                            format!(
                                "`check` gave a violation with an empty code or message ({:?})",
                                v.code
                            ),
                        ));
                    }
                }
                Ok(verdict)
            }

            pub fn password_requirements(
                &self,
                rt: &Bounds<'_>,
                plugin: &PluginRef,
                config: &str,
            ) -> Result<String, PluginError> {
                let pre = self.password(plugin)?;
                self.run(rt, plugin, |store, _| {
                    pre.instantiate(&mut *store)?
                        .helpdesk_plugins_password_rules()
                        .call_requirements(&mut *store, config)
                })
            }

            pub fn decide_eligibility(
                &self,
                rt: &Bounds<'_>,
                plugin: &PluginRef,
                config: &str,
                request: &EligibilityRequest,
            ) -> Result<EligibilityDecision, PluginError> {
                let pre = self.eligibility(plugin)?;
                let date = |d: time::Date| eligibility::helpdesk::plugins::types::Date {
                    year: d.year(),
                    month: d.month() as u8,
                    day: d.day(),
                };
                let req = e::EligibilityRequest {
                    email: request.email.clone(),
                    domain: request.domain.clone(),
                    today: date(request.today),
                    candidates: request
                        .candidates
                        .iter()
                        .map(|c: &CandidateSite| e::CandidateSite {
                            site_id: c.site_id,
                            name: c.name.clone(),
                            matched_by: match c.matched_by {
                                MatchKind::Domain => e::MatchKind::Domain,
                                MatchKind::Address => e::MatchKind::Address,
                            },
                            maintenance_until: c.maintenance_until.map(date),
                            active_licences: c.active_licences,
                        })
                        .collect(),
                };
                let decision = self.run(rt, plugin, |store, _| {
                    let d = pre
                        .instantiate(&mut *store)?
                        .helpdesk_plugins_eligibility()
                        .call_decide(&mut *store, config, &req)?;
                    Ok(match d {
                        e::Decision::Eligible(ids) => EligibilityDecision::Eligible(ids),
                        e::Decision::Ineligible(r) => EligibilityDecision::Ineligible(r),
                        e::Decision::NeedsReview(r) => EligibilityDecision::NeedsReview(r),
                    })
                })?;
                if let EligibilityDecision::Eligible(ids) = &decision {
                    if ids.is_empty() {
                        return Err(malformed(
                            plugin,
                            "`decide` answered eligible for no site".into(),
                        ));
                    }
                    let known: HashSet<u64> = request.candidates.iter().map(|c| c.site_id).collect();
                    if let Some(id) = ids.iter().find(|id| !known.contains(id)) {
                        return Err(malformed(
                            plugin,
                            format!("`decide` named site {id}, which was not a candidate"),
                        ));
                    }
                }
                Ok(decision)
            }

            pub fn workflow_statuses(
                &self,
                rt: &Bounds<'_>,
                plugin: &PluginRef,
                config: &str,
            ) -> Result<Vec<Status>, PluginError> {
                let pre = self.workflow(plugin)?;
                let statuses = self.run(rt, plugin, |store, _| {
                    let list = pre
                        .instantiate(&mut *store)?
                        .helpdesk_plugins_workflow()
                        .call_statuses(&mut *store, config)?;
                    Ok(list
                        .into_iter()
                        .map(|s| Status {
                            key: s.key,
                            label: s.label,
                            open: s.open,
                            initial: s.initial,
                        })
                        .collect::<Vec<_>>())
                })?;
                validate_statuses(&statuses).map_err(|why| malformed(plugin, why))?;
                Ok(statuses)
            }

            pub fn can_transition(
                &self,
                rt: &Bounds<'_>,
                plugin: &PluginRef,
                config: &str,
                request: &TransitionRequest,
            ) -> Result<TransitionDecision, PluginError> {
                let pre = self.workflow(plugin)?;
                let req = w::TransitionRequest {
                    from: request.from.clone(),
                    to: request.to.clone(),
                    actor: actor(request.actor),
                    seconds_in_status: request.seconds_in_status,
                };
                let decision = self.run(rt, plugin, |store, _| {
                    let d = pre
                        .instantiate(&mut *store)?
                        .helpdesk_plugins_workflow()
                        .call_can_transition(&mut *store, config, &req)?;
                    Ok(match d {
                        w::TransitionDecision::Allowed => TransitionDecision::Allowed,
                        w::TransitionDecision::Refused(r) => TransitionDecision::Refused(r),
                    })
                })?;
                if matches!(&decision, TransitionDecision::Refused(r) if r.trim().is_empty()) {
                    return Err(malformed(
                        plugin,
                        "`can-transition` refused without a reason".into(),
                    ));
                }
                Ok(decision)
            }

            pub fn on_event(
                &self,
                rt: &Bounds<'_>,
                plugin: &PluginRef,
                config: &str,
                context: &EventContext,
            ) -> Result<Option<String>, PluginError> {
                let pre = self.workflow(plugin)?;
                let ctx = w::EventContext {
                    event: match context.event {
                        TicketEvent::Created => w::TicketEvent::Created,
                        TicketEvent::CustomerReplied => w::TicketEvent::CustomerReplied,
                        TicketEvent::AgentReplied => w::TicketEvent::AgentReplied,
                        TicketEvent::Assigned => w::TicketEvent::Assigned,
                    },
                    status: context.status.clone(),
                    seconds_in_status: context.seconds_in_status,
                };
                self.run(rt, plugin, |store, _| {
                    pre.instantiate(&mut *store)?
                        .helpdesk_plugins_workflow()
                        .call_on_event(&mut *store, config, &ctx)
                })
            }
        }

        fn actor(role: ActorRole) -> workflow::helpdesk::plugins::types::ActorRole {
            use workflow::helpdesk::plugins::types::ActorRole as A;
            match role {
                ActorRole::Customer => A::Customer,
                ActorRole::SiteAdmin => A::SiteAdmin,
                ActorRole::Agent => A::Agent,
                ActorRole::Operator => A::Operator,
                ActorRole::System => A::System,
            }
        }
        }
    };
}
