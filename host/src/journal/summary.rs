//! What a journal adds up to: the report's order counts, per strategy and
//! in total, from the records alone (`tradsys journal summary`).
//!
//! Equal to the session's report for everything the journal holds: orders
//! submitted, approved and rejected, refusals by who and why, the matcher's
//! refusals, fills (maker and taker), the mean queue wait, the passive fill
//! ratio, the share of reachable volume not taken (from the end record's
//! fills audit), fees, realized PnL and positions. Not the unrealized PnL:
//! the journal has no market data to mark positions with.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::journal::decimal::{decimal, parse};
use crate::journal::entry::{Entry, OrderEntry, Record, ReportEntry};
use crate::journal::read::Reader;
use crate::journal::states::{Halt, Stop, SwapOutcome};
use crate::policy::PluginKind;

/// A journal's totals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// The files read.
    pub files: Vec<PathBuf>,
    /// Records read.
    pub records: u64,
    /// BLAKE3 over the records' lines, hex (the report's `journal.digest`).
    pub digest: String,
    /// Whether the session's end is recorded (else it was cut off).
    pub complete: bool,
    /// What the reader ignored (a cut last line).
    pub warnings: Vec<String>,
    /// Market events of the session (from its end record).
    pub events: Option<u64>,
    /// Why the session stopped early, if it did.
    pub stopped: Option<Stop>,
    /// Why trading halted, if it did.
    pub halted: Option<Halt>,
    /// Order counts, as the report's `orders`.
    pub orders: Orders,
    /// Fills of strategy orders.
    pub fills: u64,
    /// Per strategy, in the session's order.
    pub strategies: Vec<StrategySummary>,
    /// Faults by plugin and kind.
    pub faults: BTreeMap<String, BTreeMap<String, u64>>,
    /// Quarantined plugins and why.
    pub quarantined: BTreeMap<String, String>,
    /// Swaps made.
    pub swaps: u64,
    /// Swap requests refused.
    pub swaps_refused: u64,
    /// The quantity of each approved GTC limit order, by host id.
    #[serde(skip)]
    resting: BTreeMap<u64, i128>,
}

/// Order command counts (the report's `orders` too).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Orders {
    /// Commands sent by strategies (submits, cancels, modifies).
    pub submitted: u64,
    /// Commands approved by every validator and sent to the matcher.
    pub approved: u64,
    /// Commands refused by the host or a validator.
    pub rejected: u64,
    /// Refusals by who refused and why (a command refused by two validators counts for both).
    pub rejections: Vec<RejectionCount>,
    /// Approved orders the matcher refused (for example fill-or-kill unfilled), by reason.
    pub venue_rejections: BTreeMap<String, u64>,
}

/// Refusals by one party for one reason.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RejectionCount {
    /// `host` or the validator's name.
    pub by: String,
    /// The reject reason.
    pub reason: String,
    /// How many.
    pub count: u64,
}

/// A net position (the report's too).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PositionReport {
    /// Instrument symbol.
    pub instrument: String,
    /// Signed quantity, decimal.
    pub quantity: String,
    /// Average entry price, decimal.
    pub average_price: String,
}

/// One strategy's totals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StrategySummary {
    /// The strategy.
    pub name: String,
    /// Commands sent.
    pub submitted: u64,
    /// Commands approved.
    pub approved: u64,
    /// Commands refused.
    pub rejected: u64,
    /// Fills.
    pub fills: u64,
    /// Of those, of resting orders.
    pub maker_fills: u64,
    /// Of those, of orders that took liquidity.
    pub taker_fills: u64,
    /// Mean market time from acceptance to a maker fill, ms.
    pub avg_queue_wait_ms: Option<f64>,
    /// Of the quantity its GTC limit orders offered to rest, the share
    /// filled as maker (the report's).
    pub passive_fill_ratio: Option<f64>,
    /// Of the maker volume that reached its orders by the exchange's rules,
    /// the share not taken (the end record's fills audit).
    pub reachable_not_taken: Option<f64>,
    /// Fees, net of rebates, decimal (two places, as the report).
    pub fees: String,
    /// Realized PnL, decimal (two places).
    pub realized_pnl: String,
    /// Open positions, by instrument symbol.
    pub positions: Vec<PositionReport>,
    #[serde(skip)]
    tally: Tally,
}

#[derive(Debug, Clone, Default)]
struct Tally {
    queue_wait_ns: u128,
    /// GTC limit quantity accepted, less what those orders took.
    rested: i128,
    /// Quantity filled as maker.
    maker: i128,
    fees: i128,
    realized: i128,
    /// Symbol → (quantity, average price).
    positions: BTreeMap<String, (i128, i128)>,
}

impl Summary {
    /// Read the journal at `path` (and its numbered files) and add it up.
    /// The error names the file and line that is not a record.
    pub fn read(path: &std::path::Path) -> Result<Self, String> {
        let mut reader = Reader::open(path)?;
        let mut summary = Self::of(reader.by_ref())?;
        summary.files = reader.files().to_vec();
        summary.digest = reader.digest();
        summary.warnings = reader.warnings().to_vec();
        Ok(summary)
    }

    /// Add up `records`.
    pub fn of(records: impl IntoIterator<Item = Result<Record, String>>) -> Result<Self, String> {
        let mut summary = Self::default();
        let mut rejections: BTreeMap<(String, String), u64> = BTreeMap::new();
        for record in records {
            let record = record?;
            summary.records += 1;
            match record.entry {
                Entry::Session(s) => {
                    summary.strategies = s
                        .plugins
                        .iter()
                        .filter(|p| p.kind == PluginKind::Strategy)
                        .map(|p| StrategySummary {
                            name: p.name.clone(),
                            ..StrategySummary::default()
                        })
                        .collect();
                }
                Entry::Order(o) => summary.order(&o, &mut rejections),
                Entry::Report(r) => summary.report(&r)?,
                Entry::Fault(f) => {
                    *summary
                        .faults
                        .entry(f.plugin)
                        .or_default()
                        .entry(f.fault)
                        .or_default() += 1;
                }
                Entry::Quarantine(q) => {
                    summary.quarantined.insert(q.plugin, q.reason);
                }
                Entry::Halt(h) => summary.halted = Some(h.reason),
                Entry::Swap(s) if s.outcome == SwapOutcome::Swapped => summary.swaps += 1,
                Entry::Swap(_) => summary.swaps_refused += 1,
                Entry::Shadow(_) | Entry::Membership(_) | Entry::Wire(_) | Entry::Reconcile(_) => {}
                Entry::End(e) => {
                    summary.complete = true;
                    summary.events = Some(e.events);
                    summary.stopped = e.stopped;
                    if let Some(audit) = e.fills_audit {
                        for s in &mut summary.strategies {
                            let share = audit.get(&s.name).map_or(0.0, |a| a.reachable_not_taken);
                            s.reachable_not_taken = Some(share);
                        }
                    }
                }
            }
        }
        summary.orders.rejections = rejections
            .into_iter()
            .map(|((by, reason), count)| RejectionCount { by, reason, count })
            .collect();
        for s in &mut summary.strategies {
            let t = &s.tally;
            s.avg_queue_wait_ms =
                (s.maker_fills > 0).then(|| t.queue_wait_ns as f64 / s.maker_fills as f64 / 1e6);
            s.passive_fill_ratio = (t.rested > 0).then(|| t.maker as f64 / t.rested as f64);
            s.fees = decimal(t.fees, 2);
            s.realized_pnl = decimal(t.realized, 2);
            s.positions = t
                .positions
                .iter()
                .filter(|(_, (q, _))| *q != 0)
                .map(|(symbol, (q, p))| PositionReport {
                    instrument: symbol.clone(),
                    quantity: decimal(*q, 0),
                    average_price: decimal(*p, 4),
                })
                .collect();
        }
        Ok(summary)
    }

    fn strategy(&mut self, name: &str) -> &mut StrategySummary {
        if let Some(i) = self.strategies.iter().position(|s| s.name == name) {
            return &mut self.strategies[i];
        }
        self.strategies.push(StrategySummary {
            name: name.to_string(),
            ..StrategySummary::default()
        });
        self.strategies.last_mut().expect("just pushed")
    }

    fn order(&mut self, o: &OrderEntry, rejections: &mut BTreeMap<(String, String), u64>) {
        self.orders.submitted += 1;
        let approved = o.approved;
        let gtc_limit = o.action == "submit"
            && o.order_type.as_deref() == Some("limit")
            && o.tif.as_deref() == Some("gtc");
        if let (true, Some(host), Some(quantity)) = (approved && gtc_limit, o.host_id, &o.quantity)
            && let Ok(quantity) = parse(quantity)
        {
            self.resting.insert(host, quantity);
        }
        let s = self.strategy(&o.strategy);
        s.submitted += 1;
        if approved {
            s.approved += 1;
            self.orders.approved += 1;
        } else {
            s.rejected += 1;
            self.orders.rejected += 1;
        }
        let mut count = |by: &str, reason: &str| {
            *rejections
                .entry((by.to_string(), reason.to_string()))
                .or_default() += 1;
        };
        match (&o.rejection, o.verdicts.is_empty()) {
            (Some(r), true) => count(&r.by, &r.reason),
            _ => {
                for v in o.verdicts.iter().filter(|v| v.verdict != "approve") {
                    count(&v.validator, v.reason.as_deref().unwrap_or("other"));
                }
            }
        }
    }

    fn report(&mut self, r: &ReportEntry) -> Result<(), String> {
        let amount = |field: &Option<String>, name: &str| -> Result<i128, String> {
            let text = field
                .as_deref()
                .ok_or_else(|| format!("a fill without its {name}"))?;
            parse(text)
        };
        let rests = self.resting.get(&r.host_id).copied();
        match r.event.as_str() {
            "accepted" => {
                if let Some(quantity) = rests {
                    self.strategy(&r.strategy).tally.rested += quantity;
                }
            }
            "rejected" => {
                let reason = r.reason.clone().unwrap_or_else(|| "other".to_string());
                *self.orders.venue_rejections.entry(reason).or_default() += 1;
            }
            "filled" => {
                let fee = r.fee.as_ref().map_or(Ok(0), |f| parse(f))?;
                let realized = amount(&r.realized_pnl, "realized_pnl")?;
                let position = amount(&r.position, "position")?;
                let average = amount(&r.average_price, "average_price")?;
                let quantity = amount(&r.quantity, "quantity")?;
                self.fills += 1;
                let s = self.strategy(&r.strategy);
                s.fills += 1;
                if r.maker == Some(true) {
                    s.maker_fills += 1;
                    s.tally.queue_wait_ns += u128::from(r.queue_wait_ns.unwrap_or(0));
                    s.tally.maker += quantity;
                } else {
                    s.taker_fills += 1;
                    if rests.is_some() {
                        s.tally.rested -= quantity;
                    }
                }
                s.tally.fees += fee;
                s.tally.realized = realized;
                s.tally
                    .positions
                    .insert(r.instrument.clone(), (position, average));
            }
            _ => {}
        }
        Ok(())
    }

    /// The summary as plain text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let files = if self.files.len() == 1 {
            "1 file".to_string()
        } else {
            format!("{} files", self.files.len())
        };
        let state = if self.complete {
            "complete".to_string()
        } else {
            "INCOMPLETE: the session's end is not recorded".to_string()
        };
        let first = self.files.first().map(|f| f.display().to_string());
        let _ = writeln!(
            out,
            "journal {}: {files}, {} records, {state}",
            first.unwrap_or_default(),
            self.records
        );
        for w in &self.warnings {
            let _ = writeln!(out, "warning: {w}");
        }
        let _ = writeln!(out, "digest {}", self.digest);
        if let Some(events) = self.events {
            let _ = writeln!(out, "session: {events} events");
        }
        if let Some(why) = &self.stopped {
            let _ = writeln!(out, "stopped early: {why}");
        }
        if let Some(why) = &self.halted {
            let _ = writeln!(out, "HALTED: {why}");
        }
        let o = &self.orders;
        let _ = writeln!(
            out,
            "orders: {} submitted, {} approved, {} rejected; {} fills",
            o.submitted, o.approved, o.rejected, self.fills
        );
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
            "\nstrategy            orders approved rejected  fills  maker  taker  queue ms  passive  not taken   realized     fees  positions"
        );
        let percent =
            |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{:.1}%", 100.0 * v));
        for s in &self.strategies {
            let positions: Vec<String> = s
                .positions
                .iter()
                .map(|p| format!("{} {} @ {}", p.instrument, p.quantity, p.average_price))
                .collect();
            let _ = writeln!(
                out,
                "{:<18} {:>7} {:>8} {:>8} {:>6} {:>6} {:>6} {:>9} {:>8} {:>10} {:>10} {:>8}  {}",
                s.name,
                s.submitted,
                s.approved,
                s.rejected,
                s.fills,
                s.maker_fills,
                s.taker_fills,
                s.avg_queue_wait_ms
                    .map_or_else(|| "-".to_string(), |ms| format!("{ms:.1}")),
                percent(s.passive_fill_ratio),
                percent(s.reachable_not_taken),
                s.realized_pnl,
                s.fees,
                if positions.is_empty() {
                    "flat".to_string()
                } else {
                    positions.join(", ")
                }
            );
        }
        if self.swaps + self.swaps_refused > 0 {
            let _ = writeln!(
                out,
                "\nswaps: {} made, {} refused",
                self.swaps, self.swaps_refused
            );
        }
        for (plugin, faults) in &self.faults {
            let faults: Vec<String> = faults.iter().map(|(k, n)| format!("{k} {n}")).collect();
            let _ = writeln!(out, "faults of {plugin}: {}", faults.join(", "));
        }
        for (plugin, why) in &self.quarantined {
            let _ = writeln!(out, "quarantined {plugin}: {why}");
        }
        out
    }
}
