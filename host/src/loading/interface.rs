//! What a component says about itself before it is compiled: its imports
//! and exported instances (read from its headers with `wasmparser`), the
//! plugin kind they make it, whether this host's API fits it, and whether it
//! imports only what it was granted.
//!
//! One API-compatibility rule: a plugin runs when this host's version of
//! `tradsys:plugins` satisfies what it needs. Its manifest states that as a
//! range (`api = "^1.0"`); an exported interface built against version V
//! needs `^V` (same major, no newer minor than the host's).

use anyhow::Context as _;
use semver::{Comparator, Op, Version, VersionReq};
use tradsys_signing::Manifest;

use crate::policy::{Grant, Grants, PluginKind};

/// Version of the `tradsys:plugins` WIT package this host implements.
pub const API_VERSION: &str = "1.4.0";

/// [`API_VERSION`] parsed.
pub fn api_version() -> Version {
    Version::parse(API_VERSION).expect("API_VERSION is semver")
}

/// Whether this host can run a plugin that needs `needs` of the API (the
/// one compatibility rule, see the module docs).
pub fn api_fits(needs: &VersionReq) -> bool {
    needs.matches(&api_version())
}

/// What an interface exported at `version` needs of the host: `^version`.
pub fn export_needs(version: &Version) -> VersionReq {
    VersionReq {
        comparators: vec![Comparator {
            op: Op::Caret,
            major: version.major,
            minor: Some(version.minor),
            patch: Some(version.patch),
            pre: version.pre.clone(),
        }],
    }
}

/// Whether an interface exported at `version` (for example the `1.0.0` of
/// `tradsys:plugins/strategy-api@1.0.0`) fits this host.
pub fn export_fits(version: &str) -> bool {
    Version::parse(version).is_ok_and(|v| api_fits(&export_needs(&v)))
}

const KINDS: [PluginKind; 5] = [
    PluginKind::Strategy,
    PluginKind::RiskValidator,
    PluginKind::Matcher,
    PluginKind::Connector,
    PluginKind::Processor,
];

/// The interface a kind's world exports, without its version.
fn export_interface(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::Strategy => "tradsys:plugins/strategy-api",
        PluginKind::RiskValidator => "tradsys:plugins/risk-validator-api",
        PluginKind::Matcher => "tradsys:plugins/matcher-api",
        PluginKind::Connector => "tradsys:plugins/connector-api",
        PluginKind::Processor => "tradsys:plugins/processor-api",
    }
}

/// A component's top-level imports and exported instances, by name.
#[derive(Debug, Clone, Default)]
pub struct Interface {
    /// Imported names, for example `tradsys:plugins/host@1.0.0`.
    pub imports: Vec<String>,
    /// Exported instance names, for example `tradsys:plugins/strategy-api@1.0.0`.
    pub exports: Vec<String>,
}

/// Read a component's imports and exported instances from its headers,
/// without compiling it (nested modules are skipped).
pub fn read_interface(bytes: &[u8]) -> anyhow::Result<Interface> {
    use wasmparser::{ComponentExternalKind, Encoding, Parser, Payload};
    let mut interface = Interface::default();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.context("not a valid WebAssembly file")? {
            Payload::Version { encoding, .. } => {
                anyhow::ensure!(
                    depth > 0 || encoding == Encoding::Component,
                    "a core WebAssembly module, not a component; build it with `tradsys plugin build`"
                );
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let import = import.context("malformed import section")?;
                    interface.imports.push(import.name.full_name().into_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let export = export.context("malformed export section")?;
                    if export.kind == ComponentExternalKind::Instance {
                        interface.exports.push(export.name.full_name().into_owned());
                    }
                }
            }
            _ => {}
        }
    }
    Ok(interface)
}

/// Identify a component's kind from the instances it exports.
///
/// Exactly one `tradsys:plugins` kind interface at this host's API version
/// must be exported; anything else is an error saying what was found.
pub fn identify_kind(exports: &[String]) -> Result<PluginKind, String> {
    let mut found = Vec::new();
    for name in exports {
        let (interface, version) = name.split_once('@').unwrap_or((name.as_str(), ""));
        let kind = KINDS
            .into_iter()
            .find(|k| export_interface(*k) == interface)
            .or((interface == crate::bindings::NETWORK_CONNECTOR_API)
                .then_some(PluginKind::Connector));
        if let Some(kind) = kind {
            if !export_fits(version) {
                return Err(format!(
                    "exports {name} but this host implements tradsys:plugins@{API_VERSION}"
                ));
            }
            found.push(kind);
        }
    }
    match found.as_slice() {
        [kind] => Ok(*kind),
        [] if exports.is_empty() => Err("exports no interface; not a tradsys plugin".to_string()),
        [] => Err(format!(
            "exports none of the tradsys:plugins worlds (strategy, risk-validator, matcher, connector, network-connector, processor); found {}",
            exports.join(", ")
        )),
        _ => Err(format!(
            "exports more than one plugin kind: {}",
            exports.join(", ")
        )),
    }
}

/// A plugin that needs a capability the host config does not grant: an
/// operator's choice (the plugin is installed, not enabled), not a fault of
/// the file. The registry notes it; a session that selects it fails, naming
/// it.
#[derive(Debug)]
pub struct NotGranted(String);

/// How a [`NotGranted`] refusal's reason starts.
pub const NOT_GRANTED: &str = "not granted: ";

impl std::fmt::Display for NotGranted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotGranted {}

/// Refuse a component that imports what it was not granted, naming the
/// import and the grant ([`NotGranted`]), or whose manifest asks for a
/// capability the host config does not grant.
pub fn check_capabilities(
    imports: &[String],
    manifest: &Manifest,
    grants: &Grants,
) -> anyhow::Result<()> {
    let name = manifest.name.as_str();
    // Each missing grant once, with what needs it, in the order found.
    let mut missing: Vec<(Grant, String)> = Vec::new();
    let mut need = |grant: Grant, why: String| {
        if !grants.allows(grant) && !missing.iter().any(|(g, _)| *g == grant) {
            missing.push((grant, why));
        }
    };
    for import in imports {
        let import = import.as_str();
        match Grant::required_by(import) {
            Ok(None) => {}
            // Linked inert (no preopen, no socket, seeded random) when the
            // manifest says the imports are a runtime's, unused.
            Ok(Some(_)) if manifest.capabilities.unused_wasi => {}
            Ok(Some(grant)) => {
                let package = import.split_once('/').map_or(import, |(p, _)| p);
                need(grant, format!("imports {package}"));
            }
            Err(()) => anyhow::bail!("imports {import}, which this host does not provide"),
        }
    }
    if manifest.capabilities.read_dir {
        need(Grant::ReadDir, "asked for in its manifest".to_string());
    }
    if !manifest.capabilities.network.is_empty() {
        let asked = manifest.capabilities.network.join(", ");
        need(
            Grant::Network,
            format!("asked for in its manifest: {asked}"),
        );
    }
    let missing: Vec<String> = missing
        .iter()
        .map(|(grant, why)| format!("{grant} ({why})"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(NotGranted(format!(
        "{NOT_GRANTED}{}; grant it in [plugins.{name}] of the host config",
        missing.join(", ")
    ))
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_manifest_ranges_and_exported_versions() {
        let host = api_version();
        assert!(api_fits(
            &VersionReq::parse(&format!("^{}.0", host.major)).unwrap()
        ));
        let newer = format!("^{}.{}", host.major, host.minor + 1);
        assert!(!api_fits(&VersionReq::parse(&newer).unwrap()));
        assert!(export_fits(&format!("{}.0.0", host.major)));
        assert!(!export_fits(&format!(
            "{}.{}.0",
            host.major,
            host.minor + 1
        )));
        assert!(!export_fits(&format!("{}.0.0", host.major + 1)));
        assert!(!export_fits("not-a-version"));
    }
}
