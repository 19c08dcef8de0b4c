//! Property tests of the SDK's decoders of untrusted bytes: a plugin's saved
//! state, read back by `tradsys_sdk::state::StateReader` (its values and the
//! event records of `market_event` / `order_event`), and the decimal parser
//! config values go through. Each gets arbitrary input and valid input with
//! bytes flipped, set, inserted, deleted or cut.
//!
//! None panics, each returns within a bounded time without growing the heap
//! past a cap (a length field claiming 4 GiB is refused before it is
//! allocated), every error says "state" and what was wrong, and whatever
//! decodes encodes back to bytes that decode to the same value.
//! `PROPTEST_CASES` sets the number of cases; `cargo xtask fuzz` runs many.

use proptest::prelude::*;
use tradsys_props::{HEAP_LIMIT, bounded, mutated};
use tradsys_sdk::state::{StateReader, StateWriter};
use tradsys_sdk::{
    Bar, BookAction, BookDelta, BookFlags, DepthLevel, DepthSnapshot, Fill, InstrumentDefinition,
    MarketEvent, OrderAccepted, OrderCanceled, OrderEvent, OrderModified, OrderRejected, Quote,
    RejectReason, Rejection, Side, StatusChange, Trade, TradingStatus, fixed,
};

// Valid inputs.

/// One of every event variant.
fn every_event() -> (Vec<MarketEvent>, Vec<OrderEvent>) {
    let market = vec![
        MarketEvent::Instrument(InstrumentDefinition {
            id: 3,
            symbol: "ESH4".into(),
            tick_size: 250_000_000,
            lot_size: 1_000_000_000,
            price_precision: 2,
            size_precision: 0,
            multiplier: 50,
        }),
        MarketEvent::Quote(Quote {
            instrument: 3,
            ts: 9,
            bid_price: 1,
            bid_size: 2,
            ask_price: 3,
            ask_size: 4,
        }),
        MarketEvent::Trade(Trade {
            instrument: 3,
            ts: 10,
            price: -5,
            size: 6,
            aggressor: Some(Side::Sell),
            flags: BookFlags::empty(),
        }),
        MarketEvent::Bar(Bar {
            instrument: 1,
            ts: 12,
            open: 1,
            high: 4,
            low: 0,
            close: 2,
            volume: 7,
        }),
        MarketEvent::BookDelta(BookDelta {
            instrument: 1,
            ts: 13,
            action: BookAction::Modify,
            side: Side::Buy,
            price: 8,
            size: 9,
            order_id: u64::MAX,
            flags: BookFlags::LAST | BookFlags::SNAPSHOT,
        }),
        MarketEvent::Depth(DepthSnapshot {
            instrument: 2,
            ts: 14,
            bids: vec![DepthLevel {
                price: 3,
                quantity: 4,
                orders: 5,
            }],
            asks: vec![DepthLevel {
                price: 6,
                quantity: 7,
                orders: 1,
            }],
        }),
        MarketEvent::Status(StatusChange {
            instrument: 2,
            ts: 15,
            status: TradingStatus::Halted,
        }),
    ];
    let orders = vec![
        OrderEvent::Accepted(OrderAccepted {
            id: 1,
            instrument: 2,
            ts: 3,
        }),
        OrderEvent::Rejected(OrderRejected {
            id: 1,
            instrument: 2,
            ts: 3,
            rejection: Rejection {
                reason: RejectReason::PriceCollar,
                message: Some("no — thanks".into()),
            },
        }),
        OrderEvent::Filled(Fill {
            id: 4,
            instrument: 0,
            ts: 5,
            side: Side::Sell,
            price: 6,
            quantity: 7,
            leaves_quantity: 0,
            maker: true,
        }),
        OrderEvent::Canceled(OrderCanceled {
            id: 4,
            instrument: 0,
            ts: 5,
            canceled_quantity: 8,
        }),
        OrderEvent::Modified(OrderModified {
            id: 4,
            instrument: 0,
            ts: 5,
            price: 9,
            leaves_quantity: 10,
        }),
    ];
    (market, orders)
}

/// A state as a connector might save it: a format byte, a counter, a
/// name, an optional price, the events it buffers (counted), then the
/// reports it holds (counted).
fn valid_state() -> Vec<u8> {
    let (market, orders) = every_event();
    let mut w = StateWriter::default();
    w.u8(1)
        .u64(42)
        .str("eurusd.csv")
        .option(Some(-7i64), |w, v| {
            w.i64(v);
        });
    w.f64(0.5).bool(true).side(Side::Sell).bytes(&[1, 2, 3]);
    w.u32(market.len() as u32);
    for e in &market {
        w.market_event(e);
    }
    w.u32(orders.len() as u32);
    for e in &orders {
        w.order_event(e);
    }
    w.finish()
}

// What is checked.

/// The state [`valid_state`] wrote, read back; every event kept.
#[derive(Debug, Default)]
struct Read {
    market: Vec<MarketEvent>,
    orders: Vec<OrderEvent>,
}

/// Read `bytes` as [`valid_state`] lays it out, as a plugin's `load_state`
/// would: the first error ends it.
fn load(bytes: &[u8], read: &mut Read) -> Result<(), String> {
    let mut r = StateReader::new(bytes);
    r.format(1)?;
    r.u64()?;
    r.string()?;
    r.option(|r| r.i64())?;
    r.f64()?;
    r.bool()?;
    r.side()?;
    r.bytes()?;
    // Counts are untrusted: nothing is reserved from them.
    for _ in 0..r.u32()? {
        read.market.push(r.market_event()?);
    }
    for _ in 0..r.u32()? {
        read.orders.push(r.order_event()?);
    }
    r.finish()
}

/// Every event decoded, encoded again, decodes to itself.
fn round_trips(read: &Read) -> Result<(), TestCaseError> {
    let mut w = StateWriter::default();
    for e in &read.market {
        w.market_event(e);
    }
    for e in &read.orders {
        w.order_event(e);
    }
    let bytes = w.finish();
    let mut r = StateReader::new(&bytes);
    let market: Result<Vec<_>, _> = read.market.iter().map(|_| r.market_event()).collect();
    let orders: Result<Vec<_>, _> = read.orders.iter().map(|_| r.order_event()).collect();
    prop_assert_eq!(
        format!("{market:?}"),
        format!("{:?}", Ok::<_, String>(&read.market))
    );
    prop_assert_eq!(
        format!("{orders:?}"),
        format!("{:?}", Ok::<_, String>(&read.orders))
    );
    prop_assert_eq!(r.finish(), Ok(()));
    Ok(())
}

/// An error says it is about the state and what was wrong.
fn named(error: &str) -> Result<(), TestCaseError> {
    prop_assert!(error.contains("state"), "`{error}` does not say \"state\"");
    let why = error
        .trim_start_matches("state")
        .trim_start_matches(':')
        .trim();
    prop_assert!(!why.is_empty(), "`{error}` gives no reason");
    Ok(())
}

/// `bytes` read as [`valid_state`] lays it out, and as a bare run of
/// events, within the bounds; each error named, each event round-tripped.
fn check_state(bytes: Vec<u8>) -> Result<(), TestCaseError> {
    let (laid_out, events) = bounded(HEAP_LIMIT, move || {
        let mut laid_out = Read::default();
        let result = load(&bytes, &mut laid_out);
        let mut events = Read::default();
        let mut r = StateReader::new(&bytes);
        let bare = loop {
            match r.market_event() {
                Ok(e) => events.market.push(e),
                Err(e) => break e,
            }
        };
        let mut r = StateReader::new(&bytes);
        let bare_orders = loop {
            match r.order_event() {
                Ok(e) => events.orders.push(e),
                Err(e) => break e,
            }
        };
        ((laid_out, result), (events, bare, bare_orders))
    });
    if let Err(e) = &laid_out.1 {
        named(e)?;
    }
    named(&events.1)?;
    named(&events.2)?;
    round_trips(&laid_out.0)?;
    round_trips(&events.0)?;
    Ok(())
}

#[test]
fn the_valid_state_made_here_reads_whole() {
    let mut read = Read::default();
    load(&valid_state(), &mut read).expect("the valid state loads");
    let (market, orders) = every_event();
    assert_eq!(format!("{:?}", read.market), format!("{market:?}"));
    assert_eq!(format!("{:?}", read.orders), format!("{orders:?}"));
}

proptest! {
    #[test]
    fn arbitrary_bytes_are_refused_as_state_with_a_reason_never_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        check_state(bytes)?;
    }

    #[test]
    fn a_mutated_state_is_refused_with_a_reason_never_a_panic(bytes in mutated(valid_state())) {
        check_state(bytes)?;
    }

    #[test]
    fn a_huge_length_or_count_is_refused_before_it_is_allocated(
        tag in prop_oneof![Just(0u8), Just(6u8)],
        len in prop_oneof![Just(u32::MAX), Just(0x8000_0000), any::<u32>()],
        rest in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        // An instrument's symbol claims `len` bytes; a depth snapshot claims
        // `len` bid levels.
        let mut bytes = vec![tag, 1, 0, 0, 0];
        if tag == 6 {
            bytes.extend_from_slice(&[0; 8]);
        }
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.extend_from_slice(&rest);
        check_state(bytes)?;
    }

    #[test]
    fn a_decimal_is_parsed_exactly_or_refused_never_a_panic(
        text in prop_oneof![
            r"[+\-]?[0-9]{0,20}(\.[0-9]{0,12})?",
            r"[ +\-.0-9eE_a]{0,24}",
            any::<String>(),
        ],
    ) {
        let parsed = bounded(HEAP_LIMIT, {
            let text = text.clone();
            move || fixed::parse(&text)
        });
        if let Some(value) = parsed {
            prop_assert_eq!(fixed::parse(&fixed::format(value, 9)), Some(value), "{}", text);
        }
    }
}
