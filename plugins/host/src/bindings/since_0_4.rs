//! What contract 0.4 adds on top of 0.3: `react` in the ticket-workflow slot, the whole request
//! and an event in, a list of actions out; what 0.5 adds to those actions; and what 0.6 adds to
//! the request and the actions. `contract!` expands `reacts!` inside the bindings of 0.4 and
//! later, where the generated types of the workflow world are in scope, with the version's own
//! `acts_0_4!`, `acts_0_5!` or `acts_0_6!`, which turn its actions into the host's, and
//! `sees_0_4!` or `sees_0_6!`, which give it the request as it knows it.

/// The host's action for a generated `w::Action`: the arms of 0.4, then the arms given for the
/// actions a later version adds.
macro_rules! action_out {
    ($a:expr $(, $pat:pat => $out:expr)*) => {{
        use crate::rules::Action;
        match $a {
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
            $($pat => $out,)*
        }
    }};
}

/// 0.4's actions.
macro_rules! acts_0_4 {
    () => {
        fn action_out(a: w::Action) -> crate::rules::Action {
            action_out!(a)
        }
    };
}

/// 0.5's actions: 0.4's, `add-note`, `send-email` and `call-webhook`.
macro_rules! acts_0_5 {
    () => {
        fn action_out(a: w::Action) -> crate::rules::Action {
            action_out_0_5!(a)
        }
    };
}

/// 0.6's actions: 0.5's, `set-type`, `set-field` and `clear-field`.
macro_rules! acts_0_6 {
    () => {
        fn action_out(a: w::Action) -> crate::rules::Action {
            action_out_0_5!(
                a,
                w::Action::SetType(request_type) => Action::SetType { request_type },
                w::Action::SetField(f) => Action::SetField { key: f.key, value: f.value },
                w::Action::ClearField(key) => Action::ClearField { key }
            )
        }
    };
}

/// The host's action for a generated `w::Action` of 0.5 or later: 0.5's arms, then the arms
/// given for the actions a later version adds.
macro_rules! action_out_0_5 {
    ($a:expr $(, $pat:pat => $out:expr)*) => {{
            use crate::rules::{Recipient, Wording};
            action_out!(
                $a,
                w::Action::AddNote(text) => Action::AddNote { text },
                w::Action::SendEmail(e) => Action::SendEmail {
                    to: e
                        .to
                        .into_iter()
                        .map(|r| match r {
                            w::Recipient::Requester => Recipient::Requester,
                            w::Recipient::Assignee => Recipient::Assignee,
                            w::Recipient::SiteAdmins => Recipient::SiteAdmins,
                            w::Recipient::Address(a) => Recipient::Address(a),
                        })
                        .collect(),
                    wordings: e
                        .wordings
                        .into_iter()
                        .map(|x| Wording {
                            language: x.language,
                            subject: x.subject,
                            body: x.body,
                        })
                        .collect(),
                },
                w::Action::CallWebhook(c) => Action::CallWebhook {
                    endpoint: c.endpoint,
                    name: c.name,
                }
                $(, $pat => $out)*
            )
    }};
}

/// The request as 0.4 and 0.5 see it.
macro_rules! sees_0_4 {
    () => {
        fn request_in(r: &crate::rules::RequestView) -> w::Request {
            request_in!(r)
        }
    };
}

/// The request as 0.6 sees it: with its type and custom fields.
macro_rules! sees_0_6 {
    () => {
        fn request_in(r: &crate::rules::RequestView) -> w::Request {
            request_in!(
                r,
                request_type: r.request_type.clone(),
                fields: r
                    .fields
                    .iter()
                    .map(|f| w::FieldValue {
                        key: f.key.clone(),
                        value: f.value.clone(),
                    })
                    .collect()
            )
        }
    };
}

/// A generated `w::Request` of the host's request: 0.4's fields, then the ones given.
macro_rules! request_in {
    ($r:expr $(, $field:ident: $value:expr)*) => {{
        use crate::rules::Channel;
        let r = $r;
        let date = |d: time::Date| workflow::helpdesk::plugins::types::Date {
            year: d.year(),
            month: d.month() as u8,
            day: d.day(),
        };
        w::Request {
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
            $($field: $value,)*
        }
    }};
}

/// `react`, since 0.4.
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
                use crate::rules::RequestEvent;
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
                let request = request_in(&reaction.request);
                let actions = self.run(rt, plugin, |store, _| {
                    let list = pre
                        .instantiate(&mut *store)?
                        .helpdesk_plugins_workflow()
                        .call_react(&mut *store, config, &event, &request)?;
                    Ok(list.into_iter().map(action_out).collect::<Vec<_>>())
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
