//! A CME Globex style pro-rata matcher.
//!
//! | key | values | default | meaning |
//! |---|---|---|---|
//! | `algorithm` | `pro-rata`, `allocation` | `pro-rata` | `pro-rata`: CME algorithm C (pro rata, then FIFO); `allocation`: CME algorithm A (the TOP order first, then pro rata, then FIFO) |
//! | `min_allocation` | a whole number of lots, 0 or more | `2` | the smallest pro-rata allocation: a smaller one is zero (0 or 1: any whole lot) |
//! | `self_trade` | `none`, `cancel-resting`, `cancel-aggressor`, `cancel-both` | `none` | what happens when an order would trade with a resting order of the same strategy (below) |
//!
//! Any other entries the host passes (such as `seed`) are ignored; a value
//! that does not parse fails `init` with its key named.
//!
//! One book per instrument, created the first time an order for that
//! instrument is submitted. An incoming order (the aggressor) trades against
//! the opposite side best price first, every trade at the resting order's
//! price. At each price level, for the aggressor's remaining quantity:
//! 1. if it is at least the level's whole resting quantity, every resting
//!    order fills completely, oldest first (the FIFO exception);
//! 2. otherwise, with `allocation`, the TOP order fills first, up to its
//!    size: the resting order that bettered the market on its side (a better
//!    price than the side's best, or the first order on an empty side), one
//!    per side; it loses TOP status when another order betters the market,
//!    when it is filled or canceled, and when a modify costs it its time
//!    priority;
//! 3. each resting order is allocated its remaining quantity times the
//!    aggressor's remaining quantity over the level's total remaining
//!    quantity, rounded down to whole lots; an allocation below
//!    `min_allocation` lots is zero;
//! 4. what is left is filled oldest first against what the orders have left
//!    after their allocations.
//!
//! Each resting order that trades at a level gets one fill (`maker = true`)
//! followed by the aggressor's (`maker = false`): the TOP order's first, then
//! the others in time priority. Timestamps are the host clock at the call.
//!
//! The lot of an instrument is its definition's `lot_size`, remembered from
//! the `instrument` events `on_market` is given (simulated venue); without a
//! definition (the exchange venue may never send one) a lot is one unit.
//! The matcher posts no liquidity of its own: strategy orders trade with
//! each other (the exchange venue).
//!
//! Submit, cancel and modify behave as in `fifo-matcher`: GTC remainders
//! rest; IOC and market orders cancel what is left; a fill-or-kill order the
//! book cannot fill in full is rejected with `fill-or-kill-unfilled` without
//! touching it; a market order with nothing to trade against is rejected
//! with `no-liquidity`; a modify to less quantity at the same price keeps the
//! order's time priority (and TOP status), a new price or more quantity loses
//! it, and a price that crosses trades first. Invalid orders and unknown ids
//! are rejected as there.
//!
//! Self-trade prevention (`self_trade`): the owner of each order (the host's
//! `owner`, one number per strategy) is looked up once, when it is
//! submitted. The trades of a level's allocation are made in the order above;
//! at a trade with a resting order of the aggressor's own owner the trades
//! before it stand, then `cancel-resting` cancels the resting order's leaves
//! (reported `canceled`) and what the aggressor has left is allocated again
//! over the rest of the level, `cancel-aggressor` cancels the aggressor's
//! remaining quantity (it stops matching), `cancel-both` does both. A
//! fill-or-kill order counts only what it could take under the rule.

use tradsys_matching::{Allocation, Books, Rules, SelfTrade};
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{BookDepth, Config, MarketEvent, Matcher, OrderCommand, OrderEvent, host};

/// Version byte leading the `save_state` format.
const FORMAT_VERSION: u8 = 1;

/// The pro-rata matcher: one book per instrument id.
#[derive(Debug, Default)]
pub struct ProRataMatcher {
    books: Books,
}

/// The rules `config` asks for.
fn rules(config: &Config) -> Result<Rules, String> {
    config.only(&["algorithm", "min_allocation", SelfTrade::KEY])?;
    let min_allocation_lots = config.parse_or("min_allocation", 2u32)?;
    let allocation = match config.get("algorithm").map(str::trim) {
        None | Some("pro-rata") => Allocation::ProRata {
            min_allocation_lots,
        },
        Some("allocation") => Allocation::TopProRata {
            min_allocation_lots,
        },
        Some(other) => {
            return Err(format!(
                "config `algorithm`: `{other}` is not pro-rata or allocation"
            ));
        }
    };
    Ok(Rules {
        allocation,
        self_trade: SelfTrade::from_config(config)?,
    })
}

impl Matcher for ProRataMatcher {
    fn new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            books: Books::new(rules(config)?),
        })
    }

    fn execute(&mut self, commands: &[OrderCommand], reports: &mut Vec<OrderEvent>) {
        let ts = host::now();
        for command in commands {
            self.books.execute(command, ts, reports);
        }
    }

    /// Remembers the lot size of every instrument definition; nothing else
    /// in the feed changes the books.
    fn on_market(&mut self, events: &[MarketEvent], _reports: &mut Vec<OrderEvent>) {
        for event in events {
            if let MarketEvent::Instrument(definition) = event {
                self.books.define(definition);
            }
        }
    }

    fn depth(&self, instrument: u32, levels: u32) -> BookDepth {
        self.books.depth(instrument, levels)
    }

    /// Format: the version byte; the books (`Books::write_books`: their
    /// count, then per book its instrument and orders); the owners
    /// (`Books::write_owners`); the TOP orders (`Books::write_tops`); the
    /// lot sizes (`Books::write_lots`).
    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(FORMAT_VERSION);
        self.books.write_books(&mut w);
        self.books.write_owners(&mut w);
        self.books.write_tops(&mut w);
        self.books.write_lots(&mut w);
        w.finish()
    }

    /// Decodes everything before replacing anything: on error the running
    /// books stay as they were. TOP orders of a state saved under
    /// `allocation` are dropped under `pro-rata`.
    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(FORMAT_VERSION)?;
        let mut books = Books::read_books(self.books.rules(), &mut r)?;
        books.read_owners(&mut r)?;
        books.read_tops(&mut r)?;
        books.read_lots(&mut r)?;
        r.finish()?;
        self.books = books;
        Ok(())
    }
}

tradsys_sdk::export_matcher!(ProRataMatcher);

#[cfg(test)]
mod tests;
