//! The regression guard (`cargo xtask bench --quick`, about a minute): the
//! ES MBO day (`../shared/data`, skipped without it) decoded natively (the
//! floor: `dbn-replay` compiled as a native crate, no host) and four
//! sessions on it, each in a fresh session after a warm-up (the artifact
//! cache filled), the median of three:
//! - one strategy (`momentum`) and `sim-venue`;
//! - three strategies and four validators (the replay benchmark's session);
//! - every example plugin installed;
//! - the second again with the connector on the session's thread
//!   (`[run] decode_ahead = false`): what decoding ahead gains.
//!
//! Each is printed with the orders it placed, the share of its time spent
//! outside plugin calls (the host's own work), and its ratio to the floor
//! measured in the same run, so a machine's drift cancels out and a
//! session that stopped trading (and got faster for it) shows. Every run
//! appends a line to `docs/bench-history.csv`; the README's figures come
//! from it. Not a test: nothing here passes or fails on a figure.
//!
//! `TRADSYS_BENCH_TARGET=DIR` measures the plugins of another build (its
//! `DIR/plugins`, trusted through its `DIR/dev-keys/trust`: an older
//! commit's, built in a worktree) with this host, for a before and after;
//! such a run is not added to the history.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use tradsys_host::testing::{Registry, Runtime};
use tradsys_host::{HostConfig, Session, TrustPolicy, TrustSettings};

#[path = "shared/es_day.rs"]
mod es_day;

use es_day::{ES, names, three_four};

#[path = "shared/stats.rs"]
mod stats;

use stats::{median, root};

/// The ES day with the examples sized for it and `sim-venue`, `pick`
/// choosing the plugins.
fn config(data: &Path, pick: impl FnOnce(&mut HostConfig)) -> HostConfig {
    let mut config = es_day::config(data);
    config.run.matcher = Some("sim-venue".into());
    pick(&mut config);
    config
}

/// One session's figures: events per second (median of three after a
/// warm-up), the orders and fills of the last run, and the share of its
/// time outside plugin calls on the session's thread (the host's own work:
/// calls times their mean latency, against the session's wall time; median
/// of three).
fn session(runtime: &Arc<Runtime>, config: &HostConfig) -> (f64, u64, u64, f64, f64) {
    let target = plugins_target();
    let trust = TrustSettings {
        dir: Some(target.join("dev-keys/trust")),
        allow_unsigned: false,
    };
    let policy = TrustPolicy::from_settings(&trust).expect("the development trust store");
    let registry = Registry::load_dir(&target.join("plugins"), config, &policy)
        .unwrap_or_else(|e| panic!("{e:#}: run `cargo xtask bench --quick`"));
    let mut last = (0, 0);
    let mut rates = Vec::new();
    let mut host_shares = Vec::new();
    let mut feed_shares = Vec::new();
    for run in 0..4 {
        let mut session = Session::new(runtime.clone(), &registry, config).unwrap();
        session.run().unwrap();
        let report = session.report();
        assert!(report.stopped.is_none(), "{:?}", report.stopped);
        last = (report.orders.submitted, report.fills);
        if run > 0 {
            rates.push(report.timing.events_per_second);
            // The connector's calls (on one thread) or the waits for them
            // (decoding ahead) are `feed_ms`; its own statistics also hold
            // its `init`, made before the clock.
            let in_plugins: f64 = report
                .plugins
                .iter()
                .filter(|p| p.name != config.run.connector)
                .map(|p| p.calls as f64 * p.timing.mean_ns as f64 / 1e6)
                .sum();
            let wall = report.timing.elapsed_ms;
            let host = wall - in_plugins - report.timing.feed_ms;
            host_shares.push((host / wall).max(0.0));
            feed_shares.push(report.timing.feed_ms / wall);
        }
    }
    (
        median(rates),
        last.0,
        last.1,
        median(host_shares),
        median(feed_shares),
    )
}

/// Where the plugins come from: `TRADSYS_BENCH_TARGET`, else this checkout's `target/`.
fn plugins_target() -> std::path::PathBuf {
    std::env::var_os("TRADSYS_BENCH_TARGET").map_or_else(|| root().join("target"), Into::into)
}

fn main() {
    let data = root().join("../shared/data");
    if !data.join(ES).is_file() {
        eprintln!("quick benchmark skipped: ../shared/data/{ES} is absent");
        return;
    }
    let data = data.canonicalize().unwrap();
    let started = Instant::now();
    // The floor: the same decoding, natively, no host.
    let native_config = tradsys_sdk::Config::new([("file", ES)]);
    let mut events = 0usize;
    let floor = median(
        (0..7)
            .map(|_| {
                use tradsys_sdk::Connector as _;
                // Opened before the clock, as a session opens its connector.
                let mut replay = dbn_replay::DbnReplay::open(&data, &native_config).unwrap();
                let start = Instant::now();
                events = 0;
                while let Some(batch) = replay.next_batch(512).unwrap() {
                    events += batch.len();
                }
                events as f64 / start.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let runtime = Arc::new(Runtime::new().expect("engine"));
    let cases: [(&str, HostConfig); 4] = [
        (
            "one strategy (momentum) + sim-venue",
            config(&data, |c| {
                c.run.strategies = names(&["momentum"]);
                c.run.validators = names(&[]);
                c.run.processors = names(&[]);
            }),
        ),
        (
            "three strategies + four validators",
            config(&data, three_four),
        ),
        ("every example plugin", config(&data, |_| {})),
        (
            "three strategies + four validators, the connector on the session's thread",
            config(&data, |c| {
                three_four(c);
                c.run.decode_ahead = false;
            }),
        ),
    ];
    println!("ES MBO day, {events} events; native decode (the floor): {floor:.0} events/s");
    println!("plugins: {}", plugins_target().join("plugins").display());
    let mut line = vec![format!("{floor:.0}")];
    for (name, config) in &cases {
        let (rate, orders, fills, host, feed) = session(&runtime, config);
        println!(
            "  {name}: {rate:.0} events/s, {:.3} of the floor ({orders} orders, {fills} fills); \
             the host's own work {:.0} %, getting the connector's batches {:.0} % of the session",
            rate / floor,
            host * 100.0,
            feed * 100.0
        );
        if orders == 0 {
            println!("    NO ORDERS: this session did not trade, and its figure means little");
        }
        line.push(format!("{rate:.0}"));
        line.push(orders.to_string());
    }
    if std::env::var_os("TRADSYS_BENCH_TARGET").is_some() {
        println!("another build's plugins: not added to the history");
        return;
    }
    // The commit, `-dirty` when a tracked file differs from it (this
    // history file aside: every run changes it).
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(root())
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let mut commit = git(&["rev-parse", "--short", "HEAD"]);
    let changes = git(&[
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ".",
        ":(exclude)docs/bench-history.csv",
    ]);
    if !changes.is_empty() {
        commit.push_str("-dirty");
    }
    let history = root().join("docs/bench-history.csv");
    let new = !history.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&history)
        .unwrap();
    if new {
        writeln!(
            file,
            "unix_time,commit,native_events_per_s,one_strategy_events_per_s,one_strategy_orders,\
             three_four_events_per_s,three_four_orders,all_plugins_events_per_s,all_plugins_orders,\
             three_four_one_thread_events_per_s,three_four_one_thread_orders"
        )
        .unwrap();
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    writeln!(file, "{now},{commit},{}", line.join(",")).unwrap();
    println!(
        "appended to {} ({:.0} s)",
        history.display(),
        started.elapsed().as_secs_f64()
    );
}
