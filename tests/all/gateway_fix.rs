//! The host as a venue over FIX 4.4 (`[gateway] fix`): a QuickFIX
//! initiator (`tests/venue/quickfix_client.cpp`, built by `cargo xtask
//! test`) trades with a WebSocket client in the same book; QuickFIX holds
//! the gateway to FIX's session rules and checks every message it receives
//! against the FIX 4.4 data dictionary. The garbled frames are written by
//! hand on a raw TCP connection, framed here (not by the code under test).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use tradsys_tests::fix_frame as frame;

use crate::common::{plugin_dir_with, workspace_root};
use crate::gateway::{free_port, logon, next, order, send, venue};
use crate::live::Venue as QuickFix;

/// A QuickFIX client for `sender` with `password`, its store in `store`
/// (the same store again: the same session, its sequence numbers kept).
fn client(port: u16, sender: &str, password: &str, store: &Path) -> QuickFix {
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<PathBuf> = vec![
        port.to_string().into(),
        sender.into(),
        "TRADSYS".into(),
        password.into(),
        store.to_path_buf(),
        workspace_root().join("tests/venue/FIX44-tradsys.xml"),
        dir.path().join("log"),
    ];
    QuickFix::program("quickfix-client", &args, port, dir)
}

/// The value of `tag` in a `|`-separated message.
fn field(message: &str, tag: u32) -> Option<&str> {
    let prefix = format!("{tag}=");
    message
        .split('|')
        .find_map(|f| f.strip_prefix(prefix.as_str()))
}

/// Wait for an application message of `msg_type` for which `also` holds.
fn expect_app(client: &mut QuickFix, msg_type: &str, also: impl Fn(&str) -> bool) -> String {
    loop {
        let line = client.expect("app ");
        if field(&line, 35) == Some(msg_type) && also(&line) {
            return line;
        }
    }
}

fn with(tag: u32, value: &str) -> impl Fn(&str) -> bool + '_ {
    move |m: &str| field(m, tag) == Some(value)
}

#[test]
fn a_quickfix_client_trades_with_a_websocket_client_and_every_message_passes_quickfix() {
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher", "max-notional"]);
    let fix_port = free_port();
    let (host, url, keys) = venue(
        dir.path(),
        &["alice fix_sender = \"ALICE\"", "bob"],
        &format!("fix = \"127.0.0.1:{fix_port}\"\nmax_order_quantity = 1000"),
    );
    let store = dir.path().join("alice-store");
    let mut alice = client(fix_port, "ALICE", &keys[0], &store);
    alice.expect("logon");
    let mut bob = logon(&url, "bob", &keys[1]);

    // Market data: a snapshot of the venue's (empty) book, then a trade.
    alice.tell("md m1 SYN-A 5");
    expect_app(&mut alice, "W", with(262, "m1"));

    // Alice bids over FIX; Bob sells into it over WebSocket.
    alice.tell("order 1 SYN-A buy 100.00 5");
    let new = expect_app(&mut alice, "8", with(150, "0"));
    assert_eq!(
        [11, 39, 54, 38, 44, 151, 14].map(|t| field(&new, t)),
        [
            Some("1"),
            Some("0"),
            Some("1"),
            Some("5"),
            Some("100"),
            Some("5"),
            Some("0")
        ],
        "{new}"
    );
    send(&mut bob, order(1, "sell", "99.50", "3"));
    let fill = expect_app(&mut alice, "8", with(150, "F"));
    assert_eq!(
        [11, 39, 31, 32, 151, 14, 6].map(|t| field(&fill, t)),
        [
            Some("1"),
            Some("1"),
            Some("100"),
            Some("3"),
            Some("2"),
            Some("3"),
            Some("100")
        ],
        "{fill}"
    );
    let trade = expect_app(&mut alice, "X", with(262, "m1"));
    assert_eq!(
        [269, 270, 271].map(|t| field(&trade, t)),
        [Some("2"), Some("100"), Some("3")],
        "{trade}"
    );
    let mut bob_heard = vec![next(&mut bob), next(&mut bob)];
    bob_heard.sort_by_key(|m| m["type"].as_str().unwrap().to_string());
    assert_eq!(bob_heard[1]["type"], "fill", "{bob_heard:?}");

    // Replace (the order answers to the new ClOrdID), then cancel by it.
    alice.tell("replace r1 1 SYN-A buy 99.00 4");
    let replaced = expect_app(&mut alice, "8", with(150, "5"));
    assert_eq!(
        [11, 41, 44, 38, 151, 14].map(|t| field(&replaced, t)),
        [
            Some("r1"),
            Some("1"),
            Some("99"),
            Some("4"),
            Some("1"),
            Some("3")
        ],
        "{replaced}"
    );
    alice.tell("cancel c1 r1 SYN-A buy");
    let canceled = expect_app(&mut alice, "8", with(150, "4"));
    assert_eq!(
        [11, 41, 39, 151].map(|t| field(&canceled, t)),
        [Some("c1"), Some("r1"), Some("4"), Some("0")],
        "{canceled}"
    );
    // A cancel of an order that is over: refused with an OrderCancelReject.
    alice.tell("cancel c2 1 SYN-A buy");
    let refused = expect_app(&mut alice, "9", |_| true);
    assert_eq!(field(&refused, 434), Some("1"), "{refused}");

    // Refusals by the rules: a quantity over the gateway's maximum (a
    // session Reject naming OrderQty), an unknown instrument (rejected),
    // a message type FIX does not have (Reject 373=11), one it has that
    // the venue does not serve (BusinessMessageReject 380=3).
    alice.tell("order 2 SYN-A buy 1 5000");
    let too_big = alice.expect("admin ");
    assert_eq!(
        (field(&too_big, 35), field(&too_big, 371)),
        (Some("3"), Some("38")),
        "{too_big}"
    );
    alice.tell("order 3 NOPE buy 1 1");
    let unknown = expect_app(&mut alice, "8", with(150, "8"));
    assert!(
        field(&unknown, 58)
            .unwrap()
            .contains("unknown instrument `NOPE`"),
        "{unknown}"
    );
    // A NewOrderSingle without its Side: a Reject naming the tag.
    alice.tell("raw D 11=9 55=SYN-A 38=1 40=2 44=1 60=20260101-00:00:00");
    let missing = alice.expect("admin ");
    assert_eq!(
        (field(&missing, 371), field(&missing, 373)),
        (Some("54"), Some("1")),
        "{missing}"
    );
    alice.tell("raw ZZ");
    let invalid = alice.expect("admin ");
    assert_eq!(field(&invalid, 373), Some("11"), "{invalid}");
    alice.tell("raw H 11=1 55=SYN-A 54=1");
    let unserved = expect_app(&mut alice, "j", |_| true);
    assert_eq!(field(&unserved, 380), Some("3"), "{unserved}");
    alice.tell("md m2 NOPE 1");
    let no_data = expect_app(&mut alice, "Y", with(262, "m2"));
    assert!(field(&no_data, 58).unwrap().contains("NOPE"), "{no_data}");

    // The session goes on after the refusals.
    alice.tell("order 4 SYN-A sell 101 1");
    expect_app(&mut alice, "8", |m| {
        field(m, 11) == Some("4") && field(m, 150) == Some("0")
    });

    // Alice logs out and back on: the same session, its numbers kept
    // (QuickFIX logs out of a session whose numbers do not match).
    alice.quit();
    let mut alice = client(fix_port, "ALICE", &keys[0], &store);
    alice.expect("logon");
    // Her working order is told again at the logon (an order status report).
    let status = expect_app(&mut alice, "8", with(150, "I"));
    assert_eq!(
        [11, 39, 54, 44, 151, 14].map(|t| field(&status, t)),
        [
            Some("4"),
            Some("0"),
            Some("2"),
            Some("101"),
            Some("1"),
            Some("0")
        ],
        "{status}"
    );
    alice.tell("order 5 SYN-A sell 102 1");
    expect_app(&mut alice, "8", |m| {
        field(m, 11) == Some("5") && field(m, 150) == Some("0")
    });
    assert!(
        alice.said("logout").is_empty(),
        "the session's numbers did not carry over: {:?}",
        alice.seen
    );
    assert!(
        alice.said("sent-reject").is_empty(),
        "QuickFIX refused a message of the gateway's: {:?}",
        alice.seen
    );

    // Bob's WebSocket never hears of Alice's orders.
    send(
        &mut bob,
        json!({"type": "cancel", "id": 4, "symbol": "SYN-A"}),
    );
    let not_his = next(&mut bob);
    assert_eq!(not_his["type"], "rejected", "{not_his}");
    drop(alice);
    host.interrupt();
    let report = host.finish();
    let gateway = &report["gateway"];
    assert_eq!(gateway["fix"], json!(format!("127.0.0.1:{fix_port}")));
    let alice_report = &gateway["accounts"][0];
    assert_eq!(
        (&alice_report["account"], &alice_report["fills"]),
        (&json!("alice"), &json!(1))
    );
}

/// The messages read so far from `stream`, `|`-separated, until one of
/// type `msg_type` came.
fn read_until(stream: &mut TcpStream, held: &mut Vec<u8>, msg_type: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        while let Some(end) = find_end(held) {
            let message: Vec<u8> = held.drain(..end).collect();
            let text = String::from_utf8_lossy(&message).replace('\u{1}', "|");
            let done = field(&text, 35) == Some(msg_type);
            seen.push(text);
            if done {
                return seen;
            }
        }
        assert!(Instant::now() < deadline, "no {msg_type}; heard {seen:?}");
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the gateway closed; heard {seen:?}");
        held.extend_from_slice(&buf[..n]);
    }
}

/// Where the first whole message in `bytes` ends.
fn find_end(bytes: &[u8]) -> Option<usize> {
    let start = bytes.windows(4).position(|w| w == b"\x0110=")?;
    let end = start + 1 + 7;
    (bytes.len() >= end).then_some(end)
}

#[test]
fn a_wrong_password_is_refused_and_a_garbled_frame_is_dropped_then_asked_for_again() {
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher", "max-notional"]);
    let fix_port = free_port();
    let (host, _url, keys) = venue(
        dir.path(),
        &["alice fix_sender = \"ALICE\""],
        &format!("fix = \"127.0.0.1:{fix_port}\""),
    );
    // QuickFIX with a wrong password hears why in the Logout.
    let mut mallory = client(fix_port, "ALICE", "tsk_wrong", &dir.path().join("m-store"));
    let refused = mallory.expect("logout ");
    assert!(refused.contains("logon refused"), "{refused}");
    drop(mallory);
    assert!(host.log().contains("refused"), "{}", host.log());

    let mut stream = TcpStream::connect(("127.0.0.1", fix_port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut held = Vec::new();
    let header = |seq: u32| format!("49=ALICE|56=TRADSYS|34={seq}|52=20260101-00:00:00.000");
    stream
        .write_all(&frame(&format!(
            "35=A|{}|98=0|108=30|141=Y|554={}|",
            header(1),
            keys[0]
        )))
        .unwrap();
    let logon = read_until(&mut stream, &mut held, "A");
    assert_eq!(field(logon.last().unwrap(), 141), Some("Y"), "{logon:?}");

    let order = |seq: u32, id: u32| {
        format!(
            "35=D|{}|11={id}|55=SYN-A|54=1|60=20260101-00:00:00|38=1|40=2|44=90|",
            header(seq)
        )
    };
    // Message 2 with a wrong CheckSum: dropped, nothing said.
    let mut bad = frame(&order(2, 20));
    let at = bad.len() - 4;
    bad[at] = if bad[at] == b'9' { b'0' } else { b'9' };
    stream.write_all(&bad).unwrap();
    // A BodyLength that is no number: dropped too.
    stream
        .write_all(b"8=FIX.4.4\x019=xx\x0135=0\x0110=000\x01")
        .unwrap();
    // Message 3 arrives whole: 2 is missing, so the gateway asks for it
    // and holds 3 back.
    stream.write_all(&frame(&order(3, 30))).unwrap();
    let asked = read_until(&mut stream, &mut held, "2");
    let resend = asked.last().unwrap();
    assert_eq!(
        (field(resend, 7), field(resend, 16)),
        (Some("2"), Some("0")),
        "{resend}"
    );
    assert!(
        !asked.iter().any(|m| field(m, 35) == Some("8")),
        "message 3 was taken before the gap was filled: {asked:?}"
    );
    // The client resends 2 (PossDupFlag); then 2 and 3 are taken, in order.
    let again = order(2, 20).replace("|52=", "|43=Y|122=20260101-00:00:00.000|52=");
    stream.write_all(&frame(&again)).unwrap();
    let first = read_until(&mut stream, &mut held, "8");
    let second = read_until(&mut stream, &mut held, "8");
    assert_eq!(
        (
            field(first.last().unwrap(), 11),
            field(second.last().unwrap(), 11)
        ),
        (Some("20"), Some("30"))
    );
    // A number too low without PossDupFlag ends the session with a Logout.
    stream.write_all(&frame(&order(3, 31))).unwrap();
    let out = read_until(&mut stream, &mut held, "5");
    assert!(
        field(out.last().unwrap(), 58)
            .unwrap()
            .contains("MsgSeqNum too low, expecting 4 but received 3"),
        "{out:?}"
    );
    host.interrupt();
    let report = host.finish();
    assert!(
        report["gateway"]["malformed"].as_u64().unwrap() >= 2,
        "{}",
        report["gateway"]
    );
    assert!(report["gateway"]["refused_logons"].as_u64().unwrap() >= 1);
}

#[test]
fn a_venue_killed_and_resumed_has_its_book_accounts_and_fix_session_back() {
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher", "max-notional"]);
    let fix_port = free_port();
    let (host, url, keys) = venue(
        dir.path(),
        &["alice", "bob fix_sender = \"BOB\""],
        &format!("fix = \"127.0.0.1:{fix_port}\""),
    );
    // Bob's QuickFIX keeps its numbers in its store, and reconnects by
    // itself every second.
    let mut bob = client(fix_port, "BOB", &keys[1], &dir.path().join("bob-store"));
    bob.expect("logon");
    let mut alice = logon(&url, "alice", &keys[0]);
    send(&mut alice, order(1, "buy", "100", "5"));
    assert_eq!(next(&mut alice)["type"], "accepted");
    bob.tell("order 7 SYN-A sell 100 2");
    expect_app(&mut bob, "8", |m| {
        field(m, 11) == Some("7") && field(m, 39) == Some("2")
    });
    bob.tell("order 8 SYN-A sell 105 1");
    expect_app(&mut bob, "8", |m| {
        field(m, 11) == Some("8") && field(m, 150) == Some("0")
    });
    assert_eq!(next(&mut alice)["type"], "fill");

    // SIGKILL: no goodbye, no report; then the same venue again, resuming
    // from its journal.
    host.kill();
    let old = dir.path().join("journal-before.jsonl");
    std::fs::rename(dir.path().join("journal.jsonl"), &old).unwrap();
    let config = std::fs::read_to_string(dir.path().join("host.toml")).unwrap();
    let host =
        crate::live::Host::start_with(dir.path(), &config, &["--resume", old.to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !host.log().contains("serving clients until stopped") {
        assert!(Instant::now() < deadline, "no venue: {}", host.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    // Alice's order and Bob's two.
    assert!(
        host.log().contains("3 client requests to enter again"),
        "{}",
        host.log()
    );

    // Alice's order is back as it was: 2 of 5 filled at 100.
    let (mut alice, open) = crate::gateway::logon_listing(&url, "alice", &keys[0]);
    assert_eq!(
        open,
        json!([{"id": 1, "symbol": "SYN-A", "side": "buy", "price": "100",
                "leaves": "3", "filled": "2", "average": "100"}])
    );
    // Bob's session goes on with its numbers (QuickFIX would log out of a
    // session that started again at 1), and he hears of his working order.
    let status = expect_app(&mut bob, "8", with(150, "I"));
    assert_eq!(
        [11, 54, 44, 151].map(|t| field(&status, t)),
        [Some("8"), Some("2"), Some("105"), Some("1")],
        "{status}"
    );
    assert!(
        bob.said("logout").is_empty() && bob.said("sent-reject").is_empty(),
        "{:?}",
        bob.seen
    );
    // The book is back: Alice lifts Bob's offer.
    send(&mut alice, order(2, "buy", "105", "1"));
    expect_app(&mut bob, "8", |m| {
        field(m, 11) == Some("8") && field(m, 150) == Some("F")
    });
    // Her ids are back too: order 1 cannot be sent again.
    send(&mut alice, order(1, "buy", "90", "1"));
    let heard = loop {
        let heard = next(&mut alice);
        if heard["type"] == "rejected" {
            break heard;
        }
    };
    assert_eq!(heard["id"], 1, "{heard}");

    bob.quit();
    host.interrupt();
    let report = host.finish();
    let alice_report = &report["gateway"]["accounts"][0];
    assert_eq!(alice_report["account"], "alice");
    assert_eq!(alice_report["fills"], json!(2), "{alice_report}");
    // Both sessions' records are in the new journal: Alice's first order
    // (entered again), then her two after the restart.
    let alice_orders = |path: &Path| -> Vec<u64> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|r| r["kind"] == "order" && r["account"] == "alice")
            .map(|r| r["id"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(alice_orders(&old), [1]);
    assert_eq!(alice_orders(&dir.path().join("journal.jsonl")), [1, 2, 1]);
}
