use super::*;
use tradsys_sdk::testing::{
    self, RiskContextBuilder, approved, px, rejected, validate, validate_one,
};
use tradsys_sdk::{OpenOrder, Position};

/// 2023-11-14 22:13:20 UTC.
const NOW: u64 = 1_700_000_000_000_000_000;

/// The synthetic market: SYN-A last 100, SYN-B last 250, SYN-C without a last
/// price; a flat strategy with no working orders.
fn context() -> RiskContext {
    RiskContextBuilder::new(NOW)
        .instruments(testing::synthetic_instruments())
        .last_price(0, px("100"))
        .last_price(1, px("250"))
        .build()
}

fn with_position(mut ctx: RiskContext, instrument: u32, units: i64) -> RiskContext {
    ctx.positions.push(Position {
        instrument,
        quantity: fixed::from_units(units),
        average_price: px("100"),
    });
    ctx
}

fn working(id: u64, instrument: u32, side: Side) -> OpenOrder {
    OpenOrder {
        id,
        instrument,
        side,
        price: px("100"),
        leaves_quantity: fixed::from_units(100),
    }
}

fn limit(id: u64, instrument: u32, side: Side, price: &str, quantity: i64) -> OrderCommand {
    testing::limit(id, instrument, side, px(price), fixed::from_units(quantity))
}

fn buy(instrument: u32, price: &str, quantity: i64) -> OrderCommand {
    limit(1, instrument, Side::Buy, price, quantity)
}

fn sell(instrument: u32, price: &str, quantity: i64) -> OrderCommand {
    limit(1, instrument, Side::Sell, price, quantity)
}

fn market(instrument: u32, side: Side, quantity: i64) -> OrderCommand {
    testing::market(2, instrument, side, fixed::from_units(quantity))
}

fn modify(id: u64, instrument: u32, price: &str, quantity: i64) -> OrderCommand {
    testing::modify(id, instrument, px(price), fixed::from_units(quantity))
}

fn validator(rules: &str) -> CustomRule {
    testing::validator(&[("rules", rules)])
}

fn init_error(rules: &str) -> String {
    CustomRule::new(&Config::new([("rules", rules)])).unwrap_err()
}

/// Whether `rules` approve `order` in `ctx`.
fn passes(rules: &str, ctx: &RiskContext, order: OrderCommand) -> bool {
    approved(&validate_one(&mut validator(rules), ctx, order))
}

#[test]
fn defaults_and_bad_config() {
    let v = CustomRule::new(&Config::default()).unwrap();
    let texts: Vec<&str> = v.rules.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "notional <= 40000",
            "side == \"sell\" || position + quantity <= 400",
            "side == \"buy\" || position - quantity >= -400"
        ]
    );
    assert_eq!(
        v.rules.iter().map(|r| r.number).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let err = CustomRule::new(&Config::new([("rule", "true")])).unwrap_err();
    assert!(err.starts_with("config `rule`: unknown key"), "{err}");
    for empty in ["", " ; ;\n"] {
        assert_eq!(
            init_error(empty),
            "config `rules`: no rule given (disable the plugin to check nothing)"
        );
    }
}

#[test]
fn rules_that_do_not_parse_or_check_name_the_rule() {
    let err = init_error("quantity < 10; (price > 1");
    assert!(
        err.starts_with("config `rules`: rule 2 `(price > 1`: does not parse: "),
        "{err}"
    );
    assert_eq!(
        init_error("true;;quantity <"),
        "config `rules`: rule 2 `quantity <`: fails for a sample order (quantity = 1): \
         An operator expected 2 arguments, but got 1"
    );
    let err = init_error("instrument == SYN");
    assert!(
        err.starts_with(
            "config `rules`: rule 1 `instrument == SYN`: unknown variable `SYN` (variables: \
             notional, quantity,"
        ),
        "{err}"
    );
    assert!(
        err.ends_with("strings are written in double quotes)"),
        "{err}"
    );
    let err = init_error("true; random() < 0.5");
    assert!(
        err.starts_with("config `rules`: rule 2 `random() < 0.5`: unknown function `random`"),
        "{err}"
    );
    // Integer-only functions are not offered: every number is a float.
    assert!(init_error("bitand(quantity, 1) == 0").contains("unknown function `bitand`"));
    assert_eq!(
        init_error("quantity = 5"),
        "config `rules`: rule 1 `quantity = 5`: assigns to `quantity`; a rule only reads \
         (use `==` to compare)"
    );
    assert_eq!(
        init_error("quantity * 2"),
        "config `rules`: rule 1 `quantity * 2`: gives 2 for a sample order, not true or false"
    );
    let err = init_error("true; side > 1");
    assert!(
        err.starts_with(
            "config `rules`: rule 2 `side > 1`: fails for a sample order (side = \"buy\"): "
        ),
        "{err}"
    );
    // A `;` inside a string literal does not split.
    let v = validator(r#"instrument != "A;B" ; instrument != "x\";y""#);
    assert_eq!(v.rules.len(), 2);
    assert_eq!(v.rules[1].text, r#"instrument != "x\";y""#);
}

#[test]
fn the_default_notional_cap() {
    let mut v = CustomRule::new(&Config::default()).unwrap();
    let ctx = context();
    // 160 × 250.00 = 40000: at the cap; one unit more is over.
    assert!(approved(&validate_one(&mut v, &ctx, buy(1, "250", 160))));
    let (reason, message) = rejected(validate_one(&mut v, &ctx, buy(1, "250", 161)));
    assert_eq!(reason, RejectReason::Other);
    assert_eq!(
        message,
        "rule 1 `notional <= 40000` is false for buy 161 SYN-B at 250.00 (notional = 40250)"
    );
    // Typical demo orders pass: 100 of SYN-B, up to the position cap of the others.
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        sell(1, "250.05", 100)
    )));
    assert!(approved(&validate_one(&mut v, &ctx, buy(0, "100", 400))));
    assert!(approved(&validate_one(&mut v, &ctx, sell(2, "40", 400))));
    let mut v = validator("notional <= 40000");
    assert!(approved(&validate_one(&mut v, &ctx, sell(2, "40", 1000))));
    let (_, message) = rejected(validate_one(&mut v, &ctx, sell(2, "40.01", 1000)));
    assert!(message.ends_with("(notional = 40010)"), "{message}");
}

#[test]
fn the_default_position_caps_both_sides() {
    let mut v = CustomRule::new(&Config::default()).unwrap();
    // SYN-C at 40, so the notional cap never decides.
    let long = with_position(context(), 2, 350);
    assert!(approved(&validate_one(&mut v, &long, buy(2, "40", 50))));
    let (reason, message) = rejected(validate_one(&mut v, &long, buy(2, "40", 51)));
    assert_eq!(reason, RejectReason::Other);
    assert_eq!(
        message,
        "rule 2 `side == \"sell\" || position + quantity <= 400` is false for buy 51 SYN-C \
         at 40.00 (quantity = 51, side = \"buy\", position = 350)"
    );
    // Reducing (or flipping within the cap) is never refused by the buy rule.
    assert!(approved(&validate_one(&mut v, &long, sell(2, "40", 750))));
    let (_, message) = rejected(validate_one(&mut v, &long, sell(2, "40", 751)));
    assert!(message.starts_with("rule 3 "), "{message}");
    let short = with_position(context(), 2, -400);
    assert!(approved(&validate_one(&mut v, &short, buy(2, "40", 300))));
    let (_, message) = rejected(validate_one(&mut v, &short, sell(2, "40", 1)));
    assert!(message.contains("position = -400"), "{message}");
    // A position is per instrument.
    assert!(approved(&validate_one(&mut v, &short, sell(0, "100", 300))));
    let over = with_position(context(), 2, 600);
    assert!(approved(&validate_one(&mut v, &over, sell(2, "40", 100))));
    assert!(!approved(&validate_one(&mut v, &over, buy(2, "40", 1))));
}

#[test]
fn every_variable_has_its_value() {
    let mut ctx = with_position(context(), 1, -30);
    ctx.account.realized_pnl = px("-12.5");
    ctx.instruments[1].multiplier = 10;
    ctx.open_orders = vec![working(7, 1, Side::Sell), working(8, 0, Side::Buy)];
    let order = || sell(1, "250.05", 3);
    for rule in [
        "notional == 7501.5",
        "quantity == 3",
        "price == 250.05",
        "side == \"sell\"",
        "position == -30",
        "instrument == \"SYN-B\"",
        "last_price == 250",
        "hour == 22",
        "minute == 13",
        "open_orders == 2",
        "realized_pnl == -12.5",
        "order_type == \"limit\"",
        "!is_modify",
        "quantity / 2 == 1.5",
        "contains((\"SYN-A\", \"SYN-B\"), instrument)",
        "max(quantity, 10) == 10 && floor(price) == 250 && math::abs(position) == 30",
        "str::to_lowercase(instrument) == \"syn-b\"",
    ] {
        assert!(passes(rule, &ctx, order()), "{rule}");
    }
    for rule in [
        "quantity == 3.5",
        "side == \"buy\"",
        "hour < 22",
        "is_modify",
    ] {
        assert!(!passes(rule, &ctx, order()), "{rule}");
    }
    let (_, message) = rejected(validate_one(&mut validator("hour < 22"), &ctx, order()));
    assert_eq!(
        message,
        "rule 1 `hour < 22` is false for sell 3 SYN-B at 250.05 (hour = 22)"
    );
}

#[test]
fn market_orders_are_priced_at_the_last_price() {
    let ctx = context();
    let rule = "price == 100 && notional == 5000 && order_type == \"market\"";
    assert!(passes(rule, &ctx, market(0, Side::Buy, 50)));
    // Without a last price a rule that reads one cannot be decided: refused.
    let mut v = validator("notional <= 40000");
    let (reason, message) = rejected(validate_one(&mut v, &ctx, market(2, Side::Sell, 10)));
    assert_eq!(reason, RejectReason::Other);
    assert_eq!(
        message,
        "rule 1 `notional <= 40000` cannot be evaluated for sell 10 SYN-C at market: \
         `notional` has no value: no last price for SYN-C yet (a market order is valued at \
         it): refused (fail closed)"
    );
    let (_, message) = rejected(validate_one(
        &mut validator("last_price > 0"),
        &ctx,
        buy(2, "40", 1),
    ));
    assert!(
        message.contains("`last_price` has no value: no last price for SYN-C yet"),
        "{message}"
    );
    // A rule that does not read them decides as usual.
    assert!(passes("quantity <= 10", &ctx, market(2, Side::Sell, 10)));
    assert!(!passes("quantity <= 9", &ctx, market(2, Side::Sell, 10)));
}

#[test]
fn and_or_short_circuit() {
    let ctx = context();
    // The right side is not read when the left decides ...
    let guard = "order_type == \"market\" || price <= 50";
    assert!(passes(guard, &ctx, market(2, Side::Buy, 1)));
    assert!(passes(guard, &ctx, buy(2, "40", 1)));
    assert!(!passes(guard, &ctx, buy(0, "100", 1)));
    let guard = "order_type == \"limit\" && notional > 1000000";
    assert!(!passes(guard, &ctx, market(2, Side::Buy, 1)));
    // ... through parentheses and `!` too, and is read when it does not.
    let guard = "!(order_type == \"limit\") || (price <= 50)";
    assert!(passes(guard, &ctx, market(2, Side::Buy, 1)));
    assert!(!passes(guard, &ctx, buy(0, "100", 1)));
    let guard = "order_type == \"market\" && last_price > 0";
    let (_, message) = rejected(validate_one(
        &mut validator(guard),
        &ctx,
        market(2, Side::Buy, 1),
    ));
    assert!(message.contains("fail closed"), "{message}");
}

#[test]
fn odd_results_at_run_time_fail_closed() {
    let ctx = context();
    // Passes the sample order (instrument "SAMPLE"), not a real one.
    let mut v = validator("instrument != \"SYN-A\" || side > 1");
    assert!(approved(&validate_one(&mut v, &ctx, buy(1, "250", 1))));
    let (reason, message) = rejected(validate_one(&mut v, &ctx, buy(0, "100", 1)));
    assert_eq!(reason, RejectReason::Other);
    assert!(
        message.starts_with(
            "rule 1 `instrument != \"SYN-A\" || side > 1` cannot be evaluated for buy 1 \
             SYN-A at 100.00: "
        ),
        "{message}"
    );
    assert!(message.ends_with(": refused (fail closed)"), "{message}");
    let mut v = validator("if(instrument == \"SYN-A\", quantity, true)");
    assert!(approved(&validate_one(&mut v, &ctx, buy(1, "250", 1))));
    let (reason, message) = rejected(validate_one(&mut v, &ctx, buy(0, "100", 7)));
    assert_eq!(reason, RejectReason::Other);
    assert_eq!(
        message,
        "rule 1 `if(instrument == \"SYN-A\", quantity, true)` gives 7, not true or false, \
         for buy 7 SYN-A at 100.00 (quantity = 7, instrument = \"SYN-A\"): refused (fail \
         closed)"
    );
    // A non-boolean operand of `||` is an error, not a truth value.
    let mut v = validator("instrument == \"SAMPLE\" || quantity");
    let (_, message) = rejected(validate_one(&mut v, &ctx, buy(0, "100", 7)));
    assert!(message.contains("fail closed"), "{message}");
}

#[test]
fn the_first_false_rule_refuses() {
    let mut v = validator("quantity <= 100; price <= 200; instrument != \"SYN-C\"");
    let ctx = context();
    assert!(approved(&validate_one(&mut v, &ctx, buy(0, "100", 100))));
    let (_, message) = rejected(validate_one(&mut v, &ctx, buy(1, "250", 101)));
    assert!(message.starts_with("rule 1 "), "{message}");
    let (_, message) = rejected(validate_one(&mut v, &ctx, buy(1, "250", 100)));
    assert!(message.starts_with("rule 2 `price <= 200`"), "{message}");
    let (_, message) = rejected(validate_one(&mut v, &ctx, buy(2, "40", 100)));
    assert!(message.starts_with("rule 3 "), "{message}");
}

#[test]
fn modifies_take_the_side_of_their_order() {
    let mut ctx = context();
    ctx.open_orders = vec![working(7, 0, Side::Sell)];
    let rule = "is_modify && side == \"sell\" && quantity == 50 && price == 101 \
                && notional == 5050 && order_type == \"limit\"";
    assert!(passes(rule, &ctx, modify(7, 0, "101", 50)));
    // The order is looked up by id and instrument.
    let mut v = validator("side == \"sell\"");
    let (reason, message) = rejected(validate_one(&mut v, &ctx, modify(7, 1, "250", 50)));
    assert_eq!(reason, RejectReason::Other);
    assert_eq!(
        message,
        "rule 1 `side == \"sell\"` cannot be evaluated for modify of order 7 of SYN-B to 50 \
         at 250.00: `side` has no value: order 7 is not working: refused (fail closed)"
    );
    // A rule that does not read the side decides without it.
    assert!(passes("quantity <= 50", &ctx, modify(9, 0, "100", 50)));
    // An order submitted earlier in the batch is working for a modify after it.
    let verdicts = validate(
        &mut v,
        &context(),
        &[limit(3, 2, Side::Sell, "40", 5), modify(3, 2, "40.01", 6)],
    );
    assert!(verdicts.iter().all(approved));
}

#[test]
fn open_orders_count_through_the_batch() {
    let mut ctx = context();
    ctx.open_orders = vec![working(7, 0, Side::Buy)];
    let mut v = validator("open_orders < 2");
    let verdicts = validate(
        &mut v,
        &ctx,
        &[
            limit(10, 0, Side::Buy, "100", 1),
            limit(11, 0, Side::Buy, "100", 1),
            testing::cancel(7, 0),
            limit(12, 1, Side::Sell, "250", 1),
            limit(13, 1, Side::Sell, "250", 1),
        ],
    );
    let approvals: Vec<bool> = verdicts.iter().map(approved).collect();
    assert_eq!(approvals, [true, false, true, true, false]);
    let (_, message) = rejected(verdicts[4].clone());
    assert_eq!(
        message,
        "rule 1 `open_orders < 2` is false for sell 1 SYN-B at 250.00 (open_orders = 2)"
    );
    // The next batch starts again from the context.
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        limit(14, 0, Side::Buy, "100", 1)
    )));
}

#[test]
fn cancels_pass_and_unknown_instruments_are_invalid() {
    let mut v = validator("false");
    let ctx = context();
    let verdicts = validate(
        &mut v,
        &ctx,
        &[testing::cancel(1, 0), testing::cancel(2, 42)],
    );
    assert!(verdicts.iter().all(approved));
    let (reason, message) = rejected(validate_one(&mut v, &ctx, buy(0, "100", 1)));
    assert_eq!(reason, RejectReason::Other);
    assert_eq!(message, "rule 1 `false` is false for buy 1 SYN-A at 100.00");
    let (reason, message) = rejected(validate_one(&mut validator("true"), &ctx, buy(42, "1", 1)));
    assert_eq!(reason, RejectReason::InvalidOrder);
    assert_eq!(message, "unknown instrument 42");
}

#[test]
fn extreme_values_neither_overflow_nor_panic() {
    let mut v = CustomRule::new(&Config::default()).unwrap();
    let mut ctx = with_position(context(), 0, 0);
    ctx.positions[0].quantity = i64::MIN;
    ctx.instruments[0].multiplier = i64::MAX;
    ctx.now = u64::MAX;
    for price in [i64::MAX, i64::MIN, 0, -1] {
        let mut order = buy(0, "1", 1);
        if let OrderCommand::Submit(o) = &mut order {
            o.price = price;
            o.quantity = i64::MAX;
        }
        let _ = validate_one(&mut v, &ctx, order);
    }
    assert!(!approved(&validate_one(&mut v, &ctx, buy(0, "100", 1))));
}

#[test]
fn no_state_is_kept() {
    let mut v = CustomRule::new(&Config::default()).unwrap();
    assert!(v.save_state().is_empty());
    assert!(v.load_state(&[]).is_ok());
    assert!(v.load_state(&[1]).is_err());
}
