//! The session report: a printed table and the same as JSON.
//!
//! Everything but the `timing`, `load` and `memory` objects is a function of
//! the plugins, the config and the seed, so two runs with one seed give equal
//! reports once those are removed (as long as no instance is evicted: an
//! eviction adds an instantiation and an `init` call, never a result).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::VenueModel;
use crate::journal::summary::{Orders, PositionReport};
use crate::journal::{Halt, JournalReport, Stop, StrategyAudit};
use crate::live::{ConfigChange, MembershipRecord, Presence, ShadowReport, SwapRecord};
use crate::loading::{RejectedFile, TrustMode};
use crate::policy::{PluginKind, Pressure};
use crate::sandbox::LifeState;
use crate::trading::books::{BookReport, render_books};
use crate::trading::processing::{ProcessorReport, render_processors};
pub use crate::trading::report_gateway::{ClientReport, GatewayReport};
pub use crate::trading::report_live::{ConnectionReport, Percentiles};

/// What a session did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Seed handed to the connector.
    pub seed: u64,
    /// Market events processed.
    pub events: u64,
    /// Market batches processed.
    pub batches: u64,
    /// Order command counts.
    pub orders: Orders,
    /// Fills of strategy orders.
    pub fills: u64,
    /// Per strategy: orders, fills, PnL, positions.
    pub strategies: Vec<StrategyReport>,
    /// Per plugin: calls, faults, latency.
    pub plugins: Vec<PluginReport>,
    /// Per processor, in the order they ran: what it derived, the batches
    /// its faults cost.
    pub processors: Vec<ProcessorReport>,
    /// Where strategy orders traded: `simulated` or `exchange`.
    pub venue: VenueModel,
    /// The feed's books at the end, by instrument symbol.
    pub books: BTreeMap<String, BookReport>,
    /// Plugin files refused at load, with reasons.
    pub rejected_files: Vec<RejectedFile>,
    /// Installed plugins this session did not use (`name@version`).
    pub unused_plugins: Vec<String>,
    /// Versions swapped in while running, and updates that were refused
    /// (the last 1,000).
    pub swaps: Vec<SwapRecord>,
    /// Swap records dropped before those.
    pub swaps_dropped: u64,
    /// Candidates run in shadow, and where their outputs differed (the last 200).
    pub shadows: Vec<ShadowReport>,
    /// Shadow runs dropped before those.
    pub shadows_dropped: u64,
    /// Plugins that joined, left, were disabled, enabled or removed while
    /// the session ran (the last 1,000).
    pub membership: Vec<MembershipRecord>,
    /// Configuration changes while running, with old and new values,
    /// applied or refused (the last 1,000).
    pub config_changes: Vec<ConfigChange>,
    /// How plugins were trusted.
    pub trust: TrustReport,
    /// The order journal, when one was written (`--journal`): its files,
    /// records, bytes, digest, and why it is incomplete if it is.
    pub journal: Option<JournalReport>,
    /// Why the session ended early, if it did.
    pub stopped: Option<Stop>,
    /// Why trading halted (the matcher failed), if it did.
    pub halted: Option<Halt>,
    /// Per strategy: its fills judged by the exchange's rules beside the
    /// session (`tradsys-audit`; simulated venue over a feed by order):
    /// maker and taker fills and how many were right, the maker volume that
    /// reached its orders and the share not taken.
    pub fills_audit: Option<BTreeMap<String, StrategyAudit>>,
    /// Times the connector was restarted after a fault.
    pub connector_restarts: u32,
    /// A network connector's connection (live and paper trading): connections,
    /// bytes, venue reports the host refused, and how it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<ConnectionReport>,
    /// The host as a venue (`[gateway]`): its connections and accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<GatewayReport>,
    /// Connector events the host dropped, by the rule they broke
    /// (`unknown-instrument`, `bad-definition`, `multiplier-changed`,
    /// `too-many-instruments`, `signal-from-connector`).
    pub connector_dropped: BTreeMap<String, u64>,
    /// Memory of the plugin instances (varies with timing when instances idle).
    pub memory: MemoryReport,
    /// Wall-clock figures (vary run to run).
    pub timing: SessionTiming,
}

/// Memory of the plugin instances over the session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemoryReport {
    /// The budget, bytes.
    pub budget_bytes: u64,
    /// Most linear memory held at once, bytes.
    pub peak_bytes: u64,
    /// Highest pressure reached.
    pub peak_pressure: Pressure,
    /// Instances evicted.
    pub evictions: u64,
    /// Peak resident memory of the whole host process, bytes (Linux only).
    pub host_peak_rss_bytes: Option<u64>,
}

/// How plugins were trusted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrustReport {
    /// `verified`, or `unsigned-allowed` in development mode.
    pub mode: TrustMode,
    /// Ids of the trusted keys.
    pub keys: Vec<String>,
}

/// One strategy's results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StrategyReport {
    /// Plugin name.
    pub name: String,
    /// Commands sent.
    pub submitted: u64,
    /// Commands approved.
    pub approved: u64,
    /// Commands refused.
    pub rejected: u64,
    /// Fills booked.
    pub fills: u64,
    /// Of those, fills of its resting orders.
    pub maker_fills: u64,
    /// Of those, fills of orders that took liquidity.
    pub taker_fills: u64,
    /// Mean market time from acceptance to a maker fill, ms (none without one).
    pub avg_queue_wait_ms: Option<f64>,
    /// Of the quantity its GTC limit orders offered to rest (their quantity
    /// less what they took on arrival), the share filled as maker (none
    /// without such orders).
    pub passive_fill_ratio: Option<f64>,
    /// Of the maker volume the market brought to its orders by the
    /// exchange's rules, the share they did not get: zero when the venue is
    /// right (simulated venue over a feed by order; see `fills_audit`).
    pub reachable_not_taken: Option<f64>,
    /// Fees paid, net of rebates, decimal (in the realized PnL).
    pub fees: String,
    /// Realized PnL, decimal.
    pub realized_pnl: String,
    /// Open positions marked at last prices, decimal.
    pub unrealized_pnl: String,
    /// Realized plus unrealized, decimal.
    pub pnl: String,
    /// Net positions by instrument symbol.
    pub positions: Vec<PositionReport>,
    /// When no command of it was approved: the validator that refused every
    /// one, and what it said of the first.
    pub all_refused: Option<AllRefused>,
}

/// Every command of a strategy refused by one validator.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AllRefused {
    /// Who refused them.
    pub by: String,
    /// How many.
    pub orders: u64,
    /// The reason of the first.
    pub reason: String,
    /// What it said of the first: its limit and the order's value, for the
    /// example validators also the config key.
    pub message: Option<String>,
}

/// One plugin's calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PluginReport {
    /// Plugin name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Keys whose signatures verified; empty when run unsigned (development mode).
    pub signers: Vec<String>,
    /// Its kind.
    pub kind: PluginKind,
    /// The file it came from.
    pub file: PathBuf,
    /// Calls made, `init` included.
    pub calls: u64,
    /// Fuel its data-path calls burnt (fuel is deterministic, unlike time).
    pub fuel_used: u64,
    /// Texts of its output cut to their bound (rejection messages over 256
    /// bytes, reasons over 1 KiB).
    pub texts_cut: u64,
    /// Instances created.
    pub instantiations: u64,
    /// Whether the session still called it at the end: `active`, `left`,
    /// `disabled`, `removal-pending` or `removed`.
    pub presence: Presence,
    /// Where it ended: `discovered` (never used), `compiled`, `live`, `evicted` or `failed`.
    pub state: LifeState,
    /// Why it failed (compile, `init`, or quarantine), if it did.
    pub failure: Option<String>,
    /// Faults by kind.
    pub faults: BTreeMap<String, u64>,
    /// Why the circuit breaker quarantined it, if it did.
    pub quarantined: Option<String>,
    /// Limits granted: fuel per call, deadline, memory, output items.
    pub limits: LimitsReport,
    /// How its component was obtained (varies with the cache's state).
    pub load: LoadReport,
    /// Its instance's memory and evictions.
    pub memory: PluginMemory,
    /// Latencies (vary run to run).
    pub timing: CallTiming,
    /// What its log limits held back (`[logs]`; the rate limit varies with timing).
    pub logs: LogReport,
}

/// What a plugin's log limits held back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogReport {
    /// Lines dropped by the rate limit.
    pub dropped: u64,
    /// Messages cut at the size limit.
    pub cut: u64,
}

/// How a plugin's component was obtained.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadReport {
    /// Where its compiled code came from.
    pub source: LoadSource,
    /// Why a cached artifact was refused.
    pub reason: Option<String>,
    /// Compile or load time, milliseconds.
    pub ms: f64,
    /// 1 for the first plugin made ready, 2 for the next, ... (dependencies
    /// come before their dependents).
    pub order: Option<u64>,
    /// Time spent instantiating (with `init` and state restores), milliseconds.
    pub instantiate_ms: f64,
}

/// Where a plugin's compiled code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadSource {
    /// Loaded from a verified cached artifact.
    CacheHit,
    /// Compiled, and the artifact cached.
    Compiled,
    /// A cached artifact was refused (the report's `reason`); compiled afresh.
    Recompiled,
    /// Compiled without a cache.
    CompiledUncached,
    /// Never compiled in this session.
    NotLoaded,
}

/// One plugin's memory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PluginMemory {
    /// Linear memory of its instance at the end, bytes (0 when none is live).
    pub bytes: u64,
    /// Times its instance was evicted.
    pub evictions: u64,
}

/// Limits granted to one plugin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LimitsReport {
    /// Fuel per call.
    pub fuel_per_call: u64,
    /// Deadline per call, milliseconds.
    pub deadline_ms: u64,
    /// Linear memory, bytes.
    pub memory_bytes: u64,
    /// Items one call may return.
    pub max_output: u32,
}

/// Call latency of one plugin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallTiming {
    /// Mean call latency, ns.
    pub mean_ns: u64,
    /// Median call latency, ns.
    pub p50_ns: u64,
    /// 99th percentile call latency, ns.
    pub p99_ns: u64,
    /// 99.9th percentile call latency, ns.
    pub p999_ns: u64,
    /// Calls timed (the metrics' histogram count; not in the JSON report).
    #[serde(skip)]
    pub timed: u64,
    /// Calls in each bucket by its upper bound, ns, the last (`u64::MAX`)
    /// the slower ones ([`crate::sandbox::latency::Latency::buckets`]; the
    /// metrics' and the HTML report's histogram; not in the JSON report).
    #[serde(skip)]
    pub buckets: Vec<(u64, u64)>,
}

/// Wall-clock figures of the whole session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionTiming {
    /// Session wall time, milliseconds.
    pub elapsed_ms: f64,
    /// Market events per second of wall time.
    pub events_per_second: f64,
    /// Time the data path waited for the journal's writer at batch ends, milliseconds.
    pub journal_wait_ms: f64,
    /// Time the data path spent getting the connector's batches,
    /// milliseconds: on one thread its calls; decoding ahead (`[run]
    /// decode_ahead`), the time it waited for the worker.
    #[serde(default)]
    pub feed_ms: f64,
    /// The selected plugins made ready before the session's clock started
    /// (not counted in `elapsed_ms`).
    #[serde(default)]
    pub startup: StartupReport,
}

/// The plugins a session made ready (compiled, or loaded from the artifact
/// cache) in parallel before its clock started.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct StartupReport {
    /// How many (those not ready already).
    pub plugins: u32,
    /// Of those, loaded from the artifact cache.
    pub from_cache: u32,
    /// Wall time, milliseconds.
    pub elapsed_ms: f64,
    /// Then the connector and the matcher started (their instances made:
    /// the connector opened its data, a replay's first records read to
    /// infer ticks), milliseconds; also before the clock.
    #[serde(default)]
    pub opened_ms: f64,
}

impl Report {
    /// The report as a plain-text table.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let o = &self.orders;
        let _ = writeln!(
            out,
            "session: {} events in {} batches, seed {}, {:.0} ms ({:.0} events/s)",
            self.events,
            self.batches,
            self.seed,
            self.timing.elapsed_ms,
            self.timing.events_per_second
        );
        let startup = &self.timing.startup;
        if startup.plugins > 0 || startup.opened_ms > 0.0 {
            let _ = writeln!(
                out,
                "start-up, before the session's clock: {} plugins made ready in {:.0} ms ({} compiled, {} from the artifact cache); the connector and the matcher started in {:.0} ms",
                startup.plugins,
                startup.elapsed_ms,
                startup.plugins - startup.from_cache,
                startup.from_cache,
                startup.opened_ms
            );
        }
        if self.trust.mode != TrustMode::Verified {
            let _ = writeln!(
                out,
                "WARNING: development mode: unsigned plugins were allowed to run (--allow-unsigned)"
            );
        }
        if let Some(why) = &self.halted {
            let _ = writeln!(
                out,
                "HALTED: {why}; working orders canceled, later orders refused"
            );
        }
        if self.connector_restarts > 0 {
            let _ = writeln!(
                out,
                "connector restarted {} times after faults",
                self.connector_restarts
            );
        }
        if let Some(live) = &self.live {
            live.render(&mut out);
        }
        if let Some(gateway) = &self.gateway {
            gateway.render(&mut out);
        }
        if let Some(why) = &self.stopped {
            let _ = writeln!(out, "stopped early: {why}");
        }
        if let Some(journal) = &self.journal {
            let more = match journal.files.len() {
                1 => String::new(),
                n => format!(" (and {} numbered files)", n - 1),
            };
            let _ = writeln!(
                out,
                "journal: {}{more}, {} records, digest {}",
                journal.files[0].display(),
                journal.records,
                journal.digest
            );
            if let Some(error) = &journal.error {
                let _ = writeln!(out, "JOURNAL INCOMPLETE: {error}");
            }
        }
        for (rule, n) in &self.connector_dropped {
            let _ = writeln!(out, "connector events dropped ({rule}): {n}");
        }
        let _ = writeln!(
            out,
            "orders: {} submitted, {} approved, {} rejected; {} fills ({} venue)",
            o.submitted,
            o.approved,
            o.rejected,
            self.fills,
            match self.venue {
                VenueModel::Simulated => "simulated",
                VenueModel::Exchange => "exchange",
                VenueModel::Live => "live",
            }
        );
        for s in &self.strategies {
            if let Some(a) = &s.all_refused {
                let said = a
                    .message
                    .as_ref()
                    .map(|m| format!(", e.g. \"{m}\""))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  all {} orders of {} refused by {} ({}){said}: change its limit in [plugins.{}] config, or the order size in [plugins.{}] config",
                    a.orders, s.name, a.by, a.reason, a.by, s.name
                );
            }
        }
        let m = &self.memory;
        let _ = writeln!(
            out,
            "plugin memory: peak {} KiB of a {} MiB budget (pressure {:?}), {} evictions{}",
            m.peak_bytes >> 10,
            m.budget_bytes >> 20,
            m.peak_pressure,
            m.evictions,
            m.host_peak_rss_bytes
                .map(|b| format!("; host peak RSS {} MiB", b >> 20))
                .unwrap_or_default()
        );
        if !self.unused_plugins.is_empty() {
            let _ = writeln!(
                out,
                "{} installed plugins not used by this session",
                self.unused_plugins.len()
            );
        }
        for r in &o.rejections {
            let _ = writeln!(
                out,
                "  rejected by {:<16} {:<22} {:>6}",
                r.by, r.reason, r.count
            );
        }
        for (reason, n) in &o.venue_rejections {
            let _ = writeln!(out, "  refused by matcher     {reason:<22} {n:>6}");
        }
        let _ = writeln!(
            out,
            "\nstrategy            orders approved rejected  fills  maker   realized unrealized        pnl     fees  positions"
        );
        for s in &self.strategies {
            let positions: Vec<String> = s
                .positions
                .iter()
                .map(|p| format!("{} {}", p.instrument, p.quantity))
                .collect();
            let _ = writeln!(
                out,
                "{:<18} {:>7} {:>8} {:>8} {:>6} {:>6} {:>10} {:>10} {:>10} {:>8}  {}",
                s.name,
                s.submitted,
                s.approved,
                s.rejected,
                s.fills,
                s.maker_fills,
                s.realized_pnl,
                s.unrealized_pnl,
                s.pnl,
                s.fees,
                if positions.is_empty() {
                    "flat".to_string()
                } else {
                    positions.join(", ")
                }
            );
        }
        self.render_fills(&mut out);
        render_processors(&self.processors, &mut out);
        let _ = writeln!(
            out,
            "\nplugin             version  kind           state        calls  mean µs   p99 µs  load ms  inst µs  KiB  evict  signed by         faults"
        );
        for p in &self.plugins {
            let faults: Vec<String> = p.faults.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let signers = if p.signers.is_empty() {
                "UNSIGNED".to_string()
            } else {
                p.signers.join(",")
            };
            let state = serde_json::to_value(p.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{:<18} {:<8} {:<14} {:<10} {:>7} {:>8.2} {:>8.2} {:>8.2} {:>8.0} {:>4} {:>6}  {:<17} {}",
                p.name,
                p.version,
                p.kind,
                state,
                p.calls,
                p.timing.mean_ns as f64 / 1e3,
                p.timing.p99_ns as f64 / 1e3,
                p.load.ms,
                p.load.instantiate_ms * 1e3,
                p.memory.bytes >> 10,
                p.memory.evictions,
                signers,
                if faults.is_empty() {
                    "-".to_string()
                } else {
                    faults.join(", ")
                }
            );
        }
        render_books(&self.books, &mut out);
        for p in &self.plugins {
            if let Some(reason) = &p.quarantined {
                let _ = writeln!(out, "QUARANTINED {} {}: {reason}", p.name, p.version);
            } else if let Some(reason) = &p.failure {
                let _ = writeln!(out, "FAILED {} {}: {reason}", p.name, p.version);
            }
            if p.logs.dropped + p.logs.cut > 0 {
                let _ = writeln!(
                    out,
                    "log of {}: {} lines dropped by the rate limit, {} messages cut ([logs])",
                    p.name, p.logs.dropped, p.logs.cut
                );
            }
        }
        if !self.swaps.is_empty() {
            let _ = writeln!(out, "\nswaps:");
            for swap in &self.swaps {
                let at = swap
                    .after_event
                    .map_or_else(|| "-".to_string(), |n| format!("after event {n}"));
                let _ = writeln!(
                    out,
                    "  {at:<20} {}: {} ({})",
                    swap.plugins.join(", "),
                    swap.outcome,
                    swap.cause
                );
            }
        }
        if !self.membership.is_empty() {
            let _ = writeln!(out, "\nplugins joining and leaving:");
            for m in &self.membership {
                let canceled = match m.canceled_orders {
                    0 => String::new(),
                    n => format!("; {n} working orders canceled"),
                };
                let at = format!("after event {}", m.after_event);
                let _ = writeln!(
                    out,
                    "  {at:<20} {} {}: {}{canceled}",
                    m.plugin, m.change, m.cause
                );
            }
        }
        if !self.config_changes.is_empty() {
            let _ = writeln!(out, "\nconfiguration changes:");
            for c in &self.config_changes {
                let what: Vec<String> = c
                    .differences
                    .iter()
                    .map(|d| format!("{} {}", d.setting, d.values()))
                    .collect();
                let outcome = match &c.reason {
                    None => "applied".to_string(),
                    Some(why) => format!("REFUSED: {why}"),
                };
                let _ = writeln!(
                    out,
                    "  {} ({}): {}: {outcome}",
                    c.plugin,
                    c.cause,
                    what.join(", ")
                );
            }
        }
        // A plugin whose grant the config withholds is installed, not
        // enabled: a note apart from the files refused for a fault.
        let (notes, refused): (Vec<&RejectedFile>, Vec<&RejectedFile>) = self
            .rejected_files
            .iter()
            .partition(|r| r.reason.starts_with(crate::loading::NOT_GRANTED));
        for (heading, files) in [
            ("installed, not used (a grant it needs is not given)", notes),
            ("refused plugin files", refused),
        ] {
            if files.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{heading}:");
            for r in files {
                let plugin = r
                    .plugin
                    .as_deref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default();
                let _ = writeln!(out, "  {}{plugin}: {}", r.file.display(), r.reason);
            }
        }
        out
    }
}

impl Report {
    /// The simulated venue's fills: queue wait, passive fill ratio, and the
    /// audit beside the session (right fills, reachable volume not taken).
    fn render_fills(&self, out: &mut String) {
        if self.venue != VenueModel::Simulated {
            return;
        }
        let _ = writeln!(
            out,
            "\nstrategy           queue wait ms  passive fill    audit: maker   taker  reachable  not taken"
        );
        let percent =
            |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{:.1}%", 100.0 * v));
        for s in &self.strategies {
            let audit = self.fills_audit.as_ref().and_then(|a| a.get(&s.name));
            let judged = |j: Option<crate::journal::Judged>| {
                j.map_or_else(|| "-".to_string(), |j| format!("{}/{}", j.right, j.fills))
            };
            let _ = writeln!(
                out,
                "{:<18} {:>13} {:>13} {:>15} {:>7} {:>10} {:>10}",
                s.name,
                s.avg_queue_wait_ms
                    .map_or_else(|| "-".to_string(), |ms| format!("{ms:.3}")),
                percent(s.passive_fill_ratio),
                judged(audit.map(|a| a.maker)),
                judged(audit.map(|a| a.taker)),
                audit.map_or_else(|| "-".to_string(), |a| format!("{}", a.reachable)),
                percent(s.reachable_not_taken),
            );
        }
        if self.fills_audit.is_none() {
            let _ = writeln!(
                out,
                "(the fills audit needs a feed by order, and ends with a halt)"
            );
        }
    }
}
