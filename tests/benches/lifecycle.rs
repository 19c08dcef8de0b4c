//! Lazy loading with 100 installed plugins: start-up lazy vs eager (cold and
//! warm artifact cache), the host's resident memory when 5 of the 100 are
//! used, and the first call on a plugin (from the cached artifact, and with
//! the compiled component already in memory).
//!
//! The 100 plugins are copies of the nine examples with distinct names (so
//! distinct digests and artifacts), signed with the development key. Run
//! with `cargo xtask bench` (release build of the benchmark and the host).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tradsys_host::testing::{PluginInstance, Registry, Runtime, cache_path};
use tradsys_host::testing::{Strategy, types as host};
use tradsys_host::{HostConfig, Loading, Readiness, TrustPolicy, TrustSettings};

const EXAMPLES: [&str; 9] = [
    "synthetic-market",
    "fifo-matcher",
    "ma-crossover",
    "momentum",
    "mean-reversion",
    "max-notional",
    "price-collar",
    "position-limit",
    "order-throttle",
];

fn target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target")
}

/// Write 100 renamed copies of the examples into `dir`.
fn install_100(dir: &Path) {
    let key = tradsys_signing::SecretKey::read(&target().join("dev-keys/dev.key"))
        .expect("the development key: run `cargo xtask build-plugins`");
    for i in 0..100 {
        let example = EXAMPLES[i % EXAMPLES.len()];
        let bytes = std::fs::read(target().join(format!("plugins/{example}.wasm")))
            .expect("built example plugins: run `cargo xtask build-plugins`");
        let mut manifest = tradsys_signing::read_manifest(&bytes).unwrap();
        let name = format!("{example}-{:02}", i / EXAMPLES.len());
        manifest.name = name.clone().try_into().unwrap();
        let embedded = tradsys_signing::embed_manifest(&bytes, &manifest).unwrap();
        let signed = tradsys_signing::sign(&embedded, &key).unwrap();
        std::fs::write(dir.join(format!("{name}.wasm")), signed).unwrap();
    }
}

fn policy() -> TrustPolicy {
    TrustPolicy::from_settings(&TrustSettings {
        dir: Some(target().join("dev-keys/trust")),
        allow_unsigned: false,
    })
    .unwrap()
}

/// Start a host over `dir`: engine, cache, registry, and the loading step.
fn start(dir: &Path, loading: Loading) -> (Arc<Runtime>, Registry) {
    let runtime = Arc::new(
        Runtime::new()
            .unwrap()
            .with_cache(&cache_path(dir))
            .unwrap(),
    );
    let registry = Registry::load_dir(dir, &HostConfig::default(), &policy()).unwrap();
    assert_eq!(registry.plugins().len(), 100);
    if let Some(preloader) = registry.prepare(&runtime, loading) {
        preloader.join().unwrap();
    }
    (runtime, registry)
}

fn median<T: Ord + Copy>(mut samples: Vec<T>) -> T {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn startup(dir: &Path, loading: Loading, cold: bool, reps: usize) -> Duration {
    median(
        (0..reps)
            .map(|_| {
                if cold {
                    let _ = std::fs::remove_dir_all(cache_path(dir));
                }
                let started = Instant::now();
                let host = start(dir, loading);
                let elapsed = started.elapsed();
                drop(host);
                elapsed
            })
            .collect(),
    )
}

/// Peak RSS of `tradsys run` over `dir` using 5 of its plugins.
fn rss(dir: &Path, eager: bool) -> u64 {
    let config = dir.join("five.toml");
    std::fs::write(
        &config,
        "[run]\nconnector = \"synthetic-market-00\"\nmatcher = \"fifo-matcher-00\"\n\
         strategies = [\"momentum-00\"]\nvalidators = [\"max-notional-00\", \"price-collar-00\"]\n",
    )
    .unwrap();
    let report = dir.join("report.json");
    let bin = target().join("release/tradsys");
    let mut command = Command::new(&bin);
    command
        .args(["run", "--events", "20000", "--plugins"])
        .arg(dir)
        .arg("--trust")
        .arg(target().join("dev-keys/trust"))
        .arg("--config")
        .arg(&config)
        .arg("--report-json")
        .arg(&report)
        .env("RUST_LOG", "error");
    if eager {
        command.arg("--eager");
    }
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (cargo xtask bench builds it)", bin.display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    report["memory"]["host_peak_rss_bytes"].as_u64().unwrap()
}

/// Times of one plugin's first call and what it is made of.
struct FirstCall {
    /// The whole first call: compile or load if needed, instantiate, init, call.
    total: Duration,
    /// Of which reading, checking and deserializing the artifact.
    load: Duration,
    /// Of which instantiation and `init`.
    instantiate: Duration,
    /// A call after the instance was evicted: instantiate, init, restore, call.
    after_eviction: Duration,
}

/// The first `on-market` call on `name` of a freshly discovered registry:
/// with `compiled`, the component is compiled before the clock starts.
fn first_call(dir: &Path, runtime: &Arc<Runtime>, name: &str, compiled: bool) -> FirstCall {
    let registry = Registry::load_dir(dir, &HostConfig::default(), &policy()).unwrap();
    let plugin = registry.get(name).unwrap().clone();
    if compiled {
        plugin.prepare(runtime).unwrap();
    }
    let mut instance = PluginInstance::<Strategy>::new(runtime.clone(), plugin.clone());
    let events: Vec<host::MarketEvent> = Vec::new();
    let mut call = || {
        let started = Instant::now();
        instance.call(|b, s| b.on_market(s, &events)).unwrap();
        started.elapsed()
    };
    let total = call();
    let load = match plugin.readiness() {
        Readiness::Compiled(load) => load.duration,
        _ => panic!("{} is not compiled after a call", plugin.id()),
    };
    let instantiate = instance.stats().instantiate_time;
    assert!(instance.evict().unwrap());
    let mut again = || {
        let started = Instant::now();
        instance.call(|b, s| b.on_market(s, &events)).unwrap();
        started.elapsed()
    };
    let after_eviction = again();
    FirstCall {
        total,
        load,
        instantiate,
        after_eviction,
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    install_100(dir.path());
    println!("lazy loading benchmark: 100 installed plugins, medians (release build)\n");

    let lazy_cold = startup(dir.path(), Loading::Lazy, true, 9);
    let eager_cold = startup(dir.path(), Loading::Eager, true, 3);
    let _ = start(dir.path(), Loading::Eager); // warm the cache
    let lazy_warm = startup(dir.path(), Loading::Lazy, false, 21);
    let eager_warm = startup(dir.path(), Loading::Eager, false, 21);
    println!("start-up (engine, verify 100 files, then compile nothing / everything):");
    println!(
        "  cold cache: lazy {:8.1} ms   eager {:8.1} ms   lazy is {:.0}% faster",
        ms(lazy_cold),
        ms(eager_cold),
        100.0 * (1.0 - lazy_cold.as_secs_f64() / eager_cold.as_secs_f64())
    );
    println!(
        "  warm cache: lazy {:8.1} ms   eager {:8.1} ms   lazy is {:.0}% faster",
        ms(lazy_warm),
        ms(eager_warm),
        100.0 * (1.0 - lazy_warm.as_secs_f64() / eager_warm.as_secs_f64())
    );

    let lazy_rss = median((0..3).map(|_| rss(dir.path(), false)).collect::<Vec<_>>());
    let eager_rss = median((0..3).map(|_| rss(dir.path(), true)).collect::<Vec<_>>());
    println!("\nhost peak RSS, `tradsys run` of 20,000 events using 5 of the 100:");
    println!(
        "  lazy {:6.1} MiB   eager {:6.1} MiB   lazy uses {:.0}% less",
        lazy_rss as f64 / (1 << 20) as f64,
        eager_rss as f64 / (1 << 20) as f64,
        100.0 * (1.0 - lazy_rss as f64 / eager_rss as f64)
    );

    let runtime = Arc::new(
        Runtime::new()
            .unwrap()
            .with_cache(&cache_path(dir.path()))
            .unwrap(),
    );
    let names: Vec<String> = (0..11).map(|i| format!("momentum-{i:02}")).collect();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let from_cache: Vec<FirstCall> = (0..55)
        .map(|i| first_call(dir.path(), &runtime, &names[i % names.len()], false))
        .collect();
    let in_memory: Vec<FirstCall> = (0..55)
        .map(|i| first_call(dir.path(), &runtime, &names[i % names.len()], true))
        .collect();
    println!("\nfirst call on a strategy (instantiate, init, one empty on-market):");
    println!(
        "  artifact loaded from the warm cache: {:7.1} µs (reading, checking and deserializing it {:.1} µs)",
        us(median(from_cache.iter().map(|c| c.total).collect())),
        us(median(from_cache.iter().map(|c| c.load).collect()))
    );
    println!(
        "  component already in memory:         {:7.1} µs (instantiate and init {:.1} µs)",
        us(median(in_memory.iter().map(|c| c.total).collect())),
        us(median(in_memory.iter().map(|c| c.instantiate).collect()))
    );
    println!(
        "  again after eviction (state restored): {:5.1} µs",
        us(median(in_memory.iter().map(|c| c.after_eviction).collect()))
    );
}
