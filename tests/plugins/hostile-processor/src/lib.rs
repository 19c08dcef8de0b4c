//! A processor that misbehaves on purpose. Each batch it derives one valid
//! signal, `hostile:batches` (the batches it saw) for the batch's first
//! instrument, except when its `mode` strikes, every `every` batches
//! (default 3):
//! - `trap`: it panics (a trap);
//! - `quote`: it also derives a quote (only bars and signals are allowed);
//! - `nan`: its signal is NaN;
//! - `future`: its signal is stamped a second after the batch;
//! - `unknown`: it also derives a bar of an instrument nobody defined;
//! - `none` (the default): it never strikes.

use tradsys_sdk::signals::{self, signal};
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{Bar, Config, MarketEvent, Processor, Quote};

/// The processor; see the crate docs.
pub struct HostileProcessor {
    mode: String,
    every: u64,
    batches: u64,
    id: u32,
}

impl Processor for HostileProcessor {
    fn new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            mode: config.get("mode").unwrap_or("none").to_string(),
            every: config.parse_or("every", 3u64)?.max(1),
            batches: 0,
            id: signals::id("hostile:batches")?,
        })
    }

    fn process(&mut self, events: &[MarketEvent], derived: &mut Vec<MarketEvent>) {
        self.batches += 1;
        let Some(first) = events.iter().find(|e| e.ts().is_some()) else {
            return;
        };
        let (instrument, ts) = (
            first.instrument(),
            events.iter().filter_map(|e| e.ts()).max().unwrap_or(0),
        );
        let strike = self.mode != "none" && self.batches.is_multiple_of(self.every);
        let mut value = self.batches as f64;
        let mut stamp = ts;
        if strike {
            match self.mode.as_str() {
                "trap" => panic!("hostile processor: trapping on batch {}", self.batches),
                "quote" => derived.push(MarketEvent::Quote(Quote {
                    instrument,
                    ts,
                    bid_price: 1,
                    bid_size: 1,
                    ask_price: 2,
                    ask_size: 1,
                })),
                "nan" => value = f64::NAN,
                "future" => stamp = ts + 1_000_000_000,
                "unknown" => derived.push(MarketEvent::Bar(Bar {
                    instrument: 999_999,
                    ts,
                    open: 1,
                    high: 1,
                    low: 1,
                    close: 1,
                    volume: 0,
                })),
                _ => {}
            }
        }
        derived.push(signal(instrument, stamp, self.id, value));
    }

    fn save_state(&self) -> Vec<u8> {
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

tradsys_sdk::export_processor!(HostileProcessor);
