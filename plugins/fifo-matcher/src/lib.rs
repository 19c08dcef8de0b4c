//! A price-time priority (FIFO) limit order book matcher.
//!
//! The matcher keeps one book per instrument, created the first time an order
//! for that instrument is submitted. Incoming orders trade against the
//! opposite side best price first and, within a price, oldest order first;
//! every trade executes at the resting order's price and reports a fill for
//! the resting order (`maker = true`) followed by one for the aggressor
//! (`maker = false`). Timestamps are the host clock at the `execute` call.
//!
//! Commands:
//! - **Submit.** A quantity or limit price that is not positive, or the id of
//!   an order that is still working, is rejected with `invalid-order`.
//!   Otherwise the order is `accepted`, then matches. A GTC limit order rests
//!   with what is left; IOC orders and market orders cancel what is left and
//!   never rest. A fill-or-kill order that the opposite side cannot fill in full
//!   at acceptable prices is rejected with `fill-or-kill-unfilled` (before any
//!   `accepted`, and without touching the book). A market order finding the
//!   opposite side empty is rejected with `no-liquidity`.
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
//! Self-trades are not prevented: order ids are opaque to the matcher.
//!
//! Config keys: none. Any entries the host passes (such as `seed`) are ignored.

mod book;
mod report;

use std::collections::BTreeMap;

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    BookDepth, Config, Matcher, OrderCommand, OrderEvent, OrderType, RejectReason, host,
};

use crate::book::Book;
use crate::report::Reporter;

/// Version byte leading the `save_state` format.
const FORMAT_VERSION: u8 = 1;

/// The FIFO matcher: one book per instrument id. It has no configuration.
#[derive(Debug, Default)]
pub struct FifoMatcher {
    /// Books by instrument id, in id order so that state is deterministic.
    books: BTreeMap<u32, Book>,
}

impl FifoMatcher {
    fn execute_one(&mut self, command: &OrderCommand, ts: u64, out: &mut Vec<OrderEvent>) {
        match command {
            OrderCommand::Submit(order) => {
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
                match problem {
                    Some(message) => {
                        reports.rejected(order.id, RejectReason::InvalidOrder, Some(message))
                    }
                    None => self
                        .books
                        .entry(order.instrument)
                        .or_default()
                        .submit(order, &mut reports),
                }
            }
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
                    Some(book) => {
                        book.modify(modify.id, modify.price, modify.quantity, &mut reports)
                    }
                    None => reports.rejected(modify.id, RejectReason::UnknownOrder, None),
                }
            }
        }
    }
}

impl Matcher for FifoMatcher {
    fn new(_config: &Config) -> Result<Self, String> {
        Ok(Self::default())
    }

    fn execute(&mut self, commands: &[OrderCommand], reports: &mut Vec<OrderEvent>) {
        let ts = host::now();
        for command in commands {
            self.execute_one(command, ts, reports);
        }
    }

    fn depth(&self, instrument: u32, levels: u32) -> BookDepth {
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

    /// Format: the version byte, the number of books, then per book (in
    /// instrument order) its instrument id and [`Book::encode`]'s encoding.
    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(FORMAT_VERSION);
        w.u32(u32::try_from(self.books.len()).unwrap_or(u32::MAX));
        for (&instrument, book) in &self.books {
            w.u32(instrument);
            book.encode(&mut w);
        }
        w.finish()
    }

    /// Decodes everything before replacing anything: on error the running
    /// books stay as they were.
    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(FORMAT_VERSION)?;
        let count = r.u32()?;
        let mut books = BTreeMap::new();
        let mut previous: Option<u32> = None;
        for _ in 0..count {
            let instrument = r.u32()?;
            if previous.is_some_and(|p| p >= instrument) {
                return Err(format!("state has unordered instrument {instrument}"));
            }
            previous = Some(instrument);
            books.insert(instrument, Book::decode(&mut r)?);
        }
        r.finish()?;
        self.books = books;
        Ok(())
    }
}

tradsys_sdk::export_matcher!(FifoMatcher);

#[cfg(test)]
mod tests;
