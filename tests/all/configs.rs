//! A plugin's config is checked by the plugin itself: a key it does not know
//! (a typo such as `max_notinal`) fails its `init` naming the key and the
//! known ones, rather than leaving a default limit in force without a word.

use crate::common::{DEFAULT_SET, plugin, plugin_dir_with, session_with, strategy, tradsys_run};

#[test]
fn a_typo_in_a_config_key_fails_that_plugin_naming_the_key_and_a_validator_fails_closed() {
    let plugins: Vec<&str> = DEFAULT_SET
        .iter()
        .copied()
        .chain(["bar-aggregator"])
        .collect();
    let toml = "[plugins.max-notional]\nconfig = { max_notinal = 5000 }\n\
                [plugins.momentum]\nconfig = { quantiy = 2 }\n\
                [plugins.bar-aggregator]\nconfig = { time_m = 1000 }\n";
    let report = session_with(&plugins, toml, "3000");

    let failure = |name: &str| {
        let p = plugin(&report, name);
        assert_eq!(p["state"], "failed", "{p}");
        p["failure"].as_str().unwrap().to_string()
    };
    let validator = failure("max-notional");
    assert!(
        validator.contains(
            "config `max_notinal`: unknown key (the keys are `max_notional`, `max_quantity`)"
        ),
        "{validator}"
    );
    let momentum = failure("momentum");
    assert!(
        momentum.contains(
            "config `quantiy`: unknown key (the keys are `lookback`, `threshold_bps`, `quantity`,"
        ),
        "{momentum}"
    );
    let bars = failure("bar-aggregator");
    assert!(
        bars.contains("config `time_m`: unknown key (the keys are `time_ms`, `time_ms.SYMBOL`,"),
        "{bars}"
    );

    // The validator that cannot start refuses every order: nothing trades
    // under a limit nobody set.
    let orders = &report["orders"];
    assert!(orders["submitted"].as_u64().unwrap() > 0, "{orders}");
    assert_eq!(orders["approved"], 0, "fail closed: {orders}");
    assert_eq!(report["fills"], 0);
    // The strategy that cannot start sends nothing; the others go on.
    assert_eq!(strategy(&report, "momentum")["submitted"], 0);
    assert!(
        strategy(&report, "ma-crossover")["submitted"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[test]
fn a_typo_in_the_matchers_or_the_connectors_config_stops_the_run_before_it_trades() {
    let dir = plugin_dir_with(&DEFAULT_SET);
    let config = dir.path().join("host.toml");
    for (toml, said) in [
        (
            "[plugins.fifo-matcher]\nconfig = { self_trad = \"cancel-resting\" }\n",
            "starting the matcher: plugin fifo-matcher failed to initialise: \
             config `self_trad`: unknown key (the only key is `self_trade`)",
        ),
        (
            "[plugins.synthetic-market]\nconfig = { instrument = 2 }\n",
            "starting the connector: plugin synthetic-market failed to initialise: \
             config `instrument`: unknown key (the keys are `seed`, `events`, `instruments`,",
        ),
    ] {
        std::fs::write(&config, toml).unwrap();
        let out = tradsys_run(
            dir.path(),
            &["--events", "100", "--config", config.to_str().unwrap()],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains(said), "{stderr}");
    }
}
