use super::*;
use tradsys_sdk::testing::{book_depth, instrument, px, units};
use tradsys_sdk::{
    Fill, InstrumentDefinition, NewOrder, OrderAccepted, OrderCanceled, OrderRejected, OrderType,
    RejectReason, Rejection, StatusChange, TimeInForce,
};

const MS: u64 = MS_NS;

fn strategy_with(extra: &[(&str, &str)], def: InstrumentDefinition) -> BookImbalance {
    // The tests are written for an entry of 0.3.
    let mut entries = vec![("smoothing", "1"), ("cooldown", "0"), ("entry", "0.3")];
    entries.extend_from_slice(extra);
    let mut s = BookImbalance::new(&Config::new(entries)).unwrap();
    s.on_market(&[MarketEvent::Instrument(def)], &mut Vec::new());
    s
}

fn strategy(extra: &[(&str, &str)]) -> BookImbalance {
    strategy_with(extra, instrument(0, "SYN-A"))
}

/// A book of instrument 0 at 100.00 / 100.01 with `bids` and `asks` units
/// on the levels from the touch out, a cent apart.
fn set_book(bids: &[i64], asks: &[i64]) {
    let side = |sizes: &[i64], start: i64, step: i64| -> Vec<(i64, i64)> {
        let at = |i: usize| start + step * i as i64;
        let levels = sizes.iter().enumerate();
        levels
            .map(|(i, &n)| (at(i) * px("0.01"), units(n)))
            .collect()
    };
    let (b, a) = (side(bids, 10000, -1), side(asks, 10001, 1));
    host::set_depth(book_depth(0, &b, &a));
}

/// The quote of the book `set_book` builds (touch sizes `bid` and `ask`).
fn quote_at(ts_ms: u64, bid: i64, ask: i64) -> MarketEvent {
    MarketEvent::Quote(Quote {
        instrument: 0,
        ts: ts_ms * MS,
        bid_price: px("100.00"),
        bid_size: units(bid),
        ask_price: px("100.01"),
        ask_size: units(ask),
    })
}

/// One batch of one quote over the book `bids`/`asks` at `ts_ms`.
fn batch(s: &mut BookImbalance, ts_ms: u64, bids: &[i64], asks: &[i64]) -> Vec<OrderCommand> {
    set_book(bids, asks);
    let mut out = Vec::new();
    s.on_market(&[quote_at(ts_ms, bids[0], asks[0])], &mut out);
    out
}

fn submits(out: &[OrderCommand]) -> Vec<NewOrder> {
    out.iter()
        .map(|cmd| match cmd {
            OrderCommand::Submit(o) => *o,
            other => panic!("expected a submit, got {other:?}"),
        })
        .collect()
}

fn one(out: &[OrderCommand]) -> NewOrder {
    match submits(out)[..] {
        [o] => o,
        ref more => panic!("expected one order, got {more:?}"),
    }
}

fn report(s: &mut BookImbalance, event: OrderEvent) {
    s.on_order_events(&[event], &mut Vec::new());
}

/// Accept `o` and fill `quantity` of it at `ts_ms`; cancel the rest (an IOC).
fn execute(s: &mut BookImbalance, o: &NewOrder, quantity: i64, ts_ms: u64) {
    let (id, instrument, ts) = (o.id, o.instrument, ts_ms * MS);
    report(
        s,
        OrderEvent::Accepted(OrderAccepted { id, instrument, ts }),
    );
    if quantity > 0 {
        let fill = Fill {
            id,
            instrument,
            ts,
            side: o.side,
            price: o.price,
            quantity,
            leaves_quantity: o.quantity - quantity,
            maker: false,
        };
        report(s, OrderEvent::Filled(fill));
    }
    if quantity < o.quantity {
        let canceled_quantity = o.quantity - quantity;
        let c = OrderCanceled {
            id,
            instrument,
            ts,
            canceled_quantity,
        };
        report(s, OrderEvent::Canceled(c));
    }
}

fn reject(s: &mut BookImbalance, o: &NewOrder, reason: RejectReason) {
    let rejection = Rejection {
        reason,
        message: None,
    };
    let (id, instrument) = (o.id, o.instrument);
    let r = OrderRejected {
        id,
        instrument,
        ts: 0,
        rejection,
    };
    report(s, OrderEvent::Rejected(r));
}

fn position(s: &BookImbalance) -> i64 {
    s.keeper.position(0)
}

// A bid-heavy, an ask-heavy and a balanced book (five levels).
const HEAVY: [i64; 5] = [900, 800, 800, 800, 800];
const LIGHT: [i64; 5] = [100, 100, 100, 100, 100];
const EVEN: [i64; 5] = [500, 500, 500, 500, 500];

#[test]
fn a_bid_heavy_book_buys_at_the_ask_and_an_ask_heavy_one_sells_at_the_bid() {
    let mut s = strategy(&[]);
    let buy = one(&batch(&mut s, 1, &HEAVY, &LIGHT));
    assert_eq!(
        (buy.id, buy.side, buy.time_in_force, buy.order_type),
        (1, Side::Buy, TimeInForce::Ioc, OrderType::Limit)
    );
    assert_eq!((buy.price, buy.quantity), (px("100.01"), units(100)));

    let mut s = strategy(&[]);
    let sell = one(&batch(&mut s, 1, &LIGHT, &HEAVY));
    assert_eq!((sell.side, sell.price), (Side::Sell, px("100.00")));
    // A balanced book, or a mild imbalance, sends nothing.
    let mut s = strategy(&[]);
    assert!(batch(&mut s, 1, &EVEN, &EVEN).is_empty());
    assert!(batch(&mut s, 2, &[600; 5], &[400; 5]).is_empty()); // 0.2
}

#[test]
fn only_the_configured_levels_count() {
    // The touch leans to the bid, the book behind it to the ask.
    let (bids, asks) = ([500, 100, 100, 100, 100], [100, 900, 900, 900, 900]);
    let mut s = strategy(&[("levels", "1")]);
    assert_eq!(one(&batch(&mut s, 1, &bids, &asks)).side, Side::Buy);
    let mut s = strategy(&[("levels", "5")]);
    assert_eq!(one(&batch(&mut s, 1, &bids, &asks)).side, Side::Sell);
    // Levels beyond the fifth are ignored: this is the same book.
    let mut s = strategy(&[]);
    let deep = [100, 100, 100, 100, 100, 9000, 9000];
    assert_eq!(one(&batch(&mut s, 1, &[500; 5], &deep)).side, Side::Buy);
}

#[test]
fn without_a_host_book_the_touch_sizes_are_the_imbalance() {
    let mut s = strategy(&[]);
    host::set_depth(book_depth(0, &[], &[]));
    let mut out = Vec::new();
    s.on_market(&[quote_at(1, 100, 900)], &mut out);
    assert_eq!(one(&out).side, Side::Sell);
}

#[test]
fn with_a_signal_subscribed_the_signal_is_the_score_not_the_book() {
    let mut s = strategy(&[("signals", "imbalance:5"), ("smoothing", "1")]);
    let id = tradsys_sdk::signals::id("imbalance:5").unwrap();
    // The book leans to the bid; the signal says the offer side is heavy.
    set_book(&HEAVY, &LIGHT);
    let mut out = Vec::new();
    let events = [
        quote_at(1, 900, 100),
        tradsys_sdk::signals::signal(0, 1, id, -0.6),
    ];
    s.on_market(&events, &mut out);
    assert_eq!(one(&out).side, Side::Sell);
    // A batch without the signal leaves the average alone.
    let before = s.instruments[&0].average;
    let mut out = Vec::new();
    s.on_market(&[quote_at(2, 900, 100)], &mut out);
    assert_eq!(s.instruments[&0].average, before);
}

#[test]
fn the_average_warms_up_and_smooths_over_quote_updates() {
    let mut s = strategy(&[("smoothing", "3")]); // weight 1/2 per update
    // Warm-up: three quote updates before any order.
    assert!(batch(&mut s, 1, &HEAVY, &LIGHT).is_empty());
    assert!(batch(&mut s, 2, &HEAVY, &LIGHT).is_empty());
    // A balanced reading halves the average: still above 0.3, a buy.
    let heavy = s.instruments[&0].average;
    let o = one(&batch(&mut s, 3, &EVEN, &EVEN));
    assert_eq!(o.side, Side::Buy);
    assert!((s.instruments[&0].average - heavy / 2.0).abs() < 1e-12);
    // A batch of two quotes counts twice: h/2 -> -h/4 -> -5h/8, a sell.
    execute(&mut s, &o, 0, 3);
    set_book(&LIGHT, &HEAVY);
    let mut out = Vec::new();
    let twice = [quote_at(4, 900, 100), quote_at(5, 100, 900)];
    s.on_market(&twice, &mut out);
    assert!((s.instruments[&0].average + heavy * 0.625).abs() < 1e-12);
    assert_eq!(one(&out).side, Side::Sell);
}

#[test]
fn one_decision_per_batch_on_the_last_quote() {
    let mut s = strategy(&[]);
    set_book(&HEAVY, &LIGHT);
    let moved = |ts, ask: &str| {
        MarketEvent::Quote(Quote {
            instrument: 0,
            ts,
            bid_price: px("100.00"),
            bid_size: units(900),
            ask_price: px(ask),
            ask_size: units(100),
        })
    };
    let events = [moved(1, "100.03"), moved(2, "100.02"), moved(3, "100.01")];
    let mut out = Vec::new();
    s.on_market(&events, &mut out);
    assert_eq!(one(&out).price, px("100.01"));
}

#[test]
fn fills_build_the_position_up_to_max_position_one_order_at_a_time() {
    let mut s = strategy(&[("max_position", "250"), ("max_hold_ms", "0")]);
    let o = one(&batch(&mut s, 1, &HEAVY, &LIGHT));
    // Nothing more until that order is answered.
    assert!(batch(&mut s, 2, &HEAVY, &LIGHT).is_empty());
    execute(&mut s, &o, units(100), 2);
    assert_eq!(position(&s), units(100));
    let o = one(&batch(&mut s, 3, &HEAVY, &LIGHT));
    assert_eq!(o.quantity, units(100));
    // Partly filled, the rest canceled: the position counts what filled.
    execute(&mut s, &o, units(60), 3);
    assert_eq!(position(&s), units(160));
    let o = one(&batch(&mut s, 4, &HEAVY, &LIGHT));
    assert_eq!(o.quantity, units(90), "only the room left");
    execute(&mut s, &o, units(90), 4);
    assert_eq!(position(&s), units(250));
    assert!(batch(&mut s, 5, &HEAVY, &LIGHT).is_empty());
    assert_eq!(s.keeper.last_id(), 3);
}

#[test]
fn a_long_is_flattened_when_the_imbalance_crosses_back_through_exit() {
    let mut s = strategy(&[("exit", "0.1"), ("max_hold_ms", "0")]);
    let o = one(&batch(&mut s, 1, &HEAVY, &LIGHT));
    execute(&mut s, &o, units(100), 1);
    let o = one(&batch(&mut s, 2, &HEAVY, &LIGHT));
    execute(&mut s, &o, units(100), 2);
    // 0.2: below entry but above exit, so held (no adding either).
    assert!(batch(&mut s, 3, &[600; 5], &[400; 5]).is_empty());
    // 0.1: at exit, the whole position goes at the bid.
    let close = one(&batch(&mut s, 4, &[550; 5], &[450; 5]));
    assert_eq!(
        (close.side, close.price, close.quantity, close.time_in_force),
        (Side::Sell, px("100.00"), units(200), TimeInForce::Ioc)
    );
    // Half fills: the rest is sent again on the next batch.
    execute(&mut s, &close, units(120), 4);
    assert_eq!(position(&s), units(80));
    let rest = one(&batch(&mut s, 5, &EVEN, &EVEN));
    assert_eq!((rest.side, rest.quantity), (Side::Sell, units(80)));
    execute(&mut s, &rest, units(80), 5);
    assert_eq!(position(&s), 0);
    assert!(batch(&mut s, 6, &EVEN, &EVEN).is_empty());
}

#[test]
fn a_short_reversing_to_a_buy_signal_is_exited_before_any_buy() {
    let mut s = strategy(&[("max_hold_ms", "0")]);
    let o = one(&batch(&mut s, 1, &LIGHT, &HEAVY));
    execute(&mut s, &o, units(100), 1);
    assert_eq!(position(&s), -units(100));
    let close = one(&batch(&mut s, 2, &HEAVY, &LIGHT));
    assert_eq!((close.side, close.quantity), (Side::Buy, units(100)));
    assert_eq!(close.price, px("100.01"));
    execute(&mut s, &close, units(100), 2);
    // Flat now, the buy signal enters.
    let buy = one(&batch(&mut s, 3, &HEAVY, &LIGHT));
    assert_eq!((buy.side, buy.quantity), (Side::Buy, units(100)));
}

#[test]
fn max_hold_exits_and_blocks_that_side_until_the_imbalance_resets() {
    let mut s = strategy(&[("max_hold_ms", "1000"), ("max_position", "100")]);
    let o = one(&batch(&mut s, 1000, &HEAVY, &LIGHT));
    execute(&mut s, &o, units(100), 1001);
    assert!(batch(&mut s, 1500, &HEAVY, &LIGHT).is_empty());
    assert!(
        batch(&mut s, 2000, &HEAVY, &LIGHT).is_empty(),
        "999 ms held"
    );
    let close = one(&batch(&mut s, 2001, &HEAVY, &LIGHT));
    assert_eq!((close.side, close.quantity), (Side::Sell, units(100)));
    execute(&mut s, &close, units(100), 2001);
    // Still bid-heavy: no new long.
    assert!(batch(&mut s, 2100, &HEAVY, &LIGHT).is_empty());
    // The imbalance comes back through exit, which lifts the block, and
    // the short signal enters...
    let sell = one(&batch(&mut s, 2200, &LIGHT, &HEAVY));
    assert_eq!(sell.side, Side::Sell);
    execute(&mut s, &sell, 0, 2200); // nothing filled
    // ...and longs are allowed again.
    let buy = one(&batch(&mut s, 2300, &HEAVY, &LIGHT));
    assert_eq!(buy.side, Side::Buy);
}

#[test]
fn a_remainder_below_one_lot_does_not_block_the_strategy() {
    let mut s = strategy(&[("max_hold_ms", "0")]);
    let o = one(&batch(&mut s, 1, &HEAVY, &LIGHT));
    execute(&mut s, &o, px("50.5"), 1);
    let close = one(&batch(&mut s, 2, &LIGHT, &HEAVY));
    assert_eq!((close.side, close.quantity), (Side::Sell, units(50)));
    execute(&mut s, &close, units(50), 2);
    assert_eq!(position(&s), px("0.5"));
    // Half a unit cannot be closed: the sell signal enters a short.
    let sell = one(&batch(&mut s, 3, &LIGHT, &HEAVY));
    assert_eq!((sell.side, sell.quantity), (Side::Sell, units(100)));
}

#[test]
fn a_rejection_cools_down_for_quote_updates() {
    let mut s = strategy(&[("cooldown", "2")]);
    let o = one(&batch(&mut s, 1, &HEAVY, &LIGHT));
    reject(&mut s, &o, RejectReason::PositionLimit);
    assert_eq!(position(&s), 0);
    assert!(batch(&mut s, 2, &HEAVY, &LIGHT).is_empty());
    let again = one(&batch(&mut s, 3, &HEAVY, &LIGHT));
    assert_eq!(again.id, 2, "a new id, never a reused one");
}

#[test]
fn an_order_never_answered_is_forgotten() {
    let mut s = strategy(&[]);
    let o = one(&batch(&mut s, 1, &HEAVY, &LIGHT));
    for t in 2..FORGET_AFTER as u64 + 1 {
        assert!(batch(&mut s, t, &HEAVY, &LIGHT).is_empty());
    }
    let next = one(&batch(&mut s, 200, &HEAVY, &LIGHT));
    assert_eq!(next.id, o.id + 1);
}

#[test]
fn prices_go_to_the_tick_and_quantities_to_the_lot() {
    let def = InstrumentDefinition {
        tick_size: px("0.25"),
        lot_size: units(10),
        ..instrument(0, "ES")
    };
    let mut s = strategy_with(&[("quantity", "25")], def);
    host::set_depth(book_depth(0, &[], &[]));
    let quote = |bid: &str, ask: &str, bid_size, ask_size| {
        MarketEvent::Quote(Quote {
            instrument: 0,
            ts: 0,
            bid_price: px(bid),
            bid_size: units(bid_size),
            ask_price: px(ask),
            ask_size: units(ask_size),
        })
    };
    let mut out = Vec::new();
    s.on_market(&[quote("4800.10", "4800.30", 900, 100)], &mut out);
    let buy = one(&out);
    assert_eq!((buy.price, buy.quantity), (px("4800.50"), units(20)));
    execute(&mut s, &buy, 0, 0);
    let mut out = Vec::new();
    s.on_market(&[quote("4800.10", "4800.30", 100, 900)], &mut out);
    let sell = one(&out);
    assert_eq!((sell.price, sell.quantity), (px("4800.00"), units(20)));
}

#[test]
fn nothing_is_sent_while_the_instrument_does_not_trade() {
    let mut s = strategy(&[]);
    let status = |status| {
        MarketEvent::Status(StatusChange {
            instrument: 0,
            ts: 0,
            status,
        })
    };
    s.on_market(&[status(TradingStatus::Halted)], &mut Vec::new());
    assert!(batch(&mut s, 1, &HEAVY, &LIGHT).is_empty());
    s.on_market(&[status(TradingStatus::Trading)], &mut Vec::new());
    assert_eq!(one(&batch(&mut s, 2, &HEAVY, &LIGHT)).side, Side::Buy);
}

/// Books swinging between bid- and ask-heavy; every order is accepted and
/// fills a third. Returns every command.
fn scripted_session(s: &mut BookImbalance, from: u64, to: u64) -> Vec<String> {
    let mut log = Vec::new();
    for t in from..to {
        let lean = (t % 40) as i64 - 20; // -20..19
        let bids: Vec<i64> = (0..5).map(|i| 500 + lean * 20 + i * 7).collect();
        let asks: Vec<i64> = (0..5)
            .map(|i| 500 - lean * 20 + (t as i64 % 3) * i)
            .collect();
        for cmd in batch(s, t * 100, &bids, &asks) {
            log.push(format!("{cmd:?}"));
            if let OrderCommand::Submit(o) = cmd {
                let third = fixed::floor_to_tick(o.quantity / 3, units(1));
                execute(s, &o, third, t * 100);
            }
        }
    }
    log
}

#[test]
fn saved_state_resumes_identically() {
    let config = [
        ("smoothing", "4"),
        ("cooldown", "3"),
        ("max_hold_ms", "1500"),
    ];
    let mut a = strategy(&config);
    assert!(!scripted_session(&mut a, 0, 130).is_empty());
    assert_ne!(position(&a), 0, "saved holding a position");
    let saved = a.save_state();
    let mut b = strategy(&config);
    b.load_state(&saved).unwrap();
    assert_eq!(b.save_state(), saved);
    let after_a = scripted_session(&mut a, 130, 400);
    assert!(!after_a.is_empty());
    assert_eq!(after_a, scripted_session(&mut b, 130, 400));
}

#[test]
fn saved_state_with_an_order_in_flight_resumes_it() {
    let mut a = strategy(&[]);
    let o = one(&batch(&mut a, 1, &HEAVY, &LIGHT));
    let mut b = strategy(&[]);
    b.load_state(&a.save_state()).unwrap();
    assert!(
        batch(&mut b, 2, &HEAVY, &LIGHT).is_empty(),
        "still in flight"
    );
    execute(&mut b, &o, units(100), 2);
    assert_eq!(position(&b), units(100));
    assert_eq!(one(&batch(&mut b, 3, &HEAVY, &LIGHT)).id, 2);
}

#[test]
fn garbage_state_is_refused_and_changes_nothing() {
    let mut s = strategy(&[]);
    let o = one(&batch(&mut s, 1, &HEAVY, &LIGHT));
    execute(&mut s, &o, units(50), 1);
    let saved = s.save_state();
    let mut bad_version = saved.clone();
    bad_version[0] = 9;
    let mut bad_trailing = saved.clone();
    bad_trailing.push(0);
    for garbage in [
        &[][..],
        &bad_version,
        &saved[..saved.len() - 1],
        &bad_trailing,
        &[1, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255][..],
    ] {
        assert!(s.load_state(garbage).is_err());
        assert_eq!(s.save_state(), saved);
    }
    assert!(s.load_state(&saved).is_ok());
}

#[test]
fn bad_config_names_the_key() {
    let err = |kv: (&str, &str)| BookImbalance::new(&Config::new([kv])).unwrap_err();
    assert!(err(("levels", "0")).contains("`levels`"));
    assert!(err(("levels", "101")).contains("`levels`"));
    assert!(err(("smoothing", "0")).contains("`smoothing`"));
    assert!(err(("entry", "1")).contains("`entry`"));
    assert!(err(("entry", "NaN")).contains("`entry`"));
    assert!(err(("exit", "0.3")).contains("`exit`"));
    assert!(err(("exit", "-0.3")).contains("`exit`"));
    assert!(err(("quantity", "0")).contains("`quantity`"));
    assert!(err(("max_position", "50")).contains("`max_position`"));
    assert!(err(("max_hold_ms", "-1")).contains("`max_hold_ms`"));
    assert!(err(("cooldown", "x")).contains("`cooldown`"));
    assert!(BookImbalance::new(&Config::default()).is_ok());
    let ok = [("exit", "-0.1"), ("max_hold_ms", "0"), ("levels", "100")];
    assert!(BookImbalance::new(&Config::new(ok)).is_ok());
}
