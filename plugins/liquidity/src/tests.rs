use super::*;
use tradsys_sdk::testing::{
    self, RiskContextBuilder, approved, px, rejected, units, validate, validate_one,
};
use tradsys_sdk::{NewOrder, TimeInForce};

/// The synthetic market; working orders as (id, instrument, side).
fn context(open: &[(u64, u32, Side)]) -> RiskContext {
    let mut ctx = RiskContextBuilder::new(1_000_000_000);
    ctx.instruments([
        testing::instrument(0, "SYN-A"),
        InstrumentDefinition {
            tick_size: px("0.05"),
            ..testing::instrument(1, "SYN-B")
        },
        testing::instrument(2, "SYN-C"),
    ])
    .last_price(0, units(100));
    for &(id, instrument, side) in open {
        ctx.open_order(id, instrument, side, units(100), units(10));
    }
    ctx.build()
}

fn levels(levels: &[(&str, i64)]) -> Vec<DepthLevel> {
    levels
        .iter()
        .map(|&(price, quantity)| testing::depth_level(px(price), units(quantity)))
        .collect()
}

/// Set the host's book of `instrument`.
fn book(instrument: u32, bids: &[(&str, i64)], asks: &[(&str, i64)]) {
    host::set_depth(BookDepth {
        instrument,
        bids: levels(bids),
        asks: levels(asks),
    });
}

/// SYN-A: 280 units within two ticks of each touch, more beyond.
fn book_a() {
    book(
        0,
        &[
            ("99.99", 100),
            ("99.98", 100),
            ("99.97", 80),
            ("99.96", 1000),
        ],
        &[
            ("100.01", 100),
            ("100.02", 100),
            ("100.03", 80),
            ("100.04", 1000),
        ],
    );
}

fn limit(id: u64, instrument: u32, side: Side, price: &str, quantity: i64) -> OrderCommand {
    OrderCommand::Submit(NewOrder {
        time_in_force: TimeInForce::Ioc,
        ..testing::limit_order(id, instrument, side, px(price), units(quantity))
    })
}

fn market(id: u64, instrument: u32, side: Side, quantity: i64) -> OrderCommand {
    testing::market(id, instrument, side, units(quantity))
}

fn modify(id: u64, instrument: u32, price: &str, quantity: i64) -> OrderCommand {
    testing::modify(id, instrument, px(price), units(quantity))
}

fn validator(config: &[(&str, &str)]) -> Liquidity {
    testing::validator(config)
}

#[test]
fn defaults_and_bad_config() {
    let v = validator(&[]);
    assert_eq!(
        v,
        Liquidity {
            max_fraction: px("0.5"),
            ticks: 2,
            passive: Passive::Pass,
            empty: Empty::Refuse,
        }
    );
    let v = validator(&[
        ("max_fraction", "1.5"),
        ("ticks", "0"),
        ("passive", "check"),
        ("empty", " pass "),
    ]);
    assert_eq!(
        v,
        Liquidity {
            max_fraction: px("1.5"),
            ticks: 0,
            passive: Passive::Check,
            empty: Empty::Pass,
        }
    );
    for (key, value) in [
        ("max_fraction", "0"),
        ("max_fraction", "-0.1"),
        ("max_fraction", "half"),
        ("ticks", "-1"),
        ("ticks", "2.5"),
        ("passive", "rest"),
        ("passive", ""),
        ("empty", "reject"),
    ] {
        let err = Liquidity::new(&Config::new([(key, value)])).unwrap_err();
        assert!(err.contains(&format!("`{key}`")), "{err}");
    }
}

#[test]
fn a_buy_is_measured_against_the_asks_within_the_window() {
    book_a();
    let mut v = validator(&[]);
    let ctx = context(&[]);
    // 280 displayed within two ticks of 100.01: half is 140.
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        market(1, 0, Side::Buy, 140)
    )));
    let (reason, message) = rejected(validate_one(&mut v, &ctx, market(2, 0, Side::Buy, 141)));
    assert_eq!(reason, RejectReason::QuantityLimit);
    assert_eq!(
        message,
        "market buy 141 of SYN-A would take above 0.5 of the 280 displayed on the asks \
         within 2 ticks of 100.01: at most 140"
    );
    // A crossing limit is a taker too, whatever its limit price.
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        limit(3, 0, Side::Buy, "100.01", 140)
    )));
    let (reason, message) = rejected(validate_one(
        &mut v,
        &ctx,
        limit(4, 0, Side::Buy, "101", 141),
    ));
    assert_eq!(reason, RejectReason::QuantityLimit);
    assert!(
        message.starts_with("buy 141 of SYN-A would take"),
        "{message}"
    );
}

#[test]
fn a_sell_is_measured_against_the_bids() {
    book(0, &[("99.99", 100), ("99.97", 60)], &[("100.01", 5)]);
    let mut v = validator(&[]);
    let ctx = context(&[]);
    // 160 within two ticks of 99.99 (a missing level is fine): half is 80.
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        market(1, 0, Side::Sell, 80)
    )));
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        limit(2, 0, Side::Sell, "99.99", 80)
    )));
    let (reason, message) = rejected(validate_one(
        &mut v,
        &ctx,
        limit(3, 0, Side::Sell, "99.98", 81),
    ));
    assert_eq!(reason, RejectReason::QuantityLimit);
    assert_eq!(
        message,
        "sell 81 of SYN-A would take above 0.5 of the 160 displayed on the bids \
         within 2 ticks of 99.99: at most 80"
    );
}

#[test]
fn the_window_follows_ticks_and_the_instrument_tick() {
    book_a();
    let ctx = context(&[]);
    let mut touch = validator(&[("ticks", "0"), ("max_fraction", "1")]);
    assert!(approved(&validate_one(
        &mut touch,
        &ctx,
        market(1, 0, Side::Buy, 100)
    )));
    let (_, message) = rejected(validate_one(&mut touch, &ctx, market(2, 0, Side::Buy, 101)));
    assert_eq!(
        message,
        "market buy 101 of SYN-A would take above 1 of the 100 displayed on the asks \
         at the touch 100.01: at most 100"
    );
    let mut wide = validator(&[("ticks", "3"), ("max_fraction", "1")]);
    assert!(approved(&validate_one(
        &mut wide,
        &ctx,
        market(3, 0, Side::Buy, 1280)
    )));
    assert!(!approved(&validate_one(
        &mut wide,
        &ctx,
        market(4, 0, Side::Buy, 1281)
    )));
    // SYN-B ticks are 0.05: two ticks from 250.00 reach 250.10.
    book(
        1,
        &[("249.95", 50)],
        &[("250", 40), ("250.05", 40), ("250.10", 20), ("250.15", 500)],
    );
    let mut v = validator(&[("max_fraction", "1")]);
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        market(5, 1, Side::Buy, 100)
    )));
    let (_, message) = rejected(validate_one(&mut v, &ctx, market(6, 1, Side::Buy, 101)));
    assert!(message.contains("within 2 ticks of 250.00"), "{message}");
    // A definition without a positive tick counts the touch only.
    let mut ctx = ctx;
    ctx.instruments[1].tick_size = 0;
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        market(7, 1, Side::Buy, 40)
    )));
    assert!(!approved(&validate_one(
        &mut v,
        &ctx,
        market(8, 1, Side::Buy, 41)
    )));
}

#[test]
fn at_most_a_hundred_levels_are_read() {
    let asks: Vec<(String, i64)> = (0..150)
        .map(|k| (fixed::format(px("100.01") + k * px("0.01"), 2), 1))
        .collect();
    let asks: Vec<(&str, i64)> = asks.iter().map(|(p, q)| (p.as_str(), *q)).collect();
    book(0, &[("99.99", 1)], &asks);
    let mut v = validator(&[("ticks", "149"), ("max_fraction", "1")]);
    assert_eq!(v.levels(), 100);
    let ctx = context(&[]);
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        market(1, 0, Side::Buy, 100)
    )));
    let (_, message) = rejected(validate_one(&mut v, &ctx, market(2, 0, Side::Buy, 101)));
    assert!(message.contains("of the 100 displayed"), "{message}");
    assert_eq!(validator(&[("ticks", "4294967295")]).levels(), 100);
    assert_eq!(validator(&[]).levels(), 3);
}

#[test]
fn passive_orders_pass_unless_checked() {
    book_a();
    let ctx = context(&[]);
    let mut v = validator(&[]);
    // A buy below the ask rests: it takes nothing, whatever its size.
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        limit(1, 0, Side::Buy, "100", 100_000)
    )));
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        limit(2, 0, Side::Sell, "100.02", 100_000)
    )));
    let mut v = validator(&[("passive", "check")]);
    // Checked: measured against the bids it joins (280 within two ticks of 99.99).
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        limit(3, 0, Side::Buy, "100", 140)
    )));
    let (reason, message) = rejected(validate_one(
        &mut v,
        &ctx,
        limit(4, 0, Side::Buy, "99.90", 141),
    ));
    assert_eq!(reason, RejectReason::QuantityLimit);
    assert_eq!(
        message,
        "buy 141 of SYN-A would rest above 0.5 of the 280 displayed on the bids \
         within 2 ticks of 99.99: at most 140"
    );
    let (_, message) = rejected(validate_one(
        &mut v,
        &ctx,
        limit(5, 0, Side::Sell, "99.99", 141),
    ));
    assert_eq!(
        message,
        "sell 141 of SYN-A would take above 0.5 of the 280 displayed on the bids \
         within 2 ticks of 99.99: at most 140"
    );
    let (_, message) = rejected(validate_one(
        &mut v,
        &ctx,
        limit(6, 0, Side::Sell, "100.02", 141),
    ));
    assert!(message.contains("would rest above 0.5 of the 280 displayed on the asks"));
}

#[test]
fn an_empty_side_refuses_takers_unless_configured() {
    book(0, &[("99.99", 100)], &[]);
    let ctx = context(&[]);
    let mut v = validator(&[]);
    let (reason, message) = rejected(validate_one(&mut v, &ctx, market(1, 0, Side::Buy, 1)));
    assert_eq!(reason, RejectReason::NoLiquidity);
    assert_eq!(message, "market buy 1 of SYN-A: no asks displayed to take");
    // A limit buy cannot cross an empty side: it rests and passes.
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        limit(2, 0, Side::Buy, "200", 1)
    )));
    // The sell side is not empty.
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        market(3, 0, Side::Sell, 50)
    )));
    // Levels without quantity do not count as a touch.
    book(2, &[], &[("40.01", 0)]);
    let (reason, message) = rejected(validate_one(&mut v, &ctx, market(4, 2, Side::Buy, 1)));
    assert_eq!(reason, RejectReason::NoLiquidity);
    assert_eq!(message, "market buy 1 of SYN-C: no asks displayed to take");
    // An instrument without a book at all.
    let (reason, _) = rejected(validate_one(&mut v, &ctx, market(5, 1, Side::Sell, 1)));
    assert_eq!(reason, RejectReason::NoLiquidity);
    let mut v = validator(&[("empty", "pass")]);
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        market(6, 0, Side::Buy, 1000)
    )));
    // With passive checks, an order joining an empty side follows `empty` too.
    let mut v = validator(&[("passive", "check")]);
    let (reason, message) = rejected(validate_one(
        &mut v,
        &ctx,
        limit(7, 0, Side::Sell, "100.01", 1),
    ));
    assert_eq!(reason, RejectReason::NoLiquidity);
    assert_eq!(message, "sell 1 of SYN-A: no asks displayed to join");
    let mut v = validator(&[("passive", "check"), ("empty", "pass")]);
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        limit(8, 0, Side::Sell, "100.01", 1)
    )));
}

#[test]
fn orders_of_a_batch_count_together() {
    book_a();
    book(2, &[("39.99", 100)], &[("40.01", 100)]);
    let ctx = context(&[]);
    let mut v = validator(&[]);
    let verdicts = validate(
        &mut v,
        &ctx,
        &[
            market(1, 0, Side::Buy, 100),
            // Another instrument and the other side are apart.
            market(2, 2, Side::Buy, 50),
            market(3, 0, Side::Sell, 140),
            market(4, 0, Side::Buy, 41),
            market(5, 0, Side::Buy, 40),
            market(6, 0, Side::Buy, 1),
            testing::cancel(1, 0),
            market(7, 0, Side::Buy, 100),
        ],
    );
    let ok: Vec<bool> = verdicts.iter().map(approved).collect();
    assert_eq!(ok, [true, true, true, false, true, false, true, true]);
    let (_, message) = rejected(verdicts[3].clone());
    assert_eq!(
        message,
        "market buy 41 of SYN-A (with 100 of earlier orders of the batch) would take \
         above 0.5 of the 280 displayed on the asks within 2 ticks of 100.01: at most 40"
    );
    // A new batch starts afresh (the book is the host's of the moment).
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        market(8, 0, Side::Buy, 140)
    )));
    // Resting and taking quantities are counted apart.
    let mut v = validator(&[("passive", "check")]);
    let verdicts = validate(
        &mut v,
        &ctx,
        &[
            limit(9, 0, Side::Sell, "100.05", 140),
            market(10, 0, Side::Buy, 140),
            limit(11, 0, Side::Sell, "100.05", 1),
        ],
    );
    let ok: Vec<bool> = verdicts.iter().map(approved).collect();
    assert_eq!(ok, [true, true, false]);
}

#[test]
fn modifies_are_checked_like_new_orders_on_their_side() {
    book_a();
    let ctx = context(&[(7, 0, Side::Buy), (8, 0, Side::Sell)]);
    let mut v = validator(&[]);
    // Order 7 is a working buy: re-priced through the ask it takes.
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        modify(7, 0, "100.01", 140)
    )));
    let (reason, message) = rejected(validate_one(&mut v, &ctx, modify(7, 0, "100.02", 141)));
    assert_eq!(reason, RejectReason::QuantityLimit);
    assert_eq!(
        message,
        "modify of order 7 to buy 141 of SYN-A would take above 0.5 of the 280 \
         displayed on the asks within 2 ticks of 100.01: at most 140"
    );
    // Still below the ask it rests and passes.
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        modify(7, 0, "100", 1000)
    )));
    // Order 8 is a working sell: through the bid it takes the bids.
    let (_, message) = rejected(validate_one(&mut v, &ctx, modify(8, 0, "99.99", 141)));
    assert!(
        message.contains("to sell 141 of SYN-A would take"),
        "{message}"
    );
    // Not working (or another instrument's id): approved, the matcher refuses it.
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        modify(9, 0, "101", 100_000)
    )));
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        modify(7, 2, "101", 100_000)
    )));
    // A submit of the same batch can be modified; its quantity is replaced, not added.
    let verdicts = validate(
        &mut v,
        &ctx,
        &[
            limit(20, 0, Side::Buy, "100.01", 100),
            modify(20, 0, "100.01", 140),
            modify(20, 0, "100.01", 141),
            modify(21, 0, "100.01", 141),
        ],
    );
    let ok: Vec<bool> = verdicts.iter().map(approved).collect();
    assert_eq!(ok, [true, true, false, true]);
    // A refused submit is not working: its modify passes.
    let verdicts = validate(
        &mut v,
        &ctx,
        &[
            limit(30, 0, Side::Buy, "100.01", 500),
            modify(30, 0, "100.01", 500),
        ],
    );
    let ok: Vec<bool> = verdicts.iter().map(approved).collect();
    assert_eq!(ok, [false, true]);
}

#[test]
fn cancels_pass_and_malformed_orders_are_invalid() {
    book_a();
    let ctx = context(&[]);
    let mut v = validator(&[("max_fraction", "0.000000001")]);
    let verdicts = validate(
        &mut v,
        &ctx,
        &[testing::cancel(1, 0), testing::cancel(2, 99)],
    );
    assert!(verdicts.iter().all(approved));
    let (reason, message) = rejected(validate_one(&mut v, &ctx, market(3, 9, Side::Buy, 1)));
    assert_eq!(reason, RejectReason::InvalidOrder);
    assert_eq!(message, "unknown instrument 9");
    let (reason, message) = rejected(validate_one(&mut v, &ctx, market(4, 0, Side::Buy, 0)));
    assert_eq!(reason, RejectReason::InvalidOrder);
    assert_eq!(message, "quantity 0 of SYN-A is not positive");
    let (reason, _) = rejected(validate_one(&mut v, &ctx, limit(5, 0, Side::Sell, "1", -3)));
    assert_eq!(reason, RejectReason::InvalidOrder);
}

#[test]
fn extreme_values_neither_overflow_nor_panic() {
    host::set_depth(BookDepth {
        instrument: 0,
        bids: vec![DepthLevel {
            price: i64::MIN,
            quantity: i64::MAX,
            orders: 1,
        }],
        asks: (0..100)
            .map(|_| DepthLevel {
                price: i64::MAX,
                quantity: i64::MAX,
                orders: 1,
            })
            .collect(),
    });
    let ctx = context(&[]);
    let mut v = validator(&[("max_fraction", "9223372036"), ("ticks", "4294967295")]);
    for order in [
        market(1, 0, Side::Buy, 1),
        market(2, 0, Side::Sell, 1),
        limit(3, 0, Side::Buy, "1", 1),
        limit(4, 0, Side::Sell, "1", 1),
    ] {
        assert!(approved(&validate_one(&mut v, &ctx, order)));
    }
    let mut huge = market(5, 0, Side::Buy, 1);
    if let OrderCommand::Submit(o) = &mut huge {
        o.quantity = i64::MAX;
    }
    let mut v = validator(&[("max_fraction", "0.000000001")]);
    assert!(!approved(&validate_one(&mut v, &ctx, huge)));
}

#[test]
fn no_state_is_kept() {
    book_a();
    let mut v = validator(&[]);
    let ctx = context(&[]);
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        market(1, 0, Side::Buy, 140)
    )));
    let state = v.save_state();
    assert!(state.is_empty());
    let mut fresh = validator(&[]);
    fresh.load_state(&state).unwrap();
    assert_eq!(fresh, v);
    assert!(fresh.load_state(&[1]).is_err());
    assert!(validate(&mut fresh, &ctx, &[]).is_empty());
}
