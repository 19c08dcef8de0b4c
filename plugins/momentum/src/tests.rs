use super::*;
use tradsys_sdk::{
    Fill, InstrumentDefinition, NewOrder, OrderAccepted, OrderCanceled, OrderModified,
    OrderRejected, Rejection,
};

const TICK: i64 = fixed::SCALE / 100;

fn strategy(extra: &[(&str, &str)]) -> Momentum {
    let mut entries = vec![
        ("lookback", "4"),
        ("threshold_bps", "10"),
        ("cooldown", "0"),
    ];
    entries.extend_from_slice(extra);
    let mut s = Momentum::new(&Config::new(entries)).unwrap();
    let def = InstrumentDefinition {
        id: 0,
        symbol: "SYN-A".into(),
        tick_size: TICK,
        lot_size: fixed::SCALE,
        price_precision: 2,
        size_precision: 0,
        multiplier: 1,
    };
    s.on_market(&[MarketEvent::Instrument(def)], &mut Vec::new());
    s
}

/// A quote with bid `b` and ask `b + 2` ticks (mid `b + 1`), in cents.
fn quote(b: i64) -> MarketEvent {
    MarketEvent::Quote(Quote {
        instrument: 0,
        ts: 0,
        bid_price: b * TICK,
        bid_size: units(500),
        ask_price: (b + 2) * TICK,
        ask_size: units(500),
    })
}

/// Feed quotes one batch each, returning every command sent.
fn feed(s: &mut Momentum, bids: &[i64]) -> Vec<OrderCommand> {
    let mut out = Vec::new();
    for &b in bids {
        s.on_market(&[quote(b)], &mut out);
    }
    out
}

fn report(s: &mut Momentum, event: OrderEvent) {
    s.on_order_events(&[event], &mut Vec::new());
}

fn accept(s: &mut Momentum, id: u64) {
    report(
        s,
        OrderEvent::Accepted(OrderAccepted {
            id,
            instrument: 0,
            ts: 0,
        }),
    );
}

fn fill(s: &mut Momentum, o: &NewOrder, quantity: i64, leaves: i64) {
    let fill = Fill {
        id: o.id,
        instrument: 0,
        ts: 0,
        side: o.side,
        price: o.price,
        quantity,
        leaves_quantity: leaves,
        maker: true,
    };
    report(s, OrderEvent::Filled(fill));
}

fn reject(s: &mut Momentum, id: u64, reason: RejectReason) {
    let rejection = Rejection {
        reason,
        message: None,
    };
    report(
        s,
        OrderEvent::Rejected(OrderRejected {
            id,
            instrument: 0,
            ts: 0,
            rejection,
        }),
    );
}

fn submits(out: &[OrderCommand]) -> Vec<NewOrder> {
    out.iter()
        .map(|cmd| match cmd {
            OrderCommand::Submit(o) => *o,
            other => panic!("expected a submit, got {other:?}"),
        })
        .collect()
}

fn units(n: i64) -> i64 {
    fixed::from_units(n)
}

/// Prices (in cents) and sizes (in units) of submits.
fn ladder(orders: &[NewOrder]) -> Vec<(i64, i64)> {
    orders
        .iter()
        .map(|o| (o.price / TICK, o.quantity / fixed::SCALE))
        .collect()
}

#[test]
fn no_order_before_the_lookback_fills() {
    let mut s = strategy(&[]);
    // A steep rise, but only four mids: the return needs five.
    assert!(feed(&mut s, &[10000, 10050, 10100, 10150]).is_empty());
    assert!(!feed(&mut s, &[10200]).is_empty());
}

#[test]
fn rising_mids_bid_at_the_touch_and_falling_mids_ladder_offers_from_the_ask() {
    let mut s = strategy(&[]);
    // +15 bps over the lookback: one threshold, one rung of 100 at the bid.
    let out = submits(&feed(&mut s, &[10000, 10000, 10005, 10010, 10015]));
    assert_eq!(ladder(&out), [(10015, 100)]);
    assert_eq!(
        (out[0].id, out[0].side, out[0].time_in_force),
        (1, Side::Buy, TimeInForce::Gtc)
    );
    accept(&mut s, 1);
    fill(&mut s, &out[0], units(100), 0);
    assert_eq!(s.keeper.position(0), units(100));

    // -34 bps: three thresholds short from long 100 is 400 to sell, in rungs
    // of 100 from the ask up.
    let out = submits(&feed(&mut s, &[9966]));
    assert!(
        out.iter()
            .all(|o| o.side == Side::Sell && o.time_in_force == TimeInForce::Gtc)
    );
    assert_eq!(
        ladder(&out),
        [(9968, 100), (9969, 100), (9970, 100), (9971, 100)]
    );
    assert_eq!(out.iter().map(|o| o.id).collect::<Vec<_>>(), [2, 3, 4, 5]);
}

#[test]
fn the_ladder_never_exceeds_max_scale_rungs() {
    let mut s = strategy(&[("max_scale", "2"), ("max_position", "1000")]);
    // A huge rise is still only two rungs.
    let out = submits(&feed(&mut s, &[10000, 10000, 10100, 10200, 10300]));
    assert_eq!(ladder(&out), [(10300, 100), (10299, 100)]);
    // Nothing more while they work, however strong the signal.
    for o in &out {
        accept(&mut s, o.id);
    }
    assert!(feed(&mut s, &[10300]).is_empty());
}

#[test]
fn a_ladder_the_market_ran_away_from_is_moved_up_with_modifies() {
    let mut s = strategy(&[("reprice_ticks", "2"), ("max_scale", "2")]);
    // +25 bps: two rungs, at 10025 and 10024.
    let out = submits(&feed(&mut s, &[10000, 10000, 10010, 10020, 10025]));
    assert_eq!(ladder(&out), [(10025, 100), (10024, 100)]);
    // Unacknowledged rungs are left alone.
    assert!(feed(&mut s, &[10030]).is_empty());
    out.iter().for_each(|o| accept(&mut s, o.id));
    // The bid is 5 ticks above the best rung: both move up 5 ticks.
    let moved = feed(&mut s, &[10030]);
    let moves: Vec<_> = moved
        .iter()
        .map(|cmd| match cmd {
            OrderCommand::Modify(m) => (m.id, m.price / TICK, m.quantity / fixed::SCALE),
            other => panic!("expected a modify, got {other:?}"),
        })
        .collect();
    assert_eq!(moves, [(1, 10030, 100), (2, 10029, 100)]);
    for (id, price) in [(1, 10030), (2, 10029)] {
        let m = OrderModified {
            id,
            instrument: 0,
            ts: 0,
            price: price * TICK,
            leaves_quantity: units(100),
        };
        report(&mut s, OrderEvent::Modified(m));
    }
    // One tick away is below `reprice_ticks`: nothing.
    assert!(feed(&mut s, &[10031]).is_empty());
}

#[test]
fn stale_rungs_are_canceled_and_replaced_only_once_confirmed() {
    let mut s = strategy(&[("max_age", "3"), ("reprice_ticks", "0")]);
    let buy = submits(&feed(&mut s, &[10000, 10000, 10005, 10010, 10015]))[0];
    accept(&mut s, buy.id);
    assert!(feed(&mut s, &[10015, 10015]).is_empty());
    let out = feed(&mut s, &[10016]);
    assert!(matches!(&out[..], [OrderCommand::Cancel(c)] if c.id == buy.id));
    // The signal still holds, but the cancel is not confirmed yet.
    assert!(feed(&mut s, &[10020]).is_empty());
    let canceled = OrderCanceled {
        id: buy.id,
        instrument: 0,
        ts: 0,
        canceled_quantity: units(100),
    };
    report(&mut s, OrderEvent::Canceled(canceled));
    let out = submits(&feed(&mut s, &[10030]));
    assert_eq!((out[0].id, out[0].price), (2, 10030 * TICK));
}

#[test]
fn fills_update_the_position_and_nothing_is_duplicated() {
    let mut s = strategy(&[]);
    let buy = submits(&feed(&mut s, &[10000, 10000, 10005, 10010, 10015]))[0];
    accept(&mut s, buy.id);
    fill(&mut s, &buy, units(30), units(70));
    assert!(feed(&mut s, &[10015]).is_empty(), "the rest still works");
    fill(&mut s, &buy, units(70), 0);
    assert!(s.keeper.orders(0).next().is_none());
    // The same strength: the position already matches the signal.
    assert!(feed(&mut s, &[10020]).is_empty());
    // +25 bps, two thresholds: one more rung for the difference.
    let out = submits(&feed(&mut s, &[10035]));
    assert_eq!(ladder(&out), [(10035, 100)]);
}

#[test]
fn a_quote_that_trades_with_a_rung_holds_the_ladder_until_the_fill_is_known() {
    let mut s = strategy(&[]);
    let buy = submits(&feed(&mut s, &[10000, 10000, 10005, 10010, 10015]))[0];
    accept(&mut s, buy.id);
    // The ask drops through the rung's price and the signal turns, but no
    // cancel: the host's liquidity has just filled the rung.
    let out = feed(&mut s, &[9980]);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn the_signal_turning_cancels_and_a_rejection_cools_down() {
    let mut s = strategy(&[
        ("cooldown", "2"),
        ("max_scale", "1"),
        ("reprice_ticks", "0"),
    ]);
    let buy = submits(&feed(&mut s, &[10000, 10000, 10005, 10010, 10015]))[0];
    accept(&mut s, buy.id);
    // Up further (one rung is the most), then down 14 bps: a sell signal,
    // and the ask stays above the rung.
    assert!(feed(&mut s, &[10020, 10030, 10030, 10030, 10030]).is_empty());
    let out = feed(&mut s, &[10016]);
    assert!(matches!(&out[..], [OrderCommand::Cancel(c)] if c.id == buy.id));
    // A refused cancel leaves the rung working, and it is asked again.
    reject(&mut s, buy.id, RejectReason::RateLimit);
    assert!(s.keeper.order(buy.id).is_some());
    let out = feed(&mut s, &[10016]);
    assert!(matches!(&out[..], [OrderCommand::Cancel(c)] if c.id == buy.id));
    let canceled = OrderCanceled {
        id: buy.id,
        instrument: 0,
        ts: 0,
        canceled_quantity: units(100),
    };
    report(&mut s, OrderEvent::Canceled(canceled));
    // Two quote updates after the rejection, the sell ladder starts.
    assert_eq!(ladder(&submits(&feed(&mut s, &[10016]))), [(10018, 100)]);
}

#[test]
fn a_position_limit_rejection_caps_the_target_until_fills_relax_it() {
    let mut s = strategy(&[("reprice_ticks", "0")]);
    // +35 bps: three rungs of 100.
    let out = submits(&feed(&mut s, &[10000, 10000, 10005, 10010, 10035]));
    assert_eq!(out.len(), 3);
    accept(&mut s, out[0].id);
    accept(&mut s, out[1].id);
    reject(&mut s, out[2].id, RejectReason::PositionLimit);
    assert_eq!(s.instruments[&0].limit, Some(units(200)));
    // Still three thresholds, but 200 is all the limit is believed to allow.
    assert!(feed(&mut s, &[10035]).is_empty());
    // A rung fills in full: the cap rises by one rung and one is added.
    fill(&mut s, &out[0], units(100), 0);
    let more = submits(&feed(&mut s, &[10040]));
    assert_eq!(more.len(), 1);
}

#[test]
fn a_batch_is_decided_once_on_its_last_quote() {
    let mut s = strategy(&[("max_age", "2")]);
    let batch: Vec<MarketEvent> = [10000, 10000, 10005, 10010, 10015, 10016, 10017]
        .map(quote)
        .to_vec();
    let mut out = Vec::new();
    s.on_market(&batch, &mut out);
    // One rung, at the last quote's bid.
    assert_eq!(ladder(&submits(&out)), [(10017, 100)]);
}

fn scripted_session(s: &mut Momentum, bids: &[i64]) -> Vec<String> {
    // Accept every order and fill a third of it; log all commands.
    let mut log = Vec::new();
    for &b in bids {
        for cmd in feed(s, &[b]) {
            log.push(format!("{cmd:?}"));
            if let OrderCommand::Submit(o) = cmd {
                accept(s, o.id);
                fill(s, &o, o.quantity / 3, o.quantity - o.quantity / 3);
            }
        }
    }
    log
}

#[test]
fn saved_state_resumes_identically() {
    let bids: Vec<i64> = (0..240)
        .map(|i| 10000 + (i % 48 - 24i64).abs() * 4 + i % 5)
        .collect();
    let mut a = strategy(&[("max_age", "6")]);
    assert!(!scripted_session(&mut a, &bids[..100]).is_empty());
    assert!(
        a.keeper.orders(0).next().is_some(),
        "saved with working rungs"
    );
    let saved = a.save_state();
    let mut b = strategy(&[("max_age", "6")]);
    b.load_state(&saved).unwrap();
    assert_eq!(b.save_state(), saved);
    let after_a = scripted_session(&mut a, &bids[100..]);
    assert!(!after_a.is_empty());
    assert_eq!(after_a, scripted_session(&mut b, &bids[100..]));
}

#[test]
fn garbage_state_is_refused_and_changes_nothing() {
    let mut s = strategy(&[]);
    feed(&mut s, &[10000, 10000, 10005, 10010, 10015]);
    let saved = s.save_state();
    let mut bad_pending = saved.clone();
    *bad_pending.last_mut().unwrap() = 7;
    for garbage in [
        &[][..],
        &[2, 0, 0][..],
        &saved[..saved.len() - 3],
        &bad_pending,
    ] {
        assert!(s.load_state(garbage).is_err());
        assert_eq!(s.save_state(), saved);
    }
}

#[test]
fn bad_config_names_the_key() {
    let err = |kv: (&str, &str)| Momentum::new(&Config::new([kv])).unwrap_err();
    assert!(err(("lookback", "0")).contains("`lookback`"));
    assert!(err(("threshold_bps", "0")).contains("`threshold_bps`"));
    assert!(err(("quantity", "-1")).contains("`quantity`"));
    assert!(err(("max_scale", "0")).contains("`max_scale`"));
    assert!(err(("max_position", "5")).contains("`max_position`"));
    assert!(err(("reprice_ticks", "x")).contains("`reprice_ticks`"));
    assert!(Momentum::new(&Config::default()).is_ok());
}
