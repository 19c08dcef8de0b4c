//! The plugin set changes while trading: plugins join from a watched
//! directory, a strategy whose file is removed leaves, a validator whose
//! file is removed waits for the operator, and `tradsys plugin disable |
//! enable | remove` do the same by command.

use serde_json::Value;

use crate::common::{plugin, plugins_dir, shipped_version, strategy};
use crate::operations::{RunningHost, json_file};
use crate::swap::install;

fn view(host: &RunningHost) -> Value {
    serde_json::from_str(&host.get("/api/snapshot").1).unwrap()
}

fn strategy_orders(view: &Value, name: &str) -> Option<u64> {
    view["strategies"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == name)?["orders"]
        .as_u64()
}

fn plugin_calls(view: &Value, name: &str) -> Option<u64> {
    view["plugins"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)?["calls"]
        .as_u64()
}

/// Wait until the view satisfies `wanted`: the view.
fn until(host: &RunningHost, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    let body = host.until("/api/snapshot", what, |status, body| {
        status == 200 && serde_json::from_str(body).is_ok_and(|v: Value| wanted(&v))
    });
    serde_json::from_str(&body).unwrap()
}

/// Wait until the membership log (via the dashboard's timeline) has `change` for `plugin`.
fn changed(host: &RunningHost, plugin: &str, change: &str) -> Value {
    until(host, &format!("{plugin} {change}"), |v| {
        v["timeline"].as_array().unwrap().iter().any(|e| {
            e["kind"] == "membership"
                && e["plugin"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{plugin}@"))
                && e["message"].as_str().unwrap().contains(change)
        })
    })
}

/// Whether `f` of the view grows within two seconds, from a snapshot
/// published after what came before (two publications on: the first may
/// have been made before the change took effect).
fn grows(host: &RunningHost, f: impl Fn(&Value) -> Option<u64>) -> bool {
    for _ in 0..2 {
        let sequence = view(host)["sequence"].as_u64();
        until(host, "a newer snapshot", |v| {
            v["sequence"].as_u64() > sequence
        });
    }
    let before = f(&view(host));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
        if f(&view(host)) > before {
            return true;
        }
    }
    false
}

#[test]
fn plugins_join_leave_and_wait_for_the_operator_while_the_session_trades() {
    let dir = crate::common::plugin_dir_with(&[
        "synthetic-market",
        "fifo-matcher",
        "ma-crossover",
        "mean-reversion",
        "max-notional",
        "price-collar",
        "position-limit",
    ]);
    let config = dir.path().join("host.toml");
    std::fs::write(
        &config,
        "[run]\nevents = 0\nbatch_size = 4\nwatch = true\n[swap]\ndebounce_ms = 50\n",
    )
    .unwrap();
    let report_file = dir.path().join("report.json");
    let host = RunningHost::start(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--report-json",
            report_file.to_str().unwrap(),
        ],
    );
    host.until("/readyz", "ready", |s, _| s == 200);
    assert_eq!(strategy_orders(&view(&host), "market-maker"), None);

    // A strategy put into the directory joins and trades.
    let example = |name: &str| std::fs::read(plugins_dir().join(format!("{name}.wasm"))).unwrap();
    install(dir.path(), "market-maker.wasm", &example("market-maker"));
    changed(&host, "market-maker", "joined");
    until(&host, "market-maker's orders", |v| {
        strategy_orders(v, "market-maker") > Some(20)
    });
    // So does a validator: it is asked about the orders from then on.
    install(
        dir.path(),
        "order-throttle.wasm",
        &example("order-throttle"),
    );
    changed(&host, "order-throttle", "joined");
    assert!(grows(&host, |v| plugin_calls(v, "order-throttle")));

    // And a processor: it derives bars from then on.
    install(
        dir.path(),
        "bar-aggregator.wasm",
        &example("bar-aggregator"),
    );
    changed(&host, "bar-aggregator", "joined");
    assert!(grows(&host, |v| plugin_calls(v, "bar-aggregator")));

    // Its file removed, the strategy leaves: its resting quotes are cancelled
    // and it sends nothing more.
    std::fs::remove_file(dir.path().join("market-maker.wasm")).unwrap();
    changed(&host, "market-maker", "left");
    assert!(!grows(&host, |v| strategy_orders(v, "market-maker")));

    // A validator's file removed: it keeps checking until the operator confirms.
    std::fs::remove_file(dir.path().join("price-collar.wasm")).unwrap();
    changed(&host, "price-collar", "removal-pending");
    assert!(
        grows(&host, |v| plugin_calls(v, "price-collar")),
        "still checking"
    );
    let (ok, text) = host.endpoint.cli(&["plugin", "remove", "price-collar"]);
    assert!(ok && text.contains("price-collar@1.0.0: removed"), "{text}");
    assert!(
        !grows(&host, |v| plugin_calls(v, "price-collar")),
        "no longer asked"
    );

    // By command: disable and enable a strategy; the connector never leaves.
    let (ok, text) = host.endpoint.cli(&["plugin", "disable", "ma-crossover"]);
    assert!(
        ok && text.contains(&format!(
            "ma-crossover@{}: disabled",
            shipped_version("ma-crossover")
        )),
        "{text}"
    );
    assert!(!grows(&host, |v| strategy_orders(v, "ma-crossover")));
    let (ok, text) = host.endpoint.cli(&["plugin", "enable", "ma-crossover"]);
    assert!(ok && text.contains("enabled"), "{text}");
    assert!(grows(&host, |v| plugin_calls(v, "ma-crossover")));
    let (ok, text) = host
        .endpoint
        .cli(&["plugin", "disable", "synthetic-market"]);
    assert!(!ok && text.contains("never leaves"), "{text}");
    let (ok, text) = host.endpoint.cli(&["plugin", "enable", "momentum"]);
    assert!(!ok && text.contains("not in this session"), "{text}");
    // Over HTTP, each reason has its status, with the message the CLI prints.
    let (status, message) = host.post("/enable/momentum", "");
    assert_eq!(status, 404, "{message}");
    assert!(
        message.contains("momentum is not in this session"),
        "{message}"
    );
    assert_eq!(host.post("/disable/synthetic-market", "").0, 409);
    assert_eq!(
        host.post("/enable/ma-crossover", "").0,
        409,
        "already active"
    );
    let (status, message) = host.post("/configure/ma-crossover", "");
    assert_eq!(status, 400, "{message}");
    assert!(message.contains("nothing to configure"), "{message}");
    assert_eq!(
        host.post("/rollback/ma-crossover", "").0,
        404,
        "no earlier version"
    );
    assert_eq!(host.post("/promote/nobody", "").0, 404);
    let (ok, text) = host.endpoint.cli(&["status"]);
    assert!(
        ok && text.contains(&format!(
            "member: market-maker@{} left",
            shipped_version("market-maker")
        )),
        "{text}"
    );

    host.interrupt();
    let report = json_file(&report_file, "report");
    let changes: Vec<(String, String)> = report["membership"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let name = m["plugin"].as_str().unwrap().split('@').next().unwrap();
            (name.to_string(), m["change"].as_str().unwrap().to_string())
        })
        .collect();
    let expected = [
        ("market-maker", "joined"),
        ("order-throttle", "joined"),
        ("bar-aggregator", "joined"),
        ("market-maker", "left"),
        ("price-collar", "removal-pending"),
        ("price-collar", "removed"),
        ("ma-crossover", "disabled"),
        ("ma-crossover", "enabled"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(changes, expected);
    let left = report["membership"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["change"] == "left")
        .unwrap();
    assert!(left["canceled_orders"].as_u64().unwrap() > 0, "{left}");
    // The strategy that left stays in the report with what it did.
    let maker = strategy(&report, "market-maker");
    assert!(maker["submitted"].as_u64().unwrap() > 20, "{maker}");
    assert_eq!(plugin(&report, "market-maker")["presence"], "left");
    assert_eq!(plugin(&report, "price-collar")["presence"], "removed");
    assert_eq!(plugin(&report, "ma-crossover")["presence"], "active");
    assert_eq!(plugin(&report, "order-throttle")["presence"], "active");
    let bars = report["processors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "bar-aggregator")
        .unwrap();
    assert!(bars["bars"].as_u64().unwrap() > 0, "{bars}");
}
