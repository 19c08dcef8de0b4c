use super::*;
use tradsys_sdk::{
    BookDepth, DepthLevel, Fill, InstrumentDefinition, ModifyOrder, NewOrder, OrderAccepted,
    OrderCanceled, OrderModified, OrderRejected, RejectReason, Rejection,
};

const TICK: i64 = fixed::SCALE / 100;
const MS: u64 = 1_000_000;

fn units(n: i64) -> i64 {
    fixed::from_units(n)
}

fn strategy(extra: &[(&str, &str)]) -> MarketMaker {
    let mut entries = vec![
        ("skew_ticks_per_lot", "0"),
        ("min_requote_ms", "0"),
        ("cooldown", "0"),
    ];
    entries.extend_from_slice(extra);
    let mut s = MarketMaker::new(&Config::new(entries)).unwrap();
    let def = InstrumentDefinition {
        id: 0,
        symbol: "SYN-A".into(),
        tick_size: TICK,
        lot_size: fixed::SCALE,
        price_precision: 2,
        size_precision: 0,
        multiplier: 1,
    };
    s.on_market(&[MarketEvent::Instrument(def)], &mut Vec::new());
    s
}

/// A touch of bid `b` and ask `a` (in cents, sizes 500 each) at `ms` market milliseconds.
fn quote(b: i64, a: i64, ms: u64) -> MarketEvent {
    MarketEvent::Quote(Quote {
        instrument: 0,
        ts: ms * MS,
        bid_price: b * TICK,
        bid_size: units(500),
        ask_price: a * TICK,
        ask_size: units(500),
    })
}

fn feed(s: &mut MarketMaker, events: &[MarketEvent]) -> Vec<OrderCommand> {
    let mut out = Vec::new();
    s.on_market(events, &mut out);
    out
}

fn report(s: &mut MarketMaker, event: OrderEvent) {
    s.on_order_events(&[event], &mut Vec::new());
}

fn accept(s: &mut MarketMaker, id: u64) {
    report(
        s,
        OrderEvent::Accepted(OrderAccepted {
            id,
            instrument: 0,
            ts: 0,
        }),
    );
}

fn fill(s: &mut MarketMaker, id: u64, side: Side, price: i64, quantity: i64, leaves: i64) {
    report(
        s,
        OrderEvent::Filled(Fill {
            id,
            instrument: 0,
            ts: 0,
            side,
            price,
            quantity,
            leaves_quantity: leaves,
            maker: true,
        }),
    );
}

fn modified(s: &mut MarketMaker, m: &ModifyOrder, leaves: i64) {
    report(
        s,
        OrderEvent::Modified(OrderModified {
            id: m.id,
            instrument: 0,
            ts: 0,
            price: m.price,
            leaves_quantity: leaves,
        }),
    );
}

fn canceled(s: &mut MarketMaker, id: u64) {
    report(
        s,
        OrderEvent::Canceled(OrderCanceled {
            id,
            instrument: 0,
            ts: 0,
            canceled_quantity: units(100),
        }),
    );
}

fn reject(s: &mut MarketMaker, id: u64, reason: RejectReason) {
    report(
        s,
        OrderEvent::Rejected(OrderRejected {
            id,
            instrument: 0,
            ts: 0,
            rejection: Rejection {
                reason,
                message: None,
            },
        }),
    );
}

fn submits(out: &[OrderCommand]) -> Vec<NewOrder> {
    out.iter()
        .map(|cmd| match cmd {
            OrderCommand::Submit(o) => *o,
            other => panic!("expected a submit, got {other:?}"),
        })
        .collect()
}

fn modifies(out: &[OrderCommand]) -> Vec<ModifyOrder> {
    out.iter()
        .map(|cmd| match cmd {
            OrderCommand::Modify(m) => *m,
            other => panic!("expected a modify, got {other:?}"),
        })
        .collect()
}

fn cancels(out: &[OrderCommand]) -> Vec<u64> {
    out.iter()
        .map(|cmd| match cmd {
            OrderCommand::Cancel(c) => c.id,
            other => panic!("expected a cancel, got {other:?}"),
        })
        .collect()
}

/// Side, price in cents and size in units of submits.
fn book(orders: &[NewOrder]) -> Vec<(Side, i64, i64)> {
    orders
        .iter()
        .map(|o| (o.side, o.price / TICK, o.quantity / fixed::SCALE))
        .collect()
}

/// Submit both quotes on `q` and accept them; returns (bid, ask).
fn quoted(s: &mut MarketMaker, q: MarketEvent) -> (NewOrder, NewOrder) {
    let out = submits(&feed(s, &[q]));
    assert_eq!(out.len(), 2, "{out:?}");
    accept(s, out[0].id);
    accept(s, out[1].id);
    (out[0], out[1])
}

#[test]
fn quotes_both_sides_around_the_mid_never_inside_the_touch() {
    let mut s = strategy(&[("half_spread_ticks", "7")]);
    // Mid 100.05: 7 ticks away is 99.98 and 100.12, both behind the touch.
    let out = submits(&feed(&mut s, &[quote(10000, 10010, 0)]));
    assert_eq!(
        book(&out),
        [(Side::Buy, 9998, 100), (Side::Sell, 10012, 100)]
    );
    assert!(
        out.iter()
            .all(|o| o.order_type == OrderType::Limit && o.time_in_force == TimeInForce::Gtc)
    );
    assert_eq!((out[0].id, out[1].id), (1, 2));

    // A 2-tick spread: the half-spread would put both inside; they join the touch.
    let mut s = strategy(&[("half_spread_ticks", "1")]);
    let out = submits(&feed(&mut s, &[quote(10000, 10002, 0)]));
    assert_eq!(
        book(&out),
        [(Side::Buy, 10000, 100), (Side::Sell, 10002, 100)]
    );
    // Mid 100.025, 4 ticks each way: the bid rounds down, the ask up.
    let mut s = strategy(&[("half_spread_ticks", "4")]);
    let out = submits(&feed(&mut s, &[quote(10000, 10005, 0)]));
    assert_eq!(
        book(&out),
        [(Side::Buy, 9998, 100), (Side::Sell, 10007, 100)]
    );
    // Half the spread or less: both join the touch.
    let mut s = strategy(&[("half_spread_ticks", "5")]);
    let out = submits(&feed(&mut s, &[quote(10000, 10010, 0)]));
    assert_eq!(
        book(&out),
        [(Side::Buy, 10000, 100), (Side::Sell, 10010, 100)]
    );
}

#[test]
fn the_microprice_leans_towards_the_thin_side_of_the_book() {
    let depth = |bid_size, ask_size| BookDepth {
        instrument: 0,
        bids: vec![DepthLevel {
            price: 10000 * TICK,
            quantity: units(bid_size),
            orders: 3,
        }],
        asks: vec![DepthLevel {
            price: 10010 * TICK,
            quantity: units(ask_size),
            orders: 5,
        }],
    };
    // Thin bid, heavy ask: the microprice is 100.01, near the bid.
    host::set_depth(depth(100, 900));
    let mut mid = strategy(&[("half_spread_ticks", "6")]);
    let mut micro = strategy(&[("half_spread_ticks", "6"), ("reference", "microprice")]);
    let q = quote(10000, 10010, 0);
    assert_eq!(
        book(&submits(&feed(&mut mid, std::slice::from_ref(&q)))),
        [(Side::Buy, 9999, 100), (Side::Sell, 10011, 100)]
    );
    // 100.01 - 6 ticks = 99.95; 100.07 is inside the ask: at the ask.
    assert_eq!(
        book(&submits(&feed(&mut micro, &[q]))),
        [(Side::Buy, 9995, 100), (Side::Sell, 10010, 100)]
    );
    // The other way round: 100.09, near the ask.
    host::set_depth(depth(900, 100));
    let mut micro = strategy(&[("half_spread_ticks", "6"), ("reference", "microprice")]);
    assert_eq!(
        book(&submits(&feed(&mut micro, &[quote(10000, 10010, 0)]))),
        [(Side::Buy, 10000, 100), (Side::Sell, 10015, 100)]
    );
    host::set_depth(BookDepth {
        instrument: 0,
        bids: Vec::new(),
        asks: Vec::new(),
    });
}

#[test]
fn fills_move_the_position_and_skew_both_quotes_against_it() {
    let mut s = strategy(&[("half_spread_ticks", "15"), ("skew_ticks_per_lot", "0.02")]);
    let (bid, ask) = quoted(&mut s, quote(10000, 10020, 0));
    assert_eq!((bid.price, ask.price), (9995 * TICK, 10025 * TICK));
    // The bid fills in two parts: long 100.
    fill(&mut s, bid.id, Side::Buy, bid.price, units(40), units(60));
    assert_eq!(s.keeper.position(0), units(40));
    fill(&mut s, bid.id, Side::Buy, bid.price, units(60), 0);
    assert_eq!(s.keeper.position(0), units(100));
    assert!(working(&s.keeper, 0, Side::Buy).is_none());
    // 100 lots × 0.02 = 2 ticks lower: a new bid at 100.03, the ask moved to 100.13.
    let out = feed(&mut s, &[quote(10000, 10020, 1)]);
    let OrderCommand::Submit(new_bid) = out[0] else {
        panic!("{out:?}")
    };
    assert_eq!((new_bid.id, new_bid.price), (3, 9993 * TICK));
    let moved = modifies(&out[1..]);
    assert_eq!(moved.len(), 1);
    assert_eq!(
        (moved[0].id, moved[0].price, moved[0].quantity),
        (ask.id, 10023 * TICK, units(100))
    );
    // The ask fills: flat again, the skew is gone.
    modified(&mut s, &moved[0], units(100));
    accept(&mut s, new_bid.id);
    fill(&mut s, ask.id, Side::Sell, 10023 * TICK, units(100), 0);
    assert_eq!(s.keeper.position(0), 0);
    let out = feed(&mut s, &[quote(10000, 10020, 2)]);
    let OrderCommand::Modify(m) = out[0] else {
        panic!("{out:?}")
    };
    assert_eq!((m.id, m.price), (new_bid.id, 9995 * TICK));
    assert!(matches!(out[1], OrderCommand::Submit(o) if o.price == 10025 * TICK && o.id == 4));
}

#[test]
fn a_modify_restates_the_filled_part_and_the_full_size() {
    let mut s = strategy(&[("half_spread_ticks", "15")]);
    let (bid, _) = quoted(&mut s, quote(10000, 10020, 0));
    fill(&mut s, bid.id, Side::Buy, bid.price, units(30), units(70));
    let w = working(&s.keeper, 0, Side::Buy).unwrap().clone();
    assert_eq!((w.leaves, w.filled), (units(70), units(30)));
    // The market moves up 2 ticks: the bid follows, 30 filled + 100 working.
    let out = modifies(&feed(&mut s, &[quote(10002, 10022, 1)]));
    let bid_move = out.iter().find(|m| m.id == bid.id).unwrap();
    assert_eq!(
        (bid_move.price, bid_move.quantity),
        (9997 * TICK, units(130))
    );
}

#[test]
fn max_position_stops_the_side_that_would_add_and_caps_quote_sizes() {
    let mut s = strategy(&[
        ("half_spread_ticks", "15"),
        ("quantity", "100"),
        ("max_position", "150"),
    ]);
    let (bid, ask) = quoted(&mut s, quote(10000, 10020, 0));
    fill(&mut s, bid.id, Side::Buy, bid.price, units(100), 0);
    // Long 100 of 150: the new bid is only 50.
    let out = submits(&feed(&mut s, &[quote(10000, 10020, 1)]));
    assert_eq!(book(&out), [(Side::Buy, 9995, 50)]);
    accept(&mut s, out[0].id);
    fill(&mut s, out[0].id, Side::Buy, out[0].price, units(50), 0);
    assert_eq!(s.keeper.position(0), units(150));
    // At the limit: no bid at all, the ask keeps working.
    assert!(feed(&mut s, &[quote(10000, 10020, 2)]).is_empty());
    assert!(working(&s.keeper, 0, Side::Buy).is_none());
    assert_eq!(working(&s.keeper, 0, Side::Sell).unwrap().id, ask.id);
}

#[test]
fn requotes_only_past_requote_ticks_and_at_most_once_per_min_requote_ms() {
    let mut s = strategy(&[
        ("half_spread_ticks", "15"),
        ("requote_ticks", "2"),
        ("min_requote_ms", "100"),
    ]);
    let (bid, ask) = quoted(&mut s, quote(10000, 10020, 0));
    // Submitted at 0 ms: a 3-tick move at 50 ms waits.
    assert!(feed(&mut s, &[quote(10003, 10023, 50)]).is_empty());
    // At 100 ms it goes out, both sides.
    let out = modifies(&feed(&mut s, &[quote(10003, 10023, 100)]));
    assert_eq!(
        out.iter()
            .map(|m| (m.id, m.price / TICK))
            .collect::<Vec<_>>(),
        [(bid.id, 9998), (ask.id, 10028)]
    );
    // Nothing more while unanswered.
    assert!(feed(&mut s, &[quote(10010, 10030, 300)]).is_empty());
    modified(&mut s, &out[0], units(100));
    modified(&mut s, &out[1], units(100));
    // One tick is below `requote_ticks`.
    assert!(feed(&mut s, &[quote(10004, 10024, 400)]).is_empty());
    // Two ticks: re-quoted.
    assert_eq!(
        modifies(&feed(&mut s, &[quote(10005, 10025, 410)])).len(),
        2
    );
}

#[test]
fn a_batch_is_decided_once_on_its_last_quote() {
    let mut s = strategy(&[("half_spread_ticks", "15")]);
    let out = submits(&feed(
        &mut s,
        &[
            quote(10000, 10020, 0),
            quote(10001, 10021, 1),
            quote(10004, 10024, 2),
        ],
    ));
    assert_eq!(
        book(&out),
        [(Side::Buy, 9999, 100), (Side::Sell, 10029, 100)]
    );
}

#[test]
fn a_one_sided_or_crossed_book_cancels_the_quotes_until_it_is_two_sided() {
    let mut s = strategy(&[("half_spread_ticks", "15")]);
    let (bid, ask) = quoted(&mut s, quote(10000, 10020, 0));
    let one_sided = MarketEvent::Quote(Quote {
        instrument: 0,
        ts: MS,
        bid_price: 10000 * TICK,
        bid_size: units(500),
        ask_price: 0,
        ask_size: 0,
    });
    assert_eq!(cancels(&feed(&mut s, &[one_sided])), [bid.id, ask.id]);
    // Not asked twice; once confirmed nothing is quoted on a crossed book.
    assert!(feed(&mut s, &[quote(10020, 10010, 2)]).is_empty());
    canceled(&mut s, bid.id);
    canceled(&mut s, ask.id);
    assert!(feed(&mut s, &[quote(10020, 10010, 3)]).is_empty());
    assert!(feed(&mut s, &[quote(10010, 10010, 4)]).is_empty(), "locked");
    // Two-sided again: new quotes with new ids.
    let out = submits(&feed(&mut s, &[quote(10000, 10020, 5)]));
    assert_eq!(out.iter().map(|o| o.id).collect::<Vec<_>>(), [3, 4]);
    // A crossed book cancels working quotes just the same.
    accept(&mut s, 3);
    accept(&mut s, 4);
    assert_eq!(cancels(&feed(&mut s, &[quote(10030, 10025, 6)])), [3, 4]);
}

#[test]
fn a_quote_that_trades_with_ours_holds_the_instrument_until_the_fill_is_known() {
    let mut s = strategy(&[("half_spread_ticks", "15")]);
    let (bid, _) = quoted(&mut s, quote(10000, 10020, 0));
    // The ask drops to our bid: it is being filled, leave both quotes alone.
    assert!(feed(&mut s, &[quote(9990, 9995, 1)]).is_empty());
    fill(&mut s, bid.id, Side::Buy, bid.price, units(100), 0);
    // Known: a new bid (99.77, 15 ticks below the 99.925 mid), and the ask follows the market down.
    let out = feed(&mut s, &[quote(9990, 9995, 2)]);
    assert!(
        matches!(out[0], OrderCommand::Submit(o) if o.side == Side::Buy && o.price == 9977 * TICK),
        "{out:?}"
    );
    assert_eq!(modifies(&out[1..])[0].price, 10008 * TICK);
}

#[test]
fn a_rejection_cools_down_and_a_refused_modify_leaves_the_quote_working() {
    let mut s = strategy(&[("half_spread_ticks", "15"), ("cooldown", "2")]);
    let out = submits(&feed(&mut s, &[quote(10000, 10020, 0)]));
    accept(&mut s, out[0].id);
    reject(&mut s, out[1].id, RejectReason::RateLimit);
    assert!(working(&s.keeper, 0, Side::Sell).is_none());
    // Two quote updates of cooldown: no new ask, no modify of the bid.
    assert!(feed(&mut s, &[quote(10003, 10023, 1)]).is_empty());
    let out = feed(&mut s, &[quote(10003, 10023, 2)]);
    assert_eq!(out.len(), 2, "{out:?}");
    let OrderCommand::Modify(m) = out[0] else {
        panic!("{out:?}")
    };
    let OrderCommand::Submit(new_ask) = out[1] else {
        panic!("{out:?}")
    };
    assert_eq!(new_ask.id, 3, "ids are never reused");
    accept(&mut s, new_ask.id);
    // The modify is refused by a validator: the bid still works at its old price.
    reject(&mut s, m.id, RejectReason::PriceCollar);
    let w = working(&s.keeper, 0, Side::Buy).unwrap().clone();
    assert_eq!((w.id, w.price, w.pending), (m.id, 9995 * TICK, None));
    // During the cooldown a one-sided book still cancels.
    let one_sided = MarketEvent::Quote(Quote {
        instrument: 0,
        ts: 3 * MS,
        bid_price: 0,
        bid_size: 0,
        ask_price: 10023 * TICK,
        ask_size: units(5),
    });
    assert_eq!(cancels(&feed(&mut s, &[one_sided])), [m.id, new_ask.id]);
}

#[test]
fn a_rejection_racing_with_the_final_fill_is_ignored() {
    let mut s = strategy(&[("half_spread_ticks", "15"), ("cooldown", "5")]);
    let (bid, _) = quoted(&mut s, quote(10000, 10020, 0));
    let out = modifies(&feed(&mut s, &[quote(10002, 10022, 1)]));
    assert_eq!(out.len(), 2);
    // The bid filled before the modify reached it.
    fill(&mut s, bid.id, Side::Buy, bid.price, units(100), 0);
    reject(&mut s, bid.id, RejectReason::UnknownOrder);
    assert!(!s.keeper.cooling(0));
    assert!(working(&s.keeper, 0, Side::Buy).is_none());
    // A modify refused as unknown for a quote we still hold: it is gone.
    reject(&mut s, out[1].id, RejectReason::UnknownOrder);
    assert!(working(&s.keeper, 0, Side::Sell).is_none());
    assert!(s.keeper.cooling(0));
}

#[test]
fn quantities_follow_the_lot_and_prices_the_tick() {
    let mut s = strategy(&[("half_spread_ticks", "1"), ("quantity", "7")]);
    let def = InstrumentDefinition {
        id: 0,
        symbol: "ES".into(),
        tick_size: fixed::SCALE / 4,
        lot_size: units(2),
        price_precision: 2,
        size_precision: 0,
        multiplier: 50,
    };
    feed(&mut s, &[MarketEvent::Instrument(def)]);
    let q = MarketEvent::Quote(Quote {
        instrument: 0,
        ts: 0,
        bid_price: fixed::parse("4800.25").unwrap(),
        bid_size: units(10),
        ask_price: fixed::parse("4801.25").unwrap(),
        ask_size: units(10),
    });
    let out = submits(&feed(&mut s, &[q]));
    assert_eq!(
        out.iter()
            .map(|o| (o.price, o.quantity))
            .collect::<Vec<_>>(),
        [
            (fixed::parse("4800.25").unwrap(), units(6)),
            (fixed::parse("4801.25").unwrap(), units(6))
        ]
    );
}

/// Accept everything, fill some quotes partly or fully, confirm modifies and cancels;
/// returns every command.
fn scripted_session(s: &mut MarketMaker, steps: std::ops::Range<u64>) -> Vec<String> {
    let mut log = Vec::new();
    for i in steps {
        let b = 10000 + (i % 40).abs_diff(20) as i64 * 2 + (i % 3) as i64;
        let spread = if i % 17 == 0 { -1 } else { 2 + (i % 4) as i64 };
        let out = feed(s, &[quote(b, b + spread, i * 20)]);
        assert!(s.keeper.orders(0).count() <= 2, "bounded");
        for cmd in out {
            log.push(format!("{cmd:?}"));
            match cmd {
                OrderCommand::Submit(o) => {
                    accept(s, o.id);
                    if i % 5 == 0 {
                        fill(s, o.id, o.side, o.price, o.quantity / 2, o.quantity / 2);
                    }
                }
                OrderCommand::Modify(m) => {
                    let leaves = m.quantity - s.keeper.order(m.id).unwrap().filled;
                    modified(s, &m, leaves);
                    if i % 7 == 0 {
                        let side = if working(&s.keeper, 0, Side::Buy).is_some_and(|w| w.id == m.id)
                        {
                            Side::Buy
                        } else {
                            Side::Sell
                        };
                        fill(s, m.id, side, m.price, leaves, 0);
                    }
                }
                OrderCommand::Cancel(c) => canceled(s, c.id),
            }
        }
    }
    log.push(format!("position {}", s.keeper.position(0)));
    log
}

#[test]
fn saved_state_resumes_identically() {
    let config = [
        ("half_spread_ticks", "2"),
        ("skew_ticks_per_lot", "0.01"),
        ("min_requote_ms", "50"),
        ("max_position", "300"),
    ];
    let mut a = strategy(&config);
    assert!(scripted_session(&mut a, 0..100).len() > 10);
    assert!(a.keeper.orders(0).next().is_some());
    assert_ne!(a.keeper.position(0), 0);
    let saved = a.save_state();
    let mut b = strategy(&config);
    b.load_state(&saved).unwrap();
    assert_eq!(b.save_state(), saved);
    let after_a = scripted_session(&mut a, 100..300);
    assert!(after_a.len() > 10);
    assert_eq!(after_a, scripted_session(&mut b, 100..300));
}

#[test]
fn garbage_state_is_refused_and_changes_nothing() {
    let mut s = strategy(&[]);
    quoted(&mut s, quote(10000, 10020, 0));
    let saved = s.save_state();
    // The keeper's bytes follow the format byte and their length (a varint):
    // their own format byte, then the last id sent.
    let mut future_id = saved.clone();
    let last_id = if saved[1] & 0x80 == 0 { 3 } else { 4 };
    assert_eq!(saved[last_id], 2, "two orders sent");
    future_id[last_id] = 1; // last id 1, but order 2 is working
    let too_many: BTreeMap<u32, Instrument> = (0..=MAX_INSTRUMENTS as u32)
        .map(|i| (i, Instrument::default()))
        .collect();
    let many = state::save(STATE_VERSION, &(&s.keeper, &too_many));
    for garbage in [
        &[][..],
        &[2, 0, 0][..],
        &saved[..saved.len() - 3],
        &[&saved[..], &[0]].concat()[..],
        &future_id,
        &many,
    ] {
        assert!(s.load_state(garbage).is_err(), "{garbage:?}");
        assert_eq!(s.save_state(), saved);
    }
    assert!(s.load_state(&saved).is_ok());
}

#[test]
fn bad_config_names_the_key() {
    let err = |kv: (&str, &str)| MarketMaker::new(&Config::new([kv])).unwrap_err();
    assert!(err(("reference", "last")).contains("`reference`"));
    assert!(err(("half_spread_ticks", "0")).contains("`half_spread_ticks`"));
    assert!(err(("skew_ticks_per_lot", "-1")).contains("`skew_ticks_per_lot`"));
    assert!(err(("quantity", "0")).contains("`quantity`"));
    assert!(err(("max_position", "50")).contains("`max_position`"));
    assert!(err(("requote_ticks", "0")).contains("`requote_ticks`"));
    assert!(err(("min_requote_ms", "-5")).contains("`min_requote_ms`"));
    assert!(err(("cooldown", "x")).contains("`cooldown`"));
    assert!(MarketMaker::new(&Config::default()).is_ok());
    let micro = MarketMaker::new(&Config::new([("reference", "microprice")])).unwrap();
    assert_eq!(micro.p.reference, Reference::Microprice);
}
