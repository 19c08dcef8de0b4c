//! The order book-keeping every strategy writes again, kept once: client
//! ids, orders in flight and working, their age in the strategy's own
//! ticks, the command of each the venue has not answered (submit, modify,
//! cancel), fills into a position with its average price and realized PnL
//! per instrument, each instrument's tick and lot, and cooldowns; all of it
//! saved and loaded in one call (or through serde, with
//! [`crate::state::save`]), so a strategy states only its signal and its
//! orders.
//!
//! ```
//! use tradsys_sdk::keeper::{Change, Keeper};
//! use tradsys_sdk::testing::{px, units};
//! use tradsys_sdk::{Fill, OrderEvent, OrderType, Side, TimeInForce};
//!
//! let mut keeper = Keeper::default();
//! let mut out = Vec::new();
//! let id = keeper.submit(&mut out, 0, Side::Buy, OrderType::Limit, TimeInForce::Ioc, px("100"), units(2));
//! assert!(keeper.in_flight(0).is_some());
//! let fill = OrderEvent::Filled(Fill {
//!     id, instrument: 0, ts: 1, side: Side::Buy, price: px("100"),
//!     quantity: units(2), leaves_quantity: 0, maker: false,
//! });
//! assert!(matches!(keeper.apply(&fill), Some(Change::Filled { done: true, .. })));
//! assert_eq!(keeper.position(0), units(2));
//! assert!(keeper.in_flight(0).is_none());
//! ```

use std::collections::BTreeMap;

use crate::state::{StateReader, StateWriter};
use crate::{
    CancelOrder, InstrumentDefinition, ModifyOrder, NewOrder, OrderCommand, OrderEvent, OrderType,
    Quote, RejectReason, Side, TimeInForce, fixed,
};

/// A command of the strategy about an order that the venue has not answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// Sent; neither accepted, filled nor refused yet.
    Submit,
    /// A modify was sent.
    Modify,
    /// A cancel was sent.
    Cancel,
}

/// One order of the strategy the venue has not ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Its client id.
    pub id: u64,
    /// Its instrument.
    pub instrument: u32,
    /// Buy or sell.
    pub side: Side,
    /// Its limit price (0 for a market order).
    pub price: i64,
    /// How long it works.
    pub time_in_force: TimeInForce,
    /// Quantity ordered, filled part included (what a modify restates).
    pub quantity: i64,
    /// Quantity still working.
    pub leaves: i64,
    /// Quantity filled so far.
    pub filled: i64,
    /// The strategy's ticks since it was sent ([`Keeper::tick`]; a modify
    /// does not reset it).
    pub age: u32,
    /// Its command the venue has not answered, if any (one at a time: a
    /// cancel takes the place of a pending submit or modify).
    pub pending: Option<Pending>,
}

impl Order {
    /// A cancel of it was sent and not yet answered.
    pub fn canceling(&self) -> bool {
        self.pending == Some(Pending::Cancel)
    }

    /// The venue has answered every command about it (neither a submit, a
    /// modify nor a cancel pending).
    pub fn settled(&self) -> bool {
        self.pending.is_none()
    }

    /// Whether `q`, the market's touch, trades with it (a buy priced at or
    /// above the ask, a sell at or below the bid).
    pub fn crossed_by(&self, q: &Quote) -> bool {
        match self.side {
            Side::Buy => q.ask_price <= self.price,
            Side::Sell => q.bid_price >= self.price,
        }
    }
}

/// An instrument's price tick and lot, from its definition (each at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// Smallest price increment.
    pub tick: i64,
    /// Smallest quantity increment.
    pub lot: i64,
}

/// A position in one instrument.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Holding {
    /// Signed quantity (positive long).
    pub position: i64,
    /// Average price of the open position (0 when flat).
    pub average_price: i64,
    /// PnL realized by closing fills, in price × quantity units (fixed point).
    pub realized_pnl: i64,
}

/// What an execution report changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The venue accepted the order.
    Accepted(Order),
    /// A fill of `quantity` at `price`; `done` when nothing is left working.
    Filled {
        /// The order after the fill.
        order: Order,
        /// Filled quantity.
        quantity: i64,
        /// Fill price.
        price: i64,
        /// Whether the order ended with it.
        done: bool,
    },
    /// The order was canceled (by the strategy, or the rest of an IOC).
    Canceled(Order),
    /// A modify took effect (the order ended when `leaves` is 0).
    Modified(Order),
    /// The order was refused: it ended, `order.leaves` never worked.
    Rejected {
        /// The order as it was.
        order: Order,
        /// Why.
        reason: RejectReason,
    },
    /// A cancel of the order was refused and the order still works.
    CancelRefused {
        /// The order, its cancel no longer pending.
        order: Order,
        /// Why.
        reason: RejectReason,
    },
    /// A modify of the order was refused and the order still works as before.
    ModifyRefused {
        /// The order, its modify no longer pending.
        order: Order,
        /// Why.
        reason: RejectReason,
    },
}

impl Change {
    /// The order it is about.
    pub fn order(&self) -> &Order {
        match self {
            Change::Accepted(order) | Change::Canceled(order) | Change::Modified(order) => order,
            Change::Filled { order, .. }
            | Change::Rejected { order, .. }
            | Change::CancelRefused { order, .. }
            | Change::ModifyRefused { order, .. } => order,
        }
    }

    /// Some refusal: of the order, its cancel or its modify.
    pub fn refused(&self) -> Option<RejectReason> {
        match self {
            Change::Rejected { reason, .. }
            | Change::CancelRefused { reason, .. }
            | Change::ModifyRefused { reason, .. } => Some(*reason),
            _ => None,
        }
    }
}

/// The book-keeper; see the module documentation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keeper {
    last_id: u64,
    orders: BTreeMap<u64, Order>,
    holdings: BTreeMap<u32, Holding>,
    cooldowns: BTreeMap<u32, u32>,
    grids: BTreeMap<u32, Grid>,
}

/// The version byte [`Keeper::save`] writes first (2: pending commands,
/// quantities and grids).
const FORMAT: u8 = 2;

fn pending_code(pending: Option<Pending>) -> u8 {
    match pending {
        None => 0,
        Some(Pending::Submit) => 1,
        Some(Pending::Modify) => 2,
        Some(Pending::Cancel) => 3,
    }
}

fn tif_code(tif: TimeInForce) -> u8 {
    match tif {
        TimeInForce::Gtc => 0,
        TimeInForce::Ioc => 1,
        TimeInForce::Fok => 2,
    }
}

impl Keeper {
    /// Send a new order (its id the next client id) and keep it.
    #[allow(clippy::too_many_arguments)]
    pub fn submit(
        &mut self,
        out: &mut Vec<OrderCommand>,
        instrument: u32,
        side: Side,
        order_type: OrderType,
        time_in_force: TimeInForce,
        price: i64,
        quantity: i64,
    ) -> u64 {
        self.last_id += 1;
        let id = self.last_id;
        self.orders.insert(
            id,
            Order {
                id,
                instrument,
                side,
                price,
                time_in_force,
                quantity,
                leaves: quantity,
                filled: 0,
                age: 0,
                pending: Some(Pending::Submit),
            },
        );
        out.push(OrderCommand::Submit(NewOrder {
            id,
            instrument,
            side,
            order_type,
            time_in_force,
            price,
            quantity,
        }));
        id
    }

    /// Send a cancel of order `id`, once (nothing for an order it does not
    /// keep or one whose cancel is pending).
    pub fn cancel(&mut self, out: &mut Vec<OrderCommand>, id: u64) {
        if let Some(order) = self.orders.get_mut(&id).filter(|o| !o.canceling()) {
            order.pending = Some(Pending::Cancel);
            out.push(OrderCommand::Cancel(CancelOrder {
                id,
                instrument: order.instrument,
            }));
        }
    }

    /// Send a modify of order `id` to `price` and `quantity` (the total,
    /// filled part included) and remember the quantity; nothing for an
    /// order it does not keep.
    pub fn modify(&mut self, out: &mut Vec<OrderCommand>, id: u64, price: i64, quantity: i64) {
        if let Some(order) = self.orders.get_mut(&id) {
            order.pending = Some(Pending::Modify);
            order.quantity = quantity;
            out.push(OrderCommand::Modify(ModifyOrder {
                id,
                instrument: order.instrument,
                price,
                quantity,
            }));
        }
    }

    /// Send a marketable IOC limit for `wanted` (signed: positive buys) at
    /// the touch `q`: a buy at the ask rounded up to the tick, a sell at the
    /// bid rounded down, the quantity rounded down to whole lots. Nothing
    /// when that is none, the price is not positive, or the instrument was
    /// never [defined](Self::define).
    pub fn take(&mut self, out: &mut Vec<OrderCommand>, q: &Quote, wanted: i64) -> Option<u64> {
        let grid = self.grid(q.instrument)?;
        let quantity = fixed::floor_to_tick(wanted.saturating_abs(), grid.lot);
        let (side, price) = if wanted > 0 {
            (Side::Buy, fixed::ceil_to_tick(q.ask_price, grid.tick))
        } else {
            (Side::Sell, fixed::floor_to_tick(q.bid_price, grid.tick))
        };
        if quantity <= 0 || price <= 0 {
            return None;
        }
        let (limit, ioc) = (OrderType::Limit, TimeInForce::Ioc);
        Some(self.submit(out, q.instrument, side, limit, ioc, price, quantity))
    }

    /// Remember an instrument's tick and lot (each at least 1).
    pub fn define(&mut self, def: &InstrumentDefinition) {
        let grid = Grid {
            tick: def.tick_size.max(1),
            lot: def.lot_size.max(1),
        };
        self.grids.insert(def.id, grid);
    }

    /// The tick and lot of a [defined](Self::define) instrument.
    pub fn grid(&self, instrument: u32) -> Option<Grid> {
        self.grids.get(&instrument).copied()
    }

    /// Forget order `id` without a report (one the venue never answered).
    pub fn forget(&mut self, id: u64) -> Option<Order> {
        self.orders.remove(&id)
    }

    /// Book an execution report of the strategy's own orders; `None` for an
    /// order it does not keep (a fill still counts into the position).
    pub fn apply(&mut self, event: &OrderEvent) -> Option<Change> {
        match event {
            OrderEvent::Accepted(a) => {
                let order = self.orders.get_mut(&a.id)?;
                if order.pending == Some(Pending::Submit) {
                    order.pending = None;
                }
                Some(Change::Accepted(order.clone()))
            }
            OrderEvent::Filled(f) => {
                let quantity = f.quantity.max(0);
                self.book_fill(f.instrument, f.side, f.price, quantity);
                let order = self.orders.get_mut(&f.id)?;
                if order.pending == Some(Pending::Submit) {
                    order.pending = None;
                }
                order.leaves = f.leaves_quantity;
                order.filled = order.filled.saturating_add(quantity);
                let done = f.leaves_quantity <= 0;
                let order = if done {
                    self.orders.remove(&f.id)?
                } else {
                    order.clone()
                };
                Some(Change::Filled {
                    order,
                    quantity,
                    price: f.price,
                    done,
                })
            }
            OrderEvent::Canceled(c) => self.orders.remove(&c.id).map(Change::Canceled),
            OrderEvent::Modified(m) => {
                let order = self.orders.get_mut(&m.id)?;
                order.price = m.price;
                order.leaves = m.leaves_quantity;
                order.pending = None;
                let order = order.clone();
                if order.leaves <= 0 {
                    self.orders.remove(&m.id); // modified down to nothing: ended
                }
                Some(Change::Modified(order))
            }
            OrderEvent::Rejected(r) => {
                let reason = r.rejection.reason;
                let order = self.orders.get_mut(&r.id)?;
                let pending = order.pending;
                if matches!(pending, Some(Pending::Cancel | Pending::Modify))
                    && reason != RejectReason::UnknownOrder
                {
                    // The cancel or modify was refused: the order lives.
                    order.pending = None;
                    let order = order.clone();
                    return Some(if pending == Some(Pending::Cancel) {
                        Change::CancelRefused { order, reason }
                    } else {
                        Change::ModifyRefused { order, reason }
                    });
                }
                let mut order = self.orders.remove(&r.id)?;
                if order.canceling() {
                    order.leaves = 0; // it had ended before the cancel came
                }
                Some(Change::Rejected { order, reason })
            }
        }
    }

    fn book_fill(&mut self, instrument: u32, side: Side, price: i64, quantity: i64) {
        let h = self.holdings.entry(instrument).or_default();
        let signed = side.signed(quantity);
        let before = h.position;
        let after = before.saturating_add(signed);
        if before == 0 || before.signum() == signed.signum() {
            // Opening or adding: the average moves.
            let cost = i128::from(h.average_price) * i128::from(before.abs())
                + i128::from(price) * i128::from(quantity);
            h.average_price = (cost / i128::from(after.abs().max(1))) as i64;
        } else {
            // Closing (and perhaps reversing).
            let closed = quantity.min(before.abs());
            let per_unit = i128::from(price - h.average_price) * i128::from(before.signum());
            let pnl = per_unit * i128::from(closed) / i128::from(crate::fixed::SCALE);
            h.realized_pnl = h.realized_pnl.saturating_add(pnl as i64);
            if after == 0 {
                h.average_price = 0;
            } else if after.signum() != before.signum() {
                h.average_price = price;
            }
        }
        h.position = after;
    }

    /// One tick of the strategy's clock for `instrument` (a quote, a batch:
    /// the strategy's choice): its orders age by one and its cooldown runs
    /// down by one.
    pub fn tick(&mut self, instrument: u32) {
        for order in self.orders.values_mut() {
            if order.instrument == instrument {
                order.age = order.age.saturating_add(1);
            }
        }
        if let Some(left) = self.cooldowns.get_mut(&instrument) {
            *left = left.saturating_sub(1);
        }
    }

    /// Cancel the orders of `instrument` at least `cancel_after` ticks old,
    /// once each, and forget those `forget_after` ticks old whose cancel was
    /// never answered.
    pub fn stale(
        &mut self,
        out: &mut Vec<OrderCommand>,
        instrument: u32,
        cancel_after: u32,
        forget_after: u32,
    ) {
        self.forget_where(instrument, |o| o.age >= forget_after);
        self.cancel_where(out, instrument, |o| o.age >= cancel_after);
    }

    /// Send a cancel (once) of every order of `instrument` that `which`
    /// picks, in the order they were sent.
    pub fn cancel_where(
        &mut self,
        out: &mut Vec<OrderCommand>,
        instrument: u32,
        which: impl Fn(&Order) -> bool,
    ) {
        for id in self.ids_where(instrument, which) {
            self.cancel(out, id);
        }
    }

    /// Forget every order of `instrument` that `which` picks (ones the
    /// venue never answered, say).
    pub fn forget_where(&mut self, instrument: u32, which: impl Fn(&Order) -> bool) {
        for id in self.ids_where(instrument, which) {
            self.orders.remove(&id);
        }
    }

    fn ids_where(&self, instrument: u32, which: impl Fn(&Order) -> bool) -> Vec<u64> {
        let picked = self.orders(instrument).filter(|o| which(o));
        picked.map(|o| o.id).collect()
    }

    /// Whether `instrument` is ready for a new order: not cooling down,
    /// and no order in flight once its [stale](Self::stale) ones are
    /// canceled (or forgotten). Nothing is canceled while it cools down.
    pub fn ready(
        &mut self,
        out: &mut Vec<OrderCommand>,
        instrument: u32,
        cancel_after: u32,
        forget_after: u32,
    ) -> bool {
        if self.cooling(instrument) {
            return false;
        }
        self.stale(out, instrument, cancel_after, forget_after);
        self.in_flight(instrument).is_none()
    }

    /// Hold `instrument` for `ticks` ticks (after a rejection, say).
    pub fn cool(&mut self, instrument: u32, ticks: u32) {
        self.cooldowns.insert(instrument, ticks);
    }

    /// Whether `instrument` is cooling down.
    pub fn cooling(&self, instrument: u32) -> bool {
        self.cooldowns.get(&instrument).is_some_and(|t| *t > 0)
    }

    /// The orders of `instrument` not ended, oldest first.
    pub fn orders(&self, instrument: u32) -> impl Iterator<Item = &Order> {
        self.orders
            .values()
            .filter(move |o| o.instrument == instrument)
    }

    /// Every order not ended, of every instrument, oldest first.
    pub fn all(&self) -> impl Iterator<Item = &Order> {
        self.orders.values()
    }

    /// The one order of `instrument` not ended, if any (the oldest).
    pub fn in_flight(&self, instrument: u32) -> Option<&Order> {
        self.orders(instrument).next()
    }

    /// Order `id`, if it has not ended.
    pub fn order(&self, id: u64) -> Option<&Order> {
        self.orders.get(&id)
    }

    /// The position in `instrument`.
    pub fn position(&self, instrument: u32) -> i64 {
        self.holding(instrument).position
    }

    /// The holding of `instrument` (position, average price, realized PnL).
    pub fn holding(&self, instrument: u32) -> Holding {
        self.holdings.get(&instrument).copied().unwrap_or_default()
    }

    /// The last client id sent (0 before the first).
    pub fn last_id(&self) -> u64 {
        self.last_id
    }

    /// Write everything it keeps, after a format byte.
    pub fn save(&self, w: &mut StateWriter) {
        w.u8(FORMAT).u64(self.last_id).u32(self.orders.len() as u32);
        for o in self.orders.values() {
            w.u64(o.id)
                .u32(o.instrument)
                .side(o.side)
                .i64(o.price)
                .u8(tif_code(o.time_in_force))
                .i64(o.quantity)
                .i64(o.leaves)
                .i64(o.filled)
                .u32(o.age)
                .u8(pending_code(o.pending));
        }
        w.u32(self.holdings.len() as u32);
        for (instrument, h) in &self.holdings {
            w.u32(*instrument)
                .i64(h.position)
                .i64(h.average_price)
                .i64(h.realized_pnl);
        }
        w.u32(self.cooldowns.len() as u32);
        for (instrument, left) in &self.cooldowns {
            w.u32(*instrument).u32(*left);
        }
        w.u32(self.grids.len() as u32);
        for (instrument, grid) in &self.grids {
            w.u32(*instrument).i64(grid.tick).i64(grid.lot);
        }
    }

    /// Read what [`Keeper::save`] wrote.
    pub fn load(r: &mut StateReader<'_>) -> Result<Self, String> {
        r.format(FORMAT)?;
        let mut keeper = Self {
            last_id: r.u64()?,
            ..Self::default()
        };
        for _ in 0..r.u32()? {
            let order = Order {
                id: r.u64()?,
                instrument: r.u32()?,
                side: r.side()?,
                price: r.i64()?,
                time_in_force: match r.u8()? {
                    0 => TimeInForce::Gtc,
                    1 => TimeInForce::Ioc,
                    2 => TimeInForce::Fok,
                    other => return Err(format!("state: time in force {other}")),
                },
                quantity: r.i64()?,
                leaves: r.i64()?,
                filled: r.i64()?,
                age: r.u32()?,
                pending: match r.u8()? {
                    0 => None,
                    1 => Some(Pending::Submit),
                    2 => Some(Pending::Modify),
                    3 => Some(Pending::Cancel),
                    other => return Err(format!("state: pending command {other}")),
                },
            };
            if order.id > keeper.last_id {
                return Err(format!("state: order {} after the last id", order.id));
            }
            keeper.orders.insert(order.id, order);
        }
        for _ in 0..r.u32()? {
            let instrument = r.u32()?;
            let holding = Holding {
                position: r.i64()?,
                average_price: r.i64()?,
                realized_pnl: r.i64()?,
            };
            keeper.holdings.insert(instrument, holding);
        }
        for _ in 0..r.u32()? {
            let instrument = r.u32()?;
            keeper.cooldowns.insert(instrument, r.u32()?);
        }
        for _ in 0..r.u32()? {
            let instrument = r.u32()?;
            let (tick, lot) = (r.i64()?, r.i64()?);
            if tick <= 0 || lot <= 0 {
                return Err(format!(
                    "state: instrument {instrument}: tick and lot must be positive"
                ));
            }
            keeper.grids.insert(instrument, Grid { tick, lot });
        }
        Ok(keeper)
    }
}

/// As the bytes [`Keeper::save`] writes (a format byte first), so that a
/// strategy's serde state holds it.
impl serde::Serialize for Keeper {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut w = StateWriter::default();
        self.save(&mut w);
        serde::Serialize::serialize(&w.finish(), serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Keeper {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes: Vec<u8> = serde::Deserialize::deserialize(deserializer)?;
        let mut r = StateReader::new(&bytes);
        let keeper = Keeper::load(&mut r).map_err(serde::de::Error::custom)?;
        r.finish().map_err(serde::de::Error::custom)?;
        Ok(keeper)
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use super::*;
    use crate::testing::{px, units};
    use crate::{Fill, OrderCanceled, OrderRejected, Rejection};

    fn fill(id: u64, side: Side, price: &str, quantity: i64, leaves: i64) -> OrderEvent {
        OrderEvent::Filled(Fill {
            id,
            instrument: 0,
            ts: 1,
            side,
            price: px(price),
            quantity: units(quantity),
            leaves_quantity: units(leaves),
            maker: false,
        })
    }

    fn rejected(id: u64, reason: RejectReason) -> OrderEvent {
        OrderEvent::Rejected(OrderRejected {
            id,
            instrument: 0,
            ts: 1,
            rejection: Rejection {
                reason,
                message: None,
            },
        })
    }

    fn buy(keeper: &mut Keeper, out: &mut Vec<OrderCommand>, quantity: i64) -> u64 {
        let (limit, gtc) = (OrderType::Limit, TimeInForce::Gtc);
        keeper.submit(out, 0, Side::Buy, limit, gtc, px("100"), units(quantity))
    }

    #[test]
    fn fills_make_a_position_an_average_and_realized_pnl() {
        let mut k = Keeper::default();
        let mut out = Vec::new();
        let a = buy(&mut k, &mut out, 3);
        k.apply(&fill(a, Side::Buy, "100", 1, 2));
        k.apply(&fill(a, Side::Buy, "103", 2, 0));
        assert_eq!(k.holding(0).average_price, px("102"));
        assert!(k.in_flight(0).is_none(), "filled: ended");
        // Selling 4 closes 3 at 104 (+6) and opens a short of 1 at 104.
        k.apply(&fill(99, Side::Sell, "104", 4, 0));
        let h = k.holding(0);
        assert_eq!((h.position, h.average_price), (units(-1), px("104")));
        assert_eq!(h.realized_pnl, units(6));
    }

    #[test]
    fn a_refused_cancel_keeps_the_order_and_stale_orders_are_canceled_then_forgotten() {
        let mut k = Keeper::default();
        let mut out = Vec::new();
        let a = buy(&mut k, &mut out, 1);
        for _ in 0..3 {
            k.tick(0);
        }
        k.stale(&mut out, 0, 3, 9);
        assert!(matches!(out.last(), Some(OrderCommand::Cancel(c)) if c.id == a));
        k.stale(&mut out, 0, 3, 9);
        assert_eq!(out.len(), 2, "one cancel only");
        let change = k.apply(&rejected(a, RejectReason::Other));
        assert!(matches!(change, Some(Change::CancelRefused { .. })));
        assert!(k.order(a).is_some_and(|o| o.settled()));
        for _ in 0..6 {
            k.tick(0);
        }
        k.stale(&mut out, 0, 3, 9);
        assert!(k.order(a).is_none(), "forgotten after 9 ticks");
        // A rejection of a new order ends it with its quantity refused.
        let b = buy(&mut k, &mut out, 2);
        let change = k.apply(&rejected(b, RejectReason::PositionLimit));
        assert!(matches!(change, Some(Change::Rejected { order, .. }) if order.leaves == units(2)));
        let cancel = OrderEvent::Canceled(OrderCanceled {
            id: 77,
            instrument: 0,
            ts: 1,
            canceled_quantity: 0,
        });
        assert_eq!(k.apply(&cancel), None, "not one of its orders");
    }

    #[test]
    fn a_pending_modify_ends_with_its_report_or_its_refusal() {
        let mut k = Keeper::default();
        let mut out = Vec::new();
        let a = buy(&mut k, &mut out, 2);
        assert_eq!(k.order(a).unwrap().pending, Some(Pending::Submit));
        let accepted = OrderEvent::Accepted(crate::OrderAccepted {
            id: a,
            instrument: 0,
            ts: 1,
        });
        assert!(matches!(k.apply(&accepted), Some(Change::Accepted(o)) if o.settled()));
        k.modify(&mut out, a, px("101"), units(2));
        assert!(matches!(out.last(), Some(OrderCommand::Modify(m)) if m.price == px("101")));
        let refused = k.apply(&rejected(a, RejectReason::Other));
        assert!(
            matches!(refused, Some(Change::ModifyRefused { ref order, .. }) if order.price == px("100"))
        );
        assert!(
            k.order(a).is_some_and(|o| o.settled()),
            "the order still works"
        );
        k.modify(&mut out, a, px("101"), units(2));
        let modified = OrderEvent::Modified(crate::OrderModified {
            id: a,
            instrument: 0,
            ts: 2,
            price: px("101"),
            leaves_quantity: units(2),
        });
        assert!(matches!(k.apply(&modified), Some(Change::Modified(o)) if o.price == px("101")));
        // A modify the venue no longer knows ends the order.
        k.modify(&mut out, a, px("102"), units(2));
        let gone = k.apply(&rejected(a, RejectReason::UnknownOrder));
        assert!(matches!(gone, Some(Change::Rejected { .. })));
        assert!(k.order(a).is_none());
    }

    #[test]
    fn take_crosses_the_touch_on_the_instrument_grid() {
        let mut k = Keeper::default();
        let mut out = Vec::new();
        let q = Quote {
            instrument: 3,
            ts: 1,
            bid_price: px("99.9"),
            bid_size: units(5),
            ask_price: px("100.1"),
            ask_size: units(5),
        };
        assert_eq!(k.take(&mut out, &q, units(1)), None, "undefined instrument");
        k.define(&InstrumentDefinition {
            id: 3,
            symbol: "X".into(),
            tick_size: px("0.25"),
            lot_size: units(2),
            price_precision: 2,
            size_precision: 0,
            multiplier: 1,
        });
        assert_eq!(k.take(&mut out, &q, units(1)), None, "less than a lot");
        k.take(&mut out, &q, units(5)).unwrap();
        k.take(&mut out, &q, -units(4)).unwrap();
        let sent: Vec<(Side, i64, i64)> = out
            .iter()
            .filter_map(|c| match c {
                OrderCommand::Submit(n) => Some((n.side, n.price, n.quantity)),
                _ => None,
            })
            .collect();
        assert_eq!(
            sent,
            [
                (Side::Buy, px("100.25"), units(4)),
                (Side::Sell, px("99.75"), units(4))
            ]
        );
    }

    #[test]
    fn cooldowns_run_down_and_everything_survives_save_and_load() {
        let mut k = Keeper::default();
        let mut out = Vec::new();
        let a = buy(&mut k, &mut out, 5);
        k.apply(&fill(a, Side::Buy, "100", 2, 3));
        k.cool(0, 2);
        k.tick(0);
        assert!(k.cooling(0));
        k.tick(0);
        assert!(!k.cooling(0));
        k.cool(0, 4);
        let mut w = StateWriter::default();
        k.save(&mut w);
        let bytes = w.finish();
        let loaded = Keeper::load(&mut StateReader::new(&bytes)).unwrap();
        assert_eq!(loaded, k);
        assert!(Keeper::load(&mut StateReader::new(&bytes[..bytes.len() - 2])).is_err());
        // Through serde, beside a strategy's own state.
        let saved = crate::state::save(9, &(&k, 42u32));
        let (back, n): (Keeper, u32) = crate::state::load(9, &saved).unwrap();
        assert_eq!((back, n), (k, 42));
        assert!(crate::state::load::<(Keeper, u32)>(9, &saved[..saved.len() - 3]).is_err());
    }
}
