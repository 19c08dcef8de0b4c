//! A 1.1.0 connector: the frozen WIT in `wit/v1.1.0`, bound with wit-bindgen
//! directly. It defines one instrument, `LEGACY`, then sends `events` quotes
//! (config, default 2,000) around 100.00 with a trade every tenth, and a
//! trading-status event first (1.1.0 has them); its position in the stream is
//! its state.

#![allow(unsafe_code)]

use std::cell::Cell;

wit_bindgen::generate!({
    path: "../../../wit/v1.1.0",
    world: "tradsys:plugins/connector",
});

use exports::tradsys::plugins::connector_api::Guest;
use tradsys::plugins::host::config_get;
use tradsys::plugins::types::{
    Config, InstrumentDefinition, MarketEvent, OrderCommand, OrderEvent, Quote, StatusChange,
    Trade, TradingStatus,
};

const START: u64 = 1_700_000_000_000_000_000;
const UNIT: i64 = 1_000_000_000;

thread_local! {
    static SENT: Cell<u64> = const { Cell::new(0) };
}

fn event(n: u64) -> MarketEvent {
    let ts = START + n * 1_000_000;
    match n {
        0 => MarketEvent::Instrument(InstrumentDefinition {
            id: 0,
            symbol: "LEGACY".into(),
            tick_size: UNIT / 100,
            lot_size: UNIT,
            price_precision: 2,
            size_precision: 0,
            multiplier: 1,
        }),
        1 => MarketEvent::Status(StatusChange {
            instrument: 0,
            ts,
            status: TradingStatus::Trading,
        }),
        n if n % 10 == 0 => MarketEvent::Trade(Trade {
            instrument: 0,
            ts,
            price: 100 * UNIT,
            size: UNIT,
            aggressor: None,
        }),
        n => {
            let wiggle = (n % 7) as i64 - 3;
            MarketEvent::Quote(Quote {
                instrument: 0,
                ts,
                bid_price: 100 * UNIT + wiggle * UNIT / 100,
                bid_size: 10 * UNIT,
                ask_price: 100 * UNIT + (wiggle + 1) * UNIT / 100,
                ask_size: 10 * UNIT,
            })
        }
    }
}

struct Legacy;

impl Guest for Legacy {
    fn init(_config: Config) -> Result<(), String> {
        Ok(())
    }

    fn next_batch(max: u32) -> Result<Option<Vec<MarketEvent>>, String> {
        let total = config_get("events")
            .map_or(Ok(2_000), |v| v.parse::<u64>())
            .map_err(|e| format!("config `events`: {e}"))?
            + 2;
        let sent = SENT.with(Cell::get);
        if sent >= total {
            return Ok(None);
        }
        let end = total.min(sent + u64::from(max));
        SENT.with(|s| s.set(end));
        Ok(Some((sent..end).map(event).collect()))
    }

    fn submit_orders(_orders: Vec<OrderCommand>) -> Vec<OrderEvent> {
        Vec::new()
    }

    fn poll_reports() -> Vec<OrderEvent> {
        Vec::new()
    }

    fn save_state() -> Vec<u8> {
        SENT.with(|s| s.get().to_le_bytes().to_vec())
    }

    fn load_state(state: Vec<u8>) -> Result<(), String> {
        let bytes: [u8; 8] = state
            .as_slice()
            .try_into()
            .map_err(|_| format!("state of {} bytes, expected 8", state.len()))?;
        SENT.with(|s| s.set(u64::from_le_bytes(bytes)));
        Ok(())
    }
}

export!(Legacy);
