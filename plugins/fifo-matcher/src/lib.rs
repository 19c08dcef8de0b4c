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
//! The market (simulated venue, `on_market`): the last quote of each
//! instrument in a batch replaces the market's own resting orders at the
//! touch (bid and ask, the displayed sizes), so strategy orders trade at the
//! feed's prices up to the displayed size, and a new touch that crosses a
//! resting strategy order fills it. The market's orders (ids with the top
//! bit set) and their reports stay inside the matcher. For book data use
//! `sim-venue`, which keeps the feed's queues.
//!
//! Config keys: none. Any entries the host passes (such as `seed`) are ignored.

mod book;
mod report;

use std::collections::BTreeMap;

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    BookDepth, CancelOrder, Config, MarketEvent, Matcher, NewOrder, OrderCommand, OrderEvent,
    OrderType, Quote, RejectReason, Side, TimeInForce, host,
};

use crate::book::Book;
use crate::report::Reporter;

/// Version byte leading the `save_state` format (1: books only).
const FORMAT_VERSION: u8 = 2;

/// The top bit marks the market's own orders: host order ids never set it.
pub const MARKET: u64 = 1 << 63;

/// The FIFO matcher: one book per instrument id. It has no configuration.
#[derive(Debug, Default)]
pub struct FifoMatcher {
    /// Books by instrument id, in id order so that state is deterministic.
    books: BTreeMap<u32, Book>,
    /// The market's resting orders per instrument: (bid, ask).
    touch: BTreeMap<u32, [Option<u64>; 2]>,
    /// Orders the market posted so far (numbers its ids).
    market_orders: u64,
}

impl FifoMatcher {
    /// Replace the market's orders of `q.instrument` with the quote's touch.
    fn post_touch(&mut self, q: &Quote, ts: u64, out: &mut Vec<OrderEvent>) {
        let previous = self.touch.remove(&q.instrument).unwrap_or_default();
        for id in previous.into_iter().flatten() {
            let cancel = OrderCommand::Cancel(CancelOrder {
                id,
                instrument: q.instrument,
            });
            self.execute_one(&cancel, ts, out);
        }
        let mut posted = [None, None];
        for (slot, side, price, size) in [
            (0, Side::Buy, q.bid_price, q.bid_size),
            (1, Side::Sell, q.ask_price, q.ask_size),
        ] {
            if price <= 0 || size <= 0 {
                continue;
            }
            self.market_orders += 1;
            let id = MARKET | self.market_orders;
            let order = OrderCommand::Submit(NewOrder {
                id,
                instrument: q.instrument,
                side,
                order_type: OrderType::Limit,
                time_in_force: TimeInForce::Gtc,
                price,
                quantity: size,
            });
            self.execute_one(&order, ts, out);
            posted[slot] = Some(id);
        }
        self.touch.insert(q.instrument, posted);
    }

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
        let from = reports.len();
        for command in commands {
            self.execute_one(command, ts, reports);
        }
        drop_market_reports(reports, from);
    }

    fn on_market(&mut self, events: &[MarketEvent], reports: &mut Vec<OrderEvent>) {
        let mut last: BTreeMap<u32, &Quote> = BTreeMap::new();
        for event in events {
            if let MarketEvent::Quote(q) = event {
                last.insert(q.instrument, q);
            }
        }
        let ts = host::now();
        let from = reports.len();
        for q in last.into_values() {
            self.post_touch(q, ts, reports);
        }
        drop_market_reports(reports, from);
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
    /// instrument order) its instrument id and [`Book::encode`]'s encoding;
    /// then the market's order count and its resting orders per instrument.
    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(FORMAT_VERSION);
        w.u32(u32::try_from(self.books.len()).unwrap_or(u32::MAX));
        for (&instrument, book) in &self.books {
            w.u32(instrument);
            book.encode(&mut w);
        }
        w.u64(self.market_orders);
        w.u32(u32::try_from(self.touch.len()).unwrap_or(u32::MAX));
        for (&instrument, ids) in &self.touch {
            w.u32(instrument);
            for id in ids {
                w.option(*id, |w, id| {
                    w.u64(id);
                });
            }
        }
        w.finish()
    }

    /// Decodes everything before replacing anything: on error the running
    /// books stay as they were.
    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        let version = r.u8()?;
        if version != 1 && version != FORMAT_VERSION {
            return Err(format!(
                "state format {version}, this version reads 1 and 2"
            ));
        }
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
        let (mut market_orders, mut touch) = (0, BTreeMap::new());
        if version == FORMAT_VERSION {
            market_orders = r.u64()?;
            for _ in 0..r.u32()? {
                let instrument = r.u32()?;
                let mut ids = [None, None];
                for id in &mut ids {
                    *id = if r.bool()? { Some(r.u64()?) } else { None };
                }
                touch.insert(instrument, ids);
            }
        }
        r.finish()?;
        (self.books, self.touch, self.market_orders) = (books, touch, market_orders);
        Ok(())
    }
}

/// Keep from `reports[from..]` only those of orders that are not the market's.
fn drop_market_reports(reports: &mut Vec<OrderEvent>, from: usize) {
    let tail = reports.split_off(from);
    reports.extend(tail.into_iter().filter(|r| r.id() & MARKET == 0));
}

tradsys_sdk::export_matcher!(FifoMatcher);

#[cfg(test)]
mod tests;
