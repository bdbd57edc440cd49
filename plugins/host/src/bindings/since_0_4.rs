//! What contract 0.4 adds on top of 0.3: `react` in the ticket-workflow slot, the whole request
//! and an event in, a list of actions out. `contract!` expands `reacts!` inside the 0.4
//! bindings, where the generated types of the workflow world are in scope.

/// 0.4's `react`.
macro_rules! reacts {
    () => {
        pub fn check_react(pre: &InstancePre<CallState>, export: &str) -> Result<(), String> {
            check_function::<(&str, &w::RequestEvent, &w::Request), (Vec<w::Action>,)>(
                pre, export, "react",
            )
        }

        fn priority_in(p: crate::rules::Priority) -> w::Priority {
            use crate::rules::Priority as P;
            match p {
                P::Low => w::Priority::Low,
                P::Normal => w::Priority::Normal,
                P::High => w::Priority::High,
                P::Urgent => w::Priority::Urgent,
            }
        }

        fn priority_out(p: w::Priority) -> crate::rules::Priority {
            use crate::rules::Priority as P;
            match p {
                w::Priority::Low => P::Low,
                w::Priority::Normal => P::Normal,
                w::Priority::High => P::High,
                w::Priority::Urgent => P::Urgent,
            }
        }

        impl SlotPre {
            pub fn react(
                &self,
                rt: &Bounds<'_>,
                plugin: &PluginRef,
                config: &str,
                reaction: &crate::rules::Reaction,
            ) -> Result<Vec<crate::rules::Action>, PluginError> {
                use crate::rules::{Action, Channel, RequestEvent};
                let pre = self.workflow(plugin)?;
                let event = match &reaction.event {
                    RequestEvent::Created => w::RequestEvent::Created,
                    RequestEvent::CustomerReplied => w::RequestEvent::CustomerReplied,
                    RequestEvent::StaffReplied => w::RequestEvent::StaffReplied,
                    RequestEvent::NoteAdded => w::RequestEvent::NoteAdded,
                    RequestEvent::Assigned => w::RequestEvent::Assigned,
                    RequestEvent::StatusChanged(s) => w::RequestEvent::StatusChanged(s.clone()),
                    RequestEvent::FieldChanged(s) => w::RequestEvent::FieldChanged(s.clone()),
                    RequestEvent::Timer(s) => w::RequestEvent::Timer(s.clone()),
                };
                let r = &reaction.request;
                let date = |d: time::Date| workflow::helpdesk::plugins::types::Date {
                    year: d.year(),
                    month: d.month() as u8,
                    day: d.day(),
                };
                let request = w::Request {
                    id: r.id,
                    site: w::RequestSite {
                        id: r.site.id,
                        name: r.site.name.clone(),
                        contract_end: r.site.contract_end.map(date),
                        active_licences: r.site.active_licences,
                    },
                    requester: w::Requester {
                        id: r.requester.id,
                        role: actor(r.requester.role),
                        email_domain: r.requester.email_domain.clone(),
                        language: r.requester.language.clone(),
                    },
                    assignee: r.assignee,
                    status: r.status.clone(),
                    seconds_in_status: r.seconds_in_status,
                    priority: priority_in(r.priority),
                    tags: r.tags.clone(),
                    subject: r.subject.clone(),
                    first_message: r.first_message.clone(),
                    customer_messages: r.customer_messages,
                    staff_messages: r.staff_messages,
                    channel: match r.channel {
                        Channel::Portal => w::Channel::Portal,
                        Channel::Email => w::Channel::Email,
                        Channel::Api => w::Channel::Api,
                    },
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                    last_customer_message_at: r.last_customer_message_at,
                    last_staff_message_at: r.last_staff_message_at,
                    now: r.now,
                };
                let actions = self.run(rt, plugin, |store, _| {
                    let list = pre
                        .instantiate(&mut *store)?
                        .helpdesk_plugins_workflow()
                        .call_react(&mut *store, config, &event, &request)?;
                    Ok(list
                        .into_iter()
                        .map(|a| match a {
                            w::Action::SetStatus(status) => Action::SetStatus { status },
                            w::Action::SetPriority(p) => Action::SetPriority {
                                priority: priority_out(p),
                            },
                            w::Action::AddTag(tag) => Action::AddTag { tag },
                            w::Action::RemoveTag(tag) => Action::RemoveTag { tag },
                            w::Action::Assign(staff) => Action::Assign { staff },
                            w::Action::Unassign => Action::Unassign,
                            w::Action::SetTimer(t) => Action::SetTimer {
                                name: t.name,
                                after_seconds: t.after_seconds,
                            },
                            w::Action::CancelTimer(name) => Action::CancelTimer { name },
                        })
                        .collect::<Vec<_>>())
                })?;
                if actions.len() > crate::rules::MAX_ACTIONS {
                    return Err(malformed(
                        plugin,
                        format!(
                            "`react` answered {} actions; at most {} are allowed",
                            actions.len(),
                            crate::rules::MAX_ACTIONS
                        ),
                    ));
                }
                Ok(actions)
            }
        }
    };
}
