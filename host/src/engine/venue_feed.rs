//! The matcher's `venue-feed` import (1.4.0): what a simulated venue may
//! ask of the host about the feed it is handed, kept per store. The session
//! sets each batch's `before` around the matcher's `on-market` call, and
//! leaves out of that call what the matcher did not ask for: the adds,
//! modifies and cancels outside its price bands, and the trades, fills and
//! quotes of an instrument it asked none of (a batch with nothing left is
//! not handed). A fresh store hands every event.

use crate::bindings::types::{BookAction, BookDelta, BookFlags, MarketEvent, Side};
use crate::bindings::{PriceBand, RestingBefore, VenueFeedImports};
use crate::engine::HostState;

/// What one instrument asked for: the bids' band, the asks' (`None`: no
/// delta of the side), and whether its trades, fills and quotes.
type Bands = (Option<(i64, i64)>, Option<(i64, i64)>, bool);

/// One matcher instance's side of the `venue-feed` import.
#[derive(Debug, Default)]
pub struct VenueFeed {
    /// For the `on-market` call under way: one entry per event handed.
    before: Vec<Option<RestingBefore>>,
    /// The bands each instrument asked for, by instrument; one not here
    /// gets every delta.
    bands: Vec<(u32, Bands)>,
}

impl VenueFeed {
    /// The entries `before` answers during the next `on-market` call.
    pub fn set_before(&mut self, before: Vec<Option<RestingBefore>>) {
        self.before = before;
    }

    /// After the call: `before` answers nothing; the buffer is handed back
    /// for the next batch.
    pub fn take_before(&mut self) -> Vec<Option<RestingBefore>> {
        std::mem::take(&mut self.before)
    }

    /// Whether any instrument asked for less than every delta.
    pub fn any_banded(&self) -> bool {
        !self.bands.is_empty()
    }

    /// What `instrument` asked for, if it asked.
    fn asked(&self, instrument: u32) -> Option<&Bands> {
        let i = self
            .bands
            .binary_search_by_key(&instrument, |(i, _)| *i)
            .ok()?;
        Some(&self.bands[i].1)
    }

    /// Whether a delta of `instrument` on `side` at `price` is within what
    /// the matcher asked for.
    fn wanted(&self, instrument: u32, side: Side, price: i64) -> bool {
        let Some(&(bids, asks, _)) = self.asked(instrument) else {
            return true;
        };
        let band = match side {
            Side::Buy => bids,
            Side::Sell => asks,
        };
        band.is_some_and(|(low, high)| low <= price && price <= high)
    }

    /// Whether `instrument`'s trades, fills and quotes are asked for.
    fn trades(&self, instrument: u32) -> bool {
        self.asked(instrument).is_none_or(|&(_, _, trades)| trades)
    }

    /// Which of `events` to hand (their `before` entries alongside): every
    /// one but the adds, modifies and cancels outside the bands, and the
    /// trades, fills and quotes of an instrument that asked none; a clear
    /// and the rest of its exchange event always.
    pub fn hands(&self, events: &[MarketEvent], before: &[Option<RestingBefore>]) -> Vec<bool> {
        let mut clearing: Vec<u32> = Vec::new();
        events
            .iter()
            .enumerate()
            .map(|(i, event)| {
                let MarketEvent::BookDelta(d) = event else {
                    let traded = |i: u32| clearing.contains(&i) || self.trades(i);
                    return match event {
                        MarketEvent::Trade(t) => {
                            let hand = traded(t.instrument);
                            if t.flags.contains(BookFlags::LAST) {
                                clearing.retain(|c| *c != t.instrument);
                            }
                            hand
                        }
                        MarketEvent::Quote(q) => traded(q.instrument),
                        _ => true,
                    };
                };
                let prior = before.get(i).and_then(Option::as_ref);
                let hand = self.hands_delta(d, prior, &mut clearing);
                if d.flags.contains(BookFlags::LAST) {
                    clearing.retain(|c| *c != d.instrument);
                }
                hand
            })
            .collect()
    }

    fn hands_delta(
        &self,
        d: &BookDelta,
        prior: Option<&RestingBefore>,
        clearing: &mut Vec<u32>,
    ) -> bool {
        match d.action {
            BookAction::Fill => clearing.contains(&d.instrument) || self.trades(d.instrument),
            BookAction::Clear => {
                if !clearing.contains(&d.instrument) {
                    clearing.push(d.instrument);
                }
                true
            }
            BookAction::Add | BookAction::Modify | BookAction::Cancel => {
                clearing.contains(&d.instrument)
                    || self.wanted(d.instrument, d.side, d.price)
                    || prior.is_some_and(|p| self.wanted(d.instrument, p.side, p.price))
            }
        }
    }
}

impl VenueFeedImports for HostState {
    fn before(&mut self) -> Vec<Option<RestingBefore>> {
        self.venue_feed.before.clone()
    }

    fn watch(
        &mut self,
        instrument: u32,
        bids: Option<PriceBand>,
        asks: Option<PriceBand>,
        trades: bool,
    ) {
        let band = |b: Option<PriceBand>| b.map(|b| (b.low, b.high));
        self.venue_feed
            .ask(instrument, (band(bids), band(asks), trades));
    }
}

impl VenueFeed {
    /// What of `instrument` the matcher asks for (`watch`); both sides
    /// whole and its trades is every event again.
    fn ask(&mut self, instrument: u32, bands: Bands) {
        let all = Some((i64::MIN, i64::MAX));
        let every = bands == (all, all, true);
        let list = &mut self.bands;
        match list.binary_search_by_key(&instrument, |(i, _)| *i) {
            Ok(i) if every => _ = list.remove(i),
            Ok(i) => list[i].1 = bands,
            Err(_) if every => {}
            Err(i) => list.insert(i, (instrument, bands)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(action: BookAction, side: Side, price: i64, last: bool) -> MarketEvent {
        MarketEvent::BookDelta(BookDelta {
            instrument: 7,
            ts: 1,
            action,
            side,
            price,
            size: 1,
            order_id: 1,
            flags: if last {
                BookFlags::LAST
            } else {
                BookFlags::empty()
            },
        })
    }

    fn resting(side: Side, price: i64) -> Option<RestingBefore> {
        Some(RestingBefore {
            side,
            price,
            size: 1,
        })
    }

    #[test]
    fn deltas_outside_the_bands_are_left_out_but_fills_and_a_clears_event_come() {
        let band = |low, high| Some((low, high));
        let mut feed = VenueFeed::default();
        // A bid of ours at 100: the bids there, and the asks that cross it.
        feed.ask(7, (band(100, 100), band(i64::MIN, 100), true));
        let events = [
            delta(BookAction::Add, Side::Buy, 100, true), // at our bid
            delta(BookAction::Add, Side::Buy, 99, true),  // below it
            delta(BookAction::Add, Side::Sell, 100, true), // crosses it
            delta(BookAction::Add, Side::Sell, 101, true), // above it
            delta(BookAction::Modify, Side::Buy, 98, true), // moved away from 100
            delta(BookAction::Cancel, Side::Buy, 97, true), // was at 97
            delta(BookAction::Fill, Side::Buy, 97, true),
            delta(BookAction::Clear, Side::Buy, 0, false),
            delta(BookAction::Add, Side::Buy, 90, true), // the clear's snapshot
            delta(BookAction::Add, Side::Buy, 90, true), // after its event
        ];
        let before = [
            None,
            None,
            None,
            None,
            resting(Side::Buy, 100),
            resting(Side::Buy, 97),
            resting(Side::Buy, 97),
            None,
            None,
            None,
        ];
        let handed = [
            true, false, true, false, true, false, true, true, true, false,
        ];
        assert_eq!(feed.hands(&events, &before), handed);
        // No delta: only the fill and the clear's event.
        feed.ask(7, (None, None, true));
        let handed = [
            false, false, false, false, false, false, true, true, true, false,
        ];
        assert_eq!(feed.hands(&events, &before), handed);
        // No trade either: the fill goes too; the clear's event comes.
        feed.ask(7, (None, None, false));
        let handed = [
            false, false, false, false, false, false, false, true, true, false,
        ];
        assert_eq!(feed.hands(&events, &before), handed);
        // Its trades and quotes go with its fills; its status comes.
        use crate::bindings::types::{Quote, StatusChange, Trade, TradingStatus};
        let others = [
            MarketEvent::Trade(Trade {
                instrument: 7,
                ts: 1,
                price: 100,
                size: 1,
                aggressor: None,
                flags: BookFlags::LAST,
            }),
            MarketEvent::Quote(Quote {
                instrument: 7,
                ts: 1,
                bid_price: 99,
                bid_size: 1,
                ask_price: 101,
                ask_size: 1,
            }),
            MarketEvent::Status(StatusChange {
                instrument: 7,
                ts: 1,
                status: TradingStatus::Halted,
            }),
        ];
        assert_eq!(feed.hands(&others, &[]), [false, false, true]);
        // Inside a clear's event its trade comes, and ends the event.
        let clear = delta(BookAction::Clear, Side::Buy, 0, false);
        let in_event = [clear, others[0].clone(), others[1].clone()];
        assert_eq!(feed.hands(&in_event, &[]), [true, true, false]);
        feed.ask(7, (None, None, true));
        assert_eq!(feed.hands(&others, &[]), [true, true, true]);
        // Every event again.
        feed.ask(
            7,
            (band(i64::MIN, i64::MAX), band(i64::MIN, i64::MAX), true),
        );
        assert!(!feed.any_banded());
        assert!(feed.hands(&events, &before).iter().all(|h| *h));
    }
}
