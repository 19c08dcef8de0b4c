//! `sim-venue`: a simulated venue over the replayed feed (the matcher of
//! `[venue] model = "simulated"`).
//!
//! It keeps a copy of the feed's book per instrument (from `on_market`) and
//! never changes it for strategy orders: the feed is history. Strategy orders
//! are filled as the feed says they could have been:
//!
//! - **Taking.** A marketable order takes the displayed liquidity at the
//!   feed's prices, level by level (`maker = false`). What it took stays
//!   taken at that level until the feed next changes the level, so two of our
//!   orders never use the same lot. Market and IOC orders cancel what is
//!   left; a fill-or-kill that the displayed liquidity cannot fill in full is
//!   rejected (`fill-or-kill-unfilled`); a market order with nothing to take
//!   is rejected (`no-liquidity`).
//! - **Queueing (L3: the feed names its orders).** A resting order joins the
//!   back of its price level, behind every feed order resting there when it
//!   arrived. It moves up as those are cancelled (a partial cancel by its
//!   size), or modified away (a new price or a larger size sends the feed
//!   order behind us). A feed fill record of an order resting at our price
//!   (with the fill at that price) is a trade at our level: once nothing is
//!   ahead of us, it fills us instead, up to its size. A feed order added (or
//!   modified) to a price that crosses ours would have traded with us: it
//!   fills us up to its size. A fill record of an order that is not resting
//!   is the aggressor's and adds no liquidity; a fill at a price other than
//!   the order's resting price (an aggressive modify) is not a trade of that
//!   level's queue.
//! - **Queueing (L2 levels, L1 quotes).** The same with a quantity ahead:
//!   the level's size when we arrived. Feed trades at our price consume it
//!   first, then fill us (100 ahead, trades of 80 and 30: we fill 10). A
//!   level that shrinks without trades caps what is ahead at its new size
//!   (cancels are assumed behind us only when they must be). A trade through
//!   our price, or a touch that crosses it, fills us.
//! - **Bars only.** A marketable order fills at the last bar's close. A
//!   resting limit order fills on the next bar that reaches it, along
//!   open, high, low, close (open, low, high, close for a down bar): a buy
//!   at or above the open fills at the open, else at its limit if the low
//!   reaches it (sells the mirror image), up to the bar's volume.
//!
//! Fills of resting orders are `maker = true` and carry the feed event's
//! time. Strategy orders never affect the feed, which a real market would
//! (our own impact), and hidden liquidity is invisible.
//!
//! Commands: a quantity or limit price that is not positive, or an id still
//! working, is rejected (`invalid-order`). Cancel removes a working order
//! (`unknown-order` otherwise). Modify: the new quantity is the total,
//! filled included; at or below the filled quantity the rest is cancelled; a
//! new price or a larger quantity loses the place in the queue (and may
//! take liquidity first), a smaller one keeps it.
//!
//! Config keys: none.

use std::collections::BTreeMap;

use tradsys_sdk::book::{Detail, Level, OrderBook, Side as BookSide};
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Bar, BookAction, BookDelta, BookDepth, Config, DepthLevel, DepthSnapshot, Fill, MarketEvent,
    Matcher, NewOrder, OrderAccepted, OrderCanceled, OrderCommand, OrderEvent, OrderModified,
    OrderRejected, OrderType, Quote, RejectReason, Rejection, Side, TimeInForce, Trade, host,
};

const STATE_VERSION: u8 = 1;

/// What is ahead of a resting order in its queue.
#[derive(Debug, Clone, PartialEq)]
enum Ahead {
    /// Feed orders by id, with their size still ahead (L3).
    Orders(BTreeMap<u64, i64>),
    /// A quantity (L2, L1, bars).
    Quantity(i64),
}

impl Ahead {
    fn total(&self) -> i64 {
        match self {
            Self::Orders(orders) => orders.values().sum(),
            Self::Quantity(q) => *q,
        }
    }
}

/// A strategy order resting at the venue.
#[derive(Debug, Clone)]
struct Resting {
    id: u64,
    side: Side,
    price: i64,
    /// Total quantity, filled included (modify states a total).
    quantity: i64,
    filled: i64,
    ahead: Ahead,
}

impl Resting {
    fn leaves(&self) -> i64 {
        self.quantity - self.filled
    }
}

/// The venue of one instrument.
#[derive(Debug, Default)]
struct Market {
    feed: OrderBook,
    /// Our resting orders, in arrival order.
    resting: Vec<Resting>,
    /// Liquidity our orders took, by (side, price) of the feed level.
    taken: BTreeMap<(u8, i64), i64>,
    /// The last bar, for a feed of bars only.
    bar: Option<Bar>,
}

fn book_side(side: Side) -> BookSide {
    match side {
        Side::Buy => BookSide::Buy,
        Side::Sell => BookSide::Sell,
    }
}

fn side_of(side: BookSide) -> Side {
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

fn key(side: Side, price: i64) -> (u8, i64) {
    (side as u8, price)
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
struct Reports<'a> {
    instrument: u32,
    ts: u64,
    out: &'a mut Vec<OrderEvent>,
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

    fn reject(&mut self, id: u64, reason: RejectReason, message: Option<&str>) {
        self.out.push(OrderEvent::Rejected(OrderRejected {
            id,
            instrument: self.instrument,
            ts: self.ts,
            rejection: Rejection {
                reason,
                message: message.map(str::to_owned),
            },
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

impl Market {
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

    /// What is ahead of an order joining `side` at `price` now.
    fn queue_at(&self, side: Side, price: i64) -> Ahead {
        match self.feed.detail() {
            Detail::Orders => Ahead::Orders(
                self.feed
                    .orders_at(book_side(side), price)
                    .into_iter()
                    .collect(),
            ),
            Detail::Levels | Detail::Top => Ahead::Quantity(
                self.feed
                    .level(book_side(side), price)
                    .map_or(0, |l| l.size),
            ),
            Detail::Empty => Ahead::Quantity(0),
        }
    }

    /// Match a new or re-priced order as a taker, then rest or cancel the rest.
    fn arrive(&mut self, mut order: Resting, gtc: bool, out: &mut Reports<'_>) {
        let plan = self.takeable(order.side, Some(order.price), order.leaves());
        let left = self.take(order.id, order.side, order.leaves(), &plan, out);
        order.filled = order.quantity - left;
        if left == 0 {
            return;
        }
        if gtc {
            order.ahead = self.queue_at(order.side, order.price);
            self.resting.push(order);
        } else {
            out.canceled(order.id, left);
        }
    }

    fn submit(&mut self, o: &NewOrder, out: &mut Reports<'_>) {
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
            return out.reject(o.id, RejectReason::InvalidOrder, Some(message));
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
            ahead: Ahead::Quantity(0),
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

    fn cancel(&mut self, id: u64, out: &mut Reports<'_>) {
        match self.resting.iter().position(|r| r.id == id) {
            Some(i) => {
                let order = self.resting.remove(i);
                out.canceled(id, order.leaves());
            }
            None => out.reject(id, RejectReason::UnknownOrder, None),
        }
    }

    fn modify(&mut self, id: u64, price: i64, quantity: i64, out: &mut Reports<'_>) {
        let Some(i) = self.resting.iter().position(|r| r.id == id) else {
            return out.reject(id, RejectReason::UnknownOrder, None);
        };
        if price <= 0 {
            return out.reject(
                id,
                RejectReason::InvalidOrder,
                Some("price must be positive"),
            );
        }
        let mut order = self.resting.remove(i);
        if quantity <= order.filled {
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
        order.quantity = quantity;
        if keeps_place {
            self.resting.insert(i, order);
        } else {
            order.price = price;
            self.arrive(order, true, out);
        }
    }

    /// Fill our orders on `side` that `price` reaches, best price first then
    /// arrival, up to `size`; `at_level` says whether orders exactly at
    /// `price` must first see nothing ahead of them. Returns what is left.
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
            if at_level && r.price == price && r.ahead.total() > 0 {
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

    fn on_delta(&mut self, d: &BookDelta, out: &mut Reports<'_>) {
        let side = d.side;
        match d.action {
            BookAction::Add => {
                // A feed order at a price crossing ours would have traded with us.
                self.fill_reached(opposite(side), d.price, d.size, false, out);
                self.taken.remove(&key(side, d.price));
                self.feed.add(d.order_id, book_side(side), d.price, d.size);
            }
            BookAction::Modify => {
                let old = self.feed.order(d.order_id);
                for r in &mut self.resting {
                    if let Ahead::Orders(ahead) = &mut r.ahead
                        && let Some(size) = ahead.get_mut(&d.order_id)
                    {
                        let moved = old.is_none_or(|o| o.price != d.price);
                        if moved || d.size > *size {
                            ahead.remove(&d.order_id);
                        } else {
                            *size = d.size;
                        }
                    }
                }
                if old.is_none_or(|o| o.price != d.price) {
                    self.fill_reached(opposite(side), d.price, d.size, false, out);
                }
                if let Some(o) = old {
                    self.taken.remove(&key(side_of(o.side), o.price));
                }
                self.taken.remove(&key(side, d.price));
                self.feed
                    .modify(d.order_id, book_side(side), d.price, d.size);
            }
            BookAction::Cancel => {
                for r in &mut self.resting {
                    if let Ahead::Orders(ahead) = &mut r.ahead
                        && let Some(size) = ahead.get_mut(&d.order_id)
                    {
                        *size -= d.size;
                        if *size <= 0 {
                            ahead.remove(&d.order_id);
                        }
                    }
                }
                if let Some(o) = self.feed.order(d.order_id) {
                    self.taken.remove(&key(side_of(o.side), o.price));
                }
                self.feed.cancel(d.order_id, d.size);
            }
            BookAction::Clear => {
                self.feed.clear();
                self.taken.clear();
            }
            BookAction::Fill => {
                // A trade at a level: only a fill of an order resting at that
                // price (not the aggressor's record, not an aggressive modify).
                let resting = self.feed.order(d.order_id);
                if resting.is_some_and(|o| o.price == d.price && side_of(o.side) == side) {
                    self.fill_reached(side, d.price, d.size, true, out);
                }
            }
        }
    }

    fn on_trade(&mut self, t: &Trade, out: &mut Reports<'_>) {
        if matches!(self.feed.detail(), Detail::Orders | Detail::Empty) {
            return; // by order: the fill records say it; bars: the bar does
        }
        for side in [Side::Buy, Side::Sell] {
            if t.aggressor == Some(side) {
                continue;
            }
            // The feed's queue at the trade's price trades first: every one of
            // our orders there moves up by the trade's size, and what reaches
            // us is what is left once the shortest queue ahead is gone.
            let mut shortest: Option<i64> = None;
            for r in &mut self.resting {
                if r.side == side && r.price == t.price {
                    let ahead = r.ahead.total();
                    shortest = Some(shortest.map_or(ahead, |s| s.min(ahead)));
                    r.ahead = Ahead::Quantity((ahead - t.size).max(0));
                }
            }
            let size = t.size - shortest.unwrap_or(0).min(t.size);
            self.fill_reached(side, t.price, size, true, out);
        }
    }

    /// Cap what is ahead by the level sizes now; fill what the opposite
    /// best level crosses; forget what we took of levels that changed.
    fn after_levels(&mut self, before: &BTreeMap<(u8, i64), i64>, out: &mut Reports<'_>) {
        for r in &mut self.resting {
            if let Ahead::Quantity(q) = &mut r.ahead {
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
                    *q = (*q).min(size);
                }
            }
        }
        for side in [Side::Buy, Side::Sell] {
            let best = match side {
                Side::Buy => self.feed.best_ask(),
                Side::Sell => self.feed.best_bid(),
            };
            if let Some(level) = best {
                self.fill_reached(side, level.price, level.size, false, out);
            }
        }
        let now = self.level_sizes();
        self.taken.retain(|k, _| before.get(k) == now.get(k));
    }

    fn level_sizes(&self) -> BTreeMap<(u8, i64), i64> {
        let bids = self.feed.bids().map(|l| (key(Side::Buy, l.price), l.size));
        let asks = self.feed.asks().map(|l| (key(Side::Sell, l.price), l.size));
        bids.chain(asks).collect()
    }

    fn on_depth(&mut self, d: &DepthSnapshot, out: &mut Reports<'_>) {
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

    fn on_quote(&mut self, q: &Quote, out: &mut Reports<'_>) {
        if self.feed.detail() > Detail::Top {
            return; // the quotes the host derives from a book add nothing to it
        }
        let before = self.level_sizes();
        let side = |price, size| (size > 0 && price > 0).then_some((price, size));
        if self
            .feed
            .set_top(side(q.bid_price, q.bid_size), side(q.ask_price, q.ask_size))
        {
            self.after_levels(&before, out);
        }
    }

    fn on_bar(&mut self, b: &Bar, out: &mut Reports<'_>) {
        self.bar = Some(*b);
        if self.feed.detail() != Detail::Empty {
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

/// The simulated venue; see the crate documentation.
#[derive(Debug, Default)]
pub struct SimVenue {
    markets: BTreeMap<u32, Market>,
}

impl Matcher for SimVenue {
    fn new(_config: &Config) -> Result<Self, String> {
        Ok(Self::default())
    }

    fn execute(&mut self, commands: &[OrderCommand], reports: &mut Vec<OrderEvent>) {
        let ts = host::now();
        for command in commands {
            let instrument = command.instrument();
            let market = self.markets.entry(instrument).or_default();
            let mut out = Reports {
                instrument,
                ts,
                out: reports,
            };
            match command {
                OrderCommand::Submit(o) => market.submit(o, &mut out),
                OrderCommand::Cancel(c) => market.cancel(c.id, &mut out),
                OrderCommand::Modify(m) => market.modify(m.id, m.price, m.quantity, &mut out),
            }
        }
    }

    fn on_market(&mut self, events: &[MarketEvent], reports: &mut Vec<OrderEvent>) {
        for event in events {
            let Some(ts) = event.ts() else { continue };
            let instrument = event.instrument();
            let market = self.markets.entry(instrument).or_default();
            let mut out = Reports {
                instrument,
                ts,
                out: reports,
            };
            match event {
                MarketEvent::BookDelta(d) => market.on_delta(d, &mut out),
                MarketEvent::Trade(t) => market.on_trade(t, &mut out),
                MarketEvent::Depth(d) => market.on_depth(d, &mut out),
                MarketEvent::Quote(q) => market.on_quote(q, &mut out),
                MarketEvent::Bar(b) => market.on_bar(b, &mut out),
                MarketEvent::Instrument(_) | MarketEvent::Status(_) | MarketEvent::Signal(_) => {}
            }
        }
    }

    /// The feed's book as the venue holds it (our orders are not in it).
    fn depth(&self, instrument: u32, levels: u32) -> BookDepth {
        let (bids, asks) = self
            .markets
            .get(&instrument)
            .map(|m| m.feed.depth(levels as usize))
            .unwrap_or_default();
        let convert = |v: Vec<Level>| {
            v.into_iter()
                .map(|l| DepthLevel {
                    price: l.price,
                    quantity: l.size,
                    orders: l.orders,
                })
                .collect()
        };
        BookDepth {
            instrument,
            bids: convert(bids),
            asks: convert(asks),
        }
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(STATE_VERSION).u32(self.markets.len() as u32);
        for (id, m) in &self.markets {
            w.u32(*id).u8(m.feed.detail() as u8);
            match m.feed.detail() {
                Detail::Orders => {
                    let orders = m.feed.orders();
                    w.u32(orders.len() as u32);
                    for (id, o) in orders {
                        w.u64(id).side(side_of(o.side)).i64(o.price).i64(o.size);
                    }
                }
                _ => {
                    for levels in [m.feed.bids().collect::<Vec<_>>(), m.feed.asks().collect()] {
                        w.u32(levels.len() as u32);
                        for l in levels {
                            w.i64(l.price).i64(l.size).u32(l.orders);
                        }
                    }
                }
            }
            w.u32(m.resting.len() as u32);
            for r in &m.resting {
                w.u64(r.id)
                    .side(r.side)
                    .i64(r.price)
                    .i64(r.quantity)
                    .i64(r.filled);
                match &r.ahead {
                    Ahead::Orders(ahead) => {
                        w.u8(0).u32(ahead.len() as u32);
                        for (id, size) in ahead {
                            w.u64(*id).i64(*size);
                        }
                    }
                    Ahead::Quantity(q) => {
                        w.u8(1).i64(*q);
                    }
                }
            }
            w.u32(m.taken.len() as u32);
            for ((side, price), q) in &m.taken {
                w.u8(*side).i64(*price).i64(*q);
            }
            w.option(m.bar, |w, b| {
                w.market_event(&MarketEvent::Bar(b));
            });
        }
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(STATE_VERSION)?;
        let mut markets = BTreeMap::new();
        for _ in 0..r.u32()? {
            let id = r.u32()?;
            let mut m = Market::default();
            match r.u8()? {
                3 => {
                    for _ in 0..r.u32()? {
                        let (order, side) = (r.u64()?, r.side()?);
                        m.feed.add(order, book_side(side), r.i64()?, r.i64()?);
                    }
                }
                detail @ 0..=2 => {
                    let mut sides = [Vec::new(), Vec::new()];
                    for levels in &mut sides {
                        for _ in 0..r.u32()? {
                            levels.push(Level {
                                price: r.i64()?,
                                size: r.i64()?,
                                orders: r.u32()?,
                            });
                        }
                    }
                    match detail {
                        2 => {
                            m.feed.replace_levels(&sides[0], &sides[1]);
                        }
                        1 => {
                            let top = |l: Option<&Level>| l.map(|l| (l.price, l.size));
                            m.feed.set_top(top(sides[0].first()), top(sides[1].first()));
                        }
                        _ => {}
                    }
                }
                other => return Err(format!("state: bad book detail {other}")),
            }
            for _ in 0..r.u32()? {
                let (id, side, price, quantity, filled) =
                    (r.u64()?, r.side()?, r.i64()?, r.i64()?, r.i64()?);
                let ahead = match r.u8()? {
                    0 => {
                        let mut ahead = BTreeMap::new();
                        for _ in 0..r.u32()? {
                            ahead.insert(r.u64()?, r.i64()?);
                        }
                        Ahead::Orders(ahead)
                    }
                    1 => Ahead::Quantity(r.i64()?),
                    other => return Err(format!("state: bad queue kind {other}")),
                };
                m.resting.push(Resting {
                    id,
                    side,
                    price,
                    quantity,
                    filled,
                    ahead,
                });
            }
            for _ in 0..r.u32()? {
                m.taken.insert((r.u8()?, r.i64()?), r.i64()?);
            }
            m.bar = match r.bool()? {
                true => match r.market_event()? {
                    MarketEvent::Bar(b) => Some(b),
                    other => return Err(format!("state: expected a bar, got {other:?}")),
                },
                false => None,
            };
            markets.insert(id, m);
        }
        r.finish()?;
        self.markets = markets;
        Ok(())
    }
}

tradsys_sdk::export_matcher!(SimVenue);

#[cfg(test)]
mod tests;
