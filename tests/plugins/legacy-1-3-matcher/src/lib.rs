//! A 1.3.0 matcher: the frozen WIT in `wit/v1.3.0`, bound with wit-bindgen
//! directly (the SDK speaks 1.4, whose matcher also imports `market` and
//! `venue-feed`). A venue of endless liquidity: it fills every limit order
//! in full at once at its limit, as a resting order met at its price, and
//! refuses market orders, cancels and modifies (nothing ever rests). It
//! counts the feed's events it was handed in its state.

#![allow(unsafe_code)]

use std::cell::Cell;

wit_bindgen::generate!({
    path: "../../../wit/v1.3.0",
    world: "tradsys:plugins/matcher",
});

use exports::tradsys::plugins::matcher_api::Guest;
use tradsys::plugins::host;
use tradsys::plugins::types::{
    BookDepth, Config, Fill, MarketEvent, OrderCommand, OrderEvent, OrderRejected, OrderType,
    RejectReason, Rejection,
};

thread_local! {
    static EVENTS: Cell<u64> = const { Cell::new(0) };
}

struct Legacy;

fn refuse(id: u64, instrument: u32, reason: RejectReason, message: &str) -> OrderEvent {
    OrderEvent::Rejected(OrderRejected {
        id,
        instrument,
        ts: host::now(),
        rejection: Rejection {
            reason,
            message: Some(message.to_string()),
        },
    })
}

impl Guest for Legacy {
    fn init(_config: Config) -> Result<(), String> {
        Ok(())
    }

    fn execute(commands: Vec<OrderCommand>) -> Vec<OrderEvent> {
        commands
            .into_iter()
            .map(|command| match command {
                OrderCommand::Submit(o) if o.order_type == OrderType::Limit => {
                    OrderEvent::Filled(Fill {
                        id: o.id,
                        instrument: o.instrument,
                        ts: host::now(),
                        side: o.side,
                        price: o.price,
                        quantity: o.quantity,
                        leaves_quantity: 0,
                        maker: true,
                    })
                }
                OrderCommand::Submit(o) => refuse(
                    o.id,
                    o.instrument,
                    RejectReason::Other,
                    "legacy-1-3-matcher fills limit orders only",
                ),
                OrderCommand::Cancel(c) => refuse(
                    c.id,
                    c.instrument,
                    RejectReason::UnknownOrder,
                    "nothing rests",
                ),
                OrderCommand::Modify(m) => refuse(
                    m.id,
                    m.instrument,
                    RejectReason::UnknownOrder,
                    "nothing rests",
                ),
            })
            .collect()
    }

    fn on_market(events: Vec<MarketEvent>) -> Vec<OrderEvent> {
        EVENTS.with(|n| n.set(n.get() + events.len() as u64));
        Vec::new()
    }

    fn depth(instrument: u32, _levels: u32) -> BookDepth {
        BookDepth {
            instrument,
            bids: Vec::new(),
            asks: Vec::new(),
        }
    }

    fn save_state() -> Vec<u8> {
        EVENTS.with(|n| n.get().to_le_bytes().to_vec())
    }

    fn load_state(state: Vec<u8>) -> Result<(), String> {
        let events = match state.as_slice() {
            [] => 0,
            bytes => u64::from_le_bytes(
                bytes
                    .try_into()
                    .map_err(|_| format!("state of {} bytes, expected 8", bytes.len()))?,
            ),
        };
        EVENTS.with(|n| n.set(events));
        Ok(())
    }
}

export!(Legacy);
