//! The host as a venue: clients trade over WebSocket (`[gateway]`), real
//! connections on loopback through `tungstenite`, a WebSocket client nobody
//! here wrote; their orders meet at the exchange venue's matcher.

use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use crate::common::{plugin_dir_with, tradsys, tradsys_run};
use crate::live::Host;

const WAIT: Duration = Duration::from_secs(30);

pub(crate) type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

/// A free port on loopback.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `tradsys gateway key NAME`: the key, and the account's table.
pub(crate) fn make_key(name: &str) -> (String, String) {
    let out = tradsys(&["gateway", "key", name]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (key, table) = stdout.split_once('\n').unwrap();
    assert!(
        !table.contains(key),
        "the accounts file must not hold the key"
    );
    (key.to_string(), table.to_string())
}

/// The host on the synthetic market (no strategy) as an exchange venue
/// with a gateway for `accounts` (a name, or a name and lines to add to its
/// table after a space); `gateway` adds to its table. Returns the host, its
/// WebSocket URL and each account's key, once the feed is done and the
/// instruments are known.
pub(crate) fn venue(dir: &Path, accounts: &[&str], gateway: &str) -> (Host, String, Vec<String>) {
    venue_with(dir, accounts, gateway, &[])
}

/// As [`venue`], with `extra` arguments to `tradsys run`.
pub(crate) fn venue_with(
    dir: &Path,
    accounts: &[&str],
    gateway: &str,
    extra: &[&str],
) -> (Host, String, Vec<String>) {
    let mut file = String::new();
    let mut keys = Vec::new();
    for account in accounts {
        let (name, extra) = account.split_once(' ').unwrap_or((account, ""));
        let (key, table) = make_key(name);
        file.push_str(&table);
        file.push_str(extra);
        file.push('\n');
        keys.push(key);
    }
    std::fs::write(dir.join("accounts.toml"), file).unwrap();
    let port = free_port();
    let config = format!(
        "[run]\nevents = 300\nstrategies = []\n\
         [venue]\nmodel = \"exchange\"\n\
         [gateway]\nwebsocket = \"127.0.0.1:{port}\"\naccounts = \"accounts.toml\"\n{gateway}\n\
         [plugins.max-notional]\nconfig = {{ max_notional = \"5000\" }}\n"
    );
    let host = Host::start_with(dir, &config, extra);
    let deadline = Instant::now() + WAIT;
    while !host.log().contains("serving clients until stopped") {
        assert!(Instant::now() < deadline, "no venue: {}", host.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    (host, format!("ws://127.0.0.1:{port}/"), keys)
}

pub(crate) fn connect(url: &str) -> Socket {
    let (socket, _) = tungstenite::connect(url).unwrap();
    if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
        stream.set_read_timeout(Some(WAIT)).unwrap();
    }
    socket
}

pub(crate) fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).unwrap();
}

/// The next JSON message.
pub(crate) fn next(socket: &mut Socket) -> Value {
    loop {
        match socket.read().unwrap() {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("not a JSON text message: {other:?}"),
        }
    }
}

pub(crate) fn logon(url: &str, account: &str, key: &str) -> Socket {
    logon_listing(url, account, key).0
}

/// Log on; the socket and the account's working orders, which the venue
/// lists after every logon.
pub(crate) fn logon_listing(url: &str, account: &str, key: &str) -> (Socket, Value) {
    let mut socket = connect(url);
    send(
        &mut socket,
        json!({"type": "logon", "account": account, "key": key}),
    );
    assert_eq!(
        next(&mut socket),
        json!({"type": "logged_on", "account": account})
    );
    let listing = next(&mut socket);
    assert_eq!(listing["type"], "open_orders", "{listing}");
    (socket, listing["orders"].clone())
}

pub(crate) fn order(id: u64, side: &str, price: &str, quantity: &str) -> Value {
    json!({"type": "order", "id": id, "symbol": "SYN-A", "side": side,
           "price": price, "quantity": quantity})
}

#[test]
fn two_clients_trade_with_each_other_and_each_hears_of_its_own_orders_only() {
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher", "max-notional"]);
    let (host, url, keys) = venue(dir.path(), &["alice", "bob"], "");
    let mut alice = logon(&url, "alice", &keys[0]);
    let mut bob = logon(&url, "bob", &keys[1]);

    // Bob's key does not open Alice's account; nor does a made-up account.
    for (account, key) in [("alice", keys[1].as_str()), ("carol", keys[0].as_str())] {
        let mut mallory = connect(&url);
        send(
            &mut mallory,
            json!({"type": "logon", "account": account, "key": key}),
        );
        let refused = next(&mut mallory);
        assert_eq!(refused["type"], "disconnect", "{refused}");
        assert!(
            refused["reason"]
                .as_str()
                .unwrap()
                .contains("logon refused"),
            "{refused}"
        );
    }

    // Alice rests a bid; Bob sells into it: both hear of the trade, each of
    // their own side of it.
    send(&mut alice, order(1, "buy", "100.00", "5"));
    let accepted = next(&mut alice);
    assert_eq!(accepted["type"], "accepted", "{accepted}");
    assert_eq!(
        (&accepted["id"], &accepted["symbol"]),
        (&json!(1), &json!("SYN-A"))
    );
    send(&mut bob, order(1, "sell", "99.50", "3"));
    let mut bob_heard = vec![next(&mut bob), next(&mut bob)];
    bob_heard.sort_by_key(|m| m["type"].as_str().unwrap().to_string());
    assert_eq!(bob_heard[0]["type"], "accepted", "{bob_heard:?}");
    let taker = &bob_heard[1];
    assert_eq!(taker["type"], "fill", "{taker}");
    assert_eq!(
        (
            &taker["price"],
            &taker["quantity"],
            &taker["leaves"],
            &taker["maker"]
        ),
        (&json!("100"), &json!("3"), &json!("0"), &json!(false))
    );
    let maker = next(&mut alice);
    assert_eq!(maker["type"], "fill", "{maker}");
    assert_eq!(
        (
            &maker["id"],
            &maker["side"],
            &maker["quantity"],
            &maker["leaves"],
            &maker["maker"]
        ),
        (
            &json!(1),
            &json!("buy"),
            &json!("3"),
            &json!("2"),
            &json!(true)
        )
    );

    // Bob cannot cancel Alice's order: his id 1 is his own, and done.
    send(
        &mut bob,
        json!({"type": "cancel", "id": 1, "symbol": "SYN-A"}),
    );
    let refused = next(&mut bob);
    assert_eq!(refused["type"], "rejected", "{refused}");

    // A malformed message is refused with its reason; the connection stays.
    alice.send(Message::text("{\"type\":\"order\",")).unwrap();
    let error = next(&mut alice);
    assert_eq!(error["type"], "error");
    assert!(
        error["reason"]
            .as_str()
            .unwrap()
            .starts_with("malformed message")
    );
    // An absurd quantity, an unknown instrument, a validator's limit.
    send(&mut alice, order(2, "buy", "100", "2000000"));
    let error = next(&mut alice);
    assert!(
        error["reason"]
            .as_str()
            .unwrap()
            .contains("more than the gateway's maximum"),
        "{error}"
    );
    send(
        &mut alice,
        json!({"type": "order", "id": 3, "symbol": "NOPE", "side": "buy", "price": "1", "quantity": "1"}),
    );
    let unknown = next(&mut alice);
    assert_eq!(
        (&unknown["type"], &unknown["id"]),
        (&json!("rejected"), &json!(3))
    );
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("unknown instrument `NOPE`")
    );
    send(&mut alice, order(4, "buy", "100", "60"));
    let limit = next(&mut alice);
    assert_eq!(
        (&limit["type"], &limit["id"], &limit["reason"]),
        (&json!("rejected"), &json!(4), &json!("notional-limit")),
        "{limit}"
    );
    // Her resting order is still hers to cancel.
    send(
        &mut alice,
        json!({"type": "cancel", "id": 1, "symbol": "SYN-A"}),
    );
    let canceled = next(&mut alice);
    assert_eq!(
        (&canceled["type"], &canceled["id"], &canceled["quantity"]),
        (&json!("canceled"), &json!(1), &json!("2"))
    );

    host.interrupt();
    let bye = next(&mut alice);
    assert_eq!(
        bye,
        json!({"type": "disconnect", "reason": "the venue closes"})
    );
    let report = host.finish();
    let gateway = &report["gateway"];
    assert_eq!(gateway["logons"], 2, "{gateway}");
    assert_eq!(gateway["refused_logons"], 2, "{gateway}");
    // The broken JSON and the quantity over the maximum.
    assert_eq!(gateway["malformed"], 2, "{gateway}");
    assert_eq!(gateway["unknown_instruments"], 1, "{gateway}");
    let account = |name: &str| {
        gateway["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["account"] == name)
            .unwrap()
            .clone()
    };
    let (a, b) = (account("alice"), account("bob"));
    assert_eq!((&a["fills"], &b["fills"]), (&json!(1), &json!(1)));
    assert_eq!(a["positions"][0]["quantity"], "3");
    assert_eq!(b["positions"][0]["quantity"], "-3");
    // The journal names each client's orders by account.
    let journal = std::fs::read_to_string(dir.path().join("journal.jsonl")).unwrap();
    let orders: Vec<Value> = journal
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["kind"] == "order")
        .collect();
    assert!(
        orders
            .iter()
            .any(|o| o["account"] == "alice" && o["strategy"] == "gateway")
    );
    assert!(
        orders
            .iter()
            .any(|o| o["account"] == "bob" && o["approved"] == true)
    );
}

#[test]
fn a_flood_a_crowd_and_a_slow_consumer_are_refused_while_others_trade_on() {
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher"]);
    let (host, url, keys) = venue(
        dir.path(),
        &["alice", "bob", "slow"],
        "max_connections = 3\nmax_messages_per_second = 20000\noutbound_queue = 16",
    );
    let mut alice = logon(&url, "alice", &keys[0]);
    let mut bob = logon(&url, "bob", &keys[1]);

    // A client that sends and never reads: replies pile up past its queue.
    let mut slow = logon(&url, "slow", &keys[2]);
    let flooding = std::thread::spawn(move || {
        for id in 0..200_000u64 {
            let cancel = json!({"type": "cancel", "id": id, "symbol": "SYN-A"});
            if slow.send(Message::text(cancel.to_string())).is_err() {
                return true;
            }
        }
        false
    });
    // One connection too many: told why, over HTTP, before any upgrade.
    let deadline = Instant::now() + WAIT;
    let crowd = loop {
        match tungstenite::connect(url.as_str()) {
            Err(tungstenite::Error::Http(response)) => break response,
            Ok(_) => panic!("a fourth connection was accepted"),
            Err(e) => {
                assert!(Instant::now() < deadline, "{e}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    assert_eq!(crowd.status(), 503);
    let body = String::from_utf8(crowd.body().clone().unwrap_or_default()).unwrap();
    assert!(body.contains("too many connections: 3 are open"), "{body}");

    // Alice and Bob trade meanwhile.
    send(&mut alice, order(1, "buy", "100", "1"));
    assert_eq!(next(&mut alice)["type"], "accepted");
    send(&mut bob, order(1, "sell", "100", "1"));
    let mut heard = vec![
        next(&mut bob)["type"].clone(),
        next(&mut bob)["type"].clone(),
    ];
    heard.sort_by_key(|t| t.to_string());
    assert_eq!(heard, [json!("accepted"), json!("fill")]);
    assert_eq!(next(&mut alice)["type"], "fill");

    assert!(
        flooding.join().unwrap(),
        "the slow consumer was never disconnected"
    );
    let deadline = Instant::now() + WAIT;
    while !host.log().contains("a slow consumer") {
        assert!(Instant::now() < deadline, "{}", host.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    host.interrupt();
    let report = host.finish();
    let gateway = &report["gateway"];
    assert_eq!(gateway["slow_consumers"], 1, "{gateway}");
    assert!(gateway["turned_away"].as_u64().unwrap() >= 1, "{gateway}");
}

#[test]
fn a_burst_over_the_rate_limit_is_refused_and_the_connection_stays() {
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher"]);
    let (host, url, keys) = venue(dir.path(), &["alice"], "max_messages_per_second = 5");
    let mut alice = logon(&url, "alice", &keys[0]);
    // The logon took one of five; twenty at once: some pass (rejected as
    // unknown orders), the rest are refused by the limit.
    for id in 0..20u64 {
        send(
            &mut alice,
            json!({"type": "cancel", "id": id, "symbol": "SYN-A"}),
        );
    }
    let replies: Vec<Value> = (0..20).map(|_| next(&mut alice)).collect();
    let limited = replies
        .iter()
        .filter(|r| r["type"] == "error" && r["reason"].as_str().unwrap().starts_with("rate limit"))
        .count();
    assert!((14..=16).contains(&limited), "{replies:?}");
    // A second later the bucket is full again.
    std::thread::sleep(Duration::from_millis(1100));
    send(&mut alice, order(100, "buy", "100", "1"));
    assert_eq!(next(&mut alice)["type"], "accepted");
    host.interrupt();
    let report = host.finish();
    assert_eq!(
        report["gateway"]["rate_limited"].as_u64().unwrap(),
        limited as u64
    );
}

#[test]
fn subscribers_hear_trades_and_the_venues_book_and_an_operator_every_execution() {
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher"]);
    let (host, url, keys) = venue(dir.path(), &["alice", "bob", "ops drop_copy = true"], "");
    let mut alice = logon(&url, "alice", &keys[0]);
    let mut bob = logon(&url, "bob", &keys[1]);
    let mut ops = logon(&url, "ops", &keys[2]);
    // Anyone logged on may watch: Bob, two levels of SYN-A.
    send(
        &mut bob,
        json!({"type": "subscribe", "symbol": "SYN-A", "depth": 2}),
    );
    assert_eq!(
        next(&mut bob),
        json!({"type": "subscribed", "symbol": "SYN-A", "depth": 2})
    );
    let empty = next(&mut bob);
    assert_eq!(
        (&empty["type"], &empty["bids"], &empty["asks"]),
        (&json!("book"), &json!([]), &json!([]))
    );
    send(&mut bob, json!({"type": "subscribe", "symbol": "NOPE"}));
    let unknown = next(&mut bob);
    assert!(
        unknown["reason"]
            .as_str()
            .unwrap()
            .contains("unknown instrument `NOPE`"),
        "{unknown}"
    );

    // Alice bids at two prices: the book Bob sees, best first.
    send(&mut alice, order(1, "buy", "100", "2"));
    send(&mut alice, order(2, "buy", "99.5", "1"));
    send(&mut alice, order(3, "buy", "99", "4"));
    for _ in 0..3 {
        assert_eq!(next(&mut alice)["type"], "accepted");
    }
    let book = loop {
        let book = next(&mut bob);
        if book["bids"].as_array().unwrap().len() == 2 {
            break book;
        }
    };
    assert_eq!(
        book["bids"],
        json!([{"price": "100", "quantity": "2", "orders": 1},
               {"price": "99.5", "quantity": "1", "orders": 1}])
    );
    // Bob sells through both: two trades, his the aggressor, and the book.
    send(&mut bob, order(1, "sell", "99.5", "3"));
    let mut heard = Vec::new();
    while heard
        .iter()
        .filter(|m: &&Value| m["type"] == "trade")
        .count()
        < 2
    {
        heard.push(next(&mut bob));
    }
    let trades: Vec<(Value, Value, Value)> = heard
        .iter()
        .filter(|m| m["type"] == "trade")
        .map(|t| {
            (
                t["price"].clone(),
                t["quantity"].clone(),
                t["aggressor"].clone(),
            )
        })
        .collect();
    assert_eq!(
        trades,
        [
            (json!("100"), json!("2"), json!("sell")),
            (json!("99.5"), json!("1"), json!("sell"))
        ]
    );
    let book = loop {
        let book = next(&mut bob);
        if book["type"] == "book" {
            break book;
        }
    };
    assert_eq!(
        book["bids"],
        json!([{"price": "99", "quantity": "4", "orders": 1}])
    );
    // The operator's drop copy: every execution, each owner named.
    let executions: Vec<Value> = (0..4).map(|_| next(&mut ops)).collect();
    assert!(
        executions.iter().all(|e| e["type"] == "execution"),
        "{executions:?}"
    );
    let by = |account: &str| {
        executions
            .iter()
            .filter(|e| e["account"] == account)
            .count()
    };
    assert_eq!((by("alice"), by("bob")), (2, 2), "{executions:?}");
    // Alice is no operator: she hears only of her own fills.
    let mine: Vec<Value> = (0..2).map(|_| next(&mut alice)).collect();
    assert!(
        mine.iter()
            .all(|m| m["type"] == "fill" && m["maker"] == true),
        "{mine:?}"
    );
    send(&mut bob, json!({"type": "unsubscribe", "symbol": "SYN-A"}));
    let bye = loop {
        let m = next(&mut bob);
        if m["type"] == "unsubscribed" {
            break m;
        }
    };
    assert_eq!(bye["symbol"], "SYN-A");
    host.interrupt();
    host.finish();
}

#[test]
fn a_wrong_accounts_file_or_gateway_config_stops_the_host_before_it_serves_naming_the_fault() {
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher", "max-notional"]);
    let port = free_port();
    let run = |accounts: &str, venue: &str| {
        std::fs::write(dir.path().join("accounts.toml"), accounts).unwrap();
        let config = dir.path().join("venue.toml");
        std::fs::write(
            &config,
            format!(
                "[run]\nevents = 10\nstrategies = []\n[venue]\nmodel = \"{venue}\"\n\
                 [gateway]\nwebsocket = \"127.0.0.1:{port}\"\naccounts = \"accounts.toml\"\n"
            ),
        )
        .unwrap();
        let out = tradsys_run(dir.path(), &["--config", config.to_str().unwrap()]);
        assert!(!out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let (_, table) = make_key("alice");
    // A stored key that is no hash, an unknown setting, and a venue that is
    // not an exchange: each named, and nothing served.
    let no_hash = run("[alice]\nkey_hash = \"tsk_0123\"\n", "exchange");
    assert!(no_hash.contains("accounts.toml"), "{no_hash}");
    assert!(no_hash.contains("account `alice`"), "{no_hash}");
    let unknown = run(&format!("{table}limit = 5\n"), "exchange");
    assert!(unknown.contains("unknown field `limit`"), "{unknown}");
    let simulated = run(&table, "simulated");
    assert!(
        simulated.contains("set [venue] model = \"exchange\""),
        "{simulated}"
    );
    // An account's own config for a validator that is not installed, or
    // one the validator refuses (a misspelt key).
    let absent = run(
        &format!("{table}[alice.validators.price-collar]\nmax_deviation = \"0.1\"\n"),
        "exchange",
    );
    assert!(
        absent.contains("account `alice`: validators.price-collar: no such validator"),
        "{absent}"
    );
    let misspelt = run(
        &format!("{table}[alice.validators.max-notional]\nmax_notionl = \"10\"\n"),
        "exchange",
    );
    assert!(
        misspelt.contains("account `alice`: validators.max-notional: the validator refused")
            && misspelt.contains("max_notionl"),
        "{misspelt}"
    );
}

#[test]
fn an_accounts_own_validator_config_holds_for_its_orders_only() {
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher", "max-notional"]);
    // The venue's max-notional allows 5,000; Alice's own config 500.
    let (host, url, keys) = venue(
        dir.path(),
        &[
            "alice [alice.validators.max-notional]\nmax_notional = \"500\"",
            "bob",
        ],
        "",
    );
    let mut alice = logon(&url, "alice", &keys[0]);
    let mut bob = logon(&url, "bob", &keys[1]);
    send(&mut alice, order(1, "buy", "100", "6"));
    let refused = next(&mut alice);
    assert_eq!(
        (&refused["type"], &refused["reason"]),
        (&json!("rejected"), &json!("notional-limit")),
        "{refused}"
    );
    send(&mut alice, order(2, "buy", "100", "4"));
    assert_eq!(next(&mut alice)["type"], "accepted");
    send(&mut bob, order(1, "buy", "100", "6"));
    assert_eq!(next(&mut bob)["type"], "accepted", "Bob is held to 5,000");
    host.interrupt();
    let report = host.finish();
    let accounts = &report["gateway"]["accounts"];
    assert_eq!(
        (&accounts[0]["rejected"], &accounts[1]["rejected"]),
        (&json!(1), &json!(0))
    );
    // The journal names the validator that refused Alice's first order.
    let journal = std::fs::read_to_string(dir.path().join("journal.jsonl")).unwrap();
    let refusal = journal
        .lines()
        .find(|l| l.contains("\"account\":\"alice\"") && l.contains("\"kind\":\"order\""))
        .unwrap();
    assert!(refusal.contains("max-notional"), "{refusal}");
}

#[test]
fn the_matcher_swapped_under_client_flow_keeps_the_book_and_every_connection() {
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher"]);
    // The host watches its plugin directory (`run.watch`).
    let (host, url, keys) = venue_with(dir.path(), &["alice", "bob"], "", &["--watch"]);
    let mut alice = logon(&url, "alice", &keys[0]);
    let mut bob = logon(&url, "bob", &keys[1]);
    send(
        &mut bob,
        json!({"type": "subscribe", "symbol": "SYN-A", "depth": 1}),
    );
    assert_eq!(next(&mut bob)["type"], "subscribed");
    // Alice's bids rest in version 1.0.0's book.
    send(&mut alice, order(1, "buy", "100", "2"));
    send(&mut alice, order(2, "buy", "99", "1"));
    for _ in 0..2 {
        assert_eq!(next(&mut alice)["type"], "accepted");
    }

    // A new version of the matcher is dropped in while the clients trade.
    crate::swap::install(
        dir.path(),
        "fifo-matcher-1.1.wasm",
        &crate::swap::version_of("fifo-matcher", "fifo-matcher", "1.1.0"),
    );
    let mut sent = 10;
    let deadline = Instant::now() + WAIT;
    while sent < 15 || !host.log().contains("swapped") {
        assert!(Instant::now() < deadline, "no swap: {}", host.log());
        // Orders keep coming during the swap; none is lost.
        send(&mut alice, order(sent, "buy", "90", "1"));
        assert_eq!(next(&mut alice)["type"], "accepted");
        sent += 1;
        std::thread::sleep(Duration::from_millis(20));
    }

    // Bob sells into Alice's first bid: the new version has her orders.
    send(&mut bob, order(1, "sell", "100", "2"));
    let filled = loop {
        let heard = next(&mut alice);
        if heard["type"] == "fill" {
            break heard;
        }
    };
    assert_eq!(
        (&filled["id"], &filled["quantity"], &filled["leaves"]),
        (&json!(1), &json!("2"), &json!("0")),
        "{filled}"
    );
    // The book after the trade, from the new version: Alice's second bid.
    let book = loop {
        let heard = next(&mut bob);
        if heard["type"] == "book" && heard["bids"][0]["price"] == "99" {
            break heard;
        }
    };
    assert_eq!(book["bids"][0]["quantity"], "1", "{book}");
    // Every order sent during the swap is still there to cancel.
    for id in 10..sent {
        send(
            &mut alice,
            json!({"type": "cancel", "id": id, "symbol": "SYN-A"}),
        );
    }
    for _ in 10..sent {
        let heard = loop {
            let heard = next(&mut alice);
            if heard["type"] != "fill" {
                break heard;
            }
        };
        assert_eq!(heard["type"], "canceled", "{heard}");
    }
    // Alice comes back on a new connection: her working order is listed.
    let (_again, open) = logon_listing(&url, "alice", &keys[0]);
    assert_eq!(
        open,
        json!([{"id": 2, "symbol": "SYN-A", "side": "buy", "price": "99",
                "leaves": "1", "filled": "0"}])
    );
    host.interrupt();
    let report = host.finish();
    assert!(
        report["swaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["outcome"] == "swapped"),
        "{}",
        report["swaps"]
    );
    assert_eq!(report["gateway"]["slow_consumers"], json!(0));
    assert_eq!(report["gateway"]["connections"], json!(3));
}

#[test]
fn an_accounts_own_validator_keeps_its_state_through_a_swap_of_the_validator() {
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher", "order-throttle"]);
    // Alice may send two orders in a window longer than the session.
    let (host, url, keys) = venue_with(
        dir.path(),
        &["alice [alice.validators.order-throttle]\nmax_orders = 2\nwindow_ms = 100000000"],
        "",
        &["--watch"],
    );
    let mut alice = logon(&url, "alice", &keys[0]);
    for id in [1, 2] {
        send(&mut alice, order(id, "buy", "90", "1"));
        assert_eq!(next(&mut alice)["type"], "accepted");
    }
    // A new version of the validator while she trades: her own instance is
    // made again from it and handed her count.
    crate::swap::install(
        dir.path(),
        "order-throttle-1.1.wasm",
        &crate::swap::version_of("order-throttle", "order-throttle", "1.1.0"),
    );
    let deadline = Instant::now() + WAIT;
    while !host.log().contains("swapped") {
        assert!(Instant::now() < deadline, "no swap: {}", host.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    send(&mut alice, order(3, "buy", "90", "1"));
    let refused = next(&mut alice);
    assert_eq!(
        (&refused["type"], &refused["reason"]),
        (&json!("rejected"), &json!("rate-limit")),
        "{refused}"
    );
    assert!(
        refused["message"].as_str().unwrap().contains("2 orders"),
        "{refused}"
    );
    host.interrupt();
    host.finish();
}

#[test]
fn a_fill_while_the_account_is_away_is_told_at_its_next_logon() {
    let dir = plugin_dir_with(&["synthetic-market", "fifo-matcher"]);
    let (host, url, keys) = venue(dir.path(), &["alice", "bob"], "");
    let mut alice = logon(&url, "alice", &keys[0]);
    send(&mut alice, order(1, "buy", "100", "2"));
    assert_eq!(next(&mut alice)["type"], "accepted");
    // Alice goes away; Bob takes her bid meanwhile.
    alice.close(None).unwrap();
    while alice.read().is_ok() {}
    std::thread::sleep(Duration::from_millis(300));
    let mut bob = logon(&url, "bob", &keys[1]);
    send(&mut bob, order(1, "sell", "100", "2"));
    let mut heard = vec![next(&mut bob), next(&mut bob)];
    heard.sort_by_key(|m| m["type"].as_str().unwrap().to_string());
    assert_eq!(heard[1]["type"], "fill", "{heard:?}");
    // Back: nothing open, then the fill she missed.
    let (mut alice, open) = logon_listing(&url, "alice", &keys[0]);
    assert_eq!(open, json!([]));
    let missed = next(&mut alice);
    assert_eq!(
        (
            &missed["type"],
            &missed["id"],
            &missed["quantity"],
            &missed["leaves"]
        ),
        (&json!("fill"), &json!(1), &json!("2"), &json!("0")),
        "{missed}"
    );
    host.interrupt();
    host.finish();
}
