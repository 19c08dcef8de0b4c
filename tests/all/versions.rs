//! WIT versions: the host speaks `tradsys:plugins` 1.1.0 and still runs a
//! plugin built against the frozen 1.0.0 (`tests/plugins/legacy-strategy`,
//! bound to `wit/v1.0.0` without the SDK) beside 1.1.0 plugins; and 1.0.0
//! stays frozen.

use sha2::{Digest, Sha256};

use crate::common::{DEFAULT_SET, plugin, session_with, strategy, workspace_root};

#[test]
fn a_1_0_plugin_trades_beside_1_1_plugins() {
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
    // The 1.1 strategies beside it trade as they do without it.
    assert!(strategy(&report, "momentum")["fills"].as_u64().unwrap() > 0);
}

#[test]
fn the_released_1_0_0_wit_is_never_changed() {
    // A published version is frozen: additions go into the next minor.
    for (file, digest) in [
        (
            "kinds.wit",
            "9f5d83d68017823e180c920ecd3f2c18bafc6d674afe8b290a6a1898952059aa",
        ),
        (
            "types.wit",
            "5939f6e9ffa1efdbe31c0044a070f283bf01a44ea77e071b3e5b6337b33791d8",
        ),
    ] {
        let bytes = std::fs::read(workspace_root().join("wit/v1.0.0").join(file)).unwrap();
        let got: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            got, digest,
            "wit/v1.0.0/{file} changed: put additions in a new minor version"
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
