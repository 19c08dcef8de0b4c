//! Momentum: buys what has been rising and sells what has been falling, passively.
//!
//! For every instrument the strategy measures the return of the quote mid over the
//! last `lookback` quote updates. A return of at least `threshold_bps` basis points
//! (either way) is a signal; its strength is how many thresholds it spans, capped
//! at `max_scale`. A buy signal aims for a long position of strength × `quantity`
//! (at most `max_position`), a sell signal for the same short; a position already
//! that large is left alone.
//!
//! It works towards that target with a ladder of passive GTC child orders of
//! `quantity` each: the first at the touch (a buy at the best bid, a sell at the
//! best ask), each further one a tick behind the last, at most `max_scale` at once.
//! When the market runs `reprice_ticks` or more away from the ladder (the bid rises
//! above its best buy, the ask falls below its best sell), every rung is moved up
//! to it with a modify. Rungs are canceled once they have worked `max_age` quote
//! updates, or as soon as the signal turns against them. A strong move therefore
//! brings bursts of submits and modifies: an order-rate throttle will cut some.
//!
//! Every quote updates the signal; orders are decided once per market batch, on
//! each instrument's last quote (the touch the host has just posted as liquidity).
//! When that quote trades with a rung, the strategy waits for the fill report
//! before it touches the ladder again. It keeps its position and its rungs from
//! its own execution reports, and after any rejection sends no new order or modify
//! for the instrument during `cooldown` quote updates (cancels still go out).
//! It also learns the position limit it trades under: a position-limit rejection
//! caps its target at the exposure that was accepted, and every rung that fills in
//! full raises that cap by `quantity` again.
//!
//! Config keys (defaults):
//! - `lookback` (20): quote updates the return is measured over, at least 1
//! - `threshold_bps` (6): smallest return that is a signal, in basis points, positive
//! - `quantity` (100): units per threshold of signal strength and per rung, positive
//! - `max_scale` (5): largest strength multiple and most rungs at once, at least 1
//! - `max_position` (500): largest absolute position aimed for, at least `quantity`
//! - `max_age` (30): quote updates a rung may work before it is canceled
//! - `reprice_ticks` (1): ticks the market must run away from the ladder to move
//!   it; 0 never re-prices
//! - `cooldown` (10): quote updates to wait after a rejection

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use tradsys_sdk::keeper::{Change, Keeper, Pending};
use tradsys_sdk::{
    Config, MarketEvent, OrderCommand, OrderEvent, OrderType, Params, Quote, RejectReason, Side,
    Strategy, TimeInForce, fixed, state,
};

/// Format version of `save_state` (2: serde, the rungs in the SDK's keeper).
const STATE_VERSION: u8 = 2;

/// Tunables from the plugin config (keys and defaults in the crate docs).
#[derive(Debug, Clone, Params)]
#[params(also = "signals")]
struct Tunables {
    #[param(default = 20, min = 1, max = 100_000)]
    lookback: usize,
    #[param(default = 6.0, positive)]
    threshold_bps: f64,
    #[param(decimal = "100", positive)]
    quantity: i64,
    #[param(default = 5, min = 1, max = 1000)]
    max_scale: i64,
    #[param(decimal = "500", min = quantity)]
    max_position: i64,
    #[param(default = 30, min = 1)]
    max_age: u32,
    #[param(default = 1, min = 0)]
    reprice_ticks: i64,
    #[param(default = 10)]
    cooldown: u32,
}

/// What the strategy tracks for one instrument besides its rungs (the
/// working child orders, in the keeper).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Instrument {
    /// The last `lookback + 1` mids, oldest first.
    mids: VecDeque<i64>,
    /// Largest absolute position the risk limits are believed to allow
    /// (none: no limit met yet).
    limit: Option<i64>,
}

impl Instrument {
    /// Take in one quote; false for a quote unfit to trade on.
    fn observe(&mut self, q: &Quote, p: &Tunables) -> bool {
        if q.bid_price <= 0 || q.ask_price < q.bid_price {
            return false; // empty or crossed book
        }
        let mid = (i128::from(q.bid_price) + i128::from(q.ask_price)) / 2;
        self.mids.push_back(mid as i64);
        self.mids
            .drain(..self.mids.len().saturating_sub(p.lookback + 1));
        true
    }

    /// The signal side and its strength in thresholds, once the window is full.
    fn signal(&self, p: &Tunables) -> Option<(Side, i64)> {
        let (&first, &last) = (self.mids.front()?, self.mids.back()?);
        if self.mids.len() <= p.lookback || first <= 0 {
            return None;
        }
        let return_bps = (fixed::to_f64(last) / fixed::to_f64(first) - 1.0) * 1e4;
        let strength = (return_bps.abs() / p.threshold_bps) as i64; // saturating cast
        let side = if return_bps > 0.0 {
            Side::Buy
        } else {
            Side::Sell
        };
        (strength >= 1).then(|| (side, strength.min(p.max_scale)))
    }

    /// Decide this batch's commands on the instrument's last quote `q`.
    fn act(&self, q: &Quote, p: &Tunables, keeper: &mut Keeper, out: &mut Vec<OrderCommand>) {
        let id = q.instrument;
        let forget_after = p.max_age.saturating_mul(3);
        // A cancel never answered is given up.
        keeper.forget_where(id, |o| o.canceling() && o.age >= forget_after);
        if keeper.orders(id).any(|o| o.crossed_by(q)) {
            return; // a fill is on its way: decide once it is known
        }
        let signal = self.signal(p);
        let against = |side: Side| signal.is_some_and(|(s, _)| s != side);
        keeper.cancel_where(out, id, |o| against(o.side) || o.age >= p.max_age);
        let Some((side, strength)) = signal else {
            return;
        };
        if keeper.cooling(id) || keeper.orders(id).any(|o| o.canceling()) {
            return; // wait out the cooldown, or for cancels to be confirmed
        }
        // From here on every rung is on the signal's side.
        let Some(grid) = keeper.grid(id) else { return };
        let touch = match side {
            Side::Buy => fixed::floor_to_tick(q.bid_price, grid.tick),
            Side::Sell => fixed::ceil_to_tick(q.ask_price, grid.tick),
        };
        // Move the whole ladder up to a touch that ran away from it.
        let prices = keeper.orders(id).map(|o| o.price);
        let away = match side {
            Side::Buy => prices.max().map(|best| touch - best),
            Side::Sell => prices.min().map(|best| best - touch),
        };
        let threshold = p.reprice_ticks.saturating_mul(grid.tick);
        if let Some(away) = away.filter(|&a| p.reprice_ticks > 0 && a >= threshold) {
            let settled: Vec<_> = keeper.orders(id).filter(|o| o.settled()).cloned().collect();
            for o in settled {
                keeper.modify(out, o.id, o.price + side.signed(away), o.quantity);
            }
        }
        // Add rungs behind the ladder until it covers the target (or is full),
        // each one a tick behind the deepest (the first at the touch).
        let target = p.quantity.saturating_mul(strength).min(p.max_position);
        let target = target.min(self.limit.unwrap_or(i64::MAX));
        let held = side.signed(keeper.position(id));
        let working: i64 = keeper.orders(id).map(|o| o.leaves).sum();
        let mut need = target.saturating_sub(held).saturating_sub(working);
        let step = side.signed(-grid.tick);
        let deepest = match side {
            Side::Buy => keeper.orders(id).map(|o| o.price).min(),
            Side::Sell => keeper.orders(id).map(|o| o.price).max(),
        };
        let mut price = deepest.map_or(touch, |d| d.saturating_add(step));
        let mut count = keeper.orders(id).count() as i64;
        while count < p.max_scale && price > 0 {
            let quantity = fixed::floor_to_tick(need.min(p.quantity), grid.lot);
            if quantity <= 0 {
                break;
            }
            let (limit, gtc) = (OrderType::Limit, TimeInForce::Gtc);
            keeper.submit(out, id, side, limit, gtc, price, quantity);
            need -= quantity;
            count += 1;
            price = price.saturating_add(step);
        }
    }

    /// A rung that fills in full raises the learned limit by a `quantity`;
    /// a position-limit refusal of a new rung caps it at what was working
    /// without it.
    fn on_change(&mut self, change: &Change, keeper: &Keeper, p: &Tunables) {
        match change {
            Change::Filled { done: true, .. } => {
                self.limit = self.limit.map(|l| l.saturating_add(p.quantity)); // probe higher
            }
            Change::Rejected { order, reason }
                if order.pending == Some(Pending::Submit)
                    && *reason == RejectReason::PositionLimit =>
            {
                let held = order.side.signed(keeper.position(order.instrument));
                let same_side = keeper
                    .orders(order.instrument)
                    .filter(|o| o.side == order.side);
                let working: i64 = same_side.map(|o| o.leaves).sum();
                self.limit = Some(held.saturating_add(working).max(p.quantity));
            }
            _ => {}
        }
    }
}

/// The momentum strategy; see the crate docs.
#[derive(Debug)]
pub struct Momentum {
    p: Tunables,
    instruments: BTreeMap<u32, Instrument>,
    /// Its rungs, positions, cooldowns, ticks and lots.
    keeper: Keeper,
}

impl Strategy for Momentum {
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
        let mut last = BTreeMap::new();
        for event in events {
            match event {
                MarketEvent::Instrument(def) => self.keeper.define(def),
                MarketEvent::Quote(q) if self.keeper.grid(q.instrument).is_some() => {
                    let inst = self.instruments.entry(q.instrument).or_default();
                    if inst.observe(q, &self.p) {
                        // A quote is its clock: rungs age, cooldowns run down.
                        self.keeper.tick(q.instrument);
                        last.insert(q.instrument, q);
                    }
                }
                _ => {}
            }
        }
        for (id, q) in last {
            self.instruments[&id].act(q, &self.p, &mut self.keeper, orders);
        }
    }

    fn on_order_events(&mut self, events: &[OrderEvent], _orders: &mut Vec<OrderCommand>) {
        for event in events {
            let Some(change) = self.keeper.apply(event) else {
                continue; // not a working rung (or one already forgotten)
            };
            if change.refused().is_some() {
                self.keeper.cool(event.instrument(), self.p.cooldown);
            }
            if let Some(inst) = self.instruments.get_mut(&event.instrument()) {
                inst.on_change(&change, &self.keeper, &self.p);
            }
        }
    }

    fn save_state(&self) -> Vec<u8> {
        state::save(STATE_VERSION, &(&self.keeper, &self.instruments))
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        // (Mids beyond a shorter lookback go with the next quote.)
        (self.keeper, self.instruments) = state::load(STATE_VERSION, state)?;
        Ok(())
    }
}

tradsys_sdk::export_strategy!(Momentum);

#[cfg(test)]
mod tests;
