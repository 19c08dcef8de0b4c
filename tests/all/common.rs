//! Helpers: where the built plugins and binary are, and running them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use tradsys_host::testing::types::{InstrumentDefinition, RiskContext};
use tradsys_host::testing::{KindBindings, PluginInstance, Registry, Runtime};
use tradsys_host::{HostConfig, TrustPolicy, TrustSettings};

/// Fixed-point units per whole unit.
pub const U: i64 = 1_000_000_000;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The version an example plugin ships with (its `plugins/NAME/Cargo.toml`),
/// so that a test naming it survives the next release of the example.
pub fn shipped_version(name: &str) -> String {
    let manifest = workspace_root()
        .join("plugins")
        .join(name)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    manifest["package"]["version"].as_str().unwrap().to_string()
}

/// `target/plugins`, which must hold the built example plugins.
pub fn plugins_dir() -> PathBuf {
    let dir = workspace_root().join("target/plugins");
    assert!(
        dir.join("fifo-matcher.wasm").is_file(),
        "no built plugins in {}: run `cargo xtask build-plugins` (or `cargo xtask test`)",
        dir.display()
    );
    dir
}

/// The `tradsys` binary built beside this test (cargo builds the host's
/// binary when the workspace is tested).
pub fn tradsys_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join(format!("tradsys{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p tradsys-host` (cargo xtask test does)",
        bin.display()
    );
    bin
}

/// The trust store holding the development key that signed the built plugins.
pub fn dev_trust() -> PathBuf {
    workspace_root().join("target/dev-keys/trust")
}

/// The development key that signed the built plugins.
pub fn dev_key() -> tradsys_signing::SecretKey {
    tradsys_signing::SecretKey::read(&workspace_root().join("target/dev-keys/dev.key")).unwrap()
}

/// `bytes` with a manifest from `json` (an object of manifest fields), signed by `key`.
pub fn with_manifest(bytes: &[u8], json: &str, key: &tradsys_signing::SecretKey) -> Vec<u8> {
    let manifest = tradsys_signing::Manifest::from_json(json.as_bytes()).unwrap();
    let embedded = tradsys_signing::embed_manifest(bytes, &manifest).unwrap();
    tradsys_signing::sign(&embedded, key).unwrap()
}

/// Run `tradsys` with `args`.
pub fn tradsys(args: &[&str]) -> Output {
    Command::new(tradsys_bin())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Run `tradsys run` over `dir`, trusting the development key, with `extra` arguments.
pub fn tradsys_run(dir: &Path, extra: &[&str]) -> Output {
    let trust = dev_trust();
    let mut args = vec![
        "run",
        "--plugins",
        dir.to_str().unwrap(),
        "--trust",
        trust.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    tradsys(&args)
}

/// A temporary plugin directory holding copies of the named example plugins.
pub fn plugin_dir_with(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        let file = format!("{name}.wasm");
        std::fs::copy(plugins_dir().join(&file), dir.path().join(&file)).unwrap();
    }
    dir
}

/// Every example plugin except `csv-replay`, which needs a data directory.
pub const DEFAULT_SET: [&str; 9] = [
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

/// Run a session with `tradsys run` and return its JSON report.
pub fn run_report(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let out = tempfile::NamedTempFile::new().unwrap();
    let trust = dev_trust();
    let mut args = vec![
        "run",
        "--plugins",
        dir.to_str().unwrap(),
        "--trust",
        trust.to_str().unwrap(),
        "--report-json",
        out.path().to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let output = tradsys(&args);
    assert!(
        output.status.success(),
        "tradsys run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path()).unwrap()).unwrap();
    typed(&report);
    report
}

/// `report` read into the host's own `Report`: a field renamed, missing or
/// spelled differently fails here (a JSON probe of a renamed field would
/// read `null` and pass). Tests check absences (`stopped`, `halted`) on it.
pub fn typed(report: &serde_json::Value) -> tradsys_host::Report {
    serde_json::from_value(report.clone())
        .unwrap_or_else(|e| panic!("the report does not read as a Report: {e}"))
}

/// A live instance of one example plugin, with `config` entries.
pub fn instance<B: KindBindings>(name: &str, config: &str) -> (Arc<Runtime>, PluginInstance<B>) {
    let runtime = Arc::new(Runtime::new().unwrap());
    let config: HostConfig = toml::from_str(config).unwrap();
    let dir = plugin_dir_with(&[name]);
    let trust = TrustSettings {
        dir: Some(dev_trust()),
        allow_unsigned: false,
    };
    let policy = TrustPolicy::from_settings(&trust).unwrap();
    let registry = Registry::load_dir(dir.path(), &config, &policy).unwrap();
    assert!(registry.rejected().is_empty(), "{:?}", registry.rejected());
    let plugin = registry.get(name).unwrap().clone();
    let mut instance = PluginInstance::new(runtime.clone(), plugin);
    instance.ensure_live().unwrap();
    (runtime, instance)
}

pub fn instrument(id: u32, symbol: &str, tick: i64) -> InstrumentDefinition {
    InstrumentDefinition {
        id,
        symbol: symbol.to_string(),
        tick_size: tick,
        lot_size: U,
        price_precision: 2,
        size_precision: 0,
        multiplier: 1,
    }
}

pub fn empty_context(instruments: Vec<InstrumentDefinition>) -> RiskContext {
    RiskContext {
        now: 1,
        strategy: 0,
        positions: vec![],
        open_orders: vec![],
        last_prices: vec![],
        account: tradsys_host::testing::types::Account {
            cash: 0,
            realized_pnl: 0,
        },
        instruments,
    }
}

/// The entry of plugin `name` in a JSON report's `plugins`.
pub fn plugin<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap()
}

/// The strategy `name` in a JSON report's `strategies`.
pub fn strategy<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()
}

/// Copy the named test plugins (built into `target/test-plugins`) into `dir`.
pub fn copy_test_plugins(dir: &Path, names: &[&str]) {
    for name in names {
        let file = format!("{name}.wasm");
        std::fs::copy(
            workspace_root().join("target/test-plugins").join(&file),
            dir.join(&file),
        )
        .unwrap();
    }
}

/// A session over `plugins` (examples by name, plus test plugins with a
/// `test:` prefix) with `toml` as its config; its JSON report.
pub fn session_with(plugins: &[&str], toml: &str, events: &str) -> serde_json::Value {
    let examples: Vec<&str> = plugins
        .iter()
        .copied()
        .filter(|p| !p.starts_with("test:"))
        .collect();
    let dir = plugin_dir_with(&examples);
    let test_plugins: Vec<&str> = plugins
        .iter()
        .filter_map(|p| p.strip_prefix("test:"))
        .collect();
    copy_test_plugins(dir.path(), &test_plugins);
    let config = dir.path().join("host.toml");
    std::fs::write(&config, toml).unwrap();
    run_report(
        dir.path(),
        &["--events", events, "--config", config.to_str().unwrap()],
    )
}

/// The example plugin `example` as a plugin called `name` needing
/// `dependencies` (`name`, version requirement), signed by the development key.
pub fn renamed(example: &str, name: &str, dependencies: &[(&str, &str)]) -> Vec<u8> {
    let bytes = std::fs::read(plugins_dir().join(format!("{example}.wasm"))).unwrap();
    let mut manifest = tradsys_signing::read_manifest(&bytes).unwrap();
    manifest.name = name.to_string().try_into().unwrap();
    manifest.dependencies = dependencies
        .iter()
        .map(|(dep, req)| {
            (
                dep.to_string().try_into().unwrap(),
                semver::VersionReq::parse(req).unwrap(),
            )
        })
        .collect();
    let embedded = tradsys_signing::embed_manifest(&bytes, &manifest).unwrap();
    tradsys_signing::sign(&embedded, &dev_key()).unwrap()
}

/// A runtime with its artifact cache in `dir`, and the registry of `dir`
/// under `toml`, trusting the development key.
pub fn discover(dir: &Path, toml: &str) -> (Arc<Runtime>, Registry) {
    let config: HostConfig = toml::from_str(toml).unwrap();
    let runtime = Arc::new(
        Runtime::new()
            .unwrap()
            .with_cache(&tradsys_host::testing::cache_path(dir))
            .unwrap()
            .with_memory(config.memory),
    );
    let trust = TrustSettings {
        dir: Some(dev_trust()),
        allow_unsigned: false,
    };
    let policy = TrustPolicy::from_settings(&trust).unwrap();
    (runtime, Registry::load_dir(dir, &config, &policy).unwrap())
}

/// Compiled artifacts in the cache of plugin directory `dir`.
pub fn artifacts(dir: &Path) -> usize {
    std::fs::read_dir(tradsys_host::testing::cache_path(dir))
        .map(|entries| {
            entries
                .filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
                })
                .count()
        })
        .unwrap_or(0)
}

/// `../shared/data` (the recorded market data beside the checkout) when it
/// holds `file`; `None`, with a message, when it does not (a user's clone).
pub fn shared_data(file: &str) -> Option<PathBuf> {
    let dir = workspace_root().join("../shared/data");
    if dir.join(file).is_file() {
        Some(dir.canonicalize().unwrap())
    } else {
        eprintln!("skipping: ../shared/data/{file} (the recorded market data) is absent");
        None
    }
}

/// The ES MBO day of `data` replayed over the plugins of `dir` with the
/// host config `config` (`host/es-replay.toml` when `None`): the report.
pub fn replay_es_day(dir: &Path, data: &Path, config: Option<&Path>) -> serde_json::Value {
    let sized = workspace_root().join("host/es-replay.toml");
    let file = data.join("esh4-glbx-mdp3-20231225.mbo.dbn.zst");
    run_report(
        dir,
        &[
            "--config",
            config.unwrap_or(&sized).to_str().unwrap(),
            "--replay",
            file.to_str().unwrap(),
        ],
    )
}

/// A host's admin endpoint as the tests reach it: a free loopback address,
/// and the token file the host writes beside its state file.
pub struct Endpoint {
    pub address: String,
    pub token_file: PathBuf,
}

impl Endpoint {
    /// An endpoint for a host over plugin directory `dir`.
    pub fn for_dir(dir: &Path) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let state = tradsys_host::testing::state_path(dir);
        Self {
            address,
            token_file: tradsys_host::admin::token_path(&state),
        }
    }

    /// `tradsys ARGS` against this endpoint, with its token: success and output.
    pub fn cli(&self, args: &[&str]) -> (bool, String) {
        let token = self.token_file.to_str().unwrap();
        let out = tradsys(&[args, &["--admin", &self.address, "--token-file", token]].concat());
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// Poll `GET /metrics` until its text satisfies `wanted`; the text.
    pub fn until_metrics(&self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let (status, text) = crate::operations::get(&self.address, "/metrics", &[]);
            if status == 200 && wanted(&text) {
                return text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "/metrics never showed what was wanted; last:\n{text}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Poll `tradsys status` until its output satisfies `wanted`.
    pub fn status_until(&self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let (ok, text) = self.cli(&["status"]);
            if ok && wanted(&text) {
                return text;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {what}; last status:\n{text}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}
