//! Market maker: quotes both sides of every instrument, passively, leaning against its inventory.
//!
//! For every instrument the strategy keeps at most one working GTC limit order per side (a bid
//! and an ask). Their prices come from a reference price and a half-spread:
//!
//! - the reference is the quote mid, or with `reference = "microprice"` the touch weighted by the
//!   size on the other side, `(bid × ask_size + ask × bid_size) / (bid_size + ask_size)`, from the
//!   host's book (`host::depth(instrument, 1)`; the quote's sizes when the book has no touch);
//! - the bid is `reference − half_spread_ticks − skew`, rounded down to the tick, the ask
//!   `reference + half_spread_ticks − skew`, rounded up, where the skew is
//!   `skew_ticks_per_lot` ticks per lot of position, rounded to whole ticks: long, both quotes
//!   move down (buy less eagerly, sell more), short, both move up, so the inventory
//!   mean-reverts;
//! - it never quotes inside the touch: the bid is at most the best bid and the ask at least the
//!   best ask. It only ever makes liquidity.
//!
//! Each quote is `quantity` units, cut so that a full fill cannot take the position beyond
//! `max_position` either way; at `max_position` the side that would add to it is not quoted.
//!
//! Orders are decided on each instrument's last quote of a market batch (the host posts a quote
//! after every change of a book's touch, so this works on quote, depth and order-by-order feeds
//! alike). A working quote whose desired price moved `requote_ticks` or more is re-priced with a
//! modify (which restates the full size), at most once per `min_requote_ms` of market time per
//! side (submits count too; cancels are never held back). When the book is one-sided, locked or
//! crossed every quote is canceled, and none is sent until it is two-sided again. When that quote
//! trades with one of ours, nothing is done for the instrument until the fill is reported.
//!
//! It keeps its position, its working quotes and their leaves from its own execution reports, and
//! sends nothing more about a quote until the last command about it was answered. After a
//! rejection it sends no new order or modify for the instrument during `cooldown` quote updates
//! (cancels still go out). A rejection of a command about an order that already finished (a
//! modify racing with the fill that completed it) is ignored.
//!
//! Config keys (defaults):
//! - `reference` (`mid`): `mid` or `microprice`
//! - `half_spread_ticks` (1): ticks from the reference to each quote, at least 1
//! - `skew_ticks_per_lot` (0.01): ticks both quotes move against each lot of position, a decimal
//!   from 0 to 1000 (the synthetic market's lot is one unit: 0.01 is a tick per 100 units)
//! - `quantity` (100): units per quote, positive (rounded down to the instrument's lot)
//! - `max_position` (500): largest absolute position, at least `quantity`
//! - `requote_ticks` (1): ticks the desired price must move from a working quote to re-price it,
//!   at least 1
//! - `min_requote_ms` (250): market milliseconds between two submits or modifies of one side
//! - `cooldown` (10): quote updates to wait after a rejection

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tradsys_sdk::keeper::{Keeper, Order};
use tradsys_sdk::{
    Config, MarketEvent, OrderCommand, OrderEvent, OrderType, Params, Quote, Side, Strategy,
    TimeInForce, fixed, host, state,
};

/// Format version of `save_state` (2: serde, the quotes in the SDK's keeper).
const STATE_VERSION: u8 = 2;

/// Most instruments quoted (and kept in state); definitions beyond are ignored. With two quotes
/// each at most, this bounds the working orders.
const MAX_INSTRUMENTS: usize = 1024;

/// Where the quotes are centred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reference {
    Mid,
    Microprice,
}

impl FromStr for Reference {
    type Err = ();
    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "mid" => Ok(Self::Mid),
            "microprice" => Ok(Self::Microprice),
            _ => Err(()),
        }
    }
}

/// Tunables from the plugin config (keys and defaults in the crate docs).
#[derive(Debug, Clone, Params)]
#[params(also = "signals")]
struct Tunables {
    #[param(default = Reference::Mid)]
    reference: Reference,
    #[param(default = 1, min = 1, max = 100_000)]
    half_spread_ticks: i64,
    /// Fixed point: `fixed::SCALE` is one tick per lot.
    #[param(decimal = "0.01", min = "0", max = "1000")]
    skew_ticks_per_lot: i64,
    #[param(decimal = "100", positive)]
    quantity: i64,
    #[param(decimal = "500", min = quantity)]
    max_position: i64,
    #[param(default = 1, min = 1, max = 100_000)]
    requote_ticks: i64,
    #[param(default = 250)]
    min_requote_ms: u64,
    #[param(default = 10)]
    cooldown: u32,
}

const SIDES: [Side; 2] = [Side::Buy, Side::Sell];

fn clamp_i64(value: i128) -> i64 {
    value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// The working quote of `side` in `instrument` (at most one per side).
fn working(keeper: &Keeper, instrument: u32, side: Side) -> Option<&Order> {
    keeper.orders(instrument).find(|o| o.side == side)
}

/// What the strategy tracks for one instrument besides its quotes (in the keeper).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Instrument {
    /// Market time of the last submit or modify of the bid and of the ask.
    last_sent: [Option<u64>; 2],
}

/// Where the quotes are centred for the touch `q`.
fn reference(q: &Quote, p: &Tunables) -> i128 {
    let (bid, ask) = (i128::from(q.bid_price), i128::from(q.ask_price));
    if p.reference == Reference::Mid {
        return (bid + ask) / 2;
    }
    let depth = host::depth(q.instrument, 1);
    let touch = match (depth.bids.first(), depth.asks.first()) {
        (Some(b), Some(a)) if b.quantity > 0 && a.quantity > 0 && b.price < a.price => {
            (b.price, b.quantity, a.price, a.quantity)
        }
        _ => (q.bid_price, q.bid_size, q.ask_price, q.ask_size),
    };
    let [bid, bid_size, ask, ask_size] = [touch.0, touch.1, touch.2, touch.3].map(i128::from);
    (bid * ask_size + ask * bid_size) / (bid_size + ask_size)
}

/// The price and size each side should be quoted at, or `None` for no quote.
fn desired(q: &Quote, p: &Tunables, keeper: &Keeper) -> [Option<(i64, i64)>; 2] {
    let Some(grid) = keeper.grid(q.instrument) else {
        return [None, None];
    };
    let (tick, position) = (grid.tick, keeper.position(q.instrument));
    let reference = reference(q, p);
    // The skew in whole ticks (rounded to the nearest), so that a small position does not
    // push a quote a tick away by rounding alone.
    let skew_fixed = i128::from(p.skew_ticks_per_lot) * i128::from(position) / i128::from(grid.lot);
    let scale = i128::from(fixed::SCALE);
    let skew_ticks = (skew_fixed + skew_fixed.signum() * scale / 2) / scale;
    let skew = skew_ticks * i128::from(tick);
    let half = i128::from(p.half_spread_ticks) * i128::from(tick);
    let bid = fixed::floor_to_tick(clamp_i64(reference - half), tick);
    let bid = clamp_i64(i128::from(bid) - skew).min(fixed::floor_to_tick(q.bid_price, tick));
    let ask = fixed::ceil_to_tick(clamp_i64(reference + half), tick);
    let ask = clamp_i64(i128::from(ask) - skew).max(fixed::ceil_to_tick(q.ask_price, tick));
    let quote = |price: i64, room: i64| {
        let size = fixed::floor_to_tick(p.quantity.min(room), grid.lot);
        (price > 0 && size > 0).then_some((price, size))
    };
    [
        quote(bid, p.max_position.saturating_sub(position)),
        quote(ask, p.max_position.saturating_add(position)),
    ]
}

impl Instrument {
    /// Decide this batch's commands on the instrument's last quote `q`.
    fn act(&mut self, q: &Quote, p: &Tunables, keeper: &mut Keeper, out: &mut Vec<OrderCommand>) {
        let two_sided = q.bid_price > 0 && q.ask_price > 0 && q.bid_size > 0 && q.ask_size > 0;
        if !two_sided || q.bid_price >= q.ask_price {
            // One-sided, locked or crossed: no quote of ours belongs there.
            keeper.cancel_where(out, q.instrument, Order::settled);
            return;
        }
        if keeper.orders(q.instrument).any(|o| o.crossed_by(q)) {
            return; // a fill is on its way: decide once it is known
        }
        let desired = desired(q, p, keeper);
        for (i, side) in SIDES.into_iter().enumerate() {
            self.act_side(i, side, desired[i], q, p, keeper, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn act_side(
        &mut self,
        i: usize,
        side: Side,
        desired: Option<(i64, i64)>,
        q: &Quote,
        p: &Tunables,
        keeper: &mut Keeper,
        out: &mut Vec<OrderCommand>,
    ) {
        let instrument = q.instrument;
        let cooling = keeper.cooling(instrument);
        let min_gap = p.min_requote_ms.saturating_mul(1_000_000);
        let may_send =
            !cooling && self.last_sent[i].is_none_or(|t| q.ts.saturating_sub(t) >= min_gap);
        let Some(working) = working(keeper, instrument, side).cloned() else {
            if let Some((price, quantity)) = desired.filter(|_| may_send) {
                self.last_sent[i] = Some(q.ts);
                let (limit, gtc) = (OrderType::Limit, TimeInForce::Gtc);
                keeper.submit(out, instrument, side, limit, gtc, price, quantity);
            }
            return;
        };
        if !working.settled() {
            return; // wait for the answer to the last command
        }
        let Some((price, quantity)) = desired else {
            keeper.cancel(out, working.id);
            return;
        };
        let tick = keeper.grid(instrument).map_or(1, |g| g.tick);
        let threshold = p.requote_ticks.saturating_mul(tick);
        let moved = price.abs_diff(working.price) >= threshold.unsigned_abs();
        // Larger than the position limit allows (a smaller `max_position` after a swap): cut it
        // at once, throttle or not, and during a cooldown by canceling it.
        let too_large = working.leaves > quantity;
        if too_large && cooling {
            keeper.cancel(out, working.id);
        } else if too_large || (moved && may_send) {
            let price = if moved { price } else { working.price };
            self.last_sent[i] = Some(q.ts);
            let quantity = working.filled.saturating_add(quantity);
            keeper.modify(out, working.id, price, quantity);
        }
    }
}

/// The market maker; see the crate docs.
#[derive(Debug)]
pub struct MarketMaker {
    p: Tunables,
    instruments: BTreeMap<u32, Instrument>,
    /// Its quotes, positions, cooldowns, ticks and lots.
    keeper: Keeper,
}

impl Strategy for MarketMaker {
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
                MarketEvent::Instrument(def)
                    if self.instruments.contains_key(&def.id)
                        || self.instruments.len() < MAX_INSTRUMENTS =>
                {
                    self.keeper.define(def);
                    self.instruments.entry(def.id).or_default();
                }
                MarketEvent::Quote(q) if self.instruments.contains_key(&q.instrument) => {
                    self.keeper.tick(q.instrument); // a quote is its clock: cooldowns run down
                    last.insert(q.instrument, q);
                }
                _ => {}
            }
        }
        for (id, q) in last {
            let inst = self.instruments.get_mut(&id).expect("a quoted instrument");
            inst.act(q, &self.p, &mut self.keeper, orders);
        }
    }

    fn on_order_events(&mut self, events: &[OrderEvent], _orders: &mut Vec<OrderCommand>) {
        for event in events {
            // A rejection of a quote that already finished (a modify racing with
            // the fill that completed it) is no change: ignored.
            let change = self.keeper.apply(event);
            if change.is_some_and(|c| c.refused().is_some()) {
                self.keeper.cool(event.instrument(), self.p.cooldown);
            }
        }
    }

    fn save_state(&self) -> Vec<u8> {
        state::save(STATE_VERSION, &(&self.keeper, &self.instruments))
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let (keeper, instruments): (Keeper, BTreeMap<u32, Instrument>) =
            state::load(STATE_VERSION, state)?;
        if instruments.len() > MAX_INSTRUMENTS {
            let count = instruments.len();
            return Err(format!(
                "state: {count} instruments, at most {MAX_INSTRUMENTS}"
            ));
        }
        // Decoded in full: only now replace the running state.
        (self.keeper, self.instruments) = (keeper, instruments);
        Ok(())
    }
}

tradsys_sdk::export_strategy!(MarketMaker);

#[cfg(test)]
mod tests;
