//! What contract 0.3 adds on top of the questions every version shares: `describe-config` in
//! every slot. `contract!` expands `describes_config!` inside the 0.3 bindings, where the
//! generated types of each world are in scope.

/// 0.3's `describe-config`, in every slot.
macro_rules! describes_config {
    () => {
        pub fn check_describe_config(
            pre: &InstancePre<CallState>,
            export: &str,
        ) -> Result<(), String> {
            use password::helpdesk::plugins::types::ConfigField as Field;
            check_function::<(), (Option<Vec<Field>>,)>(pre, export, "describe-config")
        }

        impl SlotPre {
            pub fn describe_config(
                &self,
                rt: &Bounds<'_>,
                plugin: &PluginRef,
            ) -> Result<Option<Vec<ConfigField>>, PluginError> {
                self.run(rt, plugin, |store, pre| {
                    Ok(match pre {
                        SlotPre::Password(pre) => pre
                            .instantiate(&mut *store)?
                            .helpdesk_plugins_password_rules()
                            .call_describe_config(&mut *store)?
                            .map(|fs| fs.into_iter().map(|f| config_field!(f, password)).collect()),
                        SlotPre::Eligibility(pre) => pre
                            .instantiate(&mut *store)?
                            .helpdesk_plugins_eligibility()
                            .call_describe_config(&mut *store)?
                            .map(|fs| {
                                fs.into_iter()
                                    .map(|f| config_field!(f, eligibility))
                                    .collect()
                            }),
                        SlotPre::Workflow(pre) => pre
                            .instantiate(&mut *store)?
                            .helpdesk_plugins_workflow()
                            .call_describe_config(&mut *store)?
                            .map(|fs| fs.into_iter().map(|f| config_field!(f, workflow)).collect()),
                    })
                })
            }
        }
    };
}

/// A described setting, from the generated types of `$world`.
macro_rules! config_field {
    ($f:expr, $world:ident) => {{
        use $world::helpdesk::plugins::types::ConfigKind as K;
        let f = $f;
        ConfigField {
            key: f.key,
            label: f.label,
            help: f.help,
            kind: match f.kind {
                K::Integer(i) => ConfigKind::Integer {
                    default: i.default,
                    min: i.min,
                    max: i.max,
                },
                K::Boolean(default) => ConfigKind::Boolean { default },
                K::Text(default) => ConfigKind::Text { default },
                K::Choice(c) => ConfigKind::Choice {
                    default: c.default,
                    choices: c.choices,
                },
                K::TextList(default) => ConfigKind::TextList { default },
            },
        }
    }};
}
