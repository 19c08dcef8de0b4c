//! Swapping under load: a seeded session of 9,000,000 synthetic events (about 10 s) run
//! in this process, once as it is and once while a strategy (`ma-crossover`)
//! and a validator (`max-notional`) are swapped between two versions, one
//! swap 5 ms after the other was made. Prints the event rate, the number of swaps, and the p99.9 latency
//! of those two plugins' calls in both runs; checks that both runs traded
//! exactly the same. Run with `cargo xtask bench`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tradsys_host::testing::{AnyInstance, Registry, Runtime, SwapRequest};
use tradsys_host::{HostConfig, Plugin, Session, TrustPolicy, TrustSettings};

const EVENTS: u64 = 9_000_000;
const SWAPPED: [&str; 2] = ["ma-crossover", "max-notional"];

fn target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target")
}

fn policy() -> TrustPolicy {
    TrustPolicy::from_settings(&TrustSettings {
        dir: Some(target().join("dev-keys/trust")),
        allow_unsigned: false,
    })
    .unwrap()
}

/// `dir` holding the examples the session uses, and a second directory with
/// the swapped plugins as version 1.0.1.
fn directories() -> (tempfile::TempDir, tempfile::TempDir) {
    let (base, alt) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let key = tradsys_signing::SecretKey::read(&target().join("dev-keys/dev.key")).unwrap();
    for name in [
        "synthetic-market",
        "fifo-matcher",
        "ma-crossover",
        "momentum",
        "max-notional",
        "price-collar",
    ] {
        let file = format!("{name}.wasm");
        let bytes = std::fs::read(target().join("plugins").join(&file))
            .expect("built example plugins: run `cargo xtask build-plugins`");
        std::fs::write(base.path().join(&file), &bytes).unwrap();
        if SWAPPED.contains(&name) {
            let mut manifest = tradsys_signing::read_manifest(&bytes).unwrap();
            manifest.version = semver::Version::new(1, 0, 1);
            let bytes = tradsys_signing::embed_manifest(&bytes, &manifest).unwrap();
            let bytes = tradsys_signing::sign(&bytes, &key).unwrap();
            std::fs::write(alt.path().join(&file), bytes).unwrap();
        }
    }
    (base, alt)
}

/// Run the session; with `swap`, swap [`SWAPPED`] every 5 ms. The report and
/// the number of swaps made.
fn run(base: &Path, alt: &Path, swap: bool) -> (serde_json::Value, usize) {
    let mut config = HostConfig::default();
    config.run.events = EVENTS;
    let runtime = Arc::new(
        Runtime::new()
            .unwrap()
            .with_cache(&tradsys_host::testing::cache_path(base))
            .unwrap(),
    );
    let registry = Registry::load_dir(base, &config, &policy()).unwrap();
    let alternate = Registry::load_dir(alt, &config, &policy()).unwrap();
    let versions: Vec<Vec<Arc<Plugin>>> = [&registry, &alternate]
        .iter()
        .map(|r| SWAPPED.iter().map(|n| r.get(n).unwrap().clone()).collect())
        .collect();
    for plugin in versions.iter().flatten() {
        plugin.prepare(&runtime).unwrap();
    }
    let mut session = Session::new(runtime.clone(), &registry, &config).unwrap();
    let control = session.control();
    let stop = session.stop_handle();
    let feeder = swap.then(|| {
        let runtime = runtime.clone();
        std::thread::spawn(move || {
            let mut round = 0usize;
            loop {
                let set = &versions[(round + 1) % 2];
                for plugin in set {
                    let prepared = AnyInstance::prepare(&runtime, plugin.clone()).unwrap();
                    let (reply, made) = std::sync::mpsc::channel();
                    let request = SwapRequest {
                        reply: Some(reply),
                        ..SwapRequest::new(vec![prepared], "bench")
                    };
                    // One swap at a time, as the watcher and the admin endpoint send them.
                    if control.submit(request).is_err() || made.recv().is_err() {
                        return;
                    }
                }
                round += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    });
    session.run().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let report = serde_json::to_value(session.report()).unwrap();
    let swaps = report["swaps"].as_array().unwrap().len();
    drop(session);
    if let Some(feeder) = feeder {
        feeder.join().unwrap();
    }
    (report, swaps)
}

fn p999(report: &serde_json::Value, name: &str) -> f64 {
    let plugin = report["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap();
    plugin["timing"]["p999_ns"].as_f64().unwrap() / 1e3
}

fn main() {
    let (base, alt) = directories();
    println!("swapping under load: {EVENTS} events, release build\n");
    let (plain, _) = run(base.path(), alt.path(), false);
    let (swapped, swaps) = run(base.path(), alt.path(), true);
    let traded = |r: &serde_json::Value| {
        (
            r["orders"].clone(),
            r["fills"].clone(),
            r["strategies"].clone(),
        )
    };
    assert_eq!(
        traded(&plain),
        traded(&swapped),
        "swaps changed what was traded"
    );
    assert!(
        swapped["swaps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["outcome"] == "swapped")
    );
    for (label, report) in [("without swaps", &plain), ("with swaps   ", &swapped)] {
        println!(
            "{label}: {:>8.0} events/s over {:5.1} s; p99.9 per call: ma-crossover {:6.1} µs, max-notional {:6.1} µs",
            report["timing"]["events_per_second"].as_f64().unwrap(),
            report["timing"]["elapsed_ms"].as_f64().unwrap() / 1e3,
            p999(report, "ma-crossover"),
            p999(report, "max-notional"),
        );
    }
    println!("swaps made: {swaps}; both runs traded the same orders, fills and PnL");
    for name in SWAPPED {
        println!(
            "{name}: p99.9 with swaps / without = {:.2} (target at most 1.5)",
            p999(&swapped, name) / p999(&plain, name)
        );
    }
}
