//! What the order journal costs: events per second of a session with and
//! without `[run] journal`, on the ES MBO day (`../shared/data`, skipped
//! without it; `host/es-replay.toml`, every example plugin) and on the
//! synthetic market as the demo runs it (`host/demo.toml`, 100,000 events).
//! Sessions alternate, five of each; medians. Run with `cargo xtask bench`;
//! the figures go in docs/BENCHMARKS.md.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tradsys_host::testing::{Registry, Runtime};
use tradsys_host::{ConfigValue, HostConfig, Session, TrustPolicy, TrustSettings};

const ES: &str = "esh4-glbx-mdp3-20231225.mbo.dbn.zst";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn registry(config: &HostConfig) -> Registry {
    let trust = TrustSettings {
        dir: Some(root().join("target/dev-keys/trust")),
        allow_unsigned: false,
    };
    let policy = TrustPolicy::from_settings(&trust).expect("the development trust store");
    Registry::load_dir(&root().join("target/plugins"), config, &policy)
        .unwrap_or_else(|e| panic!("{e:#}: run `cargo xtask build-plugins`"))
}

/// Medians of events/s without and with a journal, and the records written.
fn compare(runtime: &Arc<Runtime>, name: &str, config: &HostConfig) {
    let registry = registry(config);
    let dir = tempfile::tempdir().unwrap();
    let (mut without, mut with) = (Vec::new(), Vec::new());
    let mut written = (0, 0);
    let mut waits = Vec::new();
    for n in 0..5 {
        for journaled in [false, true] {
            let mut config = config.clone();
            if journaled {
                config.run.journal = Some(dir.path().join(format!("{n}.journal")));
            }
            let mut session = Session::new(runtime.clone(), &registry, &config).unwrap();
            session.run().unwrap();
            let report = session.report();
            assert!(report.stopped.is_none(), "{:?}", report.stopped);
            let rate = report.timing.events_per_second;
            if let Some(journal) = report.journal {
                written = (journal.records, journal.bytes);
                waits.push(report.timing.journal_wait_ms);
                with.push(rate);
            } else {
                without.push(rate);
            }
        }
    }
    let (without, with) = (median(without), median(with));
    println!("{name}:");
    println!("  without a journal {without:>9.0} events/s");
    println!(
        "  with a journal    {with:>9.0} events/s ({:+.1} %; {} records, {} KiB; waited {:.1} ms for the writer)",
        (with / without - 1.0) * 100.0,
        written.0,
        written.1 >> 10,
        median(waits)
    );
}

fn main() {
    let runtime = Arc::new(Runtime::new().expect("engine"));
    let data = root().join("../shared/data");
    if data.join(ES).is_file() {
        let mut config = HostConfig::load(&root().join("host/es-replay.toml")).unwrap();
        config.run.connector = "dbn-replay".into();
        config.run.events = 0;
        let settings = config.plugins.entry("dbn-replay".into()).or_default();
        settings.read_dir = Some(data.canonicalize().unwrap());
        settings
            .config
            .insert("file".into(), ConfigValue::Text(ES.into()));
        compare(
            &runtime,
            "ES MBO day (host/es-replay.toml, every example plugin)",
            &config,
        );
    } else {
        eprintln!("ES part skipped: ../shared/data/{ES} is absent");
    }
    let mut config = HostConfig::load(&root().join("host/demo.toml")).unwrap();
    config.run.events = 100_000;
    compare(
        &runtime,
        "synthetic market, 100,000 events (host/demo.toml)",
        &config,
    );
}
