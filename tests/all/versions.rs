//! WIT versions: the host speaks `tradsys:plugins` 1.4.0 and still runs
//! plugins built against the frozen 1.0.0, 1.1.0, 1.2.0 and 1.3.0
//! (`tests/plugins/legacy-strategy`, `legacy-1-1-strategy`,
//! `legacy-1-2-strategy` and `legacy-1-3-matcher`, bound to their WIT
//! without the SDK) beside 1.4 plugins; and released versions stay frozen. (A 1.1.0 strategy beside
//! processors emitting signals is in `processors.rs`.)

use sha2::{Digest, Sha256};

use crate::common::{DEFAULT_SET, plugin, session_with, strategy, typed, workspace_root};

#[test]
fn a_1_0_plugin_trades_beside_1_4_plugins() {
    let mut plugins: Vec<&str> = DEFAULT_SET.to_vec();
    plugins.push("test:legacy-strategy");
    let report = session_with(&plugins, "", "4000");
    let legacy = plugin(&report, "legacy-strategy");
    assert_eq!(legacy["state"], "live", "{legacy}");
    assert!(
        legacy["faults"].as_object().is_none_or(|f| f.is_empty()),
        "{legacy}"
    );
    let traded = strategy(&report, "legacy-strategy");
    assert!(traded["submitted"].as_u64().unwrap() > 100, "{traded}");
    assert!(traded["fills"].as_u64().unwrap() > 0, "{traded}");
    // The 1.4 strategies beside it trade as they do without it.
    assert!(strategy(&report, "momentum")["fills"].as_u64().unwrap() > 0);
}

#[test]
fn a_1_1_plugin_reads_the_books_and_trades_beside_1_4_plugins() {
    let mut plugins: Vec<&str> = DEFAULT_SET.to_vec();
    plugins.push("test:legacy-1-1-strategy");
    let report = session_with(&plugins, "", "4000");
    // It traps when the 1.1.0 `market` import answers wrong.
    let legacy = plugin(&report, "legacy-1-1-strategy");
    assert_eq!(legacy["state"], "live", "{legacy}");
    assert!(
        legacy["faults"].as_object().is_none_or(|f| f.is_empty()),
        "{legacy}"
    );
    let traded = strategy(&report, "legacy-1-1-strategy");
    assert!(traded["fills"].as_u64().unwrap() > 10, "{traded}");
}

#[test]
fn a_1_1_connector_feeds_a_1_4_session() {
    let report = session_with(
        &["fifo-matcher", "momentum", "test:legacy-1-1-connector"],
        "[run]\nconnector = \"legacy-1-1-connector\"\n",
        "0",
    );
    assert_eq!(typed(&report).stopped, None);
    // Its definition, its status event and 2,000 quotes and trades, all taken.
    assert_eq!(report["events"], 2002);
    assert!(report["connector_dropped"].as_object().unwrap().is_empty());
    let book = &report["books"]["LEGACY"];
    assert_eq!(book["detail"], "L1", "{book}");
    assert_eq!(book["status"], "trading", "{book}");
}

#[test]
fn a_1_2_plugin_is_shown_trades_without_flags_and_trades_beside_1_4_plugins() {
    let mut plugins: Vec<&str> = DEFAULT_SET.to_vec();
    plugins.push("test:legacy-1-2-strategy");
    let report = session_with(&plugins, "", "4000");
    // It traps on a trade the conversion to 1.2.0 got wrong.
    let legacy = plugin(&report, "legacy-1-2-strategy");
    assert_eq!(legacy["state"], "live", "{legacy}");
    assert!(
        legacy["faults"].as_object().is_none_or(|f| f.is_empty()),
        "{legacy}"
    );
    // It sends an order after every batch with a trade.
    let traded = strategy(&report, "legacy-1-2-strategy");
    assert!(traded["submitted"].as_u64().unwrap() > 20, "{traded}");
    assert!(strategy(&report, "momentum")["fills"].as_u64().unwrap() > 0);
}

#[test]
fn a_1_3_matcher_without_the_1_4_imports_fills_the_strategies_orders() {
    // It fills every limit order at its limit, refuses the rest, and keeps
    // nothing resting.
    let report = session_with(
        &["synthetic-market", "momentum", "test:legacy-1-3-matcher"],
        "[run]\nmatcher = \"legacy-1-3-matcher\"\n",
        "4000",
    );
    let matcher = plugin(&report, "legacy-1-3-matcher");
    assert_eq!(matcher["state"], "live", "{matcher}");
    assert!(
        matcher["faults"].as_object().is_none_or(|f| f.is_empty()),
        "{matcher}"
    );
    assert_eq!(typed(&report).halted, None);
    let traded = strategy(&report, "momentum");
    assert!(traded["fills"].as_u64().unwrap() > 10, "{traded}");
    assert_eq!(
        traded["fills"], traded["submitted"],
        "every order of momentum is a limit order, filled in full: {traded}"
    );
}

#[test]
fn the_released_wit_versions_are_never_changed() {
    // A published version is frozen: additions go into the next minor.
    for (version, file, digest) in [
        (
            "v1.0.0",
            "kinds.wit",
            "9f5d83d68017823e180c920ecd3f2c18bafc6d674afe8b290a6a1898952059aa",
        ),
        (
            "v1.0.0",
            "types.wit",
            "5939f6e9ffa1efdbe31c0044a070f283bf01a44ea77e071b3e5b6337b33791d8",
        ),
        (
            "v1.1.0",
            "kinds.wit",
            "dc1ca9af445c885d1b5ba3fc9461aef1bc3a6a2c1bfd9f2dc40a7e518a1d583b",
        ),
        (
            "v1.1.0",
            "types.wit",
            "7ecdaa803f1ea70735e232c313868b151f485ce91d49fa3c401f87148607dd5b",
        ),
        (
            "v1.2.0",
            "kinds.wit",
            "4d6c796f5a137af2f63d033fc97c6eba191378d88a7cb7a2c3fc47f14be398c6",
        ),
        (
            "v1.2.0",
            "types.wit",
            "02ebd14b7b73277141118835b9d2caf545802c7d940544d599894f6d73b2cf35",
        ),
        (
            "v1.3.0",
            "kinds.wit",
            "95059f7f06f268ebefff5e347bdbe9d637bee3db77a64d7c122dfa1a5946d00c",
        ),
        (
            "v1.3.0",
            "types.wit",
            "197ffe858bbb2609ad8c605a2cde7b7ca37e4a547f9888171068092afc5796b0",
        ),
    ] {
        let path = workspace_root().join("wit").join(version).join(file);
        let bytes = std::fs::read(path).unwrap();
        let got: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            got, digest,
            "wit/{version}/{file} changed: put additions in a new minor version"
        );
    }
}

#[test]
fn a_strategy_reads_the_hosts_books_through_the_market_import() {
    // `book-reader` traps when a book's touch differs from the last quote.
    let report = session_with(
        &["synthetic-market", "fifo-matcher", "test:book-reader"],
        "",
        "3000",
    );
    let reader = plugin(&report, "book-reader");
    assert!(reader["calls"].as_u64().unwrap() > 50, "{reader}");
    assert!(
        reader["faults"].as_object().is_none_or(|f| f.is_empty()),
        "{reader}"
    );
    assert_eq!(
        report["books"].as_object().unwrap().len(),
        3,
        "{}",
        report["books"]
    );
    assert_eq!(report["books"]["SYN-A"]["detail"], "L1");
}
