//! The queue cases of the venue, with hand-made feeds handed through a
//! stand-in of the host (`host_stub`).

use tradsys_sdk::fixed::from_units as u;
use tradsys_sdk::{
    Bar, BookAction, BookDelta, BookFlags, CancelOrder, DepthLevel, DepthSnapshot, MarketEvent,
    Matcher, ModifyOrder, NewOrder, OrderCommand, OrderEvent, OrderType, RejectReason, Side,
    StatusChange, TimeInForce, Trade, TradingStatus,
};

use super::SimVenue;

mod host_book;
mod host_stub;

use host_stub::feed;

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

fn status(status: TradingStatus) -> MarketEvent {
    MarketEvent::Status(StatusChange {
        instrument: 0,
        ts: 1,
        status,
    })
}

/// A book by order, trading: bids 1, 2, 3 (sizes 1, 2, 3) at 100, an ask at 101.
fn l3_book(v: &mut SimVenue) {
    feed(
        v,
        &[
            status(TradingStatus::Trading),
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
            flags: BookFlags::LAST,
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
    feed(&mut v, &[status(TradingStatus::Trading)]);
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
        flags: BookFlags::LAST,
    });
    assert!(
        fills(&feed(&mut v, std::slice::from_ref(&trade))).is_empty(),
        "30 of 40 ahead"
    );
    assert_eq!(fills(&feed(&mut v, &[trade])), [(50, 100, 1, true)]);
}

/// A record of one exchange event: `last` closes it.
fn rec(action: BookAction, side: Side, price: i64, size: i64, id: u64, last: bool) -> MarketEvent {
    MarketEvent::BookDelta(BookDelta {
        instrument: 0,
        ts: 1,
        action,
        side,
        price: u(price),
        size: u(size),
        order_id: id,
        flags: if last {
            BookFlags::LAST
        } else {
            BookFlags::empty()
        },
    })
}

/// A trade record that opens its event (an aggressor, or none: an auction).
fn trade_record(price: i64, size: i64, aggressor: Option<Side>) -> MarketEvent {
    MarketEvent::Trade(Trade {
        instrument: 0,
        ts: 1,
        price: u(price),
        size: u(size),
        aggressor,
        flags: BookFlags::empty(),
    })
}

fn rejections(reports: &[OrderEvent]) -> Vec<(u64, RejectReason)> {
    reports
        .iter()
        .filter_map(|r| match r {
            OrderEvent::Rejected(r) => Some((r.id, r.rejection.reason)),
            _ => None,
        })
        .collect()
}

/// A trading book by order with nothing at 100 but what each test adds.
fn open_book(v: &mut SimVenue) {
    feed(
        v,
        &[
            status(TradingStatus::Trading),
            add(Side::Sell, 101, 50, 900),
            add(Side::Buy, 99, 50, 901),
        ],
    );
}

#[test]
fn one_aggressor_that_fills_the_orders_ahead_and_then_one_behind_us_fills_us() {
    // The case the audit found: the fills of orders ahead of ours, then of
    // one behind ours, all in one event; the cancels come after them.
    let mut v = venue();
    open_book(&mut v);
    feed(
        &mut v,
        &[add(Side::Buy, 100, 2, 1), add(Side::Buy, 100, 3, 2)],
    );
    exec(&mut v, &[limit(50, Side::Buy, 100, 2, TimeInForce::Gtc)]);
    feed(&mut v, &[add(Side::Buy, 100, 4, 3)]);
    let out = feed(
        &mut v,
        &[
            trade_record(100, 8, Some(Side::Sell)),
            rec(BookAction::Fill, Side::Buy, 100, 2, 1, false),
            rec(BookAction::Fill, Side::Buy, 100, 3, 2, false),
            rec(BookAction::Fill, Side::Buy, 100, 3, 3, false),
            rec(BookAction::Cancel, Side::Buy, 100, 2, 1, false),
            rec(BookAction::Cancel, Side::Buy, 100, 3, 2, false),
            rec(BookAction::Modify, Side::Buy, 100, 1, 3, true),
        ],
    );
    assert_eq!(
        fills(&out),
        [(50, 100, 2, true)],
        "3 lots went past the 5 ahead of us: ours first"
    );
}

#[test]
fn the_fill_records_and_the_cancels_after_them_count_the_volume_once() {
    let mut v = venue();
    open_book(&mut v);
    feed(&mut v, &[add(Side::Buy, 100, 3, 1)]);
    exec(&mut v, &[limit(50, Side::Buy, 100, 1, TimeInForce::Gtc)]);
    feed(&mut v, &[add(Side::Buy, 100, 5, 2)]);
    // Order 1 (3 ahead of us) trades 1: its fill, then the cancel that
    // accounts for it. 2 stay ahead.
    let out = feed(
        &mut v,
        &[
            trade_record(100, 1, Some(Side::Sell)),
            rec(BookAction::Fill, Side::Buy, 100, 1, 1, false),
            rec(BookAction::Cancel, Side::Buy, 100, 1, 1, true),
        ],
    );
    assert!(fills(&out).is_empty(), "{out:?}");
    // A cancel racing the next fill: order 1 trades 1 more, its owner
    // cancels the last lot in the same event. Nothing is ahead any more.
    let out = feed(
        &mut v,
        &[
            trade_record(100, 1, Some(Side::Sell)),
            rec(BookAction::Fill, Side::Buy, 100, 1, 1, false),
            rec(BookAction::Cancel, Side::Buy, 100, 1, 1, false),
            rec(BookAction::Cancel, Side::Buy, 100, 1, 1, true),
        ],
    );
    assert!(fills(&out).is_empty(), "{out:?}");
    // Order 2 (behind us) trades 1: ours.
    let out = feed(
        &mut v,
        &[
            trade_record(100, 1, Some(Side::Sell)),
            rec(BookAction::Fill, Side::Buy, 100, 1, 2, false),
            rec(BookAction::Modify, Side::Buy, 100, 4, 2, true),
        ],
    );
    assert_eq!(fills(&out), [(50, 100, 1, true)]);
}

#[test]
fn a_trade_through_our_price_fills_us_and_better_priced_orders_of_ours_come_first() {
    let mut v = venue();
    open_book(&mut v);
    feed(&mut v, &[add(Side::Buy, 100, 5, 1)]);
    exec(
        &mut v,
        &[
            limit(50, Side::Buy, 100, 2, TimeInForce::Gtc),
            limit(51, Side::Buy, 100, 2, TimeInForce::Gtc),
        ],
    );
    // A sell sweeps 100 (order 1 and more we never saw) and trades 3 at 99:
    // the 3 lots at 99 passed our 100 first: 50 takes 2, 51 the last one.
    let out = feed(
        &mut v,
        &[
            trade_record(100, 8, Some(Side::Sell)),
            rec(BookAction::Fill, Side::Buy, 100, 5, 1, false),
            rec(BookAction::Fill, Side::Buy, 99, 3, 901, false),
            rec(BookAction::Cancel, Side::Buy, 100, 5, 1, false),
            rec(BookAction::Modify, Side::Buy, 99, 47, 901, true),
        ],
    );
    assert_eq!(fills(&out), [(50, 100, 2, true), (51, 100, 1, true)]);
}

#[test]
fn our_two_orders_at_one_price_queue_behind_each_other() {
    let mut v = venue();
    open_book(&mut v);
    exec(&mut v, &[limit(50, Side::Buy, 100, 1, TimeInForce::Gtc)]);
    feed(&mut v, &[add(Side::Buy, 100, 1, 2)]);
    exec(&mut v, &[limit(51, Side::Buy, 100, 1, TimeInForce::Gtc)]);
    feed(&mut v, &[add(Side::Buy, 100, 2, 3)]);
    // Order 2 (between ours) trades: only the first of ours is ahead of it.
    let out = feed(&mut v, &[rec(BookAction::Fill, Side::Buy, 100, 1, 2, true)]);
    assert_eq!(fills(&out), [(50, 100, 1, true)]);
    // Order 3 (behind both) trades 2: 51 takes one, once order 2 (ahead
    // of it, consumed) is out of the way.
    let out = feed(&mut v, &[rec(BookAction::Fill, Side::Buy, 100, 2, 3, true)]);
    assert_eq!(fills(&out), [(51, 100, 1, true)]);
}

#[test]
fn an_iceberg_refill_like_any_size_increase_loses_its_place() {
    let mut v = venue();
    open_book(&mut v);
    feed(&mut v, &[add(Side::Buy, 100, 1, 7)]);
    exec(&mut v, &[limit(50, Side::Buy, 100, 1, TimeInForce::Gtc)]);
    // Order 7's visible lot trades; the refill shows 5 more: behind us now.
    feed(
        &mut v,
        &[
            rec(BookAction::Fill, Side::Buy, 100, 1, 7, false),
            rec(BookAction::Modify, Side::Buy, 100, 5, 7, true),
        ],
    );
    let out = feed(&mut v, &[rec(BookAction::Fill, Side::Buy, 100, 1, 7, true)]);
    assert_eq!(fills(&out), [(50, 100, 1, true)], "{out:?}");
}

#[test]
fn nothing_trades_in_the_pre_open_and_the_first_trade_opens_the_market() {
    let mut v = venue();
    // A book by order, no status records: the pre-open until a trade.
    feed(
        &mut v,
        &[add(Side::Buy, 99, 5, 1), add(Side::Sell, 101, 5, 2)],
    );
    let ioc = exec(&mut v, &[limit(50, Side::Buy, 101, 1, TimeInForce::Ioc)]);
    assert_eq!(rejections(&ioc), [(50, RejectReason::Other)], "{ioc:?}");
    let rests = exec(&mut v, &[limit(51, Side::Buy, 102, 2, TimeInForce::Gtc)]);
    assert!(fills(&rests).is_empty(), "it takes nothing: {rests:?}");
    // A crossing sell joins (the pre-open book may cross): no trade.
    let out = feed(&mut v, &[add(Side::Sell, 100, 3, 3)]);
    assert!(fills(&out).is_empty(), "{out:?}");
    // The market opens with a trade (an aggressor: no auction): a sell
    // trading with order 1 at 99 went through our 102 first.
    let out = feed(
        &mut v,
        &[
            trade_record(99, 1, Some(Side::Sell)),
            rec(BookAction::Fill, Side::Buy, 99, 1, 1, false),
            rec(BookAction::Cancel, Side::Buy, 99, 1, 1, true),
        ],
    );
    assert_eq!(fills(&out), [(51, 102, 1, true)]);
    // A sell crossing our 102 trades with us now.
    let out = feed(&mut v, &[add(Side::Sell, 101, 1, 4)]);
    assert_eq!(fills(&out), [(51, 102, 1, true)]);
}

#[test]
fn the_opening_auction_fills_what_crosses_its_price_in_price_priority() {
    let mut v = venue();
    // Pre-open: bids 101 (order 1, 2 lots), 100 (order 2, 5 lots); asks at
    // 99 (order 3, 6 lots): crossed.
    feed(
        &mut v,
        &[
            add(Side::Buy, 101, 2, 1),
            add(Side::Buy, 100, 5, 2),
            add(Side::Sell, 99, 6, 3),
        ],
    );
    exec(
        &mut v,
        &[
            limit(50, Side::Buy, 101, 3, TimeInForce::Gtc),
            limit(51, Side::Buy, 100, 5, TimeInForce::Gtc),
            limit(52, Side::Buy, 98, 5, TimeInForce::Gtc),
        ],
    );
    // The uncross: 6 lots at 100, no aggressor; its fills (at the auction's
    // price, whatever the order's) and cancels follow.
    let out = feed(
        &mut v,
        &[
            trade_record(100, 6, None),
            rec(BookAction::Fill, Side::Buy, 100, 2, 1, false),
            rec(BookAction::Fill, Side::Buy, 100, 4, 2, false),
            rec(BookAction::Fill, Side::Sell, 100, 6, 3, false),
            rec(BookAction::Cancel, Side::Buy, 101, 2, 1, false),
            rec(BookAction::Cancel, Side::Buy, 100, 4, 2, false),
            rec(BookAction::Cancel, Side::Sell, 99, 6, 3, true),
        ],
    );
    // At 101 we are behind order 1 (2 lots): 4 lots left, 3 of them ours, at
    // the auction's price. At 100 (the auction's price) we are behind the
    // feed's 5: nothing left. 98 does not cross.
    assert_eq!(fills(&out), [(50, 100, 3, true)]);
    // The event is over: trading goes on. Order 2's last lot leaves; a sell
    // crossing 100 trades with us.
    feed(
        &mut v,
        &[rec(BookAction::Cancel, Side::Buy, 100, 1, 2, true)],
    );
    let out = feed(&mut v, &[add(Side::Sell, 100, 2, 4)]);
    assert_eq!(
        fills(&out),
        [(51, 100, 2, true)],
        "a crossing sell after the open"
    );
}

#[test]
fn a_halted_instrument_fills_nothing_and_refuses_new_orders() {
    let mut v = venue();
    open_book(&mut v);
    exec(&mut v, &[limit(50, Side::Buy, 100, 2, TimeInForce::Gtc)]);
    feed(&mut v, &[status(TradingStatus::Halted)]);
    let refused = exec(&mut v, &[limit(51, Side::Buy, 100, 1, TimeInForce::Gtc)]);
    assert_eq!(rejections(&refused), [(51, RejectReason::InstrumentHalted)]);
    let out = feed(&mut v, &[add(Side::Sell, 100, 1, 5)]);
    assert!(fills(&out).is_empty(), "{out:?}");
    feed(
        &mut v,
        &[rec(BookAction::Cancel, Side::Sell, 100, 1, 5, true)],
    );
    // Trading again: the re-opening uncross (no aggressor) at 99 is an
    // auction; our bid at 100 crosses it and comes first.
    feed(&mut v, &[status(TradingStatus::Trading)]);
    let out = feed(
        &mut v,
        &[
            trade_record(99, 1, None),
            rec(BookAction::Fill, Side::Buy, 99, 1, 901, false),
            rec(BookAction::Cancel, Side::Buy, 99, 1, 901, true),
        ],
    );
    assert_eq!(fills(&out), [(50, 99, 1, true)], "at the auction's price");
    let cancel = exec(
        &mut v,
        &[OrderCommand::Cancel(CancelOrder {
            id: 50,
            instrument: 0,
        })],
    );
    assert!(
        matches!(cancel.as_slice(), [OrderEvent::Canceled(_)]),
        "{cancel:?}"
    );
}

#[test]
fn the_queues_and_the_session_survive_a_swap_and_a_1_0_state_still_loads() {
    let mut v = venue();
    open_book(&mut v);
    feed(&mut v, &[add(Side::Buy, 100, 2, 1)]);
    exec(&mut v, &[limit(50, Side::Buy, 100, 1, TimeInForce::Gtc)]);
    feed(&mut v, &[add(Side::Buy, 100, 2, 2)]);
    let mut copy = venue();
    copy.load_state(&v.save_state()).unwrap();
    assert_eq!(copy.save_state(), v.save_state());
    // The copy knows order 1 is ahead and order 2 behind.
    let out = feed(
        &mut copy,
        &[rec(BookAction::Fill, Side::Buy, 100, 2, 1, true)],
    );
    assert!(fills(&out).is_empty());
    let out = feed(
        &mut copy,
        &[rec(BookAction::Fill, Side::Buy, 100, 1, 2, true)],
    );
    assert_eq!(fills(&out), [(50, 100, 1, true)]);

    // sim-venue 1.0.0's state of the same market: a book by order (orders 1
    // and 2 at 100), our order 50 with order 1 ahead of it.
    let mut w = tradsys_sdk::state::StateWriter::default();
    w.u8(1).u32(1).u32(0).u8(3).u32(2);
    w.u64(1).side(Side::Buy).i64(u(100)).i64(u(2));
    w.u64(2).side(Side::Buy).i64(u(100)).i64(u(2));
    w.u32(1)
        .u64(50)
        .side(Side::Buy)
        .i64(u(100))
        .i64(u(1))
        .i64(0);
    w.u8(0).u32(1).u64(1).i64(u(2));
    w.u32(0).bool(false);
    let mut old = venue();
    old.load_state(&w.finish()).unwrap();
    let out = feed(
        &mut old,
        &[rec(BookAction::Fill, Side::Buy, 100, 2, 1, true)],
    );
    assert!(fills(&out).is_empty(), "order 1 is ahead: {out:?}");
}
