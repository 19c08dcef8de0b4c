//! Volatility: a pre-trade risk validator that stops adding to exposure while an
//! instrument's mid price moves too much.
//!
//! For each instrument the validator keeps the last `window` mid prices it sampled. Its
//! *realised volatility* is the sample standard deviation (divided by n − 1, so a steady
//! trend counts as calm) of the returns between consecutive mids: log returns
//! `ln(m_i / m_{i-1})` by default, or simple returns `m_i / m_{i-1} − 1`
//! (`returns = "simple"`), shown in percent. It is **not annualised** and not scaled to
//! any time unit: it is the typical move between two samples, and samples are at least
//! `sample_ms` apart (see below for why they may be further apart). Refusal messages
//! give the mean gap between the samples used.
//!
//! When the volatility of an order's instrument is above its limit (`max_volatility_pct`,
//! or `max_volatility_pct.SYMBOL` for that instrument):
//!
//! - mode `adds` (the default) refuses an order that adds to exposure: one that would
//!   take the strategy's position in that instrument further from zero. The position
//!   counted is the one the strategy would hold if its working orders on the order's
//!   side (and the orders approved before it in the same batch) filled, so working
//!   orders cannot build up a position one reducing-looking order at a time; an order
//!   that flips the position to a larger one on the other side adds too. Orders that
//!   reduce the position pass, so a strategy can always get out;
//! - mode `all` refuses every new order.
//!
//! Refusals carry `RejectReason::Other` (no reason is closer) and a message with the
//! figures, for example `volatility 0.0712% of SYN-C over 20 mids (mean gap 148 ms)
//! above the limit 0.065%: buy 100 would take the position from 0 to 100 (held 0,
//! working buys 0)`. An instrument with fewer than `min_samples` mids has no volatility
//! yet: its orders are approved.
//!
//! A modify is checked as an order of its side for the quantity it may add: its new
//! total quantity less the order's leaves (the filled quantity is not known, so this is
//! an upper bound). A modify that cannot add (same or smaller quantity, a price change
//! only) passes in both modes, as does a modify of an order that is not working (the
//! matcher refuses it). Cancels are always approved. An order whose quantity is not
//! positive is rejected with `InvalidOrder`.
//!
//! # How it sees the market
//!
//! A validator has no market-data call: it sees the market only when it is asked to
//! validate, through the risk context (last prices, the strategy's positions and
//! working orders) and `host::depth` (the book the host keeps from the feed). So the
//! time series is sampled on demand: at each `validate` call, every instrument of the
//! batch's orders and every instrument with a last price gets a new mid, stamped with
//! `RiskContext::now`, when at least `sample_ms` of host time has passed since its last
//! one. The mid is the middle of the best bid and ask of `host::depth`, else the last
//! price when a side of the book is empty. Because calls come only when strategies
//! trade, gaps between samples can be much longer than `sample_ms` in a quiet session,
//! and the figure then measures moves over those longer gaps; the first orders after a
//! quiet spell are judged on the history before it. Should the clock step back, an
//! instrument's window starts again.
//!
//! The state (the mids: at most `window` per instrument, and at most 256 instruments,
//! those of the batch's orders first) is saved and restored across eviction.
//!
//! # Config keys
//!
//! | key                         | meaning                                                       | default   |
//! |-----------------------------|---------------------------------------------------------------|-----------|
//! | `max_volatility_pct`        | highest volatility that allows adding, percent (decimal, ≥ 0) | `0.065`   |
//! | `max_volatility_pct.SYMBOL` | the limit of one instrument by its symbol                     | the above |
//! | `window`                    | mids kept per instrument, 3 to 1000                           | `20`      |
//! | `min_samples`               | mids needed before the limit applies, 3 to `window`           | `10`      |
//! | `sample_ms`                 | least host time between two mids of an instrument, ms, ≥ 1    | `100`     |
//! | `returns`                   | `log` or `simple` returns                                     | `log`     |
//! | `mode`                      | `adds` (refuse orders that add to exposure) or `all`          | `adds`    |
//!
//! In TOML a key with a dot must be quoted: `"max_volatility_pct.SYN-C" = "0.08"`.
//!
//! In the demo's synthetic market validations come every 150 ms or so, and the
//! volatility between such mids is steady per instrument, set by its tick: about 0.02%
//! for SYN-A (a tick is 1 bp), 0.04 to 0.065% for SYN-B (2 bps) and 0.05 to 0.08% for
//! SYN-C (2.5 bps). With the default 0.065% SYN-A always passes and the orders that
//! would add to SYN-B or SYN-C in their more agitated stretches are refused.

use std::collections::BTreeMap;

use tradsys_sdk::series::{Returns, Sampling, Series, Windows};
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Config, OrderCommand, RejectReason, Rejection, RiskContext, RiskValidator, Side, Verdict, fixed,
};

/// Format version written first by `save_state`.
const STATE_VERSION: u8 = 1;
/// Nanoseconds per millisecond.
const NANOS_PER_MS: u64 = 1_000_000;
/// Largest `window`.
const MAX_WINDOW: usize = 1000;
/// Default for `max_volatility_pct`: 0.065%.
const DEFAULT_MAX_PCT: i64 = 65_000_000;
/// Most instruments whose mids are kept.
const MAX_INSTRUMENTS: usize = 256;

/// Which orders a volatile instrument refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Orders that take the position further from zero.
    Adds,
    /// Every new order.
    All,
}

/// The volatility of one window of mids.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stats {
    /// Standard deviation of the returns, in percent.
    pct: f64,
    /// Mids it was computed from.
    mids: usize,
    /// Mean host time between two of them, in ns.
    mean_gap_ns: u64,
}

/// The volatility of `mids`, once there are at least `min` (and never below three).
fn volatility(mids: &Series, returns: Returns, min: usize) -> Option<Stats> {
    let sigma = mids.std_dev_of_returns(returns, min)?;
    Some(Stats {
        pct: sigma * 100.0,
        mids: mids.len(),
        mean_gap_ns: mids.mean_gap_ns()?,
    })
}

/// An order working on the book (or approved earlier in the batch being validated).
#[derive(Debug, Clone)]
struct Working {
    id: u64,
    instrument: u32,
    side: Side,
    leaves: i64,
}

/// The validator. Config keys (see the crate docs): `max_volatility_pct` (`0.065`) and
/// `max_volatility_pct.SYMBOL`, `window` (`20`), `min_samples` (`10`), `sample_ms`
/// (`100`), `returns` (`log`) and `mode` (`adds`).
#[derive(Debug, Clone, PartialEq)]
pub struct Volatility {
    /// The limit in percent, fixed-point.
    max_volatility_pct: i64,
    /// Limits of single instruments by symbol, fixed-point percent.
    limits: BTreeMap<String, i64>,
    window: usize,
    min_samples: usize,
    /// Least time between two mids, in ns.
    sample_ns: u64,
    returns: Returns,
    mode: Mode,
    /// The mids of each instrument, by id.
    mids: Windows,
}

impl Volatility {
    /// The limit of `instrument` (its symbol's, else the general one), fixed-point.
    fn limit(&self, context: &RiskContext, instrument: u32) -> i64 {
        context
            .instruments
            .iter()
            .find(|d| d.id == instrument)
            .and_then(|d| self.limits.get(&d.symbol))
            .copied()
            .unwrap_or(self.max_volatility_pct)
    }

    /// The start of the refusal's message if `instrument` is above its limit.
    fn too_volatile(&self, context: &RiskContext, instrument: u32) -> Option<String> {
        let stats = volatility(self.mids.get(instrument)?, self.returns, self.min_samples)?;
        let limit = self.limit(context, instrument);
        (stats.pct > fixed::to_f64(limit)).then(|| {
            format!(
                "volatility {}% of {} over {} mids (mean gap {} ms) above the limit {}%",
                show_pct(stats.pct),
                symbol(context, instrument),
                stats.mids,
                stats.mean_gap_ns / NANOS_PER_MS,
                fixed::format_exact(i128::from(limit), 0),
            )
        })
    }

    /// Check that `extra` on `side` of `instrument` may be added; `what` names the
    /// order in the message.
    fn check_add(
        &self,
        context: &RiskContext,
        working: &[Working],
        instrument: u32,
        side: Side,
        extra: i64,
        what: impl FnOnce() -> String,
    ) -> Result<(), Rejection> {
        let Some(figures) = self.too_volatile(context, instrument) else {
            return Ok(());
        };
        if self.mode == Mode::All {
            return Err(other(format!("{figures}: no new orders")));
        }
        let held: i128 = context
            .positions
            .iter()
            .filter(|p| p.instrument == instrument)
            .map(|p| i128::from(p.quantity))
            .sum();
        let same_side: i128 = working
            .iter()
            .filter(|w| w.instrument == instrument && w.side == side)
            .map(|w| i128::from(w.leaves.max(0)))
            .sum();
        let (sign, orders) = match side {
            Side::Buy => (1, "buys"),
            Side::Sell => (-1, "sells"),
        };
        let before = held + sign * same_side;
        let after = before + sign * i128::from(extra);
        if after.abs() <= before.abs() {
            return Ok(());
        }
        Err(other(format!(
            "{figures}: {} would take the position from {} to {} (held {}, working {orders} {})",
            what(),
            fixed::format_exact(before, 0),
            fixed::format_exact(after, 0),
            fixed::format_exact(held, 0),
            fixed::format_exact(same_side, 0),
        )))
    }

    /// The verdict for one command; updates `working` when it is approved.
    fn check(
        &self,
        context: &RiskContext,
        working: &mut Vec<Working>,
        command: &OrderCommand,
    ) -> Verdict {
        match command {
            OrderCommand::Cancel(c) => {
                // Never block a risk-reducing action; its leaves stop counting.
                working.retain(|w| !(w.id == c.id && w.instrument == c.instrument));
                Verdict::Approve
            }
            OrderCommand::Submit(o) => {
                if o.quantity <= 0 {
                    return not_positive(context, o.instrument, o.quantity);
                }
                let what = || format!("{} {}", side_name(o.side), show_qty(o.quantity));
                if let Err(rejection) =
                    self.check_add(context, working, o.instrument, o.side, o.quantity, what)
                {
                    return Verdict::Reject(rejection);
                }
                working.push(Working {
                    id: o.id,
                    instrument: o.instrument,
                    side: o.side,
                    leaves: o.quantity,
                });
                Verdict::Approve
            }
            OrderCommand::Modify(m) => {
                if m.quantity <= 0 {
                    return not_positive(context, m.instrument, m.quantity);
                }
                let Some(at) = working
                    .iter()
                    .position(|w| w.id == m.id && w.instrument == m.instrument)
                else {
                    // Not working: the matcher refuses it, so it cannot add exposure.
                    return Verdict::Approve;
                };
                let order = working[at].clone();
                // New leaves are the new total less what filled: at most the total.
                let extra = m.quantity.saturating_sub(order.leaves.max(0));
                if extra > 0 {
                    let what = || format!("modify of order {} to {}", m.id, show_qty(m.quantity));
                    if let Err(rejection) =
                        self.check_add(context, working, m.instrument, order.side, extra, what)
                    {
                        return Verdict::Reject(rejection);
                    }
                }
                working[at].leaves = m.quantity;
                Verdict::Approve
            }
        }
    }
}

impl RiskValidator for Volatility {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&[
            "max_volatility_pct",
            "max_volatility_pct.*",
            "returns",
            "mode",
            "window",
            "min_samples",
            "sample_ms",
        ])?;
        let max_volatility_pct = config.fixed_or("max_volatility_pct", DEFAULT_MAX_PCT)?;
        if max_volatility_pct < 0 {
            return Err("config `max_volatility_pct`: must not be negative".to_string());
        }
        let limits = config.per_symbol("max_volatility_pct", |key| {
            match config.fixed_or(key, 0)? {
                limit if limit < 0 => Err(format!("config `{key}`: must not be negative")),
                limit => Ok(limit),
            }
        })?;
        let Sampling {
            window,
            min_samples,
            sample_ns,
        } = Sampling::from_config(config, MAX_WINDOW)?;
        let returns = match config.get("returns").map(str::trim) {
            None | Some("log") => Returns::Log,
            Some("simple") => Returns::Simple,
            Some(other) => {
                return Err(format!(
                    "config `returns`: `{other}` is neither `log` nor `simple`"
                ));
            }
        };
        let mode = match config.get("mode").map(str::trim) {
            None | Some("adds") => Mode::Adds,
            Some("all") => Mode::All,
            Some(other) => {
                return Err(format!(
                    "config `mode`: `{other}` is neither `adds` nor `all`"
                ));
            }
        };
        Ok(Self {
            max_volatility_pct,
            limits,
            window,
            min_samples,
            sample_ns,
            returns,
            mode,
            mids: Windows::new(window, sample_ns, MAX_INSTRUMENTS),
        })
    }

    fn validate(
        &mut self,
        context: &RiskContext,
        orders: &[OrderCommand],
        verdicts: &mut Vec<Verdict>,
    ) {
        // Sample first: the instruments of the orders, then every one with a price.
        self.mids.sample_validation(context, orders);
        let mut working: Vec<Working> = context
            .open_orders
            .iter()
            .map(|o| Working {
                id: o.id,
                instrument: o.instrument,
                side: o.side,
                leaves: o.leaves_quantity,
            })
            .collect();
        for order in orders {
            let verdict = self.check(context, &mut working, order);
            verdicts.push(verdict);
        }
    }

    /// The mids, so eviction or a swap does not empty the windows.
    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION);
        self.mids.write(&mut w);
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        // A config with a smaller window keeps the newest mids, and of too many
        // instruments the most recently sampled.
        let mids = self.mids.read(&mut r)?;
        r.finish()?;
        self.mids = mids;
        Ok(())
    }
}

tradsys_sdk::export_risk_validator!(Volatility);

fn other(message: String) -> Rejection {
    Rejection {
        reason: RejectReason::Other,
        message: Some(message),
    }
}

fn not_positive(context: &RiskContext, instrument: u32, quantity: i64) -> Verdict {
    Verdict::Reject(Rejection {
        reason: RejectReason::InvalidOrder,
        message: Some(format!(
            "quantity {} of {} is not positive",
            show_qty(quantity),
            symbol(context, instrument)
        )),
    })
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn show_qty(quantity: i64) -> String {
    fixed::format_exact(i128::from(quantity), 0)
}

/// Symbol of `instrument`, for messages.
fn symbol(context: &RiskContext, instrument: u32) -> String {
    context
        .instruments
        .iter()
        .find(|d| d.id == instrument)
        .map_or_else(|| format!("instrument {instrument}"), |d| d.symbol.clone())
}

/// A percentage with three significant digits (at most six decimals).
fn show_pct(pct: f64) -> String {
    let decimals = if pct > 0.0 {
        (2 - pct.log10().floor() as i32).clamp(0, 6) as usize
    } else {
        0
    };
    format!("{pct:.decimals$}")
}

#[cfg(test)]
mod tests;
