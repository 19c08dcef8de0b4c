//! The venue models: the simulated venue (`sim-venue`) over replayed book
//! data and bars, and the exchange venue (strategies trade only with each
//! other).

use std::collections::BTreeMap;

use crate::common::{
    DEFAULT_SET, copy_test_plugins, plugin_dir_with, replay_es_day, run_report, shared_data,
    strategy, tradsys_run, workspace_root,
};

/// The example set with `matcher` as its matcher and `extra` plugins.
fn set(matcher: &str, extra: &[&str]) -> tempfile::TempDir {
    let mut names: Vec<&str> = DEFAULT_SET
        .iter()
        .copied()
        .filter(|n| *n != "fifo-matcher")
        .collect();
    names.push(matcher);
    names.extend_from_slice(extra);
    plugin_dir_with(&names)
}

fn count(report: &serde_json::Value, name: &str, field: &str) -> u64 {
    strategy(report, name)[field].as_u64().unwrap()
}

#[test]
fn on_the_es_day_passive_orders_wait_in_the_queue_and_some_fill() {
    let Some(data) = shared_data("esh4-glbx-mdp3-20231225.mbo.dbn.zst") else {
        return;
    };
    let dir = set("sim-venue", &["dbn-replay"]);
    let report = replay_es_day(dir.path(), &data, None);
    assert_eq!(report["venue"], "simulated");
    let matcher = report["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "matcher")
        .unwrap();
    assert_eq!(matcher["name"], "sim-venue");
    // momentum rests GTC orders at the touch: they queue, and some fill.
    let (maker, submitted) = (
        count(&report, "momentum", "maker_fills"),
        count(&report, "momentum", "submitted"),
    );
    assert!(maker > 0, "{}", strategy(&report, "momentum"));
    assert!(
        maker * 2 < submitted,
        "most wait or are re-priced: {maker} of {submitted}"
    );
    // ma-crossover sends marketable IOC orders: it takes.
    assert!(count(&report, "ma-crossover", "taker_fills") > 0);
    for name in ["ma-crossover", "momentum", "mean-reversion"] {
        let s = strategy(&report, name);
        assert_eq!(
            s["fills"].as_u64(),
            Some(count(&report, name, "maker_fills") + count(&report, name, "taker_fills")),
            "{s}"
        );
    }
}

#[test]
fn the_btc_bar_file_trades_and_fills() {
    let Some(data) = shared_data("esh4-glbx-mdp3-20231225.mbo.dbn.zst") else {
        return;
    };
    let dir = set("sim-venue", &["csv-replay"]);
    let config = dir.path().join("bars.toml");
    std::fs::write(
        &config,
        format!(
            "[run]\nconnector = \"csv-replay\"\n\n[plugins.csv-replay]\nread_dir = {:?}\nconfig = {{ file = \"btc-perp-2022-01-1m.csv\" }}\n\n[plugins.max-notional]\nconfig = {{ max_notional = 100000000 }}\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let report = run_report(
        dir.path(),
        &["--config", config.to_str().unwrap(), "--events", "30000"],
    );
    assert!(
        report["fills"].as_u64().unwrap() > 0,
        "{}",
        report["orders"]
    );
}

#[test]
fn an_exchange_venue_matches_strategies_only_with_each_other() {
    let dir = set("fifo-matcher", &[]);
    let config = dir.path().join("exchange.toml");
    std::fs::write(&config, "[venue]\nmodel = \"exchange\"\n").unwrap();
    let report = run_report(
        dir.path(),
        &["--config", config.to_str().unwrap(), "--events", "20000"],
    );
    assert_eq!(report["venue"], "exchange");
    // Every lot bought was sold by another strategy: positions net to zero.
    let mut net: BTreeMap<String, f64> = BTreeMap::new();
    for s in report["strategies"].as_array().unwrap() {
        for p in s["positions"].as_array().unwrap() {
            let q: f64 = p["quantity"].as_str().unwrap().parse().unwrap();
            *net.entry(p["instrument"].as_str().unwrap().to_string())
                .or_default() += q;
        }
    }
    assert!(net.values().all(|q| *q == 0.0), "{net:?}");
    // And every fill has a maker and a taker side among the strategies.
    let (mut maker, mut taker) = (0, 0);
    for s in report["strategies"].as_array().unwrap() {
        maker += s["maker_fills"].as_u64().unwrap();
        taker += s["taker_fills"].as_u64().unwrap();
    }
    assert!(
        maker > 0 && taker > 0,
        "strategies crossed each other: {maker} {taker}"
    );
}

#[test]
fn fees_are_booked_in_the_ledger_per_instrument() {
    let Some(data) = shared_data("esh4-glbx-mdp3-20231225.mbo.dbn.zst") else {
        return;
    };
    let dir = set("sim-venue", &["dbn-replay"]);
    let sized = std::fs::read_to_string(workspace_root().join("host/es-replay.toml")).unwrap();
    let with_fees = dir.path().join("fees.toml");
    std::fs::write(
        &with_fees,
        format!("{sized}\n[venue.fees.ESH4]\nmaker_per_unit = 0.25\ntaker_per_unit = \"0.85\"\n"),
    )
    .unwrap();
    let free = replay_es_day(dir.path(), &data, None);
    let charged = replay_es_day(dir.path(), &data, Some(&with_fees));
    let money =
        |s: &serde_json::Value, key: &str| -> f64 { s[key].as_str().unwrap().parse().unwrap() };
    for name in ["ma-crossover", "momentum", "mean-reversion"] {
        let (a, b) = (strategy(&free, name), strategy(&charged, name));
        assert_eq!(a["fills"], b["fills"], "fees change no fill");
        let fees = money(b, "fees");
        let lower =
            0.25 * b["maker_fills"].as_f64().unwrap() + 0.85 * b["taker_fills"].as_f64().unwrap();
        assert!(
            fees >= lower - 1e-9 && fees > 0.0,
            "{name}: fees {fees}, at least {lower}"
        );
        let realized = money(a, "realized_pnl") - fees;
        assert!(
            (realized - money(b, "realized_pnl")).abs() < 0.011,
            "{name}: {a} / {b}"
        );
    }
}

#[test]
fn the_demo_runs_the_synthetic_market_by_order_and_passive_orders_fill_in_the_queue() {
    let dir = set("sim-venue", &[]);
    let demo = workspace_root().join("host/demo.toml");
    let report = run_report(
        dir.path(),
        &["--config", demo.to_str().unwrap(), "--events", "20000"],
    );
    for symbol in ["SYN-A", "SYN-B", "SYN-C"] {
        let book = &report["books"][symbol];
        assert_eq!(book["detail"], "L3", "{book}");
        assert!(book["resting_orders"].as_u64().unwrap() > 5, "{book}");
    }
    assert!(count(&report, "momentum", "maker_fills") > 0);
    assert!(
        strategy(&report, "momentum")["avg_queue_wait_ms"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}

/// The last of `feed-mirror`'s counts in `log` (it logs them every 200
/// calls): deltas, resting before, queues, instruments off, fills handed.
fn mirror_counts(log: &str) -> [u64; 5] {
    let line = log
        .lines()
        .rfind(|l| l.contains("checked: "))
        .unwrap_or_else(|| panic!("no count from feed-mirror in:\n{log}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    numbers[numbers.len() - 5..].try_into().unwrap()
}

#[test]
fn a_matcher_reads_each_deltas_order_before_it_and_the_queues_and_asks_for_no_deltas() {
    let Some(data) = shared_data("esh4-glbx-mdp3-20231225.mbo.dbn.zst") else {
        return;
    };
    // feed-mirror keeps its own copy of the book by order and traps when
    // `venue-feed.before` or `market.queue` disagrees with it; after its
    // 1,200th call it asks for none of the instrument's adds, modifies and
    // cancels, and traps on any it is handed after that outside a clear's
    // exchange event.
    let dir = plugin_dir_with(&["dbn-replay"]);
    copy_test_plugins(dir.path(), &["feed-mirror"]);
    let config = dir.path().join("host.toml");
    std::fs::write(
        &config,
        "[run]\nmatcher = \"feed-mirror\"\nstrategies = []\nvalidators = []\n\n\
         [plugins.dbn-replay]\nconfig = { multiplier = 50 }\n\n\
         [plugins.feed-mirror]\nconfig = { off_at = 1200 }\n",
    )
    .unwrap();
    let report = tempfile::NamedTempFile::new().unwrap();
    let file = data.join("esh4-glbx-mdp3-20231225.mbo.dbn.zst");
    let out = tradsys_run(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--replay",
            file.to_str().unwrap(),
            "--report-json",
            report.path().to_str().unwrap(),
        ],
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.path()).unwrap()).unwrap();
    let mirror = report["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "feed-mirror")
        .unwrap();
    assert_eq!(mirror["state"], "live", "{mirror}");
    assert!(
        mirror["faults"].as_object().is_none_or(|f| f.is_empty()),
        "{mirror}\n{log}"
    );
    let [deltas, resting, queues, off, fills] = mirror_counts(&log);
    // The day's first 1,200 calls hand tens of thousands of deltas, most of
    // them about orders resting (cancels, modifies, fills), each checked.
    assert!(deltas > 20_000, "{deltas} deltas");
    assert!(resting * 2 > deltas, "{resting} of {deltas} resting before");
    assert!(queues > 1_000, "{queues} queues");
    // Asked for none, the instrument's fills still come; nothing else does.
    assert_eq!(off, 1);
    assert!(fills > 100, "{fills} fills handed while off");
    let calls = mirror["calls"].as_u64().unwrap();
    assert!(calls > 1_200, "{calls} calls");
}
