//! The wasmtime engine and linker shared by every plugin of a host: the only
//! module that configures wasmtime (component-model concurrency off, the
//! pooling allocator, fuel, epoch interruption with one 1 ms ticker thread,
//! a 512 KiB wasm stack), and the one place a component is compiled and
//! resolved against the host's imports ([`KindPre`]).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, Result};
use wasmtime::component::{Component, HasSelf, InstancePre, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

use crate::bindings::{current, v1_0, v1_1, v1_2};
use crate::engine::cache::{ArtifactCache, CacheOutcome};
use crate::engine::logs::LogLimiter;
use crate::engine::signals::SignalNames;
use crate::engine::store::{self, Clock, HostState, Shared, SharedBooks, SharedOwners};
use crate::journal::Journal;
use crate::policy::{Grants, LogSettings, MemorySettings, PluginKind, Pressure};

/// A component resolved against the host's imports, typed by the world its
/// kind exports and the version it was built against: what an instance is
/// made from.
pub enum KindPre {
    /// A strategy.
    Strategy(
        Versioned<
            current::strategy::StrategyPre<HostState>,
            v1_2::strategy::StrategyPre<HostState>,
            v1_1::strategy::StrategyPre<HostState>,
            v1_0::strategy::StrategyPre<HostState>,
        >,
    ),
    /// A risk validator.
    RiskValidator(
        Versioned<
            current::risk_validator::RiskValidatorPre<HostState>,
            v1_2::risk_validator::RiskValidatorPre<HostState>,
            v1_1::risk_validator::RiskValidatorPre<HostState>,
            v1_0::risk_validator::RiskValidatorPre<HostState>,
        >,
    ),
    /// A matcher.
    Matcher(
        Versioned<
            current::matcher::MatcherPre<HostState>,
            v1_2::matcher::MatcherPre<HostState>,
            v1_1::matcher::MatcherPre<HostState>,
            v1_0::matcher::MatcherPre<HostState>,
        >,
    ),
    /// A connector.
    Connector(
        Versioned<
            current::connector::ConnectorPre<HostState>,
            v1_2::connector::ConnectorPre<HostState>,
            v1_1::connector::ConnectorPre<HostState>,
            v1_0::connector::ConnectorPre<HostState>,
        >,
    ),
    /// A processor (a kind since 1.2.0).
    Processor(ProcessorVersions),
    /// A network connector (1.3.0): a connector whose venue's protocol
    /// runs over a connection the host owns.
    NetworkConnector(current::network_connector::NetworkConnectorPre<HostState>),
}

/// Which `tradsys:plugins` version a plugin's exports were built against.
pub enum Versioned<C, V1_2, V1_1, V1_0> {
    /// 1.4.0, the host's (or 1.3.0: the same exports).
    Current(C),
    /// 1.2.0.
    V1_2(V1_2),
    /// 1.1.0.
    V1_1(V1_1),
    /// 1.0.0.
    V1_0(V1_0),
}

/// Which version a processor was built against (the kind is 1.2.0's).
pub enum ProcessorVersions {
    /// 1.4.0, the host's (or 1.3.0: the same exports).
    Current(current::processor::ProcessorPre<HostState>),
    /// 1.2.0.
    V1_2(v1_2::processor::ProcessorPre<HostState>),
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

/// Milliseconds per epoch tick: the resolution of call deadlines.
pub const EPOCH_TICK_MS: u64 = 1;

/// The largest wasm stack a call may use; deeper recursion traps.
pub const MAX_WASM_STACK: usize = 512 << 10;

/// The engine and linker shared by every plugin of a host.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    clock: Clock,
    local_clock: Clock,
    shared: Shared,
    ticker: Option<Ticker>,
    cache: Option<ArtifactCache>,
    /// Plugins made ready so far (numbers `LoadInfo::order`).
    ready: AtomicU64,
    /// Linear memory held by every live instance of this runtime, bytes.
    memory: AtomicU64,
    budget: MemorySettings,
    logs: LogSettings,
    /// The running session's journal, where faults and quarantines go.
    journal: std::sync::Mutex<Journal>,
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
    /// metering costs (the boundary benchmark). Plugins run unbounded on it,
    /// so it exists only with the `unmetered-for-benchmarks` feature.
    #[cfg(feature = "unmetered-for-benchmarks")]
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

        // 1.4.0's imports and 1.0.0's are defined exactly, so a 1.0.0 plugin
        // gets the 1.0.0 `host` (the linker looks up the exact name first); a
        // 1.1.0, 1.2.0 or 1.3.0 plugin's imports are 1.4.0's (which only
        // added functions and interfaces) and resolve to them.
        let mut linker = Linker::new(&engine);
        {
            use current::strategy::tradsys::plugins as now;
            use v1_0::strategy::tradsys::plugins as old;
            now::types::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
            now::host::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
            now::market::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
            now::signals::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
            current::matcher::tradsys::plugins::orders::add_to_linker::<_, HasSelf<_>>(
                &mut linker,
                |s| s,
            )?;
            current::matcher::tradsys::plugins::venue_feed::add_to_linker::<_, HasSelf<_>>(
                &mut linker,
                |s| s,
            )?;
            current::network_connector::tradsys::plugins::reconciliation::add_to_linker::<
                _,
                HasSelf<_>,
            >(&mut linker, |s| s)?;
            old::types::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
            old::host::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
        }
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
            local_clock: Clock::default(),
            shared: Shared::default(),
            ticker,
            cache: None,
            ready: AtomicU64::new(0),
            memory: AtomicU64::new(0),
            budget: MemorySettings::default(),
            logs: LogSettings::default(),
            journal: std::sync::Mutex::default(),
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The exchange's clock: the time of the market event being processed,
    /// what the matcher and the connector read (and the journal stamps).
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The strategies' clock: when they see the market (the exchange's time
    /// plus the feed latency), what strategies, validators and processors read.
    pub fn local_clock(&self) -> &Clock {
        &self.local_clock
    }

    /// The feed's order books every store of this runtime reads.
    pub fn books(&self) -> &SharedBooks {
        &self.shared.books
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

    /// The owners of the orders at the matcher, which its `orders` import reads.
    pub fn owners(&self) -> &SharedOwners {
        &self.shared.owners
    }

    /// What the network connector reports through its `reconciliation` import.
    pub fn reconciliation(&self) -> &crate::engine::SharedReconciliation {
        &self.shared.reconciliation
    }

    /// The signal names the `signals` import interns.
    pub fn signals(&self) -> &SignalNames {
        &self.shared.signals
    }

    /// The journal of the session running on this runtime (off when none is written).
    pub fn journal(&self) -> Journal {
        self.journal.lock().expect("journal").clone()
    }

    /// Record the faults of this runtime's instances in `journal` from now on.
    pub(crate) fn set_journal(&self, journal: Journal) {
        *self.journal.lock().expect("journal") = journal;
    }

    /// Keep plugin instances within `budget`.
    pub fn with_memory(mut self, budget: MemorySettings) -> Self {
        self.budget = budget;
        self
    }

    /// Bound what each plugin may log.
    pub fn with_logs(mut self, logs: LogSettings) -> Self {
        self.logs = logs;
        self
    }

    /// What each plugin may log.
    pub fn log_settings(&self) -> LogSettings {
        self.logs
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

    /// Make `component` ready to instantiate as a plugin of `kind`: its
    /// copy-on-write memory images built now (a memfd per module on Linux,
    /// which wasmtime would otherwise make on the first instantiation: that
    /// is part of loading, not of the first call), its imports resolved, its
    /// exports checked against the kind's world.
    pub fn prepare_kind(&self, component: &Component, kind: PluginKind) -> Result<KindPre> {
        component.initialize_copy_on_write_image()?;
        let minor = self.exported_minor(component);
        let pre = self.instantiate_pre(component)?;
        macro_rules! typed {
            ($module:ident, $pre:ident) => {
                match minor {
                    Some(0) => Versioned::V1_0(v1_0::$module::$pre::new(pre)?),
                    Some(1) => Versioned::V1_1(v1_1::$module::$pre::new(pre)?),
                    Some(2) => Versioned::V1_2(v1_2::$module::$pre::new(pre)?),
                    _ => Versioned::Current(current::$module::$pre::new(pre)?),
                }
            };
        }
        Ok(match kind {
            PluginKind::Strategy => KindPre::Strategy(typed!(strategy, StrategyPre)),
            PluginKind::RiskValidator => {
                KindPre::RiskValidator(typed!(risk_validator, RiskValidatorPre))
            }
            PluginKind::Matcher => KindPre::Matcher(typed!(matcher, MatcherPre)),
            PluginKind::Connector if self.exports_network_connector(component) => {
                KindPre::NetworkConnector(current::network_connector::NetworkConnectorPre::new(
                    pre,
                )?)
            }
            PluginKind::Connector => KindPre::Connector(typed!(connector, ConnectorPre)),
            PluginKind::Processor => KindPre::Processor(match minor {
                Some(2) => ProcessorVersions::V1_2(v1_2::processor::ProcessorPre::new(pre)?),
                _ => ProcessorVersions::Current(current::processor::ProcessorPre::new(pre)?),
            }),
        })
    }

    /// Whether `component` exports the network connector's interface.
    fn exports_network_connector(&self, component: &Component) -> bool {
        component
            .component_type()
            .exports(&self.engine)
            .any(|(name, _)| {
                name.split_once('@').is_some_and(|(interface, _)| {
                    interface == crate::bindings::NETWORK_CONNECTOR_API
                })
            })
    }

    /// The minor version of the `tradsys:plugins` 1.x interfaces `component`
    /// exports (the loader already refused any version this host cannot run).
    fn exported_minor(&self, component: &Component) -> Option<u64> {
        component
            .component_type()
            .exports(&self.engine)
            .find_map(|(name, _)| {
                let (interface, version) = name.split_once('@')?;
                let version = semver::Version::parse(version).ok()?;
                (interface.starts_with("tradsys:plugins/") && version.major == 1)
                    .then_some(version.minor)
            })
    }

    /// A fresh store for one instance of `plugin` (of `kind`, which says
    /// which clock it reads): nothing is reachable but what `grants` names;
    /// its log goes through `logs`.
    pub fn new_store(
        &self,
        plugin: &str,
        kind: PluginKind,
        grants: &Grants,
        logs: Arc<LogLimiter>,
    ) -> Result<Store<HostState>> {
        let clock = match kind {
            PluginKind::Strategy | PluginKind::RiskValidator | PluginKind::Processor => {
                &self.local_clock
            }
            PluginKind::Matcher | PluginKind::Connector => &self.clock,
        };
        store::new_store(&self.engine, clock, &self.shared, plugin, grants, logs)
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
