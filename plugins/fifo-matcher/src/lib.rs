//! A price-time priority (FIFO) limit order book matcher.
//!
//! | key | values | default | meaning |
//! |---|---|---|---|
//! | `self_trade` | `none`, `cancel-resting`, `cancel-aggressor`, `cancel-both` | `none` | what happens when an order would trade with a resting order of the same strategy (below) |
//!
//! Any other entries the host passes (such as `seed`) are ignored; a bad
//! `self_trade` fails `init` with the key named.
//!
//! The matcher keeps one book per instrument, created the first time an order
//! for that instrument is submitted. Incoming orders trade against the
//! opposite side best price first and, within a price, oldest order first;
//! every trade executes at the resting order's price and reports a fill for
//! the resting order (`maker = true`) followed by one for the aggressor
//! (`maker = false`). Timestamps are the host clock at the `execute` call.
//! The books are `tradsys-matching`'s under `Allocation::Fifo`.
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
//! Self-trade prevention (`self_trade`): the owner of each order (the host's
//! `owner`, one number per strategy) is looked up once, when it is submitted.
//! When an aggressor reaches a resting order of its own owner, the trades
//! before it stand, then `cancel-resting` cancels the resting order's leaves
//! (reported `canceled`) and the aggressor goes on matching;
//! `cancel-aggressor` cancels the aggressor's remaining quantity (it stops
//! matching and does not rest); `cancel-both` does both. A fill-or-kill order
//! counts only the liquidity it could take under the rule. With `none`,
//! orders of one strategy trade with each other.
//!
//! The market (simulated venue, `on_market`): the last quote of each
//! instrument in a batch replaces the market's own resting orders at the
//! touch (bid and ask, the displayed sizes), so strategy orders trade at the
//! feed's prices up to the displayed size, and a new touch that crosses a
//! resting strategy order fills it. The market's orders (ids with the top
//! bit set) and their reports stay inside the matcher; they have no owner, so
//! they never self-trade. For book data use `sim-venue`, which keeps the
//! feed's queues.
//!
//! State (`save_state`): format 3, which also keeps the owners; formats 1
//! and 2 (earlier versions, whose orders have no owner) still load.

use std::collections::BTreeMap;

use tradsys_matching::{Allocation, Books, Rules, SelfTrade};
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    BookDepth, CancelOrder, Config, MarketEvent, Matcher, NewOrder, OrderCommand, OrderEvent,
    OrderType, Quote, Side, TimeInForce, host,
};

/// Version byte leading the `save_state` format (1: books only; 2: and the
/// market's orders; 3: and the owners).
const FORMAT_VERSION: u8 = 3;

/// The top bit marks the market's own orders: host order ids never set it.
pub const MARKET: u64 = 1 << 63;

/// The FIFO matcher: one book per instrument id.
#[derive(Debug, Default)]
pub struct FifoMatcher {
    /// Books by instrument id, under FIFO allocation.
    books: Books,
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
            self.books.execute(&cancel, ts, out);
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
            let order = NewOrder {
                id,
                instrument: q.instrument,
                side,
                order_type: OrderType::Limit,
                time_in_force: TimeInForce::Gtc,
                price,
                quantity: size,
            };
            self.books.submit_unowned(&order, ts, out);
            posted[slot] = Some(id);
        }
        self.touch.insert(q.instrument, posted);
    }
}

impl Matcher for FifoMatcher {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&[SelfTrade::KEY])?;
        let rules = Rules {
            allocation: Allocation::Fifo,
            self_trade: SelfTrade::from_config(config)?,
        };
        Ok(Self {
            books: Books::new(rules),
            ..Self::default()
        })
    }

    fn execute(&mut self, commands: &[OrderCommand], reports: &mut Vec<OrderEvent>) {
        let ts = host::now();
        let from = reports.len();
        for command in commands {
            self.books.execute(command, ts, reports);
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
        self.books.depth(instrument, levels)
    }

    /// Format: the version byte, the number of books, then per book (in
    /// instrument order) its instrument id and `Book::encode`'s encoding;
    /// then the market's order count and its resting orders per instrument;
    /// then, only when some working order has an owner, the owners
    /// (`Books::write_owners`: their count, positive, and per order its
    /// instrument, id and owner).
    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(FORMAT_VERSION);
        self.books.write_books(&mut w);
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
        if self.books.owner_count() > 0 {
            self.books.write_owners(&mut w);
        }
        w.finish()
    }

    /// Decodes everything before replacing anything: on error the running
    /// books stay as they were. Formats 1 and 2 have no owners.
    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        let version = r.u8()?;
        if !(1..=FORMAT_VERSION).contains(&version) {
            return Err(format!(
                "state format {version}, this version reads 1 to {FORMAT_VERSION}"
            ));
        }
        let mut books = Books::read_books(self.books.rules(), &mut r)?;
        let (mut market_orders, mut touch) = (0, BTreeMap::new());
        if version >= 2 {
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
        // The owners' section is there only when some order has an owner:
        // a count follows or the state ends (fewer than four bytes left are
        // refused as trailing bytes).
        if version >= 3
            && let Ok(count) = r.u32()
        {
            if count == 0 {
                return Err("state has an empty owners' section".to_string());
            }
            books.read_owner_entries(&mut r, count)?;
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
