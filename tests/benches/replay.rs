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
use tradsys_host::{HostConfig, Session, TrustPolicy, TrustSettings};
use tradsys_sdk::Connector as _;

#[path = "shared/es_day.rs"]
mod es_day;

use es_day::{ES, three_four};
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
    let mut config = es_day::config(&data);
    three_four(&mut config);
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
    three_four(&mut synthetic);
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
