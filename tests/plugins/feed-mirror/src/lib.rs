//! A matcher that keeps its own copy of the feed's book by order, built
//! from every book delta it is handed, and traps (so the report shows a
//! fault) when the host's 1.4.0 imports disagree with it:
//! - `venue-feed.before`: one entry per event; for a book delta, the order
//!   as its own book held it just before the delta; `none` for the rest;
//! - `market.queue`: after each batch, the queue at the best bid and the
//!   best ask of the host's book is its own, order for order;
//! - `venue-feed.watch`: after its `off_at`-th `on_market` call (config,
//!   default 0: never) it asks for no instrument's adds, modifies and
//!   cancels, and from then on traps on any it is handed outside a clear's
//!   exchange event (a clear and the rest of its event still come).
//!
//! Every 200 calls it logs (as a warning, so a test sees it) what it
//! checked. It refuses every order.

use std::collections::{BTreeMap, BTreeSet};

use tradsys_sdk::book::{OrderBook, Side as BookSide};
use tradsys_sdk::host::{self, LogLevel, Resting};
use tradsys_sdk::{
    BookAction, BookDepth, BookFlags, Config, MarketEvent, Matcher, OrderCommand, OrderEvent, Side,
};

/// The matcher; see the crate docs.
#[derive(Default)]
pub struct FeedMirror {
    books: BTreeMap<u32, OrderBook>,
    off_at: u64,
    off: BTreeSet<u32>,
    calls: u64,
    deltas: u64,
    resting_before: u64,
    queues: u64,
    fills_while_off: u64,
    /// Inside a clear's exchange event, which always comes whole.
    clearing: bool,
}

fn side(side: BookSide) -> Side {
    match side {
        BookSide::Buy => Side::Buy,
        BookSide::Sell => Side::Sell,
    }
}

fn book_side(side: Side) -> BookSide {
    match side {
        Side::Buy => BookSide::Buy,
        Side::Sell => BookSide::Sell,
    }
}

impl FeedMirror {
    /// The host's queue at each side's best level is this book's.
    fn check_queues(&mut self, instrument: u32) {
        let book = &self.books[&instrument];
        for (s, level) in [(Side::Buy, book.best_bid()), (Side::Sell, book.best_ask())] {
            let Some(level) = level else { continue };
            let mine: Vec<(u64, i64)> = book.orders_at(book_side(s), level.price);
            let host: Vec<(u64, i64)> = host::queue(instrument, s, level.price)
                .into_iter()
                .map(|q| (q.order_id, q.size))
                .collect();
            assert_eq!(
                host, mine,
                "instrument {instrument}: the host's queue at {s:?} {} is not the feed's",
                level.price
            );
            self.queues += 1;
        }
    }
}

impl Matcher for FeedMirror {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&["off_at"])?;
        Ok(Self {
            off_at: config.parse_or("off_at", 0u64)?,
            ..Self::default()
        })
    }

    fn execute(&mut self, commands: &[OrderCommand], reports: &mut Vec<OrderEvent>) {
        for command in commands {
            reports.push(command.refused(host::now(), "feed-mirror refuses every order"));
        }
    }

    fn on_market(&mut self, events: &[MarketEvent], _reports: &mut Vec<OrderEvent>) {
        let before = host::before();
        assert_eq!(before.len(), events.len(), "one `before` entry per event");
        let mut touched = BTreeSet::new();
        for (event, prior) in events.iter().zip(before) {
            let MarketEvent::BookDelta(d) = event else {
                assert!(prior.is_none(), "a `before` entry for {event:?}");
                continue;
            };
            if self.off.contains(&d.instrument) {
                self.clearing |= d.action == BookAction::Clear;
                assert!(
                    self.clearing || d.action == BookAction::Fill,
                    "handed a delta of instrument {} it asked none of: {d:?}",
                    d.instrument
                );
                self.fills_while_off += u64::from(d.action == BookAction::Fill);
                if d.flags.contains(BookFlags::LAST) {
                    self.clearing = false;
                }
                continue;
            }
            let book = self.books.entry(d.instrument).or_default();
            let mine = book.order(d.order_id).map(|o| Resting {
                side: side(o.side),
                price: o.price,
                size: o.size,
            });
            let seen = |r: &Option<Resting>| r.as_ref().map(|r| (r.side, r.price, r.size));
            assert_eq!(seen(&prior), seen(&mine), "`before` of {d:?}");
            self.deltas += 1;
            self.resting_before += u64::from(mine.is_some());
            match d.action {
                BookAction::Add => book.add(d.order_id, book_side(d.side), d.price, d.size),
                BookAction::Modify => book.modify(d.order_id, book_side(d.side), d.price, d.size),
                BookAction::Cancel => {
                    book.cancel(d.order_id, d.size);
                }
                BookAction::Clear => book.clear(),
                BookAction::Fill => {}
            }
            touched.insert(d.instrument);
        }
        for instrument in touched {
            self.check_queues(instrument);
        }
        self.calls += 1;
        if self.calls == self.off_at {
            for &instrument in self.books.keys() {
                host::watch(instrument, (None, None, true));
                self.off.insert(instrument);
            }
        }
        if self.calls.is_multiple_of(200) {
            host::log(
                LogLevel::Warn,
                &format!(
                    "checked: {} deltas ({} resting before), {} queues; off: {} instruments, \
                     {} fills handed",
                    self.deltas,
                    self.resting_before,
                    self.queues,
                    self.off.len(),
                    self.fills_while_off
                ),
            );
        }
    }

    /// The host's book, which its own matches (it checks the queues).
    fn depth(&self, instrument: u32, levels: u32) -> BookDepth {
        host::depth(instrument, levels)
    }

    fn save_state(&self) -> Vec<u8> {
        Vec::new()
    }

    fn load_state(&mut self, _state: &[u8]) -> Result<(), String> {
        Err("feed-mirror keeps no state".into())
    }
}

tradsys_sdk::export_matcher!(FeedMirror);
