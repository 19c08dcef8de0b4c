//! The store every plugin instance carries: its host state (the tradsys
//! host imports, a WASI context holding only its grants, a memory meter)
//! and the host clock it reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, Result};
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::random::Deterministic;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

use tradsys_book::Books;

use crate::bindings::current::strategy::tradsys::plugins::market::QueuedOrder;
use crate::bindings::{self, LogLevel, types, v1_0};
use crate::engine::logs::{Admit, LogLimiter};
use crate::engine::reconcile::SharedReconciliation;
use crate::engine::signals::SignalNames;
use crate::engine::stderr::StderrLog;
use crate::policy::Grants;

/// A host clock plugins read through the `now` import (and WASI's clocks):
/// market time, so a replay is deterministic. A runtime has two: the
/// exchange's (the time of the market event being processed; the matcher
/// and the connector read it) and the strategies' (that time plus the feed
/// latency, when they see it; strategies, validators and processors read it).
#[derive(Debug, Clone, Default)]
pub struct Clock(Arc<AtomicU64>);

impl Clock {
    /// Nanoseconds since the Unix epoch.
    pub fn now(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Set the clock to `ts` (a session's start).
    pub fn set(&self, ts: u64) {
        self.0.store(ts, Ordering::Relaxed);
    }

    /// Move the clock forward to `ts`; it never goes back.
    pub fn advance(&self, ts: u64) {
        self.0.fetch_max(ts, Ordering::Relaxed);
    }
}

/// The feed's order books, shared by the session (which applies every
/// market batch before strategies see it) and every store (the `market`
/// import reads them).
#[derive(Debug, Clone, Default)]
pub struct SharedBooks(Arc<std::sync::RwLock<Books>>);

impl SharedBooks {
    /// Read the books.
    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Books> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Change the books.
    pub fn write(&self) -> std::sync::RwLockWriteGuard<'_, Books> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// The owner of every order at the matcher (host order id → an opaque
/// number per strategy), kept by the session's router and read by the
/// matcher's `orders` import for self-trade prevention.
#[derive(Debug, Clone, Default)]
pub struct SharedOwners(Arc<std::sync::RwLock<std::collections::HashMap<u64, u32>>>);

impl SharedOwners {
    /// The owner of order `id`.
    pub fn get(&self, id: u64) -> Option<u32> {
        let owners = self.0.read().unwrap_or_else(|e| e.into_inner());
        owners.get(&id).copied()
    }

    /// Record that `owner` sent order `id`.
    pub fn insert(&self, id: u64, owner: u32) {
        let mut owners = self.0.write().unwrap_or_else(|e| e.into_inner());
        owners.insert(id, owner);
    }

    /// Forget finished orders.
    pub fn remove(&self, ids: &[u64]) {
        if ids.is_empty() {
            return;
        }
        let mut owners = self.0.write().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            owners.remove(id);
        }
    }

    /// Forget every order (a new session).
    pub fn clear(&self) {
        self.0.write().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// What every store of a runtime shares with the session: the books, the
/// owners of the orders at the matcher, the signal names, the connector's
/// reconciliation findings.
#[derive(Debug, Clone, Default)]
pub struct Shared {
    /// The feed's books (`market` import).
    pub books: SharedBooks,
    /// Order owners (`orders` import).
    pub owners: SharedOwners,
    /// Signal names (`signals` import).
    pub signals: SignalNames,
    /// What the network connector found (`reconciliation` import).
    pub reconciliation: SharedReconciliation,
}

/// What `wasi:random/insecure-seed` answers every plugin.
const INSECURE_SEED: u128 = 0x7472_6164_7379_735f_7365_6564_5f76_3131;

/// 4 KiB of bytes from a splitmix64 walk seeded with [`INSECURE_SEED`]: the
/// cycle a plugin's `wasi:random` reads without the `random` grant (made
/// once per process; each store gets a copy).
static SEEDED_BYTES: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    let mut state = INSECURE_SEED as u64;
    let mut bytes = Vec::with_capacity(4096);
    while bytes.len() < 4096 {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        bytes.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    bytes
});

/// The most levels per side one `market.depth` call returns.
pub const MAX_DEPTH_LEVELS: u32 = 100;

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

/// Store data of one plugin instance.
pub struct HostState {
    plugin: Arc<str>,
    config: Arc<[(String, String)]>,
    clock: Clock,
    shared: Shared,
    wasi: WasiCtx,
    table: ResourceTable,
    limits: MemoryMeter,
    logs: Arc<LogLimiter>,
    /// What the matcher's `venue-feed` import answers.
    pub(crate) venue_feed: super::venue_feed::VenueFeed,
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
impl v1_0::strategy::tradsys::plugins::types::Host for HostState {}

impl bindings::OrdersImports for HostState {
    fn owner(&mut self, id: u64) -> Option<u32> {
        self.shared.owners.get(id)
    }
}

impl bindings::current::network_connector::tradsys::plugins::reconciliation::Host for HostState {
    fn unknown_order(
        &mut self,
        order: crate::engine::reconcile::VenueOrder,
        now: u64,
    ) -> crate::engine::reconcile::Decision {
        self.shared
            .reconciliation
            .unknown_order(&self.plugin, order, now)
    }

    fn position(&mut self, instrument: u32, quantity: i64, now: u64) {
        self.shared
            .reconciliation
            .position(&self.plugin, instrument, quantity, now);
    }

    fn difference(&mut self, order: u64, text: String, now: u64) {
        self.shared
            .reconciliation
            .difference(&self.plugin, order, &text, now);
    }
}

impl bindings::MarketImports for HostState {
    fn depth(&mut self, instrument: u32, levels: u32) -> types::BookDepth {
        let levels = levels.min(MAX_DEPTH_LEVELS) as usize;
        let books = self.shared.books.read();
        let (bids, asks) = books
            .get(instrument)
            .map(|book| book.depth(levels))
            .unwrap_or_default();
        let convert = |levels: Vec<tradsys_book::Level>| {
            levels
                .into_iter()
                .map(|l| types::DepthLevel {
                    price: l.price,
                    quantity: l.size,
                    orders: l.orders,
                })
                .collect()
        };
        types::BookDepth {
            instrument,
            bids: convert(bids),
            asks: convert(asks),
        }
    }

    fn queue(&mut self, instrument: u32, side: types::Side, price: i64) -> Vec<QueuedOrder> {
        self.queue_at(instrument, side, price)
    }
}

impl HostState {
    /// The feed's orders resting on `side` at `price` of `instrument`,
    /// first in the queue first (the `market.queue` import).
    fn queue_at(&self, instrument: u32, side: types::Side, price: i64) -> Vec<QueuedOrder> {
        let side = match side {
            types::Side::Buy => tradsys_book::Side::Buy,
            types::Side::Sell => tradsys_book::Side::Sell,
        };
        let books = self.shared.books.read();
        books
            .get(instrument)
            .map(|book| book.orders_at(side, price))
            .unwrap_or_default()
            .into_iter()
            .map(|(order_id, size)| QueuedOrder { order_id, size })
            .collect()
    }
}

impl bindings::SignalImports for HostState {
    fn id(&mut self, name: String) -> Result<u32, String> {
        self.shared.signals.intern(&name)
    }

    fn name(&mut self, id: u32) -> Option<String> {
        self.shared.signals.name(id).map(|n| n.to_string())
    }
}

/// The 1.0.0 `host` import: the same functions.
impl v1_0::strategy::tradsys::plugins::host::Host for HostState {
    fn log(&mut self, level: v1_0::strategy::tradsys::plugins::host::LogLevel, message: String) {
        use v1_0::strategy::tradsys::plugins::host::LogLevel as Old;
        let level = match level {
            Old::Trace => LogLevel::Trace,
            Old::Debug => LogLevel::Debug,
            Old::Info => LogLevel::Info,
            Old::Warn => LogLevel::Warn,
            Old::Error => LogLevel::Error,
        };
        bindings::HostImports::log(self, level, message)
    }

    fn now(&mut self) -> u64 {
        bindings::HostImports::now(self)
    }

    fn config_get(&mut self, key: String) -> Option<String> {
        bindings::HostImports::config_get(self, key)
    }
}

impl bindings::HostImports for HostState {
    fn log(&mut self, level: LogLevel, message: String) {
        let plugin = &*self.plugin;
        let message = match self.logs.admit(&message) {
            Admit::Log(message) => message,
            Admit::Drop(None) => return,
            Admit::Drop(Some(summary)) => {
                tracing::warn!(target: "plugin", plugin, "{summary}");
                return;
            }
        };
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

/// A fresh store for one instance of `plugin` on `engine`: nothing is
/// reachable but what `grants` names.
pub(crate) fn new_store(
    engine: &Engine,
    clock: &Clock,
    shared: &Shared,
    plugin: &str,
    grants: &Grants,
    logs: Arc<LogLimiter>,
) -> Result<Store<HostState>> {
    // Nothing is reachable unless granted: no environment, arguments or
    // stdio; clocks read the host clock (market time), so a replay stays
    // deterministic and the real time never leaks in.
    let mut wasi = WasiCtx::builder();
    wasi.wall_clock(MarketWallClock(clock.clone()))
        .monotonic_clock(MarketMonotonicClock(clock.clone()))
        // A constant: hash-map seeding needs no grant and leaks nothing
        // (see `Grant::required_by`); replays stay deterministic.
        .insecure_random_seed(INSECURE_SEED)
        .allow_ip_name_lookup(false)
        // Its standard error is its log (a Python traceback); stdout and
        // stdin stay closed.
        .stderr(StderrLog::new(plugin.into(), logs.clone()))
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
    if !grants.random {
        // Without the grant (a plugin whose WASI imports are linked inert):
        // random bytes from a fixed seed, so it learns nothing and a replay
        // stays deterministic (Python seeds its string hashes from them).
        wasi.secure_random(Deterministic::new(SEEDED_BYTES.clone()))
            .insecure_random(Deterministic::new(SEEDED_BYTES.clone()));
    }
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
        clock: clock.clone(),
        shared: shared.clone(),
        wasi: wasi.build(),
        table: ResourceTable::new(),
        limits,
        logs,
        venue_feed: Default::default(),
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.limits);
    Ok(store)
}
