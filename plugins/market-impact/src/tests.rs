use super::*;

const NANOS_PER_MS: u64 = 1_000_000;
use tradsys_sdk::LastPrice;
use tradsys_sdk::series::Series;
use tradsys_sdk::testing::{
    self, RiskContextBuilder, px, reasons, rejection_message, units, validate,
};

/// Session start: an arbitrary epoch time in nanoseconds.
const T0: u64 = 1_704_205_800_000_000_000;

fn at_ms(ms: u64) -> u64 {
    T0 + ms * NANOS_PER_MS
}

/// The synthetic market at `ms`: SYN-A last 100, SYN-B last 250, SYN-C 40; the
/// strategy works `open` (id, instrument, side, units).
fn context(ms: u64, open: &[(u64, u32, Side, i64)]) -> RiskContext {
    let mut ctx = RiskContextBuilder::new(at_ms(ms));
    ctx.instruments(testing::synthetic_instruments())
        .last_price(0, px("100"))
        .last_price(1, px("250"))
        .last_price(2, px("40"));
    for &(id, instrument, side, q) in open {
        ctx.open_order(id, instrument, side, units(100), units(q));
    }
    ctx.build()
}

/// Set the host book of `instrument`: `bids` and `asks` as (price, units), best
/// first.
fn book(instrument: u32, bids: &[(&str, i64)], asks: &[(&str, i64)]) {
    let levels = |side: &[(&str, i64)]| -> Vec<(i64, i64)> {
        side.iter()
            .map(|&(price, q)| (px(price), units(q)))
            .collect()
    };
    host::set_depth(testing::book_depth(
        instrument,
        &levels(bids),
        &levels(asks),
    ));
}

fn submit(id: u64, instrument: u32, side: Side, quantity: i64) -> OrderCommand {
    testing::market(id, instrument, side, units(quantity))
}

fn buy(id: u64, quantity: i64) -> OrderCommand {
    submit(id, 0, Side::Buy, quantity)
}

fn sell(id: u64, quantity: i64) -> OrderCommand {
    submit(id, 0, Side::Sell, quantity)
}

fn modify(id: u64, quantity: i64) -> OrderCommand {
    testing::modify(id, 0, units(100), units(quantity))
}

fn cancel(id: u64) -> OrderCommand {
    testing::cancel(id, 0)
}

fn validator(config: &[(&str, &str)]) -> MarketImpact {
    testing::validator(config)
}

const OK: Option<RejectReason> = None;
const NO: Option<RejectReason> = Some(RejectReason::QuantityLimit);

/// SYN-A's mids swinging 100 ↔ 100.1 (twenty mids: ten returns of ln 1.001 and
/// nine of -ln 1.001), σ = 0.10255%.
fn swings() -> Vec<i64> {
    (0..20)
        .map(|i| if i % 2 == 0 { px("100") } else { px("100.1") })
        .collect()
}

/// The σ of `mids` as the validator computes it, independently: the deviation of
/// the log returns.
fn sigma_of(mids: &[i64]) -> f64 {
    let r: Vec<f64> = mids
        .windows(2)
        .map(|w| (w[1] as f64 / w[0] as f64).ln())
        .collect();
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (r.len() - 1) as f64).sqrt()
}

/// Validate nothing every 100 ms with SYN-A's touch at each mid (±0.005), then set
/// its book to 1000 units on each of 5 levels a side (5000 a side); returns the
/// time of the last call.
fn feed(v: &mut MarketImpact, mids: &[i64]) -> u64 {
    let half = units(1) / 200;
    let mut ms = 0;
    for (i, &mid) in mids.iter().enumerate() {
        ms = 100 * i as u64;
        host::set_depth(testing::book_depth(
            0,
            &[(mid - half, units(1000))],
            &[(mid + half, units(1000))],
        ));
        validate(v, &context(ms, &[]), &[]);
    }
    book(
        0,
        &[
            ("99.99", 1000),
            ("99.98", 1000),
            ("99.97", 1000),
            ("99.96", 1000),
            ("99.95", 1000),
        ],
        &[
            ("100.01", 1000),
            ("100.02", 1000),
            ("100.03", 1000),
            ("100.04", 1000),
            ("100.05", 1000),
        ],
    );
    ms
}

/// The expected impact in bps of `q` against `volume` with `k` = 1 on SWINGS.
fn impact(q: f64, volume: f64) -> f64 {
    sigma_of(&swings()) * (q / volume).sqrt() * 10_000.0
}

#[test]
fn defaults_and_bad_config() {
    let v = validator(&[]);
    assert_eq!((v.max_impact_bps, v.k), (units(2), units(1)));
    assert_eq!((v.window, v.min_samples), (20, 10));
    assert_eq!((v.sample_ns, v.depth_levels), (100 * NANOS_PER_MS, 5));
    assert_eq!((v.volume_multiple, v.adv), (units(1), None));
    assert!(v.adv_by_symbol.is_empty());
    let v = validator(&[
        ("max_impact_bps", "12.5"),
        ("k", "0.7"),
        ("window", "5"),
        ("depth_levels", "100"),
        ("volume_multiple", "50"),
        ("adv", "1000000"),
        ("adv.SYN-A", "50000"),
        ("adv.EUR/USD", "7.5"),
    ]);
    assert_eq!((v.max_impact_bps, v.k), (px("12.5"), px("0.7")));
    assert_eq!((v.window, v.min_samples), (5, 5));
    assert_eq!(
        (v.depth_levels, v.volume_multiple, v.adv),
        (100, units(50), Some(units(1_000_000)))
    );
    assert_eq!(
        v.adv_by_symbol,
        BTreeMap::from([
            ("SYN-A".to_string(), units(50_000)),
            ("EUR/USD".to_string(), px("7.5"))
        ])
    );
    for (key, value) in [
        ("max_impact_bps", "-1"),
        ("max_impact_bps", "lots"),
        ("k", "0"),
        ("k", "-0.5"),
        ("window", "2"),
        ("window", "1001"),
        ("min_samples", "21"),
        ("min_samples", "1"),
        ("sample_ms", "0"),
        ("sample_ms", "soon"),
        ("depth_levels", "0"),
        ("depth_levels", "101"),
        ("volume_multiple", "0"),
        ("volume_multiple", "x"),
        ("adv", "0"),
        ("adv", "big"),
        ("adv.SYN-A", "-5"),
        ("adv.", "100"),
        ("adv_SYN-A", "100"),
        ("advSYN-A", "100"),
    ] {
        let err = MarketImpact::new(&Config::new([(key, value)])).unwrap_err();
        assert!(err.contains(&format!("`{key}`")), "{key}={value}: {err}");
    }
}

#[test]
fn sigma_is_the_deviation_of_log_returns() {
    let mut v = validator(&[]);
    feed(&mut v, &swings());
    let sigma = v.mids[&0].std_dev_of_returns(Returns::Log, 10).unwrap();
    assert!((sigma - sigma_of(&swings())).abs() < 1e-12);
    assert!((sigma - 0.0010255).abs() < 0.0000001, "{sigma}");
    // By hand: mids 100, 200, 100 have returns ln 2, -ln 2: σ = ln 2 · √2.
    let mut mids = Series::default();
    for (i, mid) in [100, 200, 100].into_iter().enumerate() {
        mids.push(i as u64, units(mid), 3);
    }
    assert!(
        (mids.std_dev_of_returns(Returns::Log, 3).unwrap() - 2f64.ln() * 2f64.sqrt()).abs() < 1e-12
    );
    assert_eq!(mids.std_dev_of_returns(Returns::Log, 4), None);
}

#[test]
fn limit_both_sides_with_the_figures() {
    // 5000 units on 5 levels: buy 1900 scores 10.255 · √0.38 = 6.321 bps.
    assert!((impact(1900.0, 5000.0) - 6.3214).abs() < 0.0001);
    let mut v = validator(&[("max_impact_bps", "6.33")]);
    let ms = feed(&mut v, &swings());
    let ctx = context(ms, &[]);
    assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(1, 1900)])), [OK]);
    let mut v = validator(&[("max_impact_bps", "6.32")]);
    let ms = feed(&mut v, &swings());
    let verdicts = validate(&mut v, &context(ms, &[]), &[buy(1, 1900), sell(2, 1900)]);
    assert_eq!(
        rejection_message(&verdicts[0]),
        "expected impact 6.321 bps above the limit 6.32 bps: buy 1900 of SYN-A \
         against a volume of 5000 (5000 on 5 ask levels × 1), σ 0.103% over 20 mids, k 1"
    );
    assert_eq!(
        rejection_message(&verdicts[1]),
        "expected impact 6.321 bps above the limit 6.32 bps: sell 1900 of SYN-A \
         against a volume of 5000 (5000 on 5 bid levels × 1), σ 0.103% over 20 mids, k 1"
    );
    assert_eq!(reasons(&verdicts), [NO, NO]);
    // Smaller orders pass; calm instruments (mids never moved, σ = 0) always do.
    let ctx = context(ms, &[]);
    let orders = [buy(3, 1800), submit(4, 1, Side::Buy, 1_000_000)];
    assert_eq!(reasons(&validate(&mut v, &ctx, &orders)), [OK, OK]);
}

#[test]
fn the_default_lets_ordinary_orders_through() {
    let mut v = validator(&[]);
    let ms = feed(&mut v, &swings());
    let ctx = context(ms, &[]);
    // 10.255 · √(q / 5000) ≤ 2 for q ≤ 190.
    assert!(impact(190.0, 5000.0) < 2.0 && impact(191.0, 5000.0) > 2.0);
    assert_eq!(
        reasons(&validate(&mut v, &ctx, &[buy(1, 100), sell(2, 190)])),
        [OK, OK]
    );
    let verdicts = validate(&mut v, &ctx, &[buy(3, 191)]);
    assert!(
        rejection_message(&verdicts[0])
            .starts_with("expected impact 2.004 bps above the limit 2 bps"),
        "{}",
        rejection_message(&verdicts[0])
    );
}

#[test]
fn the_book_side_and_levels_count() {
    let mut v = validator(&[("max_impact_bps", "5"), ("depth_levels", "2")]);
    let ms = feed(&mut v, &swings());
    // Thin asks: 300 on two levels (the third is beyond `depth_levels`).
    book(
        0,
        &[("99.99", 5000)],
        &[("100.01", 100), ("100.02", 200), ("100.03", 10_000)],
    );
    let ctx = context(ms, &[]);
    // Buy 60 against 300: 10.255 · √0.2 = 4.586 bps; 80: 5.295 bps.
    assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(1, 60)])), [OK]);
    let verdicts = validate(&mut v, &ctx, &[buy(2, 80), sell(3, 1000)]);
    assert_eq!(
        rejection_message(&verdicts[0]),
        "expected impact 5.295 bps above the limit 5 bps: buy 80 of SYN-A \
         against a volume of 300 (300 on 2 ask levels × 1), σ 0.103% over 20 mids, k 1"
    );
    // The sell takes the deep bids: 10.255 · √(1000 / 5000) = 4.586.
    assert_eq!(reasons(&verdicts), [NO, OK]);
    // `volume_multiple` scales the book: 80 against 300 × 4 passes, 330 does not.
    let mut v = validator(&[
        ("max_impact_bps", "5"),
        ("depth_levels", "2"),
        ("volume_multiple", "4"),
    ]);
    feed(&mut v, &swings());
    book(0, &[], &[("100.01", 100), ("100.02", 200)]);
    assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(2, 80)])), [OK]);
    let verdicts = validate(&mut v, &ctx, &[buy(3, 330)]);
    assert_eq!(
        rejection_message(&verdicts[0]),
        "expected impact 5.378 bps above the limit 5 bps: buy 330 of SYN-A \
         against a volume of 1200 (300 on 2 ask levels × 4), σ 0.103% over 20 mids, k 1"
    );
}

#[test]
fn k_scales_the_impact() {
    let mut v = validator(&[("k", "0.5")]);
    let ms = feed(&mut v, &swings());
    let ctx = context(ms, &[]);
    // Half the impact: q ≤ 760 passes 2 bps.
    assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(1, 760)])), [OK]);
    let verdicts = validate(&mut v, &ctx, &[buy(2, 761)]);
    assert!(rejection_message(&verdicts[0]).ends_with(", k 0.5"));
}

#[test]
fn a_configured_adv_replaces_the_book() {
    let mut v = validator(&[("adv", "500"), ("adv.SYN-A", "50000")]);
    let ms = feed(&mut v, &swings());
    // An empty book does not matter with a configured volume.
    book(0, &[], &[]);
    let ctx = context(ms, &[]);
    // 10.255 · √(q / 50000) ≤ 2 for q ≤ 1901.
    assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(1, 1900)])), [OK]);
    let verdicts = validate(&mut v, &ctx, &[sell(2, 1950)]);
    assert_eq!(
        rejection_message(&verdicts[0]),
        "expected impact 2.025 bps above the limit 2 bps: sell 1950 of SYN-A \
         against a volume of 50000 (adv.SYN-A), σ 0.103% over 20 mids, k 1"
    );
    // Without its own entry, SYN-A is measured against `adv`.
    let mut v = validator(&[("adv", "500"), ("adv.SYN-B", "50000")]);
    let ms = feed(&mut v, &swings());
    let verdicts = validate(&mut v, &context(ms, &[]), &[buy(1, 20)]);
    assert!(
        rejection_message(&verdicts[0]).contains(
            "impact 2.051 bps above the limit 2 bps: buy 20 of SYN-A against a volume of 500 (adv)"
        ),
        "{}",
        rejection_message(&verdicts[0])
    );
}

#[test]
fn an_empty_book_side_is_no_liquidity() {
    let mut v = validator(&[]);
    let ms = feed(&mut v, &swings());
    book(0, &[("99.99", 100)], &[]);
    let ctx = context(ms, &[]);
    let verdicts = validate(&mut v, &ctx, &[buy(1, 1), sell(2, 1)]);
    assert_eq!(
        rejection_message(&verdicts[0]),
        "no asks of SYN-A on 5 levels to estimate the impact of buy 1"
    );
    assert_eq!(reasons(&verdicts), [Some(RejectReason::NoLiquidity), OK]);
    // Before `min_samples` mids nothing is checked, even against an empty book.
    let mut v = validator(&[]);
    feed(&mut v, &swings()[..9]);
    book(0, &[], &[]);
    let ctx = context(800, &[]);
    assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(1, 1_000_000)])), [OK]);
    // The tenth mid (from the last price 100, the book being empty) arms the check.
    let ctx = context(900, &[]);
    assert_eq!(
        reasons(&validate(&mut v, &ctx, &[buy(2, 1)])),
        [Some(RejectReason::NoLiquidity)]
    );
}

#[test]
fn the_batch_counts_as_one_order_per_side() {
    let mut v = validator(&[]);
    let ms = feed(&mut v, &swings());
    let ctx = context(ms, &[]);
    // Up to 190 may be bought in one batch, however it is split; sells are apart.
    let verdicts = validate(
        &mut v,
        &ctx,
        &[buy(1, 100), buy(2, 90), sell(3, 150), buy(4, 1), buy(5, 0)],
    );
    assert_eq!(
        rejection_message(&verdicts[3]),
        "expected impact 2.004 bps above the limit 2 bps: buy 1 of SYN-A \
         (191 with the batch's earlier buys) against a volume of 5000 \
         (5000 on 5 ask levels × 1), σ 0.103% over 20 mids, k 1"
    );
    let invalid = Some(RejectReason::InvalidOrder);
    assert_eq!(reasons(&verdicts), [OK, OK, OK, NO, invalid]);
    // Refused orders do not count; a cancel frees what its order counted for.
    let verdicts = validate(&mut v, &ctx, &[buy(6, 500), buy(7, 190), buy(8, 1)]);
    assert_eq!(reasons(&verdicts), [NO, OK, NO]);
    let verdicts = validate(&mut v, &ctx, &[buy(6, 190), cancel(6), buy(7, 190)]);
    assert_eq!(reasons(&verdicts), [OK, OK, OK]);
    // Another instrument's buys are apart too.
    let other = submit(8, 1, Side::Buy, 1);
    assert_eq!(
        reasons(&validate(&mut v, &ctx, &[buy(9, 190), other])),
        [OK, OK]
    );
}

#[test]
fn modifies_count_when_they_raise_the_quantity() {
    let mut v = validator(&[]);
    let ms = feed(&mut v, &swings());
    let ctx = context(ms, &[(1, 0, Side::Sell, 500)]);
    // Lowering (or keeping) a large order passes; raising it is weighed in full,
    // with the batch's other sells but not twice with itself.
    let verdicts = validate(
        &mut v,
        &ctx,
        &[
            sell(2, 40),
            modify(1, 500),
            modify(1, 100),
            modify(1, 150),
            modify(1, 151),
        ],
    );
    assert_eq!(
        rejection_message(&verdicts[4]),
        "expected impact 2.004 bps above the limit 2 bps: sell 151 of SYN-A \
         (191 with the batch's earlier sells) against a volume of 5000 \
         (5000 on 5 bid levels × 1), σ 0.103% over 20 mids, k 1"
    );
    assert_eq!(reasons(&verdicts), [OK, OK, OK, OK, NO]);
    // A modify lowering an order of the batch lowers what it counts for.
    let verdicts = validate(
        &mut v,
        &ctx,
        &[sell(2, 190), modify(2, 10), sell(3, 180), sell(4, 1)],
    );
    assert_eq!(reasons(&verdicts), [OK, OK, OK, NO]);
    // A modify of an order that is not working (or was just canceled) passes.
    let verdicts = validate(
        &mut v,
        &ctx,
        &[modify(77, 100_000), cancel(1), modify(1, 9999)],
    );
    assert_eq!(reasons(&verdicts), [OK, OK, OK]);
    let verdicts = validate(&mut v, &ctx, &[modify(1, 0), modify(1, -5)]);
    let invalid = Some(RejectReason::InvalidOrder);
    assert_eq!(reasons(&verdicts), [invalid, invalid]);
}

#[test]
fn cancels_always_pass() {
    let mut v = validator(&[("max_impact_bps", "0")]);
    let ms = feed(&mut v, &swings());
    book(0, &[], &[]);
    let ctx = context(ms, &[(1, 0, Side::Buy, 100)]);
    assert_eq!(
        reasons(&validate(&mut v, &ctx, &[cancel(1), cancel(2)])),
        [OK, OK]
    );
    // A zero limit refuses any order on a moving instrument.
    book(0, &[("99.99", 100)], &[("100.01", 100)]);
    assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(3, 1)])), [NO]);
}

#[test]
fn mids_are_sampled_at_most_once_per_sample_ms() {
    let mut v = validator(&[("sample_ms", "100")]);
    book(0, &[("99.99", 1)], &[("100.01", 1)]);
    validate(&mut v, &context(0, &[]), &[]);
    book(0, &[("100.99", 1)], &[("101.01", 1)]);
    validate(&mut v, &context(99, &[]), &[]);
    assert_eq!(v.mids[&0].samples().len(), 1);
    validate(&mut v, &context(100, &[]), &[]);
    let taken: Vec<_> = v.mids[&0].samples().iter().copied().collect();
    assert_eq!(taken, [(at_ms(0), px("100")), (at_ms(100), px("101"))]);
    // The clock stepping back restarts the window.
    validate(&mut v, &context(50, &[]), &[]);
    assert_eq!(v.mids[&0].samples().len(), 1);
    // Instruments without a book use the last price.
    assert_eq!(v.mids[&2].samples()[0], (at_ms(50), px("40")));
}

#[test]
fn the_window_and_the_instruments_stay_bounded() {
    let mut v = validator(&[("window", "5"), ("min_samples", "3")]);
    feed(&mut v, &swings());
    assert_eq!(v.mids[&0].samples().len(), 5);
    assert_eq!(v.mids[&0].samples()[0].0, at_ms(1500));
    let mut v = validator(&[]);
    let mut ctx = context(0, &[]);
    let price = |instrument| LastPrice {
        instrument,
        price: units(50),
    };
    ctx.last_prices = (0..300).map(price).collect();
    validate(&mut v, &ctx, &[]);
    assert_eq!(v.mids.len(), MAX_INSTRUMENTS);
    ctx.now = at_ms(100);
    ctx.last_prices = vec![price(0)];
    validate(&mut v, &ctx, &[]);
    ctx.now = at_ms(200);
    ctx.last_prices = vec![price(299)];
    // An instrument not ordered does not push one out; an ordered one does.
    validate(&mut v, &ctx, &[]);
    assert!(!v.mids.contains_key(&299));
    validate(&mut v, &ctx, &[submit(1, 299, Side::Sell, 1)]);
    assert_eq!(v.mids.len(), MAX_INSTRUMENTS);
    // 299 (ordered) replaced 1, the lowest of those sampled longest ago.
    assert!(v.mids.contains_key(&299) && v.mids.contains_key(&0));
    assert!(!v.mids.contains_key(&1));
}

#[test]
fn the_mids_survive_save_and_load() {
    let mut v = validator(&[]);
    let ms = feed(&mut v, &swings());
    let state = v.save_state();
    let mut fresh = validator(&[]);
    fresh.load_state(&state).unwrap();
    assert_eq!(fresh, v);
    assert_eq!(
        reasons(&validate(&mut fresh, &context(ms, &[]), &[buy(1, 191)])),
        [NO]
    );
    let mut small = validator(&[("window", "4"), ("min_samples", "3")]);
    small.load_state(&state).unwrap();
    assert_eq!(small.mids[&0].samples().len(), 4);
    assert_eq!(small.mids[&0].samples()[3], v.mids[&0].samples()[19]);
    assert!(fresh.load_state(&[2]).is_err());
    assert!(fresh.load_state(&state[..state.len() - 3]).is_err());
    let mut w = StateWriter::default();
    w.u8(STATE_VERSION).u32(1).u32(0).u32(1).u64(T0).i64(-4);
    let err = fresh.load_state(&w.finish()).unwrap_err();
    assert!(err.contains("not positive"), "{err}");
    assert_eq!(fresh, v);
}

#[test]
fn numbers_show_their_significant_digits() {
    assert_eq!(show(2.0, 3), "2.00");
    assert_eq!(show(2.004, 4), "2.004");
    assert_eq!(show(0.10255, 3), "0.103");
    assert_eq!(show(123.4, 3), "123");
    assert_eq!(show(1234.5, 3), "1234");
    assert_eq!(show(0.0, 4), "0");
}
