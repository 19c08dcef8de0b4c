//! A book by order is the host's: what the venue reads of it, the deltas
//! it asks for, and a state of sim-venue 1.1 (which kept its own copy).

use tradsys_sdk::fixed::from_units as u;
use tradsys_sdk::{
    BookAction, Matcher, NewOrder, OrderCommand, OrderType, Side, TimeInForce, TradingStatus, host,
};

use super::host_stub::feed;
use super::{add, delta, exec, fills, l3_book, limit, rec, status, trade_record, venue};

/// The bands the venue last asked for, in units.
fn bands() -> Option<crate::market::Bands> {
    let units = |b: Option<host::PriceBand>| {
        b.map(|b| {
            (
                b.low.max(i64::MIN / 2) / u(1),
                b.high.min(i64::MAX / 2) / u(1),
            )
        })
    };
    host::watched(0).map(|(bids, asks, trades)| (units(bids), units(asks), trades))
}

#[test]
fn the_venue_asks_only_for_the_deltas_that_can_touch_its_orders_and_reads_the_hosts_book() {
    let mut v = venue();
    l3_book(&mut v);
    // Before the open an auction may come: every delta is needed.
    assert!(host::watched(0).is_none());
    feed(&mut v, &[trade_record(100, 1, Some(Side::Sell))]);
    assert_eq!(
        bands(),
        Some((None, None, false)),
        "open, nothing of ours: none"
    );
    // The host's book goes on without the venue: order 4 joins at 100.
    feed(&mut v, &[add(Side::Buy, 100, 4, 4)]);
    let reports = exec(&mut v, &[limit(50, Side::Buy, 100, 1, TimeInForce::Gtc)]);
    assert!(fills(&reports).is_empty(), "it rests: {reports:?}");
    // Our bid at 100: the bids there, and the asks that would cross it.
    let low = i64::MIN / 2 / u(1);
    assert_eq!(bands(), Some((Some((100, 100)), Some((low, 100)), true)));
    // Orders 1 to 3 go; order 4 (read from the host's queue) is ahead of
    // ours: its fill is not ours. A bid below ours is not handed, and
    // changes nothing. Order 5 joins behind us: its fill is ours.
    let out = feed(
        &mut v,
        &[
            delta(BookAction::Cancel, Side::Buy, 100, 1, 1),
            delta(BookAction::Cancel, Side::Buy, 100, 2, 2),
            delta(BookAction::Cancel, Side::Buy, 100, 3, 3),
            add(Side::Buy, 99, 7, 6),
            delta(BookAction::Fill, Side::Buy, 100, 4, 4),
        ],
    );
    assert!(fills(&out).is_empty(), "order 4 was ahead: {out:?}");
    let out = feed(
        &mut v,
        &[
            delta(BookAction::Cancel, Side::Buy, 100, 4, 4),
            add(Side::Buy, 100, 1, 5),
            delta(BookAction::Fill, Side::Buy, 100, 1, 5),
        ],
    );
    assert_eq!(fills(&out), [(50, 100, 1, true)]);
    assert_eq!(
        bands(),
        Some((None, None, false)),
        "filled, nothing of ours: none again"
    );
}

#[test]
fn a_market_order_walks_past_the_ten_levels_it_reads_first() {
    let mut v = venue();
    let mut events = vec![status(TradingStatus::Trading)];
    events.extend((0..12).map(|i| add(Side::Sell, 101 + i, 1, 10 + i as u64)));
    events.push(add(Side::Buy, 99, 1, 1));
    events.push(trade_record(100, 1, Some(Side::Buy)));
    feed(&mut v, &events);
    let market = OrderCommand::Submit(NewOrder {
        id: 50,
        instrument: 0,
        side: Side::Buy,
        order_type: OrderType::Market,
        time_in_force: TimeInForce::Ioc,
        price: 0,
        quantity: u(12),
    });
    let reports = exec(&mut v, &[market]);
    let prices: Vec<i64> = fills(&reports).iter().map(|f| f.1).collect();
    assert_eq!(prices, (101..113).collect::<Vec<_>>(), "{reports:?}");
}

#[test]
fn a_sim_venue_1_1_state_with_the_whole_book_by_order_still_loads() {
    // The host's book: orders 1 and 2 at 100.
    feed(
        &mut venue(),
        &[add(Side::Buy, 100, 2, 1), add(Side::Buy, 100, 2, 2)],
    );
    // sim-venue 1.1's state of that market, open: every order of the book,
    // our order 50 queued behind order 1 and ahead of order 2.
    let mut w = tradsys_sdk::state::StateWriter::default();
    w.u8(2).u32(1).u32(0).u8(3).u32(2);
    w.u64(1).side(Side::Buy).i64(u(100)).i64(u(2));
    w.u64(2).side(Side::Buy).i64(u(100)).i64(u(2));
    w.u8(2).bool(false).bool(false).bool(false);
    w.u32(1)
        .u64(50)
        .side(Side::Buy)
        .i64(u(100))
        .i64(u(1))
        .i64(0)
        .i64(0);
    w.u32(1).u8(0).i64(u(100)).u32(3);
    w.u8(0).u64(1).i64(u(2));
    w.u8(1).u64(50);
    w.u8(0).u64(2).i64(u(2));
    w.u32(0).bool(false);
    let mut v = venue();
    v.load_state(&w.finish()).unwrap();
    // Order 1's fill is ahead of ours; order 2's would have been ours first.
    let out = feed(&mut v, &[rec(BookAction::Fill, Side::Buy, 100, 2, 1, true)]);
    assert!(fills(&out).is_empty(), "{out:?}");
    let out = feed(&mut v, &[rec(BookAction::Fill, Side::Buy, 100, 1, 2, true)]);
    assert_eq!(fills(&out), [(50, 100, 1, true)]);
}
