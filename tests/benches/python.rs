//! A Python strategy against the Rust strategy with the same logic (the
//! fader `tradsys plugin new` writes in both languages): each built from a
//! fresh project, then a session of the synthetic market's 20,000 events
//! with `sim-venue`, one strategy at a time. Printed per language: the
//! component's size, its compile time (first load, no cache) and
//! instantiation, the strategy's mean time per call and per market event
//! handed to it (median of five sessions after a warm-up), its instance's
//! linear memory, and the session's events per second; the two trade the
//! same orders (checked). Needs componentize-py (`cargo xtask bench`
//! installs it); skipped without it. Not a test: nothing passes or fails on
//! a figure.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tradsys_host::testing::{Registry, Runtime};
use tradsys_host::{HostConfig, Session, TrustPolicy, TrustSettings};
use tradsys_signing::{Kind, SecretKey};

#[path = "shared/stats.rs"]
mod stats;

use stats::{median, root};

/// A new fader project in `lang`, built and signed into `plugins`.
fn build(parent: &Path, name: &str, lang: tradsys_build::Lang, plugins: &Path, key: &SecretKey) {
    let project = parent.join(name);
    tradsys_build::new_project(&tradsys_build::NewRequest {
        name,
        kind: Kind::Strategy,
        dir: &project,
        checkout: &root(),
        lang,
    })
    .unwrap();
    let request = tradsys_build::BuildRequest {
        manifest_path: &project.join("Cargo.toml"),
        out_dir: plugins,
        target_dir: Some(&root().join("target/scaffold")),
        key: Some(key),
    };
    match lang {
        tradsys_build::Lang::Rust => {
            tradsys_build::build(&request).unwrap();
        }
        tradsys_build::Lang::Python => {
            let request = tradsys_build::BuildRequest {
                manifest_path: &project,
                ..request
            };
            tradsys_build::build_python(&request).unwrap();
        }
    }
}

struct Figures {
    size: u64,
    compile_ms: f64,
    instantiate_ms: f64,
    call_us: f64,
    event_ns: f64,
    memory_kib: u64,
    events_per_second: f64,
    orders: (u64, u64),
}

fn measure(runtime: &Arc<Runtime>, plugins: &Path, name: &str) -> Figures {
    let mut config: HostConfig = toml::from_str(&format!(
        "[run]\nconnector = \"synthetic-market\"\nmatcher = \"sim-venue\"\nevents = 20000\n\
         strategies = [\"{name}\"]\nvalidators = []\nprocessors = []\n"
    ))
    .unwrap();
    config.trust.dir = Some(root().join("target/dev-keys/trust"));
    let trust = TrustSettings {
        dir: config.trust.dir.clone(),
        allow_unsigned: false,
    };
    let policy = TrustPolicy::from_settings(&trust).unwrap();
    let registry = Registry::load_dir(plugins, &config, &policy).unwrap();
    let (mut calls, mut events, mut rates) = (Vec::new(), Vec::new(), Vec::new());
    let mut first = None;
    let mut last = None;
    for run in 0..6 {
        let mut session = Session::new(runtime.clone(), &registry, &config).unwrap();
        session.run().unwrap();
        let report = session.report();
        let plugin = report
            .plugins
            .iter()
            .find(|p| p.name == name)
            .unwrap()
            .clone();
        let handed = report.events as f64;
        if run == 0 {
            first = Some(plugin.clone());
        } else {
            calls.push(plugin.timing.mean_ns as f64 / 1e3);
            events.push(plugin.calls as f64 * plugin.timing.mean_ns as f64 / handed);
            rates.push(report.timing.events_per_second);
        }
        let s = report.strategies.iter().find(|s| s.name == name).unwrap();
        last = Some((plugin, (s.submitted, s.fills)));
    }
    let first = first.unwrap();
    let (plugin, orders) = last.unwrap();
    Figures {
        size: std::fs::metadata(plugins.join(format!("{name}.wasm")))
            .unwrap()
            .len(),
        compile_ms: first.load.ms,
        instantiate_ms: plugin.load.instantiate_ms,
        call_us: median(calls),
        event_ns: median(events),
        memory_kib: plugin.memory.bytes >> 10,
        events_per_second: median(rates),
        orders,
    }
}

fn main() {
    let componentize_py = std::env::var_os("TRADSYS_COMPONENTIZE_PY").map_or_else(
        || root().join("target/python/bin/componentize-py"),
        PathBuf::from,
    );
    if !componentize_py.is_file() {
        eprintln!(
            "python benchmark skipped: no componentize-py at {} (`cargo xtask bench` installs it)",
            componentize_py.display()
        );
        return;
    }
    let parent = tempfile::tempdir().unwrap();
    let plugins = parent.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    for example in ["synthetic-market", "sim-venue"] {
        let file = format!("{example}.wasm");
        std::fs::copy(
            root().join("target/plugins").join(&file),
            plugins.join(&file),
        )
        .unwrap_or_else(|e| panic!("{e}: run `cargo xtask build-plugins`"));
    }
    let key = SecretKey::read(&root().join("target/dev-keys/dev.key")).unwrap();
    build(
        parent.path(),
        "fader",
        tradsys_build::Lang::Rust,
        &plugins,
        &key,
    );
    build(
        parent.path(),
        "pyfade",
        tradsys_build::Lang::Python,
        &plugins,
        &key,
    );
    let runtime = Arc::new(Runtime::new().expect("engine"));
    let rust = measure(&runtime, &plugins, "fader");
    let python = measure(&runtime, &plugins, "pyfade");
    assert_eq!(rust.orders, python.orders, "the two trade alike");
    println!(
        "fader on the synthetic market (20,000 events, sim-venue; {} orders, {} fills each)",
        rust.orders.0, rust.orders.1
    );
    println!(
        "{:<8} {:>10} {:>11} {:>10} {:>9} {:>10} {:>11} {:>10}",
        "", "size KiB", "compile ms", "inst ms", "call µs", "ns/event", "memory KiB", "events/s"
    );
    for (label, f) in [("Rust", &rust), ("Python", &python)] {
        println!(
            "{label:<8} {:>10} {:>11.0} {:>10.2} {:>9.2} {:>10.0} {:>11} {:>10.0}",
            f.size >> 10,
            f.compile_ms,
            f.instantiate_ms,
            f.call_us,
            f.event_ns,
            f.memory_kib,
            f.events_per_second
        );
    }
    println!(
        "Python / Rust: {:.1}x per call, {:.1}x memory",
        python.call_us / rust.call_us,
        python.memory_kib as f64 / rust.memory_kib.max(1) as f64
    );
}
