//! Behaviour of the matcher through its trait methods.

use tradsys_sdk::fixed::{self, SCALE, from_units};
use tradsys_sdk::{
    CancelOrder, Config, Matcher, ModifyOrder, NewOrder, OrderCommand, OrderEvent, OrderType, Side,
    TimeInForce, host,
};

use super::FifoMatcher;

fn matcher() -> FifoMatcher {
    FifoMatcher::new(&Config::default()).expect("no required config")
}

fn order(id: u64, side: Side, kind: OrderType, tif: TimeInForce, price: i64, qty: i64) -> NewOrder {
    NewOrder {
        id,
        instrument: 0,
        side,
        order_type: kind,
        time_in_force: tif,
        price: from_units(price),
        quantity: from_units(qty),
    }
}

fn limit(id: u64, side: Side, price: i64, qty: i64, tif: TimeInForce) -> OrderCommand {
    OrderCommand::Submit(order(id, side, OrderType::Limit, tif, price, qty))
}

fn buy(id: u64, price: i64, qty: i64) -> OrderCommand {
    limit(id, Side::Buy, price, qty, TimeInForce::Gtc)
}

fn sell(id: u64, price: i64, qty: i64) -> OrderCommand {
    limit(id, Side::Sell, price, qty, TimeInForce::Gtc)
}

fn market(id: u64, side: Side, qty: i64, tif: TimeInForce) -> OrderCommand {
    OrderCommand::Submit(order(id, side, OrderType::Market, tif, 0, qty))
}

fn cancel(id: u64) -> OrderCommand {
    OrderCommand::Cancel(CancelOrder { id, instrument: 0 })
}

fn modify(id: u64, price: i64, qty: i64) -> OrderCommand {
    OrderCommand::Modify(ModifyOrder {
        id,
        instrument: 0,
        price: from_units(price),
        quantity: from_units(qty),
    })
}

/// Whole units when exact, else all nine decimals.
fn units(value: i64) -> String {
    if value % SCALE == 0 {
        (value / SCALE).to_string()
    } else {
        fixed::format(value, 9)
    }
}

/// A one-line summary of a report, to compare whole sequences in asserts.
fn describe(event: &OrderEvent) -> String {
    match event {
        OrderEvent::Accepted(a) => format!("accepted #{}", a.id),
        OrderEvent::Rejected(r) => {
            let reason = format!("{:?}", r.rejection.reason);
            let reason = reason.trim_start_matches("RejectReason::");
            format!("rejected #{} {reason}", r.id)
        }
        OrderEvent::Filled(f) => format!(
            "fill #{} {} {}@{} leaves {} {}",
            f.id,
            if matches!(f.side, Side::Buy) {
                "buy"
            } else {
                "sell"
            },
            units(f.quantity),
            units(f.price),
            units(f.leaves_quantity),
            if f.maker { "maker" } else { "taker" },
        ),
        OrderEvent::Canceled(c) => format!("canceled #{} {}", c.id, units(c.canceled_quantity)),
        OrderEvent::Modified(m) => format!(
            "modified #{} {} leaves {}",
            m.id,
            units(m.price),
            units(m.leaves_quantity)
        ),
    }
}

fn run(m: &mut FifoMatcher, commands: &[OrderCommand]) -> Vec<String> {
    let mut reports = Vec::new();
    m.execute(commands, &mut reports);
    for book in m.books.values() {
        book.check_invariants();
    }
    reports.iter().map(describe).collect()
}

/// One depth level as `(price, quantity, orders)`, price and quantity in units.
type Level = (i64, i64, u32);

/// Depth of instrument 0 as `(bids, asks)`.
fn depth(m: &FifoMatcher, levels: u32) -> (Vec<Level>, Vec<Level>) {
    let d = m.depth(0, levels);
    assert_eq!(d.instrument, 0);
    let side = |levels: &[tradsys_sdk::DepthLevel]| -> Vec<Level> {
        levels
            .iter()
            .map(|l| (l.price / SCALE, l.quantity / SCALE, l.orders))
            .collect()
    };
    (side(&d.bids), side(&d.asks))
}

#[test]
fn fifo_fills_the_older_order_first_and_the_newer_partly() {
    let mut m = matcher();
    run(&mut m, &[sell(1, 100, 5), sell(2, 100, 5)]);
    assert_eq!(
        run(&mut m, &[buy(3, 100, 7)]),
        [
            "accepted #3",
            "fill #1 sell 5@100 leaves 0 maker",
            "fill #3 buy 5@100 leaves 2 taker",
            "fill #2 sell 2@100 leaves 3 maker",
            "fill #3 buy 2@100 leaves 0 taker",
        ]
    );
    assert_eq!(depth(&m, 5), (vec![], vec![(100, 3, 1)]));
    // The filled order left the book; the partly filled one still works.
    assert_eq!(run(&mut m, &[cancel(1)]), ["rejected #1 UnknownOrder"]);
    assert_eq!(run(&mut m, &[cancel(2)]), ["canceled #2 3"]);
}

#[test]
fn best_price_first_at_the_resting_price_with_host_time_and_instrument() {
    let mut m = matcher();
    host::set_now(1_700_000_000_000_000_042);
    let on_instrument_3 = |command: OrderCommand| match command {
        OrderCommand::Submit(mut o) => {
            o.instrument = 3;
            OrderCommand::Submit(o)
        }
        other => other,
    };
    let commands = [
        on_instrument_3(sell(1, 102, 1)),
        on_instrument_3(sell(2, 101, 1)),
        on_instrument_3(buy(3, 103, 3)),
    ];
    let mut reports = Vec::new();
    m.execute(&commands, &mut reports);
    let described: Vec<String> = reports.iter().map(describe).collect();
    assert_eq!(
        described[2..],
        [
            "accepted #3",
            "fill #2 sell 1@101 leaves 0 maker",
            "fill #3 buy 1@101 leaves 2 taker",
            "fill #1 sell 1@102 leaves 0 maker",
            "fill #3 buy 1@102 leaves 1 taker",
        ]
    );
    for report in &reports {
        let (instrument, ts) = match report {
            OrderEvent::Accepted(e) => (e.instrument, e.ts),
            OrderEvent::Rejected(e) => (e.instrument, e.ts),
            OrderEvent::Filled(e) => (e.instrument, e.ts),
            OrderEvent::Canceled(e) => (e.instrument, e.ts),
            OrderEvent::Modified(e) => (e.instrument, e.ts),
        };
        assert_eq!((instrument, ts), (3, 1_700_000_000_000_000_042));
    }
    // The rest of the buy rests at its limit on instrument 3 only.
    let d = m.depth(3, 10);
    assert_eq!(d.bids.len(), 1);
    assert_eq!(
        (d.bids[0].price, d.bids[0].quantity),
        (from_units(103), from_units(1))
    );
    assert!(d.asks.is_empty());
    assert_eq!(depth(&m, 10), (vec![], vec![]));
}

#[test]
fn ioc_never_rests() {
    let mut m = matcher();
    run(&mut m, &[sell(1, 100, 3), sell(2, 101, 3)]);
    assert_eq!(
        run(&mut m, &[limit(3, Side::Buy, 100, 5, TimeInForce::Ioc)]),
        [
            "accepted #3",
            "fill #1 sell 3@100 leaves 0 maker",
            "fill #3 buy 3@100 leaves 2 taker",
            "canceled #3 2",
        ]
    );
    // Nothing to match at all: accepted, then canceled in full.
    assert_eq!(
        run(&mut m, &[limit(4, Side::Buy, 99, 5, TimeInForce::Ioc)]),
        ["accepted #4", "canceled #4 5"]
    );
    assert_eq!(depth(&m, 5), (vec![], vec![(101, 3, 1)]));
    assert_eq!(
        run(&mut m, &[cancel(3), cancel(4)]),
        ["rejected #3 UnknownOrder", "rejected #4 UnknownOrder"]
    );
}

#[test]
fn fok_fills_everything_or_nothing() {
    let mut m = matcher();
    // Own-side liquidity (a bid) must not count towards a buy FOK.
    run(&mut m, &[sell(1, 100, 3), sell(2, 101, 3), buy(3, 99, 50)]);
    let before = m.save_state();

    // Six at or below 101 are available, seven are asked for.
    assert_eq!(
        run(&mut m, &[limit(4, Side::Buy, 101, 7, TimeInForce::Fok)]),
        ["rejected #4 FillOrKillUnfilled"]
    );
    // Only three at or below 100.
    assert_eq!(
        run(&mut m, &[limit(5, Side::Buy, 100, 4, TimeInForce::Fok)]),
        ["rejected #5 FillOrKillUnfilled"]
    );
    assert_eq!(m.save_state(), before, "a killed FOK changes nothing");

    assert_eq!(
        run(&mut m, &[limit(6, Side::Buy, 101, 6, TimeInForce::Fok)]),
        [
            "accepted #6",
            "fill #1 sell 3@100 leaves 0 maker",
            "fill #6 buy 3@100 leaves 3 taker",
            "fill #2 sell 3@101 leaves 0 maker",
            "fill #6 buy 3@101 leaves 0 taker",
        ]
    );
    assert_eq!(depth(&m, 5), (vec![(99, 50, 1)], vec![]));

    // A sell FOK looks at the bids, highest first: 50 at 99 are enough for
    // a limit of 98 while the 10 at 97 are out of reach.
    run(&mut m, &[buy(7, 97, 10)]);
    assert_eq!(
        run(&mut m, &[limit(8, Side::Sell, 99, 51, TimeInForce::Fok)]),
        ["rejected #8 FillOrKillUnfilled"]
    );
    assert_eq!(
        run(&mut m, &[limit(9, Side::Sell, 98, 50, TimeInForce::Fok)]),
        [
            "accepted #9",
            "fill #3 buy 50@99 leaves 0 maker",
            "fill #9 sell 50@99 leaves 0 taker",
        ]
    );
    // A market FOK takes any price, but still all or nothing.
    assert_eq!(
        run(&mut m, &[market(10, Side::Sell, 11, TimeInForce::Fok)]),
        ["rejected #10 FillOrKillUnfilled"]
    );
    assert_eq!(
        run(&mut m, &[market(11, Side::Sell, 10, TimeInForce::Fok)]),
        [
            "accepted #11",
            "fill #7 buy 10@97 leaves 0 maker",
            "fill #11 sell 10@97 leaves 0 taker",
        ]
    );
    assert_eq!(depth(&m, 5), (vec![], vec![]));
}

#[test]
fn market_orders_need_liquidity_and_never_rest() {
    let mut m = matcher();
    // Bids exist, but a market buy needs asks.
    run(&mut m, &[buy(1, 99, 5)]);
    assert_eq!(
        run(&mut m, &[market(2, Side::Buy, 1, TimeInForce::Gtc)]),
        ["rejected #2 NoLiquidity"]
    );
    // No book at all for another instrument.
    let mut reports = Vec::new();
    let OrderCommand::Submit(mut o) = market(3, Side::Sell, 1, TimeInForce::Ioc) else {
        unreachable!()
    };
    o.instrument = 9;
    m.execute(&[OrderCommand::Submit(o)], &mut reports);
    assert_eq!(
        reports.iter().map(describe).collect::<Vec<_>>(),
        ["rejected #3 NoLiquidity"]
    );

    // Any price goes; what is left is canceled, even for GTC.
    run(&mut m, &[sell(4, 150, 2), sell(5, 200, 2)]);
    assert_eq!(
        run(&mut m, &[market(6, Side::Buy, 5, TimeInForce::Gtc)]),
        [
            "accepted #6",
            "fill #4 sell 2@150 leaves 0 maker",
            "fill #6 buy 2@150 leaves 3 taker",
            "fill #5 sell 2@200 leaves 0 maker",
            "fill #6 buy 2@200 leaves 1 taker",
            "canceled #6 1",
        ]
    );
    assert_eq!(depth(&m, 5), (vec![(99, 5, 1)], vec![]));
}

#[test]
fn invalid_orders_are_rejected_without_touching_the_book() {
    let mut m = matcher();
    run(&mut m, &[buy(1, 100, 5)]);
    assert_eq!(
        run(
            &mut m,
            &[
                buy(2, 100, 0),
                sell(3, 100, -1),
                buy(4, 0, 1),
                sell(5, -3, 1),
                // Duplicate of a working order, even on the other side.
                sell(1, 101, 1),
            ]
        ),
        [
            "rejected #2 InvalidOrder",
            "rejected #3 InvalidOrder",
            "rejected #4 InvalidOrder",
            "rejected #5 InvalidOrder",
            "rejected #1 InvalidOrder",
        ]
    );
    assert_eq!(depth(&m, 5), (vec![(100, 5, 1)], vec![]));
    // Once no longer working, the id may be used again.
    run(&mut m, &[cancel(1)]);
    assert_eq!(run(&mut m, &[sell(1, 101, 1)]), ["accepted #1"]);
}

#[test]
fn cancel_of_an_unknown_order_is_rejected() {
    let mut m = matcher();
    // No book yet for the instrument.
    assert_eq!(run(&mut m, &[cancel(1)]), ["rejected #1 UnknownOrder"]);
    run(&mut m, &[buy(1, 100, 5)]);
    // Wrong instrument for a working id.
    let mut reports = Vec::new();
    let wrong = OrderCommand::Cancel(CancelOrder {
        id: 1,
        instrument: 1,
    });
    m.execute(&[wrong], &mut reports);
    assert_eq!(
        reports.iter().map(describe).collect::<Vec<_>>(),
        ["rejected #1 UnknownOrder"]
    );
    assert_eq!(
        run(&mut m, &[cancel(2), cancel(1), cancel(1)]),
        [
            "rejected #2 UnknownOrder",
            "canceled #1 5",
            "rejected #1 UnknownOrder"
        ]
    );
    assert_eq!(depth(&m, 5), (vec![], vec![]));
}

#[test]
fn modify_that_reduces_quantity_keeps_priority() {
    let mut m = matcher();
    run(&mut m, &[buy(1, 100, 5), buy(2, 100, 5)]);
    assert_eq!(
        run(&mut m, &[modify(1, 100, 3)]),
        ["modified #1 100 leaves 3"]
    );
    assert_eq!(depth(&m, 5), (vec![(100, 8, 2)], vec![]));
    assert_eq!(
        run(&mut m, &[sell(3, 100, 4)]),
        [
            "accepted #3",
            "fill #1 buy 3@100 leaves 0 maker",
            "fill #3 sell 3@100 leaves 1 taker",
            "fill #2 buy 1@100 leaves 4 maker",
            "fill #3 sell 1@100 leaves 0 taker",
        ]
    );
}

#[test]
fn modify_that_raises_quantity_loses_priority() {
    let mut m = matcher();
    run(&mut m, &[buy(1, 100, 5), buy(2, 100, 5)]);
    assert_eq!(
        run(&mut m, &[modify(1, 100, 8)]),
        ["modified #1 100 leaves 8"]
    );
    assert_eq!(depth(&m, 5), (vec![(100, 13, 2)], vec![]));
    assert_eq!(
        run(&mut m, &[sell(3, 100, 6)]),
        [
            "accepted #3",
            "fill #2 buy 5@100 leaves 0 maker",
            "fill #3 sell 5@100 leaves 1 taker",
            "fill #1 buy 1@100 leaves 7 maker",
            "fill #3 sell 1@100 leaves 0 taker",
        ]
    );
}

#[test]
fn modify_to_another_price_goes_to_the_back_of_that_level() {
    let mut m = matcher();
    run(&mut m, &[sell(1, 101, 2), sell(2, 102, 2), sell(3, 102, 2)]);
    // Even with less quantity, a new price loses priority.
    assert_eq!(
        run(&mut m, &[modify(1, 102, 1)]),
        ["modified #1 102 leaves 1"]
    );
    assert_eq!(depth(&m, 5), (vec![], vec![(102, 5, 3)]));
    assert_eq!(
        run(&mut m, &[buy(4, 102, 5)])[1..]
            .iter()
            .step_by(2)
            .cloned()
            .collect::<Vec<_>>(),
        [
            "fill #2 sell 2@102 leaves 0 maker",
            "fill #3 sell 2@102 leaves 0 maker",
            "fill #1 sell 1@102 leaves 0 maker",
        ]
    );
}

#[test]
fn modify_counts_filled_quantity_and_cancels_at_or_below_it() {
    let mut m = matcher();
    run(&mut m, &[buy(1, 100, 10), sell(2, 100, 4)]);
    // Total 8 with 4 filled leaves 4 working, in place.
    assert_eq!(
        run(&mut m, &[modify(1, 100, 8)]),
        ["modified #1 100 leaves 4"]
    );
    assert_eq!(depth(&m, 5), (vec![(100, 4, 1)], vec![]));
    // A total of 4 is all filled already: the rest is canceled.
    assert_eq!(run(&mut m, &[modify(1, 100, 4)]), ["canceled #1 4"]);
    assert_eq!(depth(&m, 5), (vec![], vec![]));
    assert_eq!(
        run(&mut m, &[modify(1, 100, 20)]),
        ["rejected #1 UnknownOrder"]
    );
}

#[test]
fn modify_of_unknown_or_bad_price_is_rejected() {
    let mut m = matcher();
    assert_eq!(
        run(&mut m, &[modify(1, 100, 5)]),
        ["rejected #1 UnknownOrder"]
    );
    run(&mut m, &[buy(1, 100, 5)]);
    assert_eq!(
        run(&mut m, &[modify(2, 100, 5)]),
        ["rejected #2 UnknownOrder"]
    );
    assert_eq!(
        run(&mut m, &[modify(1, 0, 5)]),
        ["rejected #1 InvalidOrder"]
    );
    assert_eq!(depth(&m, 5), (vec![(100, 5, 1)], vec![]));
}

#[test]
fn modify_through_the_spread_matches_then_rests() {
    let mut m = matcher();
    run(
        &mut m,
        &[
            sell(1, 101, 5),
            sell(2, 102, 5),
            sell(3, 104, 5),
            buy(4, 100, 4),
        ],
    );
    assert_eq!(
        run(&mut m, &[modify(4, 102, 12)]),
        [
            "modified #4 102 leaves 12",
            "fill #1 sell 5@101 leaves 0 maker",
            "fill #4 buy 5@101 leaves 7 taker",
            "fill #2 sell 5@102 leaves 0 maker",
            "fill #4 buy 5@102 leaves 2 taker",
        ]
    );
    assert_eq!(depth(&m, 5), (vec![(102, 2, 1)], vec![(104, 5, 1)]));
    // The rest works with its filled quantity counted: total 12, 10 filled.
    assert_eq!(
        run(&mut m, &[modify(4, 102, 11)]),
        ["modified #4 102 leaves 1"]
    );
}

#[test]
fn depth_aggregates_levels_best_first() {
    let mut m = matcher();
    run(
        &mut m,
        &[
            buy(1, 98, 1),
            buy(2, 99, 2),
            buy(3, 99, 3),
            buy(4, 97, 4),
            sell(5, 103, 5),
            sell(6, 101, 6),
            sell(7, 101, 7),
            sell(8, 101, 8),
            sell(9, 102, 9),
        ],
    );
    assert_eq!(
        depth(&m, 2),
        (
            vec![(99, 5, 2), (98, 1, 1)],
            vec![(101, 21, 3), (102, 9, 1)]
        )
    );
    assert_eq!(depth(&m, 10).0.len(), 3);
    assert_eq!(depth(&m, 10).1.len(), 3);
    assert_eq!(depth(&m, 0), (vec![], vec![]));
    let unknown = m.depth(42, 5);
    assert_eq!(unknown.instrument, 42);
    assert!(unknown.bids.is_empty() && unknown.asks.is_empty());
}

#[test]
fn cancels_empty_a_large_book() {
    // 20,000 orders over 200 levels, then canceled newest first (each cancel
    // scans one level of at most 100 orders, never the whole book).
    let mut m = matcher();
    let commands: Vec<_> = (0..20_000u64)
        .map(|id| sell(id + 1, 1_000 + (id % 200) as i64, 1))
        .collect();
    let mut reports = Vec::new();
    m.execute(&commands, &mut reports);
    assert_eq!(depth(&m, 1).1, vec![(1_000, 100, 100)]);
    let cancels: Vec<_> = (1..=20_000u64).rev().map(cancel).collect();
    reports.clear();
    m.execute(&cancels, &mut reports);
    assert!(reports.iter().all(|r| matches!(r, OrderEvent::Canceled(_))));
    assert_eq!(depth(&m, 1), (vec![], vec![]));
}

#[test]
fn the_market_posts_the_touch_and_its_orders_stay_inside() {
    use tradsys_sdk::{MarketEvent, Quote};
    let quote = |bid: i64, ask: i64| {
        MarketEvent::Quote(Quote {
            instrument: 0,
            ts: 1,
            bid_price: from_units(bid),
            bid_size: from_units(5),
            ask_price: from_units(ask),
            ask_size: from_units(5),
        })
    };
    let mut m = matcher();
    let mut reports = Vec::new();
    m.on_market(&[quote(99, 101), quote(100, 102)], &mut reports);
    assert!(
        reports.is_empty(),
        "the market's own reports stay inside: {reports:?}"
    );
    let depth = m.depth(0, 5);
    assert_eq!(depth.bids.len(), 1, "only the last quote's touch rests");
    assert_eq!(depth.bids[0].price, from_units(100));
    // A buy at the ask trades with the market's ask; only our reports return.
    let mut reports = Vec::new();
    m.execute(&[buy(7, 102, 2)], &mut reports);
    assert!(reports.iter().all(|r| r.id() == 7), "{reports:?}");
    assert!(
        reports
            .iter()
            .any(|r| matches!(r, OrderEvent::Filled(f) if !f.maker))
    );
    // A resting bid is filled (as maker) when the touch moves through it.
    run(&mut m, &[buy(8, 101, 1)]);
    let mut reports = Vec::new();
    m.on_market(&[quote(99, 100)], &mut reports);
    assert!(
        matches!(reports.as_slice(), [OrderEvent::Filled(f)] if f.id == 8 && f.maker && f.price == from_units(101)),
        "{reports:?}"
    );
    // Its state survives a swap.
    let mut copy = matcher();
    copy.load_state(&m.save_state()).unwrap();
    assert_eq!(copy.save_state(), m.save_state());
}

mod persistence;
mod self_trade;
