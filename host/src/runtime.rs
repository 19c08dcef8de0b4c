//! The wasmtime engine, the linker with the host imports, and the store data
//! every plugin instance carries. The only module that configures wasmtime.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, Result};
use wasmtime::component::{Component, HasSelf, InstancePre, Linker, ResourceTable};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter, Store,
    StoreLimits, StoreLimitsBuilder,
};
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

use crate::bindings::{self, LogLevel};
use crate::cache::{ArtifactCache, CacheOutcome};
use crate::config::{FaultSettings, Limits, MemorySettings, Pressure};

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
#[derive(Debug, Clone)]
pub struct Grants {
    /// Entries passed to `init` and answered by `config-get`.
    pub config: Vec<(String, String)>,
    /// Directory preopened read-only as `/data`, if any.
    pub read_dir: Option<PathBuf>,
    /// `host:port` addresses it may connect to (resolved when granted).
    pub network: Vec<std::net::SocketAddr>,
    /// Whether it may read the host's randomness.
    pub random: bool,
    /// CPU, memory and output limits.
    pub limits: Limits,
    /// When repeated faults quarantine it.
    pub faults: FaultSettings,
}

impl Default for Grants {
    fn default() -> Self {
        let limits = Limits::default_for(crate::plugin::PluginKind::Strategy);
        Self {
            config: Vec::new(),
            read_dir: None,
            network: Vec::new(),
            random: false,
            limits,
            faults: FaultSettings::default(),
        }
    }
}

/// `wasi:clocks/wall-clock` as the host clock: market time, not the real time.
struct MarketWallClock(Clock);

impl wasmtime_wasi::HostWallClock for MarketWallClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(1)
    }

    fn now(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.now())
    }
}

/// `wasi:clocks/monotonic-clock` as the host clock.
struct MarketMonotonicClock(Clock);

impl wasmtime_wasi::HostMonotonicClock for MarketMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        self.0.now()
    }
}

/// The grant an import needs: `Ok(None)` for what every plugin may import
/// (the tradsys host, and WASI I/O, exit, empty stdio and environment, and
/// clocks that read market time), `Ok(Some(grant))` for a capability, and
/// `Err` for an interface this host does not provide.
pub fn required_grant(import: &str) -> Result<Option<&'static str>, ()> {
    let interface = import.split_once('@').map_or(import, |(i, _)| i);
    match interface
        .split_once('/')
        .map_or(interface, |(package, _)| package)
    {
        "tradsys:plugins" | "wasi:io" | "wasi:cli" | "wasi:clocks" => Ok(None),
        "wasi:filesystem" => Ok(Some("read_dir")),
        "wasi:sockets" => Ok(Some("network")),
        "wasi:random" => Ok(Some("random")),
        _ => Err(()),
    }
}

/// How a plugin's component was obtained.
#[derive(Debug, Clone)]
pub struct LoadInfo {
    /// What the artifact cache did; `None` without a cache.
    pub cache: Option<CacheOutcome>,
    /// Compile or cache-load time.
    pub duration: std::time::Duration,
    /// 1 for the first plugin this runtime made ready, 2 for the next, ...
    pub order: u64,
}

/// Store data of one plugin instance.
pub struct HostState {
    plugin: Arc<str>,
    config: Arc<[(String, String)]>,
    clock: Clock,
    wasi: WasiCtx,
    table: ResourceTable,
    limits: MemoryMeter,
}

impl HostState {
    /// Bytes of linear memory the instance holds.
    pub fn memory_bytes(&self) -> usize {
        self.limits.bytes
    }
}

/// The store's limits, also counting the linear memory the instance holds
/// (the memory budget is kept in these bytes).
struct MemoryMeter {
    limits: StoreLimits,
    bytes: usize,
    /// The growth last allowed, taken back if the grow then failed.
    pending: usize,
}

impl ResourceLimiter for MemoryMeter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.pending = desired.saturating_sub(current);
            self.bytes += self.pending;
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.bytes -= std::mem::take(&mut self.pending);
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
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

/// Milliseconds per epoch tick: the resolution of call deadlines.
pub const EPOCH_TICK_MS: u64 = 1;

/// The largest wasm stack a call may use; deeper recursion traps.
pub const MAX_WASM_STACK: usize = 512 << 10;

/// The engine and linker shared by every plugin of a host.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    clock: Clock,
    ticker: Option<Ticker>,
    cache: Option<ArtifactCache>,
    /// Plugins made ready so far (numbers `LoadInfo::order`).
    ready: AtomicU64,
    /// Linear memory held by every live instance of this runtime, bytes.
    memory: AtomicU64,
    budget: MemorySettings,
}

/// The engine-wide thread that advances the epoch every millisecond, so a
/// call past its deadline is interrupted.
struct Ticker {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Runtime {
    /// An engine tuned for many small synchronous calls: component-model
    /// concurrency off (it makes every call 2.5 to 3 times dearer) and the
    /// pooling allocator for cheap instantiation.
    pub fn new() -> Result<Self> {
        Self::with_metering(true)
    }

    /// An engine without fuel metering or deadlines: only for measuring what
    /// metering costs. Plugins run unbounded on it.
    pub fn unmetered() -> Result<Self> {
        Self::with_metering(false)
    }

    fn with_metering(metered: bool) -> Result<Self> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(256)
            .total_core_instances(512)
            .total_memories(256)
            .total_tables(512)
            .max_memory_size(256 << 20);
        let mut config = Config::new();
        config
            .concurrency_support(false)
            .consume_fuel(metered)
            .epoch_interruption(metered)
            .max_wasm_stack(MAX_WASM_STACK)
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
        let ticker = metered.then(|| {
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let (engine, flag) = (engine.clone(), stop.clone());
            let thread = std::thread::Builder::new()
                .name("tradsys-epoch".into())
                .spawn(move || {
                    while !flag.load(Ordering::Relaxed) {
                        std::thread::sleep(std::time::Duration::from_millis(EPOCH_TICK_MS));
                        engine.increment_epoch();
                    }
                })
                .expect("spawning the epoch ticker");
            Ticker {
                stop,
                thread: Some(thread),
            }
        });
        Ok(Self {
            engine,
            linker,
            clock: Clock::default(),
            ticker,
            cache: None,
            ready: AtomicU64::new(0),
            memory: AtomicU64::new(0),
            budget: MemorySettings::default(),
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

    /// Load compiled components from (and save them to) the cache at `dir`.
    pub fn with_cache(mut self, dir: &Path) -> Result<Self> {
        self.cache = Some(ArtifactCache::open(dir, &self.engine)?);
        Ok(self)
    }

    /// The artifact cache, if there is one.
    pub fn cache(&self) -> Option<&ArtifactCache> {
        self.cache.as_ref()
    }

    /// The component whose digest (without signatures) is `digest`: from the
    /// artifact cache when there is one, else compiled from `bytes()`, which
    /// is read only when needed.
    pub fn load_component(
        &self,
        digest: &[u8; 32],
        bytes: impl FnOnce() -> Result<Vec<u8>>,
    ) -> Result<(Component, LoadInfo)> {
        let started = std::time::Instant::now();
        let (component, cache) = match &self.cache {
            Some(cache) => {
                let (component, outcome) = cache.load_or_compile(&self.engine, digest, bytes)?;
                (component, Some(outcome))
            }
            None => (self.compile(&bytes()?)?, None),
        };
        Ok((
            component,
            LoadInfo {
                cache,
                duration: started.elapsed(),
                order: self.ready.fetch_add(1, Ordering::Relaxed) + 1,
            },
        ))
    }

    /// Compile a component from its bytes.
    pub fn compile(&self, bytes: &[u8]) -> Result<Component> {
        Ok(Component::new(&self.engine, bytes)?)
    }

    /// Keep plugin instances within `budget`.
    pub fn with_memory(mut self, budget: MemorySettings) -> Self {
        self.budget = budget;
        self
    }

    /// The memory budget.
    pub fn memory_budget(&self) -> &MemorySettings {
        &self.budget
    }

    /// Linear memory held by every live instance, bytes.
    pub fn memory_in_use(&self) -> u64 {
        self.memory.load(Ordering::Relaxed)
    }

    /// The memory pressure now.
    pub fn pressure(&self) -> Pressure {
        self.budget.pressure(self.memory_in_use())
    }

    /// Account for an instance's memory growing (or shrinking when it is dropped).
    pub(crate) fn memory_changed(&self, before: u64, after: u64) {
        if after >= before {
            self.memory.fetch_add(after - before, Ordering::Relaxed);
        } else {
            self.memory.fetch_sub(before - after, Ordering::Relaxed);
        }
    }

    /// Resolve a component's imports against the host; fails when it imports
    /// something the host does not provide.
    pub fn instantiate_pre(&self, component: &Component) -> Result<InstancePre<HostState>> {
        Ok(self.linker.instantiate_pre(component)?)
    }

    /// A fresh store for one instance of `plugin`: nothing is reachable but
    /// what `grants` names.
    pub fn new_store(&self, plugin: &str, grants: &Grants) -> Result<Store<HostState>> {
        // Nothing is reachable unless granted: no environment, arguments or
        // stdio; clocks read the host clock (market time), so a replay stays
        // deterministic and the real time never leaks in.
        let mut wasi = WasiCtx::builder();
        wasi.wall_clock(MarketWallClock(self.clock.clone()))
            .monotonic_clock(MarketMonotonicClock(self.clock.clone()))
            .allow_ip_name_lookup(false)
            .allow_udp(false)
            .allow_tcp(!grants.network.is_empty());
        let allowed = grants.network.clone();
        // Connect only to granted addresses; bind only the ephemeral local
        // port a connect implies; no listening, accepting or UDP.
        wasi.socket_addr_check(move |addr, use_| {
            let ok = match use_ {
                SocketAddrUse::TcpConnect => allowed.contains(&addr),
                SocketAddrUse::TcpBind => {
                    !allowed.is_empty() && addr.ip().is_unspecified() && addr.port() == 0
                }
                _ => false,
            };
            Box::pin(async move { ok })
        });
        if let Some(dir) = &grants.read_dir {
            wasi.preopened_dir(dir, "/data", FsPerms::ReadOnly)
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!("granting plugin {plugin} read access to {}", dir.display())
                })?;
        }
        let limits = StoreLimitsBuilder::new()
            .memory_size(usize::try_from(grants.limits.memory_bytes).unwrap_or(usize::MAX))
            .table_elements(100_000)
            .instances(64)
            .memories(16)
            .tables(64)
            .build();
        let limits = MemoryMeter {
            limits,
            bytes: 0,
            pending: 0,
        };
        let state = HostState {
            plugin: plugin.into(),
            config: grants.config.clone().into(),
            clock: self.clock.clone(),
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limits,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        Ok(store)
    }

    /// Give `store` one call's budget: `fuel` and a deadline `deadline_ms` from now.
    pub fn arm(&self, store: &mut Store<HostState>, fuel: u64, deadline_ms: u64) -> Result<()> {
        if self.ticker.is_some() {
            store.set_fuel(fuel)?;
            store.set_epoch_deadline(deadline_ms.div_ceil(EPOCH_TICK_MS).max(1));
        }
        Ok(())
    }
}
