//! A processor that consumes another's output: for every `from` signal
//! (default `ema:10`) in its input it derives `echo`, the same value, for
//! the same instrument and time. It depends on `indicators`, so the host
//! runs it after that one; run before it, it would echo nothing.

use tradsys_sdk::signals::{self, signal};
use tradsys_sdk::{Config, MarketEvent, Processor};

/// The processor; see the crate docs.
pub struct SignalEcho {
    from: u32,
    echo: u32,
}

impl Processor for SignalEcho {
    fn new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            from: signals::id(config.get("from").unwrap_or("ema:10"))?,
            echo: signals::id("echo")?,
        })
    }

    fn process(&mut self, events: &[MarketEvent], derived: &mut Vec<MarketEvent>) {
        for event in events {
            if let MarketEvent::Signal(s) = event
                && s.name == self.from
            {
                derived.push(signal(s.instrument, s.ts, self.echo, s.value));
            }
        }
    }
}

tradsys_sdk::export_processor!(SignalEcho);
