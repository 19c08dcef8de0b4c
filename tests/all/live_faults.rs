//! Live trading's faults against the QuickFIX venue (`live.rs` has the
//! harness): a dropped connection, a lying venue, a venue that does not
//! answer, garbled bytes and a stranger on the network, the kill switch,
//! and a connector swapped while connected.

use std::io::Write as _;
use std::time::Duration;

use crate::common::{Endpoint, plugin_dir_with};
use crate::live::{
    Host, Venue, cl_ord_id, host_journal, live_config, strategy, trading, trading_with,
};

#[test]
fn a_dropped_connection_is_made_again_and_the_session_goes_on() {
    let (mut venue, host, dir) = trading("live");
    let bid = cl_ord_id(&venue.expect("new "));
    let ask = cl_ord_id(&venue.expect("new "));
    venue.tell("drop");
    venue.expect("dropped");
    // The host connects again and logs on where the sequence numbers were
    // (QuickFIX keeps its own: a reset or a gap it would answer with a
    // Logout), then asks the status of each order it holds open.
    venue.expect("logon");
    venue.expect("subscribed");
    let mut asked = vec![venue.expect("status "), venue.expect("status ")];
    asked.sort();
    let mut expected = vec![format!("status {bid}"), format!("status {ask}")];
    expected.sort();
    assert_eq!(asked, expected);
    // The orders still work: a trade through the bid fills it, booked once.
    venue.tell("trade ESH4 4699.5 1");
    venue.expect("fill ");
    std::thread::sleep(Duration::from_millis(500));
    venue.tell("logout");
    let report = host.finish();
    assert_eq!(strategy(&report, "market-maker")["fills"], 1, "{report:#}");
    assert_eq!(report["live"]["connections"], 2, "{:#}", report["live"]);
    // The reconnect replays too, from the journal alone.
    let (same, said) = crate::live::replay(&dir);
    assert!(same, "{said}");
    assert!(venue.said("reject-received").is_empty(), "{:?}", venue.seen);
}

#[test]
fn a_lying_venue_books_nothing_wrong_and_trading_goes_on() {
    let (mut venue, host, _dir) = trading("live");
    let bid = cl_ord_id(&venue.expect("new "));
    let ask = cl_ord_id(&venue.expect("new "));
    // A fill of 5 on an order of 1, a sale below the ask's limit (4700.5),
    // and a fill of an order nobody sent.
    venue.tell(&format!("force-fill {bid} 5 4699.75"));
    venue.expect("forced");
    venue.tell(&format!("force-fill {ask} 1 4690"));
    venue.expect("forced");
    venue.tell("force-fill NOT-OURS-1 1 4700");
    venue.expect("forced");
    // Then an honest fill.
    venue.tell("trade ESH4 4699.5 1");
    venue.expect("fill ");
    std::thread::sleep(Duration::from_millis(500));
    venue.tell("logout");
    let report = host.finish();
    let live = &report["live"];
    assert_eq!(live["refused_reports"], 2, "{live:#}");
    let why = |n: usize| live["refusals"][n].as_str().unwrap().to_string();
    assert!(why(0).contains("overfill"), "{}", why(0));
    assert!(why(1).contains("through-limit"), "{}", why(1));
    let mm = strategy(&report, "market-maker");
    assert_eq!(mm["fills"], 1, "only the honest fill: {mm:#}");
    let positions = mm["positions"].as_array().unwrap();
    assert_eq!(positions.len(), 1, "{mm:#}");
    assert_eq!(positions[0]["quantity"], "1", "{mm:#}");
}

#[test]
fn the_kill_switch_cancels_every_working_order_at_the_venue() {
    let mut endpoint = None;
    let (mut venue, host, _dir) = trading_with("live", &[], |dir| {
        let e = Endpoint::for_dir(dir);
        let args = vec!["--admin".to_string(), e.address.clone()];
        endpoint = Some(e);
        args
    });
    let endpoint = endpoint.unwrap();
    let bid = cl_ord_id(&venue.expect("new "));
    let ask = cl_ord_id(&venue.expect("new "));
    endpoint.status_until("the admin endpoint", |t| t.contains("fix-venue"));
    let (ok, said) = endpoint.cli(&["halt", "--cancel-all"]);
    assert!(
        ok && said.contains("every working order is canceled"),
        "{said}"
    );
    let mut canceled = vec![venue.expect("canceled "), venue.expect("canceled ")];
    canceled.sort();
    let mut expected = vec![format!("canceled {bid}"), format!("canceled {ask}")];
    expected.sort();
    assert_eq!(canceled, expected);
    // The operator sees it on /metrics (checked by promtool): connected,
    // halted, the connection's figures.
    let metrics = endpoint.until_metrics(|text| text.contains("tradsys_trading_halted 1"));
    let (ok, said) = crate::operations::promtool(&metrics);
    assert!(ok, "{said}\n{metrics}");
    for line in [
        "tradsys_live_connected 1.0",
        "tradsys_live_connections_total 1",
        "tradsys_live_refused_reports_total 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no `{line}` in:\n{metrics}"
        );
    }
    // The market moves; the maker would quote again, but nothing new leaves.
    venue.tell("level ESH4 B 4700 0");
    venue.expect("level-done");
    venue.tell("level ESH4 B 4699.75 10");
    venue.expect("level-done");
    std::thread::sleep(Duration::from_millis(500));
    venue.tell("logout");
    venue.expect("logout");
    let report = host.finish();
    assert_eq!(
        report["halted"],
        "the operator halted trading and canceled every working order"
    );
    assert_eq!(venue.said("new ").len(), 2, "{:?}", venue.seen);
    let mm = strategy(&report, "market-maker");
    assert_eq!(mm["fills"], 0, "{mm:#}");
}

#[test]
fn a_new_fix_venue_is_swapped_in_while_connected_without_a_logout() {
    let mut endpoint = None;
    let (mut venue, host, dir) = trading_with("live", &[], |dir| {
        let e = Endpoint::for_dir(dir);
        let args = vec![
            "--watch".to_string(),
            "--admin".to_string(),
            e.address.clone(),
        ];
        endpoint = Some(e);
        args
    });
    let endpoint = endpoint.unwrap();
    venue.expect("new ");
    venue.expect("new ");
    // Version 1.0.1 dropped into the directory: swapped in between two
    // batches, handed 1.0.0's session (sequence numbers, orders), while
    // the connection stays up.
    let bytes = std::fs::read(dir.path().join("fix-venue.wasm")).unwrap();
    let mut manifest = tradsys_signing::read_manifest(&bytes).unwrap();
    manifest.version = semver::Version::new(1, 0, 1);
    let bytes = tradsys_signing::embed_manifest(&bytes, &manifest).unwrap();
    let bytes = tradsys_signing::sign(&bytes, &crate::common::dev_key()).unwrap();
    let staging = dir.path().join("fix-venue-1.0.1.wasm.part");
    std::fs::write(&staging, bytes).unwrap();
    std::fs::rename(&staging, dir.path().join("fix-venue-1.0.1.wasm")).unwrap();
    endpoint.status_until("fix-venue 1.0.1 running", |t| {
        t.lines()
            .any(|l| l.starts_with("fix-venue ") && l.contains("1.0.1"))
    });
    // The new version goes on where the old one was: a fill of an order
    // the old version sent is booked, and QuickFIX saw no new logon.
    venue.tell("trade ESH4 4699.5 1");
    venue.expect("fill ");
    std::thread::sleep(Duration::from_millis(500));
    venue.tell("logout");
    venue.expect("logout");
    let report = host.finish();
    assert_eq!(venue.said("logon").len(), 1, "{:?}", venue.seen);
    assert_eq!(strategy(&report, "market-maker")["fills"], 1, "{report:#}");
    assert_eq!(report["live"]["connections"], 1);
    let swapped = report["swaps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["outcome"] == "swapped");
    assert!(swapped, "{:#}", report["swaps"]);
    assert!(venue.said("reject-received").is_empty(), "{:?}", venue.seen);
}

#[test]
fn an_order_the_venue_does_not_answer_raises_an_alert_and_its_status_is_asked() {
    let (mut venue, host, dir) =
        trading_with("live", &[("mute-orders", "muted-orders")], |_| Vec::new());
    let muted = [
        cl_ord_id(&venue.expect("muted ")),
        cl_ord_id(&venue.expect("muted ")),
    ];
    // After 200 ms the host raises an alert for each; after 500 ms the
    // connector asks each order's status; the venue has
    // them and says they work: the host learns they were accepted.
    for _ in 0..2 {
        let asked = venue.expect("status ");
        let id = asked.strip_prefix("status ").unwrap();
        assert!(muted.iter().any(|m| m == id), "{asked} {muted:?}");
    }
    std::thread::sleep(Duration::from_millis(500));
    venue.tell("logout");
    let report = host.finish();
    let live = &report["live"];
    assert_eq!(live["unanswered"], 2, "{live:#}");
    assert!(venue.said("new ").is_empty(), "{:?}", venue.seen);
    let accepted = host_journal(&dir)
        .iter()
        .filter(|r| r["kind"] == "report" && r["event"] == "accepted")
        .count();
    assert_eq!(accepted, 2);
}

/// A TCP proxy between the host and the venue that can slip bytes of its
/// own into what the host receives: the network as a liar.
struct Proxy {
    port: u16,
    to_host: std::sync::Arc<std::sync::Mutex<Option<std::net::TcpStream>>>,
}

impl Proxy {
    fn start(venue_port: u16) -> Self {
        use std::net::{TcpListener, TcpStream};
        use std::sync::{Arc, Mutex};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let to_host: Arc<Mutex<Option<TcpStream>>> = Arc::default();
        let shared = to_host.clone();
        std::thread::spawn(move || {
            for host in listener.incoming() {
                let Ok(mut host) = host else { break };
                let Ok(mut venue) = TcpStream::connect(("127.0.0.1", venue_port)) else {
                    break;
                };
                *shared.lock().unwrap() = Some(host.try_clone().unwrap());
                let mut venue_writer = venue.try_clone().unwrap();
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut host, &mut venue_writer);
                });
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let mut buffer = [0u8; 16 * 1024];
                    loop {
                        let n = match std::io::Read::read(&mut venue, &mut buffer) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let mut guard = shared.lock().unwrap();
                        let Some(host) = guard.as_mut() else { break };
                        if host.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                    }
                    if let Some(host) = shared.lock().unwrap().take() {
                        let _ = host.shutdown(std::net::Shutdown::Both);
                    }
                });
            }
        });
        Self { port, to_host }
    }

    /// Bytes to the host as if the venue sent them.
    fn inject(&self, bytes: &[u8]) {
        let mut guard = self.to_host.lock().unwrap();
        guard
            .as_mut()
            .expect("the host is connected")
            .write_all(bytes)
            .unwrap();
    }
}

/// A FIX message as the venue would frame it, with `checksum` as given
/// (`None`: the right one).
fn framed(body: &str, checksum: Option<&str>) -> Vec<u8> {
    let body = body.replace('|', "\u{1}");
    let head = format!("8=FIX.4.4\u{1}9={}\u{1}", body.len());
    let sum = (head.bytes().chain(body.bytes()).map(u32::from).sum::<u32>() % 256).to_string();
    let sum = checksum.map_or(format!("{sum:0>3}"), str::to_string);
    format!("{head}{body}10={sum}\u{1}").into_bytes()
}

#[test]
fn garbled_bytes_from_the_network_are_dropped_and_trading_goes_on() {
    let mut venue = Venue::start();
    venue.tell("level ESH4 B 4700 10");
    venue.expect("level-done");
    venue.tell("level ESH4 S 4700.25 10");
    venue.expect("level-done");
    let proxy = Proxy::start(venue.port);
    let dir = plugin_dir_with(&["fix-venue", "market-maker"]);
    let host = Host::start_with(dir.path(), &live_config(proxy.port, "live"), &[]);
    venue.expect("logon");
    venue.expect("subscribed");
    venue.expect("new ");
    venue.expect("new ");
    std::thread::sleep(Duration::from_millis(300));
    // Noise, a message whose checksum is wrong, a BodyLength that is not a
    // number: each dropped, and the stream goes on after them.
    proxy.inject(b"\x00\xffnoise that is not FIX");
    proxy.inject(&framed(
        "35=0|49=VENUE|56=TRADSYS|34=999|52=20231225-00:00:00.000|",
        Some("000"),
    ));
    proxy.inject(b"8=FIX.4.4\x019=abc\x0135=0\x0110=000\x01");
    std::thread::sleep(Duration::from_millis(300));
    venue.tell("trade ESH4 4699.5 1");
    venue.expect("fill ");
    std::thread::sleep(Duration::from_millis(500));
    venue.tell("logout");
    venue.expect("logout");
    let report = host.finish();
    assert_eq!(strategy(&report, "market-maker")["fills"], 1, "{report:#}");
    assert_eq!(report["live"]["connections"], 1, "{:#}", report["live"]);
    let stopped = report["stopped"].as_str().unwrap_or_default();
    assert!(stopped.contains("the venue logged out"), "{stopped}");
    assert!(venue.said("reject-received").is_empty(), "{:?}", venue.seen);
    // Every byte that came in is in the journal, the noise too.
    let journal = host_journal(&dir);
    let noise = journal
        .iter()
        .any(|r| r["kind"] == "wire" && r["event"] == "in" && r["hex"].as_str().is_some());
    assert!(noise, "the bytes that are not UTF-8 are journaled as hex");
    let (same, said) = crate::live::replay(&dir);
    assert!(same, "{said}");
}

#[test]
fn a_message_from_a_stranger_is_rejected_and_ends_the_session() {
    let mut venue = Venue::start();
    let proxy = Proxy::start(venue.port);
    let dir = plugin_dir_with(&["fix-venue", "market-maker"]);
    let host = Host::start_with(dir.path(), &live_config(proxy.port, "live"), &[]);
    venue.expect("logon");
    venue.expect("subscribed");
    std::thread::sleep(Duration::from_millis(300));
    proxy.inject(&framed(
        "35=0|49=STRANGER|56=TRADSYS|34=3|52=20231225-00:00:00.000|",
        None,
    ));
    // The session rules: a Reject (CompID problem), then a Logout.
    venue.expect("reject-received");
    venue.expect("logout");
    let report = host.finish();
    let stopped = report["stopped"].as_str().unwrap_or_default();
    assert!(stopped.contains("CompID problem"), "{report:#}");
}

#[test]
fn a_killed_host_resumes_its_session_and_books_what_it_missed() {
    let (mut venue, host, dir) = trading("live");
    let bid = cl_ord_id(&venue.expect("new "));
    venue.expect("new ");
    std::thread::sleep(Duration::from_millis(500));
    // SIGKILL: no logout, no report, the journal as it was.
    host.kill();
    venue.expect("logout");
    // While the host is down, the market trades through its bid.
    venue.tell("trade ESH4 4699.5 1");
    assert!(venue.expect("fill ").starts_with(&format!("fill {bid} ")));
    // The restart resumes the killed session from its journal: the
    // connector's sequence numbers and orders come back, QuickFIX accepts
    // the logon (a reset or a gap it would refuse), and the fill the host
    // missed is booked from the venue's resend.
    let first = dir.path().join("killed.jsonl");
    std::fs::rename(dir.path().join("journal.jsonl"), &first).unwrap();
    let resumed = Host::start_with(
        dir.path(),
        &live_config(venue.port, "live"),
        &["--resume", first.to_str().unwrap()],
    );
    venue.expect("logon");
    venue.expect("subscribed");
    // The status of both quotes asked after the logon: the venue has
    // answered the resend request sent before them, on the same session.
    venue.expect("status ");
    venue.expect("status ");
    venue.tell("logout");
    venue.expect("logout");
    let report = resumed.finish();
    let mm = strategy(&report, "market-maker");
    assert_eq!(
        mm["fills"], 1,
        "the fill made while the host was down: {mm:#}"
    );
    let positions = mm["positions"].as_array().unwrap();
    assert_eq!(positions[0]["quantity"], "1", "{mm:#}");
    assert_eq!(report["live"]["refused_reports"], 0, "{:#}", report["live"]);
    assert!(venue.said("reject-received").is_empty(), "{:?}", venue.seen);
    // Reconciled after the logon: the venue's position (the bid's fill)
    // is the host's.
    let live = &report["live"];
    assert!(live["positions_checked"].as_u64().unwrap() >= 1, "{live:#}");
    assert!(
        live["reconciliation"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["finding"] != "position"),
        "{live:#}"
    );
    // The resumed session's journal (the replayed part and what followed)
    // replays the same.
    let (same, said) = crate::live::replay(&dir);
    assert!(same, "{said}");
}

#[test]
fn orders_a_restarted_host_does_not_know_are_canceled_at_the_venue() {
    let (mut venue, host, dir) = trading("live");
    let mut quotes = [
        cl_ord_id(&venue.expect("new ")),
        cl_ord_id(&venue.expect("new ")),
    ];
    std::thread::sleep(Duration::from_millis(300));
    host.kill();
    venue.expect("logout");
    // A restart that does not resume: both sides start the sequence again
    // (ResetSeqNumFlag), and the quotes the killed session left working are
    // strangers to it; the mass status after the logon finds them and the
    // host has them canceled (`[venue] unknown_orders = "cancel"`, the
    // default).
    std::fs::rename(
        dir.path().join("journal.jsonl"),
        dir.path().join("killed.jsonl"),
    )
    .unwrap();
    let config = live_config(venue.port, "live").replace(
        "status_after_ms = \"500\"",
        "status_after_ms = \"500\", reset_on_logon = \"true\"",
    );
    let restarted = Host::start_with(dir.path(), &config, &[]);
    venue.expect("logon");
    venue.expect("mass-status 2");
    let mut canceled = vec![venue.expect("canceled "), venue.expect("canceled ")];
    canceled.sort();
    quotes.sort();
    let expected: Vec<String> = quotes.iter().map(|q| format!("canceled {q}")).collect();
    assert_eq!(canceled, expected);
    std::thread::sleep(Duration::from_millis(300));
    venue.tell("logout");
    let report = restarted.finish();
    let live = &report["live"];
    assert_eq!(live["refused_reports"], 0, "{live:#}");
    // Both are reported, with what was done; the positions agree (flat).
    assert_eq!(live["differences"], 2, "{live:#}");
    for quote in &quotes {
        assert!(
            live["reconciliation"].as_array().unwrap().iter().any(|e| {
                e["finding"] == "unknown-order"
                    && e["detail"].as_str().unwrap().contains(quote.as_str())
                    && e["action"] == "canceled"
            }),
            "{quote} not reported canceled: {live:#}"
        );
    }
}

#[test]
fn cancel_on_disconnect_cancels_what_stayed_open_once_logged_on_again() {
    let mut venue = Venue::start();
    venue.tell("level ESH4 B 4700 10");
    venue.expect("level-done");
    venue.tell("level ESH4 S 4700.25 10");
    venue.expect("level-done");
    let dir = plugin_dir_with(&["fix-venue", "market-maker"]);
    let config = live_config(venue.port, "live").replace(
        "status_after_ms = \"500\"",
        "status_after_ms = \"500\", cancel_on_disconnect = \"true\"",
    );
    let host = Host::start_with(dir.path(), &config, &[]);
    venue.expect("logon");
    let mut quotes = [
        cl_ord_id(&venue.expect("new ")),
        cl_ord_id(&venue.expect("new ")),
    ];
    venue.tell("drop");
    venue.expect("dropped");
    venue.expect("logon");
    let mut canceled = [venue.expect("canceled "), venue.expect("canceled ")];
    canceled.sort();
    quotes.sort();
    assert_eq!(canceled, quotes.map(|q| format!("canceled {q}")));
    std::thread::sleep(Duration::from_millis(300));
    venue.tell("logout");
    let report = host.finish();
    assert_eq!(report["live"]["refused_reports"], 0, "{:#}", report["live"]);
}

#[test]
fn a_network_connector_that_keeps_trapping_is_quarantined_and_ends_the_session() {
    let mut venue = Venue::start();
    let dir = plugin_dir_with(&["market-maker", "sim-venue"]);
    crate::common::copy_test_plugins(dir.path(), &["hostile-network"]);
    let config = format!(
        "[run]\nconnector = \"hostile-network\"\nstrategies = [\"market-maker\"]\nevents = 0\n\
         [venue]\nmodel = \"live\"\n\
         [plugins.hostile-network]\nnetwork = [\"127.0.0.1:{}\"]\n",
        venue.port
    );
    let host = Host::start_with(dir.path(), &config, &[]);
    // It logged on, then trapped on each call; the host restarted it each
    // time until the circuit breaker opened, and then the session ended.
    venue.expect("logon");
    let report = host.finish();
    let stopped = report["stopped"].as_str().unwrap_or_default();
    assert!(stopped.contains("quarantined"), "{report:#}");
    let plugin = report["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "hostile-network")
        .unwrap();
    let faults: u64 = plugin["faults"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(serde_json::Value::as_u64)
        .sum();
    assert!(faults >= 5, "{plugin:#}");
}
