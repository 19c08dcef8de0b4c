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

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    CancelOrder, Config, MarketEvent, ModifyOrder, NewOrder, OrderCommand, OrderEvent, OrderType,
    Quote, RejectReason, Side, Strategy, TimeInForce, fixed, host,
};

/// Format version written first by `save_state`.
const STATE_VERSION: u8 = 1;

/// Most instruments quoted (and kept in state); definitions beyond are ignored. With two quotes
/// each at most, this bounds the working orders.
const MAX_INSTRUMENTS: usize = 1024;

/// Where the quotes are centred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reference {
    Mid,
    Microprice,
}

/// Tunables from the plugin config (keys and defaults in the crate docs).
#[derive(Debug, Clone)]
struct Params {
    reference: Reference,
    half_spread_ticks: i64,
    /// Fixed point: `fixed::SCALE` is one tick per lot.
    skew_ticks_per_lot: i64,
    quantity: i64,
    max_position: i64,
    requote_ticks: i64,
    /// In nanoseconds.
    min_requote_ns: u64,
    cooldown: u32,
}

impl Params {
    fn from_config(config: &Config) -> Result<Self, String> {
        config.only(&[
            "reference",
            "min_requote_ms",
            "half_spread_ticks",
            "skew_ticks_per_lot",
            "quantity",
            "max_position",
            "requote_ticks",
            "cooldown",
            "signals",
        ])?;
        let reference = match config.get("reference").map(str::trim) {
            None | Some("mid") => Reference::Mid,
            Some("microprice") => Reference::Microprice,
            Some(other) => {
                return Err(format!(
                    "config `reference`: `{other}` is neither `mid` nor `microprice`"
                ));
            }
        };
        let min_requote_ms: u64 = config.parse_or("min_requote_ms", 250)?;
        let p = Self {
            reference,
            half_spread_ticks: config.parse_or("half_spread_ticks", 1)?,
            skew_ticks_per_lot: config.fixed_or("skew_ticks_per_lot", fixed::SCALE / 100)?,
            quantity: config.fixed_or("quantity", fixed::from_units(100))?,
            max_position: config.fixed_or("max_position", fixed::from_units(500))?,
            requote_ticks: config.parse_or("requote_ticks", 1)?,
            min_requote_ns: min_requote_ms.saturating_mul(1_000_000),
            cooldown: config.parse_or("cooldown", 10)?,
        };
        let ensure = |ok: bool, key: &str, why: &str| match ok {
            true => Ok(()),
            false => Err(format!("config `{key}`: {why}")),
        };
        let spread_ok = (1..=100_000).contains(&p.half_spread_ticks);
        ensure(spread_ok, "half_spread_ticks", "must be 1 to 100000")?;
        let skew_ok = (0..=fixed::from_units(1000)).contains(&p.skew_ticks_per_lot);
        ensure(skew_ok, "skew_ticks_per_lot", "must be 0 to 1000")?;
        ensure(p.quantity > 0, "quantity", "must be positive")?;
        let position_ok = p.max_position >= p.quantity;
        ensure(position_ok, "max_position", "must be at least `quantity`")?;
        let requote_ok = (1..=100_000).contains(&p.requote_ticks);
        ensure(requote_ok, "requote_ticks", "must be 1 to 100000")?;
        Ok(p)
    }
}

/// The command of ours about a quote that the venue has not answered yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Submit,
    Modify,
    Cancel,
}

impl Pending {
    fn code(pending: Option<Self>) -> u8 {
        match pending {
            None => 0,
            Some(Self::Submit) => 1,
            Some(Self::Modify) => 2,
            Some(Self::Cancel) => 3,
        }
    }

    fn from_code(code: u8) -> Result<Option<Self>, String> {
        Ok(match code {
            0 => None,
            1 => Some(Self::Submit),
            2 => Some(Self::Modify),
            3 => Some(Self::Cancel),
            _ => return Err(format!("state: bad pending command {code}")),
        })
    }
}

/// One working quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Working {
    id: u64,
    price: i64,
    /// Quantity still working.
    leaves: i64,
    /// Quantity filled so far (a modify restates `filled + leaves`).
    filled: i64,
    pending: Option<Pending>,
}

const SIDES: [Side; 2] = [Side::Buy, Side::Sell];

fn index(side: Side) -> usize {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

fn clamp_i64(value: i128) -> i64 {
    value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// What the strategy tracks for one instrument.
#[derive(Debug, Clone, PartialEq)]
struct Instrument {
    tick: i64,
    lot: i64,
    /// Signed net position from fills.
    position: i64,
    /// Quote updates left before any new order or modify.
    cooldown: u32,
    /// The working bid and ask, by [`index`].
    quotes: [Option<Working>; 2],
    /// Market time of the last submit or modify of each side.
    last_sent: [Option<u64>; 2],
}

impl Instrument {
    fn new(tick: i64, lot: i64) -> Self {
        Self {
            tick,
            lot,
            position: 0,
            cooldown: 0,
            quotes: [None, None],
            last_sent: [None, None],
        }
    }

    /// Where the quotes are centred for the touch `q`.
    fn reference(&self, q: &Quote, p: &Params) -> i128 {
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
        let (bid, bid_size, ask, ask_size) = (
            i128::from(touch.0),
            i128::from(touch.1),
            i128::from(touch.2),
            i128::from(touch.3),
        );
        (bid * ask_size + ask * bid_size) / (bid_size + ask_size)
    }

    /// The price and size each side should be quoted at, or `None` for no quote.
    fn desired(&self, q: &Quote, p: &Params) -> [Option<(i64, i64)>; 2] {
        let reference = self.reference(q, p);
        // The skew in whole ticks (rounded to the nearest), so that a small position does not
        // push a quote a tick away by rounding alone.
        let skew_fixed =
            i128::from(p.skew_ticks_per_lot) * i128::from(self.position) / i128::from(self.lot);
        let scale = i128::from(fixed::SCALE);
        let skew_ticks = (skew_fixed + skew_fixed.signum() * scale / 2) / scale;
        let skew = skew_ticks * i128::from(self.tick);
        let half = i128::from(p.half_spread_ticks) * i128::from(self.tick);
        let bid = fixed::floor_to_tick(clamp_i64(reference - half), self.tick);
        let bid =
            clamp_i64(i128::from(bid) - skew).min(fixed::floor_to_tick(q.bid_price, self.tick));
        let ask = fixed::ceil_to_tick(clamp_i64(reference + half), self.tick);
        let ask =
            clamp_i64(i128::from(ask) - skew).max(fixed::ceil_to_tick(q.ask_price, self.tick));
        let room_to_buy = p.max_position.saturating_sub(self.position);
        let room_to_sell = p.max_position.saturating_add(self.position);
        let quote = |price: i64, room: i64| {
            let size = fixed::floor_to_tick(p.quantity.min(room), self.lot);
            (price > 0 && size > 0).then_some((price, size))
        };
        [quote(bid, room_to_buy), quote(ask, room_to_sell)]
    }

    /// Decide this batch's commands on the instrument's last quote `q`.
    fn act(&mut self, q: &Quote, p: &Params, next_id: &mut u64, out: &mut Vec<OrderCommand>) {
        let two_sided = q.bid_price > 0 && q.ask_price > 0 && q.bid_size > 0 && q.ask_size > 0;
        if !two_sided || q.bid_price >= q.ask_price {
            // One-sided, locked or crossed: no quote of ours belongs there.
            for working in self.quotes.iter_mut().flatten() {
                if working.pending.is_none() {
                    working.pending = Some(Pending::Cancel);
                    out.push(cancel(working.id, q.instrument));
                }
            }
            return;
        }
        let traded = SIDES.iter().any(|&side| {
            self.quotes[index(side)].is_some_and(|w| match side {
                Side::Buy => w.price >= q.ask_price,
                Side::Sell => w.price <= q.bid_price,
            })
        });
        if traded {
            return; // a fill is on its way: decide once it is known
        }
        let desired = self.desired(q, p);
        for side in SIDES {
            self.act_side(side, desired[index(side)], q, p, next_id, out);
        }
    }

    fn act_side(
        &mut self,
        side: Side,
        desired: Option<(i64, i64)>,
        q: &Quote,
        p: &Params,
        next_id: &mut u64,
        out: &mut Vec<OrderCommand>,
    ) {
        let i = index(side);
        let may_send = self.cooldown == 0
            && self.last_sent[i].is_none_or(|t| q.ts.saturating_sub(t) >= p.min_requote_ns);
        let instrument = q.instrument;
        let Some(working) = &mut self.quotes[i] else {
            if let Some((price, quantity)) = desired.filter(|_| may_send) {
                *next_id += 1;
                self.quotes[i] = Some(Working {
                    id: *next_id,
                    price,
                    leaves: quantity,
                    filled: 0,
                    pending: Some(Pending::Submit),
                });
                self.last_sent[i] = Some(q.ts);
                out.push(OrderCommand::Submit(NewOrder {
                    id: *next_id,
                    instrument,
                    side,
                    order_type: OrderType::Limit,
                    time_in_force: TimeInForce::Gtc,
                    price,
                    quantity,
                }));
            }
            return;
        };
        if working.pending.is_some() {
            return; // wait for the answer to the last command
        }
        let Some((price, quantity)) = desired else {
            working.pending = Some(Pending::Cancel);
            out.push(cancel(working.id, instrument));
            return;
        };
        let threshold = p.requote_ticks.saturating_mul(self.tick);
        let moved = price.abs_diff(working.price) >= threshold.unsigned_abs();
        // Larger than the position limit allows (a smaller `max_position` after a swap): cut it
        // at once, throttle or not, and during a cooldown by canceling it.
        let too_large = working.leaves > quantity;
        let send = if too_large {
            if self.cooldown > 0 {
                working.pending = Some(Pending::Cancel);
                out.push(cancel(working.id, instrument));
                return;
            }
            true
        } else {
            moved && may_send
        };
        if send {
            let price = if moved { price } else { working.price };
            working.pending = Some(Pending::Modify);
            self.last_sent[i] = Some(q.ts);
            out.push(OrderCommand::Modify(ModifyOrder {
                id: working.id,
                instrument,
                price,
                quantity: working.filled.saturating_add(quantity),
            }));
        }
    }

    fn on_order_event(&mut self, event: &OrderEvent, p: &Params) {
        if let OrderEvent::Filled(f) = event {
            let quantity = f.quantity.max(0);
            let signed = if f.side == Side::Buy {
                quantity
            } else {
                -quantity
            };
            self.position = self.position.saturating_add(signed);
        }
        let id = event.id();
        let Some(slot) = self
            .quotes
            .iter_mut()
            .find(|w| w.is_some_and(|w| w.id == id))
        else {
            return; // not a working quote (one that already finished)
        };
        let Some(working) = slot else {
            return;
        };
        let done = match event {
            OrderEvent::Accepted(_) => {
                if working.pending == Some(Pending::Submit) {
                    working.pending = None;
                }
                false
            }
            OrderEvent::Filled(f) => {
                working.leaves = f.leaves_quantity;
                working.filled = working.filled.saturating_add(f.quantity.max(0));
                if working.pending == Some(Pending::Submit) {
                    working.pending = None;
                }
                f.leaves_quantity <= 0
            }
            OrderEvent::Modified(m) => {
                (working.price, working.leaves) = (m.price, m.leaves_quantity);
                if working.pending == Some(Pending::Modify) {
                    working.pending = None;
                }
                m.leaves_quantity <= 0
            }
            OrderEvent::Canceled(_) => true,
            OrderEvent::Rejected(r) => {
                self.cooldown = p.cooldown;
                let unknown = r.rejection.reason == RejectReason::UnknownOrder;
                match working.pending {
                    // A refused modify or cancel leaves the quote working, unless the venue no
                    // longer knows it.
                    Some(Pending::Modify | Pending::Cancel) if !unknown => {
                        working.pending = None;
                        false
                    }
                    None if !unknown => false,
                    _ => true,
                }
            }
        };
        if done {
            *slot = None;
        }
    }

    fn save(&self, w: &mut StateWriter) {
        w.i64(self.tick).i64(self.lot).i64(self.position);
        w.u32(self.cooldown);
        for i in 0..2 {
            w.option(self.quotes[i], |w, q| {
                w.u64(q.id).i64(q.price).i64(q.leaves).i64(q.filled);
                w.u8(Pending::code(q.pending));
            });
            w.option(self.last_sent[i], |w, t| {
                w.u64(t);
            });
        }
    }

    fn load(r: &mut StateReader<'_>, next_id: u64) -> Result<Self, String> {
        let (tick, lot) = (r.i64()?, r.i64()?);
        if tick <= 0 || lot <= 0 {
            return Err("state: tick and lot must be positive".into());
        }
        let mut inst = Self::new(tick, lot);
        inst.position = r.i64()?;
        inst.cooldown = r.u32()?;
        for i in 0..2 {
            inst.quotes[i] = r.option(|r| {
                let working = Working {
                    id: r.u64()?,
                    price: r.i64()?,
                    leaves: r.i64()?,
                    filled: r.i64()?,
                    pending: Pending::from_code(r.u8()?)?,
                };
                if working.id == 0 || working.id > next_id {
                    return Err(format!("state: order {} was never sent", working.id));
                }
                Ok(working)
            })?;
            inst.last_sent[i] = r.option(StateReader::u64)?;
        }
        Ok(inst)
    }
}

fn cancel(id: u64, instrument: u32) -> OrderCommand {
    OrderCommand::Cancel(CancelOrder { id, instrument })
}

/// The market maker; see the crate docs.
#[derive(Debug)]
pub struct MarketMaker {
    params: Params,
    instruments: BTreeMap<u32, Instrument>,
    /// Id of the last order sent; ids start at 1 and are never reused.
    next_id: u64,
}

impl Strategy for MarketMaker {
    fn new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            params: Params::from_config(config)?,
            instruments: BTreeMap::new(),
            next_id: 0,
        })
    }

    fn on_market(&mut self, events: &[MarketEvent], orders: &mut Vec<OrderCommand>) {
        let mut last = BTreeMap::new();
        for event in events {
            match event {
                MarketEvent::Instrument(def) => {
                    let (tick, lot) = (def.tick_size.max(1), def.lot_size.max(1));
                    if let Some(inst) = self.instruments.get_mut(&def.id) {
                        (inst.tick, inst.lot) = (tick, lot);
                    } else if self.instruments.len() < MAX_INSTRUMENTS {
                        self.instruments.insert(def.id, Instrument::new(tick, lot));
                    }
                }
                MarketEvent::Quote(q) => {
                    if let Some(inst) = self.instruments.get_mut(&q.instrument) {
                        inst.cooldown = inst.cooldown.saturating_sub(1);
                        last.insert(q.instrument, q);
                    }
                }
                _ => {}
            }
        }
        for (id, q) in last {
            if let Some(inst) = self.instruments.get_mut(&id) {
                inst.act(q, &self.params, &mut self.next_id, orders);
            }
        }
    }

    fn on_order_events(&mut self, events: &[OrderEvent], _orders: &mut Vec<OrderCommand>) {
        for event in events {
            if let Some(inst) = self.instruments.get_mut(&event.instrument()) {
                inst.on_order_event(event, &self.params);
            }
        }
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION)
            .u64(self.next_id)
            .u32(self.instruments.len() as u32);
        for (&id, inst) in &self.instruments {
            w.u32(id);
            inst.save(&mut w);
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let next_id = r.u64()?;
        let count = r.u32()? as usize;
        if count > MAX_INSTRUMENTS {
            return Err(format!(
                "state: {count} instruments, at most {MAX_INSTRUMENTS}"
            ));
        }
        let mut instruments = BTreeMap::new();
        for _ in 0..count {
            let id = r.u32()?;
            let inst = Instrument::load(&mut r, next_id)?;
            if instruments.insert(id, inst).is_some() {
                return Err(format!("state: instrument {id} appears twice"));
            }
        }
        r.finish()?;
        let mut ids: Vec<u64> = instruments
            .values()
            .flat_map(|i| i.quotes.iter().flatten().map(|w| w.id))
            .collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err("state: an order id appears twice".into());
        }
        // Decoded in full: only now replace the running state.
        (self.next_id, self.instruments) = (next_id, instruments);
        Ok(())
    }
}

tradsys_sdk::export_strategy!(MarketMaker);

#[cfg(test)]
mod tests;
