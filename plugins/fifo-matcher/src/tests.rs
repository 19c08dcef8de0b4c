//! Behaviour of the matcher through its trait methods.

use tradsys_sdk::fixed::{self, SCALE, from_units};
use tradsys_sdk::{
    CancelOrder, Config, Matcher, ModifyOrder, NewOrder, OrderCommand, OrderEvent, OrderType, Side,
    TimeInForce, host,
};

use super::FifoMatcher;

fn matcher() -> FifoMatcher {
    FifoMatcher::new(&Config::new([("seed", "7")])).expect("no required config")
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

/// A book with partial fills, several levels on both sides and a queue
/// reordered by modifies, on two instruments.
fn busy_matcher() -> FifoMatcher {
    let mut m = matcher();
    run(
        &mut m,
        &[
            buy(1, 99, 5),
            buy(2, 99, 5),
            buy(3, 98, 5),
            sell(4, 101, 5),
            sell(5, 101, 5),
            sell(6, 102, 5),
            // Partly fills #1.
            sell(7, 99, 2),
            // #2 goes behind #8.
            buy(8, 99, 1),
            modify(2, 99, 6),
            // #4 keeps its place with less.
            modify(4, 101, 3),
        ],
    );
    let mut reports = Vec::new();
    let OrderCommand::Submit(mut other) = sell(1, 500, 7) else {
        unreachable!()
    };
    other.instrument = 1;
    m.execute(&[OrderCommand::Submit(other)], &mut reports);
    m
}

#[test]
fn save_and_load_preserve_matching_exactly() {
    let original = busy_matcher();
    let state = original.save_state();
    assert_eq!(state[0], super::FORMAT_VERSION);

    let mut restored = matcher();
    restored.load_state(&state).expect("own state loads");
    assert_eq!(restored.save_state(), state);
    assert_eq!(restored.books, original.books);

    let mut original = original;
    let probe = [
        // Sweeps the bid side: queue order #1 (3 left, 2 filled), #8, #2.
        market(20, Side::Sell, 9, TimeInForce::Ioc),
        // Modify of a partly filled order counts its fills.
        modify(2, 99, 5),
        limit(21, Side::Buy, 102, 20, TimeInForce::Ioc),
    ];
    let expected = run(&mut original, &probe);
    assert_eq!(
        expected[..8],
        [
            "accepted #20",
            "fill #1 buy 3@99 leaves 0 maker",
            "fill #20 sell 3@99 leaves 6 taker",
            "fill #8 buy 1@99 leaves 0 maker",
            "fill #20 sell 1@99 leaves 5 taker",
            "fill #2 buy 5@99 leaves 1 maker",
            "fill #20 sell 5@99 leaves 0 taker",
            "canceled #2 1",
        ]
    );
    assert_eq!(run(&mut restored, &probe), expected);
    assert_eq!(m_depth(&restored, 1), m_depth(&original, 1));
}

fn m_depth(m: &FifoMatcher, instrument: u32) -> String {
    format!("{:?}", m.depth(instrument, 100))
}

#[test]
fn load_of_garbage_fails_and_keeps_the_books() {
    let mut m = busy_matcher();
    let state = m.save_state();
    let books = m.books.clone();

    let mut trailing = state.clone();
    trailing.push(0);
    let mut wrong_version = state.clone();
    wrong_version[0] = 99;
    let mut crossed = matcher();
    run(&mut crossed, &[buy(1, 100, 1)]);
    let mut crossed_state = crossed.save_state();
    // As format 1 (the books alone): drop the market's part (its order count
    // and an empty table), so the books end the state.
    crossed_state.truncate(crossed_state.len() - 12);
    crossed_state[0] = 1;
    // Rewrite the single bid's price (after version, book count, instrument
    // and bid level count) to 200 and append an ask level at 150.
    let price_at = 1 + 4 + 4 + 4;
    crossed_state[price_at..price_at + 8].copy_from_slice(&from_units(200).to_le_bytes());
    crossed_state.truncate(crossed_state.len() - 4);
    crossed_state.extend_from_slice(&1u32.to_le_bytes());
    crossed_state.extend_from_slice(&from_units(150).to_le_bytes());
    crossed_state.extend_from_slice(&1u32.to_le_bytes());
    crossed_state.extend_from_slice(&9u64.to_le_bytes());
    crossed_state.extend_from_slice(&from_units(1).to_le_bytes());
    crossed_state.extend_from_slice(&0i64.to_le_bytes());
    let mut repeated_id = crossed_state.clone();
    // Make the ask a valid price but reuse the bid's id.
    let ask_price_at = crossed_state.len() - 8 - 8 - 8 - 4 - 8;
    repeated_id[ask_price_at..ask_price_at + 8].copy_from_slice(&from_units(250).to_le_bytes());
    repeated_id[ask_price_at + 12..ask_price_at + 20].copy_from_slice(&1u64.to_le_bytes());
    let mut fixed_ask = repeated_id.clone();
    fixed_ask[ask_price_at + 12..ask_price_at + 20].copy_from_slice(&9u64.to_le_bytes());
    // The hand-built state is valid once neither crossed nor repeating ids,
    // so the rejections below are for the reasons named.
    assert!(matcher().load_state(&fixed_ask).is_ok());

    let bad: [(&str, &[u8]); 8] = [
        ("empty", &[]),
        ("garbage", b"\x01not a book at all, just some text"),
        ("truncated", &state[..state.len() - 1]),
        ("trailing", &trailing),
        ("version", &wrong_version),
        ("huge count", &[1, 0xff, 0xff, 0xff, 0xff]),
        ("crossed", &crossed_state),
        ("repeated id", &repeated_id),
    ];
    for (what, bytes) in bad {
        assert!(m.load_state(bytes).is_err(), "{what} state was accepted");
        assert_eq!(m.books, books, "{what} state changed the books");
    }
    // Every strict prefix of a good state is refused.
    for len in 0..state.len() {
        assert!(
            m.load_state(&state[..len]).is_err(),
            "prefix of {len} bytes"
        );
    }
    assert_eq!(m.save_state(), state);
}

/// xorshift64*: a tiny deterministic generator for the randomized test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn random_command(rng: &mut Rng, next_id: &mut u64) -> OrderCommand {
    let instrument = rng.below(2) as u32;
    let price = from_units(95 + rng.below(11) as i64);
    let quantity = from_units(1 + rng.below(9) as i64);
    let existing = 1 + rng.below((*next_id).max(1));
    match rng.below(10) {
        0..=4 => {
            *next_id += 1;
            OrderCommand::Submit(NewOrder {
                id: *next_id,
                instrument,
                side: if rng.below(2) == 0 {
                    Side::Buy
                } else {
                    Side::Sell
                },
                order_type: if rng.below(8) == 0 {
                    OrderType::Market
                } else {
                    OrderType::Limit
                },
                time_in_force: match rng.below(6) {
                    0 => TimeInForce::Ioc,
                    1 => TimeInForce::Fok,
                    _ => TimeInForce::Gtc,
                },
                price,
                quantity,
            })
        }
        5..=6 => OrderCommand::Cancel(CancelOrder {
            id: existing,
            instrument,
        }),
        _ => OrderCommand::Modify(ModifyOrder {
            id: existing,
            instrument,
            price,
            quantity,
        }),
    }
}

#[test]
fn random_flow_keeps_the_book_consistent_and_survives_a_round_trip() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut next_id = 0;
    let mut m = matcher();
    let mut fills = 0;
    for _ in 0..300 {
        let batch: Vec<_> = (0..10)
            .map(|_| random_command(&mut rng, &mut next_id))
            .collect();
        let reports = run(&mut m, &batch);
        fills += reports.iter().filter(|r| r.starts_with("fill")).count();
    }
    assert!(
        fills > 500,
        "the random flow should trade, got {fills} fills"
    );

    let mut restored = matcher();
    restored
        .load_state(&m.save_state())
        .expect("own state loads");
    for _ in 0..300 {
        let batch: Vec<_> = (0..10)
            .map(|_| random_command(&mut rng, &mut next_id))
            .collect();
        assert_eq!(run(&mut restored, &batch), run(&mut m, &batch));
    }
    assert_eq!(restored.save_state(), m.save_state());
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

/// Owners set on the host stand-in for the life of the guard (then cleared,
/// so that no other test on this thread sees them).
struct Owners(Vec<u64>);

impl Owners {
    fn set(owners: &[(u64, u32)]) -> Self {
        for &(id, owner) in owners {
            host::set_owner(id, Some(owner));
        }
        Self(owners.iter().map(|&(id, _)| id).collect())
    }
}

impl Drop for Owners {
    fn drop(&mut self) {
        for &id in &self.0 {
            host::set_owner(id, None);
        }
    }
}

fn self_trade_matcher(mode: &str) -> FifoMatcher {
    FifoMatcher::new(&Config::new([("seed", "7"), ("self_trade", mode)])).expect("valid config")
}

/// Sells at 100 of owners 2, 1 and 2 (5 each, in time order); #4 will be
/// owner 1's buy of 12.
fn self_trade_book(mode: &str) -> (FifoMatcher, Owners) {
    let owners = Owners::set(&[(1, 2), (2, 1), (3, 2), (4, 1), (5, 1), (6, 1)]);
    let mut m = self_trade_matcher(mode);
    run(&mut m, &[sell(1, 100, 5), sell(2, 100, 5), sell(3, 100, 5)]);
    (m, owners)
}

#[test]
fn self_trade_none_is_the_default_and_trades_with_own_orders() {
    for mut m in [matcher(), self_trade_book("none").0] {
        let _owners = Owners::set(&[(1, 2), (2, 1), (3, 2), (4, 1)]);
        run(&mut m, &[sell(1, 100, 5), sell(2, 100, 5), sell(3, 100, 5)]);
        let reports = run(&mut m, &[buy(4, 100, 12)]);
        assert!(
            reports.contains(&"fill #2 sell 5@100 leaves 0 maker".to_string()),
            "{reports:?}"
        );
    }
}

#[test]
fn self_trade_cancel_resting_cancels_the_own_order_and_goes_on() {
    let (mut m, _owners) = self_trade_book("cancel-resting");
    assert_eq!(
        run(&mut m, &[buy(4, 100, 12)]),
        [
            "accepted #4",
            "fill #1 sell 5@100 leaves 0 maker",
            "fill #4 buy 5@100 leaves 7 taker",
            "canceled #2 5",
            "fill #3 sell 5@100 leaves 0 maker",
            "fill #4 buy 5@100 leaves 2 taker",
        ]
    );
    // The rest of the aggressor (GTC) rests.
    assert_eq!(depth(&m, 5), (vec![(100, 2, 1)], vec![]));
    assert_eq!(run(&mut m, &[cancel(2)]), ["rejected #2 UnknownOrder"]);
}

#[test]
fn self_trade_cancel_aggressor_stops_at_the_own_order() {
    let (mut m, _owners) = self_trade_book("cancel-aggressor");
    assert_eq!(
        run(&mut m, &[buy(4, 100, 12)]),
        [
            "accepted #4",
            "fill #1 sell 5@100 leaves 0 maker",
            "fill #4 buy 5@100 leaves 7 taker",
            "canceled #4 7",
        ]
    );
    assert_eq!(depth(&m, 5), (vec![], vec![(100, 10, 2)]));
    // A repriced order is an aggressor too: canceled at its own order.
    run(&mut m, &[buy(5, 99, 3)]);
    assert_eq!(
        run(&mut m, &[modify(5, 100, 3)]),
        ["modified #5 100 leaves 3", "canceled #5 3"]
    );
    assert_eq!(depth(&m, 5), (vec![], vec![(100, 10, 2)]));
}

#[test]
fn self_trade_cancel_both() {
    let (mut m, _owners) = self_trade_book("cancel-both");
    assert_eq!(
        run(&mut m, &[buy(4, 100, 12)]),
        [
            "accepted #4",
            "fill #1 sell 5@100 leaves 0 maker",
            "fill #4 buy 5@100 leaves 7 taker",
            "canceled #2 5",
            "canceled #4 7",
        ]
    );
    assert_eq!(depth(&m, 5), (vec![], vec![(100, 5, 1)]));
}

#[test]
fn self_trade_and_fill_or_kill() {
    // cancel-aggressor: a FOK that would reach its own order is killed,
    // without touching the book; one that stops before it fills.
    let (mut m, _owners) = self_trade_book("cancel-aggressor");
    let before = m.save_state();
    assert_eq!(
        run(&mut m, &[limit(4, Side::Buy, 100, 6, TimeInForce::Fok)]),
        ["rejected #4 FillOrKillUnfilled"]
    );
    assert_eq!(m.save_state(), before);
    assert_eq!(
        run(&mut m, &[limit(5, Side::Buy, 100, 5, TimeInForce::Fok)])[0],
        "accepted #5"
    );
    // cancel-resting: only the other owner's 10 count.
    let (mut m, _owners) = self_trade_book("cancel-resting");
    assert_eq!(
        run(&mut m, &[limit(4, Side::Buy, 100, 11, TimeInForce::Fok)]),
        ["rejected #4 FillOrKillUnfilled"]
    );
    let reports = run(&mut m, &[limit(5, Side::Buy, 100, 10, TimeInForce::Fok)]);
    assert!(
        reports.contains(&"canceled #2 5".to_string()),
        "{reports:?}"
    );
    assert_eq!(reports.last().unwrap(), "fill #5 buy 5@100 leaves 0 taker");
    assert_eq!(depth(&m, 5), (vec![], vec![]));
}

#[test]
fn the_market_has_no_owner_and_never_self_trades() {
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
    let _owners = Owners::set(&[(7, 1), (8, 1)]);
    let mut m = self_trade_matcher("cancel-both");
    let mut reports = Vec::new();
    m.on_market(&[quote(99, 101)], &mut reports);
    assert!(reports.is_empty());
    // A strategy order takes the market's ask.
    assert_eq!(
        run(&mut m, &[buy(7, 101, 2)]),
        ["accepted #7", "fill #7 buy 2@101 leaves 0 taker"]
    );
    // The market's new touch fills a resting strategy order.
    run(&mut m, &[buy(8, 100, 1)]);
    m.on_market(&[quote(98, 100)], &mut reports);
    assert!(
        matches!(reports.as_slice(), [OrderEvent::Filled(f)] if f.id == 8 && f.maker),
        "{reports:?}"
    );
}

#[test]
fn owners_survive_save_and_load_and_older_formats_still_load() {
    let (mut original, owners) = self_trade_book("cancel-resting");
    let state = original.save_state();
    assert_eq!(state[0], super::FORMAT_VERSION);
    let mut restored = self_trade_matcher("cancel-resting");
    restored.load_state(&state).expect("own state loads");
    assert_eq!(restored.books, original.books);
    assert_eq!(restored.save_state(), state);
    // The resting orders' owners now come from the state alone.
    drop(owners);
    {
        let _aggressor = Owners::set(&[(4, 1)]);
        let expected = run(&mut original, &[buy(4, 100, 12)]);
        assert!(
            expected.contains(&"canceled #2 5".to_string()),
            "{expected:?}"
        );
        assert_eq!(run(&mut restored, &[buy(4, 100, 12)]), expected);
    }

    // Without owners, format 3 is format 2 but for its version byte, and
    // format 2 (an earlier version's state) loads.
    let mut unowned = busy_matcher();
    let mut old = unowned.save_state();
    old[0] = 2;
    let mut loaded = matcher();
    loaded.load_state(&old).expect("format 2 loads");
    assert_eq!(loaded.books, unowned.books);
    assert_eq!(loaded.save_state()[1..], old[1..]);

    // An owners' section in format 2, an empty one, or one naming an order
    // that does not work, is refused.
    // Three owners of 16 bytes (instrument, id, owner) after their count.
    let section = 4 + 3 * 16;
    let owned_tail = &state[state.len() - section..];
    let mut in_format_2 = old.clone();
    in_format_2.extend_from_slice(owned_tail);
    let mut empty_section = unowned.save_state();
    empty_section.extend_from_slice(&0u32.to_le_bytes());
    let mut unknown_order = unowned.save_state();
    unknown_order.extend_from_slice(&1u32.to_le_bytes());
    unknown_order.extend_from_slice(&0u32.to_le_bytes());
    unknown_order.extend_from_slice(&999u64.to_le_bytes());
    unknown_order.extend_from_slice(&1u32.to_le_bytes());
    for (what, bytes) in [
        ("owners in format 2", &in_format_2),
        ("empty owners", &empty_section),
        ("owner of an unknown order", &unknown_order),
    ] {
        assert!(unowned.load_state(bytes).is_err(), "{what} accepted");
    }
    // Every strict prefix of a state with owners is refused but the one
    // without the whole owners' section.
    for len in 0..state.len() {
        let mut m = self_trade_matcher("cancel-resting");
        let loaded = m.load_state(&state[..len]).is_ok();
        assert_eq!(loaded, len == state.len() - section, "prefix of {len}");
    }
}

#[test]
fn a_bad_self_trade_value_is_refused_naming_the_key() {
    let error = FifoMatcher::new(&Config::new([("self_trade", "cancel-newest")])).unwrap_err();
    assert!(error.contains("`self_trade`"), "{error}");
    for mode in ["none", "cancel-resting", "cancel-aggressor", "cancel-both"] {
        assert!(FifoMatcher::new(&Config::new([("self_trade", mode)])).is_ok());
    }
}
