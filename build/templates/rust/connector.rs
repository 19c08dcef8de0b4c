//! `__NAME__`: a market-data connector. It makes up a seeded random walk of
//! quotes for one instrument; replace `next_quote` with your source.
//!
//! The stream opens with the instrument's definition, then one quote per
//! event, a millisecond apart. The same `seed` gives the same stream. This
//! connector has no venue of its own: run it with a matcher (`[run]
//! matcher`), which fills the strategies' orders; an order sent to it is
//! rejected. Its place in the stream survives a hot swap and a restart.
//!
//! Config keys (a key not listed here is refused, so a typo never leaves a
//! default in place; the host passes `seed` and `events` from `[run]`):
//!
//! | key      | meaning                                          | default   |
//! |----------|--------------------------------------------------|-----------|
//! | `seed`   | the random walk's seed                           | `1`       |
//! | `events` | events before the stream ends (0: no end)        | `0`       |
//! | `symbol` | the instrument's symbol                          | `DEMO`    |
//! | `start`  | the first mid                                    | `100`     |

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Config, Connector, InstrumentDefinition, MarketEvent, OrderCommand, OrderEvent, OrderRejected,
    Quote, RejectReason, Rejection, fixed,
};

/// The tick: one hundredth of a price unit.
const TICK: i64 = fixed::SCALE / 100;
/// 2024-01-02T14:30:00Z, the first quote's time.
const START_NS: u64 = 1_704_205_800_000_000_000;

/// See the crate documentation.
#[derive(Debug)]
pub struct __TYPE__ {
    symbol: String,
    limit: u64,
    /// Events delivered so far (the definition included).
    sent: u64,
    rng: u64,
    /// The mid, in ticks.
    mid: i64,
}

impl __TYPE__ {
    /// splitmix64: the next pseudo-random number.
    fn random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn next_quote(&mut self) -> Quote {
        // A step of -1, 0 or +1 tick, never below one tick.
        self.mid = (self.mid + (self.random() % 3) as i64 - 1).max(2);
        let half = 1 + (self.random() % 2) as i64;
        let size = fixed::from_units(10 + (self.random() % 90) as i64);
        Quote {
            instrument: 0,
            ts: START_NS + self.sent * 1_000_000,
            bid_price: (self.mid - half) * TICK,
            bid_size: size,
            ask_price: (self.mid + half) * TICK,
            ask_size: size,
        }
    }
}

impl Connector for __TYPE__ {
    fn new(config: &Config) -> Result<Self, String> {
        config.only(&["seed", "events", "symbol", "start"])?;
        let start = config.fixed_or("start", fixed::from_units(100))?;
        if start < 2 * TICK {
            return Err("config `start`: at least 0.02".into());
        }
        Ok(Self {
            symbol: config.get("symbol").unwrap_or("DEMO").to_string(),
            limit: config.parse_or("events", 0)?,
            sent: 0,
            rng: config.parse_or("seed", 1)?,
            mid: start / TICK,
        })
    }

    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<MarketEvent>>, String> {
        let mut batch = Vec::new();
        while batch.len() < max && (self.limit == 0 || self.sent < self.limit) {
            let event = if self.sent == 0 {
                MarketEvent::Instrument(InstrumentDefinition {
                    id: 0,
                    symbol: self.symbol.clone(),
                    tick_size: TICK,
                    lot_size: fixed::from_units(1),
                    price_precision: 2,
                    size_precision: 0,
                    multiplier: 1,
                })
            } else {
                MarketEvent::Quote(self.next_quote())
            };
            self.sent += 1;
            batch.push(event);
        }
        Ok((!batch.is_empty()).then_some(batch))
    }

    fn submit_orders(&mut self, orders: &[OrderCommand]) -> Vec<OrderEvent> {
        orders
            .iter()
            .map(|o| {
                OrderEvent::Rejected(OrderRejected {
                    id: o.id(),
                    instrument: o.instrument(),
                    ts: START_NS + self.sent * 1_000_000,
                    rejection: Rejection {
                        reason: RejectReason::Other,
                        message: Some("this connector has no venue: set [run] matcher".into()),
                    },
                })
            })
            .collect()
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = StateWriter::default();
        w.u8(1).u64(self.sent).u64(self.rng).i64(self.mid);
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.format(1)?;
        let (sent, rng, mid) = (r.u64()?, r.u64()?, r.i64()?);
        r.finish()?;
        (self.sent, self.rng, self.mid) = (sent, rng, mid);
        Ok(())
    }
}

tradsys_sdk::export_connector!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;

    fn connector(events: &str) -> __TYPE__ {
        __TYPE__::new(&Config::new([("seed", "7"), ("events", events)])).unwrap()
    }

    #[test]
    fn the_stream_opens_with_the_definition_ends_on_time_and_resumes_from_its_state() {
        let mut first = connector("10");
        let head = first.next_batch(4).unwrap().unwrap();
        assert!(matches!(head[0], MarketEvent::Instrument(_)));
        let mut second = connector("10");
        second.load_state(&first.save_state()).unwrap();
        let rest = first.next_batch(100).unwrap().unwrap();
        assert_eq!(rest.len(), 6);
        let again = second.next_batch(100).unwrap().unwrap();
        assert_eq!(format!("{again:?}"), format!("{rest:?}"));
        assert!(first.next_batch(100).unwrap().is_none(), "the stream ended");
    }
}
