//! Reconciliation natively: what fix-venue tells the host (the SDK's
//! stand-in records it) of the venue's orders, positions and the status of
//! its own orders, and what it does with the host's decision.

use tradsys_sdk::{
    CancelOrder, Config, NetworkConnector, NetworkOutput, OrderCommand, OrderEvent, Side, fixed,
    reconcile,
};

use super::{T0, from_venue, messages, with_order};
use crate::FixVenue;
use tradsys_fix::Message;

/// A mass status report (AF's answer) of a working order of another
/// session: ClOrdID `OLD-3`, sell 2 left of 3 at 4701.
fn stranger() -> Message {
    Message::new("8")
        .with(37, "O9")
        .with(11, "OLD-3")
        .with(17, "E9")
        .with(150, "I")
        .with(39, "1")
        .with(54, "2")
        .with(55, "ESH4")
        .with(38, 3)
        .with(40, "2")
        .with(44, "4701")
        .with(151, "2")
        .with(14, "1")
        .with(6, "4701")
        .with(584, "ms1")
}

#[test]
fn a_working_order_the_host_does_not_know_is_canceled_kept_or_adopted_as_the_host_says() {
    // Cancel (the stand-in's default answer).
    let (mut v, _) = with_order();
    reconcile::take_calls();
    let mut out = NetworkOutput::default();
    v.received(&from_venue(3, stranger()), T0, &mut out);
    let cancel = messages(&out.send).remove(0);
    assert_eq!(
        (
            cancel.msg_type(),
            cancel.get(41),
            cancel.get(54),
            cancel.get(38)
        ),
        ("F", Some("OLD-3"), Some("2"), Some("2"))
    );
    assert!(out.reports.is_empty(), "nothing for the host to book");
    let calls = reconcile::take_calls();
    let [reconcile::Call::UnknownOrder(order, reconcile::Decision::Cancel)] = &calls[..] else {
        panic!("{calls:?}");
    };
    assert_eq!(
        (
            order.venue_id.as_str(),
            order.instrument,
            order.side,
            order.price,
            order.leaves_quantity,
            order.filled_quantity
        ),
        (
            "OLD-3",
            Some(0),
            Side::Sell,
            fixed::parse("4701"),
            fixed::from_units(2),
            fixed::from_units(1)
        )
    );

    // Keep: nothing sent.
    let (mut v, _) = with_order();
    reconcile::set_decision(reconcile::Decision::Keep);
    let mut out = NetworkOutput::default();
    v.received(&from_venue(3, stranger()), T0, &mut out);
    assert!(out.send.is_empty(), "kept");

    // Adopt: the order is the host's from now on.
    let (mut v, _) = with_order();
    reconcile::set_decision(reconcile::Decision::Adopt(1 << 62));
    let mut out = NetworkOutput::default();
    v.received(&from_venue(3, stranger()), T0, &mut out);
    reconcile::set_decision(reconcile::Decision::Cancel);
    assert!(out.send.is_empty(), "adopted, not canceled");
    let fill = Message::new("8")
        .with(37, "O9")
        .with(11, "OLD-3")
        .with(17, "E10")
        .with(150, "F")
        .with(39, "2")
        .with(54, "2")
        .with(55, "ESH4")
        .with(31, "4701")
        .with(32, "2")
        .with(151, "0")
        .with(14, "3")
        .with(6, "4701");
    let mut out = NetworkOutput::default();
    v.received(&from_venue(4, fill), T0, &mut out);
    let [OrderEvent::Filled(f)] = &out.reports[..] else {
        panic!("{:?}", out.reports);
    };
    assert_eq!(
        (f.id, f.side, f.quantity, f.leaves_quantity),
        (1 << 62, Side::Sell, fixed::from_units(2), 0)
    );
    // A cancel of an adopted order names its ClOrdID at the venue.
    let (mut v, _) = with_order();
    reconcile::set_decision(reconcile::Decision::Adopt(1 << 62));
    v.received(
        &from_venue(3, stranger()),
        T0,
        &mut NetworkOutput::default(),
    );
    reconcile::set_decision(reconcile::Decision::Cancel);
    let mut out = NetworkOutput::default();
    let cancel = OrderCommand::Cancel(CancelOrder {
        id: 1 << 62,
        instrument: 0,
    });
    v.submit_orders(&[cancel], T0, &mut out);
    let sent = messages(&out.send);
    assert_eq!((sent[0].msg_type(), sent[0].get(41)), ("F", Some("OLD-3")));

    // The decision moved to the host: the old key says where.
    let old = FixVenue::new(&Config::new([
        ("sender_comp_id", "TRADSYS"),
        ("target_comp_id", "VENUE"),
        ("symbols", "ESH4"),
        ("unknown_orders", "keep"),
    ]));
    let Err(why) = old else { panic!("accepted") };
    assert!(why.contains("[venue] unknown_orders"), "{why}");
}

#[test]
fn positions_and_missed_fills_are_told_to_the_host() {
    let (mut v, cl) = with_order();
    reconcile::take_calls();
    // The venue's positions: long 1 in ESH4, and the end of its answer.
    let position = Message::new("AP")
        .with(721, "P1")
        .with(710, "pos1")
        .with(728, "0")
        .with(55, "ESH4")
        .with(702, 1)
        .with(703, "TQ")
        .with(704, "3")
        .with(705, "2")
        .with(912, "Y");
    let mut out = NetworkOutput::default();
    v.received(&from_venue(3, position), T0, &mut out);
    // The order's status: 1 of 2 filled, which was never heard of.
    let status = Message::new("8")
        .with(37, "O1")
        .with(11, &cl)
        .with(17, "E5")
        .with(150, "I")
        .with(39, "1")
        .with(54, "1")
        .with(55, "ESH4")
        .with(151, "1")
        .with(14, "1")
        .with(6, "4700.25");
    v.received(&from_venue(4, status), T0, &mut out);
    let calls = reconcile::take_calls();
    assert!(
        matches!(&calls[..], [
            reconcile::Call::Position(0, q),
            reconcile::Call::Difference(7, text),
        ] if *q == fixed::from_units(1) && text.contains("filled 1 more")),
        "{calls:?}"
    );
    assert!(
        out.reports
            .iter()
            .any(|r| matches!(r, OrderEvent::Filled(f) if f.id == 7 && f.quantity == fixed::from_units(1))),
        "{:?}",
        out.reports
    );
    // No position at all: every symbol of the session is flat there.
    let none = Message::new("AP")
        .with(721, "P2")
        .with(710, "pos2")
        .with(728, "2");
    v.received(&from_venue(5, none), T0, &mut NetworkOutput::default());
    let calls = reconcile::take_calls();
    assert!(
        matches!(&calls[..], [reconcile::Call::Position(0, 0)]),
        "{calls:?}"
    );
}
