//! A 1.2.0 plugin: the frozen WIT in `wit/v1.2.0`, bound with wit-bindgen
//! directly (the SDK speaks 1.3). It follows the trades it is shown: after a
//! batch whose last trade had an aggressor it sends one IOC order on the
//! aggressor's side at the trade's price. It traps on a trade that cannot
//! be (no size, no price), so a test sees the host's conversion of 1.3.0
//! trades (which carry flags) to 1.2.0's. It counts the trades it saw in
//! its state.

#![allow(unsafe_code)]

use std::cell::Cell;

wit_bindgen::generate!({
    path: "../../../wit/v1.2.0",
    world: "tradsys:plugins/strategy",
});

use exports::tradsys::plugins::strategy_api::Guest;
use tradsys::plugins::types::{
    Config, MarketEvent, NewOrder, OrderCommand, OrderEvent, OrderType, TimeInForce,
};

thread_local! {
    static TRADES: Cell<u64> = const { Cell::new(0) };
}

struct Legacy;

impl Guest for Legacy {
    fn init(_config: Config) -> Result<(), String> {
        Ok(())
    }

    fn on_market(events: Vec<MarketEvent>) -> Vec<OrderCommand> {
        let mut last = None;
        for event in &events {
            if let MarketEvent::Trade(t) = event {
                assert!(t.size > 0 && t.price > 0, "a trade that cannot be: {t:?}");
                TRADES.with(|n| n.set(n.get() + 1));
                last = Some(*t);
            }
        }
        let Some(t) = last else {
            return Vec::new();
        };
        let Some(side) = t.aggressor else {
            return Vec::new();
        };
        let id = TRADES.with(Cell::get);
        vec![OrderCommand::Submit(NewOrder {
            id,
            instrument: t.instrument,
            side,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Ioc,
            price: t.price,
            quantity: 1_000_000_000,
        })]
    }

    fn on_order_events(_events: Vec<OrderEvent>) -> Vec<OrderCommand> {
        Vec::new()
    }

    fn save_state() -> Vec<u8> {
        TRADES.with(|n| n.get().to_le_bytes().to_vec())
    }

    fn load_state(state: Vec<u8>) -> Result<(), String> {
        let trades = match state.as_slice() {
            [] => 0,
            bytes => u64::from_le_bytes(
                bytes
                    .try_into()
                    .map_err(|_| format!("state of {} bytes, expected 8", bytes.len()))?,
            ),
        };
        TRADES.with(|n| n.set(trades));
        Ok(())
    }
}

export!(Legacy);
