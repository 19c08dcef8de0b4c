//! A plugin as the host knows it: discovered from its file's headers
//! (manifest, signatures, imports and exports), compiled on first use (or
//! by the preloader), then instantiated by the sandbox (`PluginInstance`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use tradsys_signing::{KeyId, Manifest};

use crate::engine::{KindPre, LoadInfo, Runtime};
use crate::loading::interface::{check_capabilities, identify_kind, read_interface};
use crate::loading::trust::Verified;
use crate::policy::{Grants, Placement, PluginKind};

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

/// A verified plugin: compiled on first use, then ready to instantiate.
pub struct Plugin {
    manifest: Manifest,
    signers: Vec<KeyId>,
    path: PathBuf,
    digest: [u8; 32],
    grants: Grants,
    placement: Placement,
    /// A connector that exports the network connector's interface.
    network: bool,
    /// A matcher that imports `venue-feed` (1.4.0): the session keeps each
    /// book delta's order as it was before it.
    venue_feed: bool,
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
        let network = interface.exports.iter().any(|name| {
            name.split_once('@')
                .is_some_and(|(i, _)| i == crate::bindings::NETWORK_CONNECTOR_API)
        });
        let venue_feed = interface.imports.iter().any(|name| {
            name.split_once('@')
                .is_some_and(|(i, _)| i == crate::bindings::VENUE_FEED)
        });
        Ok(Self {
            network,
            venue_feed,
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
        let pre = runtime.prepare_kind(&component, self.kind())?;
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

    /// Whether it is a network connector: a venue's protocol over a
    /// connection the host owns (`[venue] model = "live"`, paper trading).
    pub fn is_network_connector(&self) -> bool {
        self.network
    }

    /// Whether it is a matcher that reads the `venue-feed` import (1.4.0).
    pub fn reads_venue_feed(&self) -> bool {
        self.venue_feed
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
