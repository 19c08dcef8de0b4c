use super::*;
use tradsys_sdk::LastPrice;
use tradsys_sdk::host;
use tradsys_sdk::testing::{
    self, RiskContextBuilder, px, reasons, rejection_message, units, validate,
};

/// Session start: an arbitrary epoch time in nanoseconds.
const T0: u64 = 1_704_205_800_000_000_000;

fn at_ms(ms: u64) -> u64 {
    T0 + ms * NANOS_PER_MS
}

/// The synthetic market at `ms`: SYN-A last 100, SYN-B last 250, SYN-C 40; the
/// strategy holds `positions` (instrument, units) and works `open` (id,
/// instrument, side, units).
fn context(ms: u64, positions: &[(u32, i64)], open: &[(u64, u32, Side, i64)]) -> RiskContext {
    let mut ctx = RiskContextBuilder::new(at_ms(ms));
    ctx.instruments(testing::synthetic_instruments())
        .last_price(0, px("100"))
        .last_price(1, px("250"))
        .last_price(2, px("40"));
    for &(instrument, q) in positions {
        ctx.position(instrument, units(q), units(100));
    }
    for &(id, instrument, side, q) in open {
        ctx.open_order(id, instrument, side, units(100), units(q));
    }
    ctx.build()
}

/// Set the host book of `instrument` to one level each side.
fn book(instrument: u32, bid: &str, ask: &str) {
    let level = |price: &str| [(px(price), units(100))];
    host::set_depth(testing::book_depth(instrument, &level(bid), &level(ask)));
}

fn submit(id: u64, instrument: u32, side: Side, quantity: i64) -> OrderCommand {
    testing::limit(id, instrument, side, units(100), units(quantity))
}

fn buy(id: u64, quantity: i64) -> OrderCommand {
    submit(id, 0, Side::Buy, quantity)
}

fn sell(id: u64, quantity: i64) -> OrderCommand {
    submit(id, 0, Side::Sell, quantity)
}

fn modify(id: u64, quantity: i64) -> OrderCommand {
    testing::modify(id, 0, units(101), units(quantity))
}

fn cancel(id: u64) -> OrderCommand {
    testing::cancel(id, 0)
}

fn validator(config: &[(&str, &str)]) -> Volatility {
    testing::validator(config)
}

const OK: Option<RejectReason> = None;
const NO: Option<RejectReason> = Some(RejectReason::Other);

/// Validate nothing at `start_ms`, `start_ms + step_ms`, ... with SYN-A's book at
/// each mid in turn (one tick wide around it); returns the time of the last call.
fn feed(v: &mut Volatility, mids: &[&str], start_ms: u64, step_ms: u64) -> u64 {
    let mut ms = start_ms;
    for (i, mid) in mids.iter().enumerate() {
        if i > 0 {
            ms += step_ms;
        }
        let mid = px(mid);
        let half = units(1) / 200;
        host::set_depth(testing::book_depth(
            0,
            &[(mid - half, units(100))],
            &[(mid + half, units(100))],
        ));
        validate(v, &context(ms, &[], &[]), &[]);
    }
    ms
}

/// Twenty mids of SYN-A swinging 1% either way: log volatility about 1%.
const SWINGS: [&str; 20] = [
    "100", "101", "100", "101", "100", "101", "100", "101", "100", "101", "100", "101", "100",
    "101", "100", "101", "100", "101", "100", "101",
];

/// Twenty mids of SYN-A one tick apart (1 bp): volatility about 0.01%.
const CALM: [&str; 20] = [
    "100", "100.01", "100", "100.01", "100", "100.01", "100", "100.01", "100", "100.01", "100",
    "100.01", "100", "100.01", "100", "100.01", "100", "100.01", "100", "100.01",
];

#[test]
fn defaults_and_bad_config() {
    let v = validator(&[]);
    assert_eq!(v.max_volatility_pct, px("0.065"));
    assert!(v.limits.is_empty());
    assert_eq!((v.window, v.min_samples), (20, 10));
    assert_eq!(v.sample_ns, 100 * NANOS_PER_MS);
    assert_eq!((v.returns, v.mode), (Returns::Log, Mode::Adds));
    let v = validator(&[
        ("max_volatility_pct", "2"),
        ("max_volatility_pct.SYN-C", "0.1"),
        ("max_volatility_pct.SYN-C", "0.2"),
        ("window", "5"),
        ("returns", "simple"),
        ("mode", "all"),
        ("sample_ms", "5"),
    ]);
    assert_eq!(v.max_volatility_pct, units(2));
    // The last entry of a key counts, as everywhere.
    assert_eq!(v.limits, BTreeMap::from([("SYN-C".to_string(), px("0.2"))]));
    // `min_samples` defaults to the window when that is smaller than 10.
    assert_eq!((v.window, v.min_samples), (5, 5));
    assert_eq!((v.returns, v.mode), (Returns::Simple, Mode::All));
    assert_eq!(v.sample_ns, 5 * NANOS_PER_MS);
    for (key, value) in [
        ("max_volatility_pct", "-0.1"),
        ("max_volatility_pct", "high"),
        ("window", "2"),
        ("window", "1001"),
        ("window", "many"),
        ("max_volatility_pct.SYN-A", "-1"),
        ("max_volatility_pct.SYN-A", "x"),
        ("max_volatility_pct.", "1"),
        ("min_samples", "2"),
        ("min_samples", "21"),
        ("sample_ms", "0"),
        ("sample_ms", "-5"),
        ("sample_ms", "18446744073709551615"),
        ("returns", "percent"),
        ("mode", "some"),
    ] {
        let err = Volatility::new(&Config::new([(key, value)])).unwrap_err();
        assert!(err.contains(&format!("`{key}`")), "{key}={value}: {err}");
    }
}

#[test]
fn volatility_is_the_standard_deviation_of_returns() {
    let mut v = validator(&[("window", "3"), ("min_samples", "3"), ("returns", "simple")]);
    // Simple returns +10% and -10%: mean 0, sample deviation √0.02 = 14.1%.
    feed(&mut v, &["100", "110", "99"], 0, 100);
    let stats = volatility(&v.mids[&0], Returns::Simple, 3).unwrap();
    assert!(
        (stats.pct - 100.0 * 0.02f64.sqrt()).abs() < 1e-9,
        "{stats:?}"
    );
    assert_eq!((stats.mids, stats.mean_gap_ns), (3, 100 * NANOS_PER_MS));
    // Log returns ln 2 and -ln 2: ln 2 · √2 = 98.03%.
    let mut v = validator(&[("window", "3"), ("min_samples", "3")]);
    feed(&mut v, &["100", "200", "100"], 0, 100);
    let stats = volatility(&v.mids[&0], Returns::Log, 3).unwrap();
    assert!((stats.pct - 100.0 * 2f64.ln() * 2f64.sqrt()).abs() < 1e-9);
    // A steady trend has no deviation: +10% twice is 0%. The window keeps the
    // newest three mids, taken 100 ms apart.
    feed(&mut v, &["110", "121"], 300, 100);
    assert_eq!(v.mids[&0].samples().len(), 3);
    let stats = volatility(&v.mids[&0], Returns::Simple, 3).unwrap();
    assert!(stats.pct.abs() < 1e-9, "{stats:?}");
    assert_eq!(v.mids[&0].samples()[0], (at_ms(200), px("100")));
}

#[test]
fn limit_both_sides_with_the_figures() {
    // SWINGS: ten returns of ln 1.01 and nine of -ln 1.01; their deviation is 1.02%.
    let mut v = validator(&[("max_volatility_pct", "1.03")]);
    let ms = feed(&mut v, &SWINGS, 0, 100);
    let pct = volatility(&v.mids[&0], Returns::Log, 20).unwrap().pct;
    assert!(pct > 1.0 && pct < 1.03, "{pct}");
    assert_eq!(
        reasons(&validate(&mut v, &context(ms, &[], &[]), &[buy(1, 100)])),
        [OK]
    );
    let mut v = validator(&[("max_volatility_pct", "1")]);
    let ms = feed(&mut v, &SWINGS, 0, 100);
    let verdicts = validate(&mut v, &context(ms, &[], &[]), &[buy(1, 100), sell(2, 5)]);
    assert_eq!(
        rejection_message(&verdicts[0]),
        "volatility 1.02% of SYN-A over 20 mids (mean gap 100 ms) above the limit 1%: \
         buy 100 would take the position from 0 to 100 (held 0, working buys 0)"
    );
    assert_eq!(
        rejection_message(&verdicts[1]),
        "volatility 1.02% of SYN-A over 20 mids (mean gap 100 ms) above the limit 1%: \
         sell 5 would take the position from 0 to -5 (held 0, working sells 0)"
    );
    assert_eq!(reasons(&verdicts), [NO, NO]);
    // Other instruments are calm (their mids never moved): orders there pass.
    let ctx = context(ms, &[], &[]);
    let others = [submit(3, 1, Side::Buy, 100), submit(4, 2, Side::Sell, 100)];
    assert_eq!(reasons(&validate(&mut v, &ctx, &others)), [OK, OK]);
}

#[test]
fn a_calm_market_passes_the_default() {
    let mut v = validator(&[]);
    let ms = feed(&mut v, &CALM, 0, 100);
    let pct = volatility(&v.mids[&0], Returns::Log, 20).unwrap().pct;
    assert!(pct > 0.009 && pct < 0.011, "{pct}");
    let ctx = context(ms, &[], &[]);
    assert_eq!(
        reasons(&validate(&mut v, &ctx, &[buy(1, 300), sell(2, 300)])),
        [OK, OK]
    );
    // The same swings ten times larger are refused by the default 0.065%.
    let mut v = validator(&[]);
    let wide: Vec<&str> = (0..20)
        .map(|i| if i % 2 == 0 { "100" } else { "100.1" })
        .collect();
    let ms = feed(&mut v, &wide, 0, 100);
    let verdicts = validate(&mut v, &context(ms, &[], &[]), &[buy(1, 1)]);
    assert!(
        rejection_message(&verdicts[0]).starts_with("volatility 0.103% of SYN-A over 20 mids"),
        "{}",
        rejection_message(&verdicts[0])
    );
}

#[test]
fn a_symbol_may_have_its_own_limit() {
    let mut v = validator(&[
        ("max_volatility_pct", "0.5"),
        ("max_volatility_pct.SYN-A", "1.5"),
    ]);
    let ms = feed(&mut v, &SWINGS, 0, 100);
    let ctx = context(ms, &[], &[]);
    assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(1, 100)])), [OK]);
    let mut v = validator(&[
        ("max_volatility_pct", "5"),
        ("max_volatility_pct.SYN-A", "0.25"),
        ("max_volatility_pct.SYN-B", "50"),
    ]);
    let ms = feed(&mut v, &SWINGS, 0, 100);
    let verdicts = validate(&mut v, &context(ms, &[], &[]), &[buy(1, 100)]);
    assert!(
        rejection_message(&verdicts[0]).contains("above the limit 0.25%: buy 100"),
        "{}",
        rejection_message(&verdicts[0])
    );
}

#[test]
fn simple_returns_are_an_option() {
    let mut v = validator(&[("max_volatility_pct", "1"), ("returns", "simple")]);
    let ms = feed(&mut v, &SWINGS, 0, 100);
    let verdicts = validate(&mut v, &context(ms, &[], &[]), &[buy(1, 100)]);
    assert!(
        rejection_message(&verdicts[0]).starts_with("volatility 1.02% of SYN-A"),
        "{}",
        rejection_message(&verdicts[0])
    );
    // Returns +1% and -0.990%: their deviation is a little above the log returns'.
    let simple = volatility(&v.mids[&0], Returns::Simple, 20).unwrap().pct;
    let log = volatility(&v.mids[&0], Returns::Log, 20).unwrap().pct;
    assert!(simple > log && simple - log < 0.001, "{simple} {log}");
}

#[test]
fn before_min_samples_everything_passes() {
    let mut v = validator(&[("max_volatility_pct", "0.1"), ("min_samples", "20")]);
    let ms = feed(&mut v, &SWINGS[..19], 0, 100);
    assert_eq!(v.mids[&0].samples().len(), 19);
    // 19 mids: no volatility yet.
    assert_eq!(
        reasons(&validate(&mut v, &context(ms, &[], &[]), &[buy(1, 100)])),
        [OK]
    );
    // 100 ms later the 20th is taken (the book still shows 100, a return of 0) and
    // the limit applies.
    let ctx = context(ms + 100, &[], &[]);
    assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(2, 100)])), [NO]);
    assert_eq!(v.mids[&0].samples().len(), 20);
}

#[test]
fn mids_are_sampled_at_most_once_per_sample_ms() {
    let mut v = validator(&[("sample_ms", "100")]);
    book(0, "99.99", "100.01");
    validate(&mut v, &context(0, &[], &[]), &[]);
    book(0, "100.99", "101.01");
    // Too early, then due.
    validate(&mut v, &context(99, &[], &[]), &[]);
    assert_eq!(v.mids[&0].samples().len(), 1);
    validate(&mut v, &context(100, &[], &[]), &[]);
    let taken: Vec<_> = v.mids[&0].samples().iter().copied().collect();
    assert_eq!(taken, [(at_ms(0), px("100")), (at_ms(100), px("101"))]);
    // The clock stepping back restarts the window.
    validate(&mut v, &context(50, &[], &[]), &[]);
    let taken: Vec<_> = v.mids[&0].samples().iter().copied().collect();
    assert_eq!(taken, [(at_ms(50), px("101"))]);
    validate(&mut v, &context(149, &[], &[]), &[]);
    validate(&mut v, &context(150, &[], &[]), &[]);
    assert_eq!(v.mids[&0].samples().len(), 2);
    // Every instrument with a last price is sampled on each call; without a book
    // the last price is the mid.
    assert_eq!(
        v.mids[&1].samples().iter().copied().collect::<Vec<_>>(),
        [(at_ms(50), px("250")), (at_ms(150), px("250"))]
    );
    assert_eq!(v.mids[&2].samples().len(), 2);
}

#[test]
fn the_mid_comes_from_the_book_else_the_last_price() {
    let mut v = validator(&[]);
    let mut ctx = context(0, &[], &[]);
    // Book 40.00 / 40.03: the mid is 40.015, between ticks.
    book(2, "40.00", "40.03");
    // SYN-B has bids only: its last price 250 is taken.
    host::set_depth(testing::book_depth(1, &[(px("249"), units(5))], &[]));
    // SYN-A has no book and a zero last price: no mid at all.
    ctx.last_prices[0].price = 0;
    validate(&mut v, &ctx, &[]);
    assert_eq!(v.mids[&2].samples()[0].1, px("40.015"));
    assert_eq!(v.mids[&1].samples()[0].1, px("250"));
    assert!(!v.mids.contains_key(&0));
    // An ordered instrument without any price is not sampled either.
    let unknown = submit(1, 7, Side::Buy, 1);
    assert_eq!(
        reasons(&validate(&mut v, &context(100, &[], &[]), &[unknown])),
        [OK]
    );
    assert!(!v.mids.contains_key(&7));
}

/// A validator whose SYN-A is above the limit at `ms` (returned).
fn volatile(mode: &str) -> (Volatility, u64) {
    let mut v = validator(&[("max_volatility_pct", "0.5"), ("mode", mode)]);
    let ms = feed(&mut v, &SWINGS, 0, 100);
    (v, ms)
}

#[test]
fn adds_mode_lets_positions_be_reduced() {
    let (mut v, ms) = volatile("adds");
    // Long 200: selling up to 400 does not take it further from zero.
    let ctx = context(ms, &[(0, 200)], &[]);
    assert_eq!(reasons(&validate(&mut v, &ctx, &[sell(1, 150)])), [OK]);
    assert_eq!(reasons(&validate(&mut v, &ctx, &[sell(2, 400)])), [OK]);
    let verdicts = validate(&mut v, &ctx, &[sell(3, 401)]);
    assert_eq!(
        rejection_message(&verdicts[0]),
        "volatility 1.02% of SYN-A over 20 mids (mean gap 100 ms) above the limit 0.5%: \
         sell 401 would take the position from 200 to -201 (held 200, working sells 0)"
    );
    assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(4, 1)])), [NO]);
    // Short 50: buys of up to 100 pass.
    let ctx = context(ms, &[(0, -50)], &[]);
    assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(5, 100)])), [OK]);
    assert_eq!(
        reasons(&validate(&mut v, &ctx, &[buy(6, 101), sell(7, 1)])),
        [NO, NO]
    );
    // Positions in other instruments do not count.
    let ctx = context(ms, &[(1, 500)], &[]);
    assert_eq!(reasons(&validate(&mut v, &ctx, &[sell(8, 1)])), [NO]);
}

#[test]
fn working_orders_and_the_batch_count_on_their_side() {
    let (mut v, ms) = volatile("adds");
    // Long 200 with a working sell of 150 (50 if it fills): 100 more may be sold.
    let ctx = context(
        ms,
        &[(0, 200)],
        &[(1, 0, Side::Sell, 150), (2, 0, Side::Buy, 999)],
    );
    assert_eq!(reasons(&validate(&mut v, &ctx, &[sell(3, 100)])), [OK]);
    let verdicts = validate(&mut v, &ctx, &[sell(4, 101)]);
    assert_eq!(
        rejection_message(&verdicts[0]),
        "volatility 1.02% of SYN-A over 20 mids (mean gap 100 ms) above the limit 0.5%: \
         sell 101 would take the position from 50 to -51 (held 200, working sells 150)"
    );
    // In one batch: the first sell uses up the room, a cancel frees some again.
    let verdicts = validate(
        &mut v,
        &ctx,
        &[
            sell(5, 100),
            sell(6, 1),
            cancel(1),
            sell(7, 200),
            sell(8, 1),
        ],
    );
    assert_eq!(reasons(&verdicts), [OK, NO, OK, OK, NO]);
    // A refused order does not count against the ones after it.
    let verdicts = validate(&mut v, &ctx, &[sell(9, 400), sell(10, 100)]);
    assert_eq!(reasons(&verdicts), [NO, OK]);
    // Working buys beyond a short position make buys add.
    let ctx = context(ms, &[(0, -100)], &[(1, 0, Side::Buy, 150)]);
    assert_eq!(reasons(&validate(&mut v, &ctx, &[buy(11, 1)])), [NO]);
}

#[test]
fn all_mode_refuses_every_new_order() {
    let (mut v, ms) = volatile("all");
    let ctx = context(ms, &[(0, 200)], &[(1, 0, Side::Buy, 100)]);
    let verdicts = validate(
        &mut v,
        &ctx,
        &[
            sell(2, 100),
            buy(3, 1),
            cancel(1),
            modify(1, 50),
            modify(1, 101),
        ],
    );
    assert_eq!(
        rejection_message(&verdicts[0]),
        "volatility 1.02% of SYN-A over 20 mids (mean gap 100 ms) above the limit 0.5%: \
         no new orders"
    );
    // The cancel removed order 1: its modifies are of an order not working.
    assert_eq!(reasons(&verdicts), [NO, NO, OK, OK, OK]);
    let verdicts = validate(&mut v, &ctx, &[modify(1, 100), modify(1, 101)]);
    assert_eq!(reasons(&verdicts), [OK, NO]);
    // Calm instruments still trade.
    let calm = submit(4, 1, Side::Buy, 100);
    assert_eq!(reasons(&validate(&mut v, &ctx, &[calm])), [OK]);
}

#[test]
fn modifies_count_the_quantity_they_may_add() {
    let (mut v, ms) = volatile("adds");
    // Long 100 with a working buy of 50: raising it adds, lowering or repricing not.
    let ctx = context(ms, &[(0, 100)], &[(1, 0, Side::Buy, 50)]);
    let verdicts = validate(&mut v, &ctx, &[modify(1, 50), modify(1, 20), modify(1, 51)]);
    assert_eq!(
        rejection_message(&verdicts[2]),
        "volatility 1.02% of SYN-A over 20 mids (mean gap 100 ms) above the limit 0.5%: \
         modify of order 1 to 51 would take the position from 120 to 151 \
         (held 100, working buys 20)"
    );
    assert_eq!(reasons(&verdicts), [OK, OK, NO]);
    // A working sell against a long may grow while it does not overshoot: from 50
    // (if it fills) to -50 at most.
    let ctx = context(ms, &[(0, 100)], &[(2, 0, Side::Sell, 50)]);
    let verdicts = validate(&mut v, &ctx, &[modify(2, 150), modify(2, 151)]);
    assert_eq!(reasons(&verdicts), [OK, NO]);
    // A modify of an order that is not working passes.
    assert_eq!(reasons(&validate(&mut v, &ctx, &[modify(77, 1000)])), [OK]);
}

#[test]
fn cancels_pass_and_bad_quantities_are_invalid() {
    let (mut v, ms) = volatile("all");
    let ctx = context(ms, &[(0, 5000)], &[(1, 0, Side::Buy, 100)]);
    assert_eq!(
        reasons(&validate(&mut v, &ctx, &[cancel(1), cancel(9)])),
        [OK, OK]
    );
    let invalid = Some(RejectReason::InvalidOrder);
    let verdicts = validate(&mut v, &ctx, &[buy(2, 0), sell(3, -1), modify(1, 0)]);
    assert_eq!(
        rejection_message(&verdicts[1]),
        "quantity -1 of SYN-A is not positive"
    );
    assert_eq!(reasons(&verdicts), [invalid, invalid, invalid]);
}

#[test]
fn the_window_and_the_instruments_stay_bounded() {
    let mut v = validator(&[("window", "5"), ("min_samples", "3")]);
    feed(&mut v, &SWINGS, 0, 100);
    assert_eq!(v.mids[&0].samples().len(), 5);
    assert_eq!(v.mids[&0].samples()[0].0, at_ms(1500));
    // Many instruments: only 256 are kept; an ordered new one replaces the one
    // sampled longest ago.
    let mut v = validator(&[]);
    let mut ctx = context(0, &[], &[]);
    let price = |instrument| LastPrice {
        instrument,
        price: units(50),
    };
    ctx.last_prices = (0..300).map(price).collect();
    validate(&mut v, &ctx, &[]);
    assert_eq!(v.mids.len(), MAX_INSTRUMENTS);
    assert!(!v.mids.contains_key(&256));
    ctx.now = at_ms(100);
    ctx.last_prices = vec![price(0)];
    validate(&mut v, &ctx, &[]);
    ctx.now = at_ms(200);
    ctx.last_prices = vec![price(299)];
    // An instrument not ordered does not push one out.
    validate(&mut v, &ctx, &[]);
    assert!(!v.mids.contains_key(&299));
    validate(&mut v, &ctx, &[submit(1, 299, Side::Buy, 1)]);
    assert_eq!(v.mids.len(), MAX_INSTRUMENTS);
    assert!(v.mids.contains_key(&299) && v.mids.contains_key(&0));
    assert!(!v.mids.contains_key(&1));
    assert_eq!(v.mids[&0].samples().len(), 2);
}

#[test]
fn the_mids_survive_save_and_load() {
    let (v, ms) = volatile("adds");
    let state = v.save_state();
    let mut fresh = validator(&[("max_volatility_pct", "0.5")]);
    fresh.load_state(&state).unwrap();
    assert_eq!(fresh, v);
    assert_eq!(
        reasons(&validate(&mut fresh, &context(ms, &[], &[]), &[buy(1, 1)])),
        [NO]
    );
    // A smaller window keeps the newest mids.
    let mut small = validator(&[("window", "4"), ("min_samples", "3")]);
    small.load_state(&state).unwrap();
    assert_eq!(small.mids[&0].samples().len(), 4);
    assert_eq!(small.mids[&0].samples()[3], v.mids[&0].samples()[19]);
    // Bad state is refused and leaves the validator as it was.
    assert!(fresh.load_state(&[9]).is_err());
    assert!(fresh.load_state(&state[..state.len() - 1]).is_err());
    let mut extra = state.clone();
    extra.push(0);
    assert!(fresh.load_state(&extra).is_err());
    let mut w = StateWriter::default();
    w.u8(STATE_VERSION).u32(1).u32(0).u32(1).u64(T0).i64(0);
    let err = fresh.load_state(&w.finish()).unwrap_err();
    assert!(err.contains("not positive"), "{err}");
    assert_eq!(fresh, v);
    // An empty validator saves and loads too.
    let empty = validator(&[]);
    let mut other = validator(&[]);
    other.load_state(&empty.save_state()).unwrap();
    assert_eq!(other, empty);
}

#[test]
fn percentages_show_three_digits() {
    assert_eq!(show_pct(3.2), "3.20");
    assert_eq!(show_pct(0.0523), "0.0523");
    assert_eq!(show_pct(12.34), "12.3");
    assert_eq!(show_pct(0.0), "0");
    assert_eq!(show_pct(0.00000012), "0.000000");
}
