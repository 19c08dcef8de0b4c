//! A plugin as the host knows it once loaded: its name, kind, file and the
//! pre-resolved component ready to instantiate.

use std::fmt;
use std::path::{Path, PathBuf};

use tradsys_signing::{KeyId, Manifest};
use wasmtime::Engine;
use wasmtime::component::{Component, types::ComponentItem};

use crate::bindings::{connector, matcher, risk_validator, strategy};
use crate::runtime::{Grants, HostState, LoadInfo, Runtime, required_grant};

/// Version of the `tradsys:plugins` WIT package this host implements.
pub const API_VERSION: &str = "1.0.0";

/// [`API_VERSION`] parsed.
pub fn api_version() -> semver::Version {
    semver::Version::parse(API_VERSION).expect("API_VERSION is semver")
}

/// Whether a plugin built against `plugin` can run on a host implementing
/// `host`: same major version, and no newer minor than the host.
pub fn api_compatible(plugin: &semver::Version, host: &semver::Version) -> bool {
    plugin.major == host.major && plugin.minor <= host.minor
}

/// The four kinds of plugin, one per WIT world (the manifest's `kind`).
pub use tradsys_signing::Kind as PluginKind;

const KINDS: [PluginKind; 4] = [
    PluginKind::Strategy,
    PluginKind::RiskValidator,
    PluginKind::Matcher,
    PluginKind::Connector,
];

/// The interface a kind's world exports, without its version.
fn export_interface(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::Strategy => "tradsys:plugins/strategy-api",
        PluginKind::RiskValidator => "tradsys:plugins/risk-validator-api",
        PluginKind::Matcher => "tradsys:plugins/matcher-api",
        PluginKind::Connector => "tradsys:plugins/connector-api",
    }
}

/// Identify a component's kind from the interface it exports.
///
/// Exactly one `tradsys:plugins` kind interface at this host's API version
/// must be exported; anything else is an error saying what was found.
pub fn identify_kind(engine: &Engine, component: &Component) -> Result<PluginKind, String> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(engine)
        .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentInstance(_)))
        .map(|(name, _)| name.to_string())
        .collect();
    let host = api_version();
    let mut found = Vec::new();
    for name in &exports {
        let (interface, version) = name.split_once('@').unwrap_or((name.as_str(), ""));
        if let Some(kind) = KINDS
            .into_iter()
            .find(|k| export_interface(*k) == interface)
        {
            let compatible =
                semver::Version::parse(version).is_ok_and(|v| api_compatible(&v, &host));
            if !compatible {
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
            "exports none of the tradsys:plugins worlds (strategy, risk-validator, matcher, connector); found {}",
            exports.join(", ")
        )),
        _ => Err(format!(
            "exports more than one plugin kind: {}",
            exports.join(", ")
        )),
    }
}

/// Refuse a component that imports what it was not granted, naming the
/// import and the grant, or whose manifest asks for a capability the host
/// config does not grant.
fn check_capabilities(
    runtime: &Runtime,
    component: &Component,
    manifest: &Manifest,
    grants: &Grants,
) -> anyhow::Result<()> {
    let name = manifest.name.as_str();
    let granted = |grant: &str| match grant {
        "read_dir" => grants.read_dir.is_some(),
        "network" => !grants.network.is_empty(),
        "random" => grants.random,
        _ => false,
    };
    let mut missing: Vec<String> = Vec::new();
    for (import, _) in component.component_type().imports(runtime.engine()) {
        match required_grant(import) {
            Ok(None) => {}
            Ok(Some(grant)) if granted(grant) => {}
            Ok(Some(grant)) => {
                let need = format!(
                    "{grant} (imports {})",
                    import.split_once('/').map_or(import, |(p, _)| p)
                );
                if !missing.contains(&need) {
                    missing.push(need);
                }
            }
            Err(()) => anyhow::bail!("imports {import}, which this host does not provide"),
        }
    }
    if manifest.capabilities.read_dir
        && !granted("read_dir")
        && !missing.iter().any(|m| m.starts_with("read_dir"))
    {
        missing.push("read_dir (asked for in its manifest)".to_string());
    }
    if !manifest.capabilities.network.is_empty()
        && !granted("network")
        && !missing.iter().any(|m| m.starts_with("network"))
    {
        missing.push(format!(
            "network (asked for in its manifest: {})",
            manifest.capabilities.network.join(", ")
        ));
    }
    anyhow::ensure!(
        missing.is_empty(),
        "not granted: {}; grant it in [plugins.{name}] of the host config",
        missing.join(", ")
    );
    Ok(())
}

/// A component resolved against the host's imports, typed by kind (internal).
#[doc(hidden)]
pub enum KindPre {
    Strategy(strategy::StrategyPre<HostState>),
    RiskValidator(risk_validator::RiskValidatorPre<HostState>),
    Matcher(matcher::MatcherPre<HostState>),
    Connector(connector::ConnectorPre<HostState>),
}

/// A verified, compiled plugin ready to instantiate.
pub struct Plugin {
    manifest: Manifest,
    signers: Vec<KeyId>,
    path: PathBuf,
    grants: Grants,
    load: LoadInfo,
    pub(crate) pre: KindPre,
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name())
            .field("version", &self.version().to_string())
            .field("kind", &self.kind())
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// Compile `bytes`, check that the component exports the world its
    /// manifest names, and resolve its imports. The error says what is wrong
    /// without naming the file (the caller adds that).
    pub fn load(
        runtime: &Runtime,
        manifest: Manifest,
        signers: Vec<KeyId>,
        path: &Path,
        bytes: &[u8],
        grants: Grants,
    ) -> anyhow::Result<Self> {
        let (component, load) = runtime.load_component(bytes, &tradsys_signing::digest(bytes)?)?;
        let kind = identify_kind(runtime.engine(), &component).map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            kind == manifest.kind,
            "its manifest says {} but the component exports the {kind} world",
            manifest.kind
        );
        check_capabilities(runtime, &component, &manifest, &grants)?;
        let pre = runtime.instantiate_pre(&component)?;
        let pre = match kind {
            PluginKind::Strategy => KindPre::Strategy(strategy::StrategyPre::new(pre)?),
            PluginKind::RiskValidator => {
                KindPre::RiskValidator(risk_validator::RiskValidatorPre::new(pre)?)
            }
            PluginKind::Matcher => KindPre::Matcher(matcher::MatcherPre::new(pre)?),
            PluginKind::Connector => KindPre::Connector(connector::ConnectorPre::new(pre)?),
        };
        Ok(Self {
            manifest,
            signers,
            path: path.to_path_buf(),
            grants,
            load,
            pre,
        })
    }

    /// The plugin's name (from its manifest).
    pub fn name(&self) -> &str {
        self.manifest.name.as_str()
    }

    /// Its version.
    pub fn version(&self) -> &semver::Version {
        &self.manifest.version
    }

    /// Its manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Keys whose signatures verified; empty for an unsigned plugin run in
    /// development mode.
    pub fn signers(&self) -> &[KeyId] {
        &self.signers
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its kind.
    pub fn kind(&self) -> PluginKind {
        self.manifest.kind
    }

    /// What the host grants it.
    pub fn grants(&self) -> &Grants {
        &self.grants
    }

    /// How its component was compiled or loaded from the cache.
    pub fn load_info(&self) -> &LoadInfo {
        &self.load
    }
}
