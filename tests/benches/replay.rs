//! Databento replay on the ES MBO day (`../shared/data`, skipped without it):
//! - decoding: the `dbn-replay` crate draining the file inside the connector
//!   (a component, metered) and the same crate compiled natively, in one run;
//! - a session: the example strategies on the file (the simulated venue,
//!   `sim-venue`), events per second.
//!
//! Prints medians of repeated runs and the ratio. Run with `cargo xtask bench`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tradsys_host::testing::{Connector, PluginInstance, Registry, Runtime};
use tradsys_host::{ConfigValue, HostConfig, Session, TrustPolicy, TrustSettings};
use tradsys_sdk::Connector as _;

const ES: &str = "esh4-glbx-mdp3-20231225.mbo.dbn.zst";
const BATCH: usize = 512;

fn target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target")
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Seconds per run of `f`, median of `reps` after one warm-up.
fn seconds(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    median(
        (0..reps)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// The ES day with the examples sized for it (`host/es-replay.toml`).
fn config(data: &Path) -> HostConfig {
    let sized = Path::new(env!("CARGO_MANIFEST_DIR")).join("../host/es-replay.toml");
    let mut config = HostConfig::load(&sized).expect("host/es-replay.toml");
    the_examples(&mut config);
    config.run.connector = "dbn-replay".into();
    config.run.events = 0;
    let settings = config.plugins.entry("dbn-replay".into()).or_default();
    settings.read_dir = Some(data.to_path_buf());
    settings
        .config
        .insert("file".into(), ConfigValue::Text(ES.into()));
    config
}

/// The figures are of the first examples: three strategies and four
/// validators, no processor (the plugin directory holds more; each adds its
/// calls).
fn the_examples(config: &mut HostConfig) {
    let names = |names: &[&str]| Some(names.iter().map(|n| n.to_string()).collect());
    config.run.processors = Some(Vec::new());
    config.run.strategies = names(&tradsys_tests::THREE_STRATEGIES);
    config.run.validators = names(&tradsys_tests::FOUR_VALIDATORS);
}

fn registry(config: &HostConfig) -> Registry {
    let trust = TrustSettings {
        dir: Some(target().join("dev-keys/trust")),
        allow_unsigned: false,
    };
    let policy = TrustPolicy::from_settings(&trust).expect("the development trust store");
    Registry::load_dir(&target().join("plugins"), config, &policy)
        .unwrap_or_else(|e| panic!("{e:#}: run `cargo xtask build-plugins`"))
}

fn main() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    if !data.join(ES).is_file() {
        eprintln!("replay benchmark skipped: ../shared/data/{ES} is absent");
        return;
    }
    let data = data.canonicalize().unwrap();
    let config = config(&data);
    let registry = registry(&config);
    let plugin = registry
        .get("dbn-replay")
        .expect("dbn-replay built")
        .clone();
    let runtime = Arc::new(Runtime::new().expect("engine"));
    plugin.prepare(&runtime).expect("compiling dbn-replay");

    let native_config = tradsys_sdk::Config::new([("file", ES)]);
    let mut records = 0usize;
    let native = seconds(9, || {
        let mut replay = dbn_replay::DbnReplay::open(&data, &native_config).unwrap();
        records = 0;
        while let Some(batch) = replay.next_batch(BATCH).unwrap() {
            records += batch.len();
        }
    });
    let mut events = 0usize;
    let wasm = seconds(9, || {
        let mut connector = PluginInstance::<Connector>::new(runtime.clone(), plugin.clone());
        connector.ensure_live().expect("init");
        events = 0;
        while let Ok(Ok(Some(batch))) = connector.call(|c, s| c.next_batch(s, BATCH as u32)) {
            events += batch.len();
        }
    });
    assert_eq!(
        records, events,
        "the connector and the native crate disagree"
    );
    println!("ES MBO day ({events} events, batches of {BATCH}), open + decode + map:");
    println!(
        "  native {:>8.2} ms ({:.1} M events/s)",
        native * 1e3,
        events as f64 / native / 1e6
    );
    println!(
        "  in the connector {:>8.2} ms ({:.1} M events/s): {:.2}x native",
        wasm * 1e3,
        events as f64 / wasm / 1e6,
        wasm / native
    );

    let sessions: Vec<f64> = (0..5)
        .map(|_| {
            let mut session = Session::new(runtime.clone(), &registry, &config).unwrap();
            session.run().unwrap();
            let report = session.report();
            assert!(report.stopped.is_none(), "{:?}", report.stopped);
            report.timing.events_per_second
        })
        .collect();
    println!(
        "session on the ES day (sim-venue, the examples sized by host/es-replay.toml): {:.0} events/s (median of 5)",
        median(sessions)
    );

    let mut synthetic = HostConfig::default();
    the_examples(&mut synthetic);
    synthetic.run.events = 200_000;
    let registry = self::registry(&synthetic);
    let sessions: Vec<f64> = (0..5)
        .map(|_| {
            let mut session = Session::new(runtime.clone(), &registry, &synthetic).unwrap();
            session.run().unwrap();
            session.report().timing.events_per_second
        })
        .collect();
    println!(
        "session on the synthetic market, 200,000 events (sim-venue, default configs): {:.0} events/s (median of 5)",
        median(sessions)
    );
}
