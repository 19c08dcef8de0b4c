//! Behaviour of the matcher through its trait methods.

use tradsys_sdk::fixed::{self, SCALE, from_units};
use tradsys_sdk::{
    CancelOrder, Config, InstrumentDefinition, MarketEvent, Matcher, ModifyOrder, NewOrder,
    OrderCommand, OrderEvent, OrderType, Side, TimeInForce, host,
};

use super::ProRataMatcher;

fn matcher(config: &[(&str, &str)]) -> ProRataMatcher {
    ProRataMatcher::new(&Config::new(config.iter().copied())).expect("valid config")
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

fn definition(instrument: u32, lot: i64) -> MarketEvent {
    MarketEvent::Instrument(InstrumentDefinition {
        id: instrument,
        symbol: "GEZ4".into(),
        tick_size: SCALE / 200,
        lot_size: lot,
        price_precision: 3,
        size_precision: 0,
        multiplier: 2_500,
    })
}

/// Owners set on the host stand-in for the life of the guard.
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

fn run(m: &mut ProRataMatcher, commands: &[OrderCommand]) -> Vec<String> {
    let mut reports = Vec::new();
    m.execute(commands, &mut reports);
    for book in m.books.values() {
        book.check_invariants();
    }
    reports.iter().map(describe).collect()
}

/// Only the maker fills, as "#id quantity".
fn maker_fills(reports: &[String]) -> Vec<String> {
    reports
        .iter()
        .filter(|r| r.ends_with("maker"))
        .map(|r| {
            let mut words = r.split(' ');
            let id = words.nth(1).unwrap();
            let quantity = words.nth(1).unwrap().split('@').next().unwrap();
            format!("{id} {quantity}")
        })
        .collect()
}

/// One depth level as `(price, quantity, orders)`, price and quantity in units.
type Level = (i64, i64, u32);

/// Depth of instrument 0 as `(bids, asks)`.
fn depth(m: &ProRataMatcher) -> (Vec<Level>, Vec<Level>) {
    let d = m.depth(0, 10);
    let side = |levels: &[tradsys_sdk::DepthLevel]| -> Vec<Level> {
        levels
            .iter()
            .map(|l| (l.price / SCALE, l.quantity / SCALE, l.orders))
            .collect()
    };
    (side(&d.bids), side(&d.asks))
}

fn top(m: &ProRataMatcher, side: Side) -> Option<u64> {
    m.books.get(0).and_then(|book| book.top(side))
}

/// CME's published example: buys of 5, 9, 57, 4, 28 and 300 lots.
fn cme_book(m: &mut ProRataMatcher) {
    let sizes = [5, 9, 57, 4, 28, 300];
    let commands: Vec<_> = (1..).zip(sizes).map(|(id, q)| buy(id, 100, q)).collect();
    run(m, &commands);
}

#[test]
fn cme_published_example() {
    let mut m = matcher(&[("min_allocation", "2")]);
    cme_book(&mut m);
    // Pro rata: 0.62, 1.12, 7.07, 0.50, 3.47 and 37.22 round down to 0, 1,
    // 7, 0, 3, 37; the 1 is below the minimum of 2; 3 are left, for order 1.
    assert_eq!(
        run(&mut m, &[sell(7, 100, 50)]),
        [
            "accepted #7",
            "fill #1 buy 3@100 leaves 2 maker",
            "fill #7 sell 3@100 leaves 47 taker",
            "fill #3 buy 7@100 leaves 50 maker",
            "fill #7 sell 7@100 leaves 40 taker",
            "fill #5 buy 3@100 leaves 25 maker",
            "fill #7 sell 3@100 leaves 37 taker",
            "fill #6 buy 37@100 leaves 263 maker",
            "fill #7 sell 37@100 leaves 0 taker",
        ]
    );
    assert_eq!(depth(&m), (vec![(100, 353, 6)], vec![]));
}

#[test]
fn min_allocation_drops_small_shares() {
    // Without a minimum the 1.12 of order 2 is one lot and 2 are left.
    let mut m = matcher(&[("min_allocation", "0")]);
    cme_book(&mut m);
    assert_eq!(
        maker_fills(&run(&mut m, &[sell(7, 100, 50)])),
        ["#1 2", "#2 1", "#3 7", "#5 3", "#6 37"]
    );
    // A minimum of 8 lots leaves only order 6's 37: 13 go FIFO.
    let mut m = matcher(&[("min_allocation", "8")]);
    cme_book(&mut m);
    assert_eq!(
        maker_fills(&run(&mut m, &[sell(7, 100, 50)])),
        ["#1 5", "#2 8", "#6 37"]
    );
    // The default is 2.
    let mut m = matcher(&[]);
    cme_book(&mut m);
    assert_eq!(
        maker_fills(&run(&mut m, &[sell(7, 100, 50)])),
        ["#1 3", "#3 7", "#5 3", "#6 37"]
    );
}

#[test]
fn an_aggressor_taking_a_whole_level_fills_it_fifo() {
    let mut m = matcher(&[]);
    run(
        &mut m,
        &[
            buy(1, 100, 3),
            buy(2, 100, 5),
            buy(3, 99, 10),
            buy(4, 99, 20),
        ],
    );
    // 14 take all 8 at 100 (FIFO, every order in full), then 6 of the 30
    // at 99 pro rata: 2 and 4.
    assert_eq!(
        run(&mut m, &[sell(5, 99, 14)]),
        [
            "accepted #5",
            "fill #1 buy 3@100 leaves 0 maker",
            "fill #5 sell 3@100 leaves 11 taker",
            "fill #2 buy 5@100 leaves 0 maker",
            "fill #5 sell 5@100 leaves 6 taker",
            "fill #3 buy 2@99 leaves 8 maker",
            "fill #5 sell 2@99 leaves 4 taker",
            "fill #4 buy 4@99 leaves 16 maker",
            "fill #5 sell 4@99 leaves 0 taker",
        ]
    );
    // Exactly the level's quantity is the whole level too.
    assert_eq!(
        maker_fills(&run(&mut m, &[sell(6, 99, 24)])),
        ["#3 8", "#4 16"]
    );
    assert_eq!(depth(&m), (vec![], vec![]));
    assert_eq!(run(&mut m, &[cancel(3)]), ["rejected #3 UnknownOrder"]);
}

#[test]
fn the_top_order_fills_first_until_it_loses_top_status() {
    let mut m = matcher(&[("algorithm", "allocation")]);
    // The first order on an empty side betters the market.
    run(&mut m, &[buy(1, 100, 10), buy(2, 100, 30)]);
    assert_eq!(top(&m, Side::Buy), Some(1));
    assert_eq!(top(&m, Side::Sell), None);
    // TOP first, up to the aggressor's size: pro rata would have given 2.
    assert_eq!(maker_fills(&run(&mut m, &[sell(3, 100, 8)])), ["#1 8"]);
    assert_eq!(top(&m, Side::Buy), Some(1), "partly filled, still TOP");
    // An order bettering the market takes the TOP status.
    run(&mut m, &[buy(4, 101, 10), buy(5, 101, 30)]);
    assert_eq!(top(&m, Side::Buy), Some(4));
    // #4 fills in full first (and loses TOP), the 2 left go pro rata.
    assert_eq!(
        run(&mut m, &[sell(6, 101, 12)]),
        [
            "accepted #6",
            "fill #4 buy 10@101 leaves 0 maker",
            "fill #6 sell 10@101 leaves 2 taker",
            "fill #5 buy 2@101 leaves 28 maker",
            "fill #6 sell 2@101 leaves 0 taker",
        ]
    );
    assert_eq!(top(&m, Side::Buy), None);
    // 101 goes whole (FIFO); at 100 #1 is no TOP any more: of 12 over 32,
    // #1 gets 0.75 (nothing) and #2 11.25, and the 1 left goes FIFO to #1.
    assert_eq!(
        maker_fills(&run(&mut m, &[sell(7, 100, 40)])),
        ["#5 28", "#1 1", "#2 11"]
    );
    // The same without TOP (algorithm C): #1 never jumps the pro rata.
    let mut c = matcher(&[("algorithm", "pro-rata")]);
    run(&mut c, &[buy(1, 100, 10), buy(2, 100, 30)]);
    assert_eq!(top(&c, Side::Buy), None);
    assert_eq!(
        maker_fills(&run(&mut c, &[sell(3, 100, 8)])),
        ["#1 2", "#2 6"]
    );
}

#[test]
fn top_status_follows_cancels_and_modifies() {
    let mut m = matcher(&[("algorithm", "allocation")]);
    run(&mut m, &[buy(1, 100, 10)]);
    assert_eq!(top(&m, Side::Buy), Some(1));
    // Less at the same price keeps the time priority, and TOP.
    run(&mut m, &[modify(1, 100, 8)]);
    assert_eq!(top(&m, Side::Buy), Some(1));
    // More loses it: the order did not better the market it was.
    run(&mut m, &[modify(1, 100, 12)]);
    assert_eq!(top(&m, Side::Buy), None);
    // An order joining the best price does not better the market.
    run(&mut m, &[buy(2, 100, 5)]);
    assert_eq!(top(&m, Side::Buy), None);
    // A canceled TOP leaves no TOP behind.
    run(&mut m, &[buy(3, 101, 5)]);
    assert_eq!(top(&m, Side::Buy), Some(3));
    run(&mut m, &[cancel(3)]);
    assert_eq!(top(&m, Side::Buy), None);
    // A modify to a better price betters the market.
    run(&mut m, &[modify(2, 102, 5)]);
    assert_eq!(top(&m, Side::Buy), Some(2));
    // Each side has its own; an aggressor that does not rest takes none.
    run(&mut m, &[sell(4, 110, 5), buy(5, 110, 2)]);
    assert_eq!(
        (top(&m, Side::Buy), top(&m, Side::Sell)),
        (Some(2), Some(4))
    );
    run(&mut m, &[sell(6, 109, 1)]);
    assert_eq!(top(&m, Side::Sell), Some(6));
    // Filled completely: no TOP.
    run(&mut m, &[buy(7, 109, 1)]);
    assert_eq!(top(&m, Side::Sell), None);
    assert_eq!(
        depth(&m),
        (vec![(102, 5, 1), (100, 12, 1)], vec![(110, 3, 1)])
    );
}

#[test]
fn shares_are_whole_lots_of_the_instrument_definition() {
    let mut m = matcher(&[("min_allocation", "1")]);
    let mut reports = Vec::new();
    // The definition may come before or after the book exists.
    run(&mut m, &[buy(1, 100, 100), buy(2, 100, 100)]);
    m.on_market(&[definition(0, from_units(10))], &mut reports);
    assert!(reports.is_empty());
    // 15 each rounds down to one lot of 10; the 10 left go FIFO.
    assert_eq!(
        maker_fills(&run(&mut m, &[sell(3, 100, 30)])),
        ["#1 20", "#2 10"]
    );
    // With the default minimum of 2 lots (20) neither share counts.
    let mut m = matcher(&[]);
    m.on_market(&[definition(0, from_units(10))], &mut reports);
    run(&mut m, &[buy(1, 100, 100), buy(2, 100, 100)]);
    assert_eq!(maker_fills(&run(&mut m, &[sell(3, 100, 30)])), ["#1 30"]);
    // Without a definition a lot is one unit: 15 and 15.
    let mut m = matcher(&[]);
    run(&mut m, &[buy(1, 100, 100), buy(2, 100, 100)]);
    assert_eq!(
        maker_fills(&run(&mut m, &[sell(3, 100, 30)])),
        ["#1 15", "#2 15"]
    );
}

#[test]
fn ioc_fok_and_market_orders() {
    let mut m = matcher(&[]);
    run(&mut m, &[buy(1, 100, 10), buy(2, 100, 30), buy(3, 99, 20)]);
    let before = m.save_state();
    // FOK: 41 are not there at 100 or better; nothing changes.
    assert_eq!(
        run(&mut m, &[limit(4, Side::Sell, 100, 41, TimeInForce::Fok)]),
        ["rejected #4 FillOrKillUnfilled"]
    );
    assert_eq!(m.save_state(), before);
    // 20 are, pro rata: 5 and 15.
    assert_eq!(
        run(&mut m, &[limit(5, Side::Sell, 100, 20, TimeInForce::Fok)]),
        [
            "accepted #5",
            "fill #1 buy 5@100 leaves 5 maker",
            "fill #5 sell 5@100 leaves 15 taker",
            "fill #2 buy 15@100 leaves 15 maker",
            "fill #5 sell 15@100 leaves 0 taker",
        ]
    );
    // IOC: the whole of 100 (FIFO), then the rest canceled at its limit.
    assert_eq!(
        run(&mut m, &[limit(6, Side::Sell, 100, 30, TimeInForce::Ioc)]),
        [
            "accepted #6",
            "fill #1 buy 5@100 leaves 0 maker",
            "fill #6 sell 5@100 leaves 25 taker",
            "fill #2 buy 15@100 leaves 0 maker",
            "fill #6 sell 15@100 leaves 10 taker",
            "canceled #6 10",
        ]
    );
    // Market: any price, never rests; nothing to take is no liquidity.
    assert_eq!(
        run(&mut m, &[market(7, Side::Sell, 25, TimeInForce::Gtc)]),
        [
            "accepted #7",
            "fill #3 buy 20@99 leaves 0 maker",
            "fill #7 sell 20@99 leaves 5 taker",
            "canceled #7 5",
        ]
    );
    assert_eq!(
        run(&mut m, &[market(8, Side::Sell, 1, TimeInForce::Ioc)]),
        ["rejected #8 NoLiquidity"]
    );
    assert_eq!(depth(&m), (vec![], vec![]));
}

#[test]
fn modify_through_the_spread_trades_pro_rata_then_rests() {
    let mut m = matcher(&[]);
    run(&mut m, &[sell(1, 101, 10), sell(2, 101, 30), buy(3, 99, 5)]);
    // Re-priced to 101 with 12 (5 more): trades 12 of 40 pro rata (3, 9).
    assert_eq!(
        run(&mut m, &[modify(3, 101, 12)]),
        [
            "modified #3 101 leaves 12",
            "fill #1 sell 3@101 leaves 7 maker",
            "fill #3 buy 3@101 leaves 9 taker",
            "fill #2 sell 9@101 leaves 21 maker",
            "fill #3 buy 9@101 leaves 0 taker",
        ]
    );
    // A bad price or an unknown id is refused, as in fifo-matcher.
    assert_eq!(
        run(&mut m, &[modify(1, 0, 5), modify(9, 100, 5)]),
        ["rejected #1 InvalidOrder", "rejected #9 UnknownOrder"]
    );
    assert_eq!(depth(&m), (vec![], vec![(101, 28, 2)]));
}

/// Buys at 100 of owners 2, 1 and 2 (10, 30 and 20); the aggressor #4 is
/// owner 1's 12-lot sell. Pro rata the sell would trade 2, 6 and 4.
fn self_trade_book(mode: &str) -> (ProRataMatcher, Owners) {
    let owners = Owners::set(&[(1, 2), (2, 1), (3, 2), (4, 1)]);
    let mut m = matcher(&[("self_trade", mode)]);
    run(&mut m, &[buy(1, 100, 10), buy(2, 100, 30), buy(3, 100, 20)]);
    (m, owners)
}

#[test]
fn self_trade_none_trades_with_own_orders() {
    let (mut m, _owners) = self_trade_book("none");
    assert_eq!(
        maker_fills(&run(&mut m, &[sell(4, 100, 12)])),
        ["#1 2", "#2 6", "#3 4"]
    );
}

#[test]
fn self_trade_cancel_resting_cancels_the_own_order_and_allocates_again() {
    let (mut m, _owners) = self_trade_book("cancel-resting");
    // #1's 2 stand; #2 is canceled; the 10 left go over 8 and 20: 2.86
    // (2) and 7.14 (7), and the 1 left FIFO to #1.
    assert_eq!(
        run(&mut m, &[sell(4, 100, 12)]),
        [
            "accepted #4",
            "fill #1 buy 2@100 leaves 8 maker",
            "fill #4 sell 2@100 leaves 10 taker",
            "canceled #2 30",
            "fill #1 buy 3@100 leaves 5 maker",
            "fill #4 sell 3@100 leaves 7 taker",
            "fill #3 buy 7@100 leaves 13 maker",
            "fill #4 sell 7@100 leaves 0 taker",
        ]
    );
    assert_eq!(depth(&m), (vec![(100, 18, 2)], vec![]));
}

#[test]
fn self_trade_cancel_aggressor_stops_at_the_own_order() {
    let (mut m, _owners) = self_trade_book("cancel-aggressor");
    assert_eq!(
        run(&mut m, &[sell(4, 100, 12)]),
        [
            "accepted #4",
            "fill #1 buy 2@100 leaves 8 maker",
            "fill #4 sell 2@100 leaves 10 taker",
            "canceled #4 10",
        ]
    );
    assert_eq!(depth(&m), (vec![(100, 58, 3)], vec![]));
    assert_eq!(run(&mut m, &[cancel(4)]), ["rejected #4 UnknownOrder"]);
}

#[test]
fn self_trade_cancel_both() {
    let (mut m, _owners) = self_trade_book("cancel-both");
    assert_eq!(
        run(&mut m, &[sell(4, 100, 12)]),
        [
            "accepted #4",
            "fill #1 buy 2@100 leaves 8 maker",
            "fill #4 sell 2@100 leaves 10 taker",
            "canceled #2 30",
            "canceled #4 10",
        ]
    );
    assert_eq!(depth(&m), (vec![(100, 28, 2)], vec![]));
}

#[test]
fn fill_or_kill_counts_what_self_trade_prevention_leaves() {
    // cancel-aggressor: any allocation reaching #2 would cancel the FOK.
    let (mut m, _owners) = self_trade_book("cancel-aggressor");
    let before = m.save_state();
    let _more = Owners::set(&[(5, 1), (6, 1), (7, 3)]);
    assert_eq!(
        run(&mut m, &[limit(5, Side::Sell, 100, 12, TimeInForce::Fok)]),
        ["rejected #5 FillOrKillUnfilled"]
    );
    assert_eq!(m.save_state(), before, "a killed FOK cancels nothing");
    // Another owner's FOK is not affected.
    assert_eq!(
        run(&mut m, &[limit(7, Side::Sell, 100, 60, TimeInForce::Fok)])[0],
        "accepted #7"
    );

    // cancel-resting: the 30 of the other owner count, #2's do not.
    let (mut m, _owners) = self_trade_book("cancel-resting");
    assert_eq!(
        run(&mut m, &[limit(5, Side::Sell, 100, 31, TimeInForce::Fok)]),
        ["rejected #5 FillOrKillUnfilled"]
    );
    let reports = run(&mut m, &[limit(6, Side::Sell, 100, 30, TimeInForce::Fok)]);
    assert_eq!(reports[0], "accepted #6");
    assert!(
        reports.contains(&"canceled #2 30".to_string()),
        "{reports:?}"
    );
    assert_eq!(
        reports.last().unwrap(),
        "fill #6 sell 20@100 leaves 0 taker"
    );
    assert_eq!(depth(&m), (vec![], vec![]));
}

#[test]
fn config_is_checked_and_names_the_key() {
    for (key, value) in [
        ("algorithm", "fifo"),
        ("min_allocation", "-1"),
        ("min_allocation", "two"),
        ("self_trade", "cancel-newest"),
    ] {
        let error = ProRataMatcher::new(&Config::new([(key, value)])).unwrap_err();
        assert!(error.contains(&format!("`{key}`")), "{error}");
    }
    for (key, value) in [
        ("algorithm", "pro-rata"),
        ("algorithm", "allocation"),
        ("min_allocation", "0"),
        ("self_trade", "none"),
        ("self_trade", "cancel-resting"),
        ("self_trade", "cancel-aggressor"),
        ("self_trade", "cancel-both"),
    ] {
        assert!(ProRataMatcher::new(&Config::new([(key, value)])).is_ok());
    }
}

mod persistence;
