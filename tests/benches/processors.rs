//! A processor computing EMAs for the strategies vs the same EMAs inside
//! each of three strategies: events per second of the session, both ways.
//!
//! Three copies of the `ema-trend` test strategy (spans 10/40, 20/80 and
//! 50/200) trade the synthetic market: either each computes its two EMAs
//! from every quote (`source = "own"`), or `indicators` computes all six
//! once per quote and each strategy gets its two by subscription (`source
//! = "signals"`). Both ways they trade alike (asserted). Run with `cargo
//! xtask bench`; the figures go in docs/BENCHMARKS.md.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tradsys_host::testing::{Registry, Runtime};
use tradsys_host::{ConfigValue, HostConfig, Session, TrustPolicy, TrustSettings};

const EVENTS: u64 = 400_000;
const STRATEGIES: [(&str, u32, u32); 3] =
    [("ema-a", 10, 40), ("ema-b", 20, 80), ("ema-c", 50, 200)];

fn target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target")
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// A plugin directory: the market, the matcher, `indicators`, and
/// `ema-trend` under three names, re-signed by the development key.
fn plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["synthetic-market", "fifo-matcher", "indicators"] {
        let file = format!("{name}.wasm");
        std::fs::copy(target().join("plugins").join(&file), dir.path().join(&file))
            .unwrap_or_else(|e| panic!("{file}: {e}: run `cargo xtask build-plugins`"));
    }
    let bytes = std::fs::read(target().join("test-plugins/ema-trend.wasm"))
        .expect("ema-trend: build the test plugins (`cargo xtask test` does)");
    let key = tradsys_signing::SecretKey::read(&target().join("dev-keys/dev.key")).unwrap();
    for (name, ..) in STRATEGIES {
        let mut manifest = tradsys_signing::read_manifest(&bytes).unwrap();
        manifest.name = name.to_string().try_into().unwrap();
        let renamed = tradsys_signing::embed_manifest(&bytes, &manifest).unwrap();
        let signed = tradsys_signing::sign(&renamed, &key).unwrap();
        std::fs::write(dir.path().join(format!("{name}.wasm")), signed).unwrap();
    }
    dir
}

fn config(signals: bool) -> HostConfig {
    let mut config = HostConfig::default();
    config.run.events = EVENTS;
    config.run.processors = Some(if signals {
        vec!["indicators".to_string()]
    } else {
        Vec::new()
    });
    let spans: Vec<String> = STRATEGIES
        .iter()
        .flat_map(|(_, fast, slow)| [fast.to_string(), slow.to_string()])
        .collect();
    let indicators = config.plugins.entry("indicators".into()).or_default();
    indicators
        .config
        .insert("ema".into(), ConfigValue::Text(spans.join(",")));
    for (name, fast, slow) in STRATEGIES {
        let settings = config.plugins.entry(name.into()).or_default();
        let text = |s: String| ConfigValue::Text(s);
        settings
            .config
            .insert("fast".into(), text(fast.to_string()));
        settings
            .config
            .insert("slow".into(), text(slow.to_string()));
        let source = if signals { "signals" } else { "own" };
        settings.config.insert("source".into(), text(source.into()));
        settings
            .config
            .insert("signals".into(), text(format!("ema:{fast}, ema:{slow}")));
    }
    config
}

fn registry(dir: &Path, config: &HostConfig) -> Registry {
    let trust = TrustSettings {
        dir: Some(target().join("dev-keys/trust")),
        allow_unsigned: false,
    };
    let policy = TrustPolicy::from_settings(&trust).expect("the development trust store");
    Registry::load_dir(dir, config, &policy).unwrap()
}

/// Events per second of five sessions (median), and what the strategies traded.
fn sessions(runtime: &Arc<Runtime>, dir: &Path, signals: bool) -> (f64, String) {
    let config = config(signals);
    let registry = registry(dir, &config);
    let mut traded = String::new();
    let rates = (0..5)
        .map(|_| {
            let mut session = Session::new(runtime.clone(), &registry, &config).unwrap();
            session.run().unwrap();
            let report = session.report();
            assert!(report.stopped.is_none(), "{:?}", report.stopped);
            let strategies: Vec<_> = report
                .strategies
                .iter()
                .map(|s| (s.name.clone(), s.submitted, s.fills, s.pnl.clone()))
                .collect();
            traded = format!("{strategies:?}");
            report.timing.events_per_second
        })
        .collect();
    (median(rates), traded)
}

fn main() {
    let dir = plugin_dir();
    let runtime = Arc::new(Runtime::new().expect("engine"));
    let (own, own_traded) = sessions(&runtime, dir.path(), false);
    let (signalled, signalled_traded) = sessions(&runtime, dir.path(), true);
    assert_eq!(own_traded, signalled_traded, "both ways must trade alike");
    println!("synthetic market, {EVENTS} events, three EMA strategies (median of 5 sessions):");
    println!("  EMAs inside each strategy:        {own:>9.0} events/s");
    println!(
        "  EMAs from the indicators processor: {signalled:>7.0} events/s ({:+.1} %)",
        (signalled / own - 1.0) * 100.0
    );
    println!("  traded: {own_traded}");
}
