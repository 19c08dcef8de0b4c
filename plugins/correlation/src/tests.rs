use super::*;
use crate::matrix::positive_semidefinite;
use tradsys_sdk::testing::{
    self, RiskContextBuilder, approvals, approved, px, rejected, units, validate, validate_one,
};
use tradsys_sdk::{OpenOrder, Position};

/// Session start: an arbitrary epoch time in nanoseconds.
const T0: u64 = 1_700_000_000_000_000_000;

/// Strategy 0 in the synthetic market (SYN-A 100, SYN-B 250, SYN-C 40) holding
/// `positions` (instrument, units).
fn context(positions: &[(u32, i64)]) -> RiskContext {
    let mut ctx = RiskContextBuilder::new(T0);
    ctx.instruments(testing::synthetic_instruments())
        .last_price(0, px("100"))
        .last_price(1, px("250"))
        .last_price(2, px("40"));
    for &(instrument, quantity) in positions {
        ctx.position(instrument, units(quantity), units(1));
    }
    ctx.build()
}

fn submit(id: u64, instrument: u32, side: Side, quantity: i64) -> OrderCommand {
    testing::limit(id, instrument, side, units(1), units(quantity))
}

fn buy(id: u64, instrument: u32, quantity: i64) -> OrderCommand {
    submit(id, instrument, Side::Buy, quantity)
}

fn sell(id: u64, instrument: u32, quantity: i64) -> OrderCommand {
    submit(id, instrument, Side::Sell, quantity)
}

fn market(id: u64, instrument: u32, side: Side, quantity: i64) -> OrderCommand {
    testing::market(id, instrument, side, units(quantity))
}

fn modify(id: u64, instrument: u32, quantity: i64) -> OrderCommand {
    testing::modify(id, instrument, units(1), units(quantity))
}

fn validator(config: &[(&str, &str)]) -> Correlation {
    testing::validator(config)
}

#[test]
fn defaults_and_bad_config() {
    let v = validator(&[]);
    assert_eq!(v.max_exposure, units(60_000));
    assert!(v.configured.is_empty());
    assert_eq!(
        (v.estimate, v.window, v.min_samples, v.sample_ns),
        (false, 100, 30, 100_000_000)
    );
    let v = validator(&[
        ("max_exposure", "1234.5"),
        ("correlations", " SYN-B:SYN-A=0.8 , SYN-A:SYN-C=-0.2,"),
        ("estimate", "true"),
        ("window", "10"),
        ("min_samples", "10"),
        ("sample_ms", "0"),
    ]);
    assert_eq!(v.max_exposure, px("1234.5"));
    assert_eq!(
        v.configured,
        BTreeMap::from([
            (pair_key("SYN-A", "SYN-B"), 0.8),
            (pair_key("SYN-A", "SYN-C"), -0.2)
        ])
    );
    assert_eq!(
        (v.estimate, v.window, v.min_samples, v.sample_ns),
        (true, 10, 10, 0)
    );
    // A small window lowers the default `min_samples` with it.
    assert_eq!(validator(&[("window", "5")]).min_samples, 5);
    // Perfect correlation is a (singular) correlation matrix.
    validator(&[("correlations", "A:B=1,A:C=1,B:C=1")]);
    for (key, value) in [
        ("max_exposure", "0"),
        ("max_exposure", "-5"),
        ("max_exposure", "lots"),
        ("correlations", "SYN-A:SYN-B"),
        ("correlations", "SYN-A=0.5"),
        ("correlations", ":SYN-B=0.5"),
        ("correlations", "SYN-A:SYN-A=1"),
        ("correlations", "SYN-A:SYN-B=1.5"),
        ("correlations", "SYN-A:SYN-B=NaN"),
        ("correlations", "SYN-A:SYN-B=1e-1"),
        ("correlations", "SYN-A:SYN-B=0.1,SYN-B:SYN-A=0.2"),
        ("correlations", "A:B=0.9,A:C=0.9,B:C=-0.9"),
        ("estimate", "yes"),
        ("window", "1"),
        ("window", "10001"),
        ("window", "x"),
        ("min_samples", "1"),
        ("min_samples", "101"),
        ("sample_ms", "-1"),
        ("sample_ms", "18446744073709551615"),
    ] {
        let err = Correlation::new(&Config::new([(key, value)])).unwrap_err();
        assert!(err.contains(&format!("`{key}`")), "{key}={value}: {err}");
    }
    let err =
        Correlation::new(&Config::new([("correlations", "A:B=0.9,A:C=0.9,B:C=-0.9")])).unwrap_err();
    assert_eq!(
        err,
        "config `correlations`: the pairs do not make a correlation matrix \
         (not positive semidefinite)"
    );
}

#[test]
fn one_instrument_is_exactly_its_notional() {
    let mut v = validator(&[]);
    let ctx = context(&[]);
    // 240 × 250 = 60000: at the limit passes, one more unit does not.
    assert!(approved(&validate_one(&mut v, &ctx, buy(1, 1, 240))));
    let (reason, message) = rejected(validate_one(&mut v, &ctx, buy(2, 1, 241)));
    assert_eq!(reason, RejectReason::PositionLimit);
    assert_eq!(
        message,
        "buy 241 of SYN-B would take portfolio exposure to 60250.00, above limit \
         60000.00 (from 0.00; SYN-B 60250.00; no correlations (identity))"
    );
    // Short the same.
    assert!(approved(&validate_one(&mut v, &ctx, sell(3, 1, 240))));
    let (_, message) = rejected(validate_one(&mut v, &ctx, sell(4, 1, 241)));
    assert!(message.contains("SYN-B -60250.00"), "{message}");
    // Even with correlations configured: one instrument is its |notional|.
    let mut v = validator(&[("correlations", "SYN-A:SYN-B=0.8")]);
    let ctx = context(&[(1, 100)]);
    assert!(approved(&validate_one(&mut v, &ctx, buy(5, 1, 140))));
    assert!(!approved(&validate_one(&mut v, &ctx, buy(6, 1, 141))));
}

#[test]
fn identity_is_the_euclidean_norm() {
    let mut v = validator(&[]);
    // Long 300 SYN-A: 30000.
    let ctx = context(&[(0, 300)]);
    // + 200 SYN-B (50000): sqrt(30000² + 50000²) = 58309.52.
    assert!(approved(&validate_one(&mut v, &ctx, buy(1, 1, 200))));
    // + 208 SYN-B (52000): 60033.32, over; the sign does not matter.
    let (_, message) = rejected(validate_one(&mut v, &ctx, sell(2, 1, 208)));
    assert_eq!(
        message,
        "sell 208 of SYN-B would take portfolio exposure to 60033.32, above limit \
         60000.00 (from 30000.00; SYN-A 30000.00, SYN-B -52000.00; no correlations \
         (identity))"
    );
}

#[test]
fn configured_correlations_add_up_or_hedge() {
    let mut v = validator(&[("correlations", "SYN-A:SYN-B=0.8,SYN-A:SYN-C=-0.5")]);
    let ctx = context(&[(0, 300)]);
    // Long A and long B, correlated 0.8: sqrt(9e8 + 2.5e9 + 2·0.8·1.5e9) = 76157.73.
    let (_, message) = rejected(validate_one(&mut v, &ctx, buy(1, 1, 200)));
    assert_eq!(
        message,
        "buy 200 of SYN-B would take portfolio exposure to 76157.73, above limit \
         60000.00 (from 30000.00; SYN-A 30000.00, SYN-B 50000.00; configured \
         correlations)"
    );
    // Short B hedges long A: sqrt(3.4e9 − 2.4e9) = 31622.78.
    assert!(approved(&validate_one(&mut v, &ctx, sell(2, 1, 200))));
    // Long C hedges long A (−0.5): 1500 C is 60000, with A sqrt(9e8 + 3.6e9 − 1.8e9).
    assert!(approved(&validate_one(&mut v, &ctx, buy(3, 2, 1500))));
    // Pairs not configured are 0: B and C.
    let ctx = context(&[(1, 200)]);
    assert!(approved(&validate_one(&mut v, &ctx, buy(4, 2, 750))));
    assert!(!approved(&validate_one(&mut v, &ctx, buy(5, 2, 1000))));
    // A configured symbol the host does not know is simply not used.
    let mut v = validator(&[("correlations", "ESH4:SYN-B=0.9")]);
    assert!(approved(&validate_one(&mut v, &ctx, buy(6, 2, 750))));
}

#[test]
fn an_order_lowering_the_exposure_passes_above_the_limit() {
    let mut v = validator(&[]);
    // Long 400 SYN-B: 100000, above the limit already.
    let ctx = context(&[(1, 400)]);
    assert!(approved(&validate_one(&mut v, &ctx, sell(1, 1, 100))));
    assert!(approved(&validate_one(&mut v, &ctx, sell(2, 1, 800))));
    // Flipping to a larger short, or adding anything elsewhere, does not.
    let (_, message) = rejected(validate_one(&mut v, &ctx, sell(3, 1, 801)));
    assert!(
        message.contains("to 100250.00, above limit 60000.00 (from 100000.00"),
        "{message}"
    );
    assert!(!approved(&validate_one(&mut v, &ctx, buy(4, 2, 1))));
    assert!(!approved(&validate_one(&mut v, &ctx, buy(5, 1, 1))));
}

#[test]
fn prices_multipliers_and_instruments() {
    let mut v = validator(&[]);
    let mut ctx = context(&[]);
    ctx.last_prices.retain(|p| p.instrument != 2);
    // No last price: a market order cannot be valued, a limit is valued at its price.
    let (reason, message) = rejected(validate_one(&mut v, &ctx, market(1, 2, Side::Buy, 1)));
    assert_eq!(reason, RejectReason::InvalidOrder);
    assert_eq!(message, "no last price for SYN-C to value a market order");
    let mut order = buy(2, 2, 600);
    if let OrderCommand::Submit(o) = &mut order {
        o.price = units(100);
    }
    assert!(approved(&validate_one(&mut v, &ctx, order)));
    if let OrderCommand::Submit(o) = &mut order {
        o.price = px("100.01");
    }
    assert!(!approved(&validate_one(&mut v, &ctx, order)));
    // A market order is valued at the last price, not its price field.
    assert!(approved(&validate_one(
        &mut v,
        &ctx,
        market(3, 0, Side::Buy, 600)
    )));
    assert!(!approved(&validate_one(
        &mut v,
        &ctx,
        market(4, 0, Side::Buy, 601)
    )));
    // A position without a last price is valued at its average price.
    let mut ctx = context(&[(2, 1000)]);
    ctx.last_prices.retain(|p| p.instrument != 2);
    ctx.positions[0].average_price = units(48);
    // SYN-C 48000 and 36000 of SYN-A: exactly 60000.
    assert!(approved(&validate_one(&mut v, &ctx, buy(5, 0, 360))));
    assert!(!approved(&validate_one(&mut v, &ctx, buy(6, 0, 361))));
    // The multiplier scales the exposure; a non-positive one is invalid.
    let mut ctx = context(&[]);
    ctx.instruments[0].multiplier = 50;
    assert!(approved(&validate_one(&mut v, &ctx, buy(7, 0, 12))));
    let (_, message) = rejected(validate_one(&mut v, &ctx, buy(8, 0, 13)));
    assert!(message.contains("to 65000.00"), "{message}");
    ctx.instruments[0].multiplier = 0;
    let (reason, message) = rejected(validate_one(&mut v, &ctx, buy(9, 0, 1)));
    assert_eq!(reason, RejectReason::InvalidOrder);
    assert_eq!(message, "SYN-A has multiplier 0");
    // A held instrument the host never defined counts, with multiplier 1.
    let mut ctx = context(&[(9, 400)]);
    ctx.positions[0].average_price = units(100);
    let (_, message) = rejected(validate_one(&mut v, &ctx, buy(10, 1, 180)));
    assert_eq!(
        message,
        "buy 180 of SYN-B would take portfolio exposure to 60207.97, above limit \
         60000.00 (from 40000.00; SYN-B 45000.00, instrument 9 40000.00; no \
         correlations (identity))"
    );
}

#[test]
fn orders_of_a_batch_count_together() {
    let mut v = validator(&[]);
    let ctx = context(&[]);
    let verdicts = validate(
        &mut v,
        &ctx,
        &[
            buy(1, 1, 200),
            buy(2, 1, 41),
            buy(3, 1, 40),
            testing::cancel(1, 1),
            buy(4, 1, 200),
            // A modify of a pending order replaces its quantity.
            modify(4, 1, 160),
            buy(5, 1, 1),
            modify(4, 1, 199),
            modify(4, 1, 200),
        ],
    );
    assert_eq!(
        approvals(&verdicts),
        [true, false, true, true, true, true, true, true, false]
    );
    let (_, message) = rejected(verdicts[1].clone());
    assert!(
        message.starts_with("buy 41 of SYN-B would take portfolio exposure to 60250.00"),
        "{message}"
    );
    // A refused order does not count; the next batch starts from the positions.
    assert!(approved(&validate_one(&mut v, &ctx, buy(6, 1, 240))));
}

#[test]
fn modifies_are_checked_with_the_new_quantity() {
    let mut v = validator(&[]);
    let mut ctx = context(&[(1, 100)]);
    ctx.open_orders = vec![
        OpenOrder {
            id: 7,
            instrument: 1,
            side: Side::Buy,
            price: units(250),
            leaves_quantity: units(100),
        },
        OpenOrder {
            id: 8,
            instrument: 1,
            side: Side::Sell,
            price: units(250),
            leaves_quantity: units(50),
        },
    ];
    // Order 7 to 140: 240 long in all, at the limit.
    assert!(approved(&validate_one(&mut v, &ctx, modify(7, 1, 140))));
    let (reason, message) = rejected(validate_one(&mut v, &ctx, modify(7, 1, 141)));
    assert_eq!(reason, RejectReason::PositionLimit);
    assert_eq!(
        message,
        "modify of order 7 to buy 141 of SYN-B would take portfolio exposure to \
         60250.00, above limit 60000.00 (from 50000.00; SYN-B 60250.00; no \
         correlations (identity))"
    );
    // Order 8 is a sell: to 340 it makes a short of 240.
    assert!(approved(&validate_one(&mut v, &ctx, modify(8, 1, 340))));
    assert!(!approved(&validate_one(&mut v, &ctx, modify(8, 1, 341))));
    // Not working: approved (the matcher refuses it).
    assert!(approved(&validate_one(&mut v, &ctx, modify(9, 1, 100_000))));
    assert!(approved(&validate_one(&mut v, &ctx, modify(7, 0, 100_000))));
    // A modified order counts for the orders after it in the batch.
    let verdicts = validate(&mut v, &ctx, &[modify(7, 1, 140), buy(10, 1, 1)]);
    assert_eq!(approvals(&verdicts), [true, false]);
}

#[test]
fn cancels_pass_and_malformed_orders_are_invalid() {
    let mut v = validator(&[("max_exposure", "0.000000001")]);
    let ctx = context(&[(1, 1000)]);
    assert!(
        validate(
            &mut v,
            &ctx,
            &[testing::cancel(1, 1), testing::cancel(2, 99)]
        )
        .iter()
        .all(approved)
    );
    let (reason, message) = rejected(validate_one(&mut v, &ctx, buy(3, 9, 1)));
    assert_eq!(reason, RejectReason::InvalidOrder);
    assert_eq!(message, "unknown instrument 9");
    let (reason, message) = rejected(validate_one(&mut v, &ctx, buy(4, 0, 0)));
    assert_eq!(reason, RejectReason::InvalidOrder);
    assert_eq!(message, "quantity 0 of SYN-A is not positive");
    // Extreme values neither overflow nor panic.
    let mut ctx = context(&[(0, 1), (1, 1)]);
    ctx.positions[0].quantity = i64::MAX;
    ctx.positions[1].quantity = i64::MIN;
    ctx.last_prices[0].price = i64::MAX;
    ctx.last_prices[1].price = i64::MIN;
    ctx.instruments[0].multiplier = i64::MAX;
    let mut v = validator(&[]);
    for order in [buy(6, 0, 1), sell(7, 1, 1), buy(8, 2, 1)] {
        let _ = validate_one(&mut v, &ctx, order);
    }
    assert_eq!(show_money(i128::MIN), show_money(i128::MIN + 1));
}

/// A deterministic wiggle for price paths, about ±1.
fn wiggle(t: u64) -> f64 {
    let x = t.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    (x as f64 / (1u64 << 24) as f64) * 2.0 - 1.0
}

/// Set SYN-A's and SYN-B's books around `a` and `b`, SYN-C's last price to `c`.
fn market_at(ctx: &mut RiskContext, t: u64, a: f64, b: f64, c: f64) {
    ctx.now = T0 + t * 1_000_000_000;
    for (instrument, mid) in [(0, a), (1, b)] {
        let mid = fixed::from_f64(mid);
        host::set_depth(testing::book_depth(
            instrument,
            &[(mid - units(1) / 100, units(100))],
            &[(mid + units(1) / 100, units(100))],
        ));
    }
    ctx.last_prices[2].price = fixed::from_f64(c);
    // The last prices of A and B are not what is sampled while the book has both sides.
    ctx.last_prices[0].price = units(100);
    ctx.last_prices[1].price = units(250);
}

#[test]
fn correlations_are_estimated_from_sampled_mids() {
    let mut v = validator(&[
        ("estimate", "true"),
        ("window", "20"),
        ("min_samples", "10"),
        ("sample_ms", "0"),
    ]);
    let mut ctx = context(&[(0, 300)]);
    // B moves with A (a fixed multiple), C does not move at all.
    let mut a = 100.0;
    for t in 0..10 {
        a += wiggle(t);
        market_at(&mut ctx, t, a, 2.5 * a, 40.0);
        // Identity until 10 returns: long A 30000 and B 50000 give 58309.52.
        assert!(approved(&validate_one(&mut v, &ctx, buy(t, 1, 200))), "{t}");
    }
    assert_eq!(v.samples.len(), 10);
    a += wiggle(10);
    market_at(&mut ctx, 10, a, 2.5 * a, 40.0);
    let (_, message) = rejected(validate_one(&mut v, &ctx, buy(10, 1, 200)));
    assert!(
        message.ends_with("correlations estimated from 10 returns)"),
        "{message}"
    );
    let est = v.estimated().unwrap();
    assert_eq!(est.ids, [0, 1, 2]);
    assert!((est.rho[1] - 1.0).abs() < 1e-9, "{:?}", est.rho);
    assert_eq!((est.rho[2], est.rho[5]), (0.0, 0.0));
    // Correlated 1: long A hedges short B fully (30000 - 30000).
    assert!(approved(&validate_one(&mut v, &ctx, sell(11, 1, 120))));
    // The window keeps `window` returns.
    for t in 11..40 {
        a += wiggle(t);
        market_at(&mut ctx, t, a, 2.5 * a, 40.0);
        let _ = validate_one(&mut v, &ctx, testing::cancel(t, 0));
    }
    assert_eq!(v.samples.len(), 21);
    assert_eq!(v.estimated().unwrap().returns, 20);
    // Now B moves against A: once the jump has left the window, so does the estimate.
    for t in 40..65 {
        a += wiggle(t);
        market_at(&mut ctx, t, a, 500.0 - 2.5 * a, 40.0);
        let _ = validate_one(&mut v, &ctx, testing::cancel(t, 0));
    }
    let est = v.estimated().unwrap();
    assert!(est.rho[1] < -0.99, "{:?}", est.rho);
    // Long A and long B hedge now: 30000 and 50000 give about 20000.
    assert!(approved(&validate_one(&mut v, &ctx, buy(65, 1, 200))));
}

#[test]
fn the_estimate_waits_for_samples_it_can_use() {
    let mut v = validator(&[
        ("estimate", "true"),
        ("window", "10"),
        ("min_samples", "5"),
        ("correlations", "SYN-A:SYN-B=0.8"),
    ]);
    let mut ctx = context(&[(0, 300)]);
    let mut a = 100.0;
    // Calls less than `sample_ms` (100 ms) apart sample once.
    for k in 0..5 {
        ctx.now = T0 + k * 10_000_000;
        market_at(&mut ctx, 0, a, 2.5 * a, 40.0);
        ctx.now = T0 + k * 10_000_000;
        let _ = validate_one(&mut v, &ctx, testing::cancel(1, 0));
    }
    assert_eq!(v.samples.len(), 1);
    for t in 1..8 {
        a -= wiggle(t);
        market_at(
            &mut ctx,
            t,
            a,
            250.0 + wiggle(t + 100),
            40.0 + wiggle(t + 200),
        );
        let _ = validate_one(&mut v, &ctx, testing::cancel(1, 0));
    }
    assert_eq!(v.estimated().unwrap().returns, 7);
    // A clock stepping back a whole interval samples again.
    ctx.now -= 1_000_000_000;
    let _ = validate_one(&mut v, &ctx, testing::cancel(1, 0));
    assert_eq!(v.samples.len(), 9);
    // An instrument without a mid (no book, no last price) is not sampled: an
    // exposure holding it falls back to the configured matrix.
    ctx.instruments.push(testing::instrument(3, "SYN-D"));
    ctx.positions.push(Position {
        instrument: 3,
        quantity: units(1),
        average_price: units(1),
    });
    let (_, message) = rejected(validate_one(&mut v, &ctx, buy(2, 1, 200)));
    assert!(message.ends_with("; configured correlations)"), "{message}");
    // Without estimation nothing is sampled.
    let mut v = validator(&[]);
    let _ = validate_one(&mut v, &ctx, testing::cancel(1, 0));
    assert!(v.samples.is_empty());
    assert!(v.save_state().len() < 8);
}

#[test]
fn the_samples_survive_save_and_load() {
    let config = [
        ("estimate", "true"),
        ("window", "10"),
        ("min_samples", "5"),
        ("sample_ms", "0"),
    ];
    let mut v = validator(&config);
    let mut ctx = context(&[(0, 300)]);
    let mut a = 100.0;
    for t in 0..12 {
        a += wiggle(t);
        market_at(&mut ctx, t, a, 2.5 * a, 40.0 + wiggle(t + 7));
        let _ = validate_one(&mut v, &ctx, testing::cancel(1, 0));
    }
    let state = v.save_state();
    let mut fresh = validator(&config);
    fresh.load_state(&state).unwrap();
    assert_eq!(fresh, v);
    assert_eq!(fresh.estimated(), v.estimated());
    // The same order gets the same verdict from both.
    let order = buy(2, 1, 200);
    assert_eq!(
        format!("{:?}", validate_one(&mut fresh, &ctx, order)),
        format!("{:?}", validate_one(&mut v, &ctx, order))
    );
    // A shorter window keeps the newest samples.
    let mut short = validator(&[("window", "3"), ("min_samples", "2")]);
    short.load_state(&state).unwrap();
    assert_eq!(short.samples.len(), 4);
    assert_eq!(short.samples.back(), v.samples.back());
    // Bad state is refused.
    assert!(fresh.load_state(&[9]).is_err());
    assert!(fresh.load_state(&state[..state.len() - 1]).is_err());
    let mut bad = StateWriter::default();
    bad.u8(STATE_VERSION).u32(1).u64(T0).u32(1).u32(0).i64(0);
    assert!(fresh.load_state(&bad.finish()).is_err());
    let mut bad = StateWriter::default();
    bad.u8(STATE_VERSION).u32(1).u64(T0).u32(2);
    bad.u32(1).i64(1).u32(0).i64(1);
    assert!(fresh.load_state(&bad.finish()).is_err());
    // An empty state of the current format loads.
    let mut empty = StateWriter::default();
    empty.u8(STATE_VERSION).u32(0);
    fresh.load_state(&empty.finish()).unwrap();
    assert!(fresh.samples.is_empty());
}

#[test]
fn the_matrix_check_accepts_and_refuses() {
    assert!(positive_semidefinite(&[1.0, 0.5, 0.5, 1.0], 2));
    assert!(positive_semidefinite(&[1.0, -1.0, -1.0, 1.0], 2));
    assert!(!positive_semidefinite(&[1.0, 2.0, 2.0, 1.0], 2));
    assert!(positive_semidefinite(&[], 0));
    assert_eq!(show_money(i128::from(units(1) / 200)), "0.01");
    assert_eq!(show_money(-i128::from(units(1) / 200)), "-0.01");
    assert_eq!(show_money(i128::from(units(1) / 200 - 1)), "0.00");
}
