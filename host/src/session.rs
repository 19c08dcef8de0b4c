//! A trading session: the data path of the host.
//!
//! ```text
//! connector ─market batch─▶ strategies ─commands─▶ risk validators (all approve; fail closed)
//!                                ▲                               │ approved
//!                                └──── execution reports ◀── matcher (one book per instrument)
//! ```
//! The host posts each quote's bid and ask into the matcher as resting
//! liquidity owned by "the market", so strategy orders trade against the
//! connector's prices. Strategy order ids are renumbered on the way to the
//! matcher and back, and every fill is booked in the strategy's ledger.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::bindings::types::{
    Account, CancelOrder, MarketEvent, NewOrder, OpenOrder, OrderCanceled, OrderCommand,
    OrderEvent, OrderRejected, OrderType, Position, Quote, RejectReason, Rejection, RiskContext,
    Side, TimeInForce, Verdict,
};
use crate::bindings::{
    connector::Connector, matcher::Matcher, risk_validator::RiskValidator, strategy::Strategy,
};
use crate::config::{HostConfig, Pressure, RunSettings};
use crate::eviction::{self, Evictable};
use crate::instance::PluginInstance;
use crate::ledger::Ledger;
use crate::market::Market;
use crate::plugin::PluginKind;
use crate::registry::{Registry, RejectedFile};
use crate::report::PluginStatus;
use crate::runtime::Runtime;
use crate::shadow::{Candidate, Candidates, Shadow, ShadowCommand, ShadowLog, ShadowReport};
use crate::swap::{History, Prepared, Running, SwapLog, SwapRecord, SwapRequest, hand_over, note};

/// A request for the plugins' status: where to send the answer.
pub type StatusRequest = Sender<Vec<PluginStatus>>;

/// First back-off before restarting a failed connector, milliseconds.
const CONNECTOR_BACKOFF_MS: u64 = 10;

/// Consecutive empty batches after which a session gives up on its connector.
const MAX_EMPTY_POLLS: u32 = 10_000;

/// Who owns an order in the matcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// Liquidity the host posts from the connector's quotes.
    Market,
    /// A strategy, by index.
    Strategy(usize),
}

/// The host's record of an order sent to the matcher.
#[derive(Debug, Clone)]
struct OrderRecord {
    owner: Owner,
    client_id: u64,
    instrument: u32,
    side: Side,
    price: i64,
    leaves: i64,
    /// The matcher accepted it (a later rejection refuses a cancel or modify, not the order).
    accepted: bool,
}

/// Counters of one strategy.
#[derive(Debug, Clone, Default)]
pub struct StrategyCounts {
    /// Commands it sent.
    pub submitted: u64,
    /// Commands approved by every validator.
    pub approved: u64,
    /// Commands refused by the host or a validator.
    pub rejected: u64,
}

/// A strategy plugin with its books.
pub(crate) struct StrategySlot {
    pub(crate) instance: PluginInstance<Strategy>,
    pub(crate) ledger: Ledger,
    pub(crate) counts: StrategyCounts,
    /// Client id → host id of every order it ever submitted.
    ids: HashMap<u64, u64>,
    /// Client id → host id of its working orders.
    working: BTreeMap<u64, u64>,
    /// Reports waiting to be delivered.
    pending: Vec<OrderEvent>,
}

/// Session-wide counters.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    /// Market events processed.
    pub events: u64,
    /// Batches processed.
    pub batches: u64,
    /// Commands sent by strategies.
    pub submitted: u64,
    /// Commands approved by every validator.
    pub approved: u64,
    /// Commands refused before reaching the matcher.
    pub rejected: u64,
    /// Refusals by (who, reason). One command may be refused by several validators.
    pub rejections: BTreeMap<(String, &'static str), u64>,
    /// Refusals by the matcher, by reason.
    pub venue_rejections: BTreeMap<&'static str, u64>,
    /// Fills of strategy orders.
    pub fills: u64,
    /// Why the session stopped early, if it did.
    pub stopped: Option<String>,
    /// Why trading halted (the matcher failed), if it did.
    pub halted: Option<String>,
    /// Times the connector was restarted after a fault.
    pub connector_restarts: u32,
    /// Most linear memory held by plugin instances at once, bytes.
    pub peak_memory: u64,
    /// Highest memory pressure seen.
    pub peak_pressure: Option<Pressure>,
    /// Instances evicted (idle or memory pressure).
    pub evictions: u64,
}

/// A session over the plugins of a registry.
pub struct Session {
    settings: RunSettings,
    pub(crate) connector: PluginInstance<Connector>,
    pub(crate) strategies: Vec<StrategySlot>,
    pub(crate) validators: Vec<PluginInstance<RiskValidator>>,
    pub(crate) matcher: PluginInstance<Matcher>,
    pub(crate) market: Market,
    orders: HashMap<u64, OrderRecord>,
    /// Per instrument, the host ids of the market's resting bid and ask.
    liquidity: Vec<[Option<u64>; 2]>,
    next_order_id: u64,
    halted: BTreeSet<u32>,
    /// Orders finished during the current matcher call, forgotten after it.
    finished: Vec<u64>,
    pub(crate) counts: Counters,
    pub(crate) rejected_files: Vec<RejectedFile>,
    pub(crate) elapsed: Duration,
    /// Installed plugins the session does not use (`name@version`).
    pub(crate) unused: Vec<String>,
    /// Compiles the plugins marked for preloading (lazy loading only).
    preloader: Option<std::thread::JoinHandle<()>>,
    /// New versions to install between batches.
    swap_tx: Sender<SwapRequest>,
    swap_rx: Receiver<SwapRequest>,
    pub(crate) swap_log: SwapLog,
    running: Running,
    /// Per plugin, the versions it ran before, oldest first, kept compiled.
    history: History,
    keep_versions: usize,
    /// Candidates running beside live plugins, and their commands.
    shadows: Vec<Shadow>,
    pub(crate) shadow_log: ShadowLog,
    candidates: Candidates,
    shadow_tx: Sender<ShadowCommand>,
    shadow_rx: Receiver<ShadowCommand>,
    /// Requests for the plugins' status, answered between batches.
    status_tx: Sender<StatusRequest>,
    status_rx: Receiver<StatusRequest>,
    /// Set to end the session after the current batch.
    stop: Arc<AtomicBool>,
    runtime: Arc<Runtime>,
}

impl Session {
    /// Pick the session's plugins from `registry` as `config` says.
    pub fn new(runtime: Arc<Runtime>, registry: &Registry, config: &HostConfig) -> Result<Self> {
        let settings = config.run.clone();
        let names = |kind| {
            registry
                .of_kind(kind)
                .map(|p| p.name().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let connector = match registry.get(&settings.connector) {
            Some(p) if p.kind() == PluginKind::Connector => p.clone(),
            Some(p) => bail!(
                "run.connector `{}` is a {}, not a connector",
                settings.connector,
                p.kind()
            ),
            None => match refusal(registry, &settings.connector) {
                Some(reason) => bail!("connector `{}` was refused: {reason}", settings.connector),
                None => bail!(
                    "connector `{}` is not installed (installed connectors: {})",
                    settings.connector,
                    names(PluginKind::Connector)
                ),
            },
        };
        let matchers: Vec<_> = registry.of_kind(PluginKind::Matcher).collect();
        let matcher = match (&settings.matcher, matchers.as_slice()) {
            (Some(name), _) => match registry.get(name) {
                Some(p) if p.kind() == PluginKind::Matcher => p.clone(),
                _ => bail!(
                    "matcher `{name}` is not installed (installed matchers: {})",
                    names(PluginKind::Matcher)
                ),
            },
            (None, [only]) => (*only).clone(),
            (None, []) => bail!("no matcher is installed"),
            (None, _) => bail!(
                "several matchers are installed ({}); set run.matcher",
                names(PluginKind::Matcher)
            ),
        };
        let strategies = chosen(
            registry,
            PluginKind::Strategy,
            settings.strategies.as_deref(),
        )?;
        let validators = chosen(
            registry,
            PluginKind::RiskValidator,
            settings.validators.as_deref(),
        )?;
        let used: BTreeSet<&str> = [connector.name(), matcher.name()]
            .into_iter()
            .chain(strategies.iter().chain(&validators).map(|p| p.name()))
            .collect();
        let unused = registry
            .plugins()
            .iter()
            .filter(|p| !used.contains(p.name()))
            .map(|p| p.id())
            .collect();
        let preloader = registry.prepare(&runtime, config.run.loading);
        let running: BTreeMap<String, Arc<crate::plugin::Plugin>> = [&connector, &matcher]
            .into_iter()
            .chain(&strategies)
            .chain(&validators)
            .map(|p| (p.name().to_string(), p.clone()))
            .collect();
        let (swap_tx, swap_rx) = std::sync::mpsc::channel();
        let (shadow_tx, shadow_rx) = std::sync::mpsc::channel();
        let (status_tx, status_rx) = std::sync::mpsc::channel();
        let strategies = strategies
            .into_iter()
            .map(|p| StrategySlot {
                instance: PluginInstance::new(runtime.clone(), p),
                ledger: Ledger::default(),
                counts: StrategyCounts::default(),
                ids: HashMap::new(),
                working: BTreeMap::new(),
                pending: Vec::new(),
            })
            .collect();
        let validators = validators
            .into_iter()
            .map(|p| PluginInstance::new(runtime.clone(), p))
            .collect();
        Ok(Self {
            settings,
            connector: PluginInstance::new(runtime.clone(), connector),
            strategies,
            validators,
            matcher: PluginInstance::new(runtime.clone(), matcher),
            market: Market::default(),
            orders: HashMap::new(),
            liquidity: Vec::new(),
            next_order_id: 1,
            halted: BTreeSet::new(),
            finished: Vec::new(),
            counts: Counters::default(),
            rejected_files: registry.rejected(),
            elapsed: Duration::ZERO,
            unused,
            preloader,
            swap_tx,
            swap_rx,
            swap_log: SwapLog::default(),
            running: Arc::new(Mutex::new(running)),
            history: History::default(),
            keep_versions: config.swap.keep_versions,
            shadows: Vec::new(),
            shadow_log: ShadowLog::default(),
            candidates: Candidates::default(),
            shadow_tx,
            shadow_rx,
            status_tx,
            status_rx,
            stop: Arc::new(AtomicBool::new(false)),
            runtime,
        })
    }

    /// Run until the event budget is spent or the connector's stream ends.
    pub fn run(&mut self) -> Result<()> {
        let started = Instant::now();
        // Without a market or a matcher there is no session: fail loudly.
        self.connector
            .ensure_live()
            .context("starting the connector")?;
        self.matcher.ensure_live().context("starting the matcher")?;
        let mut empty_polls = 0;
        let mut consecutive_faults: u32 = 0;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                break;
            }
            let want = match self.settings.events {
                0 => self.settings.batch_size,
                n if self.counts.events >= n => break,
                n => self
                    .settings
                    .batch_size
                    .min((n - self.counts.events).min(u64::from(u32::MAX)) as u32),
            };
            let batch = self
                .connector
                .call(|c, s| c.tradsys_plugins_connector_api().call_next_batch(s, want))
                .and_then(|batch| match batch {
                    Some(events) if events.len() > want as usize => {
                        Err(self.connector.contract_fault(format!(
                            "returned {} events when asked for at most {want}",
                            events.len()
                        )))
                    }
                    Some(events) => self.connector.limit_output(events).map(Some),
                    None => Ok(None),
                });
            let mut events = match batch {
                Ok(Some(events)) => events,
                Ok(None) => break,
                Err(crate::instance::Fault::Quarantined { reason, .. }) => {
                    self.counts.stopped = Some(format!("connector quarantined: {reason}"));
                    break;
                }
                Err(fault) => {
                    if let Some(reason) = self.connector.quarantined() {
                        self.counts.stopped = Some(format!("connector quarantined: {reason}"));
                        break;
                    }
                    if let Some(reason) = self.connector.failure() {
                        // It cannot be restarted: its init fails, or it lost its position.
                        self.counts.stopped = Some(format!("connector failed: {reason}"));
                        break;
                    }
                    // Restart: the next call makes a fresh instance, after a back-off
                    // that doubles with each consecutive fault (10 ms, 20 ms, ... 1 s).
                    consecutive_faults += 1;
                    self.counts.connector_restarts += 1;
                    let backoff =
                        (CONNECTOR_BACKOFF_MS << (consecutive_faults - 1).min(10)).min(1_000);
                    tracing::warn!("restarting connector in {backoff} ms after: {fault}");
                    std::thread::sleep(Duration::from_millis(backoff));
                    continue;
                }
            };
            if events.is_empty() {
                empty_polls += 1;
                if empty_polls >= MAX_EMPTY_POLLS {
                    self.counts.stopped = Some(format!(
                        "connector sent {MAX_EMPTY_POLLS} empty batches in a row"
                    ));
                    break;
                }
                continue;
            }
            empty_polls = 0;
            consecutive_faults = 0;
            self.on_market(&mut events);
            self.maintain();
            self.apply_swaps();
        }
        self.deliver_reports();
        self.elapsed = started.elapsed();
        let names: Vec<String> = self.shadows.iter().map(|s| s.name.clone()).collect();
        for name in names {
            let _ = self.end_shadow(&name, "ended");
        }
        if let Some(preloader) = self.preloader.take() {
            let _ = preloader.join();
        }
        Ok(())
    }

    /// Between batches: install the new versions that are ready, start or
    /// drop shadows, and say where each plugin is.
    fn apply_swaps(&mut self) {
        while let Ok(reply) = self.status_rx.try_recv() {
            let _ = reply.send(self.plugin_statuses());
        }
        while let Ok(request) = self.swap_rx.try_recv() {
            self.apply_swap(request);
        }
        while let Ok(command) = self.shadow_rx.try_recv() {
            let (result, reply) = match command {
                ShadowCommand::Start(candidate, reply) => (self.start_shadow(*candidate), reply),
                ShadowCommand::Discard(name, reply) => (self.end_shadow(&name, "discarded"), reply),
            };
            let _ = reply.send(result);
        }
    }

    /// Run `candidate` beside the live plugin of its name, from the live
    /// state when the candidate accepts it, else from its own fresh state.
    fn start_shadow(&mut self, candidate: Prepared) -> Result<String, String> {
        let plugin = candidate.plugin().clone();
        let name = plugin.name().to_string();
        let version = plugin.version().to_string();
        let not_running = || format!("no {name} runs in this session");
        let (candidate, (live_version, start)) = match candidate {
            Prepared::Strategy(mut new) => {
                let slot = self
                    .strategies
                    .iter_mut()
                    .find(|s| s.instance.plugin().name() == name)
                    .ok_or_else(not_running)?;
                let start = hand_over(&mut slot.instance, &mut new);
                let live = slot.instance.plugin().version().to_string();
                (Candidate::Strategy(new), (live, start))
            }
            Prepared::RiskValidator(mut new) => {
                let old = self
                    .validators
                    .iter_mut()
                    .find(|v| v.plugin().name() == name)
                    .ok_or_else(not_running)?;
                let start = hand_over(old, &mut new);
                let live = old.plugin().version().to_string();
                (Candidate::RiskValidator(new), (live, start))
            }
            Prepared::Matcher(_) | Prepared::Connector(_) => {
                return Err("only strategies and validators run in shadow".to_string());
            }
        };
        let _ = self.end_shadow(&name, "discarded");
        let mut log = self.shadow_log.lock().expect("shadow log");
        log.push(ShadowReport {
            plugin: name.clone(),
            live_version: live_version.clone(),
            candidate_version: version.clone(),
            started_from: match &start {
                Ok(()) => "the live state".to_string(),
                Err(reason) => format!("fresh state ({reason})"),
            },
            state: "running".to_string(),
            compared: 0,
            differing: 0,
            faults: 0,
            quarantined: None,
            diffs: Vec::new(),
        });
        self.shadows.push(Shadow {
            name: name.clone(),
            candidate,
            entry: log.len() - 1,
        });
        self.candidates
            .lock()
            .expect("candidates")
            .insert(name.clone(), plugin);
        tracing::info!(
            plugin = name,
            candidate = version,
            live = live_version,
            "shadow started"
        );
        let from = log
            .last()
            .map(|e| e.started_from.clone())
            .unwrap_or_default();
        Ok(format!(
            "{name} {version} runs in shadow beside {live_version}, from {from}"
        ))
    }

    /// Stop the shadow of `name`, recording why.
    fn end_shadow(&mut self, name: &str, why: &str) -> Result<String, String> {
        let index = self
            .shadows
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| format!("{name} has no shadow"))?;
        let shadow = self.shadows.remove(index);
        self.candidates.lock().expect("candidates").remove(name);
        let mut log = self.shadow_log.lock().expect("shadow log");
        let entry = &mut log[shadow.entry];
        entry.state = why.to_string();
        Ok(format!(
            "shadow of {name} {why} after {} comparisons, {} different",
            entry.compared, entry.differing
        ))
    }

    /// Hand every member the running version's state; only if all accept,
    /// install them all.
    fn apply_swap(&mut self, request: SwapRequest) {
        let SwapRequest {
            mut members,
            cause,
            on_swapped,
            rollback,
            reply,
        } = request;
        // A version already running (two scans sending the same file) is no swap.
        members.retain(|m| {
            let running = self.running.lock().expect("running");
            running
                .get(m.plugin().name())
                .is_none_or(|p| p.digest() != m.plugin().digest())
        });
        if members.is_empty() {
            if let Some(reply) = reply {
                let _ = reply.send(SwapRecord {
                    after_event: Some(self.counts.events),
                    plugins: Vec::new(),
                    outcome: "already running".to_string(),
                    cause,
                });
            }
            return;
        }
        let plugins: Vec<String> = members
            .iter()
            .map(|m| {
                let new = m.plugin();
                let old = self
                    .running
                    .lock()
                    .expect("running")
                    .get(new.name())
                    .cloned();
                match old {
                    Some(old) => format!("{} {} → {}", new.name(), old.version(), new.version()),
                    None => new.id(),
                }
            })
            .collect();
        let refusal = members.iter_mut().find_map(|member| {
            let id = member.plugin().id();
            self.hand_over(member)
                .err()
                .map(|reason| format!("{id}: {reason}"))
        });
        let outcome = match refusal {
            Some(reason) => format!("refused: {reason}; the running versions go on"),
            None => {
                for member in members {
                    self.install(member, rollback);
                }
                if let Some(done) = on_swapped {
                    done();
                }
                "swapped".to_string()
            }
        };
        let record = SwapRecord {
            after_event: Some(self.counts.events),
            plugins,
            outcome,
            cause,
        };
        if let Some(reply) = reply {
            let _ = reply.send(record.clone());
        }
        note(&self.swap_log, record);
    }

    fn hand_over(&mut self, member: &mut Prepared) -> Result<(), String> {
        let name = member.plugin().name().to_string();
        let not_running = || format!("no {name} runs in this session");
        match member {
            Prepared::Strategy(new) => {
                let slot = self
                    .strategies
                    .iter_mut()
                    .find(|s| s.instance.plugin().name() == name)
                    .ok_or_else(not_running)?;
                hand_over(&mut slot.instance, new)
            }
            Prepared::RiskValidator(new) => {
                let old = self
                    .validators
                    .iter_mut()
                    .find(|v| v.plugin().name() == name)
                    .ok_or_else(not_running)?;
                hand_over(old, new)
            }
            Prepared::Matcher(new) if self.matcher.plugin().name() == name => {
                hand_over(&mut self.matcher, new)
            }
            Prepared::Matcher(_) => Err(not_running()),
            Prepared::Connector(new) if self.connector.plugin().name() == name => {
                hand_over(&mut self.connector, new)
            }
            Prepared::Connector(_) => Err(not_running()),
        }
    }

    /// Put a new version in its slot; the old one joins the slot's history
    /// (kept compiled for a rollback), unless this is a rollback, which
    /// takes its version off the history instead.
    fn install(&mut self, member: Prepared, rollback: bool) {
        fn replace<B: crate::instance::KindBindings>(
            old: &mut PluginInstance<B>,
            mut new: PluginInstance<B>,
        ) -> Arc<crate::plugin::Plugin> {
            new.inherit_stats(old);
            std::mem::replace(old, new).plugin().clone()
        }
        let plugin = member.plugin().clone();
        let name = plugin.name().to_string();
        let old = match member {
            Prepared::Strategy(new) => self
                .strategies
                .iter_mut()
                .find(|s| s.instance.plugin().name() == name)
                .map(|slot| replace(&mut slot.instance, new)),
            Prepared::RiskValidator(new) => self
                .validators
                .iter_mut()
                .find(|v| v.plugin().name() == name)
                .map(|old| replace(old, new)),
            Prepared::Matcher(new) => Some(replace(&mut self.matcher, new)),
            Prepared::Connector(new) => Some(replace(&mut self.connector, new)),
        };
        let mut history = self.history.lock().expect("history");
        let versions = history.entry(name.clone()).or_default();
        if rollback {
            versions.retain(|p| p.version() != plugin.version());
        } else if let Some(old) = old {
            versions.retain(|p| p.version() != old.version());
            versions.push(old);
            let excess = versions.len().saturating_sub(self.keep_versions);
            versions.drain(..excess);
        }
        drop(history);
        if let Some(shadow) = self.shadows.iter().find(|s| s.name == name) {
            let promoted = match &shadow.candidate {
                Candidate::Strategy(i) => i.plugin().digest() == plugin.digest(),
                Candidate::RiskValidator(i) => i.plugin().digest() == plugin.digest(),
            };
            let _ = self.end_shadow(&name, if promoted { "promoted" } else { "ended" });
        }
        self.running.lock().expect("running").insert(name, plugin);
    }

    /// Where to send new versions to install (from any thread).
    pub fn swapper(&self) -> Sender<SwapRequest> {
        self.swap_tx.clone()
    }

    /// Swaps and refused updates so far.
    pub fn swap_log(&self) -> SwapLog {
        self.swap_log.clone()
    }

    /// The plugin running under each name, kept current across swaps.
    pub fn running(&self) -> Running {
        self.running.clone()
    }

    /// Where to send shadow commands (from any thread).
    pub fn shadower(&self) -> Sender<ShadowCommand> {
        self.shadow_tx.clone()
    }

    /// Shadow runs so far.
    pub fn shadow_log(&self) -> ShadowLog {
        self.shadow_log.clone()
    }

    /// The candidates in shadow now, by plugin name.
    pub fn shadow_candidates(&self) -> Candidates {
        self.candidates.clone()
    }

    /// Where to ask (from any thread) for the plugins' status; the session
    /// answers between two batches.
    pub fn status_requests(&self) -> Sender<StatusRequest> {
        self.status_tx.clone()
    }

    /// Where each plugin of the session is now: connector, matcher,
    /// strategies, validators.
    pub fn plugin_statuses(&self) -> Vec<PluginStatus> {
        let mut statuses = vec![
            PluginStatus::of(&self.connector),
            PluginStatus::of(&self.matcher),
        ];
        statuses.extend(
            self.strategies
                .iter()
                .map(|s| PluginStatus::of(&s.instance)),
        );
        statuses.extend(self.validators.iter().map(PluginStatus::of));
        statuses
    }

    /// The versions each plugin ran before (for a rollback).
    pub fn history(&self) -> History {
        self.history.clone()
    }

    /// Set it to end the session after the current batch.
    pub fn stop_handle(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Between batches: track memory and evict what the budget says to.
    fn maintain(&mut self) {
        let settings = *self.runtime.memory_budget();
        let used = self.runtime.memory_in_use();
        self.note_memory(used);
        let mut slots: Vec<&mut dyn Evictable> = Vec::new();
        slots.push(&mut self.matcher);
        slots.extend(
            self.strategies
                .iter_mut()
                .map(|s| &mut s.instance as &mut dyn Evictable),
        );
        slots.extend(self.validators.iter_mut().map(|v| v as &mut dyn Evictable));
        self.counts.evictions += eviction::run(&mut slots, used, &settings);
    }

    fn note_memory(&mut self, used: u64) {
        let pressure = self.runtime.memory_budget().pressure(used);
        if self.counts.peak_pressure.is_none_or(|p| pressure > p) {
            if pressure > Pressure::Low {
                tracing::warn!(
                    used,
                    budget = self.runtime.memory_budget().budget_bytes,
                    "plugin memory pressure {pressure:?}"
                );
            }
            self.counts.peak_pressure = Some(pressure);
        }
        self.counts.peak_memory = self.counts.peak_memory.max(used);
    }

    fn on_market(&mut self, events: &mut Vec<MarketEvent>) {
        let ingested = self.market.ingest(events);
        if let Some(ts) = ingested.latest_ts {
            self.runtime.clock().set(ts);
        }
        self.counts.events += events.len() as u64;
        self.counts.batches += 1;
        self.post_liquidity(&ingested.last_quotes);

        for i in 0..self.strategies.len() {
            let result = self.strategies[i]
                .instance
                .call(|b, s| b.tradsys_plugins_strategy_api().call_on_market(s, events))
                .and_then(|commands| self.strategies[i].instance.limit_output(commands));
            // A failing strategy's output for this batch is dropped.
            if let Ok(commands) = result {
                let name = self.strategies[i].instance.plugin().name();
                let after = self.counts.events;
                for shadow in self.shadows.iter_mut().filter(|s| s.name == name) {
                    shadow.on_market(&self.shadow_log, after, events, &commands);
                }
                self.route(i, commands);
            }
        }
        self.deliver_reports();
    }

    /// Hand queued execution reports to their strategies, and route the
    /// commands they answer with, for at most `max_rounds` rounds.
    fn deliver_reports(&mut self) {
        for _ in 0..self.settings.max_rounds {
            let mut any = false;
            for i in 0..self.strategies.len() {
                let events = std::mem::take(&mut self.strategies[i].pending);
                if events.is_empty() {
                    continue;
                }
                any = true;
                let result = self.strategies[i].instance.call(|b, s| {
                    b.tradsys_plugins_strategy_api()
                        .call_on_order_events(s, &events)
                });
                let result =
                    result.and_then(|commands| self.strategies[i].instance.limit_output(commands));
                if let Ok(commands) = result {
                    let name = self.strategies[i].instance.plugin().name();
                    let after = self.counts.events;
                    for shadow in self.shadows.iter_mut().filter(|s| s.name == name) {
                        shadow.on_order_events(&self.shadow_log, after, &events, &commands);
                    }
                    self.route(i, commands);
                }
            }
            if !any {
                break;
            }
        }
    }

    /// Check, validate and execute one strategy's commands.
    fn route(&mut self, strategy: usize, commands: Vec<OrderCommand>) {
        if commands.is_empty() {
            return;
        }
        let n = commands.len() as u64;
        self.counts.submitted += n;
        self.strategies[strategy].counts.submitted += n;

        // The host's own checks: ids, instruments, halts.
        let mut checked = Vec::with_capacity(commands.len());
        for command in commands {
            match self.host_check(strategy, &command) {
                Ok(()) => checked.push(command),
                Err(rejection) => self.reject(strategy, "host", &command, rejection),
            }
        }
        if checked.is_empty() {
            return;
        }

        // Every validator sees every checked command; any refusal refuses it.
        let context = self.risk_context(strategy);
        let mut refusals: Vec<Option<(String, Rejection)>> = vec![None; checked.len()];
        for validator in &mut self.validators {
            let name = validator.plugin().name().to_string();
            let verdicts = validator
                .call(|b, s| {
                    b.tradsys_plugins_risk_validator_api()
                        .call_validate(s, &context, &checked)
                })
                .and_then(|verdicts| {
                    if verdicts.len() == checked.len() {
                        Ok(verdicts)
                    } else {
                        Err(validator.contract_fault(format!(
                            "returned {} verdicts for {} orders",
                            verdicts.len(),
                            checked.len()
                        )))
                    }
                });
            match verdicts {
                Ok(verdicts) => {
                    let after = self.counts.events;
                    for shadow in self.shadows.iter_mut().filter(|s| s.name == name) {
                        shadow.validate(&self.shadow_log, after, &context, &checked, &verdicts);
                    }
                    for (slot, verdict) in refusals.iter_mut().zip(verdicts) {
                        if let Verdict::Reject(rejection) = verdict {
                            *self
                                .counts
                                .rejections
                                .entry((name.clone(), reason_name(rejection.reason)))
                                .or_default() += 1;
                            slot.get_or_insert((name.clone(), rejection));
                        }
                    }
                }
                Err(fault) => {
                    // Fail closed: a validator that cannot answer refuses everything.
                    *self
                        .counts
                        .rejections
                        .entry((name.clone(), reason_name(RejectReason::ValidatorFault)))
                        .or_default() += checked.len() as u64;
                    for slot in refusals.iter_mut() {
                        slot.get_or_insert((
                            name.clone(),
                            Rejection {
                                reason: RejectReason::ValidatorFault,
                                message: Some(fault.to_string()),
                            },
                        ));
                    }
                }
            }
        }

        let mut approved = Vec::with_capacity(checked.len());
        for (command, refusal) in checked.into_iter().zip(refusals) {
            match refusal {
                None => approved.push(command),
                Some((_, rejection)) => self.refuse(strategy, &command, rejection),
            }
        }
        let n = approved.len() as u64;
        self.counts.approved += n;
        self.strategies[strategy].counts.approved += n;
        let commands: Vec<OrderCommand> = approved
            .iter()
            .map(|c| self.renumber(strategy, c))
            .collect();
        self.execute(commands);
    }

    fn host_check(&self, strategy: usize, command: &OrderCommand) -> Result<(), Rejection> {
        let slot = &self.strategies[strategy];
        let refuse = |reason, message: String| {
            Err(Rejection {
                reason,
                message: Some(message),
            })
        };
        let instrument = match command {
            OrderCommand::Submit(o) => {
                if slot.ids.contains_key(&o.id) {
                    return refuse(
                        RejectReason::InvalidOrder,
                        format!("order id {} was already used", o.id),
                    );
                }
                o.instrument
            }
            OrderCommand::Cancel(CancelOrder { id, instrument })
            | OrderCommand::Modify(crate::bindings::types::ModifyOrder {
                id, instrument, ..
            }) => {
                if !slot.working.contains_key(id) {
                    return refuse(
                        RejectReason::UnknownOrder,
                        format!("order {id} is not working"),
                    );
                }
                *instrument
            }
        };
        if self.market.definition(instrument).is_none() {
            return refuse(
                RejectReason::InvalidOrder,
                format!("unknown instrument {instrument}"),
            );
        }
        if let Some(reason) = &self.counts.halted {
            return refuse(
                RejectReason::InstrumentHalted,
                format!("trading halted: {reason}"),
            );
        }
        if self.halted.contains(&instrument) {
            return refuse(
                RejectReason::InstrumentHalted,
                format!("instrument {instrument} is halted"),
            );
        }
        Ok(())
    }

    /// Record a refusal by `by` and tell the strategy.
    fn reject(&mut self, strategy: usize, by: &str, command: &OrderCommand, rejection: Rejection) {
        *self
            .counts
            .rejections
            .entry((by.to_string(), reason_name(rejection.reason)))
            .or_default() += 1;
        self.refuse(strategy, command, rejection);
    }

    fn refuse(&mut self, strategy: usize, command: &OrderCommand, rejection: Rejection) {
        self.counts.rejected += 1;
        let slot = &mut self.strategies[strategy];
        slot.counts.rejected += 1;
        let (id, instrument) = command_target(command);
        slot.pending.push(OrderEvent::Rejected(OrderRejected {
            id,
            instrument,
            ts: self.runtime.clock().now(),
            rejection,
        }));
    }

    fn risk_context(&self, strategy: usize) -> RiskContext {
        let slot = &self.strategies[strategy];
        let positions = slot
            .ledger
            .holdings()
            .filter(|(_, h)| h.quantity != 0)
            .map(|(instrument, h)| Position {
                instrument,
                quantity: h.quantity,
                average_price: h.average_price,
            })
            .collect();
        let open_orders = slot
            .working
            .iter()
            .filter_map(|(client, host)| {
                let r = self.orders.get(host)?;
                Some(OpenOrder {
                    id: *client,
                    instrument: r.instrument,
                    side: r.side,
                    price: r.price,
                    leaves_quantity: r.leaves,
                })
            })
            .collect();
        let clamp = |v: i128| v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        RiskContext {
            now: self.runtime.clock().now(),
            strategy: strategy as u32,
            positions,
            open_orders,
            last_prices: self.market.last_prices(),
            account: Account {
                cash: clamp(slot.ledger.cash()),
                realized_pnl: clamp(slot.ledger.realized_pnl()),
            },
            instruments: self.market.definitions().to_vec(),
        }
    }

    /// Renumber an approved command to host ids, recording new orders.
    fn renumber(&mut self, strategy: usize, command: &OrderCommand) -> OrderCommand {
        match command {
            OrderCommand::Submit(o) => {
                let id = self.new_order(Owner::Strategy(strategy), o);
                self.strategies[strategy].ids.insert(o.id, id);
                OrderCommand::Submit(NewOrder { id, ..*o })
            }
            OrderCommand::Cancel(c) => OrderCommand::Cancel(CancelOrder {
                id: self.strategies[strategy].working[&c.id],
                ..*c
            }),
            OrderCommand::Modify(m) => {
                let mut m = *m;
                m.id = self.strategies[strategy].working[&m.id];
                OrderCommand::Modify(m)
            }
        }
    }

    fn new_order(&mut self, owner: Owner, order: &NewOrder) -> u64 {
        let id = self.next_order_id;
        self.next_order_id += 1;
        self.orders.insert(
            id,
            OrderRecord {
                owner,
                client_id: order.id,
                instrument: order.instrument,
                side: order.side,
                price: order.price,
                leaves: order.quantity,
                accepted: false,
            },
        );
        id
    }

    /// Replace the market's resting bid and ask with the latest quotes.
    fn post_liquidity(&mut self, quotes: &[Quote]) {
        if self.counts.halted.is_some() {
            return;
        }
        // Cancels first: a new bid must not trade with the market's stale ask.
        let mut cancels = Vec::with_capacity(quotes.len() * 2);
        let mut submits = Vec::with_capacity(quotes.len() * 2);
        for q in quotes {
            let slot = q.instrument as usize;
            if self.liquidity.len() <= slot {
                self.liquidity.resize(slot + 1, [None, None]);
            }
            for (side, price, size) in [
                (Side::Buy, q.bid_price, q.bid_size),
                (Side::Sell, q.ask_price, q.ask_size),
            ] {
                let index = side as usize;
                if let Some(old) = self.liquidity[slot][index].take()
                    && self.orders.contains_key(&old)
                {
                    cancels.push(OrderCommand::Cancel(CancelOrder {
                        id: old,
                        instrument: q.instrument,
                    }));
                }
                if price > 0 && size > 0 {
                    let order = NewOrder {
                        id: 0,
                        instrument: q.instrument,
                        side,
                        order_type: OrderType::Limit,
                        time_in_force: TimeInForce::Gtc,
                        price,
                        quantity: size,
                    };
                    let id = self.new_order(Owner::Market, &order);
                    self.liquidity[slot][index] = Some(id);
                    submits.push(OrderCommand::Submit(NewOrder { id, ..order }));
                }
            }
        }
        cancels.append(&mut submits);
        self.execute(cancels);
    }

    /// Send host-numbered commands to the matcher and book what comes back.
    fn execute(&mut self, commands: Vec<OrderCommand>) {
        if commands.is_empty() {
            return;
        }
        let result = self
            .matcher
            .call(|b, s| b.tradsys_plugins_matcher_api().call_execute(s, &commands))
            .and_then(|reports| self.matcher.limit_output(reports));
        match result {
            Ok(reports) => {
                for report in reports {
                    self.apply_report(report);
                }
            }
            Err(fault) => self.halt_matcher(&commands, &fault),
        }
        for id in self.finished.drain(..) {
            self.orders.remove(&id);
        }
    }

    /// The matcher failed: its instance, and every book in it, is gone. Rather
    /// than guess, halt trading for the rest of the session: refuse the
    /// failed call's new orders, cancel every working order (telling its
    /// strategy), and refuse everything after.
    fn halt_matcher(&mut self, commands: &[OrderCommand], fault: &crate::instance::Fault) {
        let message = fault.to_string();
        let ts = self.runtime.clock().now();
        let reason = format!("matcher {} failed: {message}", self.matcher.plugin().name());
        tracing::error!("trading halted: {reason}");
        self.counts.halted = Some(reason);
        for command in commands {
            if let OrderCommand::Submit(o) = command {
                let rejection = Rejection {
                    reason: RejectReason::InstrumentHalted,
                    message: Some(message.clone()),
                };
                let report = OrderRejected {
                    id: o.id,
                    instrument: o.instrument,
                    ts,
                    rejection,
                };
                self.apply_report(OrderEvent::Rejected(report));
            }
        }
        let mut working: Vec<(u64, u32, i64)> = self
            .orders
            .iter()
            .filter(|(id, r)| r.accepted && !self.finished.contains(id))
            .map(|(id, r)| (*id, r.instrument, r.leaves))
            .collect();
        working.sort_unstable();
        for (id, instrument, leaves) in working {
            let canceled = OrderCanceled {
                id,
                instrument,
                ts,
                canceled_quantity: leaves,
            };
            self.apply_report(OrderEvent::Canceled(canceled));
        }
        self.liquidity.clear();
    }

    fn apply_report(&mut self, mut report: OrderEvent) {
        let id = report_id(&report);
        let Some(record) = self.orders.get_mut(&id) else {
            tracing::warn!(
                matcher = self.matcher.plugin().name(),
                "report for unknown order {id}: {report:?}"
            );
            return;
        };
        let mut done = false;
        match &report {
            OrderEvent::Accepted(_) => {
                record.accepted = true;
                if let Owner::Strategy(i) = record.owner {
                    self.strategies[i].working.insert(record.client_id, id);
                }
            }
            OrderEvent::Rejected(r) => {
                if matches!(record.owner, Owner::Strategy(_)) {
                    *self
                        .counts
                        .venue_rejections
                        .entry(reason_name(r.rejection.reason))
                        .or_default() += 1;
                }
                // Refusing a new order ends it; refusing a cancel or modify
                // leaves the order as it was.
                done = !record.accepted;
            }
            OrderEvent::Filled(f) => {
                record.leaves = f.leaves_quantity;
                done = f.leaves_quantity <= 0;
                if let Owner::Strategy(i) = record.owner {
                    let multiplier = self
                        .market
                        .definition(f.instrument)
                        .map_or(1, |d| d.multiplier.max(1));
                    self.strategies[i].ledger.apply_fill(
                        f.instrument,
                        f.side,
                        f.price,
                        f.quantity,
                        multiplier,
                    );
                    self.counts.fills += 1;
                }
            }
            OrderEvent::Canceled(_) => done = true,
            OrderEvent::Modified(m) => {
                record.price = m.price;
                record.leaves = m.leaves_quantity;
            }
        }
        let (owner, client_id) = (record.owner, record.client_id);
        if done {
            self.finished.push(id);
        }
        if let Owner::Strategy(i) = owner {
            let slot = &mut self.strategies[i];
            if done {
                slot.working.remove(&client_id);
            }
            set_report_id(&mut report, client_id);
            slot.pending.push(report);
        }
    }

    /// The runtime the session's plugins run on.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// The run settings the session was made with.
    pub fn settings(&self) -> &RunSettings {
        &self.settings
    }

    /// Session counters.
    pub fn counts(&self) -> &Counters {
        &self.counts
    }
}

/// The plugins of `kind` the session uses: those named (each must be
/// installed and of that kind), or every installed one.
fn chosen(
    registry: &Registry,
    kind: PluginKind,
    names: Option<&[String]>,
) -> Result<Vec<Arc<crate::plugin::Plugin>>> {
    let Some(names) = names else {
        return Ok(registry.of_kind(kind).cloned().collect());
    };
    let key = match kind {
        PluginKind::Strategy => "run.strategies",
        _ => "run.validators",
    };
    names
        .iter()
        .map(|name| match registry.get(name) {
            Some(p) if p.kind() == kind => Ok(p.clone()),
            Some(p) => bail!("{key}: `{name}` is a {}, not a {kind}", p.kind()),
            None => match refusal(registry, name) {
                Some(reason) => bail!("{key}: `{name}` was refused: {reason}"),
                None => bail!("{key}: `{name}` is not installed"),
            },
        })
        .collect()
}

/// Why the plugin called `name` was refused at load, if it was.
fn refusal(registry: &Registry, name: &str) -> Option<String> {
    let prefix = format!("{name}@");
    registry
        .rejected()
        .into_iter()
        .find(|r| r.plugin.as_deref().is_some_and(|p| p.starts_with(&prefix)))
        .map(|r| format!("{}: {}", r.file.display(), r.reason))
}

fn command_target(command: &OrderCommand) -> (u64, u32) {
    match command {
        OrderCommand::Submit(o) => (o.id, o.instrument),
        OrderCommand::Cancel(c) => (c.id, c.instrument),
        OrderCommand::Modify(m) => (m.id, m.instrument),
    }
}

fn report_id(report: &OrderEvent) -> u64 {
    match report {
        OrderEvent::Accepted(e) => e.id,
        OrderEvent::Rejected(e) => e.id,
        OrderEvent::Filled(e) => e.id,
        OrderEvent::Canceled(e) => e.id,
        OrderEvent::Modified(e) => e.id,
    }
}

fn set_report_id(report: &mut OrderEvent, id: u64) {
    match report {
        OrderEvent::Accepted(e) => e.id = id,
        OrderEvent::Rejected(e) => e.id = id,
        OrderEvent::Filled(e) => e.id = id,
        OrderEvent::Canceled(e) => e.id = id,
        OrderEvent::Modified(e) => e.id = id,
    }
}

/// The WIT name of a rejection reason.
pub fn reason_name(reason: RejectReason) -> &'static str {
    match reason {
        RejectReason::NotionalLimit => "notional-limit",
        RejectReason::QuantityLimit => "quantity-limit",
        RejectReason::PriceCollar => "price-collar",
        RejectReason::PositionLimit => "position-limit",
        RejectReason::RateLimit => "rate-limit",
        RejectReason::InvalidOrder => "invalid-order",
        RejectReason::UnknownOrder => "unknown-order",
        RejectReason::FillOrKillUnfilled => "fill-or-kill-unfilled",
        RejectReason::NoLiquidity => "no-liquidity",
        RejectReason::ValidatorFault => "validator-fault",
        RejectReason::InstrumentHalted => "instrument-halted",
        RejectReason::Other => "other",
    }
}
