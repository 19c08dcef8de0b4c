//! The wasmtime engine, the linker with the host imports, and the store data
//! every plugin instance carries. The only module that configures wasmtime.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, Result};
use wasmtime::component::{Component, HasSelf, InstancePre, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

use crate::bindings::{self, LogLevel};

/// The host clock plugins read through the `now` import: the time of the
/// market event being processed, so a replay is deterministic.
#[derive(Debug, Clone, Default)]
pub struct Clock(Arc<AtomicU64>);

impl Clock {
    /// Nanoseconds since the Unix epoch.
    pub fn now(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Move the clock to `ts`.
    pub fn set(&self, ts: u64) {
        self.0.store(ts, Ordering::Relaxed);
    }
}

/// What the host grants one plugin: its config entries and, for plugins that
/// read files, one directory preopened read-only at `/data`.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    /// Entries passed to `init` and answered by `config-get`.
    pub config: Vec<(String, String)>,
    /// Directory preopened read-only as `/data`, if any.
    pub read_dir: Option<PathBuf>,
}

/// What a component exports and imports, by name.
#[derive(Debug, Clone)]
pub struct ComponentDescription {
    /// Exported names, for example `tradsys:plugins/strategy-api@1.0.0`.
    pub exports: Vec<String>,
    /// Imported names.
    pub imports: Vec<String>,
}

/// Store data of one plugin instance.
pub struct HostState {
    plugin: Arc<str>,
    config: Arc<[(String, String)]>,
    clock: Clock,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl bindings::types::Host for HostState {}

impl bindings::HostImports for HostState {
    fn log(&mut self, level: LogLevel, message: String) {
        let plugin = &*self.plugin;
        match level {
            LogLevel::Trace => tracing::trace!(target: "plugin", plugin, "{message}"),
            LogLevel::Debug => tracing::debug!(target: "plugin", plugin, "{message}"),
            LogLevel::Info => tracing::info!(target: "plugin", plugin, "{message}"),
            LogLevel::Warn => tracing::warn!(target: "plugin", plugin, "{message}"),
            LogLevel::Error => tracing::error!(target: "plugin", plugin, "{message}"),
        }
    }

    fn now(&mut self) -> u64 {
        self.clock.now()
    }

    fn config_get(&mut self, key: String) -> Option<String> {
        self.config
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The engine and linker shared by every plugin of a host.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    clock: Clock,
}

impl Runtime {
    /// An engine tuned for many small synchronous calls: component-model
    /// concurrency off (it makes every call 2.5 to 3 times dearer) and the
    /// pooling allocator for cheap instantiation.
    pub fn new() -> Result<Self> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(256)
            .total_core_instances(512)
            .total_memories(256)
            .total_tables(512)
            .max_memory_size(256 << 20);
        let mut config = Config::new();
        config
            .concurrency_support(false)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)
            .map_err(anyhow::Error::from)
            .context("creating the wasmtime engine")?;

        let mut linker = Linker::new(&engine);
        bindings::strategy::tradsys::plugins::types::add_to_linker::<_, HasSelf<_>>(
            &mut linker,
            |s| s,
        )?;
        bindings::strategy::tradsys::plugins::host::add_to_linker::<_, HasSelf<_>>(
            &mut linker,
            |s| s,
        )?;
        // Plugins built for wasm32-wasip2 import WASI even when they use little
        // of it; what they may reach is decided per store in `new_store`.
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        Ok(Self {
            engine,
            linker,
            clock: Clock::default(),
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The clock every store of this runtime reads.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Compile a component from its bytes.
    pub fn compile(&self, bytes: &[u8]) -> Result<Component> {
        Ok(Component::new(&self.engine, bytes)?)
    }

    /// The instance names a component exports and imports (compiles it).
    pub fn describe(&self, bytes: &[u8]) -> Result<ComponentDescription> {
        let component = self.compile(bytes)?;
        let ty = component.component_type();
        Ok(ComponentDescription {
            exports: ty
                .exports(&self.engine)
                .map(|(name, _)| name.to_string())
                .collect(),
            imports: ty
                .imports(&self.engine)
                .map(|(name, _)| name.to_string())
                .collect(),
        })
    }

    /// Resolve a component's imports against the host; fails when it imports
    /// something the host does not provide.
    pub fn instantiate_pre(&self, component: &Component) -> Result<InstancePre<HostState>> {
        Ok(self.linker.instantiate_pre(component)?)
    }

    /// A fresh store for one instance of `plugin`: nothing is reachable but
    /// what `grants` names.
    pub fn new_store(&self, plugin: &str, grants: &Grants) -> Result<Store<HostState>> {
        let mut wasi = WasiCtx::builder();
        if let Some(dir) = &grants.read_dir {
            wasi.preopened_dir(dir, "/data", FsPerms::ReadOnly)
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!("granting plugin {plugin} read access to {}", dir.display())
                })?;
        }
        let state = HostState {
            plugin: plugin.into(),
            config: grants.config.clone().into(),
            clock: self.clock.clone(),
            wasi: wasi.build(),
            table: ResourceTable::new(),
        };
        Ok(Store::new(&self.engine, state))
    }
}
