use super::*;
use tradsys_sdk::testing::{instrument, px, units};
use tradsys_sdk::{
    Fill, NewOrder, OrderCanceled, OrderRejected, OrderType, RejectReason, Rejection, Side,
    TimeInForce,
};

/// Host ids the definitions carry: not 0 and 1, to show they are learned.
const A: u32 = 3;
const B: u32 = 7;
const C: u32 = 5;
const CENT: i64 = fixed::SCALE / 100;

fn defs() -> Vec<MarketEvent> {
    vec![
        MarketEvent::Instrument(instrument(C, "SYN-C")),
        MarketEvent::Instrument(InstrumentDefinition {
            tick_size: px("0.05"),
            ..instrument(B, "SYN-B")
        }),
        MarketEvent::Instrument(instrument(A, "SYN-A")),
    ]
}

fn strategy(extra: &[(&str, &str)]) -> Pairs {
    let mut entries = vec![("window", "10"), ("sample_ms", "100")];
    entries.extend_from_slice(extra);
    let mut s = Pairs::new(&Config::new(entries)).unwrap();
    let mut out = Vec::new();
    s.on_market(&defs(), &mut out);
    assert!(out.is_empty());
    s
}

/// A quote of `instrument` at `ts_ms` with bid and ask in cents.
fn quote(instrument: u32, ts_ms: u64, bid: i64, ask: i64) -> MarketEvent {
    MarketEvent::Quote(Quote {
        instrument,
        ts: ts_ms * MS,
        bid_price: bid * CENT,
        bid_size: units(500),
        ask_price: ask * CENT,
        ask_size: units(500),
    })
}

/// One batch with both legs: A's mid `a` cents (spread 2 cents), B's mid `b`
/// cents (a multiple of 5, spread 10 cents).
fn pair(s: &mut Pairs, ts_ms: u64, a: i64, b: i64) -> Vec<OrderCommand> {
    let mut out = Vec::new();
    let batch = [quote(A, ts_ms, a - 1, a + 1), quote(B, ts_ms, b - 5, b + 5)];
    s.on_market(&batch, &mut out);
    out
}

/// One batch quoting leg A only.
fn only_a(s: &mut Pairs, ts_ms: u64, a: i64) -> Vec<OrderCommand> {
    let mut out = Vec::new();
    s.on_market(&[quote(A, ts_ms, a - 1, a + 1)], &mut out);
    out
}

/// B's offset from 250.00 in ticks of 0.05 for sample `i` (a triangle wave).
fn k(i: u64) -> i64 {
    let phase = (i % 12) as i64;
    if phase < 6 { phase } else { 12 - phase }
}

/// The mids of sample `i`: A = 100 + 0.5·(B − 250) ± 1 cent of noise.
fn mids(i: u64) -> (i64, i64) {
    let b = 25_000 + 5 * 2 * k(i);
    let noise = if i.is_multiple_of(2) { 1 } else { -1 };
    (10_000 + 5 * k(i) + noise, b)
}

/// Ten samples of the normal relation, at 100 ms steps from `start` (sample
/// index = ms / 100): no orders.
fn warm(s: &mut Pairs, start: u64) -> u64 {
    for i in start..start + 10 {
        let (a, b) = mids(i);
        let out = pair(s, i * 100, a, b);
        assert!(out.is_empty(), "{out:?}");
    }
    start + 10
}

fn submits(out: &[OrderCommand]) -> Vec<NewOrder> {
    out.iter()
        .map(|cmd| match cmd {
            OrderCommand::Submit(o) => *o,
            other => panic!("expected a submit, got {other:?}"),
        })
        .collect()
}

/// (instrument, side, price in cents, units) of each submit; checks IOC limits.
fn legs(out: &[OrderCommand]) -> Vec<(u32, Side, i64, i64)> {
    submits(out)
        .iter()
        .map(|o| {
            assert_eq!(
                (o.order_type, o.time_in_force),
                (OrderType::Limit, TimeInForce::Ioc)
            );
            assert_eq!(o.price % CENT, 0);
            (
                o.instrument,
                o.side,
                o.price / CENT,
                o.quantity / fixed::SCALE,
            )
        })
        .collect()
}

fn report(s: &mut Pairs, event: OrderEvent) {
    let mut out = Vec::new();
    s.on_order_events(&[event], &mut out);
    assert!(out.is_empty());
}

fn fill(s: &mut Pairs, o: &NewOrder, quantity: i64) {
    let fill = Fill {
        id: o.id,
        instrument: o.instrument,
        ts: s.spread.now,
        side: o.side,
        price: o.price,
        quantity,
        leaves_quantity: o.quantity - quantity,
        maker: false,
    };
    report(s, OrderEvent::Filled(fill));
}

fn cancel(s: &mut Pairs, o: &NewOrder, rest: i64) {
    let canceled = OrderCanceled {
        id: o.id,
        instrument: o.instrument,
        ts: s.spread.now,
        canceled_quantity: rest,
    };
    report(s, OrderEvent::Canceled(canceled));
}

fn reject(s: &mut Pairs, o: &NewOrder) {
    let rejection = Rejection {
        reason: RejectReason::RateLimit,
        message: Some("slow down".into()),
    };
    let rejected = OrderRejected {
        id: o.id,
        instrument: o.instrument,
        ts: s.spread.now,
        rejection,
    };
    report(s, OrderEvent::Rejected(rejected));
}

/// Warm up, then A jumps `jump` cents above the relation: the entry batch.
fn enter(s: &mut Pairs, jump: i64) -> Vec<NewOrder> {
    let next = warm(s, 0);
    let (a, b) = mids(next);
    let out = pair(s, next * 100, a + jump, b);
    let z = s.last_fit.unwrap().z;
    assert!(z.abs() >= 2.0, "z {z}");
    submits(&out)
}

/// β × 100 of the last fit, to the nearest unit (B's lot): the hedge size.
fn hedge(s: &Pairs) -> i64 {
    (s.last_fit.unwrap().beta * 100.0).round() as i64
}

fn positions(s: &Pairs) -> (i64, i64) {
    (s.position(0) / fixed::SCALE, s.position(1) / fixed::SCALE)
}

#[test]
fn a_missing_leg_keeps_it_idle() {
    // The ES replay: one instrument, none of the configured symbols.
    let mut s = Pairs::new(&Config::default()).unwrap();
    let es = InstrumentDefinition {
        tick_size: px("0.25"),
        multiplier: 50,
        ..instrument(0, "ESH4")
    };
    let mut out = Vec::new();
    s.on_market(&[MarketEvent::Instrument(es)], &mut out);
    for t in 0..200 {
        let drift = (t % 40) as i64 * 25;
        s.on_market(
            &[quote(0, t * 100, 480_000 + drift, 480_025 + drift)],
            &mut out,
        );
    }
    // Only one of the two legs defined, quoted wildly.
    let mut one = Pairs::new(&Config::default()).unwrap();
    one.on_market(&[MarketEvent::Instrument(instrument(0, "SYN-A"))], &mut out);
    for t in 0..200 {
        let a = 10_000 + if t % 20 == 0 { 500 } else { (t % 3) as i64 };
        one.on_market(&[quote(0, t * 100, a - 1, a + 1)], &mut out);
    }
    // A stray report is harmless too.
    let stray = Fill {
        id: 9,
        instrument: 0,
        ts: 0,
        side: Side::Buy,
        price: px("100"),
        quantity: units(1),
        leaves_quantity: 0,
        maker: false,
    };
    s.on_order_events(&[OrderEvent::Filled(stray)], &mut out);
    assert!(out.is_empty(), "{out:?}");
    assert!(s.spread.samples.is_empty() && one.spread.samples.is_empty());
    let mut fresh = Pairs::new(&Config::default()).unwrap();
    fresh.load_state(&one.save_state()).unwrap();
    assert_eq!(fresh.save_state(), one.save_state());
}

#[test]
fn samples_need_a_fresh_mid_of_both_legs_and_sample_ms() {
    let mut s = strategy(&[]);
    // Leg A alone, or the other instrument, takes no sample.
    only_a(&mut s, 0, 10_000);
    s.on_market(&[quote(C, 10, 3999, 4001)], &mut Vec::new());
    assert!(s.spread.samples.is_empty());
    pair(&mut s, 20, 10_000, 25_000);
    assert_eq!(s.spread.samples.len(), 1);
    // Both fresh again, but only 50 ms later: no sample until 100 ms have passed.
    pair(&mut s, 70, 10_010, 25_010);
    assert_eq!(s.spread.samples.len(), 1);
    only_a(&mut s, 120, 10_020);
    assert_eq!(s.spread.samples.back(), Some(&(px("100.20"), px("250.10"))));
    // Then B must be fresh again.
    only_a(&mut s, 300, 10_030);
    assert_eq!(s.spread.samples.len(), 2);
    // The window keeps `window` samples.
    for i in 0..30 {
        pair(&mut s, 400 + i * 100, 10_000, 25_000);
    }
    assert_eq!(s.spread.samples.len(), 10);
}

#[test]
fn the_hedge_ratio_comes_from_the_regression() {
    let mut s = strategy(&[]);
    warm(&mut s, 0);
    let fit = s.last_fit.expect("a full window");
    assert!((fit.beta - 0.5).abs() < 0.05, "beta {}", fit.beta);
    assert!(fit.z.abs() < 2.0);
}

#[test]
fn a_high_z_sells_a_and_buys_beta_b_in_one_batch() {
    let mut s = strategy(&[]);
    let out = enter(&mut s, 12);
    let (a, b) = mids(10);
    let cmds: Vec<_> = out.iter().map(|o| OrderCommand::Submit(*o)).collect();
    // Sell A at its bid, buy β × 100 of B at its ask (on B's 0.05 tick).
    let beta = s.last_fit.unwrap().beta;
    assert!((0.3..0.7).contains(&beta), "{beta}");
    assert_eq!(
        legs(&cmds),
        [
            (A, Side::Sell, a + 12 - 1, 100),
            (B, Side::Buy, b + 5, hedge(&s))
        ]
    );
    assert_eq!((out[0].id, out[1].id), (1, 2));
    assert_eq!(s.spread.dir, -1);
}

#[test]
fn a_low_z_buys_a_and_sells_b() {
    let mut s = strategy(&[]);
    let out = enter(&mut s, -12);
    let (a, b) = mids(10);
    let cmds: Vec<_> = out.iter().map(|o| OrderCommand::Submit(*o)).collect();
    assert_eq!(
        legs(&cmds),
        [
            (A, Side::Buy, a - 12 + 1, 100),
            (B, Side::Sell, b - 5, hedge(&s))
        ]
    );
}

#[test]
fn the_hedge_is_rounded_to_b_lots_and_a_bad_ratio_is_not_traded() {
    let mut s = strategy(&[("quantity", "130")]);
    s.on_market(
        &[MarketEvent::Instrument(InstrumentDefinition {
            tick_size: px("0.05"),
            lot_size: units(20),
            ..instrument(B, "SYN-B")
        })],
        &mut Vec::new(),
    );
    let out = enter(&mut s, 12);
    // β ≈ 0.5 of 130 is about 65: the nearest lot of 20 is 60.
    let beta = s.last_fit.unwrap().beta;
    let b_qty = out[1].quantity;
    assert_eq!(b_qty % units(20), 0);
    assert!(
        (fixed::to_f64(b_qty) - beta * 130.0).abs() <= 10.0,
        "{b_qty}"
    );

    // A hedge ratio above `max_hedge_ratio` is not traded.
    let mut s = strategy(&[("max_hedge_ratio", "0.4")]);
    let next = warm(&mut s, 0);
    let (a, b) = mids(next);
    assert!(pair(&mut s, next * 100, a + 12, b).is_empty());
    assert!(s.last_fit.unwrap().z > 2.0);
}

#[test]
fn the_spread_is_closed_when_z_reverts() {
    let mut s = strategy(&[]);
    let out = enter(&mut s, 12);
    fill(&mut s, &out[0], units(100));
    fill(&mut s, &out[1], out[1].quantity);
    let hb = hedge(&s);
    assert_eq!(positions(&s), (-100, hb));
    assert!(s.keeper.all().next().is_none());
    // Back on the relation: z within 0.5, both legs bought and sold back.
    let mut closing = Vec::new();
    for i in 11..20 {
        let (a, b) = mids(i);
        closing = pair(&mut s, i * 100, a, b);
        if !closing.is_empty() {
            break;
        }
    }
    assert!(s.last_fit.unwrap().z <= 0.5);
    let rows = legs(&closing);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].0, rows[0].1, rows[0].3), (A, Side::Buy, 100));
    assert_eq!((rows[1].0, rows[1].1, rows[1].3), (B, Side::Sell, hb));
    let closing = submits(&closing);
    fill(&mut s, &closing[0], units(100));
    fill(&mut s, &closing[1], closing[1].quantity);
    assert_eq!(positions(&s), (0, 0));
    assert_eq!(s.spread.dir, 0);
}

#[test]
fn max_hold_closes_the_spread() {
    let mut s = strategy(&[("max_hold_ms", "500")]);
    let out = enter(&mut s, 12);
    fill(&mut s, &out[0], units(100));
    fill(&mut s, &out[1], out[1].quantity);
    // No sample (B is never fresh), so no z exit: only the clock.
    assert!(only_a(&mut s, 1_400, 10_012).is_empty());
    let rows = legs(&only_a(&mut s, 1_500, 10_012));
    let hb = hedge(&s);
    assert_eq!(
        rows,
        [(A, Side::Buy, 10_013, 100), (B, Side::Sell, 25_015, hb)]
    );
    assert!(!s.spread.armed, "no re-entry until |z| drops below entry_z");
}

#[test]
fn a_leg_that_did_not_fill_is_sent_again_on_its_next_quote() {
    let mut s = strategy(&[]);
    let out = enter(&mut s, 12);
    fill(&mut s, &out[0], units(100));
    // B's IOC found 20 and the rest was canceled.
    let rest = out[1].quantity - units(20);
    fill(&mut s, &out[1], units(20));
    cancel(&mut s, &out[1], rest);
    assert_eq!(positions(&s), (-100, 20));
    // A batch without a new B quote sends nothing.
    assert!(only_a(&mut s, 1_050, 10_012).is_empty());
    // B's next quote: the missing 30 at its new ask.
    let mut batch = Vec::new();
    s.on_market(&[quote(B, 1_060, 25_010, 25_020)], &mut batch);
    assert_eq!(legs(&batch), [(B, Side::Buy, 25_020, rest / units(1))]);
    assert_eq!(submits(&batch)[0].id, 3);
    // Nothing more while it is in flight.
    s.on_market(&[quote(B, 1_070, 25_010, 25_020)], &mut batch);
    assert_eq!(batch.len(), 1);
    fill(&mut s, &submits(&batch)[0], rest);
    assert_eq!(positions(&s), (-100, hedge(&s)));
    assert!(s.on_target());
}

#[test]
fn a_legged_entry_is_flattened_after_leg_timeout() {
    let mut s = strategy(&[("leg_timeout_ms", "800")]);
    let out = enter(&mut s, 12);
    fill(&mut s, &out[0], units(100));
    cancel(&mut s, &out[1], out[1].quantity);
    // B never quotes again: nothing to do until the timeout...
    assert!(only_a(&mut s, 1_700, 10_012).is_empty());
    // ... then A is bought back, and B has nothing to undo.
    let flatten = only_a(&mut s, 1_800, 10_012);
    assert_eq!(legs(&flatten), [(A, Side::Buy, 10_013, 100)]);
    fill(&mut s, &submits(&flatten)[0], units(100));
    assert_eq!(positions(&s), (0, 0));
    // Still stretched when B comes back: no re-entry until |z| < entry_z.
    let (a, b) = mids(19);
    assert!(pair(&mut s, 1_900, a + 12, b).is_empty());
}

#[test]
fn a_rejection_cools_down_every_order() {
    let mut s = strategy(&[("cooldown_ms", "50")]);
    let out = enter(&mut s, 12);
    reject(&mut s, &out[0]);
    fill(&mut s, &out[1], out[1].quantity);
    // Fresh quotes of both legs within the cooldown (and before the next
    // sample is due at 1100 ms): nothing.
    assert!(pair(&mut s, 1_020, 10_012, 25_000).is_empty());
    assert!(pair(&mut s, 1_049, 10_012, 25_000).is_empty());
    // After it, the missing A leg goes out again.
    let rows = legs(&pair(&mut s, 1_050, 10_012, 25_000));
    assert_eq!(rows, [(A, Side::Sell, 10_011, 100)]);
}

#[test]
fn one_spread_at_a_time_and_never_more_than_two_orders() {
    let mut s = strategy(&[]);
    let out = enter(&mut s, 12);
    assert_eq!(out.len(), 2);
    // Unanswered orders: however stretched the spread, nothing more is sent.
    for i in 11..40 {
        let (a, b) = mids(i);
        let jump = if i % 3 == 0 { -30 } else { 30 };
        assert!(pair(&mut s, i * 100, a + jump, b).is_empty());
        assert_eq!(s.keeper.all().count(), 2);
    }
    // Once filled, a stronger signal the same way adds nothing either.
    fill(&mut s, &out[0], units(100));
    fill(&mut s, &out[1], out[1].quantity);
    for i in 40..45 {
        let (a, b) = mids(i);
        let cmds = pair(&mut s, i * 100, a + 40, b);
        assert!(
            submits(&cmds)
                .iter()
                .all(|o| o.side == Side::Buy || o.instrument == B)
        );
    }
}

/// Feed a long session; fill A in full, B partly then cancel the rest; log all.
fn scripted_session(s: &mut Pairs, from: u64, to: u64) -> Vec<String> {
    let mut log = Vec::new();
    for i in from..to {
        let (a, b) = mids(i);
        let jump = match i % 37 {
            15 => 14,
            30 => -14,
            _ => 0,
        };
        let out = pair(s, i * 100, a + jump, b);
        assert!(s.keeper.all().count() <= 2);
        for o in submits(&out) {
            log.push(format!("{i}: {o:?}"));
            if o.instrument == A {
                fill(s, &o, o.quantity);
            } else if i % 2 == 0 {
                let part = o.quantity / 2 / units(1) * units(1);
                fill(s, &o, part);
                cancel(s, &o, o.quantity - part);
            } else {
                fill(s, &o, o.quantity);
            }
        }
    }
    log
}

#[test]
fn saved_state_resumes_identically() {
    let mut a = strategy(&[("max_hold_ms", "1500")]);
    assert!(!scripted_session(&mut a, 0, 150).is_empty());
    let saved = a.save_state();
    let mut b = Pairs::new(&Config::new([
        ("window", "10"),
        ("sample_ms", "100"),
        ("max_hold_ms", "1500"),
    ]))
    .unwrap();
    // No definitions: the learned ids come back from the state.
    b.load_state(&saved).unwrap();
    assert_eq!(b.save_state(), saved);
    let after_a = scripted_session(&mut a, 150, 400);
    assert!(after_a.len() >= 4, "{after_a:?}");
    assert_eq!(after_a, scripted_session(&mut b, 150, 400));
    assert_eq!(a.save_state(), b.save_state());
}

#[test]
fn saved_state_with_an_order_in_flight_resumes() {
    let mut a = strategy(&[]);
    let out = enter(&mut a, 12);
    fill(&mut a, &out[0], units(100));
    let saved = a.save_state();
    let mut b = strategy(&[]);
    b.load_state(&saved).unwrap();
    // B's IOC is reported to the new instance: it resends on B's next quote.
    cancel(&mut b, &out[1], out[1].quantity);
    let mut batch = Vec::new();
    b.on_market(&[quote(B, 1_050, 25_010, 25_020)], &mut batch);
    let hb = out[1].quantity / units(1);
    assert_eq!(legs(&batch), [(B, Side::Buy, 25_020, hb)]);
    assert_eq!(submits(&batch)[0].id, 3, "ids are never reused");
}

#[test]
fn garbage_state_is_refused_and_changes_nothing() {
    let mut s = strategy(&[]);
    let out = enter(&mut s, 12);
    fill(&mut s, &out[0], units(100));
    let saved = s.save_state();
    let mut bad = s.spread.clone();
    bad.dir = 5; // no such direction
    let legs = (&s.p.leg_a, &s.p.leg_b);
    let bad_leg = state::save(STATE_VERSION, &(legs, &s.keeper, &bad));
    for garbage in [
        &[][..],
        &[2, 0, 0][..],
        &saved[..saved.len() - 3],
        &bad_leg,
        &[saved.as_slice(), &[0]].concat(),
    ] {
        assert!(s.load_state(garbage).is_err());
        assert_eq!(s.save_state(), saved);
    }
    // A state for other legs is refused.
    let mut other = Pairs::new(&Config::new([("leg_b", "SYN-C")])).unwrap();
    let err = other.load_state(&saved).unwrap_err();
    assert!(err.contains("SYN-A/SYN-B"), "{err}");
}

#[test]
fn bad_config_names_the_key() {
    let err = |kv: &[(&str, &str)]| Pairs::new(&Config::new(kv.to_vec())).unwrap_err();
    assert!(err(&[("leg_a", " ")]).contains("`leg_a`"));
    assert!(err(&[("leg_b", "SYN-A")]).contains("`leg_b`"));
    assert!(err(&[("window", "2")]).contains("`window`"));
    assert!(err(&[("window", "x")]).contains("`window`"));
    assert!(err(&[("sample_ms", "-1")]).contains("`sample_ms`"));
    assert!(err(&[("entry_z", "0")]).contains("`entry_z`"));
    assert!(err(&[("exit_z", "2")]).contains("`exit_z`"));
    assert!(err(&[("exit_z", "-0.1")]).contains("`exit_z`"));
    assert!(err(&[("quantity", "0")]).contains("`quantity`"));
    assert!(err(&[("max_hedge_ratio", "NaN")]).contains("`max_hedge_ratio`"));
    assert!(err(&[("max_hold_ms", "0")]).contains("`max_hold_ms`"));
    assert!(err(&[("leg_timeout_ms", "0")]).contains("`leg_timeout_ms`"));
    assert!(err(&[("cooldown_ms", "99999999999999999999")]).contains("`cooldown_ms`"));
    assert!(Pairs::new(&Config::default()).is_ok());
}
