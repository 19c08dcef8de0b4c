//! Reads `tradsys_sdk::host::depth` after every batch and traps (so the
//! report shows a fault) when the book disagrees with the last quote of an
//! instrument in the batch: with quotes only (L1), the book's touch is that
//! quote. Also: an unknown instrument has an empty book, and no call
//! returns more than 100 levels a side. It sends no orders.

use std::collections::BTreeMap;

use tradsys_sdk::{Config, MarketEvent, OrderCommand, Strategy, host};

/// The strategy; see the crate docs.
pub struct BookReader;

impl Strategy for BookReader {
    fn new(_config: &Config) -> Result<Self, String> {
        Ok(Self)
    }

    fn on_market(&mut self, events: &[MarketEvent], _orders: &mut Vec<OrderCommand>) {
        let mut last = BTreeMap::new();
        for event in events {
            if let MarketEvent::Quote(q) = event {
                last.insert(q.instrument, q);
            }
        }
        for (instrument, q) in last {
            let depth = host::depth(instrument, 1000);
            assert!(depth.bids.len() <= 100 && depth.asks.len() <= 100);
            let (Some(bid), Some(ask)) = (depth.bids.first(), depth.asks.first()) else {
                panic!("instrument {instrument}: quoted {q:?} but its book is empty");
            };
            assert_eq!(
                (bid.price, bid.quantity, ask.price, ask.quantity),
                (q.bid_price, q.bid_size, q.ask_price, q.ask_size),
                "instrument {instrument}: the book's touch is not the last quote"
            );
        }
        let unknown = host::depth(u32::MAX, 5);
        assert!(unknown.bids.is_empty() && unknown.asks.is_empty());
    }
}

tradsys_sdk::export_strategy!(BookReader);

#[cfg(test)]
mod tests {
    use super::*;
    use tradsys_sdk::{BookDepth, DepthLevel, Quote};

    fn quote(bid_size: i64) -> MarketEvent {
        MarketEvent::Quote(Quote {
            instrument: 0,
            ts: 1,
            bid_price: 99,
            bid_size,
            ask_price: 101,
            ask_size: 2,
        })
    }

    #[test]
    fn it_traps_when_the_book_is_not_the_last_quote() {
        let level = |price, quantity| DepthLevel {
            price,
            quantity,
            orders: 0,
        };
        host::set_depth(BookDepth {
            instrument: 0,
            bids: vec![level(99, 1)],
            asks: vec![level(101, 2)],
        });
        let mut reader = BookReader::new(&Config::default()).unwrap();
        reader.on_market(&[quote(5), quote(1)], &mut Vec::new());
        let wrong = std::panic::catch_unwind(move || {
            reader.on_market(&[quote(1), quote(5)], &mut Vec::new())
        });
        assert!(wrong.is_err());
    }
}
