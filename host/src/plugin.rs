//! A plugin as the host knows it: discovered from its file's headers
//! (manifest, signatures, imports and exports), compiled on first use (or
//! by the preloader), then instantiated by [`crate::PluginInstance`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use tradsys_signing::{KeyId, Manifest};

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
    let host = api_version();
    let mut found = Vec::new();
    for name in exports {
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
    imports: &[String],
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
    for import in imports {
        let import = import.as_str();
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

/// A compiled plugin: resolved against the host and ready to instantiate.
pub(crate) struct Compiled {
    pub(crate) pre: KindPre,
    pub(crate) load: LoadInfo,
    engine: wasmtime::Engine,
}

/// Where a plugin is in its life before it has an instance.
#[derive(Debug, Clone, Copy)]
pub enum Readiness<'a> {
    /// Verified from its headers; not compiled yet.
    Discovered,
    /// Compiled (or loaded from the cache).
    Compiled(&'a LoadInfo),
    /// Could not be compiled, or a dependency could not; the reason.
    Failed(&'a str),
}

/// How the operator placed a plugin in the start-up order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Placement {
    /// Higher goes first when preloading and is evicted last under memory
    /// pressure (the manifest's `priority` unless the host config sets one).
    pub priority: i32,
    /// Compile in the background at start-up rather than on first use.
    pub preload: bool,
}

/// A verified plugin: compiled on first use, then ready to instantiate.
pub struct Plugin {
    manifest: Manifest,
    signers: Vec<KeyId>,
    path: PathBuf,
    digest: [u8; 32],
    grants: Grants,
    placement: Placement,
    dependencies: OnceLock<Vec<Arc<Plugin>>>,
    compiled: OnceLock<Result<Compiled, String>>,
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

/// What the trust policy established about a plugin file.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Its manifest.
    pub manifest: Manifest,
    /// Keys whose signatures verified (empty when run unsigned).
    pub signers: Vec<KeyId>,
    /// SHA-256 of the file without its signatures.
    pub digest: [u8; 32],
}

impl Plugin {
    /// A plugin from the headers of its verified file: the component must
    /// export the world its manifest names and import nothing it was not
    /// granted. Nothing is compiled. The error says what is wrong without
    /// naming the file (the caller adds that).
    pub fn discover(
        verified: Verified,
        path: &Path,
        bytes: &[u8],
        grants: Grants,
        placement: Placement,
    ) -> anyhow::Result<Self> {
        let Verified {
            manifest,
            signers,
            digest,
        } = verified;
        let interface = read_interface(bytes)?;
        let kind = identify_kind(&interface.exports).map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            kind == manifest.kind,
            "its manifest says {} but the component exports the {kind} world",
            manifest.kind
        );
        check_capabilities(&interface.imports, &manifest, &grants)?;
        Ok(Self {
            manifest,
            signers,
            path: path.to_path_buf(),
            digest,
            grants,
            placement,
            dependencies: OnceLock::new(),
            compiled: OnceLock::new(),
        })
    }

    /// Compile the plugin (after its dependencies) unless that was done: the
    /// first caller compiles, others wait for it. A failure is kept, with the
    /// reason, and returned to every later caller.
    pub(crate) fn ready(&self, runtime: &Runtime) -> Result<&Compiled, String> {
        let compiled = self.compiled
            .get_or_init(|| {
                for dependency in self.dependencies() {
                    if let Err(reason) = dependency.ready(runtime) {
                        return Err(format!("its dependency {} failed: {reason}", dependency.id()));
                    }
                }
                let compiled = self.compile(runtime).map_err(|e| format!("{e:#}"));
                match &compiled {
                    Ok(c) => tracing::debug!(plugin = self.id(), ms = c.load.duration.as_secs_f64() * 1e3, "compiled"),
                    Err(reason) => tracing::error!(plugin = self.id(), file = %self.path.display(), "cannot be compiled: {reason}"),
                }
                compiled
            })
            .as_ref()
            .map_err(Clone::clone)?;
        // Compiled code belongs to one engine; another runtime cannot use it.
        if !wasmtime::Engine::same(&compiled.engine, runtime.engine()) {
            return Err(format!(
                "{} was compiled for another runtime of this process",
                self.id()
            ));
        }
        Ok(compiled)
    }

    /// Compile now (or wait for a compile under way); the reason on failure.
    pub fn prepare(&self, runtime: &Runtime) -> Result<(), String> {
        self.ready(runtime).map(|_| ())
    }

    fn compile(&self, runtime: &Runtime) -> anyhow::Result<Compiled> {
        let (component, load) = runtime.load_component(&self.digest, || {
            let bytes = std::fs::read(&self.path)
                .with_context(|| format!("reading {}", self.path.display()))?;
            anyhow::ensure!(
                tradsys_signing::digest(&bytes)? == self.digest,
                "{} changed after it was verified",
                self.path.display()
            );
            Ok(bytes)
        })?;
        // Make the copy-on-write memory images now (a memfd per module on
        // Linux), which wasmtime would otherwise do on the first instantiation:
        // that is part of loading, not of the first call.
        component.initialize_copy_on_write_image()?;
        let pre = runtime.instantiate_pre(&component)?;
        let pre = match self.kind() {
            PluginKind::Strategy => KindPre::Strategy(strategy::StrategyPre::new(pre)?),
            PluginKind::RiskValidator => {
                KindPre::RiskValidator(risk_validator::RiskValidatorPre::new(pre)?)
            }
            PluginKind::Matcher => KindPre::Matcher(matcher::MatcherPre::new(pre)?),
            PluginKind::Connector => KindPre::Connector(connector::ConnectorPre::new(pre)?),
        };
        Ok(Compiled {
            pre,
            load,
            engine: runtime.engine().clone(),
        })
    }

    /// Where it is before instantiation: discovered, compiled or failed.
    pub fn readiness(&self) -> Readiness<'_> {
        match self.compiled.get() {
            None => Readiness::Discovered,
            Some(Ok(compiled)) => Readiness::Compiled(&compiled.load),
            Some(Err(reason)) => Readiness::Failed(reason),
        }
    }

    /// The plugins it depends on (set once by the registry).
    pub fn dependencies(&self) -> &[Arc<Plugin>] {
        self.dependencies.get().map_or(&[], Vec::as_slice)
    }

    pub(crate) fn set_dependencies(&self, dependencies: Vec<Arc<Plugin>>) {
        let _ = self.dependencies.set(dependencies);
    }

    /// The plugin's name (from its manifest).
    pub fn name(&self) -> &str {
        self.manifest.name.as_str()
    }

    /// `name@version`.
    pub fn id(&self) -> String {
        self.manifest.id()
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

    /// The file it was discovered in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SHA-256 of its file without signatures (the artifact cache's key).
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// Its kind.
    pub fn kind(&self) -> PluginKind {
        self.manifest.kind
    }

    /// What the host grants it.
    pub fn grants(&self) -> &Grants {
        &self.grants
    }

    /// Its priority and whether it is preloaded.
    pub fn placement(&self) -> Placement {
        self.placement
    }
}
