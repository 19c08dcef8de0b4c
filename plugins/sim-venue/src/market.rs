//! The venue of one instrument: the feed's book (a book by order is the
//! host's, read through `market` when an order arrives; levels and the
//! touch are kept here), the trading session, our resting orders and where
//! they queue; commands and the feed's events.

use std::collections::BTreeMap;

use tradsys_sdk::book::{Detail, Level, OrderBook, Side as BookSide};
use tradsys_sdk::host::{self, PriceBand};
use tradsys_sdk::{
    Bar, Fill, NewOrder, OrderAccepted, OrderCanceled, OrderEvent, OrderModified, OrderRejected,
    OrderType, RejectReason, Rejection, Side, TimeInForce,
};

use crate::levels::Levels;
use crate::queue::{Key, Queues, key};
use crate::session::{Phase, Session};

/// A strategy order resting at the venue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resting {
    pub(crate) id: u64,
    pub(crate) side: Side,
    pub(crate) price: i64,
    /// Total quantity, filled included (modify states a total).
    pub(crate) quantity: i64,
    pub(crate) filled: i64,
    /// What is ahead of it without a book by order (levels, the touch,
    /// bars): a quantity. A book by order keeps its place in [`Queues`].
    pub(crate) ahead: i64,
}

impl Resting {
    pub(crate) fn leaves(&self) -> i64 {
        self.quantity - self.filled
    }
}

/// The venue of one instrument.
#[derive(Debug)]
pub(crate) struct Market {
    /// The instrument.
    pub(crate) instrument: u32,
    /// The feed's levels or touch; empty for a book by order, which the
    /// host keeps.
    pub(crate) feed: OrderBook,
    /// The feed names its orders (book deltas): the host's book is read.
    pub(crate) by_order: bool,
    /// A book by order's levels while an auction may come (before the open,
    /// in a halt): what the auction's volume reaches first.
    pub(crate) opening: Option<Levels>,
    /// Which of this instrument's adds, modifies and cancels the host
    /// hands (`host::watch`), as last told.
    pub(crate) watched: Bands,
    pub(crate) session: Session,
    /// Our resting orders, in arrival order.
    pub(crate) resting: Vec<Resting>,
    /// Where our orders queue in a book by order.
    pub(crate) queues: Queues,
    /// Liquidity our orders took, by (side, price) of the feed level.
    pub(crate) taken: BTreeMap<Key, i64>,
    /// The last bar, for a feed of bars only.
    pub(crate) bar: Option<Bar>,
}

impl Market {
    /// The venue of `instrument`, before any event.
    pub(crate) fn new(instrument: u32) -> Self {
        Self {
            instrument,
            feed: OrderBook::default(),
            by_order: false,
            opening: None,
            watched: EVERY_EVENT,
            session: Session::default(),
            resting: Vec::new(),
            queues: Queues::default(),
            taken: BTreeMap::new(),
            bar: None,
        }
    }

    /// How detailed the feed is.
    pub(crate) fn detail(&self) -> Detail {
        if self.by_order {
            Detail::Orders
        } else {
            self.feed.detail()
        }
    }

    /// The events of a book by order that can touch what the venue keeps:
    /// every one while an auction may come; else the bids and asks at the
    /// prices of our orders, those that would cross them, and the levels
    /// our orders took from, and trades and fills while an order of ours
    /// rests; none with nothing of ours.
    fn wanted(&self) -> Bands {
        if self.session.awaiting_open {
            return EVERY_EVENT;
        }
        let (mut bids, mut asks) = (None, None);
        // A trade or a fill reaches only an order of ours (or an auction).
        let trades = !self.resting.is_empty();
        let widen = |band: &mut Option<(i64, i64)>, low: i64, high: i64| {
            *band = Some(band.map_or((low, high), |(l, h)| (l.min(low), h.max(high))));
        };
        for r in &self.resting {
            match r.side {
                Side::Buy => {
                    widen(&mut bids, r.price, r.price);
                    widen(&mut asks, i64::MIN, r.price);
                }
                Side::Sell => {
                    widen(&mut asks, r.price, r.price);
                    widen(&mut bids, r.price, i64::MAX);
                }
            }
        }
        for &(side, price) in self.taken.keys() {
            let band = if side == key(Side::Buy, 0).0 {
                &mut bids
            } else {
                &mut asks
            };
            widen(band, price, price);
        }
        (bids, asks, trades)
    }

    /// Tell the host when what can touch the venue's book-by-order state
    /// changed (`host::watch`).
    pub(crate) fn sync_watch(&mut self) {
        if !self.by_order {
            return;
        }
        let wanted = self.wanted();
        if wanted != self.watched {
            self.watched = wanted;
            let band = |b: Option<(i64, i64)>| b.map(|(low, high)| PriceBand { low, high });
            host::watch(self.instrument, (band(wanted.0), band(wanted.1), wanted.2));
        }
    }
}

pub(crate) fn book_side(side: Side) -> BookSide {
    match side {
        Side::Buy => BookSide::Buy,
        Side::Sell => BookSide::Sell,
    }
}

pub(crate) fn opposite(side: Side) -> Side {
    match side {
        Side::Buy => Side::Sell,
        Side::Sell => Side::Buy,
    }
}

/// The host's depth levels as the book's.
pub(crate) fn book_levels(levels: Vec<tradsys_sdk::DepthLevel>) -> Vec<Level> {
    levels
        .into_iter()
        .map(|l| Level {
            price: l.price,
            size: l.quantity,
            orders: l.orders,
        })
        .collect()
}

/// What of a book by order the venue asks the host for: its adds, modifies
/// and cancels by price, bids and asks (`None`: none of the side), and
/// whether its trades and fills.
pub(crate) type Bands = (Option<(i64, i64)>, Option<(i64, i64)>, bool);

/// Every event.
pub(crate) const EVERY_EVENT: Bands =
    (Some((i64::MIN, i64::MAX)), Some((i64::MIN, i64::MAX)), true);

/// The deepest the host answers `market.depth`, levels a side.
pub(crate) const MAX_LEVELS: u32 = 100;

/// Whether a resting order on `side` at `limit` is reached by a price.
pub(crate) fn reaches(side: Side, limit: i64, price: i64) -> bool {
    match side {
        Side::Buy => price <= limit,
        Side::Sell => price >= limit,
    }
}

/// Whether `a` is a better price than `b` for an order on `side`.
pub(crate) fn better(side: Side, a: i64, b: i64) -> bool {
    match side {
        Side::Buy => a > b,
        Side::Sell => a < b,
    }
}

/// Reports of one instrument at one time.
pub(crate) struct Reports<'a> {
    pub(crate) instrument: u32,
    pub(crate) ts: u64,
    pub(crate) out: &'a mut Vec<OrderEvent>,
}

impl Reports<'_> {
    pub(crate) fn fill(
        &mut self,
        id: u64,
        side: Side,
        price: i64,
        quantity: i64,
        leaves: i64,
        maker: bool,
    ) {
        self.out.push(OrderEvent::Filled(Fill {
            id,
            instrument: self.instrument,
            ts: self.ts,
            side,
            price,
            quantity,
            leaves_quantity: leaves,
            maker,
        }));
    }

    pub(crate) fn reject(&mut self, id: u64, reason: RejectReason, message: Option<String>) {
        self.out.push(OrderEvent::Rejected(OrderRejected {
            id,
            instrument: self.instrument,
            ts: self.ts,
            rejection: Rejection { reason, message },
        }));
    }

    pub(crate) fn canceled(&mut self, id: u64, quantity: i64) {
        self.out.push(OrderEvent::Canceled(OrderCanceled {
            id,
            instrument: self.instrument,
            ts: self.ts,
            canceled_quantity: quantity,
        }));
    }
}

/// Fill our order `id` of `resting` from `volume` at its own price (a
/// resting order's fill): what it took.
pub(crate) fn fill_ours(
    resting: &mut [Resting],
    id: u64,
    volume: i64,
    out: &mut Reports<'_>,
) -> i64 {
    let Some(r) = resting.iter_mut().find(|r| r.id == id) else {
        return 0;
    };
    let q = r.leaves().min(volume);
    if q <= 0 {
        return 0;
    }
    r.filled += q;
    out.fill(r.id, r.side, r.price, q, r.leaves(), true);
    q
}

impl Market {
    pub(crate) fn by_order(&self) -> bool {
        self.by_order
    }

    /// The opposite side's levels an order on `side` could take, best
    /// first: the host's (at most `n` a side) for a book by order.
    fn opposite_levels(&self, side: Side, n: u32) -> Vec<Level> {
        if self.by_order {
            let depth = host::depth(self.instrument, n);
            return book_levels(match side {
                Side::Buy => depth.asks,
                Side::Sell => depth.bids,
            });
        }
        match side {
            Side::Buy => self.feed.asks().collect(),
            Side::Sell => self.feed.bids().collect(),
        }
    }

    /// The liquidity an order could take now: (price, quantity) best first.
    pub(crate) fn takeable(
        &self,
        side: Side,
        limit: Option<i64>,
        quantity: i64,
    ) -> Vec<(i64, i64)> {
        if self.detail() == Detail::Empty {
            let mut plan = Vec::new();
            if let Some(bar) = &self.bar
                && limit.is_none_or(|l| reaches(opposite(side), bar.close, l))
            {
                plan.push((bar.close, quantity));
            }
            return plan;
        }
        if !self.by_order {
            let levels = self.opposite_levels(side, MAX_LEVELS);
            return self.plan(side, limit, quantity, &levels).0;
        }
        // The host's book is read ten levels deep first, and as deep as it
        // answers (a hundred) when the order reaches past them.
        let mut n = 10;
        loop {
            let levels = self.opposite_levels(side, n);
            let (plan, stopped) = self.plan(side, limit, quantity, &levels);
            if stopped || levels.len() < n as usize || n >= MAX_LEVELS {
                return plan;
            }
            n = MAX_LEVELS;
        }
    }

    /// Level by level from the best, only as far as the order reaches: the
    /// plan, and whether it stopped before the last of `levels`.
    fn plan(
        &self,
        side: Side,
        limit: Option<i64>,
        quantity: i64,
        levels: &[Level],
    ) -> (Vec<(i64, i64)>, bool) {
        let mut plan = Vec::new();
        let mut left = quantity;
        for level in levels {
            if left == 0 || limit.is_some_and(|l| !reaches(side, l, level.price)) {
                return (plan, true);
            }
            let taken = self
                .taken
                .get(&key(opposite(side), level.price))
                .copied()
                .unwrap_or(0);
            let available = (level.size - taken).min(left);
            if available > 0 {
                plan.push((level.price, available));
                left -= available;
            }
        }
        let stopped = left == 0;
        (plan, stopped)
    }

    /// Take `plan` for order `id`: its taker fills. Returns the quantity left.
    pub(crate) fn take(
        &mut self,
        id: u64,
        side: Side,
        quantity: i64,
        plan: &[(i64, i64)],
        out: &mut Reports<'_>,
    ) -> i64 {
        let mut left = quantity;
        for &(price, q) in plan {
            if self.detail() != Detail::Empty {
                *self.taken.entry(key(opposite(side), price)).or_default() += q;
            }
            left -= q;
            out.fill(id, side, price, q, left, false);
        }
        left
    }

    /// Rest `order` at its price, at the back of its level's queue.
    pub(crate) fn rest(&mut self, mut order: Resting) {
        if self.by_order() {
            let (instrument, side, price) = (self.instrument, order.side, order.price);
            self.queues.join(key(side, price), order.id, || {
                host::queue(instrument, side, price)
                    .into_iter()
                    .map(|q| (q.order_id, q.size))
                    .collect()
            });
            order.ahead = 0;
        } else {
            order.ahead = match self.feed.detail() {
                Detail::Levels | Detail::Top => self
                    .feed
                    .level(book_side(order.side), order.price)
                    .map_or(0, |l| l.size),
                _ => 0,
            };
        }
        self.resting.push(order);
    }

    /// Match a new or re-priced order as a taker (when the market trades),
    /// then rest or cancel the rest.
    pub(crate) fn arrive(&mut self, mut order: Resting, gtc: bool, out: &mut Reports<'_>) {
        if self.session.trading() {
            let plan = self.takeable(order.side, Some(order.price), order.leaves());
            let left = self.take(order.id, order.side, order.leaves(), &plan, out);
            order.filled = order.quantity - left;
            if left == 0 {
                return;
            }
        }
        if gtc {
            self.rest(order);
        } else {
            out.canceled(order.id, order.leaves());
        }
    }

    /// Why the market refuses orders now, if it does.
    pub(crate) fn closed_to(&self, o: &NewOrder) -> Option<(RejectReason, String)> {
        match self.session.phase {
            Phase::Halted => Some((
                RejectReason::InstrumentHalted,
                "the instrument is halted".into(),
            )),
            Phase::PreOpen
                if o.order_type == OrderType::Market || o.time_in_force != TimeInForce::Gtc =>
            {
                Some((
                    RejectReason::Other,
                    "pre-open: nothing trades before the open; only GTC limit orders rest".into(),
                ))
            }
            _ => None,
        }
    }

    pub(crate) fn submit(&mut self, o: &NewOrder, out: &mut Reports<'_>) {
        let limit = matches!(o.order_type, OrderType::Limit);
        let problem = if o.quantity <= 0 {
            Some("quantity must be positive")
        } else if limit && o.price <= 0 {
            Some("limit price must be positive")
        } else if self.resting.iter().any(|r| r.id == o.id) {
            Some("an order with this id is working")
        } else {
            None
        };
        if let Some(message) = problem {
            return out.reject(o.id, RejectReason::InvalidOrder, Some(message.into()));
        }
        if let Some((reason, message)) = self.closed_to(o) {
            return out.reject(o.id, reason, Some(message));
        }
        let limit_price = limit.then_some(o.price);
        let plan = self.takeable(o.side, limit_price, o.quantity);
        let available: i64 = plan.iter().map(|(_, q)| q).sum();
        if o.time_in_force == TimeInForce::Fok && available < o.quantity {
            return out.reject(o.id, RejectReason::FillOrKillUnfilled, None);
        }
        if !limit && plan.is_empty() {
            return out.reject(o.id, RejectReason::NoLiquidity, None);
        }
        out.out.push(OrderEvent::Accepted(OrderAccepted {
            id: o.id,
            instrument: out.instrument,
            ts: out.ts,
        }));
        let order = Resting {
            id: o.id,
            side: o.side,
            price: o.price,
            quantity: o.quantity,
            filled: 0,
            ahead: 0,
        };
        if limit {
            self.arrive(order, o.time_in_force == TimeInForce::Gtc, out);
        } else {
            let left = self.take(o.id, o.side, o.quantity, &plan, out);
            if left > 0 {
                out.canceled(o.id, left);
            }
        }
    }

    /// Take our order `id` off the book (and out of its queue).
    pub(crate) fn remove(&mut self, id: u64) -> Option<Resting> {
        let i = self.resting.iter().position(|r| r.id == id)?;
        let order = self.resting.remove(i);
        self.queues.leave(key(order.side, order.price), id);
        Some(order)
    }

    pub(crate) fn cancel(&mut self, id: u64, out: &mut Reports<'_>) {
        match self.remove(id) {
            Some(order) => out.canceled(id, order.leaves()),
            None => out.reject(id, RejectReason::UnknownOrder, None),
        }
    }

    pub(crate) fn modify(&mut self, id: u64, price: i64, quantity: i64, out: &mut Reports<'_>) {
        let Some(i) = self.resting.iter().position(|r| r.id == id) else {
            return out.reject(id, RejectReason::UnknownOrder, None);
        };
        if price <= 0 {
            let message = Some("price must be positive".into());
            return out.reject(id, RejectReason::InvalidOrder, message);
        }
        if self.session.phase == Phase::Halted {
            let message = Some("the instrument is halted".into());
            return out.reject(id, RejectReason::InstrumentHalted, message);
        }
        let order = &self.resting[i];
        if quantity <= order.filled {
            let order = self.remove(id).expect("found above");
            return out.canceled(id, order.leaves());
        }
        let keeps_place = price == order.price && quantity - order.filled <= order.leaves();
        out.out.push(OrderEvent::Modified(OrderModified {
            id,
            instrument: out.instrument,
            ts: out.ts,
            price,
            leaves_quantity: quantity - order.filled,
        }));
        if keeps_place {
            self.resting[i].quantity = quantity;
        } else {
            let mut order = self.remove(id).expect("found above");
            order.quantity = quantity;
            order.price = price;
            self.arrive(order, true, out);
        }
    }
}
