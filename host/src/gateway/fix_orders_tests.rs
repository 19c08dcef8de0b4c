//! A FIX connection's messages read and written, without a connection.

use super::*;

fn order(cl: &str) -> Message {
    Message::new("D")
        .with(11, cl)
        .with(55, "ESH4")
        .with(54, 1)
        .with(60, "20260101-00:00:00")
        .with(38, 2)
        .with(40, 2)
        .with(44, "4800.25")
}

#[test]
fn an_order_its_fill_and_a_replace_read_and_write_as_fix() {
    let mut orders = FixOrders::new(7);
    let read = orders.read(&order("41"), 100).unwrap();
    assert!(matches!(
        read[..],
        [Request::Submit {
            id: 41,
            quantity: 2_000_000_000,
            ..
        }]
    ));
    let fill = Reply::Fill {
        id: 41,
        symbol: "ESH4".into(),
        side: "buy",
        price: "4800.25".into(),
        quantity: "1".into(),
        leaves: "1".into(),
        maker: false,
        ts: 0,
    };
    let (out, _) = orders.write(&fill);
    assert_eq!(out[0].get(150), Some("F"));
    assert_eq!(out[0].get(39), Some("1"));
    assert_eq!(out[0].get(14), Some("1"));
    assert_eq!(out[0].get(151), Some("1"));
    assert_eq!(out[0].get(6), Some("4800.25"));
    let replace = Message::new("G")
        .with(41, "41")
        .with(11, "r1")
        .with(55, "ESH4")
        .with(54, 1)
        .with(38, 3)
        .with(40, 2)
        .with(44, "4800");
    let read = orders.read(&replace, 100).unwrap();
    assert!(matches!(
        read[..],
        [Request::Modify {
            id: 41,
            quantity: 3_000_000_000,
            ..
        }]
    ));
    let modified = Reply::Modified {
        id: 41,
        symbol: "ESH4".into(),
        price: "4800".into(),
        leaves: "2".into(),
        ts: 0,
    };
    let (out, _) = orders.write(&modified);
    assert_eq!(out[0].get(11), Some("r1"));
    assert_eq!(out[0].get(41), Some("41"));
    assert_eq!(out[0].get(38), Some("3"));
    // Canceled by its new ClOrdID.
    let cancel = Message::new("F")
        .with(41, "r1")
        .with(11, "c1")
        .with(55, "ESH4")
        .with(54, 1);
    assert!(matches!(
        orders.read(&cancel, 100).unwrap()[..],
        [Request::Cancel { id: 41, .. }]
    ));
}

#[test]
fn missing_tags_and_bad_values_name_the_tag() {
    let mut orders = FixOrders::new(1);
    let mut no_side = order("1");
    no_side.fields.retain(|(t, _)| *t != 54);
    assert!(matches!(
        orders.read(&no_side, 100),
        Err(Refusal::Session {
            tag: Some(54),
            code: 1,
            ..
        })
    ));
    let mut odd = order("1");
    odd.fields.retain(|(t, _)| *t != 38);
    odd.push(38, "0");
    assert!(matches!(
        orders.read(&odd, 100),
        Err(Refusal::Session { tag: Some(38), .. })
    ));
    let Err(Refusal::Answer(rejected)) = orders.read(&order("abc"), 100) else {
        panic!("a ClOrdID that is no number is refused");
    };
    assert_eq!(rejected.get(150), Some("8"));
    let Err(Refusal::Answer(unserved)) = orders.read(&Message::new("H"), 100) else {
        panic!("an unserved message type is refused");
    };
    assert_eq!((unserved.msg_type(), unserved.get(380)), ("j", Some("3")));
    assert!(matches!(
        orders.read(&Message::new("ZZ"), 100),
        Err(Refusal::Session { code: 11, .. })
    ));
}

#[test]
fn a_fill_of_an_order_entered_before_this_connection_is_still_reported() {
    let mut orders = FixOrders::new(2);
    let fill = Reply::Fill {
        id: 9,
        symbol: "ESH4".into(),
        side: "sell",
        price: "4800".into(),
        quantity: "2".into(),
        leaves: "1".into(),
        maker: true,
        ts: 0,
    };
    let (out, _) = orders.write(&fill);
    assert_eq!(
        [11, 150, 39, 54, 38, 14, 151, 6].map(|t| out[0].get(t)),
        [
            Some("9"),
            Some("F"),
            Some("1"),
            Some("2"),
            Some("3"),
            Some("2"),
            Some("1"),
            Some("4800")
        ]
    );
}

#[test]
fn a_cancel_or_replace_of_an_order_entered_elsewhere_is_answered() {
    let mut orders = FixOrders::new(3);
    let cancel = Message::new("F")
        .with(41, "5")
        .with(11, "c5")
        .with(55, "ESH4")
        .with(54, 2);
    assert!(matches!(
        orders.read(&cancel, 100).unwrap()[..],
        [Request::Cancel { id: 5, .. }]
    ));
    let canceled = Reply::Canceled {
        id: 5,
        symbol: "ESH4".into(),
        quantity: "1".into(),
        ts: 0,
    };
    let (out, _) = orders.write(&canceled);
    assert_eq!(
        [11, 41, 150, 39, 54, 151].map(|t| out[0].get(t)),
        [
            Some("c5"),
            Some("5"),
            Some("4"),
            Some("4"),
            Some("2"),
            Some("0")
        ]
    );
    let replace = Message::new("G")
        .with(41, "6")
        .with(11, "r6")
        .with(55, "ESH4")
        .with(54, 1)
        .with(38, 2)
        .with(40, 2)
        .with(44, "4800");
    orders.read(&replace, 100).unwrap();
    let modified = Reply::Modified {
        id: 6,
        symbol: "ESH4".into(),
        price: "4800".into(),
        leaves: "2".into(),
        ts: 0,
    };
    let (out, _) = orders.write(&modified);
    assert_eq!(
        [11, 41, 150, 38, 44, 151].map(|t| out[0].get(t)),
        [
            Some("r6"),
            Some("6"),
            Some("5"),
            Some("2"),
            Some("4800"),
            Some("2")
        ]
    );
}
