use super::*;
use tradsys_sdk::OpenOrder;
use tradsys_sdk::testing::{
    self, RiskContextBuilder, approvals, approved, rejected, units, validate, validate_one,
};

/// Strategy 0 in the synthetic market with the given positions and working orders
/// `(id, instrument, side, leaves)`.
fn context(positions: &[(u32, i64)], open: &[(u64, u32, Side, i64)]) -> RiskContext {
    let mut ctx = RiskContextBuilder::new(1_000_000_000);
    ctx.instruments(testing::synthetic_instruments())
        .last_price(0, units(100));
    for &(instrument, qty) in positions {
        ctx.position(instrument, units(qty), units(100));
    }
    for &(id, instrument, side, leaves) in open {
        ctx.open_order(id, instrument, side, units(100), units(leaves));
    }
    ctx.build()
}

fn submit(id: u64, instrument: u32, side: Side, quantity: i64) -> OrderCommand {
    testing::limit(id, instrument, side, units(100), units(quantity))
}

fn buy(instrument: u32, quantity: i64) -> OrderCommand {
    submit(1, instrument, Side::Buy, quantity)
}

fn sell(instrument: u32, quantity: i64) -> OrderCommand {
    submit(1, instrument, Side::Sell, quantity)
}

fn market(instrument: u32, side: Side, quantity: i64) -> OrderCommand {
    testing::market(2, instrument, side, units(quantity))
}

fn modify(id: u64, instrument: u32, quantity: i64) -> OrderCommand {
    testing::modify(id, instrument, units(101), units(quantity))
}

fn validator(config: &[(&str, &str)]) -> TradingState {
    testing::validator(config)
}

#[test]
fn defaults_and_bad_config() {
    let v = validator(&[]);
    assert_eq!(v.all, State::Active);
    assert!(v.overrides.is_empty());
    let v = validator(&[
        ("state", " Reducing "),
        ("state.SYN-A", "HALTED"),
        ("state.SYN-B", "halted"),
        ("state.SYN-B", "active"),
    ]);
    assert_eq!(v.all, State::Reducing);
    assert_eq!(
        v.overrides.into_iter().collect::<Vec<_>>(),
        [
            ("SYN-A".to_string(), State::Halted),
            ("SYN-B".to_string(), State::Active)
        ]
    );
    for (key, value, error) in [
        (
            "state",
            "stopped",
            "config `state`: `stopped` is not a trading state (active, reducing or halted)",
        ),
        (
            "state.SYN-A",
            "",
            "config `state.SYN-A`: `` is not a trading state (active, reducing or halted)",
        ),
        (
            "state.",
            "halted",
            "config `state.`: unknown key (the keys are `state`, `state.SYMBOL`)",
        ),
        (
            "states",
            "halted",
            "config `states`: unknown key (the keys are `state`, `state.SYMBOL`)",
        ),
        (
            "State.SYN-A",
            "halted",
            "config `State.SYN-A`: unknown key (the keys are `state`, `state.SYMBOL`)",
        ),
    ] {
        let err = TradingState::new(&Config::new([(key, value)])).unwrap_err();
        assert_eq!(err, error);
    }
}

#[test]
fn active_passes_everything() {
    let mut v = validator(&[("state", "active")]);
    let ctx = context(&[(0, 500)], &[(7, 0, Side::Buy, 100)]);
    let orders = [
        buy(0, 1000),
        sell(1, 1000),
        market(2, Side::Buy, 1),
        modify(7, 0, 2000),
        modify(99, 0, 1),
        testing::cancel(7, 0),
        buy(42, 1),
    ];
    assert!(validate(&mut v, &ctx, &orders).iter().all(approved));
}

#[test]
fn halted_passes_only_cancels() {
    let mut v = validator(&[("state", "halted")]);
    let ctx = context(&[(0, 100)], &[(7, 0, Side::Sell, 50)]);
    let (reason, message) = rejected(validate_one(&mut v, &ctx, buy(0, 100)));
    assert_eq!(reason, RejectReason::InstrumentHalted);
    assert_eq!(
        message,
        "trading state of SYN-A is halted: only cancels pass (refused buy 100 at 100.00; \
         set by `state`)"
    );
    // Even an order that would reduce the position, and any modify.
    let (_, message) = rejected(validate_one(&mut v, &ctx, market(0, Side::Sell, 50)));
    assert!(
        message.contains("(refused sell 50 at market; "),
        "{message}"
    );
    let (reason, message) = rejected(validate_one(&mut v, &ctx, modify(7, 0, 10)));
    assert_eq!(reason, RejectReason::InstrumentHalted);
    assert!(
        message.contains("(refused modify of order 7 to 10 at 101.00; "),
        "{message}"
    );
    assert!(approved(&validate_one(&mut v, &ctx, testing::cancel(7, 0))));
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        testing::cancel(8, 42)
    )));
}

#[test]
fn per_instrument_states_win() {
    let mut v = validator(&[
        ("state", "halted"),
        ("state.SYN-A", "active"),
        ("state.SYN-B", "reducing"),
    ]);
    let ctx = context(&[(1, 100)], &[]);
    assert!(approved(&validate_one(&mut v, &ctx, buy(0, 100))));
    assert!(approved(&validate_one(&mut v, &ctx, sell(1, 100))));
    let (_, message) = rejected(validate_one(&mut v, &ctx, buy(1, 1)));
    assert!(
        message.starts_with("trading state of SYN-B is reducing: "),
        "{message}"
    );
    assert!(message.ends_with("; set by `state.SYN-B`)"), "{message}");
    let (reason, message) = rejected(validate_one(&mut v, &ctx, sell(2, 1)));
    assert_eq!(reason, RejectReason::InstrumentHalted);
    assert!(
        message.starts_with("trading state of SYN-C is halted: only cancels pass"),
        "{message}"
    );
    assert!(message.ends_with("; set by `state`)"), "{message}");
    // One instrument halted, the rest active by default.
    let mut v = validator(&[("state.SYN-C", "halted")]);
    assert!(approved(&validate_one(&mut v, &ctx, buy(0, 100))));
    assert!(!approved(&validate_one(&mut v, &ctx, buy(2, 100))));
    // Symbols match exactly.
    let mut v = validator(&[("state.syn-c", "halted")]);
    assert!(approved(&validate_one(&mut v, &ctx, buy(2, 100))));
}

#[test]
fn undefined_instruments_get_the_most_restrictive_state() {
    let ctx = context(&[], &[]);
    let mut v = validator(&[("state.SYN-A", "reducing"), ("state.SYN-B", "halted")]);
    let (reason, message) = rejected(validate_one(&mut v, &ctx, buy(9, 1)));
    assert_eq!(reason, RejectReason::InstrumentHalted);
    assert_eq!(
        message,
        "trading state of instrument 9 (not defined) is halted: only cancels pass (refused \
         buy 1 at 100.00; set by `state.SYN-B`)"
    );
    let mut v = validator(&[("state", "reducing"), ("state.SYN-A", "active")]);
    let (_, message) = rejected(validate_one(&mut v, &ctx, buy(9, 1)));
    assert!(message.contains("is reducing: "), "{message}");
    assert!(message.ends_with("set by `state`)"), "{message}");
    let mut v = validator(&[("state.SYN-A", "active")]);
    assert!(approved(&validate_one(&mut v, &ctx, buy(9, 1))));
}

#[test]
fn reducing_passes_only_what_reduces() {
    let mut v = validator(&[("state", "reducing")]);
    let long = context(&[(0, 100), (1, -50)], &[]);
    // Long 100 in SYN-A: sells up to 100 reduce.
    assert!(approved(&validate_one(&mut v, &long, sell(0, 100))));
    assert!(approved(&validate_one(
        &mut v,
        &long,
        market(0, Side::Sell, 1)
    )));
    let (reason, message) = rejected(validate_one(&mut v, &long, sell(0, 101)));
    assert_eq!(reason, RejectReason::Other);
    assert_eq!(
        message,
        "trading state of SYN-A is reducing: only cancels and orders that reduce the \
         position pass (refused sell 101 at 100.00: the position is long 100 and working \
         sells already 0, so a sell of more than 100 would pass flat; set by `state`)"
    );
    let (_, message) = rejected(validate_one(&mut v, &long, buy(0, 1)));
    assert!(
        message.contains("(refused buy 1 at 100.00: the position is long 100, a buy raises it;"),
        "{message}"
    );
    // Short 50 in SYN-B: buys up to 50 reduce.
    assert!(approved(&validate_one(&mut v, &long, buy(1, 50))));
    assert!(!approved(&validate_one(&mut v, &long, buy(1, 51))));
    let (_, message) = rejected(validate_one(&mut v, &long, sell(1, 1)));
    assert!(
        message.contains("the position is short 50, a sell raises it"),
        "{message}"
    );
    // Flat in SYN-C: nothing reduces.
    let (_, message) = rejected(validate_one(&mut v, &long, buy(2, 1)));
    assert!(
        message.contains("(refused buy 1 at 100.00: the position is flat;"),
        "{message}"
    );
    let (reason, message) = rejected(validate_one(&mut v, &long, sell(0, 0)));
    assert_eq!(reason, RejectReason::Other);
    assert!(message.contains("quantity 0 is not positive"), "{message}");
}

#[test]
fn reducing_counts_working_orders_and_the_batch() {
    let mut v = validator(&[("state", "reducing")]);
    // Long 100 with a working sell of 60: room for 40 more.
    let ctx = context(
        &[(0, 100)],
        &[(7, 0, Side::Sell, 60), (8, 0, Side::Buy, 30)],
    );
    assert!(approved(&validate_one(&mut v, &ctx, sell(0, 40))));
    let (_, message) = rejected(validate_one(&mut v, &ctx, sell(0, 41)));
    assert!(
        message.contains(
            "the position is long 100 and working sells already 60, so a sell of more than \
             40 would pass flat"
        ),
        "{message}"
    );
    let verdicts = validate(
        &mut v,
        &ctx,
        &[
            submit(10, 0, Side::Sell, 30),
            submit(11, 0, Side::Sell, 20),
            testing::cancel(7, 0),
            submit(12, 0, Side::Sell, 20),
            submit(13, 0, Side::Sell, 51),
            modify(10, 0, 40),
            submit(14, 0, Side::Sell, 41),
        ],
    );
    // 30 fits (room 40), 20 does not (room 10); the cancel frees 60: 20 fits (room
    // 70), 51 does not (room 50); order 10 to 40 fits in 100 − 20, leaving room 40,
    // too little for 41.
    assert_eq!(
        approvals(&verdicts),
        [true, false, true, true, false, true, false]
    );
    // The next batch starts again from the context.
    assert!(approved(&validate_one(&mut v, &ctx, sell(0, 40))));
}

#[test]
fn reducing_modifies() {
    let mut v = validator(&[("state", "reducing")]);
    let ctx = context(
        &[(0, 100)],
        &[
            (7, 0, Side::Sell, 60),
            (8, 0, Side::Buy, 30),
            (9, 0, Side::Sell, 30),
        ],
    );
    // Order 7 on the reducing side: up to 100 − 30 (order 9).
    assert!(approved(&validate_one(&mut v, &ctx, modify(7, 0, 70))));
    assert!(approved(&validate_one(&mut v, &ctx, modify(7, 0, 10))));
    let (reason, message) = rejected(validate_one(&mut v, &ctx, modify(7, 0, 71)));
    assert_eq!(reason, RejectReason::Other);
    assert_eq!(
        message,
        "trading state of SYN-A is reducing: only cancels and orders that reduce the \
         position pass (refused modify of order 7 to 71 at 101.00: the position is long 100 \
         and other working sells already 30, so a sell of more than 70 would pass flat; set \
         by `state`)"
    );
    // Order 8 buys while long: no modify of it passes, not even a smaller one.
    let (_, message) = rejected(validate_one(&mut v, &ctx, modify(8, 0, 10)));
    assert!(
        message.contains("the position is long 100, a buy raises it"),
        "{message}"
    );
    // Not working (or another instrument's id): its side is unknown.
    let (_, message) = rejected(validate_one(&mut v, &ctx, modify(7, 1, 10)));
    assert!(
        message.contains("order 7 is not working, so its side is unknown"),
        "{message}"
    );
    // A modify of an order submitted earlier in the batch.
    let verdicts = validate(
        &mut v,
        &context(&[(0, -50)], &[]),
        &[
            submit(20, 0, Side::Buy, 10),
            modify(20, 0, 50),
            modify(20, 0, 51),
        ],
    );
    assert_eq!(approvals(&verdicts), [true, true, false]);
    assert!(approved(&validate_one(&mut v, &ctx, testing::cancel(8, 0))));
}

#[test]
fn extreme_values_neither_overflow_nor_panic() {
    let mut v = validator(&[("state", "reducing")]);
    let mut ctx = context(&[(0, 0), (1, 0)], &[]);
    ctx.positions[0].quantity = i64::MIN;
    ctx.positions[1].quantity = i64::MAX;
    ctx.positions.push(ctx.positions[1]);
    ctx.open_orders = (0..4)
        .map(|id| OpenOrder {
            id,
            instrument: 0,
            side: Side::Buy,
            price: 0,
            leaves_quantity: i64::MAX,
        })
        .collect();
    let mut big = buy(0, 1);
    if let OrderCommand::Submit(o) = &mut big {
        o.quantity = i64::MAX;
    }
    assert!(!approved(&validate_one(&mut v, &ctx, big)));
    assert!(approved(&validate_one(&mut v, &ctx, sell(1, 1))));
    let mut huge = modify(0, 0, 1);
    if let OrderCommand::Modify(m) = &mut huge {
        m.quantity = i64::MAX;
    }
    assert!(!approved(&validate_one(&mut v, &ctx, huge)));
}

#[test]
fn no_state_is_kept() {
    let mut v = validator(&[("state", "halted")]);
    assert!(v.save_state().is_empty());
    assert!(v.load_state(&[]).is_ok());
    assert!(v.load_state(&[1]).is_err());
}
