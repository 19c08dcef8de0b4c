//! The host checks what plugins return against what it knows: a lying
//! matcher's reports, a strategy's malformed orders, a connector's bad
//! events never reach the ledger.

use crate::common::{plugin, session_with, strategy, typed};

/// A session of the hostile connector (one quote per batch, one batch per
/// strategy call), the `hostile` strategy in `mode` (with `count` it buys 1
/// at 100 per call) and the lying matcher telling `lie` on its third call.
fn lying_session(
    lie: &str,
    venue: &str,
    strategy_mode: &str,
    connector_lie: &str,
) -> serde_json::Value {
    lying_session_with(lie, venue, strategy_mode, connector_lie, "", "20")
}

/// [`lying_session`] with `extra` host config.
fn lying_session_with(
    lie: &str,
    venue: &str,
    strategy_mode: &str,
    connector_lie: &str,
    extra: &str,
    events: &str,
) -> serde_json::Value {
    let toml = format!(
        "[run]\nconnector = \"hostile-connector\"\nbatch_size = 1\n\n\
         [venue]\nmodel = \"{venue}\"\n\n\
         [plugins.hostile-connector]\nconfig = {{ fail_at = 0, lie = \"{connector_lie}\" }}\n\n\
         [plugins.hostile]\nconfig = {{ mode = \"{strategy_mode}\" }}\n\n\
         [plugins.lying-matcher]\nconfig = {{ lie = \"{lie}\", at = 3, rest_every = 2 }}\n\n\
         {extra}"
    );
    let set = [
        "test:hostile-connector",
        "test:lying-matcher",
        "test:hostile",
    ];
    session_with(&set, &toml, events)
}

/// The strategy's position in the one instrument, in lots (0 when flat).
fn position(report: &serde_json::Value) -> i64 {
    strategy(report, "hostile")["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["quantity"].as_str().unwrap().parse::<i64>().unwrap())
        .sum()
}

#[test]
fn a_truthful_matcher_is_booked_as_it_reports() {
    let report = lying_session("none", "simulated", "count", "none");
    assert_eq!(typed(&report).halted, None);
    // 20 calls, one order each; every second call's order rests.
    assert_eq!(position(&report), 10, "{}", report["strategies"]);
    assert_eq!(report["fills"], 10);
}

#[test]
fn every_lie_of_a_matcher_is_a_contract_fault_and_none_is_booked() {
    let lies = [
        ("overfill", "overfill"),
        ("wrong-side", "wrong-side"),
        ("negative", "fill-quantity"),
        ("double", "not-working"),
        ("through-limit", "through-limit"),
        ("leaves", "leaves"),
        ("cancel-part", "cancel-quantity"),
        ("accept-twice", "accepted-twice"),
        ("unknown-order", "unknown-order"),
    ];
    for (lie, rule) in lies {
        let report = lying_session(lie, "simulated", "count", "none");
        let halted = report["halted"].as_str().unwrap_or_default();
        assert!(
            halted.contains(&format!("rule `{rule}` broken by report")),
            "{lie}: {halted}"
        );
        // Call 1 filled, call 2 rested (canceled at the halt), the lie of
        // call 3 was not booked: one lot, never 3 or short.
        assert_eq!(position(&report), 1, "{lie}: {}", report["strategies"]);
        assert_eq!(report["fills"], 1, "{lie}");
        let matcher = plugin(&report, "lying-matcher");
        assert_eq!(matcher["faults"]["contract"], 1, "{lie}: {matcher}");
        // Trading halted: later orders are refused, the data goes on.
        assert_eq!(report["events"], 20, "{lie}");
        let refused = &report["orders"]["rejections"];
        assert!(
            refused
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["reason"] == "instrument-halted"),
            "{lie}: {refused}"
        );
    }
}

#[test]
fn fills_that_do_not_balance_in_the_exchange_venue_are_refused() {
    // The lying matcher fills every order at once with no counterpart.
    let report = lying_session("none", "exchange", "count", "none");
    let halted = report["halted"].as_str().unwrap_or_default();
    assert!(halted.contains("rule `unbalanced`"), "{halted}");
    assert_eq!(position(&report), 0, "{}", report["strategies"]);
    assert_eq!(report["fills"], 0);
}

#[test]
fn malformed_strategy_orders_are_refused_by_the_host_before_any_validator() {
    let report = lying_session("none", "simulated", "bad-orders", "none");
    let refused: Vec<(String, String, u64)> = report["orders"]["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["by"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap().to_string(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    // Five bad orders per call, 20 calls; only the host refused anything.
    assert_eq!(
        refused,
        vec![("host".to_string(), "invalid-order".to_string(), 100)]
    );
    // The good order of each call: filled, or resting on even calls.
    assert_eq!(position(&report), 10, "{}", report["strategies"]);
}

#[test]
fn connector_events_that_break_the_rules_are_dropped_and_counted() {
    let cases = [
        ("undefined", "unknown-instrument", 1),
        ("bad-definition", "bad-definition", 1),
        ("multiplier", "multiplier-changed", 1),
    ];
    for (lie, rule, dropped) in cases {
        let report = lying_session("none", "simulated", "count", lie);
        assert_eq!(
            report["connector_dropped"],
            serde_json::json!({ rule: dropped }),
            "{lie}"
        );
        assert_eq!(typed(&report).stopped, None, "{lie}");
        // One batch more for the dropped event: 11 lots bought at 100, valued
        // at the mid 100.5 with the first definition's
        // multiplier of 1: a redefinition cannot multiply the PnL by 50.
        assert_eq!(position(&report), 11, "{lie}");
        assert_eq!(
            strategy(&report, "hostile")["unrealized_pnl"],
            "5.50",
            "{lie}: {}",
            report["strategies"]
        );
    }
}

#[test]
fn a_trade_whose_two_sides_disagree_on_price_is_refused_and_no_pnl_vanishes() {
    // The strategy buys 1 at 100 and sells 1 at 101 per call; the matcher
    // fills a buy and a sell against each other, each at its own limit.
    let report = lying_session("two-prices", "exchange", "both", "none");
    let halted = report["halted"].as_str().unwrap_or_default();
    assert!(halted.contains("rule `two-prices`"), "{halted}");
    assert_eq!(report["fills"], 0, "nothing of the lie is booked");
    let hostile = strategy(&report, "hostile");
    assert_eq!(hostile["realized_pnl"], "0.00", "{hostile}");
    assert_eq!(position(&report), 0);
}

#[test]
fn feed_events_that_cannot_be_are_dropped_and_counted_and_the_books_never_hold_them() {
    let cases = [
        ("crossed", "crossed-quote"),
        ("negative-price", "non-positive-price"),
        ("negative-size", "non-positive-size"),
        ("clock-back", "time-went-back"),
        ("long-symbol", "long-symbol"),
        ("unknown-cancel", "unknown-order"),
        ("over-cancel", "cancel-exceeds"),
    ];
    for (lie, rule) in cases {
        let report = lying_session("none", "simulated", "count", lie);
        assert_eq!(
            report["connector_dropped"],
            serde_json::json!({ rule: 1 }),
            "{lie}"
        );
        assert_eq!(typed(&report).stopped, None, "{lie}");
        let book = &report["books"]["HOSTILE"];
        for side in ["bids", "asks"] {
            for level in book[side].as_array().unwrap() {
                let price: f64 = level["price"].as_str().unwrap().parse().unwrap();
                let size: f64 = level["size"].as_str().unwrap().parse().unwrap();
                assert!(price > 0.0 && size > 0.0, "{lie}: {book}");
            }
        }
        if let (Some(bid), Some(ask)) = (book["bids"].get(0), book["asks"].get(0)) {
            let price =
                |l: &serde_json::Value| l["price"].as_str().unwrap().parse::<f64>().unwrap();
            assert!(price(bid) < price(ask), "{lie}: crossed {book}");
        }
        // The 8 MiB symbol is nowhere: the report stays small.
        let size = report.to_string().len();
        assert!(size < 200_000, "{lie}: a report of {size} bytes");
    }
}

#[test]
fn a_feed_whose_time_goes_back_stops_the_stream_when_the_config_says_so() {
    let report = lying_session_with(
        "none",
        "simulated",
        "count",
        "clock-back",
        "[market]\nlate_events = \"stop\"\n",
        "20",
    );
    let stopped = report["stopped"].as_str().unwrap_or_default();
    assert!(
        stopped.contains("hostile-connector") && stopped.contains("time went back"),
        "{stopped}"
    );
    assert_eq!(report["events"], 2, "the definition and one quote");
}

#[test]
fn a_feed_that_adds_orders_without_end_stops_at_the_books_bound() {
    let report = lying_session_with(
        "none",
        "simulated",
        "quiet",
        "endless-orders",
        "[market]\nmax_book_orders = 100\n",
        "0",
    );
    let stopped = report["stopped"].as_str().unwrap_or_default();
    assert!(
        stopped.contains("HOSTILE") && stopped.contains("max_book_orders"),
        "{stopped}"
    );
    assert_eq!(report["books"]["HOSTILE"]["resting_orders"], 100);
    assert_eq!(
        report["connector_dropped"]["book-full"], 1,
        "{}",
        report["connector_dropped"]
    );
}
