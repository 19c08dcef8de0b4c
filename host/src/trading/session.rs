//! A trading session: the data path of the host.
//!
//! ```text
//! connector ─market batch─▶ processors ─batch + bars, signals─▶ strategies ─commands─▶ risk validators
//!                                                                  ▲        (all approve; fail closed)
//!                                                                  │                  │ approved
//!                                                                  └── execution reports ◀── matcher
//! ```
//! The session owns the plugin slots and calls them; the [`OrderRouter`]
//! keeps the orders and books; the control plane hands it new versions and
//! shadows between two batches.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use crate::bindings::types::{MarketEvent, OrderCommand};
use crate::config::{HostConfig, RunSettings, VenueModel};
use crate::engine::Runtime;
use crate::journal::{EndEntry, Entry, Journal, JournalReport, JournalWriter, Stop};
use crate::live::control::{Control, ControlPlane, Env};
use crate::loading::{Registry, RejectedFile};
use crate::policy::Pressure;
use crate::sandbox::{PluginInstance, Slots, eviction};
use crate::trading::accounts::HOST;
use crate::trading::audit::{self, OrderLog, Sender};
use crate::trading::events::WholeGroups;
use crate::trading::feed::{Feed, Pull, Pulled};
use crate::trading::fills_audit::FillsAudit;
use crate::trading::latency::Latency;
use crate::trading::market::Market;
use crate::trading::processing::{Processing, ProcessorReport};
use crate::trading::roster::Roster;
use crate::trading::router::OrderRouter;
use crate::trading::selection::Selection;
use crate::trading::telemetry::Publisher;

/// Session-wide counters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counters {
    /// Market events processed.
    pub(crate) events: u64,
    /// Batches processed.
    pub(crate) batches: u64,
    /// Why the session stopped early, if it did.
    pub(crate) stopped: Option<Stop>,
    /// Times the connector was restarted after a fault.
    pub(crate) connector_restarts: u32,
    /// Most linear memory held by plugin instances at once, bytes.
    pub(crate) peak_memory: u64,
    /// Highest memory pressure seen.
    pub(crate) peak_pressure: Option<Pressure>,
    /// Highest memory pressure since the last published snapshot.
    pub(crate) recent_pressure: Option<Pressure>,
    /// Instances evicted (idle or memory pressure).
    pub(crate) evictions: u64,
}

/// A session over the plugins of a registry.
pub struct Session {
    settings: RunSettings,
    venue: VenueModel,
    latency: crate::config::LatencySettings,
    pub(crate) slots: Slots,
    pub(crate) market: Market,
    /// The buffer of the simulated venue's last `venue-feed.before`, reused.
    spent_before: Vec<Option<crate::bindings::RestingBefore>>,
    groups: WholeGroups,
    /// Batches from the connector, decoded ahead or not.
    feed: Feed,
    /// The connector's trades carry flags (1.3.0 on): a trade may open an
    /// exchange event.
    trades_flagged: bool,
    pub(crate) processing: Processing,
    pub(crate) router: OrderRouter,
    pub(crate) control: ControlPlane,
    pub(crate) counts: Counters,
    pub(crate) rejected_files: Vec<RejectedFile>,
    pub(crate) elapsed: Duration,
    /// Installed plugins the session does not use (`name@version`).
    pub(crate) unused: Vec<String>,
    /// Compiles the plugins marked for preloading (lazy loading only).
    preloader: Option<std::thread::JoinHandle<()>>,
    runtime: Arc<Runtime>,
    /// The order journal (off without `[run] journal`), its writer, and
    /// what it wrote once closed.
    pub(crate) journal: Journal,
    journal_writer: Option<JournalWriter>,
    pub(crate) journal_report: Option<JournalReport>,
    /// Time the data path spent waiting for the journal's writer.
    pub(crate) journal_wait: Duration,
    /// Snapshots for the dashboard and the metrics, and the alerts.
    pub(crate) publisher: Publisher,
    /// Which strategies, validators and processors the data path calls.
    pub(crate) roster: Roster,
    /// The simulated venue's fills judged by the exchange's rules, beside it.
    pub(crate) fills_audit: Option<FillsAudit>,
    /// The connection of a network connector (live and paper trading).
    pub(crate) live: Option<live::Live>,
    /// The host as a venue: its clients (`[gateway]`).
    pub(crate) clients: Option<gateway::Clients>,
    /// Live: how long an order may go unanswered before an alert.
    answer_after: Duration,
    /// Live: what to do with the venue's orders the host does not know.
    reconcile: reconcile::Policy,
    /// The plugins made ready before the session's clock started.
    pub(crate) startup: crate::trading::report::StartupReport,
}

impl Session {
    /// Pick the session's plugins from `registry` as `config` says.
    pub fn new(runtime: Arc<Runtime>, registry: &Registry, config: &HostConfig) -> Result<Self> {
        let settings = config.run.clone();
        let selection = Selection::pick(registry, config)?;
        let preloader = registry.prepare(&runtime, settings.loading);
        let running = selection
            .all()
            .map(|p| (p.name().to_string(), p.clone()))
            .collect();
        let env = Env {
            dir: registry.dir().to_path_buf(),
            config: std::sync::RwLock::new(config.clone()),
            reconfiguring: std::sync::Mutex::new(()),
            policy: registry.policy().clone(),
            runtime: runtime.clone(),
        };
        let Selection {
            connector,
            matcher,
            strategies,
            validators,
            processors,
            unused,
        } = selection;
        let (processors, policies): (Vec<_>, Vec<_>) = processors.into_iter().unzip();
        let slots = Slots {
            connector: PluginInstance::new(runtime.clone(), connector),
            matcher: matcher.map(|m| PluginInstance::new(runtime.clone(), m)),
            strategies: strategies
                .into_iter()
                .map(|p| PluginInstance::new(runtime.clone(), p))
                .collect(),
            validators: validators
                .into_iter()
                .map(|p| PluginInstance::new(runtime.clone(), p))
                .collect(),
            processors: processors
                .into_iter()
                .map(|p| PluginInstance::new(runtime.clone(), p))
                .collect(),
        };
        let processing = Processing::new(&slots.processors, &policies);
        let roster = Roster::new(
            slots.strategies.len(),
            slots.validators.len(),
            slots.processors.len(),
        );
        let journal_writer = match &settings.journal {
            Some(path) => Some(
                JournalWriter::create(path, settings.journal_max_bytes)
                    .map_err(anyhow::Error::msg)?,
            ),
            None => None,
        };
        let journal = journal_writer
            .as_ref()
            .map(JournalWriter::journal)
            .unwrap_or_default();
        runtime.set_journal(journal.clone());
        // A session's clocks start from nothing (an earlier session on the
        // same runtime leaves no time behind).
        runtime.clock().set(0);
        runtime.local_clock().set(0);
        let names = slots
            .strategies
            .iter()
            .map(|s| s.plugin().name().to_string())
            .collect();
        let mut control = ControlPlane::new(env, running);
        control.set_journal(journal.clone());
        let simulated = config.venue.model == VenueModel::Simulated;
        let mut router = OrderRouter::new(slots.strategies.len())
            .with_fees(config.venue.fees.clone())
            .with_latency(Latency::new(&config.venue.latency));
        if simulated {
            router = router.with_fill_log();
        }
        let clients =
            gateway::Clients::start(&config.gateway, &mut router, &slots.validators, &runtime)?;
        Ok(Self {
            fills_audit: (simulated && config.venue.audit).then(FillsAudit::default),
            router: router
                .balanced(config.venue.model == VenueModel::Exchange)
                .with_owners(runtime.owners().clone())
                .with_journal(journal.clone(), names),
            slots,
            settings,
            venue: config.venue.model,
            latency: config.venue.latency.clone(),
            market: Market::new(runtime.books().clone(), config.market.clone()),
            spent_before: Vec::new(),
            groups: WholeGroups::default(),
            feed: Feed::new(
                Pull::new(
                    config.run.batch_size,
                    config.run.connector_chunk,
                    config.run.events,
                ),
                config.run.decode_ahead,
                runtime.clone(),
                control.stop_flag(),
            ),
            trades_flagged: true,
            processing,
            control,
            counts: Counters::default(),
            rejected_files: registry.rejected(),
            elapsed: Duration::ZERO,
            unused,
            preloader,
            runtime,
            journal,
            journal_writer,
            journal_report: None,
            journal_wait: Duration::ZERO,
            publisher: Publisher::default(),
            roster,
            live: None,
            clients,
            answer_after: Duration::from_millis(config.venue.answer_ms),
            reconcile: reconcile::Policy {
                unknown_orders: config.venue.unknown_orders,
                adopt_into: config.venue.adopt_into.clone(),
            },
            startup: Default::default(),
        })
    }

    /// Run until the event budget is spent, the connector's stream ends or
    /// a stop is asked for.
    pub fn run(&mut self) -> Result<()> {
        self.journal.write(self.runtime.clock().now(), || {
            let slots = &self.slots;
            let plugins = std::iter::once(&**slots.connector.plugin())
                .chain(slots.matcher.iter().map(|m| &**m.plugin()))
                .chain(slots.strategies.iter().map(|s| &**s.plugin()))
                .chain(slots.validators.iter().map(|v| &**v.plugin()))
                .chain(slots.processors.iter().map(|p| &**p.plugin()));
            let venue = match self.venue {
                VenueModel::Simulated => "simulated",
                VenueModel::Exchange => "exchange",
                VenueModel::Live => "live",
            };
            Entry::Session(audit::session_entry(
                plugins,
                venue,
                self.settings.seed,
                &self.latency,
            ))
        });
        self.startup = self.compile_selected();
        let result = self.open().and_then(|()| self.run_batches());
        self.control.end();
        self.close_journal();
        self.publish(true, true);
        result
    }

    /// End the journal with the session's end, and keep what it wrote.
    fn close_journal(&mut self) {
        let Some(writer) = self.journal_writer.take() else {
            return;
        };
        self.journal.write(self.runtime.clock().now(), || {
            Entry::End(EndEntry {
                events: self.counts.events,
                batches: self.counts.batches,
                stopped: self.counts.stopped.clone(),
                fills_audit: self.fills_audit(),
            })
        });
        self.runtime.set_journal(Journal::default());
        self.journal_wait = writer.waited();
        let report = writer.close();
        if let Some(error) = &report.error {
            tracing::error!("{error}");
            self.counts
                .stopped
                .get_or_insert_with(|| Stop::Journal(error.clone()));
        }
        self.journal_report = Some(report);
    }

    /// Start the connector and the matcher before the clock (the
    /// connector opens its data). Without a market or a matcher there is
    /// no session: fail loudly.
    fn open(&mut self) -> Result<()> {
        let started = Instant::now();
        self.slots
            .connector
            .ensure_live()
            .context("starting the connector")?;
        if self.venue != VenueModel::Live {
            let matcher = self
                .slots
                .matcher
                .as_mut()
                .context("no matcher is installed")?;
            matcher.ensure_live().context("starting the matcher")?;
        }
        self.startup.opened_ms = started.elapsed().as_secs_f64() * 1e3;
        Ok(())
    }

    fn run_batches(&mut self) -> Result<()> {
        let started = Instant::now();
        if self.slots.connector.plugin().is_network_connector() {
            self.run_network()?;
            return self.finish(started);
        }
        loop {
            if self.control.stop_requested() {
                break;
            }
            self.serve_clients(None);
            // Events held back for an unfinished group count as taken.
            let taken = self.counts.events + self.groups.held() as u64;
            let (events, trades_flagged) = match self.feed.next(&mut self.slots.connector, taken) {
                Pulled::Events {
                    events,
                    trades_flagged,
                    restarts,
                } => {
                    self.counts.connector_restarts += restarts;
                    (events, trades_flagged)
                }
                Pulled::End { restarts } => {
                    self.counts.connector_restarts += restarts;
                    self.serve_until_stopped();
                    break;
                }
                Pulled::Stopped { stop, restarts } => {
                    self.counts.connector_restarts += restarts;
                    self.counts.stopped = Some(stop);
                    break;
                }
            };
            self.trades_flagged = trades_flagged;
            let mut events = self.groups.complete(events, trades_flagged);
            if events.is_empty() {
                continue; // inside an exchange event: the rest comes next
            }
            self.on_market(&mut events);
            if let Some(reason) = self.market.stop() {
                self.counts.stopped = Some(Stop::Connector {
                    name: self.slots.connector.plugin().name().to_string(),
                    reason: reason.to_string(),
                });
                break;
            }
            if !self.between_batches() {
                break;
            }
        }
        self.feed.recall(&mut self.slots.connector);
        self.finish(started)
    }

    /// The stream ended: what is held back and in flight goes through, and
    /// the strategies get their last reports.
    fn finish(&mut self, started: Instant) -> Result<()> {
        let mut rest = self.groups.flush();
        if !rest.is_empty() {
            self.on_market(&mut rest);
        }
        self.finish_in_flight();
        self.deliver_reports();
        self.close_gateway();
        // The session's time includes its records written out (a replay's
        // writer runs behind; its failure is reported when it closes).
        if let Some(writer) = self.journal_writer.as_mut() {
            let _ = writer.sync();
        }
        self.elapsed = started.elapsed();
        self.control.shadows.end_all();
        if let Some(preloader) = self.preloader.take() {
            let _ = preloader.join();
        }
        Ok(())
    }

    /// Time the data path spent getting the connector's batches.
    pub(crate) fn feed_time(&self) -> Duration {
        self.feed.spent()
    }

    /// A handle to steer the session from other threads: status, swaps,
    /// rollbacks, shadows, stop.
    pub fn control(&self) -> Control {
        self.control.handle().clone()
    }

    /// Set it to end the session after the current batch (for a Ctrl-C handler).
    pub fn stop_handle(&self) -> Arc<AtomicBool> {
        self.control.stop_flag()
    }

    /// The runtime the session's plugins run on.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// Where its strategy orders trade.
    pub fn venue(&self) -> VenueModel {
        self.venue
    }

    /// The run settings the session was made with.
    pub fn settings(&self) -> &RunSettings {
        &self.settings
    }

    /// Between two batches: memory and eviction, the control plane's swaps
    /// and shadows, membership, a snapshot; the batch's records written out
    /// before the next starts. False when the journal failed (the session
    /// stops).
    fn between_batches(&mut self) -> bool {
        if let Some(cancel_all) = self.control.halt_requested() {
            self.operator_halt(cancel_all);
        }
        self.maintain();
        // A snapshot and a control request read the connector's slot: it
        // comes home from decoding ahead first.
        let due = self.publish_due();
        if self.feed.is_away() && (self.control.wants_slots() || due) {
            self.feed.recall(&mut self.slots.connector);
        }
        if !self.feed.is_away() {
            self.control
                .between_batches(&mut self.slots, self.counts.events);
        }
        self.apply_membership();
        self.publish(false, due);
        // A live session waits until the batch's records are written out (a
        // crash loses at most the batch it interrupts); a replay only checks
        // the writer has not failed, and its records go out while it runs on.
        let live = self.live.is_some();
        let writer = self.journal_writer.as_mut();
        let written = writer.map(|w| if live { w.sync() } else { w.check() });
        if let Some(Err(why)) = written {
            self.counts.stopped = Some(Stop::Journal(why));
            return false;
        }
        true
    }

    /// Between batches: track memory and evict what the budget says to.
    fn maintain(&mut self) {
        let settings = *self.runtime.memory_budget();
        let used = self.runtime.memory_in_use();
        self.note_memory(used);
        let mut slots = self.slots.evictable();
        self.counts.evictions += eviction::run(&mut slots, used, &settings);
    }

    fn note_memory(&mut self, used: u64) {
        let pressure = self.runtime.memory_budget().pressure(used);
        self.counts.recent_pressure = self.counts.recent_pressure.max(Some(pressure));
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
        self.counts.events += match self.venue {
            VenueModel::Simulated => self.through_venue(events),
            VenueModel::Exchange | VenueModel::Live => self.ingest(events),
        };
        self.counts.batches += 1;
        let now = self.see(events);
        let signals = self.runtime.signals();
        let deliver = self.processing.run(
            &mut self.slots.processors,
            &mut self.control.shadows,
            events,
            (&self.market, signals),
            (now, self.counts.events),
        );
        if deliver {
            let definitions = self.market.definitions();
            self.processing
                .subscribe(&self.slots.strategies, signals, definitions);
            for i in 0..self.slots.strategies.len() {
                if !self.roster.strategy(i) {
                    continue;
                }
                let batch = self.processing.batch_for(i, events);
                if batch.is_empty() && !events.is_empty() && self.processing.filters(i) {
                    continue; // none of the kinds or instruments it subscribed to
                }
                let strategy = &mut self.slots.strategies[i];
                let result = strategy
                    .call(|b, s| b.on_market(s, &batch))
                    .and_then(|commands| strategy.limit_output(commands));
                // A failing strategy's output for this batch is dropped.
                if let Ok(commands) = result {
                    let name = strategy.plugin().name();
                    let after = self.counts.events;
                    self.control
                        .shadows
                        .on_market(name, after, &batch, &commands);
                    self.route(i, commands);
                }
            }
        }
        self.deliver_reports();
    }

    /// The processors' figures so far.
    pub(crate) fn processor_reports(&self) -> &[ProcessorReport] {
        self.processing.reports()
    }

    /// Hand queued execution reports to their strategies, and route the
    /// commands they answer with, for at most `max_rounds` rounds.
    fn deliver_reports(&mut self) {
        self.deliver(false);
    }

    /// Hand every queued report to its strategy, due or not (the end).
    fn deliver_all_reports(&mut self) {
        self.deliver(true);
    }

    fn deliver(&mut self, all: bool) {
        for _ in 0..self.settings.max_rounds {
            let mut any = false;
            let now = (!all).then(|| self.runtime.local_clock().now());
            for i in 0..self.slots.strategies.len() {
                let events = self.router.take_pending(i, now);
                if events.is_empty() || !self.roster.strategy(i) {
                    continue;
                }
                any = true;
                let strategy = &mut self.slots.strategies[i];
                let result = strategy
                    .call(|b, s| b.on_order_events(s, &events))
                    .and_then(|commands| strategy.limit_output(commands));
                if let Ok(commands) = result {
                    let name = strategy.plugin().name();
                    let after = self.counts.events;
                    self.control
                        .shadows
                        .on_order_events(name, after, &events, &commands);
                    self.route(i, commands);
                }
            }
            if !any {
                break;
            }
        }
    }

    /// Check, validate and execute the commands of one strategy or (an
    /// owner from `CLIENT_BASE`) of one client of the gateway.
    pub(crate) fn route(&mut self, strategy: usize, commands: Vec<OrderCommand>) {
        if commands.is_empty() {
            return;
        }
        self.router.received(strategy, commands.len() as u64);
        let now = self.runtime.local_clock().now();

        // The host's own checks: ids, instruments, quantity and price, halts.
        let mut checked = Vec::with_capacity(commands.len());
        for command in commands {
            match self.router.check(strategy, &command, &self.market) {
                Ok(()) => checked.push(command),
                Err(rejection) => {
                    self.order_log(strategy, now)
                        .refused(&command, Vec::new(), &rejection);
                    self.router.reject(strategy, HOST, &command, rejection, now);
                }
            }
        }
        if checked.is_empty() {
            return;
        }

        // Every validator sees every checked command; any refusal refuses it.
        let (refusals, mut verdicts) = self.validate(strategy, &checked, now);
        let mut approved = Vec::with_capacity(checked.len());
        let mut approved_verdicts = Vec::new();
        for (n, (command, refusal)) in checked.into_iter().zip(refusals).enumerate() {
            let said = verdicts.get_mut(n).map(std::mem::take).unwrap_or_default();
            match refusal {
                None => {
                    approved.push(command);
                    approved_verdicts.push(said);
                }
                Some(rejection) => {
                    self.order_log(strategy, now)
                        .refused(&command, said, &rejection);
                    self.router.refuse(strategy, &command, rejection, now);
                }
            }
        }
        // As the strategy sent them, for the journal (host ids come next).
        let as_sent = self.journal.is_on().then(|| approved.clone());
        let sent = self.router.approve(strategy, approved);
        let hosts: Vec<u64> = sent.iter().map(OrderCommand::id).collect();
        // The simulated venue's orders set off (the order latency); the
        // exchange venue's trade now, after the journal has them.
        let (arrivals, now_at_venue) = match self.venue {
            VenueModel::Simulated => (self.router.send(sent, &self.market, now), None),
            VenueModel::Exchange | VenueModel::Live => (Vec::new(), Some(sent)),
        };
        if let Some(as_sent) = as_sent {
            let log = self.order_log(strategy, now);
            for (n, (command, said)) in as_sent.iter().zip(approved_verdicts).enumerate() {
                log.approved(command, said, hosts[n], arrivals.get(n).copied());
            }
        }
        match now_at_venue {
            Some(sent) if self.venue == VenueModel::Live => self.submit_live(sent),
            Some(sent) => self.execute(sent),
            None => {}
        }
    }

    /// The journal's order records of `owner`'s commands (a strategy's, or
    /// a client's past the strategies).
    fn order_log(&self, owner: usize, now: u64) -> OrderLog<'_> {
        let sender = match self.slots.strategies.get(owner) {
            Some(strategy) => Sender::Strategy(strategy.plugin()),
            None => Sender::Client(
                self.router.sender(owner).1.unwrap_or_default(),
                self.counts.batches,
            ),
        };
        OrderLog {
            journal: &self.journal,
            sender,
            market: &self.market,
            now,
        }
    }
}

#[path = "session_validate.rs"]
mod validate;
#[path = "session_venue.rs"]
mod venue;

#[path = "session_gateway.rs"]
pub(crate) mod gateway;

#[path = "session_live.rs"]
pub(crate) mod live;
#[path = "reconcile.rs"]
pub(crate) mod reconcile;
#[path = "session_startup.rs"]
mod startup;
