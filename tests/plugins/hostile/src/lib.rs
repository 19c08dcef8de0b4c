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
//! - `log-flood`: logs `lines` lines (default 20,000) of 1 KiB per call;
//! - `log-huge`: logs one message of `bytes` bytes (default 32 MiB) per call;
//! - `bad-orders`: sends per call five orders the host must refuse (quantity
//!   0, quantity -1, quantity 0.5, price 0, price 100.005) and one good one
//!   (buy 1 at 100), all for instrument 0;
//! - `count`: sends one order per call whose id is the number of calls so far
//!   (kept in its saved state), and panics on a batch holding a quote with
//!   timestamp `poison` (default 13);
//! - `both`: sends per call a buy of 1 at 100 and a sell of 1 at 101.

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
            "log-flood" => ("lines", 20_000),
            "log-huge" => ("bytes", 32 << 20),
            "panic-on" => ("n", 3),
            "count" => ("poison", 13),
            "quiet" | "spin" | "trap-mid-batch" | "bad-orders" | "both" => ("unused", 0),
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
            "log-flood" => {
                let line = "x".repeat(1024);
                for _ in 0..self.amount {
                    tradsys_sdk::host::log(tradsys_sdk::host::LogLevel::Info, &line);
                }
            }
            "log-huge" => {
                let message = "y".repeat(self.amount as usize);
                tradsys_sdk::host::log(tradsys_sdk::host::LogLevel::Info, &message);
            }
            "both" => {
                let id = self.calls * 2;
                orders.push(order(id));
                orders.push(OrderCommand::Submit(NewOrder {
                    id: id + 2,
                    side: Side::Sell,
                    price: fixed::from_units(101),
                    ..new_order()
                }));
            }
            "bad-orders" => {
                let base = self.calls * 10;
                let unit = fixed::from_units(1);
                let price = fixed::from_units(100);
                let bad = [
                    (price, 0),
                    (price, -unit),
                    (price, unit / 2),
                    (0, unit),
                    (price + unit / 200, unit),
                    (price, unit),
                ];
                for (k, (price, quantity)) in bad.into_iter().enumerate() {
                    orders.push(OrderCommand::Submit(NewOrder {
                        id: base + k as u64,
                        price,
                        quantity,
                        ..new_order()
                    }));
                }
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
        ..new_order()
    })
}

/// Buy 1 at 100, GTC, instrument 0.
fn new_order() -> NewOrder {
    NewOrder {
        id: 0,
        instrument: 0,
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        price: fixed::from_units(100),
        quantity: fixed::from_units(1),
    }
}

/// Recursion that the optimiser cannot turn into a loop.
fn recurse(depth: u64) -> u64 {
    if depth == 0 {
        return 0;
    }
    black_box(recurse(black_box(depth - 1)) + 1)
}

tradsys_sdk::export_strategy!(Hostile);
