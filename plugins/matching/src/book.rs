//! One instrument's limit order book: price levels, the index, matching.

use std::collections::{BTreeMap, HashMap};

use tradsys_sdk::fixed::SCALE;
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{DepthLevel, NewOrder, OrderType, RejectReason, Side, TimeInForce};

use crate::allocate::allocate;
use crate::level::{Level, Resting};
use crate::report::Reporter;
use crate::{Rules, SelfTrade};

/// One side of a book: price to level. Bids are best at the highest key,
/// asks at the lowest.
type Ladder = BTreeMap<i64, Level>;

/// Every working order's side and price.
type Index = HashMap<u64, (Side, i64)>;

/// An instrument's order book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Book {
    bids: Ladder,
    asks: Ladder,
    /// Every working order's side and price, so that cancel and modify find
    /// the order's level without scanning the book. Only ever looked up,
    /// never iterated, so its order cannot leak into any output.
    index: Index,
    /// The instrument's lot size (fixed point, positive): pro-rata shares are
    /// whole lots.
    lot: i64,
    /// The TOP order of each side (bids, asks), kept only under
    /// [`Allocation::TopProRata`](crate::Allocation::TopProRata): the order
    /// that last bettered the market on that side and still works there.
    top: [Option<u64>; 2],
}

impl Default for Book {
    /// An empty book with a lot of one unit.
    fn default() -> Self {
        Self::new(SCALE)
    }
}

/// The order currently taking liquidity: a new order or a repriced one.
struct Taker {
    id: u64,
    side: Side,
    /// `None` for a market order: any price is acceptable.
    limit: Option<i64>,
    leaves: i64,
    owner: Option<u32>,
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

    /// The self-trade rule that applies to this order: none without an owner.
    fn self_trade(&self, rules: &Rules) -> SelfTrade {
        match self.owner {
            Some(_) => rules.self_trade,
            None => SelfTrade::Allow,
        }
    }
}

fn opposite(side: Side) -> Side {
    match side {
        Side::Buy => Side::Sell,
        Side::Sell => Side::Buy,
    }
}

/// Index of `side` in [`Book::top`].
fn slot(side: Side) -> usize {
    match side {
        Side::Buy => 0,
        Side::Sell => 1,
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

/// The side a taker trades against, with what matching changes besides it.
struct Liquidity<'a> {
    /// The makers' side.
    side: Side,
    ladder: &'a mut Ladder,
    index: &'a mut Index,
    /// The makers' side's TOP order.
    top: &'a mut Option<u64>,
    lot: i64,
}

impl Liquidity<'_> {
    /// Whether `taker` would be filled in full right now, at acceptable
    /// prices and under the self-trade rule, without changing anything.
    fn can_fill(&self, taker: &Taker, rules: &Rules) -> bool {
        let mut needed = i128::from(taker.leaves);
        for (&price, level) in best_first(self.ladder, taker.side) {
            if !taker.accepts(price) {
                break;
            }
            let available = match taker.self_trade(rules) {
                SelfTrade::Allow => level.quantity,
                // Own orders are canceled where they would trade, and the
                // aggressor trades with the others in their place.
                SelfTrade::CancelResting => level
                    .orders
                    .iter()
                    .filter(|order| order.owner != taker.owner)
                    .map(|order| i128::from(order.leaves))
                    .sum(),
                // The aggressor is canceled at its first own order.
                SelfTrade::CancelAggressor | SelfTrade::CancelBoth => {
                    let quantity = i64::try_from(needed).expect("at most the taker's leaves");
                    let plan = allocate(level, quantity, rules.allocation, self.lot, *self.top);
                    if plan
                        .iter()
                        .any(|&(at, _)| level.orders[at].owner == taker.owner)
                    {
                        return false;
                    }
                    level.quantity
                }
            };
            if available >= needed {
                return true;
            }
            needed -= available;
        }
        false
    }

    /// Match `taker` best price first, each trade at the resting price, the
    /// quantity at each price shared by the allocation. Reports a maker fill
    /// then a taker fill per trade; resting orders that fill completely (or
    /// that self-trade prevention cancels) leave the book, the index and the
    /// TOP. When self-trade prevention cancels the taker, its leaves are
    /// reported canceled and set to zero.
    fn take(&mut self, taker: &mut Taker, rules: &Rules, reports: &mut Reporter<'_>) {
        while taker.leaves > 0 {
            let best = match taker.side {
                Side::Buy => self.ladder.first_entry(),
                Side::Sell => self.ladder.last_entry(),
            };
            let Some(mut best) = best else { break };
            let price = *best.key();
            if !taker.accepts(price) {
                break;
            }
            let mut at_level = AtLevel {
                side: self.side,
                price,
                level: best.get_mut(),
                index: &mut *self.index,
                top: &mut *self.top,
                lot: self.lot,
            };
            let stopped = at_level.trade(taker, rules, reports);
            if best.get().orders.is_empty() {
                best.remove();
            }
            if stopped {
                break;
            }
        }
    }
}

/// Matching at one price level.
struct AtLevel<'a> {
    side: Side,
    price: i64,
    level: &'a mut Level,
    index: &'a mut Index,
    top: &'a mut Option<u64>,
    lot: i64,
}

impl AtLevel<'_> {
    /// Trade `taker` at this level: allocate its leaves and make the trades
    /// in the plan's order. At a trade with an order of the taker's own
    /// owner (self-trade prevention on), the trades before it stand; then
    /// `cancel-resting` cancels that order and allocates what the taker has
    /// left again, `cancel-aggressor` cancels the taker, `cancel-both` both.
    /// Returns whether the taker was canceled.
    fn trade(&mut self, taker: &mut Taker, rules: &Rules, reports: &mut Reporter<'_>) -> bool {
        let self_trade = taker.self_trade(rules);
        loop {
            let plan = allocate(
                self.level,
                taker.leaves,
                rules.allocation,
                self.lot,
                *self.top,
            );
            let own = match self_trade {
                SelfTrade::Allow => None,
                _ => plan
                    .iter()
                    .position(|&(at, _)| self.level.orders[at].owner == taker.owner),
            };
            let mut done = 0;
            for &(at, quantity) in &plan[..own.unwrap_or(plan.len())] {
                let maker = &mut self.level.orders[at];
                maker.leaves -= quantity;
                maker.filled += quantity;
                self.level.quantity -= i128::from(quantity);
                taker.leaves -= quantity;
                reports.filled(
                    maker.id,
                    self.side,
                    self.price,
                    quantity,
                    maker.leaves,
                    true,
                );
                reports.filled(
                    taker.id,
                    taker.side,
                    self.price,
                    quantity,
                    taker.leaves,
                    false,
                );
                if maker.leaves == 0 {
                    done += 1;
                }
            }
            let Some(own) = own else {
                self.remove_done(done);
                return false;
            };
            if matches!(self_trade, SelfTrade::CancelResting | SelfTrade::CancelBoth) {
                let maker = &mut self.level.orders[plan[own].0];
                reports.canceled(maker.id, maker.leaves);
                self.level.quantity -= i128::from(maker.leaves);
                maker.leaves = 0;
                done += 1;
            }
            self.remove_done(done);
            if matches!(
                self_trade,
                SelfTrade::CancelAggressor | SelfTrade::CancelBoth
            ) {
                reports.canceled(taker.id, taker.leaves);
                taker.leaves = 0;
                return true;
            }
            if taker.leaves == 0 || self.level.orders.is_empty() {
                return false;
            }
        }
    }

    /// Take the `done` orders with no leaves (filled or canceled) off the
    /// level, the index and the TOP.
    fn remove_done(&mut self, mut done: usize) {
        let (index, top) = (&mut *self.index, &mut *self.top);
        let mut forget = |id: u64| {
            index.remove(&id);
            if *top == Some(id) {
                *top = None;
            }
        };
        // Under FIFO they are always at the front.
        while done > 0 && self.level.orders.front().is_some_and(|o| o.leaves == 0) {
            let order = self.level.orders.pop_front().expect("a front order");
            forget(order.id);
            done -= 1;
        }
        if done > 0 {
            self.level.orders.retain(|order| {
                let keep = order.leaves > 0;
                if !keep {
                    forget(order.id);
                }
                keep
            });
        }
    }
}

impl Book {
    /// An empty book whose lot is `lot` (fixed point; one unit when not positive).
    pub fn new(lot: i64) -> Self {
        Self {
            bids: Ladder::new(),
            asks: Ladder::new(),
            index: Index::new(),
            lot: if lot > 0 { lot } else { SCALE },
            top: [None, None],
        }
    }

    /// The lot size pro-rata shares are rounded to.
    pub fn lot(&self) -> i64 {
        self.lot
    }

    /// Change the lot size (from a new instrument definition); a size that
    /// is not positive means one unit.
    pub fn set_lot(&mut self, lot: i64) {
        self.lot = if lot > 0 { lot } else { SCALE };
    }

    /// The TOP order of `side`, if any (only under `TopProRata`).
    pub fn top(&self, side: Side) -> Option<u64> {
        self.top[slot(side)]
    }

    /// Whether `id` is working on this book.
    pub fn contains(&self, id: u64) -> bool {
        self.index.contains_key(&id)
    }

    /// The owner recorded for working order `id`.
    pub fn owner(&self, id: u64) -> Option<u32> {
        self.find(id).and_then(|order| order.owner)
    }

    fn find(&self, id: u64) -> Option<&Resting> {
        let &(side, price) = self.index.get(&id)?;
        let level = self.ladder(side).get(&price)?;
        level.orders.iter().find(|order| order.id == id)
    }

    fn ladder(&self, side: Side) -> &Ladder {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn ladder_mut(&mut self, side: Side) -> &mut Ladder {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// The best price of `side`.
    fn best(&self, side: Side) -> Option<i64> {
        match side {
            Side::Buy => self.bids.last_key_value(),
            Side::Sell => self.asks.first_key_value(),
        }
        .map(|(&price, _)| price)
    }

    /// Whether an order resting at `price` on `side` would better the market
    /// (a better price than the side's best, or the side is empty).
    fn betters(&self, side: Side, price: i64) -> bool {
        match (self.best(side), side) {
            (None, _) => true,
            (Some(best), Side::Buy) => price > best,
            (Some(best), Side::Sell) => price < best,
        }
    }

    /// What a taker on `side` trades against.
    fn liquidity(&mut self, taker_side: Side) -> Liquidity<'_> {
        let side = opposite(taker_side);
        let Book {
            bids,
            asks,
            index,
            lot,
            top,
        } = self;
        Liquidity {
            side,
            ladder: match side {
                Side::Buy => bids,
                Side::Sell => asks,
            },
            index,
            top: &mut top[slot(side)],
            lot: *lot,
        }
    }

    /// Put `order` at the back of its level; it becomes its side's TOP order
    /// when `top` says so.
    fn rest(&mut self, side: Side, price: i64, order: Resting, top: bool) {
        self.ladder_mut(side).entry(price).or_default().push(order);
        self.index.insert(order.id, (side, price));
        if top {
            self.top[slot(side)] = Some(order.id);
        }
    }

    /// Take the working order `id` off the book (and the TOP), with its side
    /// and price. `None` when it is not working.
    fn unlink(&mut self, id: u64) -> Option<(Side, i64, Resting)> {
        let (side, price) = self.index.remove(&id)?;
        if self.top[slot(side)] == Some(id) {
            self.top[slot(side)] = None;
        }
        let own = self.ladder_mut(side);
        let level = own.get_mut(&price)?;
        let order = level.position(id).and_then(|at| level.remove(at))?;
        if level.orders.is_empty() {
            own.remove(&price);
        }
        Some((side, price, order))
    }

    /// A new order whose quantity and (limit) price the caller checked
    /// positive, owned by `owner`.
    pub fn submit(
        &mut self,
        order: &NewOrder,
        owner: Option<u32>,
        rules: &Rules,
        reports: &mut Reporter<'_>,
    ) {
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
            owner,
        };
        let mut liquidity = self.liquidity(order.side);
        if market && liquidity.ladder.is_empty() {
            reports.rejected(order.id, RejectReason::NoLiquidity, None);
            return;
        }
        if matches!(order.time_in_force, TimeInForce::Fok) && !liquidity.can_fill(&taker, rules) {
            reports.rejected(order.id, RejectReason::FillOrKillUnfilled, None);
            return;
        }
        reports.accepted(order.id);
        liquidity.take(&mut taker, rules, reports);
        if taker.leaves == 0 {
            return;
        }
        if !market && matches!(order.time_in_force, TimeInForce::Gtc) {
            let resting = Resting {
                id: order.id,
                leaves: taker.leaves,
                filled: order.quantity - taker.leaves,
                owner,
            };
            // Matching never changes the order's own side.
            let top = rules.allocation.has_top() && self.betters(order.side, order.price);
            self.rest(order.side, order.price, resting, top);
        } else {
            // IOC, market orders (and, defensively, an FOK that came up short).
            reports.canceled(order.id, taker.leaves);
        }
    }

    /// Cancel the rest of working order `id`.
    pub fn cancel(&mut self, id: u64, reports: &mut Reporter<'_>) {
        match self.unlink(id) {
            Some((_, _, order)) => reports.canceled(id, order.leaves),
            None => reports.rejected(id, RejectReason::UnknownOrder, None),
        }
    }

    /// Replace working order `id`'s price and total quantity (filled
    /// included). Less quantity at the same price keeps the order's place
    /// (and TOP status); a new price or more quantity sends it to the back
    /// of its new level (it loses TOP status, and gains it again when the
    /// new price betters the market), trading first what the price crosses.
    pub fn modify(
        &mut self,
        id: u64,
        price: i64,
        quantity: i64,
        rules: &Rules,
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
        let betters = rules.allocation.has_top() && self.betters(side, price);
        let own = self.ladder_mut(side);
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
            owner: current.owner,
        };
        self.liquidity(side).take(&mut taker, rules, reports);
        if taker.leaves > 0 {
            let resting = Resting {
                id,
                leaves: taker.leaves,
                filled: quantity - taker.leaves,
                owner: current.owner,
            };
            self.rest(side, price, resting, betters);
        }
    }

    /// The best `levels` levels of each side: (bids highest first, asks lowest first).
    pub fn depth(&self, levels: usize) -> (Vec<DepthLevel>, Vec<DepthLevel>) {
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

    /// The working orders that have an owner, as (id, owner), bids then
    /// asks, ascending price, queue order.
    pub fn owners(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.bids
            .values()
            .chain(self.asks.values())
            .flat_map(|level| &level.orders)
            .filter_map(|order| order.owner.map(|owner| (order.id, owner)))
    }

    /// Record the owner of working order `id` (restoring state): an unknown
    /// id or one that has an owner already is an error.
    pub fn set_owner(&mut self, id: u64, owner: u32) -> Result<(), String> {
        let Some(&(side, price)) = self.index.get(&id) else {
            return Err(format!("state names the owner of an unknown order {id}"));
        };
        let order = self
            .ladder_mut(side)
            .get_mut(&price)
            .and_then(|level| level.orders.iter_mut().find(|order| order.id == id))
            .ok_or_else(|| format!("state names the owner of an unknown order {id}"))?;
        if order.owner.is_some() {
            return Err(format!("state repeats the owner of order {id}"));
        }
        order.owner = Some(owner);
        Ok(())
    }

    /// Make `id` the TOP order of `side` (restoring state): it must work at
    /// the best price of that side.
    pub fn set_top(&mut self, side: Side, id: u64) -> Result<(), String> {
        match self.index.get(&id) {
            Some(&(s, price)) if s == side && self.best(side) == Some(price) => {
                self.top[slot(side)] = Some(id);
                Ok(())
            }
            _ => Err(format!(
                "state makes order {id} TOP without it working at the best price of its side"
            )),
        }
    }

    /// Forget the TOP orders (rules without them).
    pub(crate) fn clear_tops(&mut self) {
        self.top = [None, None];
    }

    /// Append this book to `w`: for bids then asks, the level count, then per
    /// level (ascending price) the price, the order count and per order (queue
    /// order) its id, leaves and filled quantities. Owners, the lot and the
    /// TOP orders are not part of it (see [`Books`](crate::Books)).
    pub fn encode(&self, w: &mut StateWriter) {
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
    /// could not have produced. No order has an owner, the lot is one unit
    /// and there is no TOP order.
    pub fn decode(r: &mut StateReader<'_>) -> Result<Book, String> {
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
                        owner: None,
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
                book.ladder_mut(side).insert(price, level);
            }
        }
        if let (Some(bid), Some(ask)) = (book.best(Side::Buy), book.best(Side::Sell))
            && bid >= ask
        {
            return Err(format!("state has a crossed book: bid {bid} >= ask {ask}"));
        }
        Ok(book)
    }

    /// Panics unless the levels' totals, the index, the TOP orders, the lot
    /// and the spread agree with the orders on the book (for tests).
    pub fn check_invariants(&self) {
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
            if let Some(top) = self.top[slot(side)] {
                let entry = self.index.get(&top).copied();
                assert!(
                    entry.is_some_and(|(s, p)| s == side && Some(p) == self.best(side)),
                    "TOP order {top} is not at the best price of its side"
                );
            }
        }
        assert_eq!(seen, self.index.len(), "index holds orders not on the book");
        assert!(self.lot > 0, "lot {}", self.lot);
        if let (Some(bid), Some(ask)) = (self.best(Side::Buy), self.best(Side::Sell)) {
            assert!(bid < ask, "crossed book {bid} >= {ask}");
        }
    }
}

/// A collection length as the `u32` count the state format stores; no book
/// can hold four billion levels or orders in a 32-bit address space.
pub(crate) fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}
