//! Whole sessions through the `tradsys` binary.

use crate::common::{DEFAULT_SET, plugin, plugin_dir_with, run_report, typed};

/// Remove every `timing`, `load` and `memory` object: what is left must not
/// depend on the machine or on the state of the artifact cache.
pub fn without_timing(mut value: serde_json::Value) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.remove("timing");
                map.remove("load");
                map.remove("memory");
                map.remove("file");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut value);
    value
}

#[test]
fn default_run_exercises_every_plugin() {
    let dir = plugin_dir_with(&DEFAULT_SET);
    // A throttle of ten orders a second, so that it refuses some (an order
    // reaches the venue with the next batch, so bursts are rarer than when
    // orders traded at once).
    let config = dir.path().join("host.toml");
    std::fs::write(
        &config,
        "[plugins.order-throttle]\nconfig = { max_orders = 10 }\n",
    )
    .unwrap();
    let report = run_report(dir.path(), &["--config", config.to_str().unwrap()]);
    assert_eq!(report["events"], 20_000);
    assert!(report["rejected_files"].as_array().unwrap().is_empty());
    assert_eq!(typed(&report).stopped, None);
    let orders = &report["orders"];
    assert!(orders["approved"].as_u64().unwrap() > 100, "{orders}");
    assert!(report["fills"].as_u64().unwrap() > 100, "{report}");

    // Every validator refuses some orders of the default run.
    for validator in [
        "max-notional",
        "price-collar",
        "position-limit",
        "order-throttle",
    ] {
        let refused: u64 = orders["rejections"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["by"] == validator)
            .map(|r| r["count"].as_u64().unwrap())
            .sum();
        assert!(refused > 0, "{validator} refused nothing: {orders}");
    }
    // Every strategy trades.
    let strategies = report["strategies"].as_array().unwrap();
    assert_eq!(strategies.len(), 3);
    for s in strategies {
        assert!(s["fills"].as_u64().unwrap() > 0, "{s}");
    }
    // Every plugin was called, none faulted.
    let plugins = report["plugins"].as_array().unwrap();
    assert_eq!(plugins.len(), DEFAULT_SET.len());
    for p in plugins {
        assert!(p["calls"].as_u64().unwrap() > 1, "{p}");
        assert_eq!(p["faults"], serde_json::json!({}), "{p}");
    }
}

#[test]
fn same_seed_gives_the_same_report() {
    let dir = plugin_dir_with(&DEFAULT_SET);
    let first = without_timing(run_report(dir.path(), &["--events", "4000", "--seed", "7"]));
    let second = without_timing(run_report(dir.path(), &["--events", "4000", "--seed", "7"]));
    assert_eq!(first, second);
    let other = without_timing(run_report(dir.path(), &["--events", "4000", "--seed", "8"]));
    assert_ne!(
        first["strategies"], other["strategies"],
        "a different seed should trade differently"
    );
}

#[test]
fn a_validator_that_cannot_start_refuses_every_order() {
    let dir = plugin_dir_with(&DEFAULT_SET);
    let config = dir.path().join("host.toml");
    std::fs::write(
        &config,
        "[plugins.max-notional]\nconfig = { max_notional = \"-5\" }\n",
    )
    .unwrap();
    let report = run_report(
        dir.path(),
        &["--events", "3000", "--config", config.to_str().unwrap()],
    );
    let orders = &report["orders"];
    assert!(orders["submitted"].as_u64().unwrap() > 0, "{orders}");
    assert_eq!(orders["approved"], 0, "fail closed: {orders}");
    assert_eq!(report["fills"], 0);
    let refused_as_fault = orders["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["by"] == "max-notional" && r["reason"] == "validator-fault");
    assert!(refused_as_fault, "{orders}");
    let max_notional = plugin(&report, "max-notional");
    assert_eq!(
        max_notional["faults"]["init"], 1,
        "init is tried once, not on every batch: {max_notional}"
    );
}

#[test]
fn an_output_limit_for_validators_is_refused_naming_the_setting() {
    let dir = plugin_dir_with(&DEFAULT_SET);
    let config = dir.path().join("host.toml");
    std::fs::write(&config, "[limits.risk-validator]\nmax_output = 1\n").unwrap();
    let out = crate::common::tradsys_run(dir.path(), &["--config", config.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("limits.risk-validator.max_output") && err.contains("host.toml"),
        "{err}"
    );
}
