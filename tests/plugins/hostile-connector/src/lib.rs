//! A connector that defines one instrument in its first batch, then sends one
//! quote per batch, and fails as configured. Its position in the stream is
//! its state, so a restarted instance carries on where the last one stopped.
//!
//! Config keys (defaults in brackets):
//! - `fail_at` [10]: the stream's batch that traps, every time it is reached
//!   (a restarted instance resumes just before it and traps again); 0: none.
//! - `fail_every` [0]: each instance traps on its own `fail_every`-th call (a
//!   transient fault: the next instance gets past it); 0: never.
//! - `quotes` [0]: quotes before the stream ends; 0 is unlimited.
//! - `save_fails_at` [0]: `save-state` traps once the stream has delivered
//!   this many batches; 0: never.
//! - `lie` [none]: the second batch is, instead of a quote, one for
//!   instrument 7, never defined (`undefined`), a definition of `BAD` with a
//!   tick of 0 (`bad-definition`), a redefinition of the instrument with a
//!   multiplier of 50 (`multiplier`), a crossed quote (`crossed`: bid 102,
//!   ask 101), a bid of -100.99 (`negative-price`), a bid size of -10
//!   (`negative-size`), a definition whose symbol is 8 MiB long
//!   (`long-symbol`); the third is a quote stamped before the second
//!   (`clock-back`). With `book-lies`, batch 2 adds order 1 (5 lots) and
//!   batch 3 cancels order 2, never added (`unknown-cancel`), or 7 lots of
//!   order 1 (`over-cancel`). `endless-orders`: from batch 2 on, every batch
//!   adds `max` new orders and cancels none.

use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    BookAction, BookDelta, BookFlags, Config, Connector, InstrumentDefinition, MarketEvent,
    OrderCommand, OrderEvent, Quote, Side, fixed,
};

/// The connector.
pub struct HostileConnector {
    fail_at: u64,
    fail_every: u64,
    quotes: u64,
    save_fails_at: u64,
    lie: String,
    /// Batches of the stream delivered (the saved state).
    batches: u64,
    /// Calls this instance has had (not saved).
    calls: u64,
}

impl Connector for HostileConnector {
    fn new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            fail_at: config.parse_or("fail_at", 10)?,
            fail_every: config.parse_or("fail_every", 0)?,
            quotes: config.parse_or("quotes", 0)?,
            save_fails_at: config.parse_or("save_fails_at", 0)?,
            lie: config.get("lie").unwrap_or("none").to_string(),
            batches: 0,
            calls: 0,
        })
    }

    fn next_batch(&mut self, max: usize) -> Result<Option<Vec<MarketEvent>>, String> {
        self.calls += 1;
        if self.calls == self.fail_every {
            panic!("call {} of this instance fails, as configured", self.calls);
        }
        if self.quotes > 0 && self.batches > self.quotes {
            return Ok(None);
        }
        self.batches += 1;
        if self.batches == self.fail_at {
            panic!("batch {} fails, as configured", self.batches);
        }
        let definition = InstrumentDefinition {
            id: 0,
            symbol: "HOSTILE".into(),
            tick_size: fixed::SCALE / 100,
            lot_size: fixed::SCALE,
            price_precision: 2,
            size_precision: 0,
            multiplier: 1,
        };
        let quote = |instrument| {
            MarketEvent::Quote(Quote {
                instrument,
                ts: self.batches * 1_000_000,
                bid_price: fixed::from_units(100),
                bid_size: fixed::from_units(10),
                ask_price: fixed::from_units(101),
                ask_size: fixed::from_units(10),
            })
        };
        let ts = self.batches * 1_000_000;
        let quoted = |bid_price: i64, bid_size: i64| {
            MarketEvent::Quote(Quote {
                instrument: 0,
                ts,
                bid_price,
                bid_size,
                ask_price: fixed::from_units(101),
                ask_size: fixed::from_units(10),
            })
        };
        let delta = |action, id, size| {
            MarketEvent::BookDelta(BookDelta {
                instrument: 0,
                ts,
                action,
                side: Side::Buy,
                price: fixed::from_units(90),
                size: fixed::from_units(size),
                order_id: id,
                flags: BookFlags::LAST,
            })
        };
        let event = match (self.lie.as_str(), self.batches) {
            (_, 1) => MarketEvent::Instrument(definition),
            ("undefined", 2) => quote(7),
            ("bad-definition", 2) => MarketEvent::Instrument(InstrumentDefinition {
                id: 1,
                symbol: "BAD".into(),
                tick_size: 0,
                ..definition
            }),
            ("multiplier", 2) => MarketEvent::Instrument(InstrumentDefinition {
                multiplier: 50,
                ..definition
            }),
            ("long-symbol", 2) => MarketEvent::Instrument(InstrumentDefinition {
                id: 1,
                symbol: "S".repeat(8 << 20),
                ..definition
            }),
            ("crossed", 2) => quoted(fixed::from_units(102), fixed::from_units(10)),
            ("negative-price", 2) => {
                quoted(-fixed::parse("100.99").unwrap(), fixed::from_units(10))
            }
            ("negative-size", 2) => quoted(fixed::from_units(100), -fixed::from_units(10)),
            ("clock-back", 3) => MarketEvent::Quote(Quote {
                ts: 1_000_000,
                ..match quote(0) {
                    MarketEvent::Quote(q) => q,
                    _ => unreachable!("a quote"),
                }
            }),
            ("unknown-cancel" | "over-cancel", 2) => delta(BookAction::Add, 1, 5),
            ("unknown-cancel", 3) => delta(BookAction::Cancel, 2, 1),
            ("over-cancel", 3) => delta(BookAction::Cancel, 1, 7),
            ("endless-orders", n) => {
                let first = n * max as u64;
                let adds = (0..max as u64)
                    .map(|i| delta(BookAction::Add, first + i, 1))
                    .collect();
                return Ok(Some(adds));
            }
            _ => quote(0),
        };
        Ok(Some(vec![event]))
    }

    fn submit_orders(&mut self, _orders: &[OrderCommand]) -> Vec<OrderEvent> {
        Vec::new()
    }

    fn save_state(&self) -> Vec<u8> {
        if self.save_fails_at > 0 && self.batches >= self.save_fails_at {
            panic!(
                "save-state fails after batch {}, as configured",
                self.batches
            );
        }
        let mut w = StateWriter::default();
        w.u64(self.batches);
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        self.batches = r.u64()?;
        r.finish()
    }
}

tradsys_sdk::export_connector!(HostileConnector);
