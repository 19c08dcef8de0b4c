//! Market state the host keeps: interned instruments, last prices, trading
//! status, and the feed's order books (shared with the `market` import).
//!
//! From book data (deltas or depth snapshots) the host derives the touch:
//! whenever the best bid or ask of a book changed at a consistent point (a
//! delta flagged `last`, or a snapshot) and the book is neither one-sided
//! nor crossed, a quote follows in the batch, so strategies (and matchers)
//! written for quotes work on book data too.

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;

use tradsys_book::{Books, Detail, Level, OrderBook, Side as BookSide};

use crate::bindings::RestingBefore;
use crate::bindings::types::{
    BookAction, BookDelta, BookFlags, DepthSnapshot, InstrumentDefinition, LastPrice, MarketEvent,
    Quote, Side, TradingStatus,
};
use crate::config::{LateEvents, MarketSettings};
use crate::engine::SharedBooks;
use crate::sandbox::texts::MAX_SYMBOL_BYTES;
use crate::trading::events::{event_instrument, event_ts};
use crate::trading::sanity;

/// Instruments interned by symbol, and the last price of each.
#[derive(Debug, Default)]
pub struct Market {
    books: SharedBooks,
    status: Vec<Option<TradingStatus>>,
    /// The touch last published per instrument: (bid, bid size, ask, ask size).
    touch: Vec<Option<(i64, i64, i64, i64)>>,
    definitions: Vec<InstrumentDefinition>,
    by_symbol: HashMap<String, u32>,
    /// Connector-local id → host id (looked up for every event: a fast hash).
    local: FxHashMap<u32, u32>,
    last: Vec<Option<i64>>,
    /// Connector events dropped by the host's checks, by rule.
    dropped: BTreeMap<&'static str, u64>,
    /// When each instrument opened, and what said so.
    opened: Vec<Option<Open>>,
    /// The time of each instrument's last event.
    latest: Vec<u64>,
    /// What the host accepts of the feed and keeps for it.
    limits: MarketSettings,
    /// Why the stream must stop, once it must.
    stop: Option<String>,
    /// When kept (for a simulated venue that reads them, [`Self::keep_before`]): one entry
    /// per event of the last batch ingested, each book delta's order as it
    /// rested before the delta (the `venue-feed.before` import).
    before: Option<Vec<Option<RestingBefore>>>,
}

/// When an instrument's market opened, and what said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Open {
    /// Market time, ns since the Unix epoch.
    pub ts: u64,
    /// What marked it.
    pub marked_by: OpenedBy,
}

/// What marked an instrument's open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpenedBy {
    /// The feed's status record (`trading`).
    Status,
    /// Its first trade: the feed sent no status records for it.
    FirstTrade,
}

/// Instruments a session keeps at most: a connector defining more has the
/// rest dropped (`too-many-instruments`), so it cannot grow the host without bound.
pub const MAX_INSTRUMENTS: usize = 100_000;

/// Renumber an event to instrument `id` (a definition is left as it is).
fn set_instrument(event: &mut MarketEvent, id: u32) {
    match event {
        MarketEvent::Instrument(_) => {}
        MarketEvent::Quote(q) => q.instrument = id,
        MarketEvent::Trade(t) => t.instrument = id,
        MarketEvent::Bar(b) => b.instrument = id,
        MarketEvent::BookDelta(d) => d.instrument = id,
        MarketEvent::Depth(d) => d.instrument = id,
        MarketEvent::Status(s) => s.instrument = id,
        MarketEvent::Signal(s) => s.instrument = id,
    }
}

/// What one batch changed.
#[derive(Debug, Default)]
pub struct Ingested {
    /// Latest event time in the batch.
    pub latest_ts: Option<u64>,
    /// Events of the feed in the batch (without the quotes derived from books).
    pub feed_events: usize,
}

impl Market {
    /// Market state over `books`, the books plugins read, emptied (a
    /// session starts from no book: an earlier session on the same runtime
    /// leaves none behind), under `limits`.
    pub fn new(books: SharedBooks, limits: MarketSettings) -> Self {
        *books.write() = Books::default();
        Self {
            books,
            limits,
            ..Self::default()
        }
    }

    /// Rewrite a batch in place to host instrument ids, dropping (and
    /// counting, see [`Self::dropped`]) what breaks the host's checks:
    /// events for instruments never defined (`unknown-instrument`), a
    /// definition whose tick, lot or multiplier is not positive
    /// (`bad-definition`), whose symbol is empty or longer than
    /// [`MAX_SYMBOL_BYTES`] (`long-symbol`), a redefinition that changes the
    /// multiplier (`multiplier-changed`: every position was booked with it),
    /// a definition beyond [`MAX_INSTRUMENTS`] (`too-many-instruments`), a
    /// signal (`signal-from-connector`: signals are the processors'), an
    /// event older than the last of its instrument (`time-went-back`; with
    /// `[market] late_events = "stop"` the stream stops, [`Self::stop`]),
    /// what a feed could not have sent (`trading/sanity.rs`), a cancel or
    /// modify of an order the book does not hold (`unknown-order`), a cancel
    /// of more than rests (`cancel-exceeds`); update definitions, last
    /// prices, status and books; and add a quote after each change of a
    /// book's touch. A book past `[market] max_book_orders` or
    /// `max_book_levels` stops the stream.
    pub fn ingest(&mut self, events: &mut Vec<MarketEvent>) -> Ingested {
        let mut out = Ingested::default();
        events.retain_mut(|event| match self.ingest_one(event, &mut out) {
            Ok(()) => true,
            Err((rule, why)) => {
                self.refuse(rule, &why);
                false
            }
        });
        let books = events.iter().any(|e| {
            matches!(
                e,
                MarketEvent::BookDelta(_) | MarketEvent::Depth(_) | MarketEvent::Quote(_)
            )
        });
        let derived = if books {
            self.apply_to_books(events)
        } else {
            if let Some(before) = &mut self.before {
                before.clear();
                before.resize(events.len(), None);
            }
            0
        };
        out.feed_events = events.len() - derived;
        out
    }

    /// Whether to keep, for each batch ingested from now on, what each book
    /// delta's order was before it ([`Self::take_before`]).
    pub fn keep_before(&mut self, keep: bool) {
        match keep {
            true => _ = self.before.get_or_insert_with(Vec::new),
            false => self.before = None,
        }
    }

    /// The last batch's entries for the `venue-feed.before` import, one per
    /// event (empty unless kept); `spent` is the buffer of an earlier call,
    /// reused.
    pub fn take_before(&mut self, spent: Vec<Option<RestingBefore>>) -> Vec<Option<RestingBefore>> {
        match &mut self.before {
            Some(before) => std::mem::replace(before, spent),
            None => Vec::new(),
        }
    }

    /// Count a refused connector event (and say so the first time).
    fn refuse(&mut self, rule: &'static str, why: &str) {
        let count = self.dropped.entry(rule).or_default();
        if *count == 0 {
            tracing::warn!("dropping connector events that break `{rule}` (first: {why})");
        }
        *count += 1;
    }

    /// Why the stream must stop, once it must (`[market] late_events =
    /// "stop"`, a book past its bounds).
    pub fn stop(&self) -> Option<&str> {
        self.stop.as_deref()
    }

    /// Apply a batch's book data to the books, inserting derived quotes (how
    /// many it returns); book deltas the book refutes are dropped, and a book
    /// past its bounds stops the stream.
    fn apply_to_books(&mut self, events: &mut Vec<MarketEvent>) -> usize {
        let books = self.books.clone();
        let mut books = books.write();
        let mut kept = Vec::with_capacity(events.len() + 4);
        let mut derived = 0;
        let mut before = self.before.take();
        if let Some(before) = &mut before {
            before.clear();
        }
        for event in events.drain(..) {
            let (instrument, ts, consistent) = match &event {
                MarketEvent::BookDelta(d) => {
                    let book = books.book_mut(d.instrument);
                    let resting = match self.admit_delta(book, d) {
                        Ok(resting) => resting,
                        Err((rule, why)) => {
                            self.refuse(rule, &why);
                            continue;
                        }
                    };
                    if let Some(before) = &mut before {
                        // A cancel's or a modify's order was looked up to
                        // admit it; another delta's is looked up here.
                        let resting = match d.action {
                            BookAction::Cancel | BookAction::Modify => resting,
                            _ => book.order(d.order_id),
                        };
                        before.resize(kept.len(), None); // none for all but a delta
                        before.push(resting.map(|o| RestingBefore {
                            side: match o.side {
                                BookSide::Buy => Side::Buy,
                                BookSide::Sell => Side::Sell,
                            },
                            price: o.price,
                            size: o.size,
                        }));
                    }
                    apply_delta(book, d);
                    (d.instrument, d.ts, d.flags.contains(BookFlags::LAST))
                }
                MarketEvent::Depth(d) => {
                    apply_depth(books.book_mut(d.instrument), d);
                    (d.instrument, d.ts, true)
                }
                MarketEvent::Quote(q) => {
                    let side = |price, size| (size > 0).then_some((price, size));
                    books
                        .book_mut(q.instrument)
                        .set_top(side(q.bid_price, q.bid_size), side(q.ask_price, q.ask_size));
                    let touch = (q.bid_price, q.bid_size, q.ask_price, q.ask_size);
                    self.touch_slot(q.instrument).replace(touch);
                    kept.push(event);
                    continue;
                }
                _ => {
                    kept.push(event);
                    continue;
                }
            };
            kept.push(event);
            if consistent && let Some(quote) = self.touch_changed(&books, instrument, ts) {
                self.note_quote(&quote);
                kept.push(MarketEvent::Quote(quote));
                derived += 1;
            }
        }
        if let Some(before) = &mut before {
            before.resize(kept.len(), None);
        }
        *events = kept;
        self.before = before;
        derived
    }

    /// Whether `book` can take delta `d`: a cancel or modify of an order it
    /// holds (a fill of one it does not is the aggressor's), a cancel of no
    /// more than rests, a book within `[market]`'s bounds. Returns the order
    /// a cancel or a modify names, as it rests.
    fn admit_delta(
        &mut self,
        book: &OrderBook,
        d: &BookDelta,
    ) -> Result<Option<tradsys_book::Order>, sanity::Refusal> {
        if book.detail() != Detail::Orders && book.detail() != Detail::Empty {
            return Ok(None); // the book of levels or quotes ignores deltas
        }
        // Only a cancel or a modify looks its order up (the hot path: once
        // per delta of a book by order).
        let resting = match d.action {
            BookAction::Cancel | BookAction::Modify => book.order(d.order_id),
            _ => None,
        };
        match d.action {
            BookAction::Cancel | BookAction::Modify if resting.is_none() => Err((
                "unknown-order",
                format!("order {} is not resting", d.order_id),
            )),
            BookAction::Cancel if resting.is_some_and(|o| d.size > o.size) => Err((
                "cancel-exceeds",
                format!(
                    "a cancel of {} from order {} resting {}",
                    d.size,
                    d.order_id,
                    resting.map_or(0, |o| o.size)
                ),
            )),
            BookAction::Add | BookAction::Modify => {
                let symbol = &self.definitions[d.instrument as usize].symbol;
                let orders = book.resting_orders();
                let levels = book.level_count();
                if d.action == BookAction::Add && orders >= self.limits.max_book_orders {
                    self.stop.get_or_insert_with(|| {
                        format!(
                            "the book of {symbol} holds {orders} resting orders, the most \
                             [market] max_book_orders allows"
                        )
                    });
                    return Err(("book-full", format!("{symbol}: {orders} orders")));
                }
                // The level is looked up only when the book is at its bound.
                let full = levels >= self.limits.max_book_levels;
                if full && book.level(book_side(d.side), d.price).is_none() {
                    self.stop.get_or_insert_with(|| {
                        format!(
                            "the book of {symbol} holds {levels} price levels, the most \
                             [market] max_book_levels allows"
                        )
                    });
                    return Err(("book-full", format!("{symbol}: {levels} levels")));
                }
                Ok(resting)
            }
            _ => Ok(resting),
        }
    }

    fn touch_slot(&mut self, instrument: u32) -> &mut Option<(i64, i64, i64, i64)> {
        let i = instrument as usize;
        if i >= self.touch.len() {
            self.touch.resize(i + 1, None);
        }
        &mut self.touch[i]
    }

    /// The quote of a book's touch when it differs from the last published
    /// one and is two-sided and not crossed.
    fn touch_changed(&mut self, books: &Books, instrument: u32, ts: u64) -> Option<Quote> {
        let book = books.get(instrument)?;
        let (bid, ask) = (book.best_bid()?, book.best_ask()?);
        if bid.price >= ask.price {
            return None;
        }
        let touch = (bid.price, bid.size, ask.price, ask.size);
        let slot = self.touch_slot(instrument);
        if *slot == Some(touch) {
            return None;
        }
        *slot = Some(touch);
        Some(Quote {
            instrument,
            ts,
            bid_price: bid.price,
            bid_size: bid.size,
            ask_price: ask.price,
            ask_size: ask.size,
        })
    }

    /// A derived quote sets the last price.
    fn note_quote(&mut self, q: &Quote) {
        if let Some(last) = self.last.get_mut(q.instrument as usize) {
            *last = Some(mid(q));
        }
    }

    fn ingest_one(
        &mut self,
        event: &mut MarketEvent,
        out: &mut Ingested,
    ) -> Result<(), sanity::Refusal> {
        if let MarketEvent::Instrument(def) = event {
            return self.define(def);
        }
        if let MarketEvent::Signal(s) = event {
            let why = format!("signal {} of instrument {}", s.name, s.instrument);
            return Err(("signal-from-connector", why));
        }
        let local = event_instrument(event).expect("a data event names its instrument");
        let Some(id) = self.local.get(&local).copied() else {
            let why = format!("no definition of the connector's instrument {local}");
            return Err(("unknown-instrument", why));
        };
        set_instrument(event, id);
        let ts = event_ts(event).expect("a data event is stamped");
        sanity::event(event, self.negative_ok(id))?;
        let latest = &mut self.latest[id as usize];
        if ts < *latest {
            let symbol = &self.definitions[id as usize].symbol;
            let why = format!("an event of {symbol} at {ts}, after one at {latest}");
            if self.limits.late_events == LateEvents::Stop {
                self.stop
                    .get_or_insert_with(|| format!("the feed's time went back: {why}"));
            }
            return Err(("time-went-back", why));
        }
        *latest = ts;
        match event {
            MarketEvent::Quote(q) => self.last[id as usize] = Some(mid(q)),
            MarketEvent::Trade(t) => {
                self.last[id as usize] = Some(t.price);
                self.traded(id, t.ts);
            }
            MarketEvent::Bar(b) => self.last[id as usize] = Some(b.close),
            MarketEvent::BookDelta(d) if d.action == BookAction::Fill => {
                self.last[id as usize] = Some(d.price);
                self.traded(id, d.ts);
            }
            MarketEvent::Status(s) => {
                let i = id as usize;
                if i >= self.status.len() {
                    self.status.resize(i + 1, None);
                }
                self.status[i] = Some(s.status);
                if s.status == TradingStatus::Trading {
                    self.open_slot(id).get_or_insert(Open {
                        ts: s.ts,
                        marked_by: OpenedBy::Status,
                    });
                }
            }
            _ => {}
        }
        out.latest_ts = Some(out.latest_ts.map_or(ts, |t| t.max(ts)));
        Ok(())
    }

    /// An instrument's definition: interned, or refused by rule.
    fn define(&mut self, def: &mut InstrumentDefinition) -> Result<(), sanity::Refusal> {
        if def.tick_size <= 0 || def.lot_size <= 0 || def.multiplier <= 0 {
            return Err(("bad-definition", format!("{def:?}")));
        }
        if def.symbol.is_empty() || def.symbol.len() > MAX_SYMBOL_BYTES {
            let why = format!(
                "a symbol of {} bytes (at most {MAX_SYMBOL_BYTES})",
                def.symbol.len()
            );
            return Err(("long-symbol", why));
        }
        if let Some(old) = self.by_symbol.get(&def.symbol)
            && self.definitions[*old as usize].multiplier != def.multiplier
        {
            let was = self.definitions[*old as usize].multiplier;
            let why = format!("{} from {was} to {}", def.symbol, def.multiplier);
            return Err(("multiplier-changed", why));
        }
        if !self.by_symbol.contains_key(&def.symbol) && self.definitions.len() >= MAX_INSTRUMENTS {
            let why = format!("{} beyond {MAX_INSTRUMENTS} instruments", def.symbol);
            return Err(("too-many-instruments", why));
        }
        let id = self.intern(def);
        def.id = id;
        Ok(())
    }

    /// Whether instrument `id`'s prices may be zero or negative.
    fn negative_ok(&self, id: u32) -> bool {
        !self.limits.negative_prices.is_empty()
            && self
                .limits
                .negative_prices
                .contains(&self.definitions[id as usize].symbol)
    }

    fn open_slot(&mut self, instrument: u32) -> &mut Option<Open> {
        let i = instrument as usize;
        if i >= self.opened.len() {
            self.opened.resize(i + 1, None);
        }
        &mut self.opened[i]
    }

    /// A trade of `instrument` at `ts`: without status records, the first
    /// one marks the open.
    fn traded(&mut self, instrument: u32, ts: u64) {
        if self.status(instrument).is_none() {
            self.open_slot(instrument).get_or_insert(Open {
                ts,
                marked_by: OpenedBy::FirstTrade,
            });
        }
    }

    /// When `instrument`'s market opened, if it did.
    pub fn opened(&self, instrument: u32) -> Option<Open> {
        self.opened.get(instrument as usize).copied().flatten()
    }

    /// Connector events dropped by the host's checks, by rule.
    pub fn dropped(&self) -> &BTreeMap<&'static str, u64> {
        &self.dropped
    }

    fn intern(&mut self, def: &InstrumentDefinition) -> u32 {
        let id = match self.by_symbol.get(&def.symbol) {
            Some(id) => *id,
            None => {
                let id = self.definitions.len() as u32;
                self.by_symbol.insert(def.symbol.clone(), id);
                self.definitions.push(def.clone());
                self.last.push(None);
                self.latest.push(0);
                id
            }
        };
        self.local.insert(def.id, id);
        self.definitions[id as usize] = InstrumentDefinition { id, ..def.clone() };
        id
    }

    /// Definition of host instrument `id`.
    pub fn definition(&self, id: u32) -> Option<&InstrumentDefinition> {
        self.definitions.get(id as usize)
    }

    /// The host id of the instrument the feed defined as `symbol`.
    pub(crate) fn instrument(&self, symbol: &str) -> Option<u32> {
        self.by_symbol.get(symbol).copied()
    }

    /// Every definition, by host id.
    pub fn definitions(&self) -> &[InstrumentDefinition] {
        &self.definitions
    }

    /// Last price of `id` (last trade or bar close, else quote mid).
    pub fn last_price(&self, id: u32) -> Option<i64> {
        self.last.get(id as usize).copied().flatten()
    }

    /// The trading status the feed last gave `id`, if it gave one.
    pub fn status(&self, id: u32) -> Option<TradingStatus> {
        self.status.get(id as usize).copied().flatten()
    }

    /// The books (read them with `.read()`).
    pub fn books(&self) -> &SharedBooks {
        &self.books
    }

    /// The feed's quantity resting at `price` on `side` of `instrument`'s
    /// book (0 when nothing rests there); `None` without a book.
    pub fn resting_at(&self, instrument: u32, side: Side, price: i64) -> Option<i64> {
        let books = self.books.read();
        let book = books.get(instrument)?;
        if book.detail() == Detail::Empty {
            return None;
        }
        Some(book.level(book_side(side), price).map_or(0, |l| l.size))
    }

    /// Last prices of every instrument that has one.
    pub fn last_prices(&self) -> Vec<LastPrice> {
        (0..self.last.len() as u32)
            .filter_map(|id| {
                Some(LastPrice {
                    instrument: id,
                    price: self.last_price(id)?,
                })
            })
            .collect()
    }
}

fn mid(q: &Quote) -> i64 {
    q.bid_price / 2 + q.ask_price / 2 + (q.bid_price % 2 + q.ask_price % 2) / 2
}

fn book_side(side: Side) -> BookSide {
    match side {
        Side::Buy => BookSide::Buy,
        Side::Sell => BookSide::Sell,
    }
}

fn apply_delta(book: &mut OrderBook, d: &BookDelta) {
    let side = book_side(d.side);
    match d.action {
        BookAction::Add => book.add(d.order_id, side, d.price, d.size),
        BookAction::Modify => book.modify(d.order_id, side, d.price, d.size),
        BookAction::Cancel => {
            book.cancel(d.order_id, d.size);
        }
        BookAction::Clear => book.clear(),
        // A fill changes nothing: the cancel or modify that follows does.
        BookAction::Fill => {}
    }
}

fn apply_depth(book: &mut OrderBook, d: &DepthSnapshot) {
    let levels = |levels: &[crate::bindings::types::DepthLevel]| -> Vec<Level> {
        levels
            .iter()
            .map(|l| Level {
                price: l.price,
                size: l.quantity,
                orders: l.orders,
            })
            .collect()
    };
    book.replace_levels(&levels(&d.bids), &levels(&d.asks));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_session_starts_from_empty_books() {
        let books = SharedBooks::default();
        books.write().book_mut(0).add(1, BookSide::Buy, 100, 1);
        let _market = Market::new(books.clone(), MarketSettings::default());
        assert!(books.read().get(0).is_none());
    }
}
