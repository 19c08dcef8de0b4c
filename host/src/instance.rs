//! A plugin's live instance: the one place an instance is created and the one
//! place a call into a plugin is made, timed and checked.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::{Store, Trap};

use crate::bindings::{connector, matcher, risk_validator, strategy, types};
use crate::plugin::{KindPre, Plugin, PluginKind};
use crate::runtime::{HostState, Runtime};

/// Why a call into a plugin did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum Fault {
    /// The component could not be instantiated.
    #[error("plugin {plugin} could not be instantiated: {reason}")]
    Instantiate {
        /// Plugin name.
        plugin: String,
        /// What went wrong.
        reason: String,
    },
    /// `init` returned an error.
    #[error("plugin {plugin} refused its configuration: {reason}")]
    Init {
        /// Plugin name.
        plugin: String,
        /// The plugin's message.
        reason: String,
    },
    /// The plugin trapped (panicked, ran out of bounds, ...). Its instance was discarded.
    #[error("plugin {plugin} trapped: {trap}")]
    Trap {
        /// Plugin name.
        plugin: String,
        /// The trap, told apart by code, not by message.
        trap: Trap,
    },
    /// The plugin's answer broke the contract (for example a verdict count that
    /// does not match the orders).
    #[error("plugin {plugin} broke the contract: {reason}")]
    Contract {
        /// Plugin name.
        plugin: String,
        /// What was wrong with the answer.
        reason: String,
    },
    /// A call returned more items than the plugin's limit allows; nothing of it is used.
    #[error("plugin {plugin} returned {items} items, above its limit of {limit}")]
    OutputLimit {
        /// Plugin name.
        plugin: String,
        /// Items returned.
        items: usize,
        /// The limit.
        limit: u32,
    },
    /// The plugin faulted too often and gets no more calls this session.
    #[error("plugin {plugin} is quarantined: {reason}")]
    Quarantined {
        /// Plugin name.
        plugin: String,
        /// Why.
        reason: String,
    },
    /// Any other failure inside the runtime.
    #[error("plugin {plugin} failed: {reason}")]
    Other {
        /// Plugin name.
        plugin: String,
        /// The runtime's error.
        reason: String,
    },
}

impl Fault {
    /// Short label used to count faults by kind (`trap:unreachable`, `init`, ...).
    pub fn label(&self) -> String {
        match self {
            Self::Instantiate { .. } => "instantiate".into(),
            Self::Init { .. } => "init".into(),
            Self::Trap { trap, .. } => format!("trap:{}", trap_label(*trap)),
            Self::Contract { .. } => "contract".into(),
            Self::OutputLimit { .. } => "output-limit".into(),
            Self::Quarantined { .. } => "quarantined".into(),
            Self::Other { .. } => "other".into(),
        }
    }
}

fn trap_label(trap: Trap) -> &'static str {
    match trap {
        Trap::StackOverflow => "stack-overflow",
        Trap::MemoryOutOfBounds => "memory-out-of-bounds",
        Trap::UnreachableCodeReached => "unreachable",
        Trap::OutOfFuel => "out-of-fuel",
        Trap::Interrupt => "interrupt",
        Trap::IntegerDivisionByZero => "division-by-zero",
        Trap::IntegerOverflow => "integer-overflow",
        Trap::TableOutOfBounds => "table-out-of-bounds",
        Trap::IndirectCallToNull => "indirect-call-to-null",
        Trap::BadSignature => "bad-signature",
        _ => "other",
    }
}

/// Call counters and latencies of one plugin.
#[derive(Debug, Clone, Default)]
pub struct CallStats {
    /// Calls made (including `init`).
    pub calls: u64,
    /// Latency of each call in nanoseconds, in call order.
    pub latencies_ns: Vec<u64>,
    /// Instances created.
    pub instantiations: u64,
    /// Faults by label.
    pub faults: std::collections::BTreeMap<String, u64>,
}

/// Typed bindings of one plugin kind.
pub trait KindBindings: Sized {
    /// The kind these bindings drive.
    const KIND: PluginKind;

    #[doc(hidden)]
    fn instantiate(pre: &KindPre, store: &mut Store<HostState>) -> wasmtime::Result<Self>;

    #[doc(hidden)]
    fn init(
        &self,
        store: &mut Store<HostState>,
        config: &types::Config,
    ) -> wasmtime::Result<Result<(), String>>;

    /// Snapshot the plugin's state, for kinds whose state is restored into a
    /// fresh instance after a trap (strategies).
    #[doc(hidden)]
    fn snapshot(&self, _store: &mut Store<HostState>) -> Option<wasmtime::Result<Vec<u8>>> {
        None
    }

    /// Restore a snapshot into a fresh instance.
    #[doc(hidden)]
    fn restore(
        &self,
        _store: &mut Store<HostState>,
        _state: &[u8],
    ) -> wasmtime::Result<Result<(), String>> {
        Ok(Ok(()))
    }
}

macro_rules! kind_bindings {
    ($bindings:ty, $kind:ident, $exports:ident $(, $snapshots:ident)?) => {
        impl KindBindings for $bindings {
            const KIND: PluginKind = PluginKind::$kind;

            fn instantiate(pre: &KindPre, store: &mut Store<HostState>) -> wasmtime::Result<Self> {
                match pre {
                    KindPre::$kind(pre) => pre.instantiate(store),
                    _ => wasmtime::bail!("plugin is not a {}", Self::KIND),
                }
            }

            fn init(&self, store: &mut Store<HostState>, config: &types::Config) -> wasmtime::Result<Result<(), String>> {
                self.$exports().call_init(store, config)
            }

            $(kind_bindings!(@$snapshots $exports);)?
        }
    };
    (@snapshots $exports:ident) => {
        fn snapshot(&self, store: &mut Store<HostState>) -> Option<wasmtime::Result<Vec<u8>>> {
            Some(self.$exports().call_save_state(store))
        }

        fn restore(&self, store: &mut Store<HostState>, state: &[u8]) -> wasmtime::Result<Result<(), String>> {
            self.$exports().call_load_state(store, state)
        }
    };
}

kind_bindings!(
    strategy::Strategy,
    Strategy,
    tradsys_plugins_strategy_api,
    snapshots
);
kind_bindings!(
    risk_validator::RiskValidator,
    RiskValidator,
    tradsys_plugins_risk_validator_api
);
kind_bindings!(matcher::Matcher, Matcher, tradsys_plugins_matcher_api);
kind_bindings!(
    connector::Connector,
    Connector,
    tradsys_plugins_connector_api
);

/// One plugin's instance slot: created on the first call, discarded after a
/// trap, created afresh (and `init` run again) on the next call.
pub struct PluginInstance<B: KindBindings> {
    runtime: Arc<Runtime>,
    plugin: Arc<Plugin>,
    live: Option<(Store<HostState>, B)>,
    /// Set when `init` refused the configuration: a config error is not
    /// retried on every call (it would fail the same way).
    refused: Option<String>,
    /// Host times of recent faults, for the circuit breaker.
    recent_faults: std::collections::VecDeque<u64>,
    /// Set when the circuit breaker opened.
    quarantined: Option<String>,
    /// The last state saved, restored into a fresh instance after a trap.
    snapshot: Option<Vec<u8>>,
    calls_since_snapshot: u32,
    stats: CallStats,
}

impl<B: KindBindings> PluginInstance<B> {
    /// A slot for `plugin`; nothing is instantiated yet.
    pub fn new(runtime: Arc<Runtime>, plugin: Arc<Plugin>) -> Self {
        debug_assert_eq!(plugin.kind(), B::KIND);
        Self {
            runtime,
            plugin,
            live: None,
            refused: None,
            recent_faults: std::collections::VecDeque::new(),
            quarantined: None,
            snapshot: None,
            calls_since_snapshot: 0,
            stats: CallStats::default(),
        }
    }

    /// The plugin.
    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.plugin
    }

    /// Counters and latencies so far.
    pub fn stats(&self) -> &CallStats {
        &self.stats
    }

    /// Why the plugin is quarantined, if it is.
    pub fn quarantined(&self) -> Option<&str> {
        self.quarantined.as_deref()
    }

    /// Instantiate and `init` now if there is no live instance. `init` runs
    /// with ten times the per-call budget.
    pub fn ensure_live(&mut self) -> Result<(), Fault> {
        if self.live.is_some() {
            return Ok(());
        }
        let name = self.plugin.name().to_string();
        if let Some(reason) = &self.quarantined {
            return Err(Fault::Quarantined {
                plugin: name,
                reason: reason.clone(),
            });
        }
        if let Some(reason) = &self.refused {
            return Err(Fault::Init {
                plugin: name,
                reason: reason.clone(),
            });
        }
        // Instantiation may run guest code (a wasip2 component's start), so
        // the budget is set first: ten calls' worth for instantiate and `init`.
        let limits = self.plugin.grants().limits;
        let instantiate = || -> wasmtime::Result<(Store<HostState>, B)> {
            let mut store = self
                .runtime
                .new_store(&name, self.plugin.grants())
                .map_err(wasmtime::Error::from_anyhow)?;
            self.runtime
                .arm(
                    &mut store,
                    limits.fuel_per_call.saturating_mul(10),
                    limits.deadline_ms.saturating_mul(10),
                )
                .map_err(wasmtime::Error::from_anyhow)?;
            let bindings = B::instantiate(&self.plugin.pre, &mut store)?;
            Ok((store, bindings))
        };
        let (mut store, bindings) = match instantiate() {
            Ok(live) => live,
            Err(e) if e.downcast_ref::<Trap>().is_some() => {
                return Err(self.record(to_fault(&name, e)));
            }
            Err(e) => {
                let fault = Fault::Instantiate {
                    plugin: name.clone(),
                    reason: format!("{e:#}"),
                };
                return Err(self.record(fault));
            }
        };
        self.stats.instantiations += 1;
        let config = self.plugin.grants().config.clone();
        match self.timed(|| bindings.init(&mut store, &config)) {
            Ok(Ok(())) => {
                self.live = Some((store, bindings));
                self.restore_snapshot()
            }
            Ok(Err(reason)) => {
                self.refused = Some(reason.clone());
                Err(self.record(Fault::Init {
                    plugin: name,
                    reason,
                }))
            }
            Err(error) => Err(self.record(to_fault(&name, error))),
        }
    }

    /// Call into the plugin. On a trap the instance is discarded and the fault
    /// counted; the next call starts a fresh instance.
    pub fn call<R>(
        &mut self,
        f: impl FnOnce(&B, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        if let Some(reason) = &self.quarantined {
            return Err(Fault::Quarantined {
                plugin: self.plugin.name().to_string(),
                reason: reason.clone(),
            });
        }
        self.ensure_live()?;
        let (mut store, bindings) = self.live.take().expect("ensure_live made an instance");
        let limits = self.plugin.grants().limits;
        if let Err(e) = self
            .runtime
            .arm(&mut store, limits.fuel_per_call, limits.deadline_ms)
        {
            let fault = Fault::Other {
                plugin: self.plugin.name().to_string(),
                reason: format!("{e:#}"),
            };
            return Err(self.record(fault));
        }
        match self.timed(|| f(&bindings, &mut store)) {
            Ok(value) => {
                self.live = Some((store, bindings));
                self.take_snapshot_if_due()?;
                Ok(value)
            }
            Err(error) => Err(self.record(to_fault(self.plugin.name(), error))),
        }
    }

    /// Every `snapshot_every` successful calls, save the plugin's state (for
    /// kinds that have one), to restore into the fresh instance after a trap.
    fn take_snapshot_if_due(&mut self) -> Result<(), Fault> {
        let every = self.plugin.grants().faults.snapshot_every;
        self.calls_since_snapshot += 1;
        if every == 0 || self.calls_since_snapshot < every {
            return Ok(());
        }
        self.calls_since_snapshot = 0;
        let (mut store, bindings) = self.live.take().expect("a live instance after a call");
        let limits = self.plugin.grants().limits;
        let snapshot = self
            .runtime
            .arm(&mut store, limits.fuel_per_call, limits.deadline_ms)
            .map_err(wasmtime::Error::from_anyhow)
            .and_then(|()| bindings.snapshot(&mut store).transpose());
        match snapshot {
            Ok(state) => {
                if state.is_some() {
                    self.snapshot = state;
                }
                self.live = Some((store, bindings));
                Ok(())
            }
            Err(error) => Err(self.record(to_fault(self.plugin.name(), error))),
        }
    }

    /// Load the last snapshot into a fresh instance. A snapshot the plugin
    /// refuses leaves it fresh (and says so); a trap is a fault.
    fn restore_snapshot(&mut self) -> Result<(), Fault> {
        let Some(state) = self.snapshot.clone() else {
            return Ok(());
        };
        let (mut store, bindings) = self.live.take().expect("a live instance after init");
        let limits = self.plugin.grants().limits;
        let restored = self
            .runtime
            .arm(&mut store, limits.fuel_per_call, limits.deadline_ms)
            .map_err(wasmtime::Error::from_anyhow)
            .and_then(|()| bindings.restore(&mut store, &state));
        match restored {
            Ok(Ok(())) => {
                tracing::info!(
                    plugin = self.plugin.name(),
                    bytes = state.len(),
                    "state restored after a fault"
                );
                self.live = Some((store, bindings));
                Ok(())
            }
            Ok(Err(reason)) => {
                tracing::warn!(
                    plugin = self.plugin.name(),
                    "snapshot refused, continuing from fresh state: {reason}"
                );
                self.live = Some((store, bindings));
                Ok(())
            }
            Err(error) => Err(self.record(to_fault(self.plugin.name(), error))),
        }
    }

    /// Accept `items` if there are no more of them than the plugin's output
    /// limit; otherwise it is a fault, and the instance is discarded.
    pub fn limit_output<T>(&mut self, items: Vec<T>) -> Result<Vec<T>, Fault> {
        let limit = self.plugin.grants().limits.max_output;
        if items.len() <= limit as usize {
            return Ok(items);
        }
        self.live = None;
        let fault = Fault::OutputLimit {
            plugin: self.plugin.name().to_string(),
            items: items.len(),
            limit,
        };
        Err(self.record(fault))
    }

    /// Count a fault the caller found in an answer (a contract breach) and
    /// discard the instance, whose state can no longer be trusted.
    pub fn contract_fault(&mut self, reason: String) -> Fault {
        self.live = None;
        self.record(Fault::Contract {
            plugin: self.plugin.name().to_string(),
            reason,
        })
    }

    fn timed<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let start = Instant::now();
        let result = f();
        self.stats.calls += 1;
        self.stats
            .latencies_ns
            .push(start.elapsed().as_nanos() as u64);
        result
    }

    fn record(&mut self, fault: Fault) -> Fault {
        *self.stats.faults.entry(fault.label()).or_default() += 1;
        let version = self.plugin.version().to_string();
        tracing::warn!(plugin = self.plugin.name(), %version, kind = %self.plugin.kind(), "{fault}");
        // Circuit breaker: too many faults within the window of host time.
        let policy = self.plugin.grants().faults;
        let now = self.runtime.clock().now();
        let window_ns = policy.window_ms.saturating_mul(1_000_000);
        self.recent_faults.push_back(now);
        while self
            .recent_faults
            .front()
            .is_some_and(|t| now.saturating_sub(*t) > window_ns)
        {
            self.recent_faults.pop_front();
        }
        if self.quarantined.is_none()
            && self.recent_faults.len() >= policy.quarantine_after.max(1) as usize
        {
            let reason = format!(
                "{} faults within {} ms (last: {})",
                self.recent_faults.len(),
                policy.window_ms,
                fault.label()
            );
            tracing::error!(plugin = self.plugin.name(), %version, "quarantined: {reason}");
            self.live = None;
            self.quarantined = Some(reason);
        }
        fault
    }
}

fn to_fault(plugin: &str, error: wasmtime::Error) -> Fault {
    match error.downcast_ref::<Trap>() {
        Some(trap) => Fault::Trap {
            plugin: plugin.to_string(),
            trap: *trap,
        },
        None => Fault::Other {
            plugin: plugin.to_string(),
            reason: format!("{error:#}"),
        },
    }
}
