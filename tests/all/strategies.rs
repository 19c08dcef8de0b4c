//! The book strategies end to end: on the synthetic market by order and on
//! the recorded ES day, each trades (pairs needs two instruments).

use crate::common::{
    plugin, plugin_dir_with, replay_es_day, run_report, shared_data, strategy, typed,
};

const BOOK_STRATEGIES: [&str; 3] = ["market-maker", "book-imbalance", "pairs"];

#[test]
fn the_book_strategies_trade_the_synthetic_market_by_order() {
    let dir = plugin_dir_with(
        &[
            &["synthetic-market", "sim-venue", "max-notional"][..],
            &BOOK_STRATEGIES,
        ]
        .concat(),
    );
    let config = dir.path().join("orders.toml");
    std::fs::write(
        &config,
        "[plugins.synthetic-market]\nconfig = { book = \"orders\" }\n",
    )
    .unwrap();
    let report = run_report(
        dir.path(),
        &["--config", config.to_str().unwrap(), "--events", "40000"],
    );
    for name in BOOK_STRATEGIES {
        let s = strategy(&report, name);
        assert!(s["fills"].as_u64().unwrap() > 0, "{name}: {s}");
        assert!(
            plugin(&report, name)["faults"]
                .as_object()
                .unwrap()
                .is_empty()
        );
    }
    // The market maker's orders rest: its fills are maker fills.
    let maker = strategy(&report, "market-maker");
    assert_eq!(maker["maker_fills"], maker["fills"], "{maker}");
}

#[test]
fn the_book_strategies_run_on_the_recorded_es_day() {
    let Some(data) = shared_data("esh4-glbx-mdp3-20231225.mbo.dbn.zst") else {
        return;
    };
    let dir = plugin_dir_with(&[&["dbn-replay", "sim-venue"][..], &BOOK_STRATEGIES].concat());
    let report = replay_es_day(dir.path(), &data, None);
    assert_eq!(typed(&report).stopped, None);
    for name in ["market-maker", "book-imbalance"] {
        let s = strategy(&report, name);
        assert!(s["submitted"].as_u64().unwrap() > 0, "{name}: {s}");
        assert!(
            plugin(&report, name)["faults"]
                .as_object()
                .unwrap()
                .is_empty()
        );
    }
    assert!(
        strategy(&report, "market-maker")["maker_fills"]
            .as_u64()
            .unwrap()
            > 0
    );
    // One instrument: the pairs strategy has no second leg and stays idle.
    assert_eq!(strategy(&report, "pairs")["submitted"], 0);
}
