//! A connector that defines one instrument in its first batch, then sends one
//! quote per batch, and
//! traps on its `fail_at`-th batch (config, default 10). A restarted
//! instance starts over, so it fails again after as many batches.

use tradsys_sdk::{
    Config, Connector, InstrumentDefinition, MarketEvent, OrderCommand, OrderEvent, Quote, fixed,
};

/// The connector.
pub struct HostileConnector {
    fail_at: u64,
    batches: u64,
}

impl Connector for HostileConnector {
    fn new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            fail_at: config.parse_or("fail_at", 10)?,
            batches: 0,
        })
    }

    fn next_batch(&mut self, _max: usize) -> Option<Vec<MarketEvent>> {
        self.batches += 1;
        if self.batches == self.fail_at {
            panic!("batch {} fails, as configured", self.batches);
        }
        if self.batches == 1 {
            return Some(vec![MarketEvent::Instrument(InstrumentDefinition {
                id: 0,
                symbol: "HOSTILE".into(),
                tick_size: fixed::SCALE / 100,
                lot_size: fixed::SCALE,
                price_precision: 2,
                size_precision: 0,
                multiplier: 1,
            })]);
        }
        Some(vec![MarketEvent::Quote(Quote {
            instrument: 0,
            ts: self.batches * 1_000_000,
            bid_price: fixed::from_units(100),
            bid_size: fixed::from_units(10),
            ask_price: fixed::from_units(101),
            ask_size: fixed::from_units(10),
        })])
    }

    fn submit_orders(&mut self, _orders: &[OrderCommand]) -> Vec<OrderEvent> {
        Vec::new()
    }
}

tradsys_sdk::export_connector!(HostileConnector);
