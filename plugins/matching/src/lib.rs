//! Limit order books for matcher plugins (a library, not a plugin).
//!
//! [`Books`] holds one [`Book`] per instrument and applies order commands to
//! them under [`Rules`]; `fifo-matcher` and `pro-rata-matcher` are thin
//! plugins over it.
//!
//! Matching: an incoming order (the aggressor) trades against the opposite
//! side best price first, every trade at the resting order's price, each
//! reported as a fill of the resting order (`maker = true`) then one of the
//! aggressor (`maker = false`). At one price, the aggressor's remaining
//! quantity is shared among the resting orders by the [`Allocation`]:
//! - when it is at least the level's whole remaining quantity, every resting
//!   order fills completely, oldest first (CME's FIFO exception);
//! - [`Allocation::Fifo`]: oldest order first (time priority);
//! - [`Allocation::ProRata`] (CME algorithm C): each resting order is
//!   allocated its remaining quantity times the aggressor's remaining quantity
//!   over the level's total, rounded down to whole lots; an allocation below
//!   the minimum is zero; what is left is filled oldest first against what the
//!   orders have left. One trade per resting order, in time priority.
//! - [`Allocation::TopProRata`] (CME algorithm A): the side's TOP order (the
//!   resting order that last bettered the market on its side, by a better
//!   price than the side's best or on an empty side; it loses TOP status when
//!   another order betters the market, when it is filled or canceled, and
//!   when a modify costs it its time priority) fills first, up to its size;
//!   then as `ProRata` over what is left. The TOP's trade is reported first.
//!
//! The lot of an instrument is one unit ([`fixed::SCALE`]) until
//! [`Books::define`] is given the instrument's definition.
//!
//! Commands (as `fifo-matcher` always did):
//! - **Submit.** A quantity or limit price that is not positive, or the id of
//!   an order that is still working, is rejected with `invalid-order`.
//!   Otherwise the order is `accepted`, then matches. A GTC limit order rests
//!   with what is left; IOC orders and market orders cancel what is left and
//!   never rest. A fill-or-kill order that the opposite side cannot fill in
//!   full at acceptable prices (under the self-trade rule) is rejected with
//!   `fill-or-kill-unfilled`, before any `accepted` and without touching the
//!   book. A market order finding the opposite side empty is rejected with
//!   `no-liquidity`.
//! - **Cancel.** Removes a working order and reports its leaves quantity as
//!   canceled; anything else is rejected with `unknown-order`. Cancel and
//!   modify look the id up in the book of the command's instrument only.
//! - **Modify.** The new quantity is the order's total, filled quantity
//!   included. At or below the filled quantity the rest is canceled. A
//!   smaller quantity at the same price keeps the order's place in the queue;
//!   a new price or a larger quantity sends it to the back of its (new) level,
//!   and a price that crosses the spread trades as an aggressor first. A
//!   `modified` report (new price, new leaves) precedes any fills. An unknown
//!   id is rejected with `unknown-order`, a price that is not positive with
//!   `invalid-order` (the order stays as it was).
//!
//! Self-trade prevention ([`SelfTrade`], config key `self_trade`): the owner
//! of an order (`tradsys_sdk::host::owner`, the same number for every order
//! of one strategy) is looked up once, when it is submitted, and kept with the
//! order. At a price level the aggressor's allocation is traded in the order
//! above; at a trade with a resting order of the aggressor's owner the trades
//! before it stand, then `cancel-resting` cancels the resting order's leaves
//! (reported `canceled`) and the aggressor's rest is allocated again,
//! `cancel-aggressor` cancels the aggressor's remaining quantity and it stops
//! matching, `cancel-both` does both. Orders without an owner (the market's
//! own, unknown ids) never self-trade.

mod allocate;
mod book;
mod level;
mod report;

use std::collections::BTreeMap;

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    BookDepth, Config, InstrumentDefinition, NewOrder, OrderCommand, OrderEvent, OrderType,
    RejectReason, Side, fixed, host,
};

pub use crate::book::Book;
use crate::book::len_u32;
pub use crate::report::Reporter;

/// How an aggressor's quantity is shared among the orders at one price.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Allocation {
    /// Time priority: oldest order first.
    #[default]
    Fifo,
    /// CME algorithm C: pro rata in whole lots, allocations below
    /// `min_allocation_lots` lots dropped, the rest FIFO.
    ProRata {
        /// The smallest allocation, in lots (0 or 1: any whole lot).
        min_allocation_lots: u32,
    },
    /// CME algorithm A: the TOP order first, then as [`Allocation::ProRata`].
    TopProRata {
        /// The smallest pro-rata allocation, in lots.
        min_allocation_lots: u32,
    },
}

impl Allocation {
    /// Whether books keep TOP orders under this allocation.
    pub fn has_top(self) -> bool {
        matches!(self, Self::TopProRata { .. })
    }
}

/// What happens when an aggressor would trade with a resting order of the
/// same owner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SelfTrade {
    /// `none`: they trade.
    #[default]
    Allow,
    /// `cancel-resting`: the resting order's leaves are canceled and the
    /// aggressor goes on matching.
    CancelResting,
    /// `cancel-aggressor`: the aggressor's remaining quantity is canceled.
    CancelAggressor,
    /// `cancel-both`: both.
    CancelBoth,
}

impl SelfTrade {
    /// The config key.
    pub const KEY: &'static str = "self_trade";

    const NAMES: [(&'static str, SelfTrade); 4] = [
        ("none", SelfTrade::Allow),
        ("cancel-resting", SelfTrade::CancelResting),
        ("cancel-aggressor", SelfTrade::CancelAggressor),
        ("cancel-both", SelfTrade::CancelBoth),
    ];

    /// The `self_trade` entry of `config` (`none` when absent); any other
    /// value is an error naming the key.
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let Some(raw) = config.get(Self::KEY) else {
            return Ok(Self::Allow);
        };
        Self::NAMES
            .iter()
            .find(|(name, _)| *name == raw.trim())
            .map(|&(_, mode)| mode)
            .ok_or_else(|| {
                format!(
                    "config `{}`: `{raw}` is not one of none, cancel-resting, cancel-aggressor, cancel-both",
                    Self::KEY
                )
            })
    }

    /// The config value naming this mode.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, mode)| *mode == self)
            .map_or("none", |(name, _)| name)
    }
}

/// A matcher's rules: allocation and self-trade prevention.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rules {
    /// How the quantity at one price is shared.
    pub allocation: Allocation,
    /// Self-trade prevention.
    pub self_trade: SelfTrade,
}

/// One book per instrument, created the first time an order for that
/// instrument is submitted, and the lot sizes of the instruments defined.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Books {
    rules: Rules,
    /// Books by instrument id, in id order so that state is deterministic.
    books: BTreeMap<u32, Book>,
    /// Lot sizes from instrument definitions (positive; one unit otherwise).
    lots: BTreeMap<u32, i64>,
}

impl Books {
    /// No books yet.
    pub fn new(rules: Rules) -> Self {
        Self {
            rules,
            ..Self::default()
        }
    }

    /// The rules every book matches by.
    pub fn rules(&self) -> Rules {
        self.rules
    }

    /// The book of `instrument`, if an order ever reached it.
    pub fn get(&self, instrument: u32) -> Option<&Book> {
        self.books.get(&instrument)
    }

    /// Every book, in instrument order.
    pub fn values(&self) -> impl Iterator<Item = &Book> {
        self.books.values()
    }

    /// Remember `definition`'s lot size (a size that is not positive means
    /// one unit), for the instrument's book now and later.
    pub fn define(&mut self, definition: &InstrumentDefinition) {
        let lot = definition.lot_size;
        if lot > 0 {
            self.lots.insert(definition.id, lot);
        } else {
            self.lots.remove(&definition.id);
        }
        if let Some(book) = self.books.get_mut(&definition.id) {
            book.set_lot(lot);
        }
    }

    /// The lot size of `instrument`: from its definition, else one unit.
    pub fn lot(&self, instrument: u32) -> i64 {
        self.lots.get(&instrument).copied().unwrap_or(fixed::SCALE)
    }

    /// Apply `command` at `ts`, pushing its reports to `out`. The owner of a
    /// submitted order is asked of the host (once).
    pub fn execute(&mut self, command: &OrderCommand, ts: u64, out: &mut Vec<OrderEvent>) {
        match command {
            OrderCommand::Submit(order) => self.submit(order, || host::owner(order.id), ts, out),
            OrderCommand::Cancel(cancel) => {
                let mut reports = Reporter {
                    instrument: cancel.instrument,
                    ts,
                    out,
                };
                match self.books.get_mut(&cancel.instrument) {
                    Some(book) => book.cancel(cancel.id, &mut reports),
                    None => reports.rejected(cancel.id, RejectReason::UnknownOrder, None),
                }
            }
            OrderCommand::Modify(modify) => {
                let mut reports = Reporter {
                    instrument: modify.instrument,
                    ts,
                    out,
                };
                match self.books.get_mut(&modify.instrument) {
                    Some(book) => book.modify(
                        modify.id,
                        modify.price,
                        modify.quantity,
                        &self.rules,
                        &mut reports,
                    ),
                    None => reports.rejected(modify.id, RejectReason::UnknownOrder, None),
                }
            }
        }
    }

    /// Submit an order that has no owner (a matcher's own liquidity): it
    /// never self-trades, and the host is not asked.
    pub fn submit_unowned(&mut self, order: &NewOrder, ts: u64, out: &mut Vec<OrderEvent>) {
        self.submit(order, || None, ts, out);
    }

    fn submit(
        &mut self,
        order: &NewOrder,
        owner: impl FnOnce() -> Option<u32>,
        ts: u64,
        out: &mut Vec<OrderEvent>,
    ) {
        let mut reports = Reporter {
            instrument: order.instrument,
            ts,
            out,
        };
        let limit = matches!(order.order_type, OrderType::Limit);
        let problem = if order.quantity <= 0 {
            Some("quantity must be positive")
        } else if limit && order.price <= 0 {
            Some("limit price must be positive")
        } else {
            None
        };
        if let Some(message) = problem {
            reports.rejected(order.id, RejectReason::InvalidOrder, Some(message));
            return;
        }
        let lot = self.lot(order.instrument);
        let book = self
            .books
            .entry(order.instrument)
            .or_insert_with(|| Book::new(lot));
        book.submit(order, owner(), &self.rules, &mut reports);
    }

    /// The best `levels` levels of each side of `instrument`'s book.
    pub fn depth(&self, instrument: u32, levels: u32) -> BookDepth {
        let (bids, asks) = match self.books.get(&instrument) {
            Some(book) => book.depth(usize::try_from(levels).unwrap_or(usize::MAX)),
            None => (Vec::new(), Vec::new()),
        };
        BookDepth {
            instrument,
            bids,
            asks,
        }
    }

    /// Append the books: their number, then per book (in instrument order)
    /// its instrument id and [`Book::encode`]'s encoding.
    pub fn write_books(&self, w: &mut StateWriter) {
        w.u32(len_u32(self.books.len()));
        for (&instrument, book) in &self.books {
            w.u32(instrument);
            book.encode(w);
        }
    }

    /// Read what [`Books::write_books`] wrote into new books under `rules`
    /// (no owners, lots or TOP orders yet).
    pub fn read_books(rules: Rules, r: &mut StateReader<'_>) -> Result<Self, String> {
        let count = r.u32()?;
        let mut books = BTreeMap::new();
        let mut previous: Option<u32> = None;
        for _ in 0..count {
            let instrument = r.u32()?;
            if previous.is_some_and(|p| p >= instrument) {
                return Err(format!("state has unordered instrument {instrument}"));
            }
            previous = Some(instrument);
            books.insert(instrument, Book::decode(r)?);
        }
        Ok(Self {
            rules,
            books,
            lots: BTreeMap::new(),
        })
    }

    /// How many working orders have an owner.
    pub fn owner_count(&self) -> usize {
        self.books.values().map(|book| book.owners().count()).sum()
    }

    /// Append the owners: [`Books::owner_count`], then per owned order (in
    /// instrument order, then [`Book::owners`] order) its instrument, id and
    /// owner.
    pub fn write_owners(&self, w: &mut StateWriter) {
        w.u32(len_u32(self.owner_count()));
        for (&instrument, book) in &self.books {
            for (id, owner) in book.owners() {
                w.u32(instrument).u64(id).u32(owner);
            }
        }
    }

    /// Read what [`Books::write_owners`] wrote, into these books.
    pub fn read_owners(&mut self, r: &mut StateReader<'_>) -> Result<(), String> {
        let count = r.u32()?;
        self.read_owner_entries(r, count)
    }

    /// Read the `count` entries of [`Books::write_owners`] that follow its count.
    pub fn read_owner_entries(
        &mut self,
        r: &mut StateReader<'_>,
        count: u32,
    ) -> Result<(), String> {
        let mut previous: Option<u32> = None;
        for _ in 0..count {
            let (instrument, id, owner) = (r.u32()?, r.u64()?, r.u32()?);
            if previous.is_some_and(|p| p > instrument) {
                return Err(format!(
                    "state has unordered owners at instrument {instrument}"
                ));
            }
            previous = Some(instrument);
            self.books
                .get_mut(&instrument)
                .ok_or_else(|| format!("state names the owner of an order of instrument {instrument}, which has no book"))?
                .set_owner(id, owner)?;
        }
        Ok(())
    }

    /// Append the TOP orders: per book (in instrument order) the bid's and
    /// the ask's, each an option of an order id.
    pub fn write_tops(&self, w: &mut StateWriter) {
        for book in self.books.values() {
            for side in [Side::Buy, Side::Sell] {
                w.option(book.top(side), |w, id| {
                    w.u64(id);
                });
            }
        }
    }

    /// Read what [`Books::write_tops`] wrote, into these books (the same
    /// books); under rules without TOP orders they are checked and dropped.
    pub fn read_tops(&mut self, r: &mut StateReader<'_>) -> Result<(), String> {
        let keep = self.rules.allocation.has_top();
        for book in self.books.values_mut() {
            for side in [Side::Buy, Side::Sell] {
                if let Some(id) = r.option(|r| r.u64())? {
                    book.set_top(side, id)?;
                }
            }
            if !keep {
                book.clear_tops();
            }
        }
        Ok(())
    }

    /// Append the lot sizes: their number, then (in instrument order) the
    /// instrument and its lot.
    pub fn write_lots(&self, w: &mut StateWriter) {
        w.u32(len_u32(self.lots.len()));
        for (&instrument, &lot) in &self.lots {
            w.u32(instrument).i64(lot);
        }
    }

    /// Read what [`Books::write_lots`] wrote, and give every book its lot.
    pub fn read_lots(&mut self, r: &mut StateReader<'_>) -> Result<(), String> {
        let mut lots = BTreeMap::new();
        let mut previous: Option<u32> = None;
        for _ in 0..r.u32()? {
            let (instrument, lot) = (r.u32()?, r.i64()?);
            if previous.is_some_and(|p| p >= instrument) || lot <= 0 {
                return Err(format!(
                    "state has a bad or unordered lot {lot} for instrument {instrument}"
                ));
            }
            previous = Some(instrument);
            lots.insert(instrument, lot);
        }
        for (instrument, book) in &mut self.books {
            book.set_lot(lots.get(instrument).copied().unwrap_or(fixed::SCALE));
        }
        self.lots = lots;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
