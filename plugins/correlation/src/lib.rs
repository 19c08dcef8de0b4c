//! Correlation: a pre-trade risk validator that caps a strategy's correlation-weighted
//! portfolio exposure.
//!
//! For an order the validator builds the strategy's exposure vector, one entry per
//! instrument: `e_i = q_i × p_i × multiplier_i`, where `q_i` is the net position
//! (`RiskContext::positions`) with the order added to its instrument (a buy adds its
//! quantity, a sell subtracts it) and `p_i` the instrument's last price. The
//! portfolio exposure is `sqrt(eᵀ C e)`, `C` the correlation matrix of the
//! instruments (diagonal 1). Positively correlated holdings on the same side add up,
//! opposite ones hedge each other; with the identity matrix it is the Euclidean norm
//! of the notionals, and with a single instrument exactly `|notional|`. An order that
//! takes the exposure above `max_exposure` is rejected with `PositionLimit`, unless it
//! lowers the exposure (it is then approved even above the limit: closing out and
//! hedging are always possible).
//!
//! - **Prices.** The last price of `RiskContext::last_prices`; for an instrument
//!   without one, a position's average price, and for the order's own instrument its
//!   limit price. A market order on an instrument without a last price cannot be
//!   valued and is rejected with `InvalidOrder`.
//! - **What counts.** Positions and the order. Working orders of earlier batches do
//!   not (they may never fill; `position-limit` caps them per instrument). Orders of
//!   one batch count cumulatively, in order: an approved submit or modify counts as
//!   filled for the orders after it, so splitting an order within one batch does not
//!   pass; a cancel of it in the batch removes it again.
//! - **Modify.** Checked like a new order of its new total quantity (the filled part
//!   included, which can only overstate it) on the side of the order it modifies (a
//!   working order of the context or a submit earlier in the batch), against the
//!   exposure with the order's current leaves. A modify of an order that is not
//!   working is approved (the matcher refuses it).
//! - Cancels are always approved. An order whose quantity is not positive, of an
//!   instrument the host never defined or with a non-positive multiplier, is rejected
//!   with `InvalidOrder`. A held instrument without a definition (or with a
//!   non-positive multiplier) is valued with multiplier 1.
//!
//! # The correlation matrix
//!
//! **Configured**: `correlations` lists pairs of symbols with their correlation,
//! `SYN-A:SYN-B=0.8,SYN-A:SYN-C=-0.2` (spaces allowed); every value within −1 and 1,
//! each pair at most once, the matrix they give (missing pairs 0) positive
//! semidefinite. A symbol cannot contain `:`, `=` or `,`. With no pairs it is the
//! identity.
//!
//! **Estimated** (`estimate = true`): the Pearson correlation of the instruments'
//! log returns between the mids sampled at validation time, over the last `window`
//! returns. A sample is taken at a `validate` call at least `sample_ms` after the
//! previous one; it holds every defined instrument's mid (the host book's touch,
//! or the last price when a side is empty), stamped with `RiskContext::now`. Only
//! samples holding all the instruments of the latest one make returns, so the
//! matrix is a true (positive semidefinite) correlation matrix; an instrument whose
//! mid never moved correlates 0. The estimate is used once it has `min_samples`
//! returns and covers every instrument the order's exposure holds; until then, the
//! configured matrix (or the identity). Samples come at validation times, so their
//! spacing follows the strategies' order flow: irregular, and sparse when they are
//! quiet. The samples (at most `window + 1` of at most 64 instruments) are the
//! validator's state, saved and restored across eviction.
//!
//! # How the validator sees market data
//!
//! Only at validation time: through the risk context (last prices, positions,
//! working orders) and [`tradsys_sdk::host::depth`], the book the host keeps from the
//! feed. A validator has no on-market call, so the time series of the estimate is
//! sampled when the validator is asked, stamped with `ctx.now`.
//!
//! Statistics are `f64`; money (the exposure and the limit in messages) is
//! fixed-point.
//!
//! # Config keys
//!
//! | key            | meaning                                                            | default |
//! |----------------|--------------------------------------------------------------------|---------|
//! | `max_exposure` | largest portfolio exposure `sqrt(eᵀ C e)` (decimal, positive)      | `60000` |
//! | `correlations` | configured pairs `SYM:SYM=rho,…`; missing pairs 0                  | (none: identity) |
//! | `estimate`     | `true`: estimate `C` from sampled mids                             | `false` |
//! | `window`       | returns the estimate is computed over, 2 to 10000                  | `100`   |
//! | `min_samples`  | returns needed before the estimate is used, 2 to `window`          | `30`    |
//! | `sample_ms`    | least time between two samples, ms (0: every new `ctx.now`)        | `100`   |
//!
//! The defaults suit the synthetic market, whose three instruments walk independently
//! (so the identity is the right matrix there, and what an estimate finds): 60000 is
//! 240 units of SYN-B at 250, 600 of SYN-A at 100, or 200 of each of SYN-A and SYN-B
//! with some SYN-C. Ordinary 100–200 unit positions pass; a strategy building up
//! several instruments at once, or one scaled-up SYN-B position, is stopped.

mod matrix;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Config, InstrumentDefinition, OrderCommand, OrderType, RejectReason, Rejection, RiskContext,
    RiskValidator, Side, Verdict, fixed, host,
};

use crate::matrix::{pair_key, parse_correlations};

/// Format version written first by `save_state`.
const STATE_VERSION: u8 = 1;
/// Default for `max_exposure`: 60000 in price units.
const DEFAULT_MAX_EXPOSURE: i64 = fixed::from_units(60_000);
/// Most instruments configured or sampled.
pub(crate) const MAX_INSTRUMENTS: usize = 64;
/// Largest `window`.
const MAX_WINDOW: usize = 10_000;
/// Instruments listed in a refusal's message.
const LISTED: usize = 8;
/// Nanoseconds per millisecond.
const NANOS_PER_MS: u64 = 1_000_000;

/// The validator. Config keys (see the crate docs): `max_exposure` (default `60000`),
/// `correlations`, `estimate` (`false`), `window` (`100`), `min_samples` (`30`) and
/// `sample_ms` (`100`).
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    /// Largest portfolio exposure, fixed-point.
    max_exposure: i64,
    /// Configured correlations by symbol pair, the smaller symbol first.
    configured: BTreeMap<(String, String), f64>,
    estimate: bool,
    /// Returns kept for the estimate.
    window: usize,
    min_samples: usize,
    /// Least time between samples, ns.
    sample_ns: u64,
    /// Sampled mids, oldest first; at most `window + 1`.
    samples: VecDeque<Sample>,
}

/// The mids of one `validate` call.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sample {
    ts: u64,
    /// (instrument, mid), by instrument, mids positive; at most [`MAX_INSTRUMENTS`].
    mids: Vec<(u32, i64)>,
}

impl Sample {
    fn mid(&self, instrument: u32) -> Option<i64> {
        self.mids
            .binary_search_by_key(&instrument, |&(id, _)| id)
            .ok()
            .map(|at| self.mids[at].1)
    }
}

/// A correlation matrix estimated from the samples.
#[derive(Debug, Clone, PartialEq)]
struct Estimate {
    /// Instruments covered, ascending.
    ids: Vec<u32>,
    /// Row-major correlations, `ids.len()` squared.
    rho: Vec<f64>,
    /// Returns it was computed from.
    returns: usize,
}

impl Estimate {
    fn index(&self, instrument: u32) -> Option<usize> {
        self.ids.binary_search(&instrument).ok()
    }
}

/// Which matrix an exposure is computed with.
enum Matrix<'a> {
    Configured,
    Estimated(&'a Estimate),
}

/// An order approved earlier in the batch, counted as filled.
struct Pending {
    id: u64,
    instrument: u32,
    /// Signed quantity: positive for a buy.
    quantity: i128,
    side: Side,
}

/// What one `validate` call works with.
struct Batch<'a> {
    context: &'a RiskContext,
    /// Net positions by instrument.
    positions: BTreeMap<u32, i128>,
    /// Valuation prices by instrument.
    prices: BTreeMap<u32, i64>,
    pending: Vec<Pending>,
    estimate: Option<Estimate>,
}

impl Batch<'_> {
    /// Positions plus the pending orders, but for order `skip`.
    fn quantities(&self, skip: Option<(u64, u32)>) -> BTreeMap<u32, i128> {
        let mut quantities = self.positions.clone();
        for p in &self.pending {
            if skip != Some((p.id, p.instrument)) {
                *quantities.entry(p.instrument).or_default() += p.quantity;
            }
        }
        quantities
    }

    fn definition(&self, instrument: u32) -> Option<&InstrumentDefinition> {
        self.context.instruments.iter().find(|d| d.id == instrument)
    }

    fn symbol(&self, instrument: u32) -> String {
        self.definition(instrument)
            .map_or_else(|| format!("instrument {instrument}"), |d| d.symbol.clone())
    }

    /// Exposure of every instrument held, fixed-point money, without zeros.
    fn exposures(&self, quantities: &BTreeMap<u32, i128>) -> Vec<(u32, i128)> {
        quantities
            .iter()
            .filter(|&(_, &q)| q != 0)
            .map(|(&instrument, &q)| {
                let price = self.prices.get(&instrument).copied().unwrap_or(0);
                let multiplier = self
                    .definition(instrument)
                    .map_or(1, |d| if d.multiplier > 0 { d.multiplier } else { 1 });
                let notional = q.saturating_mul(i128::from(price)) / i128::from(fixed::SCALE);
                (instrument, notional.saturating_mul(i128::from(multiplier)))
            })
            .filter(|&(_, e)| e != 0)
            .collect()
    }
}

impl Correlation {
    /// Configured correlation of two different instruments (0 when not configured).
    fn configured_rho(&self, batch: &Batch<'_>, a: u32, b: u32) -> f64 {
        let (Some(a), Some(b)) = (batch.definition(a), batch.definition(b)) else {
            return 0.0;
        };
        self.configured
            .get(&pair_key(&a.symbol, &b.symbol))
            .copied()
            .unwrap_or(0.0)
    }

    /// `sqrt(eᵀ C e)` as fixed-point money; exact for one instrument.
    fn portfolio(&self, batch: &Batch<'_>, matrix: &Matrix<'_>, e: &[(u32, i128)]) -> i128 {
        match e {
            [] => 0,
            [(_, single)] => single.saturating_abs(),
            _ => {
                let units: Vec<f64> = e
                    .iter()
                    .map(|&(_, v)| v as f64 / fixed::SCALE as f64)
                    .collect();
                let mut q = 0.0;
                for (i, &(a, _)) in e.iter().enumerate() {
                    for (j, &(b, _)) in e.iter().enumerate() {
                        let rho = if i == j {
                            1.0
                        } else {
                            match matrix {
                                Matrix::Configured => self.configured_rho(batch, a, b),
                                Matrix::Estimated(est) => match (est.index(a), est.index(b)) {
                                    (Some(x), Some(y)) => est.rho[x * est.ids.len() + y],
                                    _ => self.configured_rho(batch, a, b),
                                },
                            }
                        };
                        q += units[i] * units[j] * rho;
                    }
                }
                // Rounding can leave a tiny negative for a fully hedged book.
                (q.max(0.0).sqrt() * fixed::SCALE as f64).round() as i128
            }
        }
    }

    /// The estimate, when it can value every instrument of `held`.
    fn matrix<'a>(&self, batch: &'a Batch<'_>, held: &BTreeSet<u32>) -> Matrix<'a> {
        match &batch.estimate {
            Some(est) if held.iter().all(|&i| est.index(i).is_some()) => Matrix::Estimated(est),
            _ => Matrix::Configured,
        }
    }

    fn matrix_name(&self, matrix: &Matrix<'_>) -> String {
        match matrix {
            Matrix::Estimated(est) => {
                format!("correlations estimated from {} returns", est.returns)
            }
            Matrix::Configured if self.configured.is_empty() => {
                "no correlations (identity)".to_string()
            }
            Matrix::Configured => "configured correlations".to_string(),
        }
    }

    /// The verdict for one command; an approved submit or modify becomes pending.
    fn check(&self, batch: &mut Batch<'_>, command: &OrderCommand) -> Verdict {
        let (id, instrument, side, quantity, limit_price, what) = match command {
            OrderCommand::Cancel(c) => {
                // Never block a risk-reducing action; a pending order stops counting.
                batch
                    .pending
                    .retain(|p| !(p.id == c.id && p.instrument == c.instrument));
                return Verdict::Approve;
            }
            OrderCommand::Submit(o) => {
                let price = match o.order_type {
                    OrderType::Limit => Some(o.price),
                    OrderType::Market => None,
                };
                let what = match o.order_type {
                    OrderType::Limit => side_name(o.side).to_string(),
                    OrderType::Market => format!("market {}", side_name(o.side)),
                };
                (o.id, o.instrument, o.side, o.quantity, price, what)
            }
            OrderCommand::Modify(m) => {
                let side = batch
                    .pending
                    .iter()
                    .find(|p| p.id == m.id && p.instrument == m.instrument)
                    .map(|p| p.side)
                    .or_else(|| {
                        batch
                            .context
                            .open_orders
                            .iter()
                            .find(|o| o.id == m.id && o.instrument == m.instrument)
                            .map(|o| o.side)
                    });
                let Some(side) = side else {
                    // Not working: the matcher refuses it, it adds nothing.
                    return Verdict::Approve;
                };
                let what = format!("modify of order {} to {}", m.id, side_name(side));
                (m.id, m.instrument, side, m.quantity, Some(m.price), what)
            }
        };
        let Some(def) = batch.definition(instrument).cloned() else {
            return invalid(format!("unknown instrument {instrument}"));
        };
        if quantity <= 0 {
            return invalid(format!(
                "quantity {} of {} is not positive",
                show_quantity(quantity, &def),
                def.symbol
            ));
        }
        if def.multiplier <= 0 {
            return invalid(format!("{} has multiplier {}", def.symbol, def.multiplier));
        }
        let added_price = if batch.prices.contains_key(&instrument) {
            None
        } else {
            match limit_price {
                Some(price) => Some(price),
                None => {
                    return invalid(format!(
                        "no last price for {} to value a market order",
                        def.symbol
                    ));
                }
            }
        };
        if let Some(price) = added_price {
            batch.prices.insert(instrument, price);
        }
        let signed = match side {
            Side::Buy => i128::from(quantity),
            Side::Sell => -i128::from(quantity),
        };
        let is_modify = matches!(command, OrderCommand::Modify(_));
        // The exposure without this order's new quantity: with its pending quantity,
        // or for a modify of a working order its current leaves.
        let key = Some((id, instrument));
        let mut before = batch.quantities(if is_modify { key } else { None });
        if is_modify {
            let current = match batch
                .pending
                .iter()
                .find(|p| p.id == id && p.instrument == instrument)
            {
                Some(p) => p.quantity,
                None => batch
                    .context
                    .open_orders
                    .iter()
                    .find(|o| o.id == id && o.instrument == instrument)
                    .map_or(0, |o| match o.side {
                        Side::Buy => i128::from(o.leaves_quantity),
                        Side::Sell => -i128::from(o.leaves_quantity),
                    }),
            };
            *before.entry(instrument).or_default() += current;
        }
        let mut after = batch.quantities(if is_modify { key } else { None });
        *after.entry(instrument).or_default() += signed;
        let e_before = batch.exposures(&before);
        let e_after = batch.exposures(&after);
        let held: BTreeSet<u32> = e_before.iter().chain(&e_after).map(|&(i, _)| i).collect();
        let matrix = self.matrix(batch, &held);
        let exposure_before = self.portfolio(batch, &matrix, &e_before);
        let exposure_after = self.portfolio(batch, &matrix, &e_after);
        if exposure_after > i128::from(self.max_exposure) && exposure_after > exposure_before {
            let mut listed: Vec<String> = e_after
                .iter()
                .take(LISTED)
                .map(|&(i, e)| format!("{} {}", batch.symbol(i), show_money(e)))
                .collect();
            if e_after.len() > LISTED {
                listed.push("…".to_string());
            }
            let message = format!(
                "{what} {} of {} would take portfolio exposure to {}, above limit {} \
                 (from {}; {}; {})",
                show_quantity(quantity, &def),
                def.symbol,
                show_money(exposure_after),
                show_money(self.max_exposure.into()),
                show_money(exposure_before),
                listed.join(", "),
                self.matrix_name(&matrix),
            );
            if added_price.is_some() {
                batch.prices.remove(&instrument);
            }
            return Verdict::Reject(Rejection {
                reason: RejectReason::PositionLimit,
                message: Some(message),
            });
        }
        batch
            .pending
            .retain(|p| !(p.id == id && p.instrument == instrument));
        batch.pending.push(Pending {
            id,
            instrument,
            quantity: signed,
            side,
        });
        Verdict::Approve
    }

    /// Sample the mids at `context.now` when the last sample is old enough.
    fn sample(&mut self, context: &RiskContext) {
        let now = context.now;
        if let Some(last) = self.samples.back()
            && (now == last.ts || now.abs_diff(last.ts) < self.sample_ns)
        {
            return;
        }
        let ids: BTreeSet<u32> = context.instruments.iter().map(|d| d.id).collect();
        let mut mids = Vec::new();
        for id in ids.into_iter().take(MAX_INSTRUMENTS) {
            let book = host::depth(id, 1);
            let touch = |levels: &[tradsys_sdk::DepthLevel]| {
                levels
                    .first()
                    .filter(|l| l.quantity > 0 && l.price > 0)
                    .map(|l| i128::from(l.price))
            };
            let mid = match (touch(&book.bids), touch(&book.asks)) {
                (Some(bid), Some(ask)) => Some(((bid + ask) / 2) as i64),
                _ => context
                    .last_prices
                    .iter()
                    .find(|p| p.instrument == id)
                    .map(|p| p.price),
            };
            if let Some(mid) = mid.filter(|&m| m > 0) {
                mids.push((id, mid));
            }
        }
        if mids.is_empty() {
            return;
        }
        self.samples.push_back(Sample { ts: now, mids });
        while self.samples.len() > self.window + 1 {
            self.samples.pop_front();
        }
    }

    /// The correlations of the latest sample's instruments, once there are
    /// `min_samples` returns of all of them.
    fn estimated(&self) -> Option<Estimate> {
        let ids: Vec<u32> = self.samples.back()?.mids.iter().map(|&(i, _)| i).collect();
        let k = ids.len();
        let mut rows: Vec<Vec<f64>> = Vec::new();
        for (prev, next) in self.samples.iter().zip(self.samples.iter().skip(1)) {
            let row: Option<Vec<f64>> = ids
                .iter()
                .map(|&i| {
                    let (a, b) = (prev.mid(i)?, next.mid(i)?);
                    Some((b as f64 / a as f64).ln())
                })
                .collect();
            rows.extend(row);
        }
        if rows.len() < self.min_samples {
            return None;
        }
        let n = rows.len() as f64;
        let means: Vec<f64> = (0..k)
            .map(|c| rows.iter().map(|r| r[c]).sum::<f64>() / n)
            .collect();
        let mut cov = vec![0.0; k * k];
        for row in &rows {
            for a in 0..k {
                for b in a..k {
                    cov[a * k + b] += (row[a] - means[a]) * (row[b] - means[b]);
                }
            }
        }
        let mut rho = vec![0.0; k * k];
        for a in 0..k {
            rho[a * k + a] = 1.0;
            for b in a + 1..k {
                let denominator = (cov[a * k + a] * cov[b * k + b]).sqrt();
                let r = if denominator > 0.0 && denominator.is_finite() {
                    (cov[a * k + b] / denominator).clamp(-1.0, 1.0)
                } else {
                    // An instrument whose mid never moved: no correlation.
                    0.0
                };
                rho[a * k + b] = r;
                rho[b * k + a] = r;
            }
        }
        Some(Estimate {
            ids,
            rho,
            returns: rows.len(),
        })
    }
}

impl RiskValidator for Correlation {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&[
            "max_exposure",
            "correlations",
            "estimate",
            "window",
            "min_samples",
            "sample_ms",
        ])?;
        let max_exposure = config.fixed_or("max_exposure", DEFAULT_MAX_EXPOSURE)?;
        if max_exposure <= 0 {
            return Err("config `max_exposure`: must be positive".to_string());
        }
        let configured = parse_correlations(config.get("correlations").unwrap_or(""))
            .map_err(|e| format!("config `correlations`: {e}"))?;
        let estimate: bool = config.parse_or("estimate", false)?;
        let window: usize = config.parse_or("window", 100)?;
        if !(2..=MAX_WINDOW).contains(&window) {
            return Err(format!("config `window`: must be from 2 to {MAX_WINDOW}"));
        }
        let min_samples: usize = config.parse_or("min_samples", 30.min(window))?;
        if !(2..=window).contains(&min_samples) {
            return Err(format!(
                "config `min_samples`: must be from 2 to `window` ({window})"
            ));
        }
        let sample_ms: u64 = config.parse_or("sample_ms", 100)?;
        let sample_ns = sample_ms
            .checked_mul(NANOS_PER_MS)
            .ok_or_else(|| "config `sample_ms`: too large".to_string())?;
        Ok(Self {
            max_exposure,
            configured,
            estimate,
            window,
            min_samples,
            sample_ns,
            samples: VecDeque::new(),
        })
    }

    fn validate(
        &mut self,
        context: &RiskContext,
        orders: &[OrderCommand],
        verdicts: &mut Vec<Verdict>,
    ) {
        let estimate = if self.estimate {
            self.sample(context);
            self.estimated()
        } else {
            None
        };
        let mut positions: BTreeMap<u32, i128> = BTreeMap::new();
        let mut prices: BTreeMap<u32, i64> = BTreeMap::new();
        for p in &context.last_prices {
            prices.insert(p.instrument, p.price);
        }
        for p in &context.positions {
            *positions.entry(p.instrument).or_default() += i128::from(p.quantity);
            prices.entry(p.instrument).or_insert(p.average_price);
        }
        let mut batch = Batch {
            context,
            positions,
            prices,
            pending: Vec::new(),
            estimate,
        };
        verdicts.extend(orders.iter().map(|order| self.check(&mut batch, order)));
    }

    /// The sampled mids, so an evicted instance keeps its estimate.
    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION).u32(self.samples.len() as u32);
        for sample in &self.samples {
            w.u64(sample.ts).u32(sample.mids.len() as u32);
            for &(id, mid) in &sample.mids {
                w.u32(id).i64(mid);
            }
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let mut samples = VecDeque::new();
        for _ in 0..r.u32()? {
            let ts = r.u64()?;
            let mut mids = Vec::new();
            for _ in 0..r.u32()? {
                let (id, mid) = (r.u32()?, r.i64()?);
                if mid <= 0 {
                    return Err(format!("state: mid {mid} of instrument {id} not positive"));
                }
                if mids.last().is_some_and(|&(last, _)| last >= id) {
                    return Err("state: the mids of a sample are not by instrument".to_string());
                }
                mids.push((id, mid));
            }
            mids.truncate(MAX_INSTRUMENTS);
            samples.push_back(Sample { ts, mids });
        }
        r.finish()?;
        // Keep the newest: a config that shortened the window must not start above it.
        while samples.len() > self.window + 1 {
            samples.pop_front();
        }
        self.samples = samples;
        Ok(())
    }
}

tradsys_sdk::export_risk_validator!(Correlation);

fn invalid(message: String) -> Verdict {
    Verdict::Reject(Rejection {
        reason: RejectReason::InvalidOrder,
        message: Some(message),
    })
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// A quantity shown with at least the instrument's size precision.
fn show_quantity(quantity: i64, def: &InstrumentDefinition) -> String {
    fixed::format_exact(i128::from(quantity), def.size_precision)
}

/// Money rounded to the cent.
fn show_money(value: i128) -> String {
    let cent = i128::from(fixed::SCALE / 100);
    let rounded = if value < 0 {
        value.saturating_sub(cent / 2)
    } else {
        value.saturating_add(cent / 2)
    };
    fixed::format_exact(rounded / cent * cent, 2)
}

#[cfg(test)]
mod tests;
