//! The facade for embedding: a [`Host`] is a plugin directory read under a
//! trust policy and a config, ready to run sessions.
//!
//! ```no_run
//! use tradsys_host::Host;
//!
//! # fn main() -> anyhow::Result<()> {
//! let host = Host::builder()
//!     .plugins_dir("target/plugins")
//!     .trust_dir("trust") // *.pub keys and a `revoked` list
//!     .build()?;
//! let mut session = host.session()?;
//! let control = session.control(); // steer it from another thread
//! session.run()?;
//! print!("{}", session.report().render());
//! # drop(control);
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::config::HostConfig;
use crate::engine::{CacheOutcome, Runtime};
use crate::loading::{Plugin, PluginFile, Readiness, Registry, TrustPolicy, cache_path};
use crate::sandbox::AnyInstance;
use crate::trading::Session;

/// How to make a [`Host`].
#[derive(Debug, Default)]
pub struct HostBuilder {
    plugins_dir: Option<PathBuf>,
    config: HostConfig,
    no_cache: bool,
}

impl HostBuilder {
    /// The host configuration (default: [`HostConfig::default`]).
    pub fn config(mut self, config: HostConfig) -> Self {
        self.config = config;
        self
    }

    /// The plugin directory (default: the config's `run.plugins_dir`).
    pub fn plugins_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.plugins_dir = Some(dir.into());
        self
    }

    /// The trust store: a directory of `*.pub` keys and a `revoked` list.
    pub fn trust_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.trust.dir = Some(dir.into());
        self
    }

    /// Development only: also run plugins without a trusted signature.
    pub fn allow_unsigned(mut self, allow: bool) -> Self {
        self.config.trust.allow_unsigned |= allow;
        self
    }

    /// Compile every plugin afresh instead of keeping compiled artifacts in
    /// `<plugin dir>/.tradsys-cache/`.
    pub fn without_cache(mut self) -> Self {
        self.no_cache = true;
        self
    }

    /// Read the trust store and the plugin directory (headers only; nothing
    /// is compiled unless `run.loading = "eager"`, and then at session start).
    pub fn build(self) -> Result<Host> {
        let Some(dir) = self.plugins_dir.or(self.config.run.plugins_dir.clone()) else {
            bail!("no plugin directory: set one (--plugins DIR, or run.plugins_dir)");
        };
        let policy = TrustPolicy::from_settings(&self.config.trust)?;
        let mut runtime = Runtime::new()?
            .with_memory(self.config.memory)
            .with_logs(self.config.logs);
        if !self.no_cache {
            runtime = runtime.with_cache(&cache_path(&dir))?;
        }
        let registry = Registry::load_dir(&dir, &self.config, &policy)?;
        Ok(Host {
            config: self.config,
            runtime: Arc::new(runtime),
            registry,
        })
    }
}

/// A plugin directory read under a trust policy and a config.
pub struct Host {
    config: HostConfig,
    runtime: Arc<Runtime>,
    registry: Registry,
}

/// What checking one plugin found: how it was loaded and what its instance costs.
#[derive(Debug, Clone)]
pub struct PluginCheck {
    /// Loaded from the artifact cache rather than compiled.
    pub cache_hit: bool,
    /// Compile or cache-load time.
    pub load: Duration,
    /// Instantiation and `init`, or why they failed.
    pub instance: Result<InstanceCheck, String>,
}

/// A plugin instantiated and initialised with its config.
#[derive(Debug, Clone, Copy)]
pub struct InstanceCheck {
    /// Time to instantiate and run `init`.
    pub instantiate: Duration,
    /// Linear memory the instance holds, bytes.
    pub memory_bytes: u64,
}

impl Host {
    /// How to make one.
    pub fn builder() -> HostBuilder {
        HostBuilder::default()
    }

    /// A session over the plugins the config selects.
    pub fn session(&self) -> Result<Session> {
        Session::new(self.runtime.clone(), &self.registry, &self.config).with_context(|| {
            format!(
                "setting up a session over {}",
                self.registry.dir().display()
            )
        })
    }

    /// Every file of the plugin directory and its state.
    pub fn files(&self) -> &[PluginFile] {
        self.registry.files()
    }

    /// The selected plugin called `name`.
    pub fn plugin(&self, name: &str) -> Option<&Arc<Plugin>> {
        self.registry.get(name)
    }

    /// Whether a compiled artifact of `plugin` is cached (not yet checked).
    pub fn is_cached(&self, plugin: &Plugin) -> bool {
        let cache = self.runtime.cache();
        cache.is_some_and(|c| c.contains(plugin.digest()))
    }

    /// Compile (or load from the cache), instantiate and `init` `plugin`
    /// with its config, under its limits; the reason when it cannot be loaded.
    pub fn check(&self, plugin: &Arc<Plugin>) -> Result<PluginCheck, String> {
        plugin.prepare(&self.runtime)?;
        let Readiness::Compiled(load) = plugin.readiness() else {
            return Err(format!("{} was not compiled", plugin.id()));
        };
        let (cache_hit, load) = (load.cache == Some(CacheOutcome::Hit), load.duration);
        let mut any = AnyInstance::new(self.runtime.clone(), plugin.clone());
        let instance = any.get_mut();
        let live = instance.ensure_live();
        let instance = live
            .map(|()| InstanceCheck {
                instantiate: instance.stats().instantiate_time,
                memory_bytes: instance.memory_bytes(),
            })
            .map_err(|fault| fault.to_string());
        Ok(PluginCheck {
            cache_hit,
            load,
            instance,
        })
    }

    /// The plugin directory.
    pub fn dir(&self) -> &Path {
        self.registry.dir()
    }

    /// The host's state file (rollback floors and operator pins; the admin
    /// token is written beside it).
    pub fn state_file(&self) -> PathBuf {
        crate::loading::registry::state_file(self.registry.dir(), &self.config)
    }

    /// The configuration.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }
}
