//! A strategy that misbehaves on purpose, to test the host's sandbox.
//!
//! Config `mode` picks the behaviour of `on-market` (default `quiet`), or
//! of `init` for `init-spin`, which never returns from `init`:
//! - `quiet`: returns nothing;
//! - `spin`: loops forever;
//! - `loop`: a finite loop of `iterations` steps (default 10,000,000), then nothing;
//! - `memory-bomb`: allocates `chunk` bytes (default 1 MiB) at a time, touching
//!   each, until allocation fails;
//! - `recurse`: recursion `depth` calls deep (default 1,000,000);
//! - `flood`: returns `count` orders (default 1,000,000);
//! - `panic-on`: panics on call number `n` (default 3), counting from 1;
//! - `trap-mid-batch`: builds one order per event and panics halfway through
//!   the batch;
//! - `count`: sends one order per call whose id is the number of calls so far
//!   (kept in its saved state), and panics on a batch holding a quote with
//!   timestamp `poison` (default 13).

use std::hint::black_box;

use tradsys_sdk::{
    Config, MarketEvent, NewOrder, OrderCommand, OrderType, Side, Strategy, TimeInForce, fixed,
};

/// The misbehaving strategy.
pub struct Hostile {
    mode: String,
    amount: u64,
    calls: u64,
}

impl Strategy for Hostile {
    fn new(config: &Config) -> Result<Self, String> {
        let mode = config.get("mode").unwrap_or("quiet").to_string();
        if mode == "init-spin" {
            loop {
                black_box(&mode);
            }
        }
        let (key, default) = match mode.as_str() {
            "loop" => ("iterations", 10_000_000),
            "memory-bomb" => ("chunk", 1 << 20),
            "recurse" => ("depth", 1_000_000),
            "flood" => ("count", 1_000_000),
            "panic-on" => ("n", 3),
            "count" => ("poison", 13),
            "quiet" | "spin" | "trap-mid-batch" => ("unused", 0),
            other => return Err(format!("config `mode`: unknown mode `{other}`")),
        };
        Ok(Self {
            amount: config.parse_or(key, default)?,
            mode,
            calls: 0,
        })
    }

    fn on_market(&mut self, events: &[MarketEvent], orders: &mut Vec<OrderCommand>) {
        self.calls += 1;
        match self.mode.as_str() {
            "spin" => loop {
                black_box(self.calls);
            },
            "loop" => {
                let mut x = 0u64;
                for i in 0..self.amount {
                    x = black_box(x.wrapping_mul(31).wrapping_add(i));
                }
                black_box(x);
            }
            "memory-bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    let mut chunk = vec![0u8; self.amount as usize];
                    chunk[self.amount as usize - 1] = 1;
                    hoard.push(black_box(chunk));
                }
            }
            "recurse" => {
                black_box(recurse(self.amount));
            }
            "flood" => orders.extend((0..self.amount).map(order)),
            "panic-on" if self.calls == self.amount => {
                panic!("call {} panics, as configured", self.calls)
            }
            "count" => {
                let poison = self.amount;
                if events
                    .iter()
                    .any(|e| matches!(e, MarketEvent::Quote(q) if q.ts == poison))
                {
                    panic!("poisoned batch");
                }
                orders.push(order(self.calls - 1));
            }
            "trap-mid-batch" => {
                for (i, _) in events.iter().enumerate() {
                    orders.push(order(i as u64));
                    if i == events.len() / 2 {
                        panic!(
                            "trap in the middle of a batch after {} orders",
                            orders.len()
                        );
                    }
                }
            }
            _ => {}
        }
    }

    fn save_state(&self) -> Vec<u8> {
        let mut w = tradsys_sdk::state::StateWriter::default();
        w.u64(self.calls);
        w.finish()
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = tradsys_sdk::state::StateReader::new(state);
        let calls = r.u64()?;
        r.finish()?;
        self.calls = calls;
        Ok(())
    }
}

fn order(i: u64) -> OrderCommand {
    OrderCommand::Submit(NewOrder {
        id: i + 1,
        instrument: 0,
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        price: fixed::from_units(100),
        quantity: fixed::from_units(1),
    })
}

/// Recursion that the optimiser cannot turn into a loop.
fn recurse(depth: u64) -> u64 {
    if depth == 0 {
        return 0;
    }
    black_box(recurse(black_box(depth - 1)) + 1)
}

tradsys_sdk::export_strategy!(Hostile);
