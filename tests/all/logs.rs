//! A plugin cannot flood the host's log: messages are cut, lines are rate
//! limited per plugin, and what was held back is counted in the report.

use std::process::Command;

use crate::common::{copy_test_plugins, dev_trust, plugin, plugin_dir_with, tradsys_bin};

/// Run 20 one-quote batches through the `hostile` strategy in `mode` with
/// plugin logs on; its stderr and JSON report.
fn logging_session(mode: &str) -> (Vec<u8>, serde_json::Value) {
    let dir = plugin_dir_with(&["fifo-matcher"]);
    copy_test_plugins(dir.path(), &["hostile", "hostile-connector"]);
    let config = dir.path().join("host.toml");
    std::fs::write(
        &config,
        format!(
            "[run]\nconnector = \"hostile-connector\"\nbatch_size = 1\n\n\
             [plugins.hostile-connector]\nconfig = {{ fail_at = 0 }}\n\n\
             [plugins.hostile]\nconfig = {{ mode = \"{mode}\" }}\n"
        ),
    )
    .unwrap();
    let json = dir.path().join("report.json");
    let output = Command::new(tradsys_bin())
        .args(["run", "--plugins", dir.path().to_str().unwrap()])
        .args(["--trust", dev_trust().to_str().unwrap()])
        .args(["--config", config.to_str().unwrap(), "--events", "20"])
        .args(["--report-json", json.to_str().unwrap()])
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr[..output.stderr.len().min(4000)])
    );
    let report = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    (output.stderr, report)
}

#[test]
fn a_plugin_logging_twenty_thousand_lines_a_call_is_held_to_its_rate() {
    let (stderr, report) = logging_session("log-flood");
    // 400,000 lines of 1 KiB asked for (400 MB): the burst of 1,000 and 100
    // a second pass, with one summary line a second.
    let logs = &plugin(&report, "hostile")["logs"];
    let dropped = logs["dropped"].as_u64().unwrap();
    let elapsed_s = report["timing"]["elapsed_ms"].as_f64().unwrap() / 1e3;
    let allowed = 1_000 + (100.0 * (elapsed_s + 1.0)) as u64;
    assert!(
        dropped >= 400_000 - allowed && dropped < 400_000,
        "dropped {dropped} in {elapsed_s} s"
    );
    // What passed, at about 1.1 KiB a line, and the host's own lines.
    let bound = (allowed as usize + 200) * 1200;
    assert!(
        stderr.len() < bound,
        "{} bytes of stderr, over {bound}",
        stderr.len()
    );
    let text = String::from_utf8_lossy(&stderr);
    assert!(text.contains("log lines dropped"), "a summary line");
    assert_eq!(report["events"], 20, "the session went on");
}

#[test]
fn a_huge_log_message_is_cut_with_a_marker() {
    let (stderr, report) = logging_session("log-huge");
    // 20 messages of 32 MiB: each cut to 1 KiB.
    assert!(stderr.len() < 200 << 10, "{} bytes of stderr", stderr.len());
    let text = String::from_utf8_lossy(&stderr);
    assert!(
        text.contains("[cut: 1024 of 33554432 bytes shown]"),
        "{}",
        &text[..text.len().min(2000)]
    );
    let logs = &plugin(&report, "hostile")["logs"];
    assert_eq!(logs["cut"], 20, "{logs}");
    assert_eq!(logs["dropped"], 0);
}
