//! One instrument's market as the exchange ran it, rebuilt from its raw
//! market-by-order records, with our orders placed in it where and when they
//! reached the venue: what each of them could have got.
//!
//! Every price level is a first-in first-out queue of the feed's orders, in
//! the order the records built it (an add joins the back; a modify to a new
//! price or a larger size rejoins at the back; a smaller size keeps the
//! place). Our orders stand in those queues as the exchange would have
//! placed them, and the records then say how much volume reached them:
//!
//! - a fill record of a feed order at its own price is volume that passed,
//!   in time priority, every order of ours at a better price and every one
//!   ahead of that order in its queue (each after the feed volume still
//!   ahead of it there); the fill consumes the order it names;
//! - a feed order added (or moved) across the price of our resting orders
//!   is volume that would have traded with them;
//! - nothing trades before the first trade of the day (no status records
//!   in market-by-order data): the opening auction (that trade, without an
//!   aggressor) fills our orders across its price, at its price, in price
//!   priority, behind every feed order at that price.
//!
//! The volume our orders take is ours alone (two of ours never share a lot);
//! the feed's orders are history and keep their own fills.

use std::collections::{BTreeMap, VecDeque};

use rustc_hash::{FxHashMap, FxHashSet};

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// Bids.
    Buy,
    /// Asks.
    Sell,
}

impl Side {
    fn other(self) -> Self {
        match self {
            Self::Buy => Self::Sell,
            Self::Sell => Self::Buy,
        }
    }

    /// Whether `a` is a better price than `b` for an order on this side.
    fn better(self, a: i64, b: i64) -> bool {
        match self {
            Self::Buy => a > b,
            Self::Sell => a < b,
        }
    }

    /// Whether an order on this side at `limit` trades at `price`.
    fn accepts(self, limit: i64, price: i64) -> bool {
        match self {
            Self::Buy => price <= limit,
            Self::Sell => price >= limit,
        }
    }
}

/// What a market-by-order record does (Databento's actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A new resting order.
    Add,
    /// An order's new price and size.
    Modify,
    /// An order reduced by the size (removed at zero).
    Cancel,
    /// Every order removed (a snapshot follows).
    Clear,
    /// A resting order traded the size at the price (the book changes with
    /// the cancel or modify that follows).
    Fill,
    /// A trade: the aggressor's record (no side: an auction's).
    Trade,
}

/// One market-by-order record (prices and sizes in 1e-9 units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Exchange event time, ns.
    pub ts: u64,
    /// What it does.
    pub action: Action,
    /// Its side; `None` when it names none (an auction's trade and fills).
    pub side: Option<Side>,
    /// Price.
    pub price: i64,
    /// Size.
    pub size: i64,
    /// The feed's order id.
    pub id: u64,
    /// It ends its exchange event.
    pub last: bool,
}

/// How long an order of ours works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tif {
    /// Until canceled: the rest rests.
    Gtc,
    /// What it can take at once; the rest is canceled.
    Ioc,
    /// All at once or nothing.
    Fok,
}

/// What one of our commands asks the venue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// A new order.
    Submit {
        /// Buy or sell.
        side: Side,
        /// Its limit; `None`: a market order.
        limit: Option<i64>,
        /// How long it works.
        tif: Tif,
        /// Its quantity.
        quantity: i64,
    },
    /// Cancel the rest.
    Cancel,
    /// A new price and total quantity.
    Modify {
        /// The new limit.
        price: i64,
        /// The new total, filled included.
        quantity: i64,
    },
    /// The host took the order off the venue (a halt, a strategy that left).
    HostCancel,
}

/// A fill of one of our orders: one the rules give, or one the venue reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Got {
    pub(crate) order: u64,
    pub(crate) ts: u64,
    pub(crate) price: i64,
    pub(crate) quantity: i64,
    pub(crate) maker: bool,
}

/// How the venue should answer a command, besides fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    Accepted,
    /// Refused, with why (the reason's name as the journal spells it).
    Refused(&'static str),
    Canceled,
    Modified,
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    /// A feed order: its size as the feed shows it, and the volume of it
    /// still ahead of what queues behind it.
    Feed {
        id: u64,
        size: i64,
        ahead: i64,
    },
    Ours(u64),
}

#[derive(Debug, Clone)]
struct Ours {
    side: Side,
    price: i64,
    quantity: i64,
    filled: i64,
}

impl Ours {
    fn leaves(&self) -> i64 {
        self.quantity - self.filled
    }
}

/// Our resting order `id` takes what it can of `volume` at `ts`, at its
/// own price or `at` (an auction's): the quantity it took.
fn fill_ours(
    ours: &mut BTreeMap<u64, Ours>,
    id: u64,
    volume: i64,
    at: Option<i64>,
    ts: u64,
    got: &mut Vec<Got>,
) -> i64 {
    let o = ours.get_mut(&id).expect("our slot is our order");
    let q = o.leaves().min(volume);
    if q <= 0 {
        return 0;
    }
    o.filled += q;
    got.push(Got {
        order: id,
        ts,
        price: at.unwrap_or(o.price),
        quantity: q,
        maker: true,
    });
    q
}

/// The market of one instrument.
#[derive(Debug, Default)]
pub(crate) struct Market {
    levels: BTreeMap<(Side, i64), VecDeque<Slot>>,
    /// Where each resting feed order is.
    /// (These three hash with FxHash, as the host's books do, not the
    /// standard library's SipHash: nothing here depends on their order;
    /// `stale` is drained at an event's end, and each removal is its own.)
    feed: FxHashMap<u64, (Side, i64)>,
    /// Our resting orders.
    ours: BTreeMap<u64, Ours>,
    /// What our orders took of a level, until the feed next changes it.
    taken: FxHashMap<(Side, i64), i64>,
    /// Something has traded: the market is open.
    traded: bool,
    /// Inside the opening auction's event.
    auction: bool,
    /// When the first trade came.
    pub(crate) opened: Option<u64>,
    started: bool,
    /// Feed orders a clear took inside the current event: a snapshot that
    /// adds one again gives it back its place; the rest leave at the end.
    stale: FxHashSet<u64>,
}

impl Market {
    fn trading(&self) -> bool {
        self.traded && !self.auction
    }

    /// The feed's size at a level.
    fn shown(&self, level: (Side, i64)) -> i64 {
        self.levels.get(&level).map_or(0, |q| {
            q.iter()
                .map(|s| match s {
                    Slot::Feed { size, .. } => *size,
                    Slot::Ours(_) => 0,
                })
                .sum()
        })
    }

    /// The prices of our resting orders on `side` that `keep` keeps, best first.
    fn our_prices(&self, side: Side, keep: impl Fn(i64) -> bool) -> Vec<i64> {
        let mut prices: Vec<i64> = self
            .ours
            .values()
            .filter(|o| o.side == side && keep(o.price))
            .map(|o| o.price)
            .collect();
        prices.sort_unstable();
        prices.dedup();
        if side == Side::Buy {
            prices.reverse();
        }
        prices
    }

    /// `volume` reaching level `at`, front first, stopping at feed order
    /// `stop` (exclusive; `None`: after our last order there). Our orders
    /// take it, each after the feed volume still ahead of it.
    fn pour(
        &mut self,
        at: (Side, i64),
        mut volume: i64,
        stop: Option<u64>,
        ts: u64,
        got: &mut Vec<Got>,
    ) -> i64 {
        let Some(queue) = self.levels.get_mut(&at) else {
            return volume;
        };
        let last_ours = queue.iter().rposition(|s| matches!(s, Slot::Ours(_)));
        let Some(last_ours) = last_ours else {
            return volume;
        };
        for slot in queue.iter_mut().take(last_ours + 1) {
            if volume <= 0 {
                break;
            }
            match slot {
                Slot::Feed { id, .. } if Some(*id) == stop => break,
                Slot::Feed { ahead, .. } => {
                    let used = (*ahead).min(volume);
                    *ahead -= used;
                    volume -= used;
                }
                Slot::Ours(order) => {
                    volume -= fill_ours(&mut self.ours, *order, volume, None, ts, got);
                }
            }
        }
        volume
    }

    fn forget_filled(&mut self) {
        let done: Vec<u64> = self
            .ours
            .iter()
            .filter(|(_, o)| o.leaves() <= 0)
            .map(|(id, _)| *id)
            .collect();
        for id in done {
            self.unqueue(id);
        }
    }

    /// Take our order off the book.
    fn unqueue(&mut self, id: u64) -> Option<Ours> {
        let o = self.ours.remove(&id)?;
        let at = (o.side, o.price);
        if let Some(queue) = self.levels.get_mut(&at) {
            queue.retain(|s| !matches!(s, Slot::Ours(x) if *x == id));
            if queue.is_empty() {
                self.levels.remove(&at);
            }
        }
        Some(o)
    }

    fn remove_feed(&mut self, id: u64) {
        if let Some(at) = self.feed.remove(&id)
            && let Some(queue) = self.levels.get_mut(&at)
        {
            queue.retain(|s| !matches!(s, Slot::Feed { id: x, .. } if *x == id));
            if queue.is_empty() {
                self.levels.remove(&at);
            }
        }
    }

    fn feed_slot(&mut self, id: u64) -> Option<(&mut i64, &mut i64)> {
        let at = *self.feed.get(&id)?;
        self.levels.get_mut(&at)?.iter_mut().find_map(|s| match s {
            Slot::Feed {
                id: x, size, ahead, ..
            } if *x == id => Some((size, ahead)),
            _ => None,
        })
    }

    fn join_feed(&mut self, id: u64, side: Side, price: i64, size: i64) {
        self.feed.insert(id, (side, price));
        self.levels
            .entry((side, price))
            .or_default()
            .push_back(Slot::Feed {
                id,
                size,
                ahead: size,
            });
    }

    /// Volume of a feed order on `side` crossing our resting orders at
    /// `price` (an add or a move across them).
    fn crossing(&mut self, side: Side, price: i64, size: i64, ts: u64, got: &mut Vec<Got>) {
        let mine = side.other();
        let mut volume = size;
        for p in self.our_prices(mine, |p| mine.accepts(p, price)) {
            volume = self.pour((mine, p), volume, None, ts, got);
        }
        self.forget_filled();
    }

    /// One raw record; the fills it gives our orders go to `got`.
    pub(crate) fn record(&mut self, r: &Record, got: &mut Vec<Got>) {
        self.started = true;
        match r.action {
            Action::Add => {
                let Some(side) = r.side else { return };
                if self.trading() && !self.ours.is_empty() {
                    self.crossing(side, r.price, r.size, r.ts, got);
                }
                self.taken.remove(&(side, r.price));
                let again =
                    self.stale.remove(&r.id) && self.feed.get(&r.id) == Some(&(side, r.price));
                match self.feed_slot(r.id) {
                    Some((size, ahead)) if again => {
                        *size = r.size;
                        *ahead = r.size;
                    }
                    _ => {
                        self.remove_feed(r.id);
                        self.join_feed(r.id, side, r.price, r.size);
                    }
                }
            }
            Action::Modify => {
                let Some(side) = r.side else { return };
                if self.stale.contains(&r.id) {
                    // After a clear: as the snapshot's add of it.
                    return self.record(
                        &Record {
                            action: Action::Add,
                            ..*r
                        },
                        got,
                    );
                }
                let was = self.feed.get(&r.id).copied();
                let size_was = self.feed_slot(r.id).map(|(size, _)| *size);
                let moved = was != Some((side, r.price));
                let grew = size_was.is_some_and(|s| r.size > s);
                if let Some(at) = was {
                    self.taken.remove(&at);
                }
                self.taken.remove(&(side, r.price));
                if moved && self.trading() && !self.ours.is_empty() {
                    self.crossing(side, r.price, r.size, r.ts, got);
                }
                if moved || grew {
                    self.remove_feed(r.id);
                    self.join_feed(r.id, side, r.price, r.size);
                } else if let Some((size, ahead)) = self.feed_slot(r.id) {
                    *size = r.size;
                    *ahead = (*ahead).min(r.size);
                }
            }
            Action::Cancel => {
                if self.stale.contains(&r.id) {
                    return; // cleared already
                }
                if let Some(at) = self.feed.get(&r.id).copied() {
                    self.taken.remove(&at);
                }
                let gone = match self.feed_slot(r.id) {
                    Some((size, ahead)) => {
                        *size = (*size - r.size).max(0);
                        *ahead = (*ahead).min(*size);
                        *size == 0
                    }
                    None => false,
                };
                if gone {
                    self.remove_feed(r.id);
                }
            }
            Action::Clear => {
                for queue in self.levels.values_mut() {
                    for slot in queue.iter_mut() {
                        if let Slot::Feed { id, size, ahead } = slot {
                            *size = 0;
                            *ahead = 0;
                            self.stale.insert(*id);
                        }
                    }
                }
                self.taken.clear();
            }
            Action::Trade => {
                let first = !self.traded;
                self.traded = true;
                if first {
                    self.opened = Some(r.ts);
                    if r.side.is_none() {
                        self.auction = !r.last;
                        self.uncross(r.price, r.size, r.ts, got);
                    }
                }
            }
            Action::Fill => {
                let Some(&(side, at)) = self.feed.get(&r.id) else {
                    return; // the aggressor's record: it was not resting
                };
                if at != r.price {
                    return; // an aggressive modify's, or the auction's
                }
                if !self.traded {
                    // A feed with fills but no trade records opens here.
                    self.traded = true;
                    self.opened = Some(r.ts);
                }
                if self.trading() && !self.ours.is_empty() {
                    let mut volume = r.size;
                    for p in self.our_prices(side, |p| side.better(p, at)) {
                        volume = self.pour((side, p), volume, None, r.ts, got);
                    }
                    self.pour((side, at), volume, Some(r.id), r.ts, got);
                    self.forget_filled();
                }
                if let Some((_, ahead)) = self.feed_slot(r.id) {
                    *ahead = (*ahead - r.size).max(0);
                }
            }
        }
        if r.last {
            self.auction = false;
            for id in std::mem::take(&mut self.stale) {
                self.remove_feed(id);
            }
        }
    }

    /// The opening auction: `volume` at `price`. On each side, our orders
    /// across the price fill at it in price priority: at a better price
    /// behind the feed's orders ahead of them there, at the auction's price
    /// behind all of the feed's.
    fn uncross(&mut self, price: i64, volume: i64, ts: u64, got: &mut Vec<Got>) {
        for side in [Side::Buy, Side::Sell] {
            let mine = self.our_prices(side, |p| side.accepts(p, price));
            if mine.is_empty() {
                continue;
            }
            let mut prices: Vec<i64> = self
                .levels
                .keys()
                .filter(|(s, p)| *s == side && side.accepts(*p, price))
                .map(|(_, p)| *p)
                .chain(mine)
                .collect();
            prices.sort_unstable();
            prices.dedup();
            if side == Side::Buy {
                prices.reverse();
            }
            let mut left = volume;
            for p in prices {
                if left <= 0 {
                    break;
                }
                let queue: Vec<Slot> = self
                    .levels
                    .get(&(side, p))
                    .map(|q| q.iter().copied().collect())
                    .unwrap_or_default();
                let (feed_first, ours_after): (Vec<Slot>, Vec<Slot>) = if p == price {
                    queue.iter().partition(|s| matches!(s, Slot::Feed { .. }))
                } else {
                    (queue, Vec::new())
                };
                for slot in feed_first.into_iter().chain(ours_after) {
                    if left <= 0 {
                        break;
                    }
                    match slot {
                        Slot::Feed { size, .. } => left -= size,
                        Slot::Ours(id) => {
                            left -= fill_ours(&mut self.ours, id, left, Some(price), ts, got);
                        }
                    }
                }
            }
        }
        self.forget_filled();
    }

    /// The liquidity an order on `side` could take now: (price, quantity)
    /// best first, within `limit`, what our earlier orders took excepted.
    fn takeable(&self, side: Side, limit: Option<i64>, quantity: i64) -> Vec<(i64, i64)> {
        let other = side.other();
        let levels = self
            .levels
            .range((other, i64::MIN)..=(other, i64::MAX))
            .map(|((_, p), _)| *p);
        // Asks best (lowest) first; bids best (highest) first.
        let prices: Box<dyn Iterator<Item = i64>> = match side {
            Side::Buy => Box::new(levels),
            Side::Sell => Box::new(levels.rev()),
        };
        let mut plan = Vec::new();
        let mut left = quantity;
        for p in prices {
            if left <= 0 || limit.is_some_and(|l| !side.accepts(l, p)) {
                break;
            }
            let free = self.shown((other, p)) - self.taken.get(&(other, p)).copied().unwrap_or(0);
            let q = free.min(left);
            if q > 0 {
                plan.push((p, q));
                left -= q;
            }
        }
        plan
    }

    /// Our order `id` takes `plan` at `ts`: its taker fills. Returns what is left.
    fn take(
        &mut self,
        id: u64,
        side: Side,
        quantity: i64,
        plan: &[(i64, i64)],
        ts: u64,
        got: &mut Vec<Got>,
    ) -> i64 {
        let mut left = quantity;
        for &(price, q) in plan {
            *self.taken.entry((side.other(), price)).or_default() += q;
            left -= q;
            got.push(Got {
                order: id,
                ts,
                price,
                quantity: q,
                maker: false,
            });
        }
        left
    }

    /// Our order joins the back of its level. At a level where no order of
    /// ours rests, every feed order there is ahead of it by the size the
    /// feed shows.
    fn rest(&mut self, id: u64, order: Ours) {
        let queue = self.levels.entry((order.side, order.price)).or_default();
        if !queue.iter().any(|s| matches!(s, Slot::Ours(_))) {
            for slot in queue.iter_mut() {
                if let Slot::Feed { size, ahead, .. } = slot {
                    *ahead = *size;
                }
            }
        }
        queue.push_back(Slot::Ours(id));
        self.ours.insert(id, order);
    }

    /// A new or re-priced order of ours: it takes what it can (once the
    /// market trades), then rests (GTC) or is canceled. Returns whether
    /// anything was left and canceled.
    fn arrive(&mut self, id: u64, mut order: Ours, gtc: bool, ts: u64, got: &mut Vec<Got>) -> bool {
        if self.trading() {
            let plan = self.takeable(order.side, Some(order.price), order.leaves());
            let left = self.take(id, order.side, order.leaves(), &plan, ts, got);
            order.filled = order.quantity - left;
            if left == 0 {
                return false;
            }
        }
        if gtc {
            self.rest(id, order);
            false
        } else {
            true
        }
    }

    /// One command of ours reaching the venue at `ts`: the answers it should
    /// get, in order (fills go to `got`).
    pub(crate) fn command(
        &mut self,
        id: u64,
        ask: &Ask,
        ts: u64,
        got: &mut Vec<Got>,
    ) -> Vec<Answer> {
        match *ask {
            Ask::Submit {
                side,
                limit,
                tif,
                quantity,
            } => {
                if !self.trading() && (limit.is_none() || tif != Tif::Gtc) && self.started {
                    return vec![Answer::Refused("other")];
                }
                let plan = if self.trading() {
                    self.takeable(side, limit, quantity)
                } else {
                    Vec::new()
                };
                let available: i64 = plan.iter().map(|(_, q)| q).sum();
                if tif == Tif::Fok && available < quantity {
                    return vec![Answer::Refused("fill-or-kill-unfilled")];
                }
                let Some(limit) = limit else {
                    if plan.is_empty() {
                        return vec![Answer::Refused("no-liquidity")];
                    }
                    let left = self.take(id, side, quantity, &plan, ts, got);
                    return match left {
                        0 => vec![Answer::Accepted],
                        _ => vec![Answer::Accepted, Answer::Canceled],
                    };
                };
                let order = Ours {
                    side,
                    price: limit,
                    quantity,
                    filled: 0,
                };
                match self.arrive(id, order, tif == Tif::Gtc, ts, got) {
                    true => vec![Answer::Accepted, Answer::Canceled],
                    false => vec![Answer::Accepted],
                }
            }
            Ask::Cancel | Ask::HostCancel => match self.unqueue(id) {
                Some(_) => vec![Answer::Canceled],
                None => vec![Answer::Refused("unknown-order")],
            },
            Ask::Modify { price, quantity } => {
                let Some(o) = self.ours.get(&id) else {
                    return vec![Answer::Refused("unknown-order")];
                };
                if quantity <= o.filled {
                    self.unqueue(id);
                    return vec![Answer::Canceled];
                }
                let keeps = price == o.price && quantity - o.filled <= o.leaves();
                if keeps {
                    self.ours.get_mut(&id).expect("found").quantity = quantity;
                } else {
                    let mut order = self.unqueue(id).expect("found");
                    order.price = price;
                    order.quantity = quantity;
                    self.arrive(id, order, true, ts, got);
                }
                vec![Answer::Modified]
            }
        }
    }

    /// Whether our order `id` rests here.
    pub(crate) fn rests(&self, id: u64) -> bool {
        self.ours.contains_key(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(action: Action, side: Side, price: i64, size: i64, id: u64, last: bool) -> Record {
        Record {
            ts: 1,
            action,
            side: Some(side),
            price,
            size,
            id,
            last,
        }
    }

    fn open(m: &mut Market) {
        let mut got = Vec::new();
        m.record(
            &Record {
                ts: 0,
                action: Action::Trade,
                side: Some(Side::Sell),
                price: 1,
                size: 1,
                id: 0,
                last: true,
            },
            &mut got,
        );
        assert!(got.is_empty());
    }

    fn gtc(side: Side, price: i64, quantity: i64) -> Ask {
        Ask::Submit {
            side,
            limit: Some(price),
            tif: Tif::Gtc,
            quantity,
        }
    }

    #[test]
    fn volume_past_the_orders_ahead_reaches_ours_within_the_event() {
        let mut m = Market::default();
        open(&mut m);
        let mut got = Vec::new();
        m.record(&rec(Action::Add, Side::Buy, 100, 5, 1, true), &mut got);
        assert_eq!(
            m.command(50, &gtc(Side::Buy, 100, 2), 1, &mut got),
            [Answer::Accepted]
        );
        m.record(&rec(Action::Add, Side::Buy, 100, 4, 2, true), &mut got);
        for r in [
            rec(Action::Fill, Side::Buy, 100, 5, 1, false),
            rec(Action::Fill, Side::Buy, 100, 3, 2, false),
            rec(Action::Cancel, Side::Buy, 100, 5, 1, false),
            rec(Action::Modify, Side::Buy, 100, 1, 2, true),
        ] {
            m.record(&r, &mut got);
        }
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!((got[0].order, got[0].quantity, got[0].maker), (50, 2, true));
        assert!(!m.rests(50));
    }

    #[test]
    fn nothing_fills_before_the_first_trade() {
        let mut m = Market::default();
        let mut got = Vec::new();
        m.record(&rec(Action::Add, Side::Sell, 101, 5, 1, true), &mut got);
        assert_eq!(
            m.command(50, &gtc(Side::Buy, 102, 1), 1, &mut got),
            [Answer::Accepted]
        );
        m.record(&rec(Action::Add, Side::Sell, 100, 5, 2, true), &mut got);
        assert!(got.is_empty(), "{got:?}");
        let ioc = Ask::Submit {
            side: Side::Buy,
            limit: Some(102),
            tif: Tif::Ioc,
            quantity: 1,
        };
        assert_eq!(m.command(51, &ioc, 1, &mut got), [Answer::Refused("other")]);
    }
}
