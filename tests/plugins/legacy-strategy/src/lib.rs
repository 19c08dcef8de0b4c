//! A 1.0.0 plugin: the frozen WIT in `wit/v1.0.0`, bound with wit-bindgen
//! directly (the SDK speaks 1.1). On every quote it sends one immediate-or-
//! cancel lot at the touch, alternating sides, so a test sees it trade; it
//! counts the events it saw in its state.

#![allow(unsafe_code)]

use std::cell::RefCell;

wit_bindgen::generate!({
    path: "../../../wit/v1.0.0",
    world: "tradsys:plugins/strategy",
});

use exports::tradsys::plugins::strategy_api::Guest;
use tradsys::plugins::host::{LogLevel, log, now};
use tradsys::plugins::types::{
    Config, MarketEvent, NewOrder, OrderCommand, OrderEvent, OrderType, Side, TimeInForce,
};

#[derive(Default)]
struct State {
    next_id: u64,
    events: u64,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
}

struct Legacy;

impl Guest for Legacy {
    fn init(_config: Config) -> Result<(), String> {
        log(LogLevel::Info, "a 1.0.0 strategy starting");
        Ok(())
    }

    fn on_market(events: Vec<MarketEvent>) -> Vec<OrderCommand> {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            let mut orders = Vec::new();
            for event in &events {
                s.events += 1;
                if let MarketEvent::Quote(q) = event {
                    if q.bid_size == 0 || q.ask_size == 0 {
                        continue;
                    }
                    s.next_id += 1;
                    let buy = s.next_id % 2 == 1;
                    orders.push(OrderCommand::Submit(NewOrder {
                        id: s.next_id,
                        instrument: q.instrument,
                        side: if buy { Side::Buy } else { Side::Sell },
                        order_type: OrderType::Limit,
                        time_in_force: TimeInForce::Ioc,
                        price: if buy { q.ask_price } else { q.bid_price },
                        quantity: 1_000_000_000,
                    }));
                }
            }
            let _ = now();
            orders
        })
    }

    fn on_order_events(_events: Vec<OrderEvent>) -> Vec<OrderCommand> {
        Vec::new()
    }

    fn save_state() -> Vec<u8> {
        STATE.with(|s| {
            let s = s.borrow();
            [s.next_id.to_le_bytes(), s.events.to_le_bytes()].concat()
        })
    }

    fn load_state(state: Vec<u8>) -> Result<(), String> {
        let (id, events) = match state.as_slice() {
            [] => (0, 0),
            bytes if bytes.len() == 16 => (
                u64::from_le_bytes(bytes[..8].try_into().unwrap()),
                u64::from_le_bytes(bytes[8..].try_into().unwrap()),
            ),
            other => return Err(format!("state of {} bytes, expected 16", other.len())),
        };
        STATE.with(|s| {
            *s.borrow_mut() = State {
                next_id: id,
                events,
            }
        });
        Ok(())
    }
}

export!(Legacy);
