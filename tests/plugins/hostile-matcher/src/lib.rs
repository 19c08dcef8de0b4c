//! A matcher that accepts every order, never fills one, and traps on its
//! `fail_at`-th `execute` call (config, default 20).

use tradsys_sdk::{BookDepth, Config, Matcher, OrderAccepted, OrderCommand, OrderEvent, host};

/// The matcher.
pub struct HostileMatcher {
    fail_at: u64,
    calls: u64,
}

impl Matcher for HostileMatcher {
    fn new(config: &Config) -> Result<Self, String> {
        Ok(Self {
            fail_at: config.parse_or("fail_at", 20)?,
            calls: 0,
        })
    }

    fn execute(&mut self, commands: &[OrderCommand], reports: &mut Vec<OrderEvent>) {
        self.calls += 1;
        if self.calls == self.fail_at {
            panic!("execute call {} fails, as configured", self.calls);
        }
        for command in commands {
            if let OrderCommand::Submit(order) = command {
                let (id, instrument, ts) = (order.id, order.instrument, host::now());
                reports.push(OrderEvent::Accepted(OrderAccepted { id, instrument, ts }));
            }
        }
    }

    fn depth(&self, instrument: u32, _levels: u32) -> BookDepth {
        BookDepth {
            instrument,
            bids: Vec::new(),
            asks: Vec::new(),
        }
    }

    fn save_state(&self) -> Vec<u8> {
        Vec::new()
    }

    fn load_state(&mut self, _state: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

tradsys_sdk::export_matcher!(HostileMatcher);
