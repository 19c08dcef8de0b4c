//! The host's side of the venue's tests: its book by order of instrument
//! 0, what each delta's order was before it, the deltas the venue turned
//! off, and its published book (`host::depth`, `host::queue`).

use std::cell::RefCell;

use tradsys_sdk::book::{Level, OrderBook, Side as BookSide};
use tradsys_sdk::{
    BookAction, BookDepth, BookFlags, DepthLevel, MarketEvent, Matcher, OrderEvent, Side, host,
};

use crate::SimVenue;

thread_local! {
    /// The host's side of these tests: its book by order of instrument 0,
    /// and the levels whose queues it last published.
    static HOST: RefCell<(OrderBook, Vec<(Side, i64)>)> = RefCell::default();
}

fn book_side(side: Side) -> BookSide {
    match side {
        Side::Buy => BookSide::Buy,
        Side::Sell => BookSide::Sell,
    }
}

/// The batch `events` through the host, as a session hands it to the
/// venue: the host applies it to its book by order first (each delta's
/// order as it rested before it kept for `host::before`), leaves out what
/// the venue did not ask for (the adds, modifies and cancels outside its
/// bands; without trades, the trades, fills and quotes; a clear and the rest
/// of its event always come), then publishes its book (`host::depth`,
/// `host::queue`) and calls `on_market`, unless nothing is left to hand.
pub(super) fn feed(v: &mut SimVenue, events: &[MarketEvent]) -> Vec<OrderEvent> {
    let asked = host::watched(0);
    let within = |side: Side, price: i64| match asked {
        None => true,
        Some((bids, asks, _)) => {
            let band = if side == Side::Buy { bids } else { asks };
            band.is_some_and(|b| b.low <= price && price <= b.high)
        }
    };
    let trades = asked.is_none_or(|(_, _, trades)| trades);
    let mut clearing = false;
    let mut handed = Vec::new();
    let mut before = Vec::new();
    HOST.with(|h| {
        let (book, published) = &mut *h.borrow_mut();
        for event in events {
            let mut prior = None;
            if let MarketEvent::BookDelta(d) = event {
                prior = book.order(d.order_id).map(|o| host::Resting {
                    side: match o.side {
                        BookSide::Buy => Side::Buy,
                        BookSide::Sell => Side::Sell,
                    },
                    price: o.price,
                    size: o.size,
                });
                match d.action {
                    BookAction::Add => book.add(d.order_id, book_side(d.side), d.price, d.size),
                    BookAction::Modify => {
                        book.modify(d.order_id, book_side(d.side), d.price, d.size)
                    }
                    BookAction::Cancel => _ = book.cancel(d.order_id, d.size),
                    BookAction::Clear => book.clear(),
                    BookAction::Fill => {}
                }
                clearing |= d.action == BookAction::Clear;
                let hand = clearing
                    || (d.action == BookAction::Fill && trades)
                    || (d.action != BookAction::Fill && within(d.side, d.price))
                    || prior.as_ref().is_some_and(|p| within(p.side, p.price));
                if d.flags.contains(BookFlags::LAST) {
                    clearing = false;
                }
                if !hand {
                    continue;
                }
            }
            if matches!(event, MarketEvent::Trade(_) | MarketEvent::Quote(_)) {
                let hand = trades || clearing;
                if let MarketEvent::Trade(t) = event
                    && t.flags.contains(BookFlags::LAST)
                {
                    clearing = false;
                }
                if !hand {
                    continue;
                }
            }
            handed.push(event.clone());
            before.push(prior);
        }
        let (bids, asks) = book.depth(100);
        let levels = |v: &[Level]| {
            v.iter()
                .map(|l| DepthLevel {
                    price: l.price,
                    quantity: l.size,
                    orders: l.orders,
                })
                .collect()
        };
        host::set_depth(BookDepth {
            instrument: 0,
            bids: levels(&bids),
            asks: levels(&asks),
        });
        for (side, price) in published.drain(..) {
            host::set_queue(0, side, price, Vec::new());
        }
        for (side, levels) in [(Side::Buy, bids), (Side::Sell, asks)] {
            for l in levels {
                let queue = book.orders_at(book_side(side), l.price);
                let queue = queue
                    .into_iter()
                    .map(|(order_id, size)| host::QueuedOrder { order_id, size })
                    .collect();
                host::set_queue(0, side, l.price, queue);
                published.push((side, l.price));
            }
        }
    });
    let mut out = Vec::new();
    if asked.is_some() && handed.is_empty() {
        return out; // nothing to hand: no call
    }
    host::set_before(before);
    v.on_market(&handed, &mut out);
    host::set_before(Vec::new());
    out
}
