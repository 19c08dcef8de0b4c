//! One instrument's limit order book and its price-time priority matching.

use std::collections::{BTreeMap, HashMap, VecDeque};

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{DepthLevel, NewOrder, OrderType, RejectReason, Side, TimeInForce};

use crate::report::Reporter;

/// A working order on the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resting {
    /// The order's id.
    id: u64,
    /// Quantity still working (always positive while on the book).
    leaves: i64,
    /// Quantity executed so far; a modify's new quantity includes it.
    filled: i64,
}

/// The orders at one price, oldest (highest time priority) first.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Level {
    orders: VecDeque<Resting>,
    /// Sum of the orders' leaves quantities; `i128` so that no number of
    /// orders can overflow it.
    quantity: i128,
}

impl Level {
    /// Append at the back of the queue (lowest time priority).
    fn push(&mut self, order: Resting) {
        self.quantity += i128::from(order.leaves);
        self.orders.push_back(order);
    }

    /// Queue position of `id`: scans this level only.
    fn position(&self, id: u64) -> Option<usize> {
        self.orders.iter().position(|order| order.id == id)
    }

    /// Take the order at `position` out of the queue.
    fn remove(&mut self, position: usize) -> Option<Resting> {
        let order = self.orders.remove(position)?;
        self.quantity -= i128::from(order.leaves);
        Some(order)
    }
}

/// One side of a book: price to level. Bids are best at the highest key,
/// asks at the lowest.
type Ladder = BTreeMap<i64, Level>;

/// An instrument's order book.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Book {
    bids: Ladder,
    asks: Ladder,
    /// Every working order's side and price, so that cancel and modify find
    /// the order's level without scanning the book. Only ever looked up,
    /// never iterated, so its order cannot leak into any output.
    index: HashMap<u64, (Side, i64)>,
}

/// The order currently taking liquidity: a new order or a repriced one.
struct Taker {
    id: u64,
    side: Side,
    /// `None` for a market order: any price is acceptable.
    limit: Option<i64>,
    leaves: i64,
}

impl Taker {
    /// Whether a resting order at `price` may trade with this order.
    fn accepts(&self, price: i64) -> bool {
        match (self.limit, self.side) {
            (None, _) => true,
            (Some(limit), Side::Buy) => price <= limit,
            (Some(limit), Side::Sell) => price >= limit,
        }
    }
}

fn opposite(side: Side) -> Side {
    match side {
        Side::Buy => Side::Sell,
        Side::Sell => Side::Buy,
    }
}

/// Levels of the side opposite to a taker on `side`, best price first.
fn best_first(ladder: &Ladder, side: Side) -> Box<dyn Iterator<Item = (&i64, &Level)> + '_> {
    match side {
        // A buyer takes from the asks, lowest first.
        Side::Buy => Box::new(ladder.iter()),
        // A seller takes from the bids, highest first.
        Side::Sell => Box::new(ladder.iter().rev()),
    }
}

/// Whether `taker` could be filled in full from `liquidity` right now.
fn can_fill(liquidity: &Ladder, taker: &Taker) -> bool {
    let needed = i128::from(taker.leaves);
    let mut available = 0i128;
    for (&price, level) in best_first(liquidity, taker.side) {
        if !taker.accepts(price) {
            break;
        }
        available += level.quantity;
        if available >= needed {
            return true;
        }
    }
    false
}

/// Match `taker` against `liquidity` (the opposite side): best price first,
/// oldest order first within a price, each trade at the resting price.
/// Reports a maker fill then a taker fill per trade; resting orders that fill
/// completely leave the book and the index.
fn take(
    liquidity: &mut Ladder,
    index: &mut HashMap<u64, (Side, i64)>,
    taker: &mut Taker,
    reports: &mut Reporter<'_>,
) {
    let maker_side = opposite(taker.side);
    while taker.leaves > 0 {
        let best = match taker.side {
            Side::Buy => liquidity.first_entry(),
            Side::Sell => liquidity.last_entry(),
        };
        let Some(mut best) = best else { break };
        let price = *best.key();
        if !taker.accepts(price) {
            break;
        }
        let level = best.get_mut();
        while taker.leaves > 0 {
            let Some(maker) = level.orders.front_mut() else {
                break;
            };
            let quantity = maker.leaves.min(taker.leaves);
            maker.leaves -= quantity;
            maker.filled += quantity;
            level.quantity -= i128::from(quantity);
            taker.leaves -= quantity;
            reports.filled(maker.id, maker_side, price, quantity, maker.leaves, true);
            reports.filled(taker.id, taker.side, price, quantity, taker.leaves, false);
            if maker.leaves == 0 {
                let id = maker.id;
                level.orders.pop_front();
                index.remove(&id);
            }
        }
        if level.orders.is_empty() {
            best.remove();
        }
    }
}

impl Book {
    /// Own side and opposite side of an order on `side`, plus the index.
    fn split(&mut self, side: Side) -> (&mut Ladder, &mut Ladder, &mut HashMap<u64, (Side, i64)>) {
        let Book { bids, asks, index } = self;
        match side {
            Side::Buy => (bids, asks, index),
            Side::Sell => (asks, bids, index),
        }
    }

    /// Put `order` at the back of its level.
    fn rest(&mut self, side: Side, price: i64, order: Resting) {
        let (own, _, index) = self.split(side);
        own.entry(price).or_default().push(order);
        index.insert(order.id, (side, price));
    }

    /// Take the working order `id` off the book, with its side and price.
    /// `None` when it is not working.
    fn unlink(&mut self, id: u64) -> Option<(Side, i64, Resting)> {
        let (side, price) = self.index.remove(&id)?;
        let (own, _, _) = self.split(side);
        let level = own.get_mut(&price)?;
        let order = level.position(id).and_then(|at| level.remove(at))?;
        if level.orders.is_empty() {
            own.remove(&price);
        }
        Some((side, price, order))
    }

    /// A new order whose quantity and (limit) price the caller checked positive.
    pub(crate) fn submit(&mut self, order: &NewOrder, reports: &mut Reporter<'_>) {
        if self.index.contains_key(&order.id) {
            let message = "order id is already working";
            reports.rejected(order.id, RejectReason::InvalidOrder, Some(message));
            return;
        }
        let market = matches!(order.order_type, OrderType::Market);
        let mut taker = Taker {
            id: order.id,
            side: order.side,
            limit: (!market).then_some(order.price),
            leaves: order.quantity,
        };
        let (_, liquidity, index) = self.split(order.side);
        if market && liquidity.is_empty() {
            reports.rejected(order.id, RejectReason::NoLiquidity, None);
            return;
        }
        if matches!(order.time_in_force, TimeInForce::Fok) && !can_fill(liquidity, &taker) {
            reports.rejected(order.id, RejectReason::FillOrKillUnfilled, None);
            return;
        }
        reports.accepted(order.id);
        take(liquidity, index, &mut taker, reports);
        if taker.leaves == 0 {
            return;
        }
        if !market && matches!(order.time_in_force, TimeInForce::Gtc) {
            let filled = order.quantity - taker.leaves;
            let resting = Resting {
                id: order.id,
                leaves: taker.leaves,
                filled,
            };
            self.rest(order.side, order.price, resting);
        } else {
            // IOC, market orders (and, defensively, an FOK that came up short).
            reports.canceled(order.id, taker.leaves);
        }
    }

    /// Cancel the rest of working order `id`.
    pub(crate) fn cancel(&mut self, id: u64, reports: &mut Reporter<'_>) {
        match self.unlink(id) {
            Some((_, _, order)) => reports.canceled(id, order.leaves),
            None => reports.rejected(id, RejectReason::UnknownOrder, None),
        }
    }

    /// Replace working order `id`'s price and total quantity (filled included).
    pub(crate) fn modify(
        &mut self,
        id: u64,
        price: i64,
        quantity: i64,
        reports: &mut Reporter<'_>,
    ) {
        let Some(&(side, old_price)) = self.index.get(&id) else {
            reports.rejected(id, RejectReason::UnknownOrder, None);
            return;
        };
        if price <= 0 {
            let message = "price must be positive";
            reports.rejected(id, RejectReason::InvalidOrder, Some(message));
            return;
        }
        let (own, _, _) = self.split(side);
        let Some((level, at)) = own
            .get_mut(&old_price)
            .and_then(|level| level.position(id).map(|at| (level, at)))
        else {
            // Unreachable while the index is consistent; refuse rather than trap.
            reports.rejected(id, RejectReason::UnknownOrder, None);
            return;
        };
        let current = level.orders[at];
        if quantity <= current.filled {
            // Nothing left to work: the modify cancels the rest.
            self.unlink(id);
            reports.canceled(id, current.leaves);
            return;
        }
        let leaves = quantity - current.filled;
        if price == old_price && leaves <= current.leaves {
            // Same price, no more quantity: keep the place in the queue.
            level.orders[at].leaves = leaves;
            level.quantity -= i128::from(current.leaves - leaves);
            reports.modified(id, price, leaves);
            return;
        }
        // A new price or more quantity: lose time priority and, like a new
        // order, take any liquidity the new price crosses before resting.
        self.unlink(id);
        reports.modified(id, price, leaves);
        let mut taker = Taker {
            id,
            side,
            limit: Some(price),
            leaves,
        };
        let (_, liquidity, index) = self.split(side);
        take(liquidity, index, &mut taker, reports);
        if taker.leaves > 0 {
            let resting = Resting {
                id,
                leaves: taker.leaves,
                filled: quantity - taker.leaves,
            };
            self.rest(side, price, resting);
        }
    }

    /// The best `levels` levels of each side: (bids highest first, asks lowest first).
    pub(crate) fn depth(&self, levels: usize) -> (Vec<DepthLevel>, Vec<DepthLevel>) {
        fn summarise<'a>(
            ladder: impl Iterator<Item = (&'a i64, &'a Level)>,
            levels: usize,
        ) -> Vec<DepthLevel> {
            ladder
                .take(levels)
                .map(|(&price, level)| DepthLevel {
                    price,
                    quantity: i64::try_from(level.quantity).unwrap_or(i64::MAX),
                    orders: u32::try_from(level.orders.len()).unwrap_or(u32::MAX),
                })
                .collect()
        }
        (
            summarise(self.bids.iter().rev(), levels),
            summarise(self.asks.iter(), levels),
        )
    }

    /// Append this book to `w`: for bids then asks, the level count, then per
    /// level (ascending price) the price, the order count and per order (queue
    /// order) its id, leaves and filled quantities.
    pub(crate) fn encode(&self, w: &mut StateWriter) {
        for ladder in [&self.bids, &self.asks] {
            w.u32(len_u32(ladder.len()));
            for (&price, level) in ladder {
                w.i64(price).u32(len_u32(level.orders.len()));
                for order in &level.orders {
                    w.u64(order.id).i64(order.leaves).i64(order.filled);
                }
            }
        }
    }

    /// Read a book written by [`Book::encode`], refusing anything `encode`
    /// could not have produced.
    pub(crate) fn decode(r: &mut StateReader<'_>) -> Result<Book, String> {
        let mut book = Book::default();
        for side in [Side::Buy, Side::Sell] {
            let levels = r.u32()?;
            let mut previous: Option<i64> = None;
            for _ in 0..levels {
                let price = r.i64()?;
                if price <= 0 || previous.is_some_and(|p| p >= price) {
                    return Err(format!("state has a bad or unordered level price {price}"));
                }
                previous = Some(price);
                let count = r.u32()?;
                if count == 0 {
                    return Err(format!("state has an empty level at {price}"));
                }
                let mut level = Level::default();
                for _ in 0..count {
                    let order = Resting {
                        id: r.u64()?,
                        leaves: r.i64()?,
                        filled: r.i64()?,
                    };
                    if order.leaves <= 0
                        || order.filled < 0
                        || order.filled.checked_add(order.leaves).is_none()
                    {
                        return Err(format!("state has bad quantities for order {}", order.id));
                    }
                    if book.index.insert(order.id, (side, price)).is_some() {
                        return Err(format!("state repeats order id {}", order.id));
                    }
                    level.push(order);
                }
                let ladder = match side {
                    Side::Buy => &mut book.bids,
                    Side::Sell => &mut book.asks,
                };
                ladder.insert(price, level);
            }
        }
        if let (Some((&bid, _)), Some((&ask, _))) =
            (book.bids.last_key_value(), book.asks.first_key_value())
            && bid >= ask
        {
            return Err(format!("state has a crossed book: bid {bid} >= ask {ask}"));
        }
        Ok(book)
    }

    /// Panics unless the levels' totals, the index and the spread agree with
    /// the orders on the book.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        let mut seen = 0;
        for (side, ladder) in [(Side::Buy, &self.bids), (Side::Sell, &self.asks)] {
            for (&price, level) in ladder {
                assert!(!level.orders.is_empty(), "empty level at {price}");
                let total: i128 = level.orders.iter().map(|o| i128::from(o.leaves)).sum();
                assert_eq!(level.quantity, total, "level total at {price}");
                for order in &level.orders {
                    assert!(order.leaves > 0 && order.filled >= 0);
                    let entry = self.index.get(&order.id).copied();
                    assert!(
                        entry.is_some_and(|(s, p)| s == side && p == price),
                        "index entry of order {}",
                        order.id
                    );
                    seen += 1;
                }
            }
        }
        assert_eq!(seen, self.index.len(), "index holds orders not on the book");
        if let (Some(bid), Some(ask)) = (self.bids.keys().last(), self.asks.keys().next()) {
            assert!(bid < ask, "crossed book {bid} >= {ask}");
        }
    }
}

/// A collection length as the `u32` count the state format stores; no book
/// can hold four billion levels or orders in a 32-bit address space.
fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}
