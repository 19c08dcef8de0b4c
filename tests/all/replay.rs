//! The csv-replay connector over recorded data in ../shared/data (skipped
//! when that folder is absent, as in a user's clone).

use crate::common::{plugin_dir_with, run_report, shared_data, tradsys_run, typed};

const SET: [&str; 4] = ["csv-replay", "fifo-matcher", "ma-crossover", "max-notional"];

#[test]
fn replays_a_quote_file_to_the_end() {
    let Some(data) = shared_data("eurusd-quotes-2020-01.csv") else {
        return;
    };
    let dir = plugin_dir_with(&SET);
    let config = dir.path().join("replay.toml");
    std::fs::write(
        &config,
        format!(
            "[run]\nconnector = \"csv-replay\"\nevents = 0\n\n[plugins.csv-replay]\nread_dir = {:?}\nconfig = {{ file = \"eurusd-quotes-2020-01.csv\", format = \"quotes\" }}\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let report = run_report(dir.path(), &["--config", config.to_str().unwrap()]);
    // 9,500 quotes and the instrument definition.
    assert_eq!(report["events"], 9_501);
    assert_eq!(typed(&report).stopped, None);
}

#[test]
fn a_replay_without_its_data_grant_fails_naming_the_plugin() {
    let dir = plugin_dir_with(&SET);
    let config = dir.path().join("replay.toml");
    std::fs::write(
        &config,
        "[run]\nconnector = \"csv-replay\"\n\n[plugins.csv-replay]\nconfig = { file = \"eurusd-quotes-2020-01.csv\" }\n",
    )
    .unwrap();
    let output = tradsys_run(dir.path(), &["--config", config.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("connector `csv-replay` was refused")
            && stderr.contains("not granted: read_dir"),
        "{stderr}"
    );
}
