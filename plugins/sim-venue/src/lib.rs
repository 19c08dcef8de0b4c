//! `sim-venue`: a simulated venue over the replayed feed (the matcher of
//! `[venue] model = "simulated"`).
//!
//! The feed's book is never changed for strategy orders: the feed is
//! history. Strategy orders are filled as the feed says they could have
//! been. An order reaches it after every exchange event stamped at or before
//! its arrival (the host holds it until then, and never splits an event), so
//! it sees a book the exchange showed.
//!
//! A book by order (L3) is the host's (WIT 1.4): an arriving order reads its
//! levels and queue through `market` (`host::depth`, `host::queue`), each
//! book delta comes with its order as it rested before it (`host::before`),
//! and the venue keeps only the queues of the levels where an order of ours
//! rests, what its orders took, and the levels while an auction may come.
//! It asks the host only for the events that can touch that (`host::watch`):
//! the adds, modifies and cancels at the prices of our orders, those that
//! would cross them, and the levels our orders took from, and the trades and
//! fills while an order of ours rests; every event while an auction may come;
//! with nothing of ours, none but status and clears (a batch of nothing else
//! is not handed: no call). A market order walks at most the hundred
//! best levels the host answers. Levels (L2) and the touch (L1) it keeps
//! itself.
//!
//! - **Sessions.** Nothing fills before the open: in the pre-open (the
//!   feed's status, or, for a book by order whose feed has no status
//!   records, until its first trade) GTC limit orders rest without taking
//!   anything, however the (crossed) book stands, and market, IOC and FOK
//!   orders are refused (`other`). The opening auction (a trade without an
//!   aggressor right after the pre-open or a halt) fills our orders that
//!   cross its price, at its price, in price priority, up to its volume:
//!   behind the feed's orders at better prices, at our own price behind the
//!   feed's orders ahead of us in the queue, and at the auction price
//!   behind all of the feed's orders there. A halted (or closed) instrument
//!   fills nothing; new orders and modifies are refused
//!   (`instrument-halted`), cancels are not.
//! - **Taking.** A marketable order takes the displayed liquidity at the
//!   feed's prices, level by level (`maker = false`). What it took stays
//!   taken at that level until the feed next changes the level, so two of our
//!   orders never use the same lot. Market and IOC orders cancel what is
//!   left; a fill-or-kill that the displayed liquidity cannot fill in full is
//!   rejected (`fill-or-kill-unfilled`); a market order with nothing to take
//!   is rejected (`no-liquidity`).
//! - **Queueing (L3: the feed names its orders).** A resting order joins the
//!   back of its price level's queue: behind every feed order resting there
//!   and every earlier order of ours at that price. A feed order that joins
//!   later (an add, or a modify to a new price or a larger size: an iceberg
//!   refill too) queues behind it. A feed order's fill record consumes it
//!   (by the filled quantity) at once; the cancel or modify that follows,
//!   the feed's account of the same fill, never counts it again. Volume
//!   traded with a feed order at our price that is behind us, or with one
//!   at a worse price (a trade through our price), would have reached us
//!   first: it fills our orders in priority (better price, then queue
//!   order), each after the feed volume still ahead of it. A feed order
//!   added (or moved) to a price that crosses ours would have traded with
//!   us: it fills us up to its size. A fill record of an order that is not
//!   resting is the aggressor's and adds nothing; a fill at a price other
//!   than the order's resting price (an aggressive modify) is not a trade of
//!   that level's queue.
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
//! Fills of resting orders are `maker = true`, at the order's price (the
//! auction's price in the auction), and carry the feed event's time.
//! Strategy orders never affect the feed, which a real market would (our own
//! impact), and hidden liquidity is invisible.
//!
//! Commands: a quantity or limit price that is not positive, or an id still
//! working, is rejected (`invalid-order`). Cancel removes a working order
//! (`unknown-order` otherwise). Modify: the new quantity is the total,
//! filled included; at or below the filled quantity the rest is cancelled; a
//! new price or a larger quantity loses the place in the queue (and may
//! take liquidity first), a smaller one keeps it.
//!
//! Config keys: none.

mod feed;
mod levels;
mod market;
mod queue;
mod session;
mod state;

use std::collections::BTreeMap;

use tradsys_sdk::book::Level;
use tradsys_sdk::{
    BookDepth, Config, DepthLevel, MarketEvent, Matcher, OrderCommand, OrderEvent, host,
};

use market::{Market, Reports};

/// The venue of `instrument` in `markets`, made on first use.
fn market(markets: &mut BTreeMap<u32, Market>, instrument: u32) -> &mut Market {
    markets
        .entry(instrument)
        .or_insert_with(|| Market::new(instrument))
}

/// The simulated venue; see the crate documentation.
#[derive(Debug, Default)]
pub struct SimVenue {
    markets: BTreeMap<u32, Market>,
}

impl Matcher for SimVenue {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&[])?;
        Ok(Self::default())
    }

    fn execute(&mut self, commands: &[OrderCommand], reports: &mut Vec<OrderEvent>) {
        let ts = host::now();
        for command in commands {
            let instrument = command.instrument();
            let market = market(&mut self.markets, instrument);
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
            market.after_call();
        }
    }

    fn on_market(&mut self, events: &[MarketEvent], reports: &mut Vec<OrderEvent>) {
        // Only a book delta has an entry worth asking for.
        let deltas = events
            .iter()
            .any(|e| matches!(e, MarketEvent::BookDelta(_)));
        let before = if deltas { host::before() } else { Vec::new() };
        let mut touched = Vec::new();
        for (i, event) in events.iter().enumerate() {
            let Some(ts) = event.ts() else { continue };
            let instrument = event.instrument();
            if !touched.contains(&instrument) {
                touched.push(instrument);
            }
            let market = market(&mut self.markets, instrument);
            let mut out = Reports {
                instrument,
                ts,
                out: reports,
            };
            match event {
                MarketEvent::BookDelta(d) => {
                    let prior = before.get(i).cloned().flatten();
                    market.on_delta(d, prior, &mut out)
                }
                MarketEvent::Trade(t) => market.on_trade(t, &mut out),
                MarketEvent::Depth(d) => market.on_depth(d, &mut out),
                MarketEvent::Quote(q) => market.on_quote(q, &mut out),
                MarketEvent::Bar(b) => market.on_bar(b, &mut out),
                MarketEvent::Status(s) => market.on_status(s.status),
                MarketEvent::Instrument(_) | MarketEvent::Signal(_) => {}
            }
        }
        for instrument in touched {
            market(&mut self.markets, instrument).after_call();
        }
    }

    /// The feed's book as the venue reads it (our orders are not in it):
    /// the host's for a book by order.
    fn depth(&self, instrument: u32, levels: u32) -> BookDepth {
        if self.markets.get(&instrument).is_some_and(|m| m.by_order) {
            return host::depth(instrument, levels);
        }
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
        state::save(&self.markets)
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        self.markets = state::load(state)?;
        // A fresh instance: the host hands every delta until told otherwise.
        for market in self.markets.values_mut() {
            market.watched = market::EVERY_EVENT;
            market.sync_watch();
        }
        Ok(())
    }
}

tradsys_sdk::export_matcher!(SimVenue);

#[cfg(test)]
mod tests;
