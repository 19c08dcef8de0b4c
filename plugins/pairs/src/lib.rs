//! Pairs: trades the spread between two instruments back to its mean.
//!
//! The two legs are named by symbol (`leg_a`, `leg_b`); the strategy learns their
//! host instrument ids, ticks and lots from the `Instrument` definitions and keeps
//! the last usable touch of each from its quotes (the host posts a quote after
//! every change of a book's touch, so this works on every feed).
//!
//! Signal. A paired sample is the two quote mids, taken at the end of a market
//! batch when both legs have had a fresh quote since the last sample and at least
//! `sample_ms` of market time have passed since it. Over the last `window` samples
//! an ordinary least-squares regression of leg A's mid on leg B's mid (price
//! levels, not log prices, so the hedge ratio β is directly units of B per unit of
//! A) gives β; the spread of each sample is `A − β·B`, and the z-score is the
//! latest spread's distance from the window's mean spread in standard deviations.
//! Decisions are taken at samples only.
//!
//! Trading. With no spread position, `z ≥ entry_z` shorts the spread (sell
//! `quantity` of A, buy `β·quantity` of B rounded to B's lots) and `z ≤ −entry_z`
//! buys it (the reverse); an entry needs `0 < β ≤ max_hedge_ratio` and both legs
//! flat with no order in flight. The position is closed once the z-score has come
//! back to `exit_z` or beyond (a short spread when `z ≤ exit_z`, a long one when
//! `z ≥ −exit_z`), or after `max_hold_ms` of market time. After a time stop (or an
//! abandoned entry, below) the strategy does not enter again until `|z|` has
//! dropped below `entry_z`. At most one spread position is held at a time.
//!
//! Orders. Each leg has a target (its part of the spread position, or zero); a
//! leg whose position from fills differs from its target and has no order in
//! flight gets a marketable IOC limit for the difference at the touch (buy at the
//! ask, sell at the bid, rounded to the tick and the lot). An entry or exit sets
//! both targets at once, so both legs go out together in one batch. So at most
//! two orders (one per leg) are ever working.
//!
//! Legging. When a leg's IOC ends short (canceled, partly filled, or rejected),
//! the missing quantity is sent again in the first batch that brings a new quote
//! of that leg. If an entry still has a leg off target `leg_timeout_ms` after it
//! started, it is abandoned: both targets drop to zero, so the leg that filled is
//! flattened (again by IOC at the touch). An exit is retried until both legs are
//! flat. After any rejection no order at all is sent during `cooldown_ms` of market
//! time. An order with no final report after 30 s of market time is forgotten
//! (the position is kept from every fill on a leg's instrument regardless).
//!
//! With one instrument only (the recorded ES replay) or any leg whose definition
//! never arrives, the strategy stays idle: it sends nothing and reports no error.
//!
//! Config keys (defaults):
//! - `leg_a` (`SYN-A`): symbol of leg A, the regression's dependent leg
//! - `leg_b` (`SYN-B`): symbol of leg B, different from `leg_a`
//! - `window` (60): paired samples in the regression and the z-score, 3 to 10000
//! - `sample_ms` (100): least market time between two samples, in milliseconds
//!   (0: a sample at every batch where both legs are fresh)
//! - `entry_z` (2.0): |z| that opens a spread position, positive
//! - `exit_z` (0.5): z at which it is closed, from 0 to below `entry_z`
//! - `quantity` (100): units of leg A per spread position, positive (rounded
//!   down to A's lot)
//! - `max_hedge_ratio` (10): largest β traded, positive
//! - `max_hold_ms` (60000): market time after which a position is closed, ≥ 1
//! - `leg_timeout_ms` (2000): market time an entry may stay legged before it
//!   is abandoned and flattened, ≥ 1
//! - `cooldown_ms` (1000): market time without orders after a rejection

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use tradsys_sdk::host::{self, LogLevel};
use tradsys_sdk::keeper::{Change, Keeper};
use tradsys_sdk::{
    Config, InstrumentDefinition, MarketEvent, OrderCommand, OrderEvent, Params, Quote, Strategy,
    fixed, state,
};

/// Format version of `save_state` (2: serde, the orders in the SDK's keeper).
const STATE_VERSION: u8 = 2;
/// Largest `window` accepted (and most samples a state may hold).
const MAX_WINDOW: usize = 10_000;
/// Nanoseconds per millisecond.
const MS: u64 = 1_000_000;
/// Largest number of milliseconds a time key takes (in nanoseconds it fits a u64).
const MAX_MS: u64 = u64::MAX / MS;
/// Market time after which an order without a final report is forgotten.
const FORGET_NS: u64 = 30_000 * MS;

/// Tunables from the plugin config (keys and defaults in the crate docs).
#[derive(Debug, Clone, Params)]
#[params(also = "signals", check = Self::check)]
struct Tunables {
    #[param(default = "SYN-A".to_string())]
    leg_a: String,
    #[param(default = "SYN-B".to_string())]
    leg_b: String,
    #[param(default = 60, min = 3, max = MAX_WINDOW)]
    window: usize,
    #[param(default = 100, max = MAX_MS)]
    sample_ms: u64,
    #[param(default = 2.0, positive)]
    entry_z: f64,
    #[param(default = 0.5, min = 0.0)]
    exit_z: f64,
    #[param(decimal = "100", positive)]
    quantity: i64,
    #[param(default = 10.0, positive)]
    max_hedge_ratio: f64,
    #[param(default = 60_000, min = 1, max = MAX_MS)]
    max_hold_ms: u64,
    #[param(default = 2_000, min = 1, max = MAX_MS)]
    leg_timeout_ms: u64,
    #[param(default = 1_000, max = MAX_MS)]
    cooldown_ms: u64,
}

impl Tunables {
    fn check(&self) -> Result<(), String> {
        let ensure = |ok: bool, key: &str, why: &str| match ok {
            true => Ok(()),
            false => Err(format!("config `{key}`: {why}")),
        };
        ensure(!self.leg_a.is_empty(), "leg_a", "must not be empty")?;
        ensure(!self.leg_b.is_empty(), "leg_b", "must not be empty")?;
        ensure(
            self.leg_a != self.leg_b,
            "leg_b",
            "must differ from `leg_a`",
        )?;
        let exit_ok = self.exit_z < self.entry_z;
        ensure(exit_ok, "exit_z", "must be from 0 to below `entry_z`")
    }
}

/// One leg of the pair (its tick, lot and position are in the keeper).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Leg {
    /// Host instrument id, once the definition of the leg's symbol arrived.
    id: Option<u32>,
    /// Last usable touch: (bid, ask).
    touch: Option<(i64, i64)>,
    /// A quote arrived since the last sample.
    fresh: bool,
    /// An IOC of this leg ended short: wait for a new quote before sending again.
    wait_quote: bool,
}

impl Leg {
    fn bind(&mut self, def: &InstrumentDefinition, keeper: &mut Keeper) {
        if self.id != Some(def.id) {
            (self.touch, self.fresh) = (None, false);
        }
        self.id = Some(def.id);
        keeper.define(def);
    }

    /// Take in a quote of this leg; an empty or crossed book is ignored.
    fn observe(&mut self, q: &Quote) {
        if q.bid_price > 0 && q.ask_price >= q.bid_price {
            self.touch = Some((q.bid_price, q.ask_price));
            self.fresh = true;
            self.wait_quote = false;
        }
    }

    fn mid(&self) -> Option<i64> {
        let (bid, ask) = self.touch?;
        Some(((i128::from(bid) + i128::from(ask)) / 2) as i64)
    }
}

/// The regression of one window.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Fit {
    beta: f64,
    z: f64,
}

/// OLS of A on B over `samples` and the z-score of the last spread; `None`
/// when B or the spread does not vary.
fn fit(samples: &VecDeque<(i64, i64)>) -> Option<Fit> {
    let n = samples.len() as f64;
    let (a0, b0) = *samples.back()?;
    let points = || {
        samples
            .iter()
            .map(|&(a, b)| (fixed::to_f64(a), fixed::to_f64(b)))
    };
    let mean_a = points().map(|(a, _)| a).sum::<f64>() / n;
    let mean_b = points().map(|(_, b)| b).sum::<f64>() / n;
    let (mut cov, mut var_b) = (0.0, 0.0);
    for (a, b) in points() {
        cov += (a - mean_a) * (b - mean_b);
        var_b += (b - mean_b) * (b - mean_b);
    }
    if var_b <= 1e-12 * n {
        return None;
    }
    let beta = cov / var_b;
    // Spreads minus their mean are the regression residuals.
    let residual = |a: f64, b: f64| (a - mean_a) - beta * (b - mean_b);
    let var_s = points().map(|(a, b)| residual(a, b).powi(2)).sum::<f64>() / n;
    let sd = var_s.sqrt();
    if !sd.is_finite() || sd <= 1e-9 {
        return None;
    }
    let z = residual(fixed::to_f64(a0), fixed::to_f64(b0)) / sd;
    Some(Fit { beta, z })
}

/// Everything the strategy keeps besides its orders and positions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Spread {
    /// Leg A, leg B.
    legs: [Leg; 2],
    /// The last `window` paired mids (A, B), oldest first.
    samples: VecDeque<(i64, i64)>,
    last_sample: Option<u64>,
    /// Spread position aimed for: 1 long (A bought), -1 short, 0 flat.
    dir: i8,
    /// Unsigned quantities of legs A and B of that position.
    quantity: [i64; 2],
    /// Market time the position was entered (for `max_hold_ms`).
    entry_ts: u64,
    /// Market time the targets last changed (for `leg_timeout_ms`).
    transition_ts: u64,
    /// Whether a new entry is allowed (false after a time stop until |z| < entry_z).
    armed: bool,
    /// Market time each order without a final report was sent, by id.
    sent: BTreeMap<u64, u64>,
    /// No order before this market time (after a rejection).
    cooldown_until: u64,
    /// Latest market or report time seen.
    now: u64,
}

/// The pairs strategy; see the crate docs.
#[derive(Debug)]
pub struct Pairs {
    p: Tunables,
    spread: Spread,
    /// Its orders, the legs' positions, ticks and lots.
    keeper: Keeper,
    /// The last fit, for logs and tests (not saved: the next sample refits).
    last_fit: Option<Fit>,
}

impl Pairs {
    /// The signed target position of leg `i`.
    fn target(&self, i: usize) -> i64 {
        let sign = i64::from(self.spread.dir);
        match i {
            0 => sign * self.spread.quantity[0],
            _ => -sign * self.spread.quantity[1],
        }
    }

    /// The position of leg `i`, from fills.
    fn position(&self, i: usize) -> i64 {
        self.spread.legs[i]
            .id
            .map_or(0, |id| self.keeper.position(id))
    }

    fn on_target(&self) -> bool {
        (0..2).all(|i| self.position(i) == self.target(i))
    }

    fn flatten(&mut self, why: &str) {
        if self.spread.dir != 0 {
            host::log(
                LogLevel::Info,
                &format!("pairs: closing the spread ({why})"),
            );
        }
        self.spread.dir = 0;
        self.spread.transition_ts = self.spread.now;
    }

    /// Take a paired sample if both legs are fresh and `sample_ms` has passed.
    fn sample(&mut self) {
        let st = &mut self.spread;
        if !(st.legs[0].fresh && st.legs[1].fresh) {
            return;
        }
        let gap = self.p.sample_ms * MS;
        if st
            .last_sample
            .is_some_and(|last| st.now < last.saturating_add(gap))
        {
            return;
        }
        let (Some(a), Some(b)) = (st.legs[0].mid(), st.legs[1].mid()) else {
            return;
        };
        st.samples.push_back((a, b));
        st.samples
            .drain(..st.samples.len().saturating_sub(self.p.window));
        (st.legs[0].fresh, st.legs[1].fresh) = (false, false);
        st.last_sample = Some(st.now);
        self.last_fit = None;
        if st.samples.len() == self.p.window
            && let Some(fit) = fit(&st.samples)
        {
            self.last_fit = Some(fit);
            self.decide(fit);
        }
    }

    fn decide(&mut self, fit: Fit) {
        let (p, z, now) = (&self.p, fit.z, self.spread.now);
        if z.abs() < p.entry_z {
            self.spread.armed = true;
        }
        match self.spread.dir {
            0 => {
                let flat = (0..2).all(|i| self.position(i) == 0);
                let idle = self.keeper.all().next().is_none() && now >= self.spread.cooldown_until;
                if !(self.spread.armed && flat && idle && z.abs() >= p.entry_z) {
                    return;
                }
                if !(fit.beta > 0.0 && fit.beta <= p.max_hedge_ratio) {
                    return; // no usable hedge ratio
                }
                let lot = |i: usize| {
                    let grid = self.spread.legs[i].id.and_then(|id| self.keeper.grid(id));
                    grid.map_or(1, |g| g.lot)
                };
                let (lot_a, lot_b) = (lot(0), lot(1));
                let qty_a = fixed::floor_to_tick(p.quantity, lot_a);
                let raw_b = fixed::from_f64(fit.beta * fixed::to_f64(qty_a));
                let qty_b = raw_b.saturating_add(lot_b / 2) / lot_b * lot_b; // nearest lot
                if qty_a <= 0 || qty_b <= 0 {
                    return;
                }
                let st = &mut self.spread;
                st.dir = if z > 0.0 { -1 } else { 1 };
                st.quantity = [qty_a, qty_b];
                (st.entry_ts, st.transition_ts) = (now, now);
                let doing = if st.dir > 0 { "buying" } else { "selling" };
                let beta = fit.beta;
                host::log(
                    LogLevel::Info,
                    &format!("pairs: z {z:.2}, beta {beta:.4}: {doing} the spread"),
                );
            }
            -1 if z <= p.exit_z => self.flatten("z reverted"),
            1 if z >= -p.exit_z => self.flatten("z reverted"),
            _ => {}
        }
    }

    /// Time stops, abandoned entries and forgotten orders.
    fn manage(&mut self) {
        let now = self.spread.now;
        if self.spread.dir != 0 {
            let legged = !self.on_target();
            let since_transition = now.saturating_sub(self.spread.transition_ts);
            let held = now.saturating_sub(self.spread.entry_ts);
            if legged && since_transition >= self.p.leg_timeout_ms * MS {
                self.flatten("a leg did not fill in time");
                self.spread.armed = false;
            } else if held >= self.p.max_hold_ms * MS {
                self.flatten("held for max_hold_ms");
                self.spread.armed = false;
            }
        }
        let keeper = &mut self.keeper;
        self.spread.sent.retain(|&id, &mut sent| {
            let live = keeper.order(id).is_some() && sent.saturating_add(FORGET_NS) > now;
            if !live {
                keeper.forget(id);
            }
            live
        });
    }

    /// An IOC at the touch for every leg off its target with nothing in flight.
    fn send(&mut self, orders: &mut Vec<OrderCommand>) {
        if self.spread.now < self.spread.cooldown_until {
            return;
        }
        for i in 0..2 {
            let diff = self.target(i).saturating_sub(self.position(i));
            let leg = &self.spread.legs[i];
            let (Some(instrument), Some((bid, ask))) = (leg.id, leg.touch) else {
                continue;
            };
            if leg.wait_quote || self.keeper.orders(instrument).next().is_some() {
                continue;
            }
            let (ts, bid_size, ask_size) = (self.spread.now, 0, 0); // (sizes unused)
            let touch = Quote {
                instrument,
                ts,
                bid_price: bid,
                bid_size,
                ask_price: ask,
                ask_size,
            };
            if let Some(id) = self.keeper.take(orders, &touch, diff) {
                self.spread.sent.insert(id, self.spread.now);
            }
        }
    }

    fn leg_of(&self, instrument: u32) -> Option<usize> {
        self.spread
            .legs
            .iter()
            .position(|l| l.id == Some(instrument))
    }
}

impl Strategy for Pairs {
    fn new(config: &Config) -> Result<Self, String> {
        let spread = Spread {
            legs: Default::default(),
            samples: VecDeque::new(),
            last_sample: None,
            dir: 0,
            quantity: [0, 0],
            entry_ts: 0,
            transition_ts: 0,
            armed: true,
            sent: BTreeMap::new(),
            cooldown_until: 0,
            now: 0,
        };
        let (p, keeper, last_fit) = (Tunables::from_config(config)?, Keeper::default(), None);
        Ok(Self {
            p,
            spread,
            keeper,
            last_fit,
        })
    }

    fn on_market(&mut self, events: &[MarketEvent], orders: &mut Vec<OrderCommand>) {
        let mut quoted = false;
        for event in events {
            if let Some(ts) = event.ts() {
                self.spread.now = self.spread.now.max(ts);
            }
            match event {
                MarketEvent::Instrument(def) => {
                    if def.symbol == self.p.leg_a {
                        self.spread.legs[0].bind(def, &mut self.keeper);
                    } else if def.symbol == self.p.leg_b {
                        self.spread.legs[1].bind(def, &mut self.keeper);
                    }
                }
                MarketEvent::Quote(q) => {
                    if let Some(i) = self.leg_of(q.instrument) {
                        self.spread.legs[i].observe(q);
                        quoted = true;
                    }
                }
                _ => {}
            }
        }
        if self.spread.legs.iter().any(|l| l.id.is_none()) {
            return; // a leg is missing (a one-instrument feed): stay idle
        }
        if quoted {
            self.sample();
        }
        self.manage();
        self.send(orders);
    }

    fn on_order_events(&mut self, events: &[OrderEvent], _orders: &mut Vec<OrderCommand>) {
        for event in events {
            let st = &mut self.spread;
            st.now = st.now.max(event.ts());
            let change = self.keeper.apply(event);
            let Some(Change::Canceled(order) | Change::Rejected { order, .. }) = change else {
                continue;
            };
            if let Some(i) = self.leg_of(order.instrument) {
                self.spread.legs[i].wait_quote = true;
            }
            if let OrderEvent::Rejected(r) = event {
                let st = &mut self.spread;
                st.cooldown_until = st.now.saturating_add(self.p.cooldown_ms * MS);
                let (id, reason) = (r.id, r.rejection.reason);
                let why = r.rejection.message.as_deref().unwrap_or("");
                let text = format!("pairs: order {id} rejected: {reason:?} {why}");
                host::log(LogLevel::Warn, &text);
            }
        }
    }

    fn save_state(&self) -> Vec<u8> {
        let legs = (&self.p.leg_a, &self.p.leg_b);
        state::save(STATE_VERSION, &(legs, &self.keeper, &self.spread))
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let ((leg_a, leg_b), keeper, mut spread): ((String, String), Keeper, Spread) =
            state::load(STATE_VERSION, state)?;
        if (&leg_a, &leg_b) != (&self.p.leg_a, &self.p.leg_b) {
            let (a, b) = (&self.p.leg_a, &self.p.leg_b);
            return Err(format!(
                "state is for legs {leg_a}/{leg_b}, the config names {a}/{b}"
            ));
        }
        let count = spread.samples.len();
        if count > MAX_WINDOW {
            return Err(format!("state: {count} samples, at most {MAX_WINDOW}"));
        }
        // A newer config may use a shorter window.
        spread.samples.drain(..count.saturating_sub(self.p.window));
        if !(-1..=1).contains(&spread.dir) || spread.quantity.iter().any(|&q| q < 0) {
            return Err("state: bad spread direction or leg quantity".into());
        }
        if keeper.all().count() > 2 {
            return Err("state: more than two working orders".into());
        }
        // Decoded in full: only now replace the running state.
        (self.keeper, self.spread, self.last_fit) = (keeper, spread, None);
        Ok(())
    }
}

tradsys_sdk::export_strategy!(Pairs);

#[cfg(test)]
mod tests;
