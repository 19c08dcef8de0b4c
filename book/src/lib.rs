//! Order books built from a market-data feed, one per instrument.
//!
//! A book is as detailed as the richest data it was given: by order (L3)
//! from adds, modifies and cancels naming the feed's order ids; by price
//! (L2) from depth snapshots; the touch (L1) from quotes. Once a book has
//! orders, level snapshots and quotes for it are ignored (the orders are
//! the truth), and once it has levels, quotes are.
//!
//! The rules are Databento's for market-by-order data: a cancel may be
//! partial (it reduces the order by its size), a modify replaces an order's
//! price and size (moving it to another level when the price changes), a
//! clear empties the book, and trades or fills change nothing (the cancel
//! or modify that follows does). A cancel or modify of an order that is
//! not resting is counted ([`OrderBook::unknown_orders`]) and otherwise
//! ignored for a cancel; a modify of an unknown order adds it.
//!
//! Prices and sizes are the feed's fixed-point `i64`s; nothing here rounds.

#![deny(missing_docs)]

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxBuildHasher;

/// Orders by id, hashed without randomness (a plugin that keeps a book
/// needs no `wasi:random`; the ids are the feed's, not an attacker's choice
/// per process) and cheaply: SipHash cost a plugin's book (in wasm) about a
/// quarter of its time on the ES day. Nothing iterates these maps in hash
/// order: every output is sorted.
type ById = HashMap<u64, Order, FxBuildHasher>;

/// The ids resting at each (side, price) of a book of orders, in id order:
/// the queue at a level without a scan of the book. A sorted vector: a level
/// holds tens of orders, and a feed's ids mostly arrive in order, so a new
/// one is pushed at the end.
type Queues = HashMap<(Side, i64), Vec<u64>, FxBuildHasher>;

/// Which side of the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// Bids.
    Buy,
    /// Asks.
    Sell,
}

/// One price level: total size and how many orders make it (0 when the
/// feed does not count orders, as quotes do not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// Level price.
    pub price: i64,
    /// Total size resting at the price.
    pub size: i64,
    /// Orders resting at the price.
    pub orders: u32,
}

/// A resting order of the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    /// Its side.
    pub side: Side,
    /// Its price.
    pub price: i64,
    /// Its size still resting.
    pub size: i64,
}

/// How detailed a book is: what data built it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub enum Detail {
    /// No data yet.
    #[default]
    Empty,
    /// The touch only (L1, from quotes).
    Top,
    /// Price levels (L2, from depth snapshots).
    Levels,
    /// Every order (L3, from market-by-order deltas).
    Orders,
}

impl Detail {
    /// `L1`, `L2`, `L3`, or `none`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Empty => "none",
            Self::Top => "L1",
            Self::Levels => "L2",
            Self::Orders => "L3",
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Aggregate {
    size: i64,
    orders: u32,
}

/// The book of one instrument.
#[derive(Debug, Clone, Default)]
pub struct OrderBook {
    detail: Detail,
    orders: ById,
    queues: Queues,
    bids: BTreeMap<i64, Aggregate>,
    asks: BTreeMap<i64, Aggregate>,
    unknown_orders: u64,
}

impl OrderBook {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// What built the book.
    pub fn detail(&self) -> Detail {
        self.detail
    }

    /// A new resting order. An id already resting is replaced (as a modify).
    pub fn add(&mut self, id: u64, side: Side, price: i64, size: i64) {
        self.become_orders();
        // One probe of the map: the new order goes in where the old one was.
        let old = if size > 0 {
            self.orders.insert(id, Order { side, price, size })
        } else {
            self.orders.remove(&id)
        };
        if let Some(old) = old {
            self.unqueue(id, old);
            self.unlevel(old, old.size, true);
        }
        if size > 0 {
            let queue = self.queues.entry((side, price)).or_default();
            match queue.last() {
                Some(&last) if last >= id => {
                    if let Err(at) = queue.binary_search(&id) {
                        queue.insert(at, id);
                    }
                }
                _ => queue.push(id),
            }
            let level = self.side_mut(side).entry(price).or_default();
            level.size += size;
            level.orders += 1;
        }
    }

    /// Replace an order's price and size (and side); an unknown order is
    /// added and counted.
    pub fn modify(&mut self, id: u64, side: Side, price: i64, size: i64) {
        self.become_orders();
        if !self.orders.contains_key(&id) {
            self.unknown_orders += 1;
        }
        self.add(id, side, price, size);
    }

    /// Reduce an order by `size`, removing it when nothing is left; an
    /// unknown order is counted. Returns the size removed.
    pub fn cancel(&mut self, id: u64, size: i64) -> i64 {
        self.become_orders();
        let Some(order) = self.orders.get_mut(&id) else {
            self.unknown_orders += 1;
            return 0;
        };
        let removed = size.clamp(0, order.size);
        order.size -= removed;
        let (order, gone) = (*order, order.size == 0);
        if gone {
            self.orders.remove(&id);
            self.unqueue(id, order);
        }
        self.unlevel(order, removed, gone);
        removed
    }

    /// Remove every order and level (the detail stays).
    pub fn clear(&mut self) {
        self.orders.clear();
        self.queues.clear();
        self.bids.clear();
        self.asks.clear();
    }

    /// Replace the levels with a snapshot (best first on each side; levels
    /// with no size are skipped). Ignored by a book of orders; returns
    /// whether it was applied.
    pub fn replace_levels(&mut self, bids: &[Level], asks: &[Level]) -> bool {
        if self.detail > Detail::Levels {
            return false;
        }
        self.detail = Detail::Levels;
        self.set(bids, asks);
        true
    }

    /// Set the touch from a quote (`None`, or a size of zero, for an empty
    /// side). Ignored by a book of levels or orders; returns whether it was
    /// applied.
    pub fn set_top(&mut self, bid: Option<(i64, i64)>, ask: Option<(i64, i64)>) -> bool {
        if self.detail > Detail::Top {
            return false;
        }
        self.detail = Detail::Top;
        let level = |(price, size)| Level {
            price,
            size,
            orders: 0,
        };
        let (bids, asks): (Vec<_>, Vec<_>) = (
            bid.map(level).into_iter().collect(),
            ask.map(level).into_iter().collect(),
        );
        self.set(&bids, &asks);
        true
    }

    /// The best bid level.
    pub fn best_bid(&self) -> Option<Level> {
        self.bids().next()
    }

    /// The best ask level.
    pub fn best_ask(&self) -> Option<Level> {
        self.asks().next()
    }

    /// Bid levels, best (highest) first.
    pub fn bids(&self) -> impl Iterator<Item = Level> + '_ {
        self.bids.iter().rev().map(level)
    }

    /// Ask levels, best (lowest) first.
    pub fn asks(&self) -> impl Iterator<Item = Level> + '_ {
        self.asks.iter().map(level)
    }

    /// The best `levels` levels of each side: (bids, asks).
    pub fn depth(&self, levels: usize) -> (Vec<Level>, Vec<Level>) {
        (
            self.bids().take(levels).collect(),
            self.asks().take(levels).collect(),
        )
    }

    /// The level at `price` on `side`, if anything rests there.
    pub fn level(&self, side: Side, price: i64) -> Option<Level> {
        let levels = match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        };
        levels.get_key_value(&price).map(level)
    }

    /// The orders resting at `price` on `side` (books of orders only), by id:
    /// the queue a new order there joins the back of. Kept by level, so
    /// this reads one level, not the book.
    pub fn orders_at(&self, side: Side, price: i64) -> Vec<(u64, i64)> {
        self.queues
            .get(&(side, price))
            .map_or_else(Vec::new, |ids| {
                ids.iter()
                    .filter_map(|id| Some((*id, self.orders.get(id)?.size)))
                    .collect()
            })
    }

    /// Every resting order with its id, in id order (books of orders only).
    pub fn orders(&self) -> Vec<(u64, Order)> {
        let mut orders: Vec<(u64, Order)> = self.orders.iter().map(|(id, o)| (*id, *o)).collect();
        orders.sort_unstable_by_key(|(id, _)| *id);
        orders
    }

    /// A resting order by its feed id (books of orders only).
    pub fn order(&self, id: u64) -> Option<Order> {
        self.orders.get(&id).copied()
    }

    /// Price levels on both sides (a count kept by the book: constant time).
    pub fn level_count(&self) -> u64 {
        (self.bids.len() + self.asks.len()) as u64
    }

    /// Orders resting: counted one by one in a book of orders, summed from
    /// the levels' counts otherwise.
    pub fn resting_orders(&self) -> u64 {
        match self.detail {
            Detail::Orders => self.orders.len() as u64,
            _ => self
                .bids
                .values()
                .chain(self.asks.values())
                .map(|l| u64::from(l.orders))
                .sum(),
        }
    }

    /// Cancels and modifies that named an order not resting.
    pub fn unknown_orders(&self) -> u64 {
        self.unknown_orders
    }

    fn become_orders(&mut self) {
        if self.detail < Detail::Orders {
            // Orders replace whatever levels or touch a coarser feed left.
            self.clear();
            self.detail = Detail::Orders;
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut BTreeMap<i64, Aggregate> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// Take `size` of `order` off its level, and the order itself when `gone`.
    /// Take order `id` out of its level's queue (an empty queue goes).
    fn unqueue(&mut self, id: u64, order: Order) {
        let key = (order.side, order.price);
        if let Some(ids) = self.queues.get_mut(&key) {
            if let Ok(at) = ids.binary_search(&id) {
                ids.remove(at);
            }
            if ids.is_empty() {
                self.queues.remove(&key);
            }
        }
    }

    fn unlevel(&mut self, order: Order, size: i64, gone: bool) {
        let levels = self.side_mut(order.side);
        if let Some(level) = levels.get_mut(&order.price) {
            level.size -= size;
            level.orders -= u32::from(gone);
            if level.orders == 0 {
                levels.remove(&order.price);
            }
        }
    }

    fn set(&mut self, bids: &[Level], asks: &[Level]) {
        for (levels, given) in [(&mut self.bids, bids), (&mut self.asks, asks)] {
            levels.clear();
            for l in given.iter().filter(|l| l.size > 0) {
                levels.insert(
                    l.price,
                    Aggregate {
                        size: l.size,
                        orders: l.orders,
                    },
                );
            }
        }
    }
}

fn level((&price, agg): (&i64, &Aggregate)) -> Level {
    Level {
        price,
        size: agg.size,
        orders: agg.orders,
    }
}

/// The books of a session, by dense instrument id.
#[derive(Debug, Clone, Default)]
pub struct Books {
    books: Vec<OrderBook>,
}

impl Books {
    /// No books.
    pub fn new() -> Self {
        Self::default()
    }

    /// The book of `instrument`, if it has one.
    pub fn get(&self, instrument: u32) -> Option<&OrderBook> {
        self.books.get(instrument as usize)
    }

    /// The book of `instrument`, made when missing. Ids are dense (the
    /// host interns them), so this grows to the highest id seen.
    pub fn book_mut(&mut self, instrument: u32) -> &mut OrderBook {
        let i = instrument as usize;
        if i >= self.books.len() {
            self.books.resize_with(i + 1, OrderBook::default);
        }
        &mut self.books[i]
    }

    /// Every book with its instrument id.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &OrderBook)> {
        self.books.iter().enumerate().map(|(i, b)| (i as u32, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(levels: &[Level]) -> Vec<(i64, i64, u32)> {
        levels.iter().map(|l| (l.price, l.size, l.orders)).collect()
    }

    #[test]
    fn orders_aggregate_into_levels_best_first() {
        let mut book = OrderBook::new();
        book.add(1, Side::Buy, 100, 5);
        book.add(2, Side::Buy, 101, 3);
        book.add(3, Side::Buy, 100, 2);
        book.add(4, Side::Sell, 103, 1);
        book.add(5, Side::Sell, 102, 4);
        let (bids, asks) = book.depth(5);
        assert_eq!(sizes(&bids), [(101, 3, 1), (100, 7, 2)]);
        assert_eq!(sizes(&asks), [(102, 4, 1), (103, 1, 1)]);
        assert_eq!(book.resting_orders(), 5);
        assert_eq!(book.detail(), Detail::Orders);
    }

    #[test]
    fn a_partial_cancel_reduces_and_a_full_one_removes() {
        let mut book = OrderBook::new();
        book.add(1, Side::Sell, 100, 5);
        book.add(2, Side::Sell, 100, 1);
        assert_eq!(book.cancel(1, 2), 2);
        assert_eq!(sizes(&book.depth(1).1), [(100, 4, 2)]);
        assert_eq!(book.cancel(1, 10), 3);
        assert_eq!(sizes(&book.depth(1).1), [(100, 1, 1)]);
        assert_eq!(book.order(1), None);
        assert_eq!(book.cancel(2, 1), 1);
        assert!(book.best_ask().is_none());
        assert_eq!(book.cancel(9, 1), 0);
        assert_eq!(book.unknown_orders(), 1);
    }

    #[test]
    fn a_modify_moves_an_order_to_its_new_level() {
        let mut book = OrderBook::new();
        book.add(1, Side::Buy, 100, 5);
        book.add(2, Side::Buy, 100, 1);
        book.modify(1, Side::Buy, 99, 7);
        assert_eq!(sizes(&book.depth(5).0), [(100, 1, 1), (99, 7, 1)]);
        book.modify(1, Side::Buy, 99, 2);
        assert_eq!(sizes(&book.depth(5).0), [(100, 1, 1), (99, 2, 1)]);
        book.modify(3, Side::Buy, 98, 1);
        assert_eq!(book.unknown_orders(), 1);
        assert_eq!(book.resting_orders(), 3);
    }

    #[test]
    fn clear_empties_and_orders_outrank_levels_and_quotes() {
        let mut book = OrderBook::new();
        assert!(book.set_top(Some((99, 1)), Some((101, 2))));
        assert_eq!(book.detail(), Detail::Top);
        let snapshot = [Level {
            price: 100,
            size: 9,
            orders: 3,
        }];
        assert!(book.replace_levels(&snapshot, &[]));
        assert!(
            !book.set_top(Some((1, 1)), None),
            "quotes do not overwrite levels"
        );
        assert_eq!(book.resting_orders(), 3);
        book.add(1, Side::Buy, 98, 1);
        assert_eq!(
            sizes(&book.depth(5).0),
            [(98, 1, 1)],
            "orders replace levels"
        );
        assert!(!book.replace_levels(&snapshot, &[]));
        book.clear();
        assert_eq!(book.resting_orders(), 0);
        assert!(book.best_bid().is_none());
    }

    #[test]
    fn the_queue_at_a_level_is_every_order_there_in_id_order_whatever_happened() {
        // A fixed pseudo-random run of adds, modifies, cancels and a clear,
        // checked against a scan of every order after each step.
        let mut book = OrderBook::new();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for step in 0..5_000 {
            let id = next(60);
            let side = if next(2) == 0 { Side::Buy } else { Side::Sell };
            let price = 100 + next(5) as i64;
            match next(10) {
                0..=3 => book.add(id, side, price, next(4) as i64),
                4..=6 => book.modify(id, side, price, 1 + next(3) as i64),
                7..=8 => {
                    book.cancel(id, next(3) as i64);
                }
                _ if step % 997 == 0 => book.clear(),
                _ => {}
            }
            for side in [Side::Buy, Side::Sell] {
                for price in 100..105 {
                    let scanned: Vec<(u64, i64)> = book
                        .orders()
                        .into_iter()
                        .filter(|(_, o)| o.side == side && o.price == price)
                        .map(|(id, o)| (id, o.size))
                        .collect();
                    assert_eq!(book.orders_at(side, price), scanned, "step {step}");
                }
            }
        }
        assert!(book.queues.len() <= 10, "no empty queue is kept");
    }
}
