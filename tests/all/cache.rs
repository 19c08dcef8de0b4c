//! The compiled-artifact cache: hits, and artifacts that must not be loaded.

use std::path::{Path, PathBuf};

use crate::common::{DEFAULT_SET, plugin, plugin_dir_with, plugins_dir, run_report, tradsys_run};
use crate::session::without_timing;

fn sources(report: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["load"]["source"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The cached artifact of the example plugin `name` in plugin directory
/// `dir` (its tag is beside it, with the extension `tag`).
fn artifact(dir: &Path, name: &str) -> PathBuf {
    let bytes = std::fs::read(plugins_dir().join(format!("{name}.wasm"))).unwrap();
    let hex: String = tradsys_signing::digest(&bytes)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let cache = dir.join(".tradsys-cache");
    std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name().unwrap().to_string_lossy().starts_with(&hex)
                && p.extension().is_some_and(|x| x == "cwasm")
        })
        .unwrap_or_else(|| panic!("no artifact of {name} in {}", cache.display()))
}

#[test]
fn a_second_run_loads_every_plugin_from_the_cache_with_the_same_results() {
    let dir = plugin_dir_with(&DEFAULT_SET);
    let first = run_report(dir.path(), &["--events", "1000"]);
    assert!(
        sources(&first).iter().all(|(_, s)| s == "compiled"),
        "{:?}",
        sources(&first)
    );
    let second = run_report(dir.path(), &["--events", "1000"]);
    assert!(
        sources(&second).iter().all(|(_, s)| s == "cache-hit"),
        "{:?}",
        sources(&second)
    );
    assert_eq!(without_timing(first), without_timing(second));
}

#[test]
fn corrupt_foreign_and_stale_artifacts_are_removed_and_recompiled() {
    let dir = plugin_dir_with(&DEFAULT_SET);
    let baseline = run_report(dir.path(), &["--events", "1000"]);
    // Another host's cache: same plugin, same engine, another key.
    let elsewhere = plugin_dir_with(&["ma-crossover", "synthetic-market", "fifo-matcher"]);
    run_report(elsewhere.path(), &["--events", "10"]);

    let flipped = artifact(dir.path(), "max-notional");
    let mut bytes = std::fs::read(&flipped).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&flipped, bytes).unwrap();
    let truncated = artifact(dir.path(), "fifo-matcher").with_extension("tag");
    std::fs::write(truncated, b"short").unwrap();
    // The same plugin compiled by the same engine gives the same bytes; the
    // other host's tag, under its own key, is what gives it away.
    for extension in ["cwasm", "tag"] {
        std::fs::copy(
            artifact(elsewhere.path(), "ma-crossover").with_extension(extension),
            artifact(dir.path(), "ma-crossover").with_extension(extension),
        )
        .unwrap();
    }
    let stale = dir.path().join(".tradsys-cache/00-0000000000000000.cwasm");
    std::fs::write(&stale, b"from another engine").unwrap();

    let report = run_report(dir.path(), &["--events", "1000"]);
    for name in ["max-notional", "ma-crossover"] {
        assert_eq!(
            plugin(&report, name)["load"]["source"],
            "recompiled",
            "{name}"
        );
        assert!(
            plugin(&report, name)["load"]["reason"]
                .as_str()
                .unwrap()
                .contains("not written by this host"),
            "{name}"
        );
    }
    assert!(
        plugin(&report, "fifo-matcher")["load"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("corrupt")
    );
    assert_eq!(plugin(&report, "momentum")["load"]["source"], "cache-hit");
    assert!(
        !stale.exists(),
        "an artifact of another engine configuration is removed"
    );
    assert_eq!(
        without_timing(report),
        without_timing(baseline),
        "the results do not change"
    );
}

#[cfg(unix)]
#[test]
fn a_cache_directory_others_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = plugin_dir_with(&DEFAULT_SET);
    let cache = dir.path().join(".tradsys-cache");
    std::fs::create_dir(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let output = tradsys_run(dir.path(), &["--events", "10"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(".tradsys-cache") && stderr.contains("writable by others"),
        "{stderr}"
    );
}
