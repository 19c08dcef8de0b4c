//! Moving-average crossover: a trend-following strategy.
//!
//! For every instrument it keeps the last `slow` quote mids and compares the
//! simple moving average of the last `fast` of them with that of all `slow`.
//! When the fast average crosses above the slow one (a golden cross) it targets
//! a long position of `quantity`; when it crosses below (a death cross), a short
//! one of `quantity`. A cross counts once the gap between the averages exceeds
//! `band_bps` (hysteresis against whipsaws). The first full window only tells it
//! which side the fast average is on; it trades only on a later cross. While a
//! trend lasts, every further `scale_bps` of gap adds another `quantity` to the
//! target, up to `max_position`, so a flip from a scaled-up long to a short is a
//! large order: position, quantity and notional limits are there to catch these.
//!
//! Orders are marketable IOC limits: buy at the ask, sell at the bid. Every quote
//! updates the averages, but orders are decided once per market batch, on each
//! instrument's last quote (the touch the host has just posted as liquidity). At
//! most one order per instrument is in flight; any shortfall (partial fill, no
//! liquidity) is retried on a later batch. The strategy keeps its position and
//! order from its own execution reports. After a rejection it waits `cooldown`
//! quote updates of that instrument; a rejected add-on to a trend is abandoned,
//! and after a quantity, notional or position-limit rejection of an entry it
//! works the rest in clips of half the refused size.
//!
//! Config keys (defaults):
//! - `fast` (10): quote updates in the fast average, at least 1
//! - `slow` (40): quote updates in the slow average, more than `fast`
//! - `quantity` (100): units per position step, positive
//! - `max_position` (400): largest absolute target position, at least `quantity`
//! - `band_bps` (1.5): gap between the averages, in basis points of the slow
//!   average, that makes a cross, not negative
//! - `scale_bps` (3): further gap, in basis points, per added step; 0 never adds
//! - `cooldown` (20): quote updates to wait after a rejection

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use tradsys_sdk::keeper::{Change, Keeper};
use tradsys_sdk::{
    Config, MarketEvent, OrderCommand, OrderEvent, Params, Quote, Side, Strategy, fixed, state,
};

/// Format version of `save_state` (3: serde, the keeper holding tick and lot).
const STATE_VERSION: u8 = 3;

/// Quote updates after which an order still in flight is canceled. An IOC order
/// normally ends in the report batch right after its submission; this only
/// clears one the host left open. After three times as many, a cancel that was
/// never answered is given up and the order forgotten.
const STALE_QUOTES: u32 = 10;

/// Tunables read from the plugin config; see the crate docs for the keys.
#[derive(Debug, Clone, Params)]
#[params(also = "signals")]
struct Tunables {
    #[param(default = 10, min = 1)]
    fast: usize,
    #[param(default = 40, min = fast + 1, max = 100_000)]
    slow: usize,
    #[param(decimal = "100", positive)]
    quantity: i64,
    #[param(decimal = "400", min = quantity)]
    max_position: i64,
    #[param(default = 1.5, min = 0.0)]
    band_bps: f64,
    /// 0 disables scaling in.
    #[param(default = 3.0, min = 0.0)]
    scale_bps: f64,
    #[param(default = 20)]
    cooldown: u32,
}

/// Everything the strategy tracks for one instrument.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Book {
    /// The last `slow` mids, oldest first.
    mids: VecDeque<i64>,
    /// Side of the fast average against the slow one: 1 above, -1 below, 0 unknown.
    trend: i8,
    /// Steps of `quantity` reached in the current trend.
    level: i64,
    /// Signed position the strategy works towards.
    target: i64,
    /// Largest order to send (none: no limit); shrinks after limit
    /// rejections, none again on a cross.
    clip: Option<i64>,
}

impl Book {
    /// Take in one quote: the averages and the target move on. Returns
    /// false for a quote unfit to trade on.
    fn observe(&mut self, q: &Quote, p: &Tunables) -> bool {
        if q.bid_price <= 0 || q.ask_price < q.bid_price {
            return false; // empty or crossed book
        }
        let mid = (i128::from(q.bid_price) + i128::from(q.ask_price)) / 2;
        self.mids.push_back(mid as i64);
        self.mids.drain(..self.mids.len().saturating_sub(p.slow));
        if self.mids.len() == p.slow {
            self.update_target(p);
        }
        true
    }

    /// Detect crosses and trend strength, and move `target` accordingly.
    fn update_target(&mut self, p: &Tunables) {
        let sum =
            |n: usize| -> i128 { self.mids.iter().rev().take(n).map(|&m| i128::from(m)).sum() };
        let (fast_sum, slow_sum) = (sum(p.fast), sum(p.slow));
        if slow_sum <= 0 {
            return;
        }
        // (fast_avg - slow_avg) * fast * slow, exact; divided by fast * slow_sum
        // it is the gap as a fraction of the slow average.
        let diff = fast_sum * p.slow as i128 - slow_sum * p.fast as i128;
        let gap_bps = diff as f64 / (p.fast as f64 * slow_sum as f64) * 1e4;
        if gap_bps.abs() <= p.band_bps {
            return; // inside the band: no (new) side
        }
        let trend = if gap_bps > 0.0 { 1 } else { -1 };
        if self.trend == 0 {
            self.trend = trend; // first full window: learn the side, no cross yet
        } else if trend != self.trend {
            (self.trend, self.level, self.clip) = (trend, 1, None);
            self.target = i64::from(trend) * p.quantity;
        } else if self.target != 0 && p.scale_bps > 0.0 {
            let level = 1 + ((gap_bps.abs() - p.band_bps) / p.scale_bps) as i64; // saturating
            if level > self.level && self.target.abs() < p.max_position {
                self.level = level;
                let size = p.quantity.saturating_mul(level).min(p.max_position);
                self.target = i64::from(trend) * size;
            }
        }
    }

    /// Send what it takes to move from the position to `target`, one order
    /// at a time: an order still in flight after `STALE_QUOTES` quotes is
    /// canceled, and forgotten after three times as many.
    fn trade(&self, q: &Quote, keeper: &mut Keeper, out: &mut Vec<OrderCommand>) {
        if keeper.ready(out, q.instrument, STALE_QUOTES, 3 * STALE_QUOTES) {
            let clip = self.clip.unwrap_or(i64::MAX);
            let wanted = self.target.saturating_sub(keeper.position(q.instrument));
            keeper.take(out, q, wanted.clamp(-clip, clip));
        }
    }

    /// After a rejection of its order (or of its cancel) it waits
    /// `cooldown` quotes; a refused add-on to a trend is abandoned, a refused
    /// entry worked in clips of half the refused size.
    fn on_change(&mut self, change: &Change, keeper: &mut Keeper, p: &Tunables) {
        if change.refused().is_some() {
            keeper.cool(change.order().instrument, p.cooldown);
        }
        let Change::Rejected { order, reason } = change else {
            return;
        };
        let position = keeper.position(order.instrument);
        let lot = keeper.grid(order.instrument).map_or(1, |g| g.lot);
        // (No leaves: the order had already ended.)
        if order.leaves > 0 && position != 0 && (order.side == Side::Buy) == (position > 0) {
            self.target = position; // abandon this add-on
        } else if order.leaves > 0 && reason.is_size_limit() {
            self.clip = Some(fixed::floor_to_tick(order.leaves / 2, lot).max(lot));
        }
    }
}

/// The moving-average crossover strategy; see the crate docs.
#[derive(Debug)]
pub struct MaCrossover {
    p: Tunables,
    books: BTreeMap<u32, Book>,
    /// Its orders, positions, cooldowns, ticks and lots.
    keeper: Keeper,
}

impl Strategy for MaCrossover {
    fn new(config: &Config) -> Result<Self, String> {
        let p = Tunables::from_config(config)?;
        let (books, keeper) = Default::default();
        Ok(Self { p, books, keeper })
    }

    fn on_market(&mut self, events: &[MarketEvent], orders: &mut Vec<OrderCommand>) {
        // Every quote updates the signal; orders are decided once per batch on
        // each instrument's last quote, the touch the host has just posted.
        let mut last = BTreeMap::new();
        for event in events {
            match event {
                MarketEvent::Instrument(def) => self.keeper.define(def),
                MarketEvent::Quote(q) if self.keeper.grid(q.instrument).is_some() => {
                    let book = self.books.entry(q.instrument).or_default();
                    if book.observe(q, &self.p) {
                        // A quote is its clock: orders age, cooldowns run down.
                        self.keeper.tick(q.instrument);
                        last.insert(q.instrument, q);
                    }
                }
                _ => {}
            }
        }
        for (id, q) in last {
            self.books[&id].trade(q, &mut self.keeper, orders);
        }
    }

    fn on_order_events(&mut self, events: &[OrderEvent], _orders: &mut Vec<OrderCommand>) {
        for event in events {
            let change = self.keeper.apply(event);
            if let (Some(change), Some(book)) = (change, self.books.get_mut(&event.instrument())) {
                book.on_change(&change, &mut self.keeper, &self.p);
            }
        }
    }

    fn save_state(&self) -> Vec<u8> {
        state::save(STATE_VERSION, &(&self.keeper, &self.books))
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let (keeper, books): (Keeper, BTreeMap<u32, Book>) = state::load(STATE_VERSION, state)?;
        // (Mids beyond a shorter window go with the next quote.)
        let bad = |b: &Book| !(-1..=1).contains(&b.trend) || b.clip.is_some_and(|c| c <= 0);
        if books.values().any(bad) {
            return Err("state: bad trend or clip".into());
        }
        // Only now, with everything decoded, replace the running state.
        (self.keeper, self.books) = (keeper, books);
        Ok(())
    }
}

tradsys_sdk::export_strategy!(MaCrossover);

#[cfg(test)]
mod tests;
