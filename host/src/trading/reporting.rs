//! What a session shows of itself: its [`Report`] so far, and the
//! snapshots it publishes for the dashboard and the metrics (with the curve
//! of each strategy's PnL and position, and the alerts), built from the
//! session's parts. (Kept apart from `session.rs` and `report.rs` so the
//! report's types do not depend on the session.)

use std::time::Instant;

use crate::engine::CacheOutcome;
use crate::journal::decimal::{SCALE, decimal};
use crate::journal::summary::{Orders, PositionReport, RejectionCount};
use crate::live::Presence;
use crate::loading::Readiness;
use crate::policy::Pressure;
use crate::sandbox::{CallStats, KindBindings, PluginInstance};
use crate::trading::accounts::{Account, HOST};
use crate::trading::books::book_reports;
use crate::trading::report::{
    AllRefused, CallTiming, LimitsReport, LoadReport, LoadSource, LogReport, MemoryReport,
    PluginMemory, PluginReport, Report, SessionTiming, StrategyReport, TrustReport,
};
use crate::trading::session::Session;
use crate::trading::telemetry::{Curve, CurvePoint, PUBLISH_EVERY, Snapshot, Telemetry};

impl Session {
    /// The report of the session so far.
    pub fn report(&self) -> Report {
        Report::new(self)
    }
}

impl Report {
    /// Summarise a session.
    fn new(session: &Session) -> Self {
        let counts = &session.counts;
        let orders = &session.router.counts;
        let control = session.control.handle();
        let policy = &control.env().policy;
        let market = &session.market;
        let symbol = |id: u32| {
            market
                .definition(id)
                .map_or_else(|| id.to_string(), |d| d.symbol.clone())
        };
        let fills_audit = session.fills_audit();
        let strategies = session
            .slots
            .strategies
            .iter()
            .zip(&session.router.accounts)
            .map(|(instance, s)| {
                let realized = s.ledger.realized_pnl();
                let unrealized = s.ledger.unrealized_pnl(|id| market.last_price(id));
                StrategyReport {
                    name: instance.plugin().name().to_string(),
                    submitted: s.counts.submitted,
                    approved: s.counts.approved,
                    rejected: s.counts.rejected,
                    fills: s.ledger.fills(),
                    maker_fills: s.counts.maker_fills,
                    taker_fills: s.counts.taker_fills,
                    avg_queue_wait_ms: (s.counts.maker_fills > 0)
                        .then(|| s.counts.queue_wait_ns as f64 / s.counts.maker_fills as f64 / 1e6),
                    passive_fill_ratio: (s.counts.rested_quantity > 0)
                        .then(|| s.counts.maker_quantity as f64 / s.counts.rested_quantity as f64),
                    reachable_not_taken: fills_audit.as_ref().map(|a| {
                        a.get(instance.plugin().name())
                            .map_or(0.0, |a| a.reachable_not_taken)
                    }),
                    fees: decimal(s.ledger.fees(), 2),
                    realized_pnl: decimal(realized, 2),
                    unrealized_pnl: decimal(unrealized, 2),
                    pnl: decimal(realized + unrealized, 2),
                    positions: open_positions(&s.ledger, symbol),
                    all_refused: all_refused(s),
                }
            })
            .collect();
        let slots = &session.slots;
        let mut plugins = vec![plugin_report(&slots.connector)];
        plugins.extend(slots.matcher.as_ref().map(plugin_report));
        let roster = &session.roster;
        let present = |presence: &[Presence], i: usize| presence.get(i).copied();
        let with = |mut report: PluginReport, presence: Option<Presence>| {
            report.presence = presence.unwrap_or(Presence::Active);
            report
        };
        plugins.extend(
            slots
                .strategies
                .iter()
                .enumerate()
                .map(|(i, s)| with(plugin_report(s), present(&roster.strategies, i))),
        );
        plugins.extend(
            slots
                .validators
                .iter()
                .enumerate()
                .map(|(i, v)| with(plugin_report(v), present(&roster.validators, i))),
        );
        plugins.extend(
            slots
                .processors
                .iter()
                .enumerate()
                .map(|(i, p)| with(plugin_report(p), present(&roster.processors, i))),
        );
        let elapsed = session.elapsed.as_secs_f64();
        let (swaps_dropped, shadows_dropped) = control.dropped_from_logs();
        Self {
            seed: session.settings().seed,
            events: counts.events,
            batches: counts.batches,
            orders: Orders {
                submitted: orders.submitted,
                approved: orders.approved,
                rejected: orders.rejected,
                rejections: orders
                    .rejections
                    .iter()
                    .map(|((by, reason), count)| RejectionCount {
                        by: by.clone(),
                        reason: reason.to_string(),
                        count: *count,
                    })
                    .collect(),
                venue_rejections: orders
                    .venue_rejections
                    .iter()
                    .map(|(r, n)| (r.to_string(), *n))
                    .collect(),
            },
            fills: orders.fills,
            strategies,
            plugins,
            processors: session.processor_reports().to_vec(),
            books: book_reports(market),
            venue: session.venue(),
            rejected_files: session.rejected_files.clone(),
            unused_plugins: session.unused.clone(),
            swaps: control.swap_log(),
            swaps_dropped,
            shadows: control.shadow_log(),
            shadows_dropped,
            membership: control.membership_log(),
            config_changes: control.config_log(),
            trust: TrustReport {
                mode: policy.mode(),
                keys: policy
                    .trusted_keys()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            },
            journal: session.journal_report.clone(),
            stopped: counts.stopped.clone(),
            halted: orders.halted.clone(),
            fills_audit,
            connector_restarts: counts.connector_restarts,
            live: session.live.as_ref().map(|l| l.figures()),
            gateway: session.gateway_report(),
            connector_dropped: market
                .dropped()
                .iter()
                .map(|(rule, n)| (rule.to_string(), *n))
                .collect(),
            memory: MemoryReport {
                budget_bytes: session.runtime().memory_budget().budget_bytes,
                peak_bytes: counts.peak_memory,
                peak_pressure: counts.peak_pressure.unwrap_or(Pressure::Low),
                evictions: counts.evictions,
                host_peak_rss_bytes: peak_rss(),
            },
            timing: SessionTiming {
                elapsed_ms: elapsed * 1e3,
                events_per_second: if elapsed > 0.0 {
                    counts.events as f64 / elapsed
                } else {
                    0.0
                },
                journal_wait_ms: session.journal_wait.as_secs_f64() * 1e3,
                feed_ms: session.feed_time().as_secs_f64() * 1e3,
                startup: session.startup,
            },
        }
    }
}

impl Session {
    /// The latest snapshot of this session's telemetry, as the dashboard and
    /// the metrics read it.
    pub fn telemetry(&self) -> Telemetry {
        self.publisher.telemetry()
    }

    /// The curve so far (for the HTML report).
    pub fn curve(&self) -> &Curve {
        &self.publisher.curve
    }

    /// Whether a snapshot is due: the last one is older than
    /// [`PUBLISH_EVERY`].
    pub(crate) fn publish_due(&self) -> bool {
        self.publisher
            .last
            .is_none_or(|(at, _)| at.elapsed() >= PUBLISH_EVERY)
    }

    /// After a batch: sample the curve, and publish a snapshot when `due`
    /// (as [`Self::publish_due`] said) or `last`, at the end.
    pub(crate) fn publish(&mut self, last: bool, due: bool) {
        let batch = self.counts.batches;
        let now = Instant::now();
        let started = *self.publisher.started.get_or_insert(now);
        let mut curve = std::mem::take(&mut self.publisher.curve);
        if curve.strategies.len() < self.slots.strategies.len() {
            // A strategy joined: before it did, it had no PnL and no position.
            curve.strategies = self
                .slots
                .strategies
                .iter()
                .map(|s| s.plugin().name().to_string())
                .collect();
            let n = curve.strategies.len();
            for point in &mut curve.points {
                point.pnl.resize(n, 0.0);
                point.position.resize(n, 0.0);
            }
        }
        curve.sample(batch, || self.curve_point());
        self.publisher.curve = curve;
        if !(due || last) {
            return;
        }
        self.refresh_venue_books();
        let mut report = self.report();
        if !last {
            report.timing.elapsed_ms = now.duration_since(started).as_secs_f64() * 1e3;
        }
        let memory_in_use = self.runtime().memory_in_use();
        let pressure = self.runtime().memory_budget().pressure(memory_in_use);
        let events = self.counts.events;
        let events_per_second = match self.publisher.last {
            Some((at, before)) if now > at => {
                (events - before) as f64 / now.duration_since(at).as_secs_f64()
            }
            _ => 0.0,
        };
        let market_ts = self.runtime().clock().now();
        // The highest pressure since the last snapshot: eviction may have
        // brought it down since.
        let seen = self.counts.recent_pressure.take().max(Some(pressure));
        let seen = seen.unwrap_or(pressure);
        self.publisher.alerts.observe(&report, seen, market_ts);
        let snapshot = Snapshot {
            sequence: self.publisher.sequence,
            running: !last,
            started: true,
            uptime_ms: now.duration_since(started).as_millis() as u64,
            events_per_second,
            memory_in_use,
            pressure: Some(pressure),
            curve: self.publisher.curve.clone(),
            timeline: self.publisher.alerts.timeline(),
            tally: self.publisher.alerts.tally().clone(),
            report: Some(report),
        };
        self.publisher.sequence += 1;
        self.publisher.last = Some((now, events));
        self.publisher.telemetry.publish(snapshot);
    }

    fn curve_point(&self) -> CurvePoint {
        let market = &self.market;
        let (pnl, position) = self
            .router
            .accounts
            .iter()
            .map(|account| {
                let ledger = &account.ledger;
                let pnl = ledger.realized_pnl() + ledger.unrealized_pnl(|id| market.last_price(id));
                let position: i128 = ledger.holdings().map(|(_, h)| i128::from(h.quantity)).sum();
                let scale = SCALE as f64;
                (pnl as f64 / scale, position as f64 / scale)
            })
            .unzip();
        CurvePoint {
            ts: self.runtime().clock().now(),
            events: self.counts.events,
            pnl,
            position,
        }
    }
}

/// The validator that refused every command of a strategy none of whose
/// commands was approved.
fn all_refused(account: &Account) -> Option<AllRefused> {
    let counts = &account.counts;
    if counts.submitted == 0 || counts.approved > 0 {
        return None;
    }
    // A validator, whose config holds the limit (the host's own refusals,
    // a halt or an unknown order, have no config to change).
    let (by, refused) = account
        .refused_by
        .iter()
        .find(|(by, r)| by.as_str() != HOST && r.count >= counts.submitted)?;
    Some(AllRefused {
        by: by.clone(),
        orders: refused.count,
        reason: refused.reason.to_string(),
        message: refused.message.clone(),
    })
}

pub(crate) fn plugin_report<B: KindBindings>(instance: &PluginInstance<B>) -> PluginReport {
    let plugin = instance.plugin();
    let stats: &CallStats = instance.stats();
    PluginReport {
        name: plugin.name().to_string(),
        version: plugin.version().to_string(),
        signers: plugin.signers().iter().map(ToString::to_string).collect(),
        kind: plugin.kind(),
        file: plugin.path().to_path_buf(),
        calls: stats.calls,
        presence: Presence::Active,
        fuel_used: stats.fuel_used,
        texts_cut: stats.texts_cut,
        instantiations: stats.instantiations,
        state: instance.state(),
        failure: instance.failure(),
        faults: stats.faults.clone(),
        quarantined: instance.quarantined().map(str::to_string),
        load: {
            let (source, reason, ms, order) = match plugin.readiness() {
                Readiness::Compiled(info) => {
                    let (source, reason) = match &info.cache {
                        Some(CacheOutcome::Hit) => (LoadSource::CacheHit, None),
                        Some(CacheOutcome::Miss) => (LoadSource::Compiled, None),
                        Some(CacheOutcome::Replaced(reason)) => {
                            (LoadSource::Recompiled, Some(reason.clone()))
                        }
                        None => (LoadSource::CompiledUncached, None),
                    };
                    let ms = info.duration.as_secs_f64() * 1e3;
                    (source, reason, ms, Some(info.order))
                }
                Readiness::Discovered | Readiness::Failed(_) => {
                    (LoadSource::NotLoaded, None, 0.0, None)
                }
            };
            LoadReport {
                source,
                reason,
                ms,
                order,
                instantiate_ms: stats.instantiate_time.as_secs_f64() * 1e3,
            }
        },
        memory: PluginMemory {
            bytes: instance.memory_bytes(),
            evictions: stats.evictions,
        },
        limits: {
            let l = plugin.grants().limits;
            LimitsReport {
                fuel_per_call: l.fuel_per_call,
                deadline_ms: l.deadline_ms,
                memory_bytes: l.memory_bytes,
                max_output: l.max_output,
            }
        },
        timing: CallTiming {
            mean_ns: stats.latency.mean_ns(),
            p50_ns: stats.latency.quantile_ns(0.5),
            p99_ns: stats.latency.quantile_ns(0.99),
            p999_ns: stats.latency.quantile_ns(0.999),
            timed: stats.latency.count(),
            buckets: stats.latency.buckets(),
        },
        logs: LogReport {
            dropped: instance.logs().dropped(),
            cut: instance.logs().cut(),
        },
    }
}

/// The host process's peak resident memory (`VmHWM`), on Linux.
pub(crate) fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The open positions of `ledger`, instruments named by `symbol`.
pub(crate) fn open_positions(
    ledger: &crate::trading::ledger::Ledger,
    symbol: impl Fn(u32) -> String,
) -> Vec<PositionReport> {
    ledger
        .holdings()
        .filter(|(_, h)| h.quantity != 0)
        .map(|(id, h)| PositionReport {
            instrument: symbol(id),
            quantity: decimal(i128::from(h.quantity), 0),
            average_price: decimal(i128::from(h.average_price), 4),
        })
        .collect()
}
