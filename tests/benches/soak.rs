//! A long session's memory: peak RSS of `tradsys run` (release) after 10 M,
//! 50 M and 100 M events of the synthetic market by order, with one
//! strategy, one validator and the simulated venue. Each length is its own
//! process, so each peak is that session's. Target: within 5 % of each other.
//!
//! Run with `cargo xtask bench` (it builds the release host and the plugins),
//! or alone: `cargo bench -p tradsys-tests --bench soak` after those builds.
//! `TRADSYS_SOAK_EVENTS=1000000,5000000` runs other lengths.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target")
}

/// One session of `events` events: (peak RSS bytes, events per second).
fn session(dir: &Path, events: u64) -> (u64, f64) {
    let report = dir.join(format!("report-{events}.json"));
    let bin = target().join("release/tradsys");
    let started = Instant::now();
    let out = Command::new(&bin)
        .args(["run", "--events", &events.to_string(), "--plugins"])
        .arg(target().join("plugins"))
        .arg("--trust")
        .arg(target().join("dev-keys/trust"))
        .arg("--config")
        .arg(dir.join("soak.toml"))
        .arg("--report-json")
        .arg(&report)
        .env("RUST_LOG", "error")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (cargo xtask bench builds it)", bin.display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(report["events"], events);
    let rss = report["memory"]["host_peak_rss_bytes"]
        .as_u64()
        .expect("peak RSS is reported on Linux");
    (rss, events as f64 / started.elapsed().as_secs_f64())
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument that is not ours is ignored.
    let lengths: Vec<u64> = std::env::var("TRADSYS_SOAK_EVENTS")
        .map(|v| v.split(',').map(|n| n.trim().parse().unwrap()).collect())
        .unwrap_or_else(|_| vec![10_000_000, 50_000_000, 100_000_000]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("soak.toml"),
        "[run]\nstrategies = [\"momentum\"]\nvalidators = [\"max-notional\"]\n\n\
         [plugins.synthetic-market]\nconfig = { book = \"orders\" }\n",
    )
    .unwrap();
    println!(
        "long session: synthetic market by order, momentum, max-notional, sim-venue (release)\n"
    );
    println!(
        "{:>12}  {:>14}  {:>10}",
        "events", "peak RSS MiB", "events/s"
    );
    let mut peaks = Vec::new();
    for events in lengths {
        let (rss, rate) = session(dir.path(), events);
        println!(
            "{events:>12}  {:>14.1}  {rate:>10.0}",
            rss as f64 / f64::from(1 << 20)
        );
        peaks.push(rss);
    }
    let (low, high) = (
        *peaks.iter().min().unwrap() as f64,
        *peaks.iter().max().unwrap() as f64,
    );
    println!(
        "\nspread of the peaks: {:.1} % (target: within 5 %)",
        (high - low) / low * 100.0
    );
}
