use super::*;
use tradsys_sdk::{Fill, InstrumentDefinition, NewOrder, OrderCanceled, OrderRejected, Rejection};

const TICK: i64 = fixed::SCALE / 100;

fn strategy(extra: &[(&str, &str)]) -> MeanReversion {
    let mut entries = vec![
        ("window", "5"),
        ("entry_z", "1.8"),
        ("cooldown", "0"),
        ("extreme_ticks", "20"),
    ];
    entries.extend_from_slice(extra);
    let mut s = MeanReversion::new(&Config::new(entries)).unwrap();
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

/// Feed quotes with bid `b` and ask `b + 2` ticks (mid `b + 1`), in cents.
fn feed(s: &mut MeanReversion, bids: &[i64]) -> Vec<OrderCommand> {
    let mut out = Vec::new();
    for &b in bids {
        let q = Quote {
            instrument: 0,
            ts: 0,
            bid_price: b * TICK,
            bid_size: fixed::from_units(500),
            ask_price: (b + 2) * TICK,
            ask_size: fixed::from_units(500),
        };
        s.on_market(&[MarketEvent::Quote(q)], &mut out);
    }
    out
}

fn report(s: &mut MeanReversion, event: OrderEvent) {
    s.on_order_events(&[event], &mut Vec::new());
}

fn fill(s: &mut MeanReversion, o: &NewOrder, quantity: i64) {
    let fill = Fill {
        id: o.id,
        instrument: 0,
        ts: 0,
        side: o.side,
        price: o.price,
        quantity,
        leaves_quantity: o.quantity - quantity,
        maker: false,
    };
    report(s, OrderEvent::Filled(fill));
}

fn reject(s: &mut MeanReversion, id: u64, reason: RejectReason) {
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

fn submitted(cmd: &OrderCommand) -> NewOrder {
    match cmd {
        OrderCommand::Submit(o) => *o,
        other => panic!("expected a submit, got {other:?}"),
    }
}

fn units(n: i64) -> i64 {
    fixed::from_units(n)
}

// With a window of n and n - 1 equal mids, a last mid d away scores
// z = sqrt(n - 1) whatever d is (population deviation): 2 for the window
// of five used here, above the tests' `entry_z` of 1.8 and below the
// default `extreme_z` of 2.5.

#[test]
fn no_order_before_the_window_fills() {
    let mut s = strategy(&[("entry_z", "1.5")]);
    // Over these four mids the last scores z = -1.73, but the window is five.
    assert!(feed(&mut s, &[10000, 10000, 10000, 9950]).is_empty());
    assert_eq!(s.instruments[&0].target, 0);
    // Full window, z = -1.75: now it buys.
    let out = feed(&mut s, &[9900]);
    assert_eq!(submitted(&out[0]).side, Side::Buy);
}

#[test]
fn a_low_mid_is_bought_passively_at_the_bid_then_sold_fok_at_the_bid() {
    let mut s = strategy(&[]);
    // z of the last mid = -2: buy 100 at the bid, GTC.
    let out = feed(&mut s, &[10000, 10000, 10000, 10000, 9990]);
    assert_eq!(out.len(), 1);
    let buy = submitted(&out[0]);
    assert_eq!(
        (buy.id, buy.side, buy.time_in_force),
        (1, Side::Buy, TimeInForce::Gtc)
    );
    assert_eq!((buy.price, buy.quantity), (9990 * TICK, units(100)));
    fill(&mut s, &buy, buy.quantity);
    assert_eq!(s.keeper.position(0), units(100));
    // Back near the mean (z = -0.31): close all 100, FOK at the bid.
    let out = feed(&mut s, &[9996]);
    assert_eq!(out.len(), 1);
    let sell = submitted(&out[0]);
    assert_eq!(
        (sell.id, sell.side, sell.time_in_force),
        (2, Side::Sell, TimeInForce::Fok)
    );
    assert_eq!((sell.price, sell.quantity), (9996 * TICK, units(100)));
    // The exit is in flight: nothing more.
    assert!(feed(&mut s, &[9998]).is_empty());
}

#[test]
fn an_extreme_high_sells_twice_the_size_through_the_bid_then_enters_passively_if_collared() {
    let mut s = strategy(&[("window", "10"), ("entry_z", "1.5"), ("extreme_z", "1.9")]);
    // z = 3 with a window of ten.
    let out = feed(
        &mut s,
        &[
            10000, 10000, 10000, 10000, 10000, 10000, 10000, 10000, 10000, 10030,
        ],
    );
    let sell = submitted(&out[0]);
    assert_eq!(
        (sell.side, sell.time_in_force),
        (Side::Sell, TimeInForce::Ioc)
    );
    // 20 ticks below the bid, for twice the quantity.
    assert_eq!((sell.price, sell.quantity), (10010 * TICK, units(200)));
    reject(&mut s, sell.id, RejectReason::PriceCollar);
    // Still extreme (z = 2.33), but collared: join the ask instead.
    let out = feed(&mut s, &[10040]);
    let retry = submitted(&out[0]);
    assert_eq!(
        (retry.side, retry.time_in_force),
        (Side::Sell, TimeInForce::Gtc)
    );
    assert_eq!(retry.price, 10042 * TICK, "at the ask");
}

#[test]
fn working_order_is_kept_alone_then_canceled_when_stale_or_unwanted() {
    let mut s = strategy(&[("max_age", "3")]);
    let buy = submitted(&feed(&mut s, &[10000, 10000, 10000, 10000, 9990])[0]);
    // Partly filled, the rest works; z eases to -1.22 and the ask stays
    // above the order: nothing new is sent.
    fill(&mut s, &buy, units(40));
    assert!(feed(&mut s, &[9990, 9990]).is_empty());
    // Third quote of its life: stale, canceled.
    let out = feed(&mut s, &[9990]);
    assert!(matches!(&out[..], [OrderCommand::Cancel(c)] if c.id == buy.id));
    let canceled = OrderCanceled {
        id: buy.id,
        instrument: 0,
        ts: 0,
        canceled_quantity: units(60),
    };
    report(&mut s, OrderEvent::Canceled(canceled));
    assert_eq!(s.keeper.position(0), units(40));
    // Still below the mean (z = -1.22): buy the missing 60 at the new bid.
    let top_up = submitted(&feed(&mut s, &[9985])[0]);
    assert_eq!(
        (top_up.id, top_up.side, top_up.quantity),
        (2, Side::Buy, units(60))
    );
    assert_eq!(top_up.price, 9985 * TICK);
    // Back at the mean (z = 0.1): the buy is no longer wanted.
    let out = feed(&mut s, &[9989]);
    assert!(matches!(&out[..], [OrderCommand::Cancel(c)] if c.id == top_up.id));
}

#[test]
fn a_quote_that_trades_with_the_order_holds_it_until_the_fill_is_known() {
    let mut s = strategy(&[("max_age", "1")]);
    let buy = submitted(&feed(&mut s, &[10000, 10000, 10000, 10000, 9990])[0]);
    // Stale at once, but this quote's ask (9987) trades with the buy at 9990.
    assert!(feed(&mut s, &[9985]).is_empty());
    let out = feed(&mut s, &[9992]);
    assert!(matches!(&out[..], [OrderCommand::Cancel(c)] if c.id == buy.id));
}

#[test]
fn a_killed_fok_exit_pauses_then_retries() {
    let mut s = strategy(&[("cooldown", "2")]);
    let buy = submitted(&feed(&mut s, &[10000, 10000, 10000, 10000, 9990])[0]);
    fill(&mut s, &buy, buy.quantity);
    let exit = submitted(&feed(&mut s, &[9996])[0]);
    assert_eq!(exit.time_in_force, TimeInForce::Fok);
    reject(&mut s, exit.id, RejectReason::FillOrKillUnfilled);
    assert!(s.keeper.in_flight(0).is_none());
    // A cooldown of two quote updates: the first waits, the second may trade.
    assert!(feed(&mut s, &[9998]).is_empty(), "cooling down");
    let again = submitted(&feed(&mut s, &[9998])[0]);
    assert_eq!(
        (again.id, again.side, again.time_in_force),
        (3, Side::Sell, TimeInForce::Fok)
    );
}

fn scripted_session(s: &mut MeanReversion, bids: &[i64]) -> Vec<String> {
    // Fill half of every order at once; log all commands.
    let mut log = Vec::new();
    for &b in bids {
        for cmd in feed(s, &[b]) {
            log.push(format!("{cmd:?}"));
            if let OrderCommand::Submit(o) = cmd {
                fill(s, &o, o.quantity / 2);
            }
        }
    }
    log
}

#[test]
fn saved_state_resumes_identically() {
    let bids: Vec<i64> = (0..300i64)
        .map(|i| 10000 + (i * i * 7 % 31) - (i % 11) * 3)
        .collect();
    let mut a = strategy(&[("window", "8"), ("entry_z", "1.2"), ("extreme_z", "1.6")]);
    assert!(!scripted_session(&mut a, &bids[..120]).is_empty());
    let saved = a.save_state();
    let mut b = strategy(&[("window", "8"), ("entry_z", "1.2"), ("extreme_z", "1.6")]);
    b.load_state(&saved).unwrap();
    assert_eq!(b.save_state(), saved);
    let after_a = scripted_session(&mut a, &bids[120..]);
    assert!(!after_a.is_empty());
    assert_eq!(after_a, scripted_session(&mut b, &bids[120..]));
}

#[test]
fn garbage_state_is_refused_and_changes_nothing() {
    let mut s = strategy(&[]);
    feed(&mut s, &[10000, 10000, 10000, 10000, 9990]);
    let saved = s.save_state();
    let mut bad_flag = saved.clone();
    *bad_flag.last_mut().unwrap() = 2;
    for garbage in [&[][..], &[0xff; 40][..], &saved[..20], &bad_flag] {
        assert!(s.load_state(garbage).is_err());
        assert_eq!(s.save_state(), saved);
    }
}

#[test]
fn bad_config_names_the_key() {
    let err = |kv: &[(&str, &str)]| MeanReversion::new(&Config::new(kv.to_vec())).unwrap_err();
    assert!(err(&[("window", "1")]).contains("`window`"));
    assert!(err(&[("exit_z", "2.5")]).contains("`exit_z`"));
    assert!(err(&[("entry_z", "nan")]).contains("`entry_z`"));
    assert!(err(&[("extreme_z", "1")]).contains("`extreme_z`"));
    assert!(err(&[("quantity", "0")]).contains("`quantity`"));
    assert!(err(&[("max_age", "0")]).contains("`max_age`"));
    assert!(MeanReversion::new(&Config::default()).is_ok());
}

#[test]
fn the_running_sums_score_as_the_two_passes_do() {
    let mut inst = Instrument::default();
    let mut seen = 0;
    for i in 0..400i64 {
        // A wandering mid with flat stretches, near the ES day's prices.
        let mid = fixed::from_units(4_800) + ((i * 37) % 23 - 11) * (i / 50 % 2) * 125_000_000;
        inst.push(mid, 60);
        let (fast, slow) = (inst.z_score(60), z_score(&inst.mids, 60));
        match (fast, slow) {
            (Some(a), Some(b)) => {
                assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "{i}: {a} against {b}"
                );
                seen += 1;
            }
            (None, None) => {}
            other => panic!("{i}: {other:?}"),
        }
    }
    assert!(seen > 100, "{seen}");
    // The sums after a load are those kept along the way.
    let kept = inst.sums;
    inst.resum();
    assert_eq!(inst.sums, kept);
}
