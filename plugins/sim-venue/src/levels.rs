//! A book by order's price levels as the venue keeps them while an auction
//! may come (before the open, in a halt): the size and the number of
//! orders at each price, from the book deltas and what each delta's order
//! was before it (`host::before`). The opening auction's volume reaches the
//! feed's orders at better prices than ours first.

use std::collections::BTreeMap;

use tradsys_sdk::Side;
use tradsys_sdk::book::Level;

/// Size and orders by price, per side.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Levels {
    bids: BTreeMap<i64, (i64, u32)>,
    asks: BTreeMap<i64, (i64, u32)>,
}

impl Levels {
    fn side_mut(&mut self, side: Side) -> &mut BTreeMap<i64, (i64, u32)> {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// An order of `size` joins `price` on `side`.
    pub(crate) fn add(&mut self, side: Side, price: i64, size: i64) {
        let level = self.side_mut(side).entry(price).or_default();
        level.0 += size;
        level.1 += 1;
    }

    /// `size` of an order at `price` on `side` goes; `gone` when the whole
    /// order does.
    pub(crate) fn remove(&mut self, side: Side, price: i64, size: i64, gone: bool) {
        let levels = self.side_mut(side);
        if let Some(level) = levels.get_mut(&price) {
            level.0 -= size;
            level.1 -= u32::from(gone);
            if level.0 <= 0 || level.1 == 0 {
                levels.remove(&price);
            }
        }
    }

    /// Every order is gone.
    pub(crate) fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    /// One side's levels, best first.
    pub(crate) fn side(&self, side: Side) -> Vec<Level> {
        let level = |(price, (size, orders)): (&i64, &(i64, u32))| Level {
            price: *price,
            size: *size,
            orders: *orders,
        };
        match side {
            Side::Buy => self.bids.iter().rev().map(level).collect(),
            Side::Sell => self.asks.iter().map(level).collect(),
        }
    }

    /// Levels from a snapshot (`side` best first, as the host's depth).
    pub(crate) fn set_side(&mut self, side: Side, levels: &[Level]) {
        *self.side_mut(side) = levels
            .iter()
            .map(|l| (l.price, (l.size, l.orders)))
            .collect();
    }
}
