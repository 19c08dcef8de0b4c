//! Live reconciliation against the QuickFIX venue (`live.rs` has the
//! harness): after the logon the venue's working orders, each open order's
//! status and the positions are compared with the host's; what differs is
//! reported, and an order the host does not know is adopted when the config
//! says so.

use crate::common::{Endpoint, plugin_dir_with};
use crate::live::{Host, Venue, host_journal, live_config};

/// `[venue] unknown_orders = "adopt"` into the market maker.
fn adopting(port: u16) -> String {
    live_config(port, "live").replace(
        "answer_ms = 200",
        "answer_ms = 200\nunknown_orders = \"adopt\"\nadopt_into = \"market-maker\"",
    )
}

/// A venue with a book, two orders entered by hand before the host logs
/// on (a bid far below the market, an offer above it) and a position of
/// three lots bought elsewhere (by phone); a host adopting unknown orders
/// into the market maker, logged on, reconciled and quoting.
fn adopting_session() -> (Venue, Host, tempfile::TempDir, Endpoint) {
    let mut venue = Venue::start();
    for (line, answer) in [
        ("level ESH4 B 4700 10", "level-done"),
        ("level ESH4 S 4700.25 10", "level-done"),
        ("enter HAND-1 ESH4 1 4690 2", "entered HAND-1"),
        ("enter HAND-2 ESH4 2 4705 1", "entered HAND-2"),
        ("position ESH4 3", "position ESH4"),
    ] {
        venue.tell(line);
        venue.expect(answer);
    }
    let dir = plugin_dir_with(&["fix-venue", "market-maker"]);
    let endpoint = Endpoint::for_dir(dir.path());
    let host = Host::start_with(
        dir.path(),
        &adopting(venue.port),
        &["--admin", &endpoint.address],
    );
    venue.expect("logon");
    venue.expect("mass-status 2");
    venue.expect("positions 1");
    venue.expect("new ");
    venue.expect("new ");
    (venue, host, dir, endpoint)
}

#[test]
fn orders_entered_at_the_venue_are_adopted_and_a_position_from_elsewhere_is_reported() {
    let (mut venue, host, dir, endpoint) = adopting_session();
    // Adopted, not canceled: the market trades through the offer, and its
    // fill is the market maker's.
    venue.tell("trade ESH4 4706 1");
    venue.expect("fill HAND-2 1 @ 4705");
    let metrics = endpoint.until_metrics(|text| {
        text.lines()
            .any(|l| l == "tradsys_live_reconciliation_differences_total 3")
    });
    assert!(metrics.contains("tradsys_live_connected 1"), "{metrics}");
    venue.tell("logout");
    venue.expect("logout");
    let report = host.finish();
    let live = &report["live"];
    assert_eq!(live["differences"], 3, "{live:#}");
    let found: Vec<(String, String, String)> = live["reconciliation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (text("finding"), text("detail"), text("action"))
        })
        .collect();
    for (finding, detail, action) in [
        (
            "unknown-order",
            "`HAND-1`: ESH4 buy 2 at 4690",
            "adopted by market-maker",
        ),
        (
            "unknown-order",
            "`HAND-2`: ESH4 sell 1 at 4705",
            "adopted by market-maker",
        ),
        (
            "position",
            "ESH4: the venue holds 3, the host's books 0",
            "reported",
        ),
    ] {
        assert!(
            found
                .iter()
                .any(|(f, d, a)| f == finding && d.contains(detail) && a.starts_with(action)),
            "no {finding} `{detail}` ({action}) in {found:#?}"
        );
    }
    // The adopted offer's fill is in the market maker's books, under the
    // host id the adoption gave it.
    let journal = host_journal(&dir);
    let adopted = journal
        .iter()
        .find(|r| r["kind"] == "reconcile" && r["detail"].as_str().unwrap().contains("HAND-2"))
        .expect("the adoption is journaled");
    let fill = journal
        .iter()
        .find(|r| {
            r["kind"] == "report" && r["event"] == "filled" && r["host_id"] == adopted["order"]
        })
        .unwrap_or_else(|| panic!("no fill of the adopted order: {adopted}"));
    assert_eq!(
        (&fill["strategy"], &fill["price"], &fill["quantity"]),
        (&"market-maker".into(), &"4705".into(), &"1".into()),
        "{fill}"
    );
    assert_eq!(live["refused_reports"], 0, "{live:#}");
    // The session, adoptions and all, replays the same from its journal.
    let (same, said) = crate::live::replay(&dir);
    assert!(same, "{said}");
}

#[test]
fn the_kill_switch_cancels_an_adopted_order_too() {
    let (mut venue, host, _dir, endpoint) = adopting_session();
    endpoint.status_until("the admin endpoint", |t| t.contains("fix-venue"));
    let (ok, said) = endpoint.cli(&["halt", "--cancel-all"]);
    assert!(ok, "{said}");
    let mut canceled: Vec<String> = (0..4).map(|_| venue.expect("canceled ")).collect();
    canceled.sort();
    assert!(
        canceled.contains(&"canceled HAND-1".to_string())
            && canceled.contains(&"canceled HAND-2".to_string()),
        "{canceled:?}"
    );
    venue.tell("logout");
    venue.expect("logout");
    let report = host.finish();
    assert_eq!(report["live"]["refused_reports"], 0, "{:#}", report["live"]);
}

#[test]
fn adopting_needs_a_strategy_of_the_session() {
    let venue = Venue::start();
    let dir = plugin_dir_with(&["fix-venue", "market-maker"]);
    let config = adopting(venue.port).replace("adopt_into = \"market-maker\"", "");
    let host = Host::start_with(dir.path(), &config, &[]);
    let (ok, log) = host.exit();
    assert!(!ok, "{log}");
    assert!(log.contains("venue.adopt_into"), "{log}");
    let config = adopting(venue.port).replace("\"market-maker\"\n", "\"momentum\"\n");
    let host = Host::start_with(dir.path(), &config, &[]);
    let (ok, log) = host.exit();
    assert!(!ok && log.contains("`momentum`"), "{log}");
}
