//! A plugin's live instance: the one place an instance is created and the one
//! place a call into a plugin is made, timed and checked.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wasmtime::{Store, Trap};

use crate::engine::{HostState, LogLimiter, Runtime};
use crate::journal::{Entry, FaultEntry, QuarantineEntry};
use crate::loading::{Plugin, Readiness};
use crate::policy::{PluginKind, Pressure};
use crate::sandbox::fault::{Fault, to_fault};
use crate::sandbox::kinds::{KindBindings, Snapshots};
use crate::sandbox::latency::Latency;
use crate::sandbox::texts::{self, Texts};

/// Call counters and latencies of one plugin.
#[derive(Debug, Clone, Default)]
pub struct CallStats {
    /// Calls made (including `init`).
    pub calls: u64,
    /// Call latencies (a fixed-size histogram).
    pub latency: Latency,
    /// Instances created.
    pub instantiations: u64,
    /// Time spent creating instances (instantiate, `init`, state restore).
    pub instantiate_time: Duration,
    /// Instances evicted (idle, or memory pressure).
    pub evictions: u64,
    /// Faults by label.
    pub faults: std::collections::BTreeMap<String, u64>,
    /// Fuel the calls of the data path burnt (not `init` nor state saves).
    pub fuel_used: u64,
    /// Texts of its output cut to their bound (`sandbox/texts.rs`).
    pub texts_cut: u64,
}

impl CallStats {
    /// Heap bytes the statistics hold: the histogram's counts and the fault
    /// labels, independent of the number of calls.
    pub fn heap_bytes(&self) -> usize {
        let faults: usize = self
            .faults
            .keys()
            .map(|label| label.capacity() + std::mem::size_of::<u64>())
            .sum();
        self.latency.heap_bytes() + faults
    }
}

/// Where a plugin instance slot is in the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LifeState {
    /// Verified from its headers, never compiled.
    Discovered,
    /// Compiled, no instance yet.
    Compiled,
    /// An instance exists.
    Live,
    /// Its instance was evicted (its state saved); the next call makes one.
    Evicted,
    /// It cannot run: compile, `init` or quarantine (the reason is reported).
    Failed,
}

/// Where a slot is: exactly one of these at a time.
enum Slot<B> {
    /// No instance: none made yet, or the last one was discarded (after a
    /// trap or a bad answer); the next call makes one.
    Idle,
    /// Its instance was evicted with its state saved; the next call makes one.
    Evicted,
    /// An instance exists.
    Live(Store<HostState>, B),
    /// It cannot run at all: it failed to compile, or its `init` refused,
    /// trapped or timed out (it would fail the same way again), or it cannot
    /// resume where it stopped.
    Failed(Fault),
    /// The circuit breaker opened (the reason): no more calls this session.
    Quarantined(String),
}

/// One plugin's instance slot: created on the first call, discarded after a
/// trap or evicted, created afresh (`init` run again, saved state restored)
/// on the next call.
pub struct PluginInstance<B: KindBindings> {
    runtime: Arc<Runtime>,
    plugin: Arc<Plugin>,
    slot: Slot<B>,
    /// Host times of recent faults, for the circuit breaker.
    recent_faults: std::collections::VecDeque<u64>,
    /// The last state saved (periodically, or at eviction), restored into
    /// the next fresh instance.
    snapshot: Option<Vec<u8>>,
    calls_since_snapshot: u32,
    /// Linear memory of the live instance, as counted in the runtime's total.
    memory: u64,
    /// When the last call ended.
    last_used: Instant,
    stats: CallStats,
    /// Its log limits, shared by its instances.
    logs: Arc<LogLimiter>,
    /// Config entries over the plugin's own (a gateway account's), if any.
    overlay: Option<Vec<(String, String)>>,
}

impl<B: KindBindings> Drop for PluginInstance<B> {
    fn drop(&mut self) {
        self.discard();
    }
}

impl<B: KindBindings> PluginInstance<B> {
    /// A slot for `plugin`; nothing is compiled or instantiated yet.
    pub fn new(runtime: Arc<Runtime>, plugin: Arc<Plugin>) -> Self {
        debug_assert_eq!(plugin.kind(), B::KIND);
        Self {
            plugin,
            slot: Slot::Idle,
            recent_faults: std::collections::VecDeque::new(),
            snapshot: None,
            calls_since_snapshot: 0,
            memory: 0,
            last_used: Instant::now(),
            stats: CallStats::default(),
            logs: Arc::new(LogLimiter::new(runtime.log_settings())),
            overlay: None,
            runtime,
        }
    }

    /// Its instances get `entries` over the plugin's config (a key of the
    /// plugin's takes the new value; a new key is added).
    pub fn with_config_overlay(mut self, entries: Vec<(String, String)>) -> Self {
        self.overlay = Some(entries);
        self
    }

    /// Its log limits (what it had dropped and cut).
    pub fn logs(&self) -> &LogLimiter {
        &self.logs
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
        match &self.slot {
            Slot::Quarantined(reason) => Some(reason),
            _ => None,
        }
    }

    /// Why the plugin cannot run (compile or `init` failed, or quarantined).
    pub fn failure(&self) -> Option<String> {
        match &self.slot {
            Slot::Failed(fault) => Some(fault.to_string()),
            Slot::Quarantined(reason) => Some(format!("quarantined: {reason}")),
            Slot::Idle | Slot::Evicted | Slot::Live(..) => None,
        }
    }

    /// Where the slot is in the lifecycle.
    pub fn state(&self) -> LifeState {
        match &self.slot {
            Slot::Failed(_) | Slot::Quarantined(_) => LifeState::Failed,
            Slot::Live(..) => LifeState::Live,
            Slot::Evicted => LifeState::Evicted,
            Slot::Idle => match self.plugin.readiness() {
                Readiness::Discovered => LifeState::Discovered,
                Readiness::Compiled(_) => LifeState::Compiled,
                Readiness::Failed(_) => LifeState::Failed,
            },
        }
    }

    /// Whether an instance exists.
    pub fn is_live(&self) -> bool {
        matches!(self.slot, Slot::Live(..))
    }

    /// The live instance's store data (`None` without a live instance).
    pub fn store_data(&self) -> Option<&HostState> {
        match &self.slot {
            Slot::Live(store, _) => Some(store.data()),
            _ => None,
        }
    }

    /// Linear memory the live instance holds, bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.memory
    }

    /// Time since the last call ended.
    pub fn idle(&self) -> Duration {
        self.last_used.elapsed()
    }

    /// Drop the live instance, if any, and its share of the memory total.
    fn discard(&mut self) {
        if self.is_live() {
            self.slot = Slot::Idle;
        }
        self.runtime.memory_changed(self.memory, 0);
        self.memory = 0;
    }

    /// Mark the plugin unable to run: its instance, if any, goes.
    fn fail(&mut self, fault: Fault) {
        self.discard();
        self.slot = Slot::Failed(fault);
    }

    /// Take the live instance out of its slot to call it; the caller puts
    /// it back (`self.slot = Slot::Live(..)`) or discards it.
    fn take_live(&mut self) -> (Store<HostState>, B) {
        match std::mem::replace(&mut self.slot, Slot::Idle) {
            Slot::Live(store, bindings) => (store, bindings),
            _ => unreachable!("a live instance was made before"),
        }
    }

    /// Bring the memory total up to date with the live instance.
    fn meter_memory(&mut self) {
        if let Slot::Live(store, _) = &self.slot {
            let now = store.data().memory_bytes() as u64;
            self.runtime.memory_changed(self.memory, now);
            self.memory = now;
        }
    }

    /// Compile if needed, instantiate and `init` now if there is no live
    /// instance, and restore the last saved state into it. Instantiation and
    /// `init` run under the plugin's init fuel and deadline; an `init` that
    /// refuses, traps or times out marks the plugin failed.
    pub fn ensure_live(&mut self) -> Result<(), Fault> {
        let name = self.plugin.name().to_string();
        match &self.slot {
            Slot::Live(..) => return Ok(()),
            Slot::Quarantined(reason) => {
                return Err(Fault::Quarantined {
                    plugin: name,
                    reason: reason.clone(),
                });
            }
            Slot::Failed(fault) => return Err(fault.clone()),
            Slot::Idle | Slot::Evicted => {}
        }
        let plugin = self.plugin.clone();
        let pre = match plugin.ready(&self.runtime) {
            Ok(compiled) => &compiled.pre,
            Err(reason) => {
                let fault = Fault::Load {
                    plugin: name,
                    reason,
                };
                self.fail(fault.clone());
                return Err(self.record(fault));
            }
        };
        let budget = self.runtime.memory_budget();
        let pressure = self.runtime.pressure();
        // The matcher and connector are the session itself: never refused.
        let optional = matches!(
            B::KIND,
            PluginKind::Strategy | PluginKind::RiskValidator | PluginKind::Processor
        );
        if optional
            && pressure == Pressure::Critical
            && plugin.placement().priority < budget.reserved_priority
        {
            let reason = format!(
                "memory pressure is critical ({} of {} bytes in use) and its priority {} is below {}",
                self.runtime.memory_in_use(),
                budget.budget_bytes,
                plugin.placement().priority,
                budget.reserved_priority
            );
            return Err(self.record(Fault::Memory {
                plugin: name,
                reason,
            }));
        }
        let started = Instant::now();
        let limits = plugin.grants().limits;
        // Instantiation may run guest code (a wasip2 component's start), so
        // the init budget covers it too.
        let grants = self.plugin.grants().overlaid(self.overlay.as_deref());
        let instantiate = || -> wasmtime::Result<(Store<HostState>, B)> {
            let mut store = self
                .runtime
                .new_store(&name, plugin.kind(), &grants, self.logs.clone())
                .map_err(wasmtime::Error::from_anyhow)?;
            self.runtime
                .arm(&mut store, limits.init_fuel, limits.init_deadline_ms)
                .map_err(wasmtime::Error::from_anyhow)?;
            let bindings = B::instantiate(pre, &mut store)?;
            Ok((store, bindings))
        };
        let (mut store, bindings) = match instantiate() {
            Ok(live) => live,
            Err(e) if e.downcast_ref::<Trap>().is_some() => {
                let fault = self.init_failure(&name, &e);
                return Err(self.record(fault));
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
        let config = grants.config.clone();
        let result = match self.timed(|| bindings.init(&mut store, &config)) {
            Ok(Ok(())) => {
                self.slot = Slot::Live(store, bindings);
                self.calls_since_snapshot = 0;
                self.meter_memory();
                self.restore_snapshot()
            }
            Ok(Err(reason)) => {
                let fault = Fault::Init {
                    plugin: name,
                    reason: texts::reason(reason),
                };
                self.fail(fault.clone());
                Err(self.record(fault))
            }
            Err(error) => {
                let fault = self.init_failure(&name, &error);
                Err(self.record(fault))
            }
        };
        self.stats.instantiate_time += started.elapsed();
        result
    }

    /// The fault of a trap during instantiation or `init`, which marks the
    /// plugin failed (an `init` that times out would time out again).
    fn init_failure(&mut self, name: &str, error: &wasmtime::Error) -> Fault {
        let limits = self.plugin.grants().limits;
        let reason = match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => format!(
                "init timed out (deadline {} ms, [limits] init_deadline_ms)",
                limits.init_deadline_ms
            ),
            Some(Trap::OutOfFuel) => format!(
                "init ran out of fuel ({} units, [limits] init_fuel)",
                limits.init_fuel
            ),
            Some(trap) => format!("init trapped: {trap}"),
            None => format!("init failed: {error:#}"),
        };
        let fault = Fault::Init {
            plugin: name.to_string(),
            reason,
        };
        self.fail(fault.clone());
        fault
    }

    /// Take over the counters and latencies of the instance this one
    /// replaces, so a slot's figures span every version it ran. The new
    /// instance's own calls so far (its `init`) ran off the data path: they
    /// are counted, but their latencies are not mixed in.
    pub fn inherit_stats(&mut self, old: &Self) {
        let mine = std::mem::take(&mut self.stats);
        let mut stats = old.stats.clone();
        stats.calls += mine.calls;
        stats.instantiations += mine.instantiations;
        stats.instantiate_time += mine.instantiate_time;
        stats.evictions += mine.evictions;
        stats.latency.add(&mine.latency);
        for (label, n) in mine.faults {
            *stats.faults.entry(label).or_default() += n;
        }
        self.stats = stats;
        self.logs.absorb(&old.logs);
    }

    /// The state to hand to a new version: saved from the live instance, or
    /// the one an eviction (or the last call, for kinds saved after every
    /// call) left; `None` when the plugin never ran (the new version then
    /// starts fresh, as this one would have). The instance is left as it
    /// was, so it can go on running if the handoff fails.
    pub fn export_state(&mut self) -> Result<Option<Vec<u8>>, Fault> {
        if !self.is_live() {
            return Ok(self.snapshot.clone());
        }
        self.save_snapshot()?;
        Ok(self.snapshot.clone())
    }

    /// Load state handed over from the running version into this (new)
    /// instance, creating it if needed. A refusal is the plugin's message.
    pub fn import_state(&mut self, state: &[u8]) -> Result<(), String> {
        self.ensure_live().map_err(|f| f.to_string())?;
        let limits = self.plugin.grants().limits;
        match self.load_state(state, limits.init_fuel, limits.init_deadline_ms) {
            Ok(Ok(())) => {
                self.meter_memory();
                if B::SNAPSHOTS != Snapshots::OnDemand {
                    self.snapshot = Some(state.to_vec());
                }
                Ok(())
            }
            Ok(Err(reason)) => Err(format!(
                "its load-state refused the running version's state: {}",
                texts::reason(reason)
            )),
            Err(fault) => Err(fault.to_string()),
        }
    }

    /// Hand this instance's state to `new`, the version taking over from it;
    /// this one is untouched whatever happens, so it can go on running if
    /// the handoff fails.
    pub fn hand_over_to(&mut self, new: &mut Self) -> Result<(), String> {
        match self.export_state().map_err(|fault| fault.to_string())? {
            Some(state) => new.import_state(&state),
            None => Ok(()),
        }
    }

    /// Save the instance's state and drop it; the next call makes a fresh
    /// instance and restores the state, so results do not change. A failure
    /// to save is a fault, and the instance is dropped all the same.
    pub fn evict(&mut self) -> Result<bool, Fault> {
        if !self.is_live() {
            return Ok(false);
        }
        self.save_snapshot()?;
        self.discard();
        self.slot = Slot::Evicted;
        self.stats.evictions += 1;
        tracing::debug!(plugin = self.plugin.name(), "evicted");
        Ok(true)
    }

    /// Call into the plugin. On a trap the instance is discarded and the fault
    /// counted; the next call starts a fresh instance.
    pub fn call<R>(
        &mut self,
        f: impl FnOnce(&B, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        self.ensure_live()?;
        // A kind saved at every call is saved before it, once the last call's
        // answer was taken (the caller refuses a bad answer with a fault, which
        // discards the instance): whatever goes wrong in this call, the next
        // instance resumes from the state before it.
        if B::SNAPSHOTS == Snapshots::EveryCall && self.calls_since_snapshot > 0 {
            self.save_snapshot()?;
        }
        let (mut store, bindings) = self.take_live();
        let limits = self.plugin.grants().limits;
        if let Err(e) = self
            .runtime
            .arm(&mut store, limits.fuel_per_call, limits.deadline_ms)
        {
            let fault = Fault::Other {
                plugin: self.plugin.name().to_string(),
                reason: format!("{e:#}"),
            };
            self.slot = Slot::Live(store, bindings);
            self.discard();
            return Err(self.record(fault));
        }
        let result = self.timed(|| f(&bindings, &mut store));
        if let Ok(left) = store.get_fuel() {
            self.stats.fuel_used += limits.fuel_per_call.saturating_sub(left);
        }
        self.last_used = Instant::now();
        match result {
            Ok(value) => {
                self.slot = Slot::Live(store, bindings);
                self.meter_memory();
                self.take_snapshot_if_due()?;
                Ok(value)
            }
            Err(error) => {
                self.discard();
                Err(self.record(to_fault(self.plugin.name(), error)))
            }
        }
    }

    /// After a successful call: every `snapshot_every` of them, save a
    /// strategy's state, to restore into the fresh instance after a trap.
    fn take_snapshot_if_due(&mut self) -> Result<(), Fault> {
        self.calls_since_snapshot += 1;
        let every = match B::SNAPSHOTS {
            Snapshots::Periodic => self.plugin.grants().faults.snapshot_every,
            // Saved before the next call instead (see `call`).
            Snapshots::OnDemand | Snapshots::EveryCall => return Ok(()),
        };
        if every == 0 || self.calls_since_snapshot < every {
            return Ok(());
        }
        self.save_snapshot()
    }

    /// Save the live instance's state as the snapshot.
    fn save_snapshot(&mut self) -> Result<(), Fault> {
        let (mut store, bindings) = self.take_live();
        let limits = self.plugin.grants().limits;
        let snapshot = self
            .runtime
            .arm(&mut store, limits.fuel_per_call, limits.deadline_ms)
            .map_err(wasmtime::Error::from_anyhow)
            .and_then(|()| bindings.snapshot(&mut store));
        match snapshot {
            Ok(state) => {
                self.snapshot = Some(state);
                self.calls_since_snapshot = 0;
                self.slot = Slot::Live(store, bindings);
                Ok(())
            }
            Err(error) => {
                self.slot = Slot::Live(store, bindings);
                self.discard();
                let fault = self.record(to_fault(self.plugin.name(), error));
                if B::SNAPSHOTS != Snapshots::EveryCall {
                    return Err(fault);
                }
                // Without the state after its last good call, a fresh instance
                // would repeat what this one delivered: it cannot be restarted.
                let failed = Fault::Contract {
                    plugin: self.plugin.name().to_string(),
                    reason: format!(
                        "its save-state failed, so it cannot resume where it stopped: {fault}"
                    ),
                };
                self.fail(failed.clone());
                Err(failed)
            }
        }
    }

    /// Load the last snapshot into a fresh instance. A snapshot the plugin
    /// refuses leaves it fresh (and says so); a trap is a fault. Kinds saved
    /// only on demand use a snapshot once (it was taken at eviction).
    fn restore_snapshot(&mut self) -> Result<(), Fault> {
        let state = match B::SNAPSHOTS {
            Snapshots::OnDemand => self.snapshot.take(),
            Snapshots::Periodic | Snapshots::EveryCall => self.snapshot.clone(),
        };
        let Some(state) = state else {
            return Ok(());
        };
        let limits = self.plugin.grants().limits;
        match self.load_state(&state, limits.fuel_per_call, limits.deadline_ms)? {
            Ok(()) => tracing::debug!(
                plugin = self.plugin.name(),
                bytes = state.len(),
                "state restored into a fresh instance"
            ),
            Err(reason) => tracing::warn!(
                plugin = self.plugin.name(),
                "snapshot refused, continuing from fresh state: {reason}"
            ),
        }
        Ok(())
    }

    /// Call `load-state` with `state` on the live instance under `fuel` and
    /// `deadline_ms`: the plugin's answer, or a fault (the instance is then
    /// discarded).
    fn load_state(
        &mut self,
        state: &[u8],
        fuel: u64,
        deadline_ms: u64,
    ) -> Result<Result<(), String>, Fault> {
        let (mut store, bindings) = self.take_live();
        let loaded = self
            .runtime
            .arm(&mut store, fuel, deadline_ms)
            .map_err(wasmtime::Error::from_anyhow)
            .and_then(|()| bindings.restore(&mut store, state));
        self.slot = Slot::Live(store, bindings);
        loaded.map_err(|error| {
            self.discard();
            self.record(to_fault(self.plugin.name(), error))
        })
    }

    /// Accept `items` if there are no more of them than the plugin's output
    /// limit (their texts cut to their bounds, counted); otherwise it is a
    /// fault, and the instance is discarded.
    pub fn limit_output<T: Texts>(&mut self, mut items: Vec<T>) -> Result<Vec<T>, Fault> {
        let limit = self.plugin.grants().limits.max_output;
        if items.len() <= limit as usize {
            self.bound_texts(&mut items);
            return Ok(items);
        }
        self.discard();
        let fault = Fault::OutputLimit {
            plugin: self.plugin.name().to_string(),
            items: items.len(),
            limit,
        };
        Err(self.record(fault))
    }

    /// Cut the texts of `items` to their bounds, counting them.
    pub fn bound_texts<T: Texts>(&mut self, items: &mut [T]) {
        self.stats.texts_cut += items.iter_mut().map(Texts::bound).sum::<u64>();
    }

    /// Count a fault the caller found in an answer (a contract breach) and
    /// discard the instance, whose state can no longer be trusted.
    pub fn contract_fault(&mut self, reason: String) -> Fault {
        self.discard();
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
            .latency
            .record(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
        result
    }

    fn record(&mut self, fault: Fault) -> Fault {
        *self.stats.faults.entry(fault.label()).or_default() += 1;
        let version = self.plugin.version().to_string();
        tracing::warn!(plugin = self.plugin.name(), %version, kind = %self.plugin.kind(), "{fault}");
        let journal = self.runtime.journal();
        let now = self.runtime.clock().now();
        journal.write(now, || {
            Entry::Fault(FaultEntry {
                plugin: self.plugin.name().to_string(),
                version: version.clone(),
                fault: fault.label(),
                message: fault.to_string(),
            })
        });
        if matches!(fault, Fault::Memory { .. }) {
            // The host's shortage, not the plugin's misbehaviour.
            return fault;
        }
        // Circuit breaker: too many faults within the window of host time.
        let policy = self.plugin.grants().faults;
        let window_ns = policy.window_ms.saturating_mul(1_000_000);
        self.recent_faults.push_back(now);
        // Only the last `quarantine_after` matter.
        let keep = policy.quarantine_after.max(1) as usize;
        while self.recent_faults.len() > keep
            || self
                .recent_faults
                .front()
                .is_some_and(|t| now.saturating_sub(*t) > window_ns)
        {
            self.recent_faults.pop_front();
        }
        // A plugin that failed stays failed: it is never called again.
        if matches!(self.slot, Slot::Idle | Slot::Evicted | Slot::Live(..))
            && self.recent_faults.len() >= policy.quarantine_after.max(1) as usize
        {
            let reason = format!(
                "{} faults within {} ms (last: {})",
                self.recent_faults.len(),
                policy.window_ms,
                fault.label()
            );
            tracing::error!(plugin = self.plugin.name(), %version, "quarantined: {reason}");
            journal.write(now, || {
                Entry::Quarantine(QuarantineEntry {
                    plugin: self.plugin.name().to_string(),
                    version: version.clone(),
                    reason: reason.clone(),
                })
            });
            self.discard();
            self.slot = Slot::Quarantined(reason);
        }
        fault
    }
}

/// Where one plugin of a running session is now: what `tradsys status`
/// shows. Cheap to make between two batches (no latency percentiles).
#[derive(Debug, Clone, Serialize)]
pub struct PluginStatus {
    /// Plugin name.
    pub name: String,
    /// The version running.
    pub version: String,
    /// Its kind.
    pub kind: PluginKind,
    /// `discovered`, `compiled`, `live`, `evicted` or `failed`.
    pub state: LifeState,
    /// Linear memory of its instance, bytes (0 when none is live).
    pub memory_bytes: u64,
    /// Times its instance was evicted.
    pub evictions: u64,
    /// Calls made, `init` included.
    pub calls: u64,
    /// Faults, all kinds together.
    pub faults: u64,
    /// Why it cannot run (compile, `init`, quarantine), if it cannot.
    pub failure: Option<String>,
}

impl PluginStatus {
    /// The status of `instance` now.
    pub fn of<B: KindBindings>(instance: &PluginInstance<B>) -> Self {
        let plugin = instance.plugin();
        let stats = instance.stats();
        Self {
            name: plugin.name().to_string(),
            version: plugin.version().to_string(),
            kind: plugin.kind(),
            state: instance.state(),
            memory_bytes: instance.memory_bytes(),
            evictions: stats.evictions,
            calls: stats.calls,
            faults: stats.faults.values().sum(),
            failure: instance.failure(),
        }
    }
}
