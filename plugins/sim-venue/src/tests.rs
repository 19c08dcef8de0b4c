//! The queue cases of the venue, with hand-made feeds.

use tradsys_sdk::fixed::from_units as u;
use tradsys_sdk::{
    Bar, BookAction, BookDelta, BookFlags, CancelOrder, DepthLevel, DepthSnapshot, MarketEvent,
    Matcher, ModifyOrder, NewOrder, OrderCommand, OrderEvent, OrderType, Side, TimeInForce, Trade,
};

use super::SimVenue;

fn venue() -> SimVenue {
    SimVenue::default()
}

fn delta(action: BookAction, side: Side, price: i64, size: i64, id: u64) -> MarketEvent {
    MarketEvent::BookDelta(BookDelta {
        instrument: 0,
        ts: 1,
        action,
        side,
        price: u(price),
        size: u(size),
        order_id: id,
        flags: BookFlags::LAST,
    })
}

fn add(side: Side, price: i64, size: i64, id: u64) -> MarketEvent {
    delta(BookAction::Add, side, price, size, id)
}

fn limit(id: u64, side: Side, price: i64, qty: i64, tif: TimeInForce) -> OrderCommand {
    OrderCommand::Submit(NewOrder {
        id,
        instrument: 0,
        side,
        order_type: OrderType::Limit,
        time_in_force: tif,
        price: u(price),
        quantity: u(qty),
    })
}

fn feed(v: &mut SimVenue, events: &[MarketEvent]) -> Vec<OrderEvent> {
    let mut out = Vec::new();
    v.on_market(events, &mut out);
    out
}

fn exec(v: &mut SimVenue, commands: &[OrderCommand]) -> Vec<OrderEvent> {
    let mut out = Vec::new();
    v.execute(commands, &mut out);
    out
}

/// (id, price, quantity, maker) of every fill.
fn fills(reports: &[OrderEvent]) -> Vec<(u64, i64, i64, bool)> {
    reports
        .iter()
        .filter_map(|r| match r {
            OrderEvent::Filled(f) => Some((f.id, f.price / u(1), f.quantity / u(1), f.maker)),
            _ => None,
        })
        .collect()
}

/// A book by order: bids 1, 2, 3 (sizes 1, 2, 3) at 100, an ask at 101.
fn l3_book(v: &mut SimVenue) {
    feed(
        v,
        &[
            add(Side::Buy, 100, 1, 1),
            add(Side::Buy, 100, 2, 2),
            add(Side::Buy, 100, 3, 3),
            add(Side::Sell, 101, 5, 9),
        ],
    );
}

#[test]
fn l3_our_order_waits_behind_three_feed_orders_and_fills_when_they_are_gone() {
    let mut v = venue();
    l3_book(&mut v);
    let reports = exec(&mut v, &[limit(50, Side::Buy, 100, 2, TimeInForce::Gtc)]);
    assert!(fills(&reports).is_empty(), "it rests: {reports:?}");
    // Two cancelled; a fill at our level while one is still ahead: not ours.
    let out = feed(
        &mut v,
        &[
            delta(BookAction::Cancel, Side::Buy, 100, 1, 1),
            delta(BookAction::Cancel, Side::Buy, 100, 2, 2),
            delta(BookAction::Fill, Side::Buy, 100, 3, 3),
            delta(BookAction::Cancel, Side::Buy, 100, 3, 3),
        ],
    );
    assert!(fills(&out).is_empty(), "order 3 was ahead: {out:?}");
    // A feed order joins behind us; a sell trades with it at 100: that
    // trade would have been ours first.
    let out = feed(
        &mut v,
        &[
            add(Side::Buy, 100, 4, 4),
            delta(BookAction::Fill, Side::Buy, 100, 1, 4),
        ],
    );
    assert_eq!(fills(&out), [(50, 100, 1, true)]);
}

#[test]
fn l2_quantity_ahead_is_traded_first_100_ahead_trades_of_80_and_30_fill_10() {
    let mut v = venue();
    let level = |price, size| DepthLevel {
        price: u(price),
        quantity: u(size),
        orders: 1,
    };
    let depth = MarketEvent::Depth(DepthSnapshot {
        instrument: 0,
        ts: 1,
        bids: vec![level(100, 100)],
        asks: vec![level(101, 50)],
    });
    feed(&mut v, &[depth]);
    exec(&mut v, &[limit(50, Side::Buy, 100, 20, TimeInForce::Gtc)]);
    let trade = |size| {
        MarketEvent::Trade(Trade {
            instrument: 0,
            ts: 2,
            price: u(100),
            size: u(size),
            aggressor: Some(Side::Sell),
        })
    };
    assert!(fills(&feed(&mut v, &[trade(80)])).is_empty());
    assert_eq!(fills(&feed(&mut v, &[trade(30)])), [(50, 100, 10, true)]);
}

#[test]
fn liquidity_one_order_took_is_not_there_for_the_next_until_the_level_changes() {
    let mut v = venue();
    l3_book(&mut v);
    let first = exec(&mut v, &[limit(50, Side::Buy, 101, 3, TimeInForce::Ioc)]);
    assert_eq!(fills(&first), [(50, 101, 3, false)]);
    let second = exec(&mut v, &[limit(51, Side::Buy, 101, 3, TimeInForce::Ioc)]);
    assert_eq!(
        fills(&second),
        [(51, 101, 2, false)],
        "only 2 of the 5 are left"
    );
    let third = exec(&mut v, &[limit(52, Side::Buy, 101, 1, TimeInForce::Fok)]);
    assert!(
        matches!(third.as_slice(), [OrderEvent::Rejected(_)]),
        "nothing left to take: {third:?}"
    );
    // The level changes (a feed order joins): its displayed size is there again.
    feed(&mut v, &[add(Side::Sell, 101, 1, 10)]);
    let fourth = exec(&mut v, &[limit(53, Side::Buy, 101, 6, TimeInForce::Ioc)]);
    assert_eq!(fills(&fourth), [(53, 101, 6, false)]);
}

#[test]
fn a_modify_that_moves_the_price_goes_to_the_back() {
    let mut v = venue();
    l3_book(&mut v);
    feed(&mut v, &[add(Side::Buy, 99, 1, 5)]);
    exec(&mut v, &[limit(50, Side::Buy, 99, 1, TimeInForce::Gtc)]);
    // Order 5 (ahead of us at 99) leaves; we are first at 99...
    feed(&mut v, &[delta(BookAction::Cancel, Side::Buy, 99, 1, 5)]);
    // ...until we move to 100 and back: behind order 6, which came meanwhile.
    feed(&mut v, &[add(Side::Buy, 99, 1, 6)]);
    let modify = |price| {
        OrderCommand::Modify(ModifyOrder {
            id: 50,
            instrument: 0,
            price: u(price),
            quantity: u(1),
        })
    };
    exec(&mut v, &[modify(100), modify(99)]);
    let out = feed(&mut v, &[delta(BookAction::Fill, Side::Buy, 99, 1, 6)]);
    assert!(fills(&out).is_empty(), "order 6 is ahead now: {out:?}");
    // A smaller quantity at the same price keeps the place.
    feed(&mut v, &[delta(BookAction::Cancel, Side::Buy, 99, 1, 6)]);
    exec(
        &mut v,
        &[OrderCommand::Modify(ModifyOrder {
            id: 50,
            instrument: 0,
            price: u(99),
            quantity: u(1),
        })],
    );
    feed(&mut v, &[add(Side::Buy, 99, 2, 7)]);
    let out = feed(&mut v, &[delta(BookAction::Fill, Side::Buy, 99, 1, 7)]);
    assert_eq!(fills(&out), [(50, 99, 1, true)]);
}

#[test]
fn an_aggressors_fill_record_adds_no_resting_order() {
    let mut v = venue();
    l3_book(&mut v);
    // Fill record of order 77, which never rested: the aggressor's.
    feed(&mut v, &[delta(BookAction::Fill, Side::Sell, 101, 5, 77)]);
    let take = exec(&mut v, &[limit(50, Side::Buy, 101, 8, TimeInForce::Ioc)]);
    assert_eq!(
        fills(&take),
        [(50, 101, 5, false)],
        "only the 5 resting at 101"
    );
    // And it fills no resting order of ours.
    exec(&mut v, &[limit(51, Side::Sell, 102, 1, TimeInForce::Gtc)]);
    let out = feed(&mut v, &[delta(BookAction::Fill, Side::Sell, 102, 1, 78)]);
    assert!(fills(&out).is_empty(), "{out:?}");
}

#[test]
fn an_aggressive_modifys_fill_does_not_fill_the_queue_it_rested_in() {
    // Prices in quarters: 480750 is 4807.50.
    let event = |action, price: i64, id| {
        MarketEvent::BookDelta(BookDelta {
            instrument: 0,
            ts: 1,
            action,
            side: Side::Buy,
            price: u(price) / 100,
            size: u(1),
            order_id: id,
            flags: BookFlags::LAST,
        })
    };
    let mut v = venue();
    // We bid 4807.50 first; feed order 5 joins behind us.
    let ours = OrderCommand::Submit(NewOrder {
        id: 50,
        instrument: 0,
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        price: u(480750) / 100,
        quantity: u(1),
    });
    exec(&mut v, &[ours]);
    feed(&mut v, &[event(BookAction::Add, 480750, 5)]);
    // Order 5 is modified up to 4807.75 and trades there: its fill record
    // carries its id, at 4807.75. Nothing traded at 4807.50.
    let out = feed(
        &mut v,
        &[
            event(BookAction::Fill, 480775, 5),
            event(BookAction::Modify, 480775, 5),
        ],
    );
    assert!(fills(&out).is_empty(), "{out:?}");
    // A real trade at 4807.50 (of a feed order resting there) is ours first.
    feed(&mut v, &[event(BookAction::Add, 480750, 6)]);
    let out = feed(&mut v, &[event(BookAction::Fill, 480750, 6)]);
    assert_eq!(fills(&out).len(), 1, "{out:?}");
}

#[test]
fn bars_fill_resting_orders_along_the_bar_and_takers_at_the_close() {
    let mut v = venue();
    let bar = |open, high, low, close| {
        MarketEvent::Bar(Bar {
            instrument: 0,
            ts: 60,
            open: u(open),
            high: u(high),
            low: u(low),
            close: u(close),
            volume: u(100),
        })
    };
    feed(&mut v, &[bar(100, 105, 98, 103)]);
    let taker = exec(&mut v, &[limit(1, Side::Buy, 104, 2, TimeInForce::Ioc)]);
    assert_eq!(fills(&taker), [(1, 103, 2, false)], "at the close");
    exec(
        &mut v,
        &[
            limit(2, Side::Buy, 99, 1, TimeInForce::Gtc),
            limit(3, Side::Sell, 110, 1, TimeInForce::Gtc),
            limit(4, Side::Buy, 104, 1, TimeInForce::Gtc),
        ],
    );
    // Order 4 (104) was marketable at the close 103: it filled as a taker.
    let out = feed(&mut v, &[bar(101, 102, 97, 98)]);
    let got = fills(&out);
    assert!(
        got.contains(&(2, 99, 1, true)),
        "the low reaches 99: {got:?}"
    );
    assert!(
        !got.iter().any(|f| f.0 == 3),
        "110 is above the high: {got:?}"
    );
    for (_, price, _, _) in &got {
        assert!((97..=102).contains(price), "within the bar: {got:?}");
    }
    let gap = feed(&mut v, &[bar(112, 115, 111, 114)]);
    assert_eq!(fills(&gap), [(3, 112, 1, true)], "a gap fills at the open");
}

#[test]
fn cancels_of_unknown_orders_are_refused_and_state_survives_a_swap() {
    let mut v = venue();
    l3_book(&mut v);
    exec(&mut v, &[limit(50, Side::Buy, 100, 2, TimeInForce::Gtc)]);
    let refused = exec(
        &mut v,
        &[OrderCommand::Cancel(CancelOrder {
            id: 99,
            instrument: 0,
        })],
    );
    assert!(matches!(refused.as_slice(), [OrderEvent::Rejected(_)]));
    let mut copy = venue();
    copy.load_state(&v.save_state()).unwrap();
    assert_eq!(copy.save_state(), v.save_state());
    assert!(copy.load_state(b"\x01garbage").is_err());
}

#[test]
fn a_level_deeper_than_the_feed_shows_keeps_what_is_ahead() {
    let mut v = venue();
    let quote = |bid, bid_size| {
        MarketEvent::Quote(tradsys_sdk::Quote {
            instrument: 0,
            ts: 1,
            bid_price: u(bid),
            bid_size: u(bid_size),
            ask_price: u(102),
            ask_size: u(5),
        })
    };
    feed(&mut v, &[quote(100, 40)]);
    exec(&mut v, &[limit(50, Side::Buy, 100, 1, TimeInForce::Gtc)]);
    // The touch moves up: 100 is no longer shown, its 40 ahead stay ahead.
    feed(&mut v, &[quote(101, 3)]);
    let trade = MarketEvent::Trade(Trade {
        instrument: 0,
        ts: 2,
        price: u(100),
        size: u(30),
        aggressor: Some(Side::Sell),
    });
    assert!(
        fills(&feed(&mut v, std::slice::from_ref(&trade))).is_empty(),
        "30 of 40 ahead"
    );
    assert_eq!(fills(&feed(&mut v, &[trade])), [(50, 100, 1, true)]);
}
