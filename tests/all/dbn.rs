//! Databento DBN replay (the `dbn-replay` connector), `tradsys run
//! --replay`, `tradsys inspect-data`, and the host's books in the report.
//! The recorded files are in ../shared/data (skipped when it is absent).

use crate::common::{
    DEFAULT_SET, plugin_dir_with, replay_es_day, run_report, shared_data, tradsys, tradsys_run,
    typed,
};

const ES: &str = "esh4-glbx-mdp3-20231225.mbo.dbn.zst";

/// The example set with the DBN connector beside the synthetic market.
fn replay_set() -> tempfile::TempDir {
    let mut names = DEFAULT_SET.to_vec();
    names.push("dbn-replay");
    plugin_dir_with(&names)
}

fn levels(side: &serde_json::Value) -> Vec<(String, String, u64)> {
    side.as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["price"].as_str().unwrap().to_string(),
                l["size"].as_str().unwrap().to_string(),
                l["orders"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_es_day_replays_to_its_end_of_day_book_and_the_strategies_trade_on_it() {
    let Some(data) = shared_data(ES) else { return };
    let dir = replay_set();
    let report = replay_es_day(dir.path(), &data, None);
    assert_eq!(typed(&report).stopped, None);
    let book = &report["books"]["ESH4"];
    assert_eq!(book["detail"], "L3", "{book}");
    assert_eq!(book["resting_orders"], 11_217, "{book}");
    let sizes = |side: &str| -> Vec<(String, String)> {
        levels(&book[side])
            .into_iter()
            .map(|(p, s, _)| (p, s))
            .collect()
    };
    let want = |v: [(&str, &str); 5]| -> Vec<(String, String)> {
        v.iter()
            .map(|(p, s)| (p.to_string(), s.to_string()))
            .collect()
    };
    assert_eq!(
        sizes("bids"),
        want([
            ("4810.00", "22"),
            ("4809.75", "47"),
            ("4809.50", "50"),
            ("4809.25", "60"),
            ("4809.00", "85")
        ])
    );
    assert_eq!(
        sizes("asks"),
        want([
            ("4810.25", "28"),
            ("4810.50", "40"),
            ("4810.75", "41"),
            ("4811.00", "60"),
            ("4811.25", "65")
        ])
    );
    assert!(
        levels(&book["bids"])
            .iter()
            .all(|(_, _, orders)| *orders > 0)
    );
    // Every record of the file but the sideless fills, the definition once.
    let events = report["events"].as_u64().unwrap();
    assert!((68_700..=68_793).contains(&events), "{events} events");
    // The strategies saw the touch the host derived from the book, and traded.
    assert!(
        report["orders"]["submitted"].as_u64().unwrap() > 100,
        "{}",
        report["orders"]
    );
    assert!(report["fills"].as_u64().unwrap() > 0);
    let connector = report["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "connector")
        .unwrap();
    assert_eq!(connector["name"], "dbn-replay");
}

#[test]
fn replay_refuses_a_missing_file_or_an_unknown_format_naming_it() {
    let dir = replay_set();
    let output = tradsys_run(dir.path(), &["--replay", "no/such/day.dbn.zst"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--replay no/such/day.dbn.zst"), "{stderr}");

    let other = dir.path().join("prices.parquet");
    std::fs::write(&other, b"PAR1").unwrap();
    let output = tradsys_run(dir.path(), &["--replay", other.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("prices.parquet: unknown format"),
        "{stderr}"
    );
}

#[test]
fn a_file_of_another_schema_than_configured_stops_naming_both() {
    let Some(data) = shared_data(ES) else { return };
    let dir = replay_set();
    let config = dir.path().join("host.toml");
    std::fs::write(
        &config,
        "[plugins.dbn-replay]\nconfig = { schema = \"mbp-10\" }\n",
    )
    .unwrap();
    let file = data.join(ES);
    let output = tradsys_run(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--replay",
            file.to_str().unwrap(),
        ],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "{ES}: holds mbo records, but config `schema` is mbp-10"
        )),
        "{stderr}"
    );
}

#[test]
fn a_truncated_file_stops_the_session_naming_the_file_and_offset() {
    let Some(data) = shared_data(ES) else { return };
    let dir = replay_set();
    let whole = std::fs::read(data.join(ES)).unwrap();
    let days = tempfile::tempdir().unwrap();
    let cut = days.path().join("cut.mbo.dbn.zst");
    std::fs::write(&cut, &whole[..whole.len() * 2 / 3]).unwrap();
    let report = run_report(dir.path(), &["--replay", cut.to_str().unwrap()]);
    let stopped = report["stopped"].as_str().unwrap_or_default();
    assert!(
        stopped.starts_with("connector dbn-replay: cut.mbo.dbn.zst: corrupt or truncated at byte "),
        "{stopped}"
    );
    // What came before the damage was replayed.
    assert!(report["events"].as_u64().unwrap() > 1_000);
}

#[test]
fn a_directory_replays_a_definitions_file_first_and_its_data() {
    let Some(data) = shared_data(ES) else { return };
    let dir = replay_set();
    let days = tempfile::tempdir().unwrap();
    for file in [
        "databento/test_data.definition.futures_contract.dbn.zst",
        "databento/test_data.mbp-10.dbn.zst",
    ] {
        let name = file.rsplit('/').next().unwrap();
        std::fs::copy(data.join(file), days.path().join(name)).unwrap();
    }
    let report = run_report(dir.path(), &["--replay", days.path().to_str().unwrap()]);
    assert_eq!(typed(&report).stopped, None);
    let books = report["books"].as_object().unwrap();
    assert_eq!(books.len(), 1, "{books:?}");
    let (_, book) = books.iter().next().unwrap();
    assert_eq!(book["detail"], "L2", "MBP-10 builds levels: {book}");
    assert!(
        !levels(&book["bids"]).is_empty() && !levels(&book["asks"]).is_empty(),
        "{book}"
    );
}

#[test]
fn inspect_data_says_what_the_es_file_holds() {
    let Some(data) = shared_data(ES) else { return };
    let file = data.join(ES);
    let output = tradsys(&["inspect-data", file.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    for line in [
        "schema: mbo, dataset GLBX.MDP3",
        "records: 68792",
        "mbo add                   29216",
        "mbo cancel                17999",
        "mbo modify                12233",
        "mbo fill                   6371",
        "mbo trade                  2973",
        "ESH4",
        "time: 2023-12-2",
    ] {
        assert!(text.contains(line), "no `{line}` in:\n{text}");
    }
    let output = tradsys(&["inspect-data", "missing.dbn"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.dbn"));
}
