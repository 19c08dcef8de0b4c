//! The market by order (`book = "orders"`): each instrument's touch, as the
//! walk sets it, is kept by resting orders with ids, added, cancelled (in
//! part or in full) and traded FIFO, as a Databento MBO feed tells it: a
//! trade prints, each resting order it reached gets a `fill` record, then a
//! cancel that takes the filled size off the book. The last delta of a step
//! carries `last`.

use std::collections::{BTreeMap, VecDeque};

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{BookAction, BookDelta, BookFlags, MarketEvent, Side, Trade, fixed};

use crate::Rng;

/// Levels kept on each side of the touch.
pub const DEPTH: i64 = 5;

/// One side of a book: FIFO queues of (order id, size) by price.
type Queues = BTreeMap<i64, VecDeque<(u64, i64)>>;

/// The resting orders of one instrument.
#[derive(Debug, Clone, Default)]
pub struct Book {
    bids: Queues,
    asks: Queues,
}

/// Every instrument's book and the next order id.
#[derive(Debug, Clone, Default)]
pub struct OrderFeed {
    pub books: Vec<Book>,
    pub next_id: u64,
}

/// What one step asks of the book.
pub struct Step {
    pub instrument: u32,
    pub ts: u64,
    pub bid: i64,
    pub ask: i64,
    pub tick: i64,
    /// The aggressor's side and the size it wants, if the step trades.
    pub trade: Option<(Side, i64)>,
}

impl OrderFeed {
    /// Books for `instruments` instruments, empty.
    pub fn new(instruments: usize) -> Self {
        Self {
            books: vec![Book::default(); instruments],
            next_id: 1,
        }
    }

    /// The deltas (and trade) of one step, appended to `out`. Returns the
    /// trade printed, if any: (price, size).
    pub fn step(
        &mut self,
        s: &Step,
        rng: &mut Rng,
        out: &mut VecDeque<MarketEvent>,
    ) -> Option<(i64, i64)> {
        let mut events = Vec::new();
        let next_id = &mut self.next_id;
        let book = &mut self.books[s.instrument as usize];
        let delta = |action, side, price, size, id| {
            MarketEvent::BookDelta(BookDelta {
                instrument: s.instrument,
                ts: s.ts,
                action,
                side,
                price,
                size,
                order_id: id,
                flags: BookFlags::empty(),
            })
        };
        // The touch moved: orders that would cross it leave; so do levels
        // beyond the depth kept.
        let keep = |side: Side, price: i64| match side {
            Side::Buy => price <= s.bid && price > s.bid - DEPTH * s.tick,
            Side::Sell => price >= s.ask && price < s.ask + DEPTH * s.tick,
        };
        for (side, queues) in [(Side::Buy, &mut book.bids), (Side::Sell, &mut book.asks)] {
            let gone: Vec<i64> = queues.keys().copied().filter(|p| !keep(side, *p)).collect();
            for price in gone {
                for (id, size) in queues.remove(&price).unwrap_or_default() {
                    events.push(delta(BookAction::Cancel, side, price, size, id));
                }
            }
            // Every level within the depth holds one to three orders.
            for k in 0..DEPTH {
                let price = match side {
                    Side::Buy => s.bid - k * s.tick,
                    Side::Sell => s.ask + k * s.tick,
                };
                if price <= 0 {
                    continue;
                }
                let queue = queues.entry(price).or_default();
                while queue.len() < 1 + rng.below(3) as usize {
                    let size = fixed::from_units(rng.range(1, 400));
                    let id = *next_id;
                    *next_id += 1;
                    queue.push_back((id, size));
                    events.push(delta(BookAction::Add, side, price, size, id));
                }
            }
            // Churn: now and then an order leaves, in part or in full.
            if rng.below(100) < 30 {
                let levels: Vec<i64> = queues.keys().copied().collect();
                let price = levels[rng.below(levels.len() as u64) as usize];
                let queue = queues.get_mut(&price).expect("a level");
                let at = rng.below(queue.len() as u64) as usize;
                let (id, size) = queue[at];
                let cut = if rng.below(2) == 0 {
                    size
                } else {
                    (size / 2).max(1)
                };
                events.push(delta(BookAction::Cancel, side, price, cut, id));
                if cut == size {
                    queue.remove(at);
                    if queue.is_empty() {
                        queues.remove(&price);
                    }
                } else {
                    queue[at].1 -= cut;
                }
            }
        }
        // A trade takes the best level of the other side, oldest order first.
        let mut printed = None;
        if let Some((aggressor, wanted)) = s.trade {
            let (resting, queues) = match aggressor {
                Side::Buy => (Side::Sell, &mut book.asks),
                Side::Sell => (Side::Buy, &mut book.bids),
            };
            let best = match resting {
                Side::Sell => queues.keys().next().copied(),
                Side::Buy => queues.keys().next_back().copied(),
            };
            if let Some(price) = best {
                let queue = queues.get_mut(&price).expect("the best level");
                let size = wanted.min(queue.iter().map(|(_, q)| q).sum());
                // The trade opens its event: the fills and cancels follow,
                // the last of them flagged `last`.
                events.push(MarketEvent::Trade(Trade {
                    instrument: s.instrument,
                    ts: s.ts,
                    price,
                    size,
                    aggressor: Some(aggressor),
                    flags: BookFlags::empty(),
                }));
                let mut left = size;
                while left > 0 {
                    let (id, q) = queue.front_mut().expect("size is what rests");
                    let take = left.min(*q);
                    let id = *id;
                    events.push(delta(BookAction::Fill, resting, price, take, id));
                    events.push(delta(BookAction::Cancel, resting, price, take, id));
                    *q -= take;
                    left -= take;
                    if *q == 0 {
                        queue.pop_front();
                    }
                }
                if queue.is_empty() {
                    queues.remove(&price);
                }
                printed = Some((price, size));
            }
        }
        if let Some(MarketEvent::BookDelta(last)) = events
            .iter_mut()
            .rev()
            .find(|e| matches!(e, MarketEvent::BookDelta(_)))
        {
            last.flags = BookFlags::LAST;
        }
        out.extend(events);
        printed
    }

    /// Append the books to a state.
    pub fn save(&self, w: &mut StateWriter) {
        w.u64(self.next_id).u32(self.books.len() as u32);
        for book in &self.books {
            for queues in [&book.bids, &book.asks] {
                w.u32(queues.len() as u32);
                for (price, queue) in queues {
                    w.i64(*price).u32(queue.len() as u32);
                    for (id, size) in queue {
                        w.u64(*id).i64(*size);
                    }
                }
            }
        }
    }

    /// The books saved by [`save`](Self::save).
    pub fn load(r: &mut StateReader<'_>) -> Result<Self, String> {
        let next_id = r.u64()?;
        let mut books = Vec::new();
        for _ in 0..r.u32()? {
            let mut book = Book::default();
            for queues in [&mut book.bids, &mut book.asks] {
                for _ in 0..r.u32()? {
                    let price = r.i64()?;
                    let mut queue = VecDeque::new();
                    for _ in 0..r.u32()? {
                        queue.push_back((r.u64()?, r.i64()?));
                    }
                    queues.insert(price, queue);
                }
            }
            books.push(book);
        }
        Ok(Self { books, next_id })
    }
}
