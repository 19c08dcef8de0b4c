use super::*;
use tradsys_sdk::{
    Fill, InstrumentDefinition, NewOrder, OrderCanceled, OrderRejected, OrderType, RejectReason,
    Rejection, TimeInForce,
};

const TICK: i64 = fixed::SCALE / 100;

fn strategy(extra: &[(&str, &str)]) -> MaCrossover {
    let mut entries = vec![
        ("fast", "2"),
        ("slow", "4"),
        ("band_bps", "0"),
        ("cooldown", "0"),
    ];
    entries.extend_from_slice(extra);
    let mut s = MaCrossover::new(&Config::new(entries)).unwrap();
    let def = InstrumentDefinition {
        id: 0,
        symbol: "SYN-A".into(),
        tick_size: TICK,
        lot_size: fixed::SCALE,
        price_precision: 2,
        size_precision: 0,
        multiplier: 1,
    };
    let mut out = Vec::new();
    s.on_market(&[MarketEvent::Instrument(def)], &mut out);
    assert!(out.is_empty());
    s
}

/// A one-tick-wide quote around `mid_cents` (mid = bid + half a tick).
fn quote(mid_cents: i64) -> MarketEvent {
    MarketEvent::Quote(Quote {
        instrument: 0,
        ts: 0,
        bid_price: mid_cents * TICK,
        bid_size: fixed::from_units(1000),
        ask_price: (mid_cents + 1) * TICK,
        ask_size: fixed::from_units(1000),
    })
}

/// Feed quotes one by one, returning every command sent.
fn feed(s: &mut MaCrossover, mids: &[i64]) -> Vec<OrderCommand> {
    let mut out = Vec::new();
    for &m in mids {
        s.on_market(&[quote(m)], &mut out);
    }
    out
}

fn submitted(cmd: &OrderCommand) -> NewOrder {
    match cmd {
        OrderCommand::Submit(o) => *o,
        other => panic!("expected a submit, got {other:?}"),
    }
}

fn fill(s: &mut MaCrossover, order: &NewOrder, quantity: i64, leaves: i64) {
    let event = OrderEvent::Filled(Fill {
        id: order.id,
        instrument: 0,
        ts: 0,
        side: order.side,
        price: order.price,
        quantity,
        leaves_quantity: leaves,
        maker: false,
    });
    s.on_order_events(&[event], &mut Vec::new());
}

fn reject(s: &mut MaCrossover, id: u64, reason: RejectReason) {
    let event = OrderEvent::Rejected(OrderRejected {
        id,
        instrument: 0,
        ts: 0,
        rejection: Rejection {
            reason,
            message: None,
        },
    });
    s.on_order_events(&[event], &mut Vec::new());
}

#[test]
fn nothing_is_sent_before_the_window_fills_or_without_a_cross() {
    let mut s = strategy(&[]);
    assert!(feed(&mut s, &[10000, 10010, 10020]).is_empty());
    // The window is full and the fast average is above the slow one, but
    // that is no cross: still nothing.
    assert!(feed(&mut s, &[10030, 10040, 10050]).is_empty());
}

#[test]
fn golden_cross_buys_at_the_ask_and_death_cross_sells_at_the_bid() {
    let mut s = strategy(&[("scale_bps", "0")]);
    // Falling: fast below slow. Then a jump: golden cross.
    assert!(feed(&mut s, &[10040, 10030, 10020, 10010]).is_empty());
    let out = feed(&mut s, &[10060]);
    assert_eq!(out.len(), 1);
    let buy = submitted(&out[0]);
    assert_eq!(buy.id, 1);
    assert_eq!(buy.side, Side::Buy);
    assert_eq!(buy.time_in_force, TimeInForce::Ioc);
    assert_eq!(buy.order_type, OrderType::Limit);
    assert_eq!(
        buy.price,
        10061 * TICK,
        "buys at the ask of the crossing quote"
    );
    assert_eq!(buy.quantity, fixed::from_units(100));
    fill(&mut s, &buy, buy.quantity, 0);

    // Keep rising: long already, nothing more (scaling disabled).
    assert!(feed(&mut s, &[10070, 10080]).is_empty());
    // A drop: death cross flips to short, selling twice the step at the bid.
    let out = feed(&mut s, &[10000]);
    assert_eq!(out.len(), 1);
    let sell = submitted(&out[0]);
    assert_eq!((sell.id, sell.side), (2, Side::Sell));
    assert_eq!(sell.time_in_force, TimeInForce::Ioc);
    assert_eq!(sell.price, 10000 * TICK);
    assert_eq!(sell.quantity, fixed::from_units(200));
}

#[test]
fn a_cross_counts_only_once_the_gap_leaves_the_band() {
    // After the fall, 10050 lifts the fast average 2.5 bps over the slow one.
    let series = [10040, 10030, 10020, 10010, 10050];
    let mut s = strategy(&[("band_bps", "5")]);
    assert!(feed(&mut s, &series).is_empty(), "inside the band");
    // 10100 opens the gap to 7.5 bps: now it is a golden cross.
    let out = feed(&mut s, &[10100]);
    assert_eq!(submitted(&out[0]).side, Side::Buy);
    // Without a band the smaller gap is already a cross.
    let mut s = strategy(&[("band_bps", "0")]);
    assert_eq!(feed(&mut s, &series).len(), 1);
}

#[test]
fn a_batch_is_traded_once_on_its_last_quote() {
    let mut s = strategy(&[("scale_bps", "0")]);
    feed(&mut s, &[10040, 10030, 10020, 10010]);
    // The cross comes at 10060, mid-batch; the batch ends at 10080.
    let batch: Vec<MarketEvent> = [10060, 10070, 10080].map(quote).to_vec();
    let mut out = Vec::new();
    s.on_market(&batch, &mut out);
    assert_eq!(out.len(), 1);
    let buy = submitted(&out[0]);
    assert_eq!((buy.side, buy.price), (Side::Buy, 10081 * TICK));
}

#[test]
fn partial_fill_is_topped_up_once_and_never_duplicated() {
    let mut s = strategy(&[("scale_bps", "0")]);
    feed(&mut s, &[10040, 10030, 10020, 10010]);
    let out = feed(&mut s, &[10060]);
    let buy = submitted(&out[0]);
    // While the order is in flight, further quotes send nothing.
    assert!(feed(&mut s, &[10070]).is_empty());
    // 40 units fill, the IOC rest is canceled.
    fill(&mut s, &buy, fixed::from_units(40), fixed::from_units(60));
    let canceled = OrderEvent::Canceled(OrderCanceled {
        id: buy.id,
        instrument: 0,
        ts: 0,
        canceled_quantity: fixed::from_units(60),
    });
    s.on_order_events(&[canceled], &mut Vec::new());
    let out = feed(&mut s, &[10080]);
    assert_eq!(out.len(), 1);
    let top_up = submitted(&out[0]);
    assert_eq!((top_up.id, top_up.side), (2, Side::Buy));
    assert_eq!(top_up.quantity, fixed::from_units(60));
    // Fully filled: at target, nothing more.
    fill(&mut s, &top_up, top_up.quantity, 0);
    assert!(feed(&mut s, &[10090, 10100]).is_empty());
    assert_eq!(s.keeper.position(0), fixed::from_units(100));
}

#[test]
fn widening_trend_scales_in_up_to_max_position_and_drops_a_rejected_add() {
    let mut s = strategy(&[("scale_bps", "5"), ("max_position", "300")]);
    feed(&mut s, &[10040, 10030, 10020, 10010]);
    let out = feed(&mut s, &[10060]);
    let first = submitted(&out[0]);
    assert_eq!(first.quantity, fixed::from_units(100));
    fill(&mut s, &first, first.quantity, 0);
    // A steep rise widens the gap well past 5 bps: add up to 300.
    let out = feed(&mut s, &[10100]);
    let add = submitted(&out[0]);
    assert_eq!(add.side, Side::Buy);
    assert_eq!(add.quantity, fixed::from_units(200));
    // The validator refuses the add-on: it is abandoned, not retried.
    reject(&mut s, add.id, RejectReason::PositionLimit);
    assert!(feed(&mut s, &[10110, 10120, 10130]).is_empty());
    assert_eq!(s.books[&0].target, fixed::from_units(100));
}

#[test]
fn rejected_flip_is_retried_in_half_clips_after_the_cooldown() {
    let mut s = strategy(&[("scale_bps", "0"), ("cooldown", "2")]);
    feed(&mut s, &[10040, 10030, 10020, 10010]);
    let buy = submitted(&feed(&mut s, &[10060])[0]);
    fill(&mut s, &buy, buy.quantity, 0);
    let out = feed(&mut s, &[10070, 10080, 10000]);
    let sell = submitted(&out[0]);
    assert_eq!(sell.quantity, fixed::from_units(200));
    reject(&mut s, sell.id, RejectReason::QuantityLimit);
    // A cooldown of two quote updates: the first waits, the second may trade.
    assert!(feed(&mut s, &[9980]).is_empty(), "cooling down");
    let out = feed(&mut s, &[9970]);
    let retry = submitted(&out[0]);
    assert_eq!(
        (retry.side, retry.quantity),
        (Side::Sell, fixed::from_units(100))
    );
}

#[test]
fn unanswered_order_is_canceled_when_stale() {
    let mut s = strategy(&[("scale_bps", "0")]);
    feed(&mut s, &[10040, 10030, 10020, 10010]);
    let buy = submitted(&feed(&mut s, &[10060])[0]);
    let out = feed(&mut s, &[10060; STALE_QUOTES as usize]);
    assert_eq!(out.len(), 1);
    assert!(matches!(&out[0], OrderCommand::Cancel(c) if c.id == buy.id));
    // The order had ended unseen: the cancel is refused as unknown and the
    // strategy tries again.
    reject(&mut s, buy.id, RejectReason::UnknownOrder);
    let out = feed(&mut s, &[10060]);
    assert_eq!(submitted(&out[0]).id, 2);
}

fn scripted_session(s: &mut MaCrossover, mids: &[i64]) -> Vec<String> {
    // Fill half of every order right away, and log everything sent.
    let mut log = Vec::new();
    for &m in mids {
        let mut out = Vec::new();
        s.on_market(&[quote(m)], &mut out);
        for cmd in &out {
            log.push(format!("{cmd:?}"));
            if let OrderCommand::Submit(o) = cmd {
                fill(s, o, o.quantity / 2, o.quantity - o.quantity / 2);
            }
        }
    }
    log
}

#[test]
fn saved_state_resumes_identically() {
    // A triangle wave with some wobble: plenty of crosses.
    let series: Vec<i64> = (0..200)
        .map(|i| 10000 + (i % 40 - 20i64).abs() * 5 + i % 3)
        .collect();
    let mut a = strategy(&[("scale_bps", "1")]);
    let before = scripted_session(&mut a, &series[..90]);
    assert!(!before.is_empty());
    let saved = a.save_state();
    let mut b = strategy(&[("scale_bps", "1")]);
    b.load_state(&saved).unwrap();
    assert_eq!(b.save_state(), saved);
    let after_a = scripted_session(&mut a, &series[90..]);
    let after_b = scripted_session(&mut b, &series[90..]);
    assert!(!after_a.is_empty());
    assert_eq!(after_a, after_b);
}

#[test]
fn garbage_state_is_refused_and_changes_nothing() {
    let mut s = strategy(&[]);
    feed(&mut s, &[10040, 10030, 10020, 10010, 10060]);
    let saved = s.save_state();
    for garbage in [
        &[][..],
        &[9, 1, 2, 3][..],
        &saved[..saved.len() - 1],
        &[saved.as_slice(), &[0]].concat(),
    ] {
        assert!(s.load_state(garbage).is_err());
        assert_eq!(s.save_state(), saved);
    }
}

#[test]
fn bad_config_names_the_key() {
    let err = |entries: &[(&str, &str)]| MaCrossover::new(&Config::new(entries.to_vec())).err();
    assert!(err(&[("fast", "x")]).unwrap().contains("`fast`"));
    assert!(
        err(&[("fast", "5"), ("slow", "5")])
            .unwrap()
            .contains("`slow`")
    );
    assert!(err(&[("quantity", "0")]).unwrap().contains("`quantity`"));
    assert!(
        err(&[("max_position", "50")])
            .unwrap()
            .contains("`max_position`")
    );
    assert!(err(&[("scale_bps", "-1")]).unwrap().contains("`scale_bps`"));
    assert!(err(&[]).is_none());
}
