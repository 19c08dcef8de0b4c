//! The venue of one instrument: the feed's book, the trading session, our
//! resting orders and where they queue; commands and the feed's events.

use std::collections::BTreeMap;

use tradsys_sdk::book::{Detail, Level, OrderBook, Side as BookSide};
use tradsys_sdk::{
    Bar, BookAction, BookDelta, BookFlags, DepthLevel, DepthSnapshot, Fill, NewOrder,
    OrderAccepted, OrderCanceled, OrderEvent, OrderModified, OrderRejected, OrderType, Quote,
    RejectReason, Rejection, Side, TimeInForce, Trade,
};

use crate::queue::{Entry, Key, Queues, key};
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
#[derive(Debug, Default)]
pub(crate) struct Market {
    pub(crate) feed: OrderBook,
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

pub(crate) fn book_side(side: Side) -> BookSide {
    match side {
        Side::Buy => BookSide::Buy,
        Side::Sell => BookSide::Sell,
    }
}

pub(crate) fn side_of(side: BookSide) -> Side {
    match side {
        BookSide::Buy => Side::Buy,
        BookSide::Sell => Side::Sell,
    }
}

fn opposite(side: Side) -> Side {
    match side {
        Side::Buy => Side::Sell,
        Side::Sell => Side::Buy,
    }
}

/// Whether a resting order on `side` at `limit` is reached by a price.
fn reaches(side: Side, limit: i64, price: i64) -> bool {
    match side {
        Side::Buy => price <= limit,
        Side::Sell => price >= limit,
    }
}

/// Whether `a` is a better price than `b` for an order on `side`.
fn better(side: Side, a: i64, b: i64) -> bool {
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
    fn fill(&mut self, id: u64, side: Side, price: i64, quantity: i64, leaves: i64, maker: bool) {
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

    fn reject(&mut self, id: u64, reason: RejectReason, message: Option<String>) {
        self.out.push(OrderEvent::Rejected(OrderRejected {
            id,
            instrument: self.instrument,
            ts: self.ts,
            rejection: Rejection { reason, message },
        }));
    }

    fn canceled(&mut self, id: u64, quantity: i64) {
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
fn fill_ours(resting: &mut [Resting], id: u64, volume: i64, out: &mut Reports<'_>) -> i64 {
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
    fn by_order(&self) -> bool {
        self.feed.detail() == Detail::Orders
    }

    /// The liquidity an order could take now: (price, quantity) best first.
    fn takeable(&self, side: Side, limit: Option<i64>, quantity: i64) -> Vec<(i64, i64)> {
        let mut plan = Vec::new();
        let mut left = quantity;
        if self.feed.detail() == Detail::Empty {
            if let Some(bar) = &self.bar
                && limit.is_none_or(|l| reaches(opposite(side), bar.close, l))
            {
                plan.push((bar.close, left));
            }
            return plan;
        }
        let levels: Vec<Level> = match side {
            Side::Buy => self.feed.asks().collect(),
            Side::Sell => self.feed.bids().collect(),
        };
        for level in levels {
            if left == 0 || limit.is_some_and(|l| !reaches(side, l, level.price)) {
                break;
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
        plan
    }

    /// Take `plan` for order `id`: its taker fills. Returns the quantity left.
    fn take(
        &mut self,
        id: u64,
        side: Side,
        quantity: i64,
        plan: &[(i64, i64)],
        out: &mut Reports<'_>,
    ) -> i64 {
        let mut left = quantity;
        for &(price, q) in plan {
            if self.feed.detail() != Detail::Empty {
                *self.taken.entry(key(opposite(side), price)).or_default() += q;
            }
            left -= q;
            out.fill(id, side, price, q, left, false);
        }
        left
    }

    /// Rest `order` at its price, at the back of its level's queue.
    fn rest(&mut self, mut order: Resting) {
        if self.by_order() {
            let feed = &self.feed;
            let (side, price) = (order.side, order.price);
            self.queues.join(key(side, price), order.id, || {
                feed.orders_at(book_side(side), price)
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
    fn arrive(&mut self, mut order: Resting, gtc: bool, out: &mut Reports<'_>) {
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
    fn closed_to(&self, o: &NewOrder) -> Option<(RejectReason, String)> {
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
    fn remove(&mut self, id: u64) -> Option<Resting> {
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

    /// The book turns into a book by order (its first delta): orders of
    /// ours resting from before join their levels' queues, in arrival order.
    fn become_by_order(&mut self) {
        let ids: Vec<(u64, Side, i64)> = self
            .resting
            .iter()
            .map(|r| (r.id, r.side, r.price))
            .collect();
        for (id, side, price) in ids {
            self.queues.join(key(side, price), id, Vec::new);
        }
        for r in &mut self.resting {
            r.ahead = 0;
        }
    }

    /// Forget our orders that are filled.
    fn drop_filled(&mut self) {
        let filled: Vec<(u64, Side, i64)> = self
            .resting
            .iter()
            .filter(|r| r.leaves() <= 0)
            .map(|r| (r.id, r.side, r.price))
            .collect();
        for (id, side, price) in filled {
            self.resting.retain(|r| r.id != id);
            self.queues.leave(key(side, price), id);
        }
    }

    /// The prices of our orders on `side` that `accepts` takes, best first.
    fn our_prices(&self, side: Side, accepts: impl Fn(i64) -> bool) -> Vec<i64> {
        let mut prices: Vec<i64> = self
            .resting
            .iter()
            .filter(|r| r.side == side && accepts(r.price))
            .map(|r| r.price)
            .collect();
        prices.sort_unstable_by(|a, b| match side {
            Side::Buy => b.cmp(a),
            Side::Sell => a.cmp(b),
        });
        prices.dedup();
        prices
    }

    /// A book by order: `volume` traded with feed order `until` resting on
    /// `side` at `price`. In a market with our orders it would have reached
    /// ours first where they come first: every one at a better price, then
    /// those ahead of that order in its level's queue.
    fn volume_at(
        &mut self,
        side: Side,
        price: i64,
        volume: i64,
        until: Option<u64>,
        out: &mut Reports<'_>,
    ) {
        let mut left = volume;
        for p in self.our_prices(side, |p| better(side, p, price)) {
            let resting = &mut self.resting;
            left = self.queues.offer(key(side, p), left, None, |id, v| {
                fill_ours(resting, id, v, out)
            });
        }
        let resting = &mut self.resting;
        self.queues.offer(key(side, price), left, until, |id, v| {
            fill_ours(resting, id, v, out)
        });
        self.drop_filled();
    }

    /// A book by order: a feed order on the other side added (or moved) to
    /// `price`, crossing our orders on `side`: it would have traded with
    /// them, best price first, up to its `size`.
    fn crossing(&mut self, side: Side, price: i64, size: i64, out: &mut Reports<'_>) {
        let mut left = size;
        for p in self.our_prices(side, |p| reaches(side, p, price)) {
            let resting = &mut self.resting;
            left = self.queues.offer(key(side, p), left, None, |id, v| {
                fill_ours(resting, id, v, out)
            });
        }
        self.drop_filled();
    }

    /// The opening auction traded `volume` at `price`: on each side our
    /// orders that cross it fill at it, in price priority, behind the
    /// feed's orders at better prices, at their own price ahead of them in
    /// the queue, and at the auction's price behind all of the feed's.
    fn auction(&mut self, price: i64, volume: i64, out: &mut Reports<'_>) {
        for side in [Side::Buy, Side::Sell] {
            let ours = self.our_prices(side, |p| reaches(side, p, price));
            if ours.is_empty() {
                continue;
            }
            let levels: Vec<Level> = match side {
                Side::Buy => self.feed.bids().collect(),
                Side::Sell => self.feed.asks().collect(),
            };
            let mut prices: Vec<i64> = levels
                .iter()
                .map(|l| l.price)
                .filter(|p| reaches(side, *p, price))
                .chain(ours.iter().copied())
                .collect();
            prices.sort_unstable_by(|a, b| match side {
                Side::Buy => b.cmp(a),
                Side::Sell => a.cmp(b),
            });
            prices.dedup();
            let mut left = volume;
            for p in prices {
                if left <= 0 {
                    break;
                }
                let shown = levels.iter().find(|l| l.price == p).map_or(0, |l| l.size);
                let level = key(side, p);
                if p == price || !self.queues.has(level) {
                    left -= shown;
                    if p == price && left > 0 {
                        let ids: Vec<u64> = self
                            .resting
                            .iter()
                            .filter(|r| r.side == side && r.price == p)
                            .map(|r| r.id)
                            .collect();
                        for id in ids {
                            left -= self.auction_fill(id, price, left, out);
                        }
                    }
                    continue;
                }
                for entry in self.queues.entries(level).to_vec() {
                    if left <= 0 {
                        break;
                    }
                    match entry {
                        Entry::Feed { size, .. } => left -= size,
                        Entry::Ours(id) => {
                            left -= self.auction_fill(id, price, left, out);
                        }
                    }
                }
            }
        }
        self.drop_filled();
    }

    /// Our order `id` fills up to `volume` in the auction, at its `price`.
    fn auction_fill(&mut self, id: u64, price: i64, volume: i64, out: &mut Reports<'_>) -> i64 {
        let Some(r) = self.resting.iter_mut().find(|r| r.id == id) else {
            return 0;
        };
        let q = r.leaves().min(volume);
        if q <= 0 {
            return 0;
        }
        r.filled += q;
        out.fill(r.id, r.side, price, q, r.leaves(), true);
        q
    }

    pub(crate) fn on_status(&mut self, status: tradsys_sdk::TradingStatus) {
        self.session.status(status);
    }

    pub(crate) fn on_delta(&mut self, d: &BookDelta, out: &mut Reports<'_>) {
        self.session.book_by_order();
        if !self.by_order() {
            self.become_by_order();
        }
        let side = d.side;
        let ours = !self.resting.is_empty();
        match d.action {
            BookAction::Add => {
                if ours && self.session.trading() {
                    self.crossing(opposite(side), d.price, d.size, out);
                }
                self.taken.remove(&key(side, d.price));
                self.feed.add(d.order_id, book_side(side), d.price, d.size);
                self.queues
                    .feed_joined(key(side, d.price), d.order_id, d.size);
            }
            BookAction::Modify => {
                let old = self.feed.order(d.order_id);
                let moved = old.is_none_or(|o| o.price != d.price || side_of(o.side) != side);
                let grew = old.is_some_and(|o| d.size > o.size);
                if let Some(o) = old {
                    let level = key(side_of(o.side), o.price);
                    if moved || grew {
                        self.queues.feed_left(level, d.order_id);
                    } else {
                        self.queues.feed_at_most(level, d.order_id, d.size);
                    }
                    self.taken.remove(&level);
                }
                if moved && ours && self.session.trading() {
                    self.crossing(opposite(side), d.price, d.size, out);
                }
                self.taken.remove(&key(side, d.price));
                self.feed
                    .modify(d.order_id, book_side(side), d.price, d.size);
                if moved || grew {
                    self.queues
                        .feed_joined(key(side, d.price), d.order_id, d.size);
                }
            }
            BookAction::Cancel => {
                if let Some(o) = self.feed.order(d.order_id) {
                    let level = key(side_of(o.side), o.price);
                    let left = o.size - d.size.clamp(0, o.size);
                    if left == 0 {
                        self.queues.feed_left(level, d.order_id);
                    } else {
                        self.queues.feed_at_most(level, d.order_id, left);
                    }
                    self.taken.remove(&level);
                }
                self.feed.cancel(d.order_id, d.size);
            }
            BookAction::Clear => {
                // A snapshot follows: the same orders again keep their places.
                self.feed.clear();
                self.taken.clear();
                self.queues.feed_cleared();
            }
            BookAction::Fill => {
                // A trade at a level: only a fill of an order resting at that
                // price (not the aggressor's record, not an aggressive
                // modify's, not the auction's).
                if let Some(o) = self.feed.order(d.order_id)
                    && o.price == d.price
                {
                    self.session.fill();
                    let (side, level) = (side_of(o.side), key(side_of(o.side), o.price));
                    if ours && self.session.trading() {
                        self.volume_at(side, o.price, d.size, Some(d.order_id), out);
                    }
                    self.queues.feed_traded(level, d.order_id, d.size);
                }
            }
        }
        if d.flags.contains(BookFlags::LAST) {
            self.session.event_end();
            self.queues.event_end();
        }
    }

    pub(crate) fn on_trade(&mut self, t: &Trade, out: &mut Reports<'_>) {
        let last = t.flags.contains(BookFlags::LAST);
        if self.feed.detail() == Detail::Empty {
            self.session.other_data();
        }
        let auction = self.session.trade(t.aggressor.is_some(), last);
        match self.feed.detail() {
            Detail::Orders if auction => self.auction(t.price, t.size, out),
            // By order: the fill records say who traded; bars: the bar does.
            Detail::Orders | Detail::Empty => {}
            Detail::Levels | Detail::Top => {
                if self.session.trading() {
                    self.trade_at_level(t, out);
                }
            }
        }
        if last {
            self.session.event_end();
        }
    }

    /// Levels or the touch: a trade at a price first trades the feed's
    /// queue there, then ours; a trade through our price fills us.
    fn trade_at_level(&mut self, t: &Trade, out: &mut Reports<'_>) {
        for side in [Side::Buy, Side::Sell] {
            if t.aggressor == Some(side) {
                continue;
            }
            // Every one of our orders at the trade's price moves up by its
            // size, and what reaches us is what is left once the shortest
            // queue ahead is gone.
            let mut shortest: Option<i64> = None;
            for r in &mut self.resting {
                if r.side == side && r.price == t.price {
                    shortest = Some(shortest.map_or(r.ahead, |s| s.min(r.ahead)));
                    r.ahead = (r.ahead - t.size).max(0);
                }
            }
            let size = t.size - shortest.unwrap_or(0).min(t.size);
            self.fill_reached(side, t.price, size, true, out);
        }
    }

    /// Without a book by order: fill our orders on `side` that `price`
    /// reaches, best price first then arrival, up to `size`; `at_level`
    /// says whether orders exactly at `price` must first see nothing ahead
    /// of them. Returns what is left.
    fn fill_reached(
        &mut self,
        side: Side,
        price: i64,
        mut size: i64,
        at_level: bool,
        out: &mut Reports<'_>,
    ) -> i64 {
        if self.resting.is_empty() {
            return size; // the common case on the hot path: nothing of ours rests
        }
        let mut order: Vec<usize> = (0..self.resting.len())
            .filter(|&i| {
                let r = &self.resting[i];
                r.side == side && reaches(side, r.price, price)
            })
            .collect();
        order.sort_by(|&a, &b| {
            let (ra, rb) = (&self.resting[a], &self.resting[b]);
            if better(side, ra.price, rb.price) {
                std::cmp::Ordering::Less
            } else if better(side, rb.price, ra.price) {
                std::cmp::Ordering::Greater
            } else {
                a.cmp(&b)
            }
        });
        for i in order {
            if size <= 0 {
                break;
            }
            let r = &mut self.resting[i];
            if at_level && r.price == price && r.ahead > 0 {
                continue;
            }
            let q = r.leaves().min(size);
            r.filled += q;
            size -= q;
            out.fill(r.id, r.side, r.price, q, r.leaves(), true);
        }
        self.resting.retain(|r| r.leaves() > 0);
        size
    }

    /// Cap what is ahead by the level sizes now; fill what the opposite
    /// best level crosses; forget what we took of levels that changed.
    fn after_levels(&mut self, before: &BTreeMap<Key, i64>, out: &mut Reports<'_>) {
        for r in &mut self.resting {
            // Only a level the feed shows (or an empty one within what it
            // shows) says anything; deeper ones are not in the data.
            let deepest = match r.side {
                Side::Buy => self.feed.bids().last(),
                Side::Sell => self.feed.asks().last(),
            };
            if deepest.is_some_and(|d| !better(r.side, d.price, r.price)) {
                let size = self
                    .feed
                    .level(book_side(r.side), r.price)
                    .map_or(0, |l| l.size);
                r.ahead = r.ahead.min(size);
            }
        }
        if self.session.trading() {
            for side in [Side::Buy, Side::Sell] {
                let best = match side {
                    Side::Buy => self.feed.best_ask(),
                    Side::Sell => self.feed.best_bid(),
                };
                if let Some(level) = best {
                    self.fill_reached(side, level.price, level.size, false, out);
                }
            }
        }
        let now = self.level_sizes();
        self.taken.retain(|k, _| before.get(k) == now.get(k));
    }

    fn level_sizes(&self) -> BTreeMap<Key, i64> {
        let bids = self.feed.bids().map(|l| (key(Side::Buy, l.price), l.size));
        let asks = self.feed.asks().map(|l| (key(Side::Sell, l.price), l.size));
        bids.chain(asks).collect()
    }

    pub(crate) fn on_depth(&mut self, d: &DepthSnapshot, out: &mut Reports<'_>) {
        self.session.other_data();
        if self.feed.detail() > Detail::Levels {
            return; // a book by order ignores snapshots (and costs nothing here)
        }
        let before = self.level_sizes();
        let levels = |v: &[DepthLevel]| -> Vec<Level> {
            v.iter()
                .map(|l| Level {
                    price: l.price,
                    size: l.quantity,
                    orders: l.orders,
                })
                .collect()
        };
        if self.feed.replace_levels(&levels(&d.bids), &levels(&d.asks)) {
            self.after_levels(&before, out);
        }
    }

    pub(crate) fn on_quote(&mut self, q: &Quote, out: &mut Reports<'_>) {
        if self.feed.detail() > Detail::Top {
            return; // the quotes the host derives from a book add nothing to it
        }
        self.session.other_data();
        let before = self.level_sizes();
        let side = |price, size| (size > 0 && price > 0).then_some((price, size));
        if self
            .feed
            .set_top(side(q.bid_price, q.bid_size), side(q.ask_price, q.ask_size))
        {
            self.after_levels(&before, out);
        }
    }

    pub(crate) fn on_bar(&mut self, b: &Bar, out: &mut Reports<'_>) {
        self.bar = Some(*b);
        self.session.other_data();
        if self.feed.detail() != Detail::Empty || !self.session.trading() {
            return;
        }
        let mut volume = if b.volume > 0 { b.volume } else { i64::MAX };
        for r in &mut self.resting {
            let price = match r.side {
                Side::Buy if b.open <= r.price => b.open,
                Side::Buy if b.low <= r.price => r.price,
                Side::Sell if b.open >= r.price => b.open,
                Side::Sell if b.high >= r.price => r.price,
                _ => continue,
            };
            let q = r.leaves().min(volume);
            if q <= 0 {
                break;
            }
            volume -= q;
            r.filled += q;
            out.fill(r.id, r.side, price, q, r.leaves(), true);
        }
        self.resting.retain(|r| r.leaves() > 0);
    }
}
