//! What can be told of a component from its binary, before it is compiled: that it is a
//! component, what it imports (only what a rule plugin is granted) and which slot it fills, at
//! which version of the contract.

use super::bindings;
use crate::rules::Slot;

/// Tells a core module, or something that is not WebAssembly, from a component.
pub(crate) fn check_is_component(bytes: &[u8]) -> Result<(), String> {
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => Err(
            "this is a core WebAssembly module, not a component: build the plugin for the wasm32-wasip2 target (or wrap it with `wasm-tools component new`)".into(),
        ),
        Some([0, b'a', b's', b'm', _, _, 1, 0]) => Ok(()),
        _ => Err("this is not a WebAssembly component (it does not start with the `\\0asm` component header)".into()),
    }
}

/// The names a component imports and exports, read from its binary without compiling it.
pub(crate) struct Surface {
    imports: Vec<String>,
    exports: Vec<String>,
}

impl Surface {
    pub(crate) fn read(bytes: &[u8]) -> Result<Surface, String> {
        use wasmparser::{Parser, Payload};
        let mut surface = Surface {
            imports: Vec::new(),
            exports: Vec::new(),
        };
        // Nested modules and components have imports and exports of their own; only the outer
        // component's face the host.
        let mut depth = 0usize;
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload.map_err(|e| format!("the component is malformed: {e}"))?;
            match payload {
                Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
                Payload::End(_) => depth = depth.saturating_sub(1),
                Payload::ComponentImportSection(reader) if depth == 0 => {
                    for import in reader {
                        let import =
                            import.map_err(|e| format!("the component is malformed: {e}"))?;
                        surface.imports.push(import.name.name.to_owned());
                    }
                }
                Payload::ComponentExportSection(reader) if depth == 0 => {
                    for export in reader {
                        let export =
                            export.map_err(|e| format!("the component is malformed: {e}"))?;
                        surface.exports.push(export.name.name.to_owned());
                    }
                }
                _ => {}
            }
        }
        Ok(surface)
    }

    /// Refuses imports the host does not provide, naming each, before the compile.
    pub(crate) fn check_imports(&self) -> Result<(), String> {
        let refused: Vec<String> = self
            .imports
            .iter()
            .filter(|name| !is_granted_import(name))
            .map(|name| format!("`{name}`"))
            .collect();
        if refused.is_empty() {
            return Ok(());
        }
        // The contract's own interfaces at a version this host does not speak: say so, with
        // both versions, rather than call them imports nobody is granted.
        if let Some(newer) = self
            .imports
            .iter()
            .find(|name| !is_granted_import(name) && name.starts_with(CONTRACT_PACKAGE))
        {
            let version = newer.rsplit_once('@').map_or("?", |(_, v)| v);
            return Err(format!(
                "the component was built against version {version} of the plugin contract (it imports `{newer}`), which this host does not speak: it speaks {}. Build it against one of those (see docs/plugins.md, versioning), or upgrade the host.",
                spoken_versions()
            ));
        }
        let hint = if refused.iter().any(|n| n.starts_with("`wasi:http/")) {
            " A JavaScript build imports wasi:http unless told not to: build it with componentize-js option `disableFeatures: [\"http\", \"fetch-event\"]`, as the JavaScript template does (docs/plugins.md)."
        } else {
            ""
        };
        Err(format!(
            "the component imports {}, which rule plugins are not granted: a rule plugin may import only {} and {} (or compatible versions).{hint}",
            refused.join(", "),
            GRANTED_WASI.join(", "),
            bindings::granted_imports().collect::<Vec<_>>().join(", ")
        ))
    }

    /// The version of the contract the component fills `slot` with, newest first.
    pub(crate) fn check_exports(&self, slot: Slot) -> Result<bindings::Contract, String> {
        let fills = |slot: Slot, contract| {
            let wanted = bindings::export_name(slot, contract);
            self.exports.iter().any(|e| compatible(&wanted, e))
        };
        if let Some(contract) = bindings::Contract::ALL
            .into_iter()
            .find(|c| fills(slot, *c))
        {
            return Ok(contract);
        }
        let wanted = bindings::export_name(slot, bindings::Contract::CURRENT);
        let found = if self.exports.is_empty() {
            "no interfaces".to_owned()
        } else {
            self.exports
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let hint = Slot::ALL
            .into_iter()
            .find(|other| bindings::Contract::ALL.into_iter().any(|c| fills(*other, c)))
            .map(|other| format!("; it looks like a {other} plugin"))
            .or_else(|| {
                let (interface, _) = wanted.split_once('@')?;
                let other = self
                    .exports
                    .iter()
                    .find(|e| e.split_once('@').is_some_and(|(i, _)| i == interface))?;
                Some(format!(
                    "; `{other}` was built against a version of wit/helpdesk.wit this host does not speak (it speaks {}; see docs/plugins.md, versioning)",
                    spoken_versions()
                ))
            })
            .unwrap_or_default();
        Err(format!(
            "the component does not implement the {slot} slot: it does not export `{wanted}` (it exports {found}){hint}"
        ))
    }
}

/// The package every interface of the plugin contract belongs to.
const CONTRACT_PACKAGE: &str = "helpdesk:plugins/";

/// The contract versions this host speaks, as an author reads them: `0.3.x, 0.2.x, 0.1.x`.
fn spoken_versions() -> String {
    bindings::Contract::ALL
        .map(|c| {
            c.version()
                .rsplit_once('.')
                .map_or("", |(m, _)| m)
                .to_owned()
                + ".x"
        })
        .join(", ")
}

/// The WASI packages a rule plugin may import, all served from an empty, deterministic context.
const GRANTED_WASI: &[&str] = &[
    "wasi:cli",
    "wasi:clocks",
    "wasi:filesystem",
    "wasi:io",
    "wasi:random",
    "wasi:sockets",
];

/// The WASI interfaces a std guest may import, served from the empty context; and the
/// contract's own imports. Not `wasi:http`: a rule decides from its inputs.
fn is_granted_import(name: &str) -> bool {
    let package = name.split('/').next().unwrap_or_default();
    GRANTED_WASI.contains(&package) || bindings::granted_imports().any(|g| compatible(&g, name))
}

/// Whether a component's `found` interface name can be served by the host's `wanted` one: the
/// same interface at a compatible version. From 1.0: the same major, and a minor no newer than
/// the host's. Before 1.0, where a minor may break: the same minor. Any patch, older or newer.
/// Pre-releases match only exactly.
pub(crate) fn compatible(wanted: &str, found: &str) -> bool {
    fn split(name: &str) -> Option<(&str, [u64; 3])> {
        let (interface, version) = name.split_once('@')?;
        let mut parts = version.split('.').map(|p| p.parse::<u64>().ok());
        let v = [parts.next()??, parts.next()??, parts.next()??];
        parts.next().is_none().then_some((interface, v))
    }
    if wanted == found {
        return true;
    }
    let (Some((wi, [wmaj, wmin, _])), Some((fi, [fmaj, fmin, _]))) = (split(wanted), split(found))
    else {
        return false;
    };
    wi == fi
        && wmaj == fmaj
        && if wmaj == 0 {
            wmin == fmin
        } else {
            fmin <= wmin
        }
}

#[cfg(test)]
mod tests {
    use super::{Surface, compatible, spoken_versions};

    #[test]
    fn a_component_of_a_newer_contract_is_told_both_versions() {
        let surface = Surface {
            imports: vec![
                "wasi:io/streams@0.2.0".into(),
                "helpdesk:plugins/types@0.9.0".into(),
                "helpdesk:plugins/log@0.9.0".into(),
            ],
            exports: vec!["helpdesk:plugins/password-policy@0.9.0".into()],
        };
        let e = surface.check_imports().unwrap_err();
        assert!(e.contains("version 0.9.0 of the plugin contract"), "{e}");
        assert!(e.contains(&spoken_versions()), "{e}");
        assert!(!e.contains("not granted"), "{e}");
        // An import nobody is granted is still called that.
        let surface = Surface {
            imports: vec!["wasi:http/outgoing-handler@0.2.0".into()],
            exports: vec![],
        };
        assert!(surface.check_imports().unwrap_err().contains("not granted"));
    }

    #[test]
    fn compatible_versions_follow_semver() {
        let host = "helpdesk:plugins/types@0.1.0";
        assert!(compatible(host, "helpdesk:plugins/types@0.1.0"));
        assert!(compatible(host, "helpdesk:plugins/types@0.1.7"));
        assert!(!compatible(host, "helpdesk:plugins/types@0.2.0"));
        assert!(!compatible(host, "helpdesk:plugins/types@1.1.0"));
        assert!(!compatible(host, "helpdesk:plugins/other@0.1.0"));
        assert!(!compatible(host, "helpdesk:plugins/types@0.1.1-rc.1"));
        let stable = "x:y/z@1.2.0";
        assert!(compatible(stable, "x:y/z@1.0.5"));
        assert!(compatible(stable, "x:y/z@1.2.9"));
        assert!(
            !compatible(stable, "x:y/z@1.3.0"),
            "a newer minor may need what the host lacks"
        );
        assert!(!compatible(stable, "x:y/z@2.0.0"));
    }
}
