//! The risk catalog end to end: every validator in one session of the
//! synthetic market (the demo's config) and of the recorded ES day.

use crate::common::{
    DEFAULT_SET, plugin, plugin_dir_with, replay_es_day, run_report, shared_data, typed,
    workspace_root,
};

/// The validators added with the catalog.
const CATALOG: [&str; 8] = [
    "volatility",
    "market-impact",
    "liquidity",
    "correlation",
    "custom-rule",
    "trading-state",
    "duplicate-order",
    "message-rate",
];

/// Refusals counted against `validator` in a report.
fn refusals(report: &serde_json::Value, validator: &str) -> u64 {
    report["orders"]["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["by"] == validator)
        .map(|r| r["count"].as_u64().unwrap())
        .sum()
}

#[test]
fn in_the_demo_every_validator_of_the_catalog_refuses_some_orders_and_passes_most() {
    let names: Vec<&str> = DEFAULT_SET.iter().chain(&CATALOG).copied().collect();
    let dir = plugin_dir_with(&[&names[..], &["sim-venue"]].concat());
    let demo = workspace_root().join("host/demo.toml");
    let report = run_report(
        dir.path(),
        &["--config", demo.to_str().unwrap(), "--events", "20000"],
    );
    let submitted = report["orders"]["submitted"].as_u64().unwrap();
    for validator in CATALOG {
        let entry = plugin(&report, validator);
        assert!(entry["faults"].as_object().unwrap().is_empty(), "{entry}");
        let refused = refusals(&report, validator);
        // The kill switch refuses nothing while it is `active`.
        let expected = if validator == "trading-state" {
            refused == 0
        } else {
            refused > 0 && refused < submitted / 4
        };
        assert!(
            expected,
            "{validator} refused {refused} of {submitted}: {}",
            report["orders"]
        );
    }
    let approved = report["orders"]["approved"].as_u64().unwrap();
    assert!(approved > submitted / 2, "{}", report["orders"]);
    assert!(report["fills"].as_u64().unwrap() > 0);

    // Halting one instrument: its new orders are refused, saying so.
    let config = dir.path().join("halted.toml");
    let demo_text = std::fs::read_to_string(&demo).unwrap();
    std::fs::write(
        &config,
        format!(
            "{demo_text}\n[plugins.trading-state]\nconfig = {{ \"state.SYN-C\" = \"halted\" }}\n"
        ),
    )
    .unwrap();
    let report = run_report(
        dir.path(),
        &["--config", config.to_str().unwrap(), "--events", "20000"],
    );
    let halted: Vec<&serde_json::Value> = report["orders"]["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["by"] == "trading-state")
        .collect();
    assert!(
        !halted.is_empty() && halted.iter().all(|r| r["reason"] == "instrument-halted"),
        "{}",
        report["orders"]
    );
}

#[test]
fn every_validator_of_the_catalog_runs_on_the_recorded_es_day() {
    let Some(data) = shared_data("esh4-glbx-mdp3-20231225.mbo.dbn.zst") else {
        return;
    };
    let names: Vec<&str> = ["dbn-replay", "sim-venue", "ma-crossover", "momentum"]
        .into_iter()
        .chain(CATALOG)
        .collect();
    let dir = plugin_dir_with(&names);
    let report = replay_es_day(dir.path(), &data, None);
    assert_eq!(typed(&report).stopped, None);
    let approved = report["orders"]["approved"].as_u64().unwrap();
    assert!(approved > 0, "{}", report["orders"]);
    for validator in CATALOG {
        let entry = plugin(&report, validator);
        assert!(entry["faults"].as_object().unwrap().is_empty(), "{entry}");
        assert!(entry["calls"].as_u64().unwrap() > 1, "{entry}");
    }
}

#[test]
fn the_pro_rata_matcher_runs_the_recorded_es_day_as_the_exchange_and_the_host_accepts_every_report()
{
    let Some(data) = shared_data("esh4-glbx-mdp3-20231225.mbo.dbn.zst") else {
        return;
    };
    let dir = plugin_dir_with(&[
        "dbn-replay",
        "pro-rata-matcher",
        "ma-crossover",
        "momentum",
        "mean-reversion",
        "max-notional",
    ]);
    let sized = std::fs::read_to_string(workspace_root().join("host/es-replay.toml")).unwrap();
    let config = dir.path().join("pro-rata.toml");
    std::fs::write(
        &config,
        format!(
            "[venue]\nmodel = \"exchange\"\n\n[plugins.pro-rata-matcher]\n\
             config = {{ algorithm = \"allocation\", self_trade = \"cancel-resting\" }}\n\n{sized}"
        ),
    )
    .unwrap();
    let report = replay_es_day(dir.path(), &data, Some(&config));
    // Every report of the matcher passed the host's checks (fills balance,
    // within limits and leaves): trading never halted.
    assert_eq!(typed(&report).halted, None);
    let matcher = plugin(&report, "pro-rata-matcher");
    assert!(
        matcher["faults"].as_object().unwrap().is_empty(),
        "{matcher}"
    );
    assert!(matcher["calls"].as_u64().unwrap() > 10, "{matcher}");
    assert!(
        report["fills"].as_u64().unwrap() > 0,
        "{}",
        report["orders"]
    );
}
