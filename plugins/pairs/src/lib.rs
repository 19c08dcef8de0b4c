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

use tradsys_sdk::host::{self, LogLevel};
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Config, InstrumentDefinition, MarketEvent, NewOrder, OrderCommand, OrderEvent, OrderType,
    Quote, Side, Strategy, TimeInForce, fixed,
};

/// Format version written first by `save_state`.
const STATE_VERSION: u8 = 1;
/// Largest `window` accepted (and most samples a state may hold).
const MAX_WINDOW: usize = 10_000;
/// Nanoseconds per millisecond.
const MS: u64 = 1_000_000;
/// Market time after which an order without a final report is forgotten.
const FORGET_NS: u64 = 30_000 * MS;

/// Tunables from the plugin config (keys and defaults in the crate docs).
#[derive(Debug, Clone)]
struct Params {
    leg_a: String,
    leg_b: String,
    window: usize,
    sample_ns: u64,
    entry_z: f64,
    exit_z: f64,
    quantity: i64,
    max_hedge_ratio: f64,
    max_hold_ns: u64,
    leg_timeout_ns: u64,
    cooldown_ns: u64,
}

impl Params {
    fn from_config(config: &Config) -> Result<Self, String> {
        config.only(&[
            "leg_a",
            "leg_b",
            "window",
            "entry_z",
            "exit_z",
            "quantity",
            "max_hedge_ratio",
            "sample_ms",
            "cooldown_ms",
            "leg_timeout_ms",
            "max_hold_ms",
            "signals",
        ])?;
        let ms = |key: &str, default: u64| -> Result<u64, String> {
            let value: u64 = config.parse_or(key, default)?;
            value
                .checked_mul(MS)
                .ok_or_else(|| format!("config `{key}`: too large"))
        };
        let p = Self {
            leg_a: config.get("leg_a").unwrap_or("SYN-A").trim().to_string(),
            leg_b: config.get("leg_b").unwrap_or("SYN-B").trim().to_string(),
            window: config.parse_or("window", 60)?,
            sample_ns: ms("sample_ms", 100)?,
            entry_z: config.parse_or("entry_z", 2.0)?,
            exit_z: config.parse_or("exit_z", 0.5)?,
            quantity: config.fixed_or("quantity", fixed::from_units(100))?,
            max_hedge_ratio: config.parse_or("max_hedge_ratio", 10.0)?,
            max_hold_ns: ms("max_hold_ms", 60_000)?,
            leg_timeout_ns: ms("leg_timeout_ms", 2_000)?,
            cooldown_ns: ms("cooldown_ms", 1_000)?,
        };
        let ensure = |ok: bool, key: &str, why: &str| match ok {
            true => Ok(()),
            false => Err(format!("config `{key}`: {why}")),
        };
        ensure(!p.leg_a.is_empty(), "leg_a", "must not be empty")?;
        ensure(!p.leg_b.is_empty(), "leg_b", "must not be empty")?;
        ensure(p.leg_a != p.leg_b, "leg_b", "must differ from `leg_a`")?;
        let window_ok = (3..=MAX_WINDOW).contains(&p.window);
        ensure(window_ok, "window", "must be 3 to 10000")?;
        let entry_ok = p.entry_z.is_finite() && p.entry_z > 0.0;
        ensure(entry_ok, "entry_z", "must be positive")?;
        let exit_ok = p.exit_z.is_finite() && p.exit_z >= 0.0 && p.exit_z < p.entry_z;
        ensure(exit_ok, "exit_z", "must be from 0 to below `entry_z`")?;
        ensure(p.quantity > 0, "quantity", "must be positive")?;
        let ratio_ok = p.max_hedge_ratio.is_finite() && p.max_hedge_ratio > 0.0;
        ensure(ratio_ok, "max_hedge_ratio", "must be positive")?;
        ensure(p.max_hold_ns > 0, "max_hold_ms", "must be at least 1")?;
        ensure(p.leg_timeout_ns > 0, "leg_timeout_ms", "must be at least 1")?;
        Ok(p)
    }
}

/// One leg of the pair.
#[derive(Debug, Clone, PartialEq)]
struct Leg {
    /// Host instrument id, once the definition of the leg's symbol arrived.
    id: Option<u32>,
    tick: i64,
    lot: i64,
    /// Last usable touch: (bid, ask).
    touch: Option<(i64, i64)>,
    /// A quote arrived since the last sample.
    fresh: bool,
    /// An IOC of this leg ended short: wait for a new quote before sending again.
    wait_quote: bool,
    /// Signed position from fills.
    position: i64,
}

impl Leg {
    fn new() -> Self {
        Self {
            id: None,
            tick: 1,
            lot: 1,
            touch: None,
            fresh: false,
            wait_quote: false,
            position: 0,
        }
    }

    fn bind(&mut self, def: &InstrumentDefinition) {
        if self.id != Some(def.id) {
            (self.touch, self.fresh) = (None, false);
        }
        self.id = Some(def.id);
        (self.tick, self.lot) = (def.tick_size.max(1), def.lot_size.max(1));
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

    fn save(&self, w: &mut StateWriter) {
        w.option(self.id, |w, id| {
            w.u32(id);
        });
        w.i64(self.tick).i64(self.lot);
        w.option(self.touch, |w, (bid, ask)| {
            w.i64(bid).i64(ask);
        });
        w.bool(self.fresh).bool(self.wait_quote).i64(self.position);
    }

    fn load(r: &mut StateReader<'_>) -> Result<Self, String> {
        let leg = Self {
            id: r.option(|r| r.u32())?,
            tick: r.i64()?,
            lot: r.i64()?,
            touch: r.option(|r| Ok((r.i64()?, r.i64()?)))?,
            fresh: r.bool()?,
            wait_quote: r.bool()?,
            position: r.i64()?,
        };
        if leg.tick <= 0 || leg.lot <= 0 {
            return Err("state: tick and lot must be positive".into());
        }
        Ok(leg)
    }
}

/// An order of ours without its final report yet.
#[derive(Debug, Clone, PartialEq)]
struct Working {
    /// 0 for leg A, 1 for leg B.
    leg: usize,
    side: Side,
    leaves: i64,
    /// Market time it was sent.
    sent: u64,
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

/// The pairs strategy; see the crate docs.
#[derive(Debug)]
pub struct Pairs {
    params: Params,
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
    working: BTreeMap<u64, Working>,
    /// No order before this market time (after a rejection).
    cooldown_until: u64,
    /// Latest market or report time seen.
    now: u64,
    /// Id of the last order sent; ids start at 1 and are never reused.
    next_id: u64,
    /// The last fit, for logs and tests (not saved: the next sample refits).
    last_fit: Option<Fit>,
}

impl Pairs {
    /// The signed target position of leg `i`.
    fn target(&self, i: usize) -> i64 {
        let sign = i64::from(self.dir);
        match i {
            0 => sign * self.quantity[0],
            _ => -sign * self.quantity[1],
        }
    }

    fn on_target(&self) -> bool {
        (0..2).all(|i| self.legs[i].position == self.target(i))
    }

    fn flatten(&mut self, why: &str) {
        if self.dir != 0 {
            host::log(
                LogLevel::Info,
                &format!("pairs: closing the spread ({why})"),
            );
        }
        self.dir = 0;
        self.transition_ts = self.now;
    }

    /// Take a paired sample if both legs are fresh and `sample_ms` has passed.
    fn sample(&mut self) {
        if !(self.legs[0].fresh && self.legs[1].fresh) {
            return;
        }
        if self
            .last_sample
            .is_some_and(|last| self.now < last.saturating_add(self.params.sample_ns))
        {
            return;
        }
        let (Some(a), Some(b)) = (self.legs[0].mid(), self.legs[1].mid()) else {
            return;
        };
        self.samples.push_back((a, b));
        while self.samples.len() > self.params.window {
            self.samples.pop_front();
        }
        self.legs[0].fresh = false;
        self.legs[1].fresh = false;
        self.last_sample = Some(self.now);
        self.last_fit = None;
        if self.samples.len() == self.params.window
            && let Some(fit) = fit(&self.samples)
        {
            self.last_fit = Some(fit);
            self.decide(fit);
        }
    }

    fn decide(&mut self, fit: Fit) {
        let p = &self.params;
        let z = fit.z;
        if z.abs() < p.entry_z {
            self.armed = true;
        }
        match self.dir {
            0 => {
                let flat = self.legs.iter().all(|l| l.position == 0);
                let idle = self.working.is_empty() && self.now >= self.cooldown_until;
                if !(self.armed && flat && idle && z.abs() >= p.entry_z) {
                    return;
                }
                if !(fit.beta > 0.0 && fit.beta <= p.max_hedge_ratio) {
                    return; // no usable hedge ratio
                }
                let (lot_a, lot_b) = (self.legs[0].lot, self.legs[1].lot);
                let qty_a = fixed::floor_to_tick(p.quantity, lot_a);
                let raw_b = fixed::from_f64(fit.beta * fixed::to_f64(qty_a));
                let qty_b = raw_b.saturating_add(lot_b / 2) / lot_b * lot_b; // nearest lot
                if qty_a <= 0 || qty_b <= 0 {
                    return;
                }
                self.dir = if z > 0.0 { -1 } else { 1 };
                self.quantity = [qty_a, qty_b];
                (self.entry_ts, self.transition_ts) = (self.now, self.now);
                host::log(
                    LogLevel::Info,
                    &format!(
                        "pairs: z {z:.2}, beta {:.4}: {} the spread",
                        fit.beta,
                        if self.dir > 0 { "buying" } else { "selling" }
                    ),
                );
            }
            -1 if z <= p.exit_z => self.flatten("z reverted"),
            1 if z >= -p.exit_z => self.flatten("z reverted"),
            _ => {}
        }
    }

    /// Time stops, abandoned entries and forgotten orders.
    fn manage(&mut self) {
        if self.dir != 0 {
            let legged = !self.on_target();
            let since_transition = self.now.saturating_sub(self.transition_ts);
            let held = self.now.saturating_sub(self.entry_ts);
            if legged && since_transition >= self.params.leg_timeout_ns {
                self.flatten("a leg did not fill in time");
                self.armed = false;
            } else if held >= self.params.max_hold_ns {
                self.flatten("held for max_hold_ms");
                self.armed = false;
            }
        }
        let now = self.now;
        self.working
            .retain(|_, w| w.sent.saturating_add(FORGET_NS) > now);
    }

    /// An IOC at the touch for every leg off its target with nothing in flight.
    fn send(&mut self, orders: &mut Vec<OrderCommand>) {
        if self.now < self.cooldown_until {
            return;
        }
        for i in 0..2 {
            if self.working.values().any(|w| w.leg == i) {
                continue;
            }
            let diff = self.target(i).saturating_sub(self.legs[i].position);
            let leg = &self.legs[i];
            let (Some(instrument), Some((bid, ask))) = (leg.id, leg.touch) else {
                continue;
            };
            let quantity = fixed::floor_to_tick(diff.saturating_abs(), leg.lot);
            if leg.wait_quote || quantity <= 0 {
                continue;
            }
            let (side, price) = if diff > 0 {
                (Side::Buy, fixed::ceil_to_tick(ask, leg.tick))
            } else {
                (Side::Sell, fixed::floor_to_tick(bid, leg.tick))
            };
            if price <= 0 {
                continue;
            }
            self.next_id += 1;
            let id = self.next_id;
            let sent = self.now;
            let working = Working {
                leg: i,
                side,
                leaves: quantity,
                sent,
            };
            self.working.insert(id, working);
            orders.push(OrderCommand::Submit(NewOrder {
                id,
                instrument,
                side,
                order_type: OrderType::Limit,
                time_in_force: TimeInForce::Ioc,
                price,
                quantity,
            }));
        }
    }

    fn leg_of(&self, instrument: u32) -> Option<usize> {
        self.legs.iter().position(|l| l.id == Some(instrument))
    }
}

fn report_ts(event: &OrderEvent) -> u64 {
    match event {
        OrderEvent::Accepted(e) => e.ts,
        OrderEvent::Rejected(e) => e.ts,
        OrderEvent::Filled(e) => e.ts,
        OrderEvent::Canceled(e) => e.ts,
        OrderEvent::Modified(e) => e.ts,
    }
}

impl Strategy for Pairs {
    fn new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            params: Params::from_config(config)?,
            legs: [Leg::new(), Leg::new()],
            samples: VecDeque::new(),
            last_sample: None,
            dir: 0,
            quantity: [0, 0],
            entry_ts: 0,
            transition_ts: 0,
            armed: true,
            working: BTreeMap::new(),
            cooldown_until: 0,
            now: 0,
            next_id: 0,
            last_fit: None,
        })
    }

    fn on_market(&mut self, events: &[MarketEvent], orders: &mut Vec<OrderCommand>) {
        let mut quoted = false;
        for event in events {
            if let Some(ts) = event.ts() {
                self.now = self.now.max(ts);
            }
            match event {
                MarketEvent::Instrument(def) => {
                    if def.symbol == self.params.leg_a {
                        self.legs[0].bind(def);
                    } else if def.symbol == self.params.leg_b {
                        self.legs[1].bind(def);
                    }
                }
                MarketEvent::Quote(q) => {
                    if let Some(i) = self.leg_of(q.instrument) {
                        self.legs[i].observe(q);
                        quoted = true;
                    }
                }
                _ => {}
            }
        }
        if self.legs.iter().any(|l| l.id.is_none()) {
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
            self.now = self.now.max(report_ts(event));
            match event {
                OrderEvent::Filled(f) => {
                    if let Some(i) = self.leg_of(f.instrument) {
                        let quantity = f.quantity.max(0);
                        let signed = match f.side {
                            Side::Buy => quantity,
                            Side::Sell => -quantity,
                        };
                        let leg = &mut self.legs[i];
                        leg.position = leg.position.saturating_add(signed);
                    }
                    if let Some(w) = self.working.get_mut(&f.id) {
                        w.leaves = f.leaves_quantity;
                        if w.leaves <= 0 {
                            self.working.remove(&f.id);
                        }
                    }
                }
                OrderEvent::Canceled(c) => {
                    if let Some(w) = self.working.remove(&c.id) {
                        self.legs[w.leg].wait_quote = true;
                    }
                }
                OrderEvent::Rejected(r) => {
                    if let Some(w) = self.working.remove(&r.id) {
                        self.legs[w.leg].wait_quote = true;
                        self.cooldown_until = self.now.saturating_add(self.params.cooldown_ns);
                        let why = r.rejection.message.as_deref().unwrap_or("");
                        host::log(
                            LogLevel::Warn,
                            &format!(
                                "pairs: order {} rejected: {:?} {why}",
                                r.id, r.rejection.reason
                            ),
                        );
                    }
                }
                OrderEvent::Accepted(_) | OrderEvent::Modified(_) => {}
            }
        }
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION)
            .str(&self.params.leg_a)
            .str(&self.params.leg_b);
        w.u64(self.next_id).u64(self.now).u64(self.cooldown_until);
        for leg in &self.legs {
            leg.save(&mut w);
        }
        w.option(self.last_sample, |w, ts| {
            w.u64(ts);
        });
        w.u32(self.samples.len() as u32);
        for &(a, b) in &self.samples {
            w.i64(a).i64(b);
        }
        let dir = match self.dir {
            0 => 0,
            1 => 1,
            _ => 2,
        };
        w.u8(dir).i64(self.quantity[0]).i64(self.quantity[1]);
        w.u64(self.entry_ts)
            .u64(self.transition_ts)
            .bool(self.armed);
        w.u32(self.working.len() as u32);
        for (&id, o) in &self.working {
            w.u64(id)
                .u8(o.leg as u8)
                .side(o.side)
                .i64(o.leaves)
                .u64(o.sent);
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let (leg_a, leg_b) = (r.string()?, r.string()?);
        if (leg_a.as_str(), leg_b.as_str()) != (self.params.leg_a.as_str(), &self.params.leg_b) {
            return Err(format!(
                "state is for legs {leg_a}/{leg_b}, the config names {}/{}",
                self.params.leg_a, self.params.leg_b
            ));
        }
        let (next_id, now, cooldown_until) = (r.u64()?, r.u64()?, r.u64()?);
        let legs = [Leg::load(&mut r)?, Leg::load(&mut r)?];
        let last_sample = r.option(|r| r.u64())?;
        let count = r.u32()? as usize;
        if count > MAX_WINDOW {
            return Err(format!("state: {count} samples, at most {MAX_WINDOW}"));
        }
        let mut samples = VecDeque::with_capacity(count.min(self.params.window));
        for _ in 0..count {
            samples.push_back((r.i64()?, r.i64()?));
        }
        while samples.len() > self.params.window {
            samples.pop_front(); // a newer config may use a shorter window
        }
        let dir = match r.u8()? {
            0 => 0,
            1 => 1,
            2 => -1,
            other => return Err(format!("state: bad spread direction {other}")),
        };
        let quantity = [r.i64()?, r.i64()?];
        if quantity.iter().any(|&q| q < 0) {
            return Err("state: negative leg quantity".into());
        }
        let (entry_ts, transition_ts, armed) = (r.u64()?, r.u64()?, r.bool()?);
        let orders = r.u32()?;
        if orders > 2 {
            return Err(format!("state: {orders} working orders, at most 2"));
        }
        let mut working = BTreeMap::new();
        for _ in 0..orders {
            let id = r.u64()?;
            let leg = match r.u8()? {
                l @ (0 | 1) => usize::from(l),
                other => return Err(format!("state: bad leg {other}")),
            };
            let order = Working {
                leg,
                side: r.side()?,
                leaves: r.i64()?,
                sent: r.u64()?,
            };
            if id == 0 || id > next_id {
                return Err(format!("state: order {id} is not below the next id"));
            }
            if working.values().any(|w: &Working| w.leg == leg) || working.contains_key(&id) {
                return Err(format!("state: two working orders of leg {leg}"));
            }
            working.insert(id, order);
        }
        r.finish()?;
        // Decoded in full: only now replace the running state.
        self.legs = legs;
        self.samples = samples;
        self.last_sample = last_sample;
        (self.dir, self.quantity) = (dir, quantity);
        (self.entry_ts, self.transition_ts, self.armed) = (entry_ts, transition_ts, armed);
        self.working = working;
        (self.next_id, self.now, self.cooldown_until) = (next_id, now, cooldown_until);
        self.last_fit = None;
        Ok(())
    }
}

tradsys_sdk::export_strategy!(Pairs);

#[cfg(test)]
mod tests;
