//! The orders at one price and their time priority: what the book keeps
//! per level and what the allocation rules divide.

use std::collections::VecDeque;

/// A working order on the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resting {
    /// The order's id.
    pub(crate) id: u64,
    /// Quantity still working (always positive while on the book).
    pub(crate) leaves: i64,
    /// Quantity executed so far; a modify's new quantity includes it.
    pub(crate) filled: i64,
    /// Who owns it (looked up once, at submission), for self-trade
    /// prevention; `None` for the market's own orders and unknown ids.
    pub(crate) owner: Option<u32>,
}

/// The orders at one price, oldest (highest time priority) first.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Level {
    pub(crate) orders: VecDeque<Resting>,
    /// Sum of the orders' leaves quantities; `i128` so that no number of
    /// orders can overflow it.
    pub(crate) quantity: i128,
}

impl Level {
    /// Append at the back of the queue (lowest time priority).
    pub(crate) fn push(&mut self, order: Resting) {
        self.quantity += i128::from(order.leaves);
        self.orders.push_back(order);
    }

    /// Queue position of `id`: scans this level only.
    pub(crate) fn position(&self, id: u64) -> Option<usize> {
        self.orders.iter().position(|order| order.id == id)
    }

    /// Take the order at `position` out of the queue.
    pub(crate) fn remove(&mut self, position: usize) -> Option<Resting> {
        let order = self.orders.remove(position)?;
        self.quantity -= i128::from(order.leaves);
        Some(order)
    }
}
