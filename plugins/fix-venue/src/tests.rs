//! The FIX codec, session and application layers, natively. The FIX rules
//! themselves are checked against QuickFIX in the host's end-to-end tests
//! (`tests/all/live.rs`); these pin what each layer does with its input.

use tradsys_sdk::{
    CancelOrder, Config, MarketEvent, ModifyOrder, NetworkConnector, NetworkOutput, NewOrder,
    OrderCommand, OrderEvent, OrderType, Side, TimeInForce, fixed,
};

use crate::FixVenue;
use tradsys_fix::time;
use tradsys_fix::{Decoder, Garbled, Message};

mod reconcile;

pub(crate) const T0: u64 = 1_701_475_200_000_000_000; // 2023-12-02 00:00:00 UTC
pub(crate) const SEC: u64 = 1_000_000_000;

pub(crate) fn venue() -> FixVenue {
    FixVenue::new(&Config::new([
        ("sender_comp_id", "TRADSYS"),
        ("target_comp_id", "VENUE"),
        ("heartbeat_s", "5"),
        ("symbols", "ESH4"),
        ("tick.ESH4", "0.25"),
    ]))
    .unwrap()
}

/// Every message in `bytes`.
pub(crate) fn messages(bytes: &[u8]) -> Vec<Message> {
    let mut decoder = Decoder::default();
    decoder.push(bytes);
    let mut out = Vec::new();
    while let Some(m) = decoder.next_message() {
        out.push(m.expect("we send whole messages"));
    }
    out
}

/// A message from the venue with sequence number `seq`.
pub(crate) fn from_venue(seq: u64, message: Message) -> Vec<u8> {
    let mut wire = Message::new(message.msg_type())
        .with(49, "VENUE")
        .with(56, "TRADSYS")
        .with(34, seq)
        .with(52, time::format(T0));
    wire.fields.extend(message.fields.into_iter().skip(1));
    wire.encode("FIX.4.4")
}

/// A venue logged on: our Logon answered with its own (seq 1).
pub(crate) fn logged_on() -> (FixVenue, NetworkOutput) {
    let mut v = venue();
    let mut out = NetworkOutput::default();
    v.connected(T0, &mut out);
    let mut out = NetworkOutput::default();
    v.received(
        &from_venue(1, Message::new("A").with(98, 0).with(108, 5)),
        T0,
        &mut out,
    );
    (v, out)
}

pub(crate) fn submit(id: u64, side: Side, price: &str, qty: i64) -> OrderCommand {
    OrderCommand::Submit(NewOrder {
        id,
        instrument: 0,
        side,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        price: fixed::parse(price).unwrap(),
        quantity: fixed::from_units(qty),
    })
}

/// Logged on, ESH4 defined by a snapshot, and order 7 sent: its ClOrdID.
pub(crate) fn with_order() -> (FixVenue, String) {
    let (mut v, _) = logged_on();
    let mut out = NetworkOutput::default();
    let snapshot = Message::new("W")
        .with(55, "ESH4")
        .with(268, 2)
        .with(269, 0)
        .with(270, "4700.25")
        .with(271, 3)
        .with(269, 1)
        .with(270, "4700.5")
        .with(271, 4);
    v.received(&from_venue(2, snapshot), T0, &mut out);
    let mut out = NetworkOutput::default();
    v.submit_orders(&[submit(7, Side::Buy, "4700.25", 2)], T0 + SEC, &mut out);
    let sent = messages(&out.send);
    assert_eq!(sent.len(), 1);
    let d = &sent[0];
    assert_eq!(d.msg_type(), "D");
    assert_eq!(d.get(55), Some("ESH4"));
    assert_eq!(d.get(54), Some("1"));
    assert_eq!(d.get(44), Some("4700.25"));
    assert_eq!(d.get(38), Some("2"));
    assert_eq!(d.get(40), Some("2"));
    assert_eq!(d.get(59), Some("1"));
    (v, d.get(11).unwrap().to_string())
}

fn report(
    cl: &str,
    exec_id: &str,
    exec_type: &str,
    status: &str,
    extra: &[(u32, &str)],
) -> Message {
    let mut m = Message::new("8")
        .with(37, "O1")
        .with(11, cl)
        .with(17, exec_id)
        .with(150, exec_type)
        .with(39, status)
        .with(54, 1)
        .with(55, "ESH4");
    for (tag, value) in extra {
        m.push(*tag, value);
    }
    m
}

#[test]
fn a_message_round_trips_with_its_length_and_checksum() {
    let m = Message::new("D").with(11, "a-1").with(55, "ESH4");
    let wire = m.encode("FIX.4.4");
    let text = String::from_utf8(wire.clone())
        .unwrap()
        .replace('\u{1}', "|");
    assert!(
        text.starts_with("8=FIX.4.4|9=20|35=D|11=a-1|55=ESH4|10=255|"),
        "{text}"
    );
    let back = messages(&wire);
    assert_eq!(back[0].fields, m.fields);
    assert_eq!(back[0].begin, "FIX.4.4");
}

#[test]
fn a_message_in_pieces_waits_for_the_rest() {
    let wire = Message::new("0").with(112, "x").encode("FIX.4.4");
    let mut decoder = Decoder::default();
    for byte in &wire[..wire.len() - 1] {
        decoder.push(std::slice::from_ref(byte));
        assert!(decoder.next_message().is_none());
    }
    decoder.push(&wire[wire.len() - 1..]);
    assert_eq!(decoder.next_message().unwrap().unwrap().get(112), Some("x"));
}

#[test]
fn garbled_input_is_dropped_and_the_stream_goes_on() {
    let good = Message::new("0").encode("FIX.4.4");
    let mut bad_sum = Message::new("1").with(112, "t").encode("FIX.4.4");
    let n = bad_sum.len();
    bad_sum[n - 2] = if bad_sum[n - 2] == b'9' { b'0' } else { b'9' };
    let mut stream = b"junk".to_vec();
    stream.extend_from_slice(&bad_sum);
    stream.extend_from_slice(b"8=FIX.4.4\x019=zz\x0135=0\x0110=000\x01");
    stream.extend_from_slice(&good);
    let mut decoder = Decoder::default();
    decoder.push(&stream);
    let mut seen = Vec::new();
    while let Some(next) = decoder.next_message() {
        seen.push(next);
    }
    assert_eq!(seen[0], Err(Garbled::Skipped(4)));
    assert!(
        matches!(&seen[1], Err(Garbled::Frame(why)) if why.contains("CheckSum")),
        "{seen:?}"
    );
    assert!(
        matches!(&seen[2], Err(Garbled::Frame(why)) if why.contains("BodyLength")),
        "{seen:?}"
    );
    assert_eq!(seen[3].as_ref().unwrap().msg_type(), "0");
    assert_eq!(seen.len(), 4);
}

#[test]
fn timestamps_read_and_write_as_fix_utc() {
    assert_eq!(time::format(T0 + 1_500_000_000), "20231202-00:00:01.500");
    assert_eq!(
        time::parse("20231202-00:00:01.500"),
        Some(T0 + 1_500_000_000)
    );
    assert_eq!(time::parse("20231202-00:00:01"), Some(T0 + SEC));
    assert_eq!(
        time::parse("20231202-00:00:01.000000007"),
        Some(T0 + SEC + 7)
    );
    assert_eq!(time::parse("20231302-00:00:01"), None);
    assert_eq!(time::parse("2023120200:00:01"), None);
}

#[test]
fn it_logs_on_then_asks_for_market_data_and_order_status() {
    let mut v = venue();
    let mut out = NetworkOutput::default();
    v.connected(T0, &mut out);
    let logon = messages(&out.send);
    assert_eq!(logon.len(), 1);
    let logon = &logon[0];
    assert_eq!(logon.msg_type(), "A");
    assert_eq!(
        (logon.get(49), logon.get(56)),
        (Some("TRADSYS"), Some("VENUE"))
    );
    assert_eq!(
        (logon.get(34), logon.get(98), logon.get(108)),
        (Some("1"), Some("0"), Some("5"))
    );
    let (_, out) = logged_on();
    let sent = messages(&out.send);
    let types: Vec<&str> = sent.iter().map(Message::msg_type).collect();
    assert_eq!(types, ["V", "AF", "AN"]);
    assert_eq!(
        (sent[2].get(724), sent[2].get(715)),
        (Some("0"), Some("20231202"))
    );
    assert_eq!(sent[0].get(34), Some("2"));
    assert_eq!(sent[0].get(146), Some("1"));
    assert_eq!(sent[0].get(55), Some("ESH4"));
}

#[test]
fn orders_before_the_logon_are_refused() {
    let mut v = venue();
    let mut out = NetworkOutput::default();
    v.submit_orders(&[submit(1, Side::Buy, "1", 1)], T0, &mut out);
    assert!(out.send.is_empty());
    assert!(matches!(&out.reports[..], [OrderEvent::Rejected(r)] if r.id == 1));
}

#[test]
fn heartbeats_and_test_requests_keep_the_session_alive_or_end_it() {
    let (mut v, _) = logged_on();
    let mut out = NetworkOutput::default();
    v.tick(T0 + 5 * SEC, &mut out);
    assert_eq!(messages(&out.send)[0].msg_type(), "0");
    let mut out = NetworkOutput::default();
    v.tick(T0 + 6 * SEC, &mut out);
    let test = messages(&out.send);
    assert_eq!(test[0].msg_type(), "1");
    let mut out = NetworkOutput::default();
    v.tick(T0 + 13 * SEC, &mut out);
    let close = out.close.expect("silent venue");
    assert!(
        close.reconnect && close.reason.contains("TestRequest"),
        "{}",
        close.reason
    );
    // Its TestRequest is answered with its id.
    let (mut v, _) = logged_on();
    let mut out = NetworkOutput::default();
    v.received(
        &from_venue(2, Message::new("1").with(112, "abc")),
        T0,
        &mut out,
    );
    let answer = messages(&out.send);
    assert_eq!(
        (answer[0].msg_type(), answer[0].get(112)),
        ("0", Some("abc"))
    );
}

#[test]
fn a_gap_asks_for_a_resend_once_and_a_low_number_ends_the_session() {
    let (mut v, _) = logged_on();
    let mut out = NetworkOutput::default();
    v.received(&from_venue(5, Message::new("0")), T0, &mut out);
    v.received(&from_venue(6, Message::new("0")), T0, &mut out);
    let sent = messages(&out.send);
    assert_eq!(sent.len(), 1, "one ResendRequest for the gap");
    assert_eq!(
        (sent[0].msg_type(), sent[0].get(7), sent[0].get(16)),
        ("2", Some("2"), Some("0"))
    );
    // The venue fills the gap: the session goes on at 5.
    let mut out = NetworkOutput::default();
    let mut fill = Message::new("4").with(123, "Y").with(36, 5);
    fill.push(43, "Y");
    v.received(&from_venue(2, fill), T0, &mut out);
    v.received(&from_venue(5, Message::new("0")), T0, &mut out);
    assert!(out.close.is_none());
    assert_eq!(v.session.next_in, 6);
    // A duplicate marked PossDup is ignored; without the mark it ends the session.
    let mut dup = Message::new("0");
    dup.push(43, "Y");
    v.received(&from_venue(3, dup), T0, &mut out);
    assert!(out.close.is_none());
    v.received(&from_venue(3, Message::new("0")), T0, &mut out);
    let close = out.close.expect("too low");
    assert!(!close.reconnect);
    assert!(
        close
            .reason
            .contains("MsgSeqNum too low, expecting 6 but received 3"),
        "{}",
        close.reason
    );
    assert_eq!(messages(&out.send).last().unwrap().msg_type(), "5");
}

#[test]
fn a_resend_request_gets_orders_again_as_possdup_and_gap_fills_for_the_rest() {
    let (mut v, _) = with_order();
    // Sent so far: 1 Logon, 2 V, 3 AF, 4 AN, 5 D.
    let mut out = NetworkOutput::default();
    v.received(
        &from_venue(3, Message::new("2").with(7, 1).with(16, 0)),
        T0 + 2 * SEC,
        &mut out,
    );
    let again = messages(&out.send);
    let summary: Vec<(String, Option<&str>, Option<&str>)> = again
        .iter()
        .map(|m| (m.msg_type().to_string(), m.get(34), m.get(43)))
        .collect();
    assert_eq!(
        summary,
        [
            ("4".to_string(), Some("1"), Some("Y")),
            ("V".to_string(), Some("2"), Some("Y")),
            ("AF".to_string(), Some("3"), Some("Y")),
            ("AN".to_string(), Some("4"), Some("Y")),
            ("D".to_string(), Some("5"), Some("Y")),
        ]
    );
    assert_eq!(again[0].get(36), Some("2"));
    assert_eq!(again[4].get(122), Some(time::format(T0 + SEC).as_str()));
}

#[test]
fn a_wrong_compid_is_rejected_and_ends_the_session() {
    let (mut v, _) = logged_on();
    let mut out = NetworkOutput::default();
    let wire = Message::new("0")
        .with(49, "SOMEONE")
        .with(56, "TRADSYS")
        .with(34, 2)
        .with(52, time::format(T0))
        .encode("FIX.4.4");
    v.received(&wire, T0, &mut out);
    let sent = messages(&out.send);
    assert_eq!((sent[0].msg_type(), sent[0].get(373)), ("3", Some("9")));
    assert_eq!(sent[1].msg_type(), "5");
    assert!(out.close.unwrap().reason.contains("CompID problem"));
}

#[test]
fn execution_reports_become_order_events_once() {
    let (mut v, cl) = with_order();
    let mut out = NetworkOutput::default();
    v.received(
        &from_venue(
            3,
            report(&cl, "E1", "0", "0", &[(151, "2"), (14, "0"), (6, "0")]),
        ),
        T0,
        &mut out,
    );
    let fill = report(
        &cl,
        "E2",
        "F",
        "1",
        &[
            (31, "4700.25"),
            (32, "1"),
            (151, "1"),
            (14, "1"),
            (6, "4700.25"),
            (851, "1"),
        ],
    );
    v.received(&from_venue(4, fill.clone()), T0, &mut out);
    // The same fill resent (PossDup, a new number) is not booked again.
    let mut again = fill;
    again.push(43, "Y");
    v.received(&from_venue(5, again), T0, &mut out);
    assert_eq!(out.reports.len(), 2, "{:?}", out.reports);
    assert!(matches!(&out.reports[0], OrderEvent::Accepted(a) if a.id == 7 && a.instrument == 0));
    let OrderEvent::Filled(f) = &out.reports[1] else {
        panic!("{:?}", out.reports)
    };
    assert_eq!(
        (f.id, f.price, f.quantity, f.leaves_quantity, f.maker),
        (
            7,
            fixed::parse("4700.25").unwrap(),
            fixed::from_units(1),
            fixed::from_units(1),
            true
        )
    );
    assert_eq!(f.ts, T0);
}

#[test]
fn cancels_and_replaces_name_the_order_the_venue_knows() {
    let (mut v, cl) = with_order();
    let mut out = NetworkOutput::default();
    v.received(
        &from_venue(3, report(&cl, "E1", "0", "0", &[])),
        T0,
        &mut out,
    );
    let mut out = NetworkOutput::default();
    let modify = OrderCommand::Modify(ModifyOrder {
        id: 7,
        instrument: 0,
        price: fixed::parse("4700").unwrap(),
        quantity: fixed::from_units(3),
    });
    v.submit_orders(&[modify], T0, &mut out);
    let g = messages(&out.send).remove(0);
    assert_eq!(
        (g.msg_type(), g.get(41), g.get(44), g.get(38)),
        ("G", Some(cl.as_str()), Some("4700"), Some("3"))
    );
    let replaced_id = g.get(11).unwrap().to_string();
    assert_eq!(replaced_id, format!("{cl}.1"));
    let mut out = NetworkOutput::default();
    v.received(
        &from_venue(
            4,
            report(
                &replaced_id,
                "E2",
                "5",
                "0",
                &[(44, "4700"), (38, "3"), (151, "3")],
            ),
        ),
        T0,
        &mut out,
    );
    assert!(
        matches!(&out.reports[..], [OrderEvent::Modified(m)] if m.leaves_quantity == fixed::from_units(3))
    );
    let mut out = NetworkOutput::default();
    v.submit_orders(
        &[OrderCommand::Cancel(CancelOrder {
            id: 7,
            instrument: 0,
        })],
        T0,
        &mut out,
    );
    let f = messages(&out.send).remove(0);
    assert_eq!((f.msg_type(), f.get(41)), ("F", Some(replaced_id.as_str())));
    // The venue refuses the cancel: the order stays, the refusal is reported.
    let mut out = NetworkOutput::default();
    let reject = Message::new("9")
        .with(37, "O1")
        .with(11, f.get(11).unwrap())
        .with(41, &replaced_id)
        .with(39, 0)
        .with(434, 1)
        .with(58, "too late");
    v.received(&from_venue(5, reject), T0, &mut out);
    assert!(
        matches!(&out.reports[..], [OrderEvent::Rejected(r)] if r.id == 7 && r.rejection.message.as_deref() == Some("venue: too late"))
    );
}

#[test]
fn market_data_defines_the_symbol_and_keeps_its_levels() {
    let (mut v, _) = logged_on();
    let mut out = NetworkOutput::default();
    let x = Message::new("X")
        .with(268, 3)
        .with(279, 0)
        .with(269, 0)
        .with(55, "ESH4")
        .with(270, "4700")
        .with(271, 5)
        .with(279, 0)
        .with(269, 1)
        .with(55, "ESH4")
        .with(270, "4700.25")
        .with(271, 2)
        .with(279, 0)
        .with(269, 2)
        .with(55, "ESH4")
        .with(270, "4700.25")
        .with(271, 1);
    v.received(&from_venue(2, x), T0, &mut out);
    let MarketEvent::Instrument(def) = &out.market[0] else {
        panic!("{:?}", out.market)
    };
    assert_eq!(
        (
            def.id,
            def.symbol.as_str(),
            def.tick_size,
            def.price_precision
        ),
        (0, "ESH4", fixed::parse("0.25").unwrap(), 2)
    );
    assert!(matches!(&out.market[1], MarketEvent::Trade(t) if t.size == fixed::from_units(1)));
    let MarketEvent::Depth(d) = &out.market[2] else {
        panic!("{:?}", out.market)
    };
    assert_eq!((d.bids.len(), d.asks.len()), (1, 1));
    assert_eq!(d.asks[0].price, fixed::parse("4700.25").unwrap());
    // A symbol not asked for is no instrument.
    let mut out = NetworkOutput::default();
    let other = Message::new("X")
        .with(268, 1)
        .with(279, 0)
        .with(269, 0)
        .with(55, "NQH4")
        .with(270, "1")
        .with(271, 1);
    v.received(&from_venue(3, other), T0, &mut out);
    assert!(out.market.is_empty());
}

#[test]
fn the_session_survives_save_and_load() {
    let (v, cl) = with_order();
    let state = v.save_state();
    let mut fresh = venue();
    fresh.load_state(&state).unwrap();
    assert_eq!(fresh.session.next_out, v.session.next_out);
    assert_eq!(fresh.session.next_in, v.session.next_in);
    assert_eq!(fresh.orders.host_id(&cl), Some(7));
    assert_eq!(fresh.orders.open.len(), 1);
    assert_eq!(fresh.save_state(), state);
    assert!(fresh.load_state(&state[..state.len() - 3]).is_err());
}

#[test]
fn a_wrong_config_is_named() {
    let err = |pairs: &[(&str, &str)]| {
        FixVenue::new(&Config::new(pairs.iter().copied()))
            .err()
            .unwrap()
    };
    assert!(err(&[("target_comp_id", "V"), ("symbols", "ES")]).contains("sender_comp_id"));
    assert!(err(&[("sender_comp_id", "S"), ("target_comp_id", "V")]).contains("symbols"));
    assert!(
        err(&[
            ("sender_comp_id", "S"),
            ("target_comp_id", "V"),
            ("symbols", "ES"),
            ("heartbaet_s", "5")
        ])
        .contains("heartbaet_s")
    );
    assert!(
        err(&[
            ("sender_comp_id", "S"),
            ("target_comp_id", "V"),
            ("symbols", "ES"),
            ("tick.ES", "-1")
        ])
        .contains("tick.ES")
    );
}

#[test]
fn an_order_without_an_answer_has_its_status_asked_once() {
    let (mut v, cl) = with_order();
    // Sent at T0 + 1 s; the default wait is 5 s.
    let mut out = NetworkOutput::default();
    v.tick(T0 + 5 * SEC, &mut out);
    assert!(messages(&out.send).iter().all(|m| m.msg_type() != "H"));
    let mut out = NetworkOutput::default();
    v.tick(T0 + 6 * SEC + 1, &mut out);
    let asked: Vec<Message> = messages(&out.send)
        .into_iter()
        .filter(|m| m.msg_type() == "H")
        .collect();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].get(11), Some(cl.as_str()));
    let mut out = NetworkOutput::default();
    v.tick(T0 + 20 * SEC, &mut out);
    assert!(
        messages(&out.send).iter().all(|m| m.msg_type() != "H"),
        "asked once"
    );
    // An answer ends the wait: a later replace is waited for anew.
    let mut out = NetworkOutput::default();
    v.received(
        &from_venue(3, report(&cl, "E1", "0", "0", &[])),
        T0,
        &mut out,
    );
    assert_eq!(v.orders.open[&7].waiting_since, None);
}

#[test]
fn a_security_definition_sets_the_instrument_before_its_market_data() {
    let (mut v, _) = logged_on();
    let definition = Message::new("d")
        .with(320, "r1")
        .with(322, "s1")
        .with(323, 4)
        .with(55, "ESH4")
        .with(969, "0.25")
        .with(562, "1")
        .with(231, "50");
    let mut out = NetworkOutput::default();
    v.received(&from_venue(2, definition.clone()), T0, &mut out);
    let [MarketEvent::Instrument(d)] = &out.market[..] else {
        panic!("{:?}", out.market);
    };
    assert_eq!(
        (
            d.id,
            d.symbol.as_str(),
            d.tick_size,
            d.lot_size,
            d.multiplier
        ),
        (
            0,
            "ESH4",
            fixed::parse("0.25").unwrap(),
            fixed::from_units(1),
            50
        )
    );
    // Its market data names the same instrument; the same definition again
    // changes nothing.
    let snapshot = Message::new("W")
        .with(55, "ESH4")
        .with(268, 1)
        .with(269, 0)
        .with(270, "4700.25")
        .with(271, 3);
    let mut out = NetworkOutput::default();
    v.received(&from_venue(3, snapshot), T0, &mut out);
    v.received(&from_venue(4, definition), T0, &mut out);
    assert!(
        out.market
            .iter()
            .all(|e| !matches!(e, MarketEvent::Instrument(_))),
        "{:?}",
        out.market
    );
    // A different tick later is refused (the host keeps what it has), and
    // a symbol of no interest is passed over.
    let changed = Message::new("d").with(55, "ESH4").with(969, "0.5");
    let other = Message::new("d").with(55, "NQH4").with(969, "0.25");
    let mut out = NetworkOutput::default();
    v.received(&from_venue(5, changed), T0, &mut out);
    v.received(&from_venue(6, other), T0, &mut out);
    assert!(out.market.is_empty(), "{:?}", out.market);
    assert_eq!(v.market.defined, ["ESH4"]);
}
