//! Exchange events as the host keeps them whole: a batch never ends inside
//! one (`WholeGroups`), and the accessors of an event's time and instrument.

use crate::bindings::types::{BookFlags, MarketEvent};

/// Holds back the tail of a batch that ends inside an exchange event (a
/// group of records up to the one flagged `last`), so the books, the venue
/// and the strategies never see an event half-applied: an event is
/// delivered whole, with the next batch, however many batches the
/// connector needed for it (a snapshot may be thousands of deltas).
///
/// A book delta or (from a 1.3 connector on) a trade opens an event unless
/// it is flagged `last`, and the record flagged `last` closes it: a
/// market-by-order trade record opens the event its fills and book changes
/// belong to. An older connector's trades carry no flags: they do not open
/// an event (nor close one). Any other event (a quote, a depth snapshot, a
/// bar, a status, a definition) stands alone and ends nothing.
#[derive(Debug, Default)]
pub struct WholeGroups {
    held: Vec<MarketEvent>,
    /// Whether the held events end inside an event.
    open: bool,
}

/// Events held beyond which a group is delivered unfinished (with a warning):
/// a feed that never flags `last` must not grow the host without bound.
pub const MAX_HELD_EVENTS: usize = 1 << 20;

/// Whether a group is open after `event`, given whether one was before it.
/// `trades_flagged`: the connector's trades carry flags (1.3.0 and later).
pub fn open_after(event: &MarketEvent, open: bool, trades_flagged: bool) -> bool {
    match event {
        MarketEvent::BookDelta(d) => !d.flags.contains(BookFlags::LAST),
        MarketEvent::Trade(t) if trades_flagged => !t.flags.contains(BookFlags::LAST),
        _ => open,
    }
}

/// When an event happened (none for a definition).
pub fn event_ts(event: &MarketEvent) -> Option<u64> {
    Some(match event {
        MarketEvent::Instrument(_) => return None,
        MarketEvent::Quote(q) => q.ts,
        MarketEvent::Trade(t) => t.ts,
        MarketEvent::Bar(b) => b.ts,
        MarketEvent::BookDelta(d) => d.ts,
        MarketEvent::Depth(d) => d.ts,
        MarketEvent::Status(s) => s.ts,
        MarketEvent::Signal(s) => s.ts,
    })
}

/// The instrument an event is about (none for a definition).
pub fn event_instrument(event: &MarketEvent) -> Option<u32> {
    Some(match event {
        MarketEvent::Instrument(_) => return None,
        MarketEvent::Quote(q) => q.instrument,
        MarketEvent::Trade(t) => t.instrument,
        MarketEvent::Bar(b) => b.instrument,
        MarketEvent::BookDelta(d) => d.instrument,
        MarketEvent::Depth(d) => d.instrument,
        MarketEvent::Status(s) => s.instrument,
        MarketEvent::Signal(s) => s.instrument,
    })
}

impl WholeGroups {
    /// Events held back.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// What was held and `batch`, up to the end of the last whole event; the
    /// rest is held. `trades_flagged`: see [`open_after`].
    pub fn complete(&mut self, batch: Vec<MarketEvent>, trades_flagged: bool) -> Vec<MarketEvent> {
        let start = self.held.len();
        self.held.extend(batch);
        // The end of the last whole event: after a record flagged `last`,
        // or after any event outside an event.
        let mut open = self.open;
        let mut end = if open { 0 } else { start };
        for (i, event) in self.held.iter().enumerate().skip(start) {
            open = open_after(event, open, trades_flagged);
            if !open {
                end = i + 1;
            }
        }
        self.open = open;
        if end == 0 {
            if self.held.len() < MAX_HELD_EVENTS {
                return Vec::new();
            }
            tracing::warn!(
                held = self.held.len(),
                "the feed never ended an exchange event (no `last` flag); delivering it unfinished"
            );
            self.open = false;
            return self.flush();
        }
        let tail = self.held.split_off(end);
        std::mem::replace(&mut self.held, tail)
    }

    /// Everything held (at the end of the stream).
    pub fn flush(&mut self) -> Vec<MarketEvent> {
        self.open = false;
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::types::{BookAction, BookDelta, Quote, Side, Trade};

    fn delta(last: bool) -> MarketEvent {
        MarketEvent::BookDelta(BookDelta {
            instrument: 0,
            ts: 1,
            action: BookAction::Add,
            side: Side::Buy,
            price: 1,
            size: 1,
            order_id: 1,
            flags: if last {
                BookFlags::LAST
            } else {
                BookFlags::empty()
            },
        })
    }

    fn trade(last: bool) -> MarketEvent {
        MarketEvent::Trade(Trade {
            instrument: 0,
            ts: 1,
            price: 1,
            size: 1,
            aggressor: None,
            flags: if last {
                BookFlags::LAST
            } else {
                BookFlags::empty()
            },
        })
    }

    fn quote() -> MarketEvent {
        MarketEvent::Quote(Quote {
            instrument: 0,
            ts: 1,
            bid_price: 1,
            bid_size: 1,
            ask_price: 2,
            ask_size: 1,
        })
    }

    #[test]
    fn a_group_is_delivered_whole_however_many_batches_carry_it() {
        let mut groups = WholeGroups::default();
        // A trade, then a group cut by the batch end (a trade inside it).
        let out = groups.complete(vec![trade(true), delta(false), trade(false)], true);
        assert_eq!(out.len(), 1, "only the trade before the group");
        assert_eq!(groups.held(), 2);
        assert!(
            groups.complete(vec![delta(false)], true).is_empty(),
            "still open"
        );
        let out = groups.complete(vec![delta(true), delta(false)], true);
        assert_eq!(out.len(), 4, "the whole group, its trade included");
        assert_eq!(groups.held(), 1);
        assert_eq!(
            groups.flush().len(),
            1,
            "the stream's end delivers the rest"
        );
        assert_eq!(
            groups.complete(vec![delta(true), trade(true)], true).len(),
            2
        );
    }

    #[test]
    fn a_trade_that_opens_an_event_keeps_its_fills_with_it_at_every_batch_size() {
        // One exchange event: the trade record, a fill, the cancel flagged
        // last; then a quote that stands alone.
        let event = [trade(false), delta(false), delta(true), quote()];
        for size in 1..=event.len() {
            let mut groups = WholeGroups::default();
            let mut delivered: Vec<usize> = Vec::new();
            for batch in event.chunks(size) {
                let out = groups.complete(batch.to_vec(), true);
                if !out.is_empty() {
                    delivered.push(out.len());
                }
            }
            assert_eq!(groups.held(), 0, "batch size {size}");
            assert!(
                delivered[0] >= 3,
                "batch size {size}: the first delivery holds the whole event: {delivered:?}"
            );
        }
        // An older connector's trades (no flags) open nothing: the trade
        // alone is delivered at once, as before 1.3.
        let mut groups = WholeGroups::default();
        assert_eq!(groups.complete(vec![trade(false)], false).len(), 1);
        // ... and do not close a group around them.
        assert!(
            groups
                .complete(vec![delta(false), trade(true)], false)
                .is_empty()
        );
        assert_eq!(groups.complete(vec![delta(true)], false).len(), 3);
    }
}
