//! A 1.1.0 plugin: the frozen WIT in `wit/v1.1.0`, bound with wit-bindgen
//! directly (the SDK speaks 1.2). It reads the host's book through the 1.1.0
//! `market` import on every quote and traps when the book's best bid is not
//! the quote's (so a test sees the import answer); it buys one lot when more
//! is bid than offered at the touch, sells one otherwise, one order per batch
//! at most. It counts the batches it saw in its state.

#![allow(unsafe_code)]

use std::cell::Cell;

wit_bindgen::generate!({
    path: "../../../wit/v1.1.0",
    world: "tradsys:plugins/strategy",
});

use exports::tradsys::plugins::strategy_api::Guest;
use tradsys::plugins::market::depth;
use tradsys::plugins::types::{
    Config, MarketEvent, NewOrder, OrderCommand, OrderEvent, OrderType, Side, TimeInForce,
};

thread_local! {
    static BATCHES: Cell<u64> = const { Cell::new(0) };
}

struct Legacy;

impl Guest for Legacy {
    fn init(_config: Config) -> Result<(), String> {
        Ok(())
    }

    fn on_market(events: Vec<MarketEvent>) -> Vec<OrderCommand> {
        let batch = BATCHES.with(|b| {
            b.set(b.get() + 1);
            b.get()
        });
        let Some(q) = events.iter().rev().find_map(|e| match e {
            MarketEvent::Quote(q) if q.bid_size > 0 && q.ask_size > 0 => Some(q),
            _ => None,
        }) else {
            return Vec::new();
        };
        let book = depth(q.instrument, 1);
        let (Some(bid), Some(ask)) = (book.bids.first(), book.asks.first()) else {
            panic!("no book behind the quote of instrument {}", q.instrument);
        };
        assert_eq!(bid.price, q.bid_price, "the book's best bid is the quote's");
        let buy = bid.quantity > ask.quantity;
        vec![OrderCommand::Submit(NewOrder {
            id: batch,
            instrument: q.instrument,
            side: if buy { Side::Buy } else { Side::Sell },
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Ioc,
            price: if buy { ask.price } else { bid.price },
            quantity: 1_000_000_000,
        })]
    }

    fn on_order_events(_events: Vec<OrderEvent>) -> Vec<OrderCommand> {
        Vec::new()
    }

    fn save_state() -> Vec<u8> {
        BATCHES.with(|b| b.get().to_le_bytes().to_vec())
    }

    fn load_state(state: Vec<u8>) -> Result<(), String> {
        let batches = match state.as_slice() {
            [] => 0,
            bytes => u64::from_le_bytes(
                bytes
                    .try_into()
                    .map_err(|_| format!("state of {} bytes, expected 8", bytes.len()))?,
            ),
        };
        BATCHES.with(|b| b.set(batches));
        Ok(())
    }
}

export!(Legacy);
