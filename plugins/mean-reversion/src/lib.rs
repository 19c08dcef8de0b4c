//! Mean reversion: fades prices that stray far from their recent average.
//!
//! For every instrument the strategy keeps the last `window` quote mids and scores
//! the latest one as `z = (mid - mean) / standard deviation` (the population
//! deviation, from exact integer sums of the mids and their squares, so a mid
//! exactly at a band is at it, not a rounding error either side). A z-score of
//! `entry_z` or more sells `quantity` units (the price should come back down), one
//! of `-entry_z` or less buys them; beyond `extreme_z` the fade doubles to
//! `2 × quantity`. Once `|z|` is back within `exit_z` the position is closed.
//!
//! How it trades depends on why:
//! - entering at an ordinary extreme: a passive GTC limit at the near touch (buy
//!   at the bid, sell at the ask), canceled after `max_age` quote updates or as
//!   soon as the target no longer wants it;
//! - entering at `|z| >= extreme_z`: an IOC limit `extreme_ticks` ticks through
//!   the far touch (buy up to the ask plus that many ticks), to be sure to get in.
//!   Such a price is far from the market and a price collar may refuse it; after
//!   a price-collar rejection the strategy enters passively until `|z|` drops
//!   below `extreme_z` again;
//! - closing (or reducing) a position: a FOK limit at the far touch (sell at the
//!   bid), all or nothing.
//!
//! It keeps its position and its one working order per instrument from its own
//! execution reports. Every quote updates the z-score; orders are decided once per
//! market batch, on each instrument's last quote (the touch the host has just
//! posted as liquidity), and an order that quote trades with is left alone until
//! its fill is reported. After a rejection, or an IOC/FOK order that ended
//! unfilled, it sends no new order for that instrument during `cooldown` quote
//! updates.
//!
//! Config keys (defaults):
//! - `window` (60): quote updates in the rolling mean and deviation, at least 2
//! - `entry_z` (2.0): |z| that opens a position, positive
//! - `exit_z` (0.5): |z| at or below which the position is closed, from 0 to below
//!   `entry_z`
//! - `extreme_z` (2.5): |z| that doubles the size and crosses the market, at least
//!   `entry_z`
//! - `extreme_ticks` (30): ticks through the far touch of an extreme entry
//! - `quantity` (100): units of an ordinary entry, positive
//! - `max_age` (30): quote updates a passive order may work before it is canceled
//! - `cooldown` (10): quote updates to wait after a rejection or unfilled IOC/FOK
//!
//! In the synthetic market, 30 ticks is 30 bps of SYN-A, 60 bps of SYN-B and 75
//! bps of SYN-C: a 50 bps price collar lets the first through and refuses the
//! others.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use tradsys_sdk::keeper::{Change, Keeper};
use tradsys_sdk::{
    Config, MarketEvent, OrderCommand, OrderEvent, OrderType, Params, Quote, RejectReason, Side,
    Strategy, TimeInForce, fixed, state,
};

/// Format version of `save_state` (3: serde, the keeper holding tick and lot).
const STATE_VERSION: u8 = 3;

/// Tunables from the plugin config (keys and defaults in the crate docs).
#[derive(Debug, Clone, Params)]
#[params(also = "signals", check = Self::check)]
struct Tunables {
    #[param(default = 60, min = 2, max = 100_000)]
    window: usize,
    #[param(default = 2.0, positive)]
    entry_z: f64,
    #[param(default = 0.5, min = 0.0)]
    exit_z: f64,
    #[param(default = 2.5, min = entry_z)]
    extreme_z: f64,
    #[param(default = 30, min = 0, max = 1_000_000)]
    extreme_ticks: i64,
    #[param(decimal = "100", positive, max = "1000000000")]
    quantity: i64,
    #[param(default = 30, min = 1)]
    max_age: u32,
    #[param(default = 10)]
    cooldown: u32,
}

impl Tunables {
    fn check(&self) -> Result<(), String> {
        match self.exit_z < self.entry_z {
            true => Ok(()),
            false => Err("config `exit_z`: must be at least 0 and below `entry_z`".into()),
        }
    }
}

/// What the strategy tracks for one instrument besides its orders.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Instrument {
    /// The last `window` mids, oldest first.
    mids: VecDeque<i64>,
    /// Σ mid and Σ mid² over `mids`, exact, kept as they change (not saved:
    /// `load_state` sums the mids again); no Σ mid² once it overflowed.
    #[serde(skip)]
    sums: Sums,
    /// Signed position the strategy wants.
    target: i64,
    /// A price collar refused an extreme entry: enter passively until `|z|` eases.
    collared: bool,
}

/// Σ mid and Σ mid² of a window of mids; no Σ mid² once it overflowed.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sums(i128, Option<i128>);

impl Default for Sums {
    fn default() -> Self {
        Self(0, Some(0))
    }
}

/// The z-score of the newest mid against the full window, if it has any
/// spread, by two passes in floating point.
fn z_score(mids: &VecDeque<i64>, window: usize) -> Option<f64> {
    if mids.len() < window {
        return None;
    }
    let n = mids.len() as f64;
    let values = || mids.iter().map(|&m| fixed::to_f64(m));
    let mean = values().sum::<f64>() / n;
    let var = values().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    let last = fixed::to_f64(*mids.back()?);
    (var > 0.0).then(|| (last - mean) / var.sqrt())
}

impl Instrument {
    /// Add a mid to the window (and its sums), dropping the oldest beyond `window`.
    fn push(&mut self, mid: i64, window: usize) {
        self.mids.push_back(mid);
        let m = i128::from(mid);
        self.sums = Sums(
            self.sums.0 + m,
            self.sums.1.and_then(|s| s.checked_add(m * m)),
        );
        while self.mids.len() > window {
            let m = i128::from(self.mids.pop_front().expect("longer than the window"));
            self.sums = Sums(self.sums.0 - m, self.sums.1.map(|s| s - m * m));
        }
    }

    /// The sums of the mids, from scratch (after `load_state`).
    fn resum(&mut self) {
        let m = || self.mids.iter().map(|&m| i128::from(m));
        self.sums = Sums(m().sum(), m().try_fold(0i128, |s, m| s.checked_add(m * m)));
    }

    /// The z-score of the newest mid against the full window, if it has any
    /// spread: `(n·last − Σm) / √(n·Σm² − (Σm)²)`, the population deviation,
    /// from the exact running sums in one step instead of two passes over
    /// the window (prices too large for them take the two passes).
    fn z_score(&self, window: usize) -> Option<f64> {
        if self.mids.len() < window {
            return None;
        }
        let (n, last) = (self.mids.len() as i128, i128::from(*self.mids.back()?));
        let Sums(sum, squares) = self.sums;
        let spread = squares
            .and_then(|squares| n.checked_mul(squares))
            .zip(sum.checked_mul(sum))
            .and_then(|(a, b)| a.checked_sub(b));
        let Some(spread) = spread else {
            return z_score(&self.mids, window);
        };
        (spread > 0).then(|| (n * last - sum) as f64 / (spread as f64).sqrt())
    }

    /// Move `target` for a new z-score: fade beyond `entry_z`, flatten inside `exit_z`.
    fn update_target(&mut self, z: f64, p: &Tunables) {
        if z.abs() < p.extreme_z {
            self.collared = false;
        }
        if z.abs() <= p.exit_z {
            self.target = 0;
        } else if z.abs() >= p.entry_z {
            let size = if z.abs() >= p.extreme_z {
                2 * p.quantity
            } else {
                p.quantity
            };
            let target = if z > 0.0 { -size } else { size };
            // Keep a larger fade on the same side until the exit band.
            if target.signum() != self.target.signum() || size > self.target.abs() {
                self.target = target;
            }
        }
    }

    /// Take in one quote: the window, the target, the order's age and the
    /// cooldown move on. Returns false for a quote unfit to trade on.
    fn observe(&mut self, q: &Quote, p: &Tunables) -> bool {
        if q.bid_price <= 0 || q.ask_price < q.bid_price {
            return false; // empty or crossed book
        }
        let mid = (i128::from(q.bid_price) + i128::from(q.ask_price)) / 2;
        self.push(mid as i64, p.window);
        if let Some(z) = self.z_score(p.window) {
            self.update_target(z, p);
        }
        true
    }

    /// Decide this batch's command on the instrument's last quote `q`.
    fn act(&mut self, q: &Quote, p: &Tunables, keeper: &mut Keeper, out: &mut Vec<OrderCommand>) {
        let position = keeper.position(q.instrument);
        let wanted = self.target.saturating_sub(position);
        let side = if wanted > 0 { Side::Buy } else { Side::Sell };
        if let Some(o) = keeper.in_flight(q.instrument).cloned() {
            // When the host's posting of this quote trades with the order, its
            // fill report is on the way: leave the order alone until then.
            let traded = match o.side {
                Side::Buy => q.ask_price <= o.price,
                Side::Sell => q.bid_price >= o.price,
            };
            // Stale, or a resting entry the target no longer wants (an IOC or
            // FOK ends on its own right away).
            let gtc = o.time_in_force == TimeInForce::Gtc;
            let unwanted = gtc && (wanted == 0 || o.side != side);
            if o.canceling() && o.age >= p.max_age.saturating_mul(3) {
                keeper.forget(o.id); // the cancel was never answered
            } else if !o.canceling() && !traded && (o.age >= p.max_age || unwanted) {
                keeper.cancel(out, o.id);
            }
            return;
        }
        if keeper.cooling(q.instrument) {
            return;
        }
        let Some(grid) = keeper.grid(q.instrument) else {
            return;
        };
        let (tick, lot) = (grid.tick, grid.lot);
        let quantity = fixed::floor_to_tick(wanted.saturating_abs(), lot);
        let Some(z) = self.z_score(p.window).filter(|_| quantity > 0) else {
            return;
        };
        let reducing = match side {
            Side::Buy => position < 0 && self.target <= 0,
            Side::Sell => position > 0 && self.target >= 0,
        };
        let far = match side {
            Side::Buy => fixed::ceil_to_tick(q.ask_price, tick),
            Side::Sell => fixed::floor_to_tick(q.bid_price, tick),
        };
        let (tif, price) = if reducing {
            (TimeInForce::Fok, far)
        } else if z.abs() >= p.extreme_z && !self.collared {
            let through = tick.saturating_mul(p.extreme_ticks);
            let price = match side {
                Side::Buy => far.saturating_add(through),
                Side::Sell => far.saturating_sub(through).max(tick),
            };
            (TimeInForce::Ioc, price)
        } else {
            let near = match side {
                Side::Buy => fixed::floor_to_tick(q.bid_price, tick),
                Side::Sell => fixed::ceil_to_tick(q.ask_price, tick),
            };
            (TimeInForce::Gtc, near)
        };
        let limit = OrderType::Limit;
        keeper.submit(out, q.instrument, side, limit, tif, price, quantity);
    }

    /// An IOC or FOK that got nothing (the touch was too thin) and any
    /// rejection pause it for `cooldown` quotes; a collar that refused an
    /// extreme IOC entry makes it enter passively until `|z|` eases.
    fn on_change(&mut self, change: &Change, keeper: &mut Keeper, p: &Tunables) {
        match change {
            Change::Canceled(o) if o.time_in_force != TimeInForce::Gtc && o.filled == 0 => {
                keeper.cool(o.instrument, p.cooldown);
            }
            Change::Rejected { order, reason } | Change::CancelRefused { order, reason } => {
                keeper.cool(order.instrument, p.cooldown);
                let ioc = order.time_in_force == TimeInForce::Ioc;
                if *reason == RejectReason::PriceCollar && ioc {
                    self.collared = true;
                }
            }
            _ => {}
        }
    }
}

/// The mean-reversion strategy; see the crate docs.
#[derive(Debug)]
pub struct MeanReversion {
    p: Tunables,
    instruments: BTreeMap<u32, Instrument>,
    /// Its orders, positions, cooldowns, ticks and lots.
    keeper: Keeper,
}

impl Strategy for MeanReversion {
    fn new(config: &Config) -> Result<Self, String> {
        let p = Tunables::from_config(config)?;
        let (instruments, keeper) = Default::default();
        Ok(Self {
            p,
            instruments,
            keeper,
        })
    }

    fn on_market(&mut self, events: &[MarketEvent], orders: &mut Vec<OrderCommand>) {
        // Every quote updates the z-score; orders are decided once per batch on
        // each instrument's last quote, the touch the host has just posted.
        let mut last = BTreeMap::new();
        for event in events {
            match event {
                MarketEvent::Instrument(def) => self.keeper.define(def),
                MarketEvent::Quote(q) if self.keeper.grid(q.instrument).is_some() => {
                    let inst = self.instruments.entry(q.instrument).or_default();
                    if inst.observe(q, &self.p) {
                        // A quote is its clock: orders age, cooldowns run down.
                        self.keeper.tick(q.instrument);
                        last.insert(q.instrument, q);
                    }
                }
                _ => {}
            }
        }
        for (id, q) in last {
            let inst = self.instruments.get_mut(&id).expect("observed");
            inst.act(q, &self.p, &mut self.keeper, orders);
        }
    }

    fn on_order_events(&mut self, events: &[OrderEvent], _orders: &mut Vec<OrderCommand>) {
        for event in events {
            let change = self.keeper.apply(event);
            let inst = self.instruments.get_mut(&event.instrument());
            if let (Some(change), Some(inst)) = (change, inst) {
                inst.on_change(&change, &mut self.keeper, &self.p);
            }
        }
    }

    fn save_state(&self) -> Vec<u8> {
        state::save(STATE_VERSION, &(&self.keeper, &self.instruments))
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        // (Mids beyond a shorter window go with the next quote.)
        let (keeper, mut instruments): (Keeper, BTreeMap<u32, Instrument>) =
            state::load(STATE_VERSION, state)?;
        instruments.values_mut().for_each(Instrument::resum);
        (self.keeper, self.instruments) = (keeper, instruments);
        Ok(())
    }
}

tradsys_sdk::export_strategy!(MeanReversion);

#[cfg(test)]
mod tests;
