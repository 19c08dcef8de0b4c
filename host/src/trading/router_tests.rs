//! The router's tests, with a hand-written matcher.

use super::*;
use crate::bindings::types::{Fill, InstrumentDefinition, MarketEvent, OrderAccepted, TimeInForce};

const U: i64 = 1_000_000_000;

fn market() -> Market {
    let mut market = Market::default();
    let mut events = vec![MarketEvent::Instrument(InstrumentDefinition {
        id: 7,
        symbol: "X".into(),
        tick_size: U / 100,
        lot_size: U,
        price_precision: 2,
        size_precision: 0,
        multiplier: 1,
    })];
    market.ingest(&mut events);
    market
}

fn buy(id: u64, price: i64, quantity: i64) -> OrderCommand {
    OrderCommand::Submit(NewOrder {
        id,
        instrument: 0,
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        price,
        quantity,
    })
}

/// A matcher that accepts every new order and fills the first one in full.
fn accept_and_fill_first(commands: &[OrderCommand]) -> Result<Vec<OrderEvent>, Fault> {
    let mut reports = Vec::new();
    for (n, command) in commands.iter().enumerate() {
        let OrderCommand::Submit(o) = command else {
            continue;
        };
        reports.push(OrderEvent::Accepted(OrderAccepted {
            id: o.id,
            instrument: o.instrument,
            ts: 0,
        }));
        if n == 0 {
            reports.push(OrderEvent::Filled(Fill {
                id: o.id,
                instrument: o.instrument,
                ts: 0,
                side: o.side,
                price: o.price,
                quantity: o.quantity,
                leaves_quantity: 0,
                maker: true,
            }));
        }
    }
    Ok(reports)
}

#[test]
fn orders_get_host_ids_and_reports_come_back_in_the_strategys_ids() {
    let market = market();
    let mut router = OrderRouter::new(2);
    // Both strategies use client id 1; the matcher sees two host ids.
    let a = router.approve(0, vec![buy(1, 100 * U, U)]);
    let b = router.approve(1, vec![buy(1, 99 * U, 2 * U)]);
    assert_ne!(a[0].id(), b[0].id());
    router.execute(a, &market, 5, "m", accept_and_fill_first);
    router.execute(b, &market, 5, "m", |c| {
        accept_and_fill_first(c).map(|r| r.into_iter().take(1).collect())
    });
    let reports = router.take_pending(0, None);
    assert!(matches!(&reports[..], [OrderEvent::Accepted(_), OrderEvent::Filled(f)] if f.id == 1));
    assert_eq!(router.accounts[0].ledger.holding(0).quantity, U);
    assert_eq!(router.counts.fills, 1);
    // The second strategy's order works: the first one's ids cannot touch it.
    let cancel = OrderCommand::Cancel(CancelOrder {
        id: 1,
        instrument: 0,
    });
    assert!(router.check(1, &cancel, &market).is_ok());
    let refused = router.check(0, &cancel, &market).unwrap_err();
    assert_eq!(refused.reason, RejectReason::UnknownOrder);
    // A client id is used once.
    let again = router.check(0, &buy(1, U, U), &market).unwrap_err();
    assert_eq!(again.reason, RejectReason::InvalidOrder);
}

#[test]
fn a_failing_matcher_halts_trading_and_cancels_every_working_order() {
    let market = market();
    let mut router = OrderRouter::new(1);
    let first = router.approve(0, vec![buy(1, 100 * U, U), buy(2, 99 * U, U)]);
    router.execute(first, &market, 1, "m", |c| {
        accept_and_fill_first(c).map(|r| {
            r.into_iter()
                .filter(|e| !matches!(e, OrderEvent::Filled(_)))
                .collect()
        })
    });
    router.take_pending(0, None);
    let next = router.approve(0, vec![buy(3, 98 * U, U)]);
    router.execute(next, &market, 2, "m", |_| {
        Err(Fault::Other {
            plugin: "m".into(),
            reason: "gone".into(),
        })
    });
    let reports = router.take_pending(0, None);
    let rejected: Vec<u64> = reports
        .iter()
        .filter(|r| matches!(r, OrderEvent::Rejected(_)))
        .map(OrderEvent::id)
        .collect();
    let canceled: Vec<u64> = reports
        .iter()
        .filter(|r| matches!(r, OrderEvent::Canceled(_)))
        .map(OrderEvent::id)
        .collect();
    assert_eq!((rejected, canceled), (vec![3], vec![1, 2]));
    assert!(
        router
            .counts
            .halted
            .as_ref()
            .unwrap()
            .to_string()
            .contains("matcher m failed")
    );
    let later = router.check(0, &buy(4, U, U), &market).unwrap_err();
    assert_eq!(later.reason, RejectReason::InstrumentHalted);
    let mut asked = false;
    router.feed(&[], &market, 3, "m", || {
        asked = true;
        Ok(Vec::new())
    });
    assert!(!asked, "a halted router gives the matcher no more feed");
}

#[test]
fn fills_from_the_feed_are_booked_as_the_matcher_reports_them() {
    let market = market();
    let mut router = OrderRouter::new(1);
    let commands = router.approve(0, vec![buy(1, 99 * U, 2 * U)]);
    let host_id = commands[0].id();
    router.execute(commands, &market, 1, "m", |c| {
        Ok(vec![OrderEvent::Accepted(OrderAccepted {
            id: c[0].id(),
            instrument: 0,
            ts: 1,
        })])
    });
    router.take_pending(0, None);
    router.feed(&[], &market, 2, "m", || {
        Ok(vec![OrderEvent::Filled(Fill {
            id: host_id,
            instrument: 0,
            ts: 2,
            side: Side::Buy,
            price: 99 * U,
            quantity: U,
            leaves_quantity: U,
            maker: true,
        })])
    });
    let reports = router.take_pending(0, None);
    assert!(
        matches!(reports.as_slice(), [OrderEvent::Filled(f)] if f.id == 1 && f.maker),
        "{reports:?}"
    );
    assert_eq!(router.accounts[0].ledger.holding(0).quantity, U);
}

#[test]
fn an_order_in_flight_arrives_after_the_order_latency_and_its_reports_after_the_response_latency() {
    let market = market();
    let settings = crate::config::LatencySettings {
        order_ns: 100,
        response_ns: 7,
        ..Default::default()
    };
    let mut router = OrderRouter::new(1).with_latency(Latency::new(&settings));
    // Sent at 1_000: it arrives at 1_100, and is working (pending) already.
    let sent = router.approve(0, vec![buy(1, 100 * U, U)]);
    assert_eq!(router.send(sent, &market, 1_000), [1_100]);
    assert_eq!(router.next_arrival(), Some(1_100));
    let cancel = OrderCommand::Cancel(CancelOrder {
        id: 1,
        instrument: 0,
    });
    assert!(
        router.check(0, &cancel, &market).is_ok(),
        "in flight is working"
    );
    assert_eq!(router.risk_context(0, &market, 1_000).open_orders.len(), 1);
    assert!(router.arrived(Some(1_100)).is_empty(), "not before 1_100");
    let arrived = router.arrived(Some(1_101));
    assert_eq!(arrived.len(), 1);
    assert_eq!(arrived[0].0, 1_100);
    let (_, commands) = arrived.into_iter().next().unwrap();
    router.execute(commands, &market, 1_100, "m", accept_and_fill_first);
    // Its acknowledgement and fill reach the strategy 7 ns later.
    assert!(router.take_pending(0, Some(1_106)).is_empty());
    let reports = router.take_pending(0, Some(1_107));
    assert!(
        matches!(
            reports.as_slice(),
            [OrderEvent::Accepted(_), OrderEvent::Filled(_)]
        ),
        "{reports:?}"
    );
}

#[test]
fn a_strategy_that_leaves_takes_its_orders_in_flight_with_it() {
    let market = market();
    let mut router = OrderRouter::new(2);
    let mine = router.approve(0, vec![buy(1, 100 * U, U)]);
    let theirs = router.approve(1, vec![buy(1, 99 * U, U)]);
    router.send(mine, &market, 5);
    router.send(theirs, &market, 5);
    assert_eq!(router.recall(0, &market, 6), 1);
    assert_eq!(router.in_flight(), 1, "the other strategy's order flies on");
    let reports = router.take_pending(0, None);
    assert!(
        matches!(reports.as_slice(), [OrderEvent::Canceled(c)] if c.id == 1),
        "{reports:?}"
    );
    assert!(
        router.cancel_all(0).is_empty(),
        "nothing of it at the venue"
    );
}

#[test]
fn the_feeds_halt_refuses_new_orders() {
    let mut market = market();
    let mut events = vec![MarketEvent::Status(crate::bindings::types::StatusChange {
        instrument: 7,
        ts: 3,
        status: TradingStatus::Halted,
    })];
    market.ingest(&mut events);
    let mut router = OrderRouter::new(1);
    let refused = router.check(0, &buy(1, U, U), &market).unwrap_err();
    assert_eq!(refused.reason, RejectReason::InstrumentHalted);
    assert!(
        refused.message.as_deref().unwrap().contains("X is halted"),
        "{refused:?}"
    );
}

#[test]
fn a_cancel_that_races_a_fill_is_refused_by_the_venue_and_the_strategy_hears_it() {
    let market = market();
    let mut router = OrderRouter::new(1);
    let sent = router.approve(0, vec![buy(1, 100 * U, U)]);
    router.send(sent, &market, 10);
    // The strategy cancels it while it flies; the cancel follows it.
    let cancel = OrderCommand::Cancel(CancelOrder {
        id: 1,
        instrument: 0,
    });
    assert!(router.check(0, &cancel, &market).is_ok());
    let cancel = router.approve(0, vec![cancel]);
    router.send(cancel, &market, 11);
    // The order arrives and fills in full; the cancel arrives after it.
    for (at, commands) in router.arrived(Some(11)) {
        router.execute(commands, &market, at, "m", accept_and_fill_first);
    }
    for (at, commands) in router.arrived(None) {
        router.execute(commands, &market, at, "m", |c| {
            Ok(vec![OrderEvent::Rejected(OrderRejected {
                id: c[0].id(),
                instrument: 0,
                ts: 11,
                rejection: Rejection {
                    reason: RejectReason::UnknownOrder,
                    message: None,
                },
            })])
        });
    }
    let reports = router.take_pending(0, None);
    assert!(
        matches!(
            reports.as_slice(),
            [OrderEvent::Accepted(_), OrderEvent::Filled(_), OrderEvent::Rejected(r)]
                if r.id == 1 && r.rejection.reason == RejectReason::UnknownOrder
        ),
        "{reports:?}"
    );
    assert!(router.orders.is_empty(), "forgotten once answered");
    assert_eq!(router.accounts[0].ledger.holding(0).quantity, U);
}

#[test]
fn a_refused_orders_id_cannot_be_used_again() {
    let market = market();
    let mut router = OrderRouter::new(1);
    // Refused by the host (a quantity off the lot): its id is used.
    let refused = router
        .check(0, &buy(5, 100 * U, U / 2), &market)
        .unwrap_err();
    assert_eq!(refused.reason, RejectReason::InvalidOrder);
    let again = router.check(0, &buy(5, 100 * U, U), &market).unwrap_err();
    assert!(
        again.message.as_deref().unwrap().contains("already used"),
        "{again:?}"
    );
    // Passed by the host, then refused by a validator: used too.
    assert!(router.check(0, &buy(6, 100 * U, U), &market).is_ok());
    assert!(router.check(0, &buy(6, 100 * U, U), &market).is_err());
}

#[test]
fn an_adopted_venue_order_is_its_strategys_working_order_and_fills() {
    let market = market();
    let mut router = OrderRouter::new(2);
    let id = crate::engine::reconcile::ADOPTED_BASE + 1;
    let client = router.adopt(1, id, 0, Side::Sell, Some(101 * U), 2 * U, U, 5);
    assert_eq!(client, u64::MAX - 1);
    // The strategy's validators see it working; the strategy may not reuse
    // its id.
    let context = router.risk_context(1, &market, 6);
    assert!(
        matches!(&context.open_orders[..], [o] if o.id == client && o.leaves_quantity == 2 * U),
        "{:?}",
        context.open_orders
    );
    assert!(router.check(1, &buy(client, 100 * U, U), &market).is_err());
    // The venue fills it: the fill is checked against it and booked.
    let fill = |quantity, price| {
        OrderEvent::Filled(Fill {
            id,
            instrument: 0,
            ts: 7,
            side: Side::Sell,
            price,
            quantity,
            leaves_quantity: 2 * U - quantity,
            maker: true,
        })
    };
    assert!(
        router
            .venue_report(fill(3 * U, 101 * U), &[], &market, 7, "v")
            .is_err(),
        "overfill"
    );
    assert!(
        router
            .venue_report(fill(U, 100 * U), &[], &market, 7, "v")
            .is_err(),
        "below its limit"
    );
    router
        .venue_report(fill(U, 101 * U), &[], &market, 7, "v")
        .unwrap();
    assert_eq!(router.accounts[1].ledger.holding(0).quantity, -U);
    assert_eq!(router.accounts[0].ledger.holding(0).quantity, 0);
    let reports = router.take_pending(1, None);
    assert!(
        matches!(&reports[..], [OrderEvent::Filled(f)] if f.id == client),
        "{reports:?}"
    );
    // The kill switch cancels it with the rest.
    let cancels = router.operator_halt(true, 8);
    assert!(cancels.iter().any(|c| c.id() == id), "{cancels:?}");
}
