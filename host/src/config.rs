//! The host configuration file (TOML).
//!
//! ```toml
//! [run]
//! events = 20000                 # market events to process (0: until the connector ends)
//! seed = 42                      # handed to the connector as its `seed` config value
//! batch_size = 32                # market events per strategy call
//! connector = "synthetic-market" # which connector feeds the session
//! # matcher = "fifo-matcher"     # needed only when several matchers are installed
//! max_rounds = 4                 # order-event → command rounds per market batch
//! # plugins_dir = "plugins"      # default: --plugins, else ./target/plugins
//! loading = "lazy"               # or "eager": compile every selected plugin at start
//! # strategies = ["ma-crossover"] # which installed strategies trade (default: all)
//! # validators = ["max-notional"] # which installed validators check (default: all)
//! watch = false                  # swap in newer versions dropped into the directory
//!
//! [admin]
//! # listen = "127.0.0.1:7878"    # serve the admin endpoint (also --admin)
//! allow_remote = false           # refuse a non-loopback address unless true
//!
//! [swap]
//! groups = [["ma-crossover", "max-notional"]]  # swapped together or not at all
//! debounce_ms = 200              # quiet time after a change before the directory is scanned
//! keep_versions = 2              # earlier versions kept compiled for a rollback
//!
//! [memory]                       # budget for all plugin instances (linear memory)
//! budget_bytes = 1073741824
//! medium = 0.5                   # pressure levels, as fractions of the budget
//! high = 0.75
//! critical = 0.9
//! idle_evict_ms = 60000          # evict an instance idle this long
//! min_idle_ms = 1000             # under pressure, evict instances idle this long
//! reserved_priority = 1          # at critical, only plugins this high may instantiate
//!
//! [trust]
//! dir = "trust"                  # trust store: *.pub keys and a `revoked` list
//! allow_unsigned = false         # development only: run plugins with no valid signature
//!
//! [plugins.max-notional]
//! version = "^1.2"                       # pin: only versions matching this run
//! priority = 10                          # over the manifest's: preload first, evict last
//! preload = true                         # compile in the background at start
//! config = { max_notional = "150000" }   # entries passed to init / config-get
//!
//! [plugins.csv-replay]
//! read_dir = "../shared/data"            # preopened read-only at /data
//! config = { file = "eurusd-quotes-2020-01.csv", format = "quotes" }
//! ```
//!
//! Relative paths are relative to the config file's directory. Unknown keys
//! are refused, so a typo is an error rather than a silently ignored setting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use crate::plugin::{Placement, PluginKind};
use crate::runtime::Grants;

/// Default number of market events in a run.
pub const DEFAULT_EVENTS: u64 = 20_000;
/// Default seed of the synthetic market.
pub const DEFAULT_SEED: u64 = 42;
/// Default connector.
pub const DEFAULT_CONNECTOR: &str = "synthetic-market";

/// The whole host configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostConfig {
    /// How a session runs.
    pub run: RunSettings,
    /// Which plugin signatures are trusted.
    pub trust: TrustSettings,
    /// Limits per plugin kind (a plugin's own `[plugins.NAME.limits]` wins).
    pub limits: KindLimits,
    /// When a faulting plugin is quarantined.
    pub faults: FaultSettings,
    /// The memory budget of plugin instances and when they are evicted.
    pub memory: MemorySettings,
    /// How new versions are swapped in while the host runs.
    pub swap: SwapSettings,
    /// The admin endpoint of a running host.
    pub admin: AdminSettings,
    /// Per-plugin settings, by plugin name.
    pub plugins: BTreeMap<String, PluginSettings>,
}

/// The `[run]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSettings {
    /// Market events to process; 0 runs until the connector's stream ends.
    pub events: u64,
    /// Seed handed to the connector (`seed` config value).
    pub seed: u64,
    /// Market events per batch handed to strategies.
    pub batch_size: u32,
    /// Name of the connector that feeds the session.
    pub connector: String,
    /// Name of the matcher; optional when exactly one is installed.
    pub matcher: Option<String>,
    /// Rounds of order events → strategy commands per market batch.
    pub max_rounds: u32,
    /// Plugin directory, when `--plugins` is not given.
    pub plugins_dir: Option<PathBuf>,
    /// Rollback-protection state file (default: `<plugins dir>.state.json` beside it).
    pub state_file: Option<PathBuf>,
    /// When selected plugins are compiled.
    pub loading: Loading,
    /// Strategies that trade, by name (default: every installed strategy).
    pub strategies: Option<Vec<String>>,
    /// Validators that check orders, by name (default: every installed validator).
    pub validators: Option<Vec<String>>,
    /// Watch the plugin directory and swap in newer versions while running.
    pub watch: bool,
}

/// The `[admin]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSettings {
    /// Serve the admin endpoint on this address (`--admin` does too).
    pub listen: Option<std::net::SocketAddr>,
    /// Allow an address other than loopback (anyone who reaches it can swap plugins).
    pub allow_remote: bool,
}

/// Default address of the admin endpoint.
pub const DEFAULT_ADMIN: &str = "127.0.0.1:7878";

/// The `[swap]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SwapSettings {
    /// Plugins swapped as one unit when they change together (for example a
    /// strategy and the validator written for it): all, or none.
    pub groups: Vec<Vec<String>>,
    /// Quiet time after a change in the directory before it is scanned, ms.
    pub debounce_ms: u64,
    /// Earlier versions of each plugin kept compiled for a rollback.
    pub keep_versions: usize,
}

impl Default for SwapSettings {
    fn default() -> Self {
        Self {
            groups: Vec::new(),
            debounce_ms: 200,
            keep_versions: 2,
        }
    }
}

/// When the selected plugins are compiled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loading {
    /// On first use; plugins marked `preload` in the background at start.
    #[default]
    Lazy,
    /// All of them at start, before the session begins.
    Eager,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            events: DEFAULT_EVENTS,
            seed: DEFAULT_SEED,
            batch_size: 32,
            connector: DEFAULT_CONNECTOR.to_string(),
            matcher: None,
            max_rounds: 4,
            plugins_dir: None,
            state_file: None,
            loading: Loading::Lazy,
            strategies: None,
            validators: None,
            watch: false,
        }
    }
}

/// The `[trust]` table. By default nothing is trusted: a trust store must be
/// named (here or with `--trust`) for any plugin to run.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustSettings {
    /// Trust store directory: `*.pub` key files and an optional `revoked` list.
    pub dir: Option<PathBuf>,
    /// Development only: plugins without a valid signature run too, and the
    /// report and logs say so on every run.
    pub allow_unsigned: bool,
}

/// Resource limits of one plugin call and instance. Every field is optional
/// in the config; what is left out falls back to the kind's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSettings {
    /// Fuel (roughly, wasm instructions) per call; the call traps when it runs out.
    pub fuel_per_call: Option<u64>,
    /// Wall-clock deadline per call, milliseconds (epoch interruption, 1 ms ticks).
    pub deadline_ms: Option<u64>,
    /// Linear memory per instance, bytes; a grow beyond it fails inside the guest.
    pub memory_bytes: Option<u64>,
    /// Items one call may return (commands, events, reports); more is a fault.
    pub max_output: Option<u32>,
    /// Fuel for instantiation and `init` together (default: ten calls' worth).
    pub init_fuel: Option<u64>,
    /// Deadline for instantiation and `init`, milliseconds (default: ten calls' worth).
    pub init_deadline_ms: Option<u64>,
}

/// Limits as granted to one plugin: every field decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel per call.
    pub fuel_per_call: u64,
    /// Wall-clock deadline per call, milliseconds.
    pub deadline_ms: u64,
    /// Linear memory per instance, bytes.
    pub memory_bytes: u64,
    /// Items one call may return.
    pub max_output: u32,
    /// Fuel for instantiation and `init`.
    pub init_fuel: u64,
    /// Deadline for instantiation and `init`, milliseconds.
    pub init_deadline_ms: u64,
}

impl Limits {
    /// The built-in default of each kind (safe for the examples with room to spare).
    ///
    /// | kind | fuel per call | deadline | memory | output items |
    /// |---|---|---|---|---|
    /// | strategy | 100 M | 100 ms | 64 MiB | 10,000 |
    /// | risk-validator | 50 M | 50 ms | 32 MiB | (one verdict per order) |
    /// | matcher | 200 M | 100 ms | 256 MiB | 1,000,000 |
    /// | connector | 200 M | 500 ms | 256 MiB | 100,000 |
    pub fn default_for(kind: PluginKind) -> Self {
        const MIB: u64 = 1 << 20;
        let (fuel_per_call, deadline_ms, memory_bytes, max_output) = match kind {
            PluginKind::Strategy => (100_000_000, 100, 64 * MIB, 10_000),
            PluginKind::RiskValidator => (50_000_000, 50, 32 * MIB, 1_000_000),
            PluginKind::Matcher => (200_000_000, 100, 256 * MIB, 1_000_000),
            PluginKind::Connector => (200_000_000, 500, 256 * MIB, 100_000),
        };
        Self {
            fuel_per_call,
            deadline_ms,
            memory_bytes,
            max_output,
            init_fuel: fuel_per_call * 10,
            init_deadline_ms: deadline_ms * 10,
        }
    }

    fn overridden(self, settings: Option<&LimitSettings>) -> Self {
        let Some(s) = settings else { return self };
        Self {
            fuel_per_call: s.fuel_per_call.unwrap_or(self.fuel_per_call),
            deadline_ms: s.deadline_ms.unwrap_or(self.deadline_ms),
            memory_bytes: s.memory_bytes.unwrap_or(self.memory_bytes),
            max_output: s.max_output.unwrap_or(self.max_output),
            init_fuel: s.init_fuel.unwrap_or(self.init_fuel),
            init_deadline_ms: s.init_deadline_ms.unwrap_or(self.init_deadline_ms),
        }
    }

    /// What a plugin gets when its manifest asks for `asked`: what it asks,
    /// but never more than the host allows.
    pub fn granting(self, asked: &tradsys_signing::Limits) -> Self {
        Self {
            fuel_per_call: asked
                .fuel_per_call
                .map_or(self.fuel_per_call, |a| a.min(self.fuel_per_call)),
            deadline_ms: asked
                .deadline_ms
                .map_or(self.deadline_ms, |a| a.min(self.deadline_ms)),
            memory_bytes: asked
                .memory_bytes
                .map_or(self.memory_bytes, |a| a.min(self.memory_bytes)),
            max_output: self.max_output,
            init_fuel: self.init_fuel,
            init_deadline_ms: self.init_deadline_ms,
        }
    }
}

/// The `[limits.KIND]` tables.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default, rename_all = "kebab-case")]
pub struct KindLimits {
    /// `[limits.strategy]`.
    pub strategy: Option<LimitSettings>,
    /// `[limits.risk-validator]`.
    pub risk_validator: Option<LimitSettings>,
    /// `[limits.matcher]`.
    pub matcher: Option<LimitSettings>,
    /// `[limits.connector]`.
    pub connector: Option<LimitSettings>,
}

/// The `[faults]` table: the circuit breaker.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultSettings {
    /// Faults within `window_ms` of host time after which a plugin is
    /// quarantined (no more calls) for the rest of the session.
    pub quarantine_after: u32,
    /// The window, milliseconds of host (market event) time.
    pub window_ms: u64,
    /// Save a strategy's state every this many successful calls; after a
    /// trap the fresh instance starts from the last save (0: never).
    pub snapshot_every: u32,
}

impl Default for FaultSettings {
    fn default() -> Self {
        Self {
            quarantine_after: 5,
            window_ms: 60_000,
            snapshot_every: 64,
        }
    }
}

/// The `[memory]` table: one budget for the linear memory of every plugin
/// instance, pressure levels as fractions of it, and when idle instances are
/// evicted (stateful ones save their state first and get it back when
/// re-instantiated).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemorySettings {
    /// The budget, bytes.
    pub budget_bytes: u64,
    /// Fraction of the budget at which pressure is medium: idle instances are
    /// evicted, lowest priority first, until usage is back below it.
    pub medium: f64,
    /// Fraction at which pressure is high: as medium, without waiting for
    /// `min_idle_ms`.
    pub high: f64,
    /// Fraction at which pressure is critical: as high, and plugins below
    /// `reserved_priority` may not instantiate.
    pub critical: f64,
    /// An instance idle this long is evicted whatever the pressure (0: after
    /// every batch, which is only useful for testing).
    pub idle_evict_ms: u64,
    /// Under medium pressure, only instances idle this long are evicted.
    pub min_idle_ms: u64,
    /// At critical pressure, plugins with a lower priority fail to instantiate.
    pub reserved_priority: i32,
}

impl Default for MemorySettings {
    fn default() -> Self {
        Self {
            budget_bytes: 1 << 30,
            medium: 0.5,
            high: 0.75,
            critical: 0.9,
            idle_evict_ms: 60_000,
            min_idle_ms: 1_000,
            reserved_priority: 1,
        }
    }
}

/// How full the memory budget is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pressure {
    /// Below `medium`.
    Low,
    /// From `medium`.
    Medium,
    /// From `high`.
    High,
    /// From `critical`.
    Critical,
}

impl MemorySettings {
    /// The pressure when `used` bytes are in use.
    pub fn pressure(&self, used: u64) -> Pressure {
        let fraction = used as f64 / self.budget_bytes.max(1) as f64;
        if fraction >= self.critical {
            Pressure::Critical
        } else if fraction >= self.high {
            Pressure::High
        } else if fraction >= self.medium {
            Pressure::Medium
        } else {
            Pressure::Low
        }
    }

    /// Bytes below which pressure is low.
    pub fn low_mark(&self) -> u64 {
        (self.budget_bytes as f64 * self.medium) as u64
    }
}

/// A `[plugins.NAME]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginSettings {
    /// Load the plugin at all (default true).
    pub enabled: bool,
    /// Entries passed to the plugin's `init` and answered by `config-get`.
    pub config: BTreeMap<String, ConfigValue>,
    /// A directory the plugin may read, preopened read-only at `/data`.
    pub read_dir: Option<PathBuf>,
    /// Versions allowed to run. Setting it is the operator's explicit pin:
    /// a matching version runs even below the rollback-protection floor.
    pub version: Option<semver::VersionReq>,
    /// Limits for this plugin, over its kind's.
    pub limits: Option<LimitSettings>,
    /// `host:port` addresses the plugin may connect to; nothing else.
    pub network: Vec<String>,
    /// The plugin may read the host's randomness (`wasi:random`).
    pub random: bool,
    /// Over the manifest's priority: preloaded earlier, evicted later.
    pub priority: Option<i32>,
    /// Compile it in the background at start-up instead of on first use.
    pub preload: bool,
}

impl Default for PluginSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            config: BTreeMap::new(),
            read_dir: None,
            version: None,
            limits: None,
            network: Vec::new(),
            random: false,
            priority: None,
            preload: false,
        }
    }
}

/// A plugin config value: any TOML scalar, handed to the plugin as text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ConfigValue {
    /// Text.
    Text(String),
    /// Integer.
    Integer(i64),
    /// Float.
    Float(f64),
    /// Boolean.
    Bool(bool),
}

impl ConfigValue {
    fn to_text(&self) -> String {
        match self {
            Self::Text(s) => s.clone(),
            Self::Integer(i) => i.to_string(),
            Self::Float(f) => f.to_string(),
            Self::Bool(b) => b.to_string(),
        }
    }
}

impl HostConfig {
    /// Read and check a config file; relative paths become relative to its directory.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config {}", path.display()))?;
        let mut config: Self = toml::from_str(&text)
            .with_context(|| format!("config {} is invalid", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let absolutise = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(dir) = config.run.plugins_dir.as_mut() {
            absolutise(dir);
        }
        if let Some(dir) = config.trust.dir.as_mut() {
            absolutise(dir);
        }
        if let Some(file) = config.run.state_file.as_mut() {
            absolutise(file);
        }
        for settings in config.plugins.values_mut() {
            if let Some(dir) = settings.read_dir.as_mut() {
                absolutise(dir);
            }
        }
        config
            .check()
            .with_context(|| format!("config {} is invalid", path.display()))?;
        Ok(config)
    }

    fn check(&self) -> Result<()> {
        for (name, settings) in &self.plugins {
            for address in &settings.network {
                use std::net::ToSocketAddrs as _;
                address.to_socket_addrs().with_context(|| {
                    format!("plugins.{name}.network: `{address}` is not a host:port address")
                })?;
            }
        }
        anyhow::ensure!(self.run.batch_size > 0, "run.batch_size must be at least 1");
        anyhow::ensure!(self.run.max_rounds > 0, "run.max_rounds must be at least 1");
        let m = &self.memory;
        anyhow::ensure!(
            0.0 < m.medium && m.medium <= m.high && m.high <= m.critical && m.critical <= 1.0,
            "memory: the levels must rise within the budget: 0 < medium <= high <= critical <= 1 \
             (have {}, {}, {})",
            m.medium,
            m.high,
            m.critical
        );
        anyhow::ensure!(m.budget_bytes > 0, "memory.budget_bytes must be at least 1");
        Ok(())
    }

    /// Whether the plugin called `name` should be loaded.
    pub fn enabled(&self, name: &str) -> bool {
        self.plugins.get(name).is_none_or(|p| p.enabled)
    }

    /// The priority and preloading of the plugin of `manifest`.
    pub fn placement(&self, manifest: &tradsys_signing::Manifest) -> Placement {
        let settings = self.plugins.get(manifest.name.as_str());
        Placement {
            priority: settings
                .and_then(|s| s.priority)
                .unwrap_or(manifest.priority),
            preload: settings.is_some_and(|s| s.preload),
        }
    }

    /// The operator's version pin for `name`, if any.
    pub fn pin(&self, name: &str) -> Option<&semver::VersionReq> {
        self.plugins.get(name).and_then(|p| p.version.as_ref())
    }

    /// The most the host allows the plugin called `name` of `kind`: its own
    /// `[plugins.NAME.limits]`, else `[limits.KIND]`, else the kind's default.
    pub fn limits(&self, name: &str, kind: PluginKind) -> Limits {
        let by_kind = match kind {
            PluginKind::Strategy => self.limits.strategy.as_ref(),
            PluginKind::RiskValidator => self.limits.risk_validator.as_ref(),
            PluginKind::Matcher => self.limits.matcher.as_ref(),
            PluginKind::Connector => self.limits.connector.as_ref(),
        };
        let own = self.plugins.get(name).and_then(|p| p.limits.as_ref());
        Limits::default_for(kind)
            .overridden(by_kind)
            .overridden(own)
    }

    /// What the host grants the plugin of `manifest`. The session's connector
    /// also gets `seed` unless its config sets one.
    pub fn grants(&self, manifest: &tradsys_signing::Manifest) -> Grants {
        let name = manifest.name.as_str();
        let settings = self.plugins.get(name);
        let mut config: Vec<(String, String)> = settings
            .map(|s| {
                s.config
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_text()))
                    .collect()
            })
            .unwrap_or_default();
        if name == self.run.connector && !config.iter().any(|(k, _)| k == "seed") {
            config.push(("seed".to_string(), self.run.seed.to_string()));
        }
        Grants {
            config,
            read_dir: settings.and_then(|s| s.read_dir.clone()),
            limits: self.limits(name, manifest.kind).granting(&manifest.limits),
            network: settings.map(|s| resolve(&s.network)).unwrap_or_default(),
            random: settings.is_some_and(|s| s.random),
            faults: self.faults,
        }
    }
}

/// Resolve `host:port` grants (checked when the config is loaded).
fn resolve(addresses: &[String]) -> Vec<std::net::SocketAddr> {
    use std::net::ToSocketAddrs as _;
    addresses
        .iter()
        .filter_map(|a| a.to_socket_addrs().ok())
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(name: &str, kind: &str) -> tradsys_signing::Manifest {
        let json = format!(r#"{{"name":"{name}","version":"1.0.0","kind":"{kind}","api":"^1.0"}}"#);
        tradsys_signing::Manifest::from_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn limits_come_from_the_plugin_then_the_kind_then_the_default_and_cap_the_manifest() {
        let config: HostConfig = toml::from_str(
            "[limits.strategy]\nfuel_per_call = 1000\ndeadline_ms = 7\n\n[plugins.fast.limits]\nfuel_per_call = 50\n",
        )
        .unwrap();
        let strategy = config.limits("slow", PluginKind::Strategy);
        assert_eq!((strategy.fuel_per_call, strategy.deadline_ms), (1000, 7));
        assert_eq!(
            strategy.memory_bytes,
            Limits::default_for(PluginKind::Strategy).memory_bytes
        );
        assert_eq!(
            config.limits("fast", PluginKind::Strategy).fuel_per_call,
            50
        );
        assert_eq!(
            config.limits("any", PluginKind::Matcher),
            Limits::default_for(PluginKind::Matcher)
        );
        // A manifest may ask for less, never for more than the host allows.
        let asks = |fuel| tradsys_signing::Limits {
            fuel_per_call: Some(fuel),
            ..Default::default()
        };
        assert_eq!(strategy.granting(&asks(10)).fuel_per_call, 10);
        assert_eq!(strategy.granting(&asks(1_000_000)).fuel_per_call, 1000);
        assert!(toml::from_str::<HostConfig>("[limits.robot]\nfuel_per_call = 1\n").is_err());
    }

    #[test]
    fn parses_a_full_config_and_renders_values_as_text() {
        let config: HostConfig = toml::from_str(
            r#"
            [run]
            events = 500
            seed = 7
            [plugins.max-notional]
            config = { max_notional = 150000, band = 1.5, strict = true, name = "x" }
            "#,
        )
        .unwrap();
        assert_eq!(config.run.events, 500);
        let grants = config.grants(&manifest("max-notional", "risk-validator"));
        assert_eq!(
            grants.config,
            vec![
                ("band".to_string(), "1.5".to_string()),
                ("max_notional".to_string(), "150000".to_string()),
                ("name".to_string(), "x".to_string()),
                ("strict".to_string(), "true".to_string()),
            ]
        );
        assert!(
            config
                .grants(&manifest(DEFAULT_CONNECTOR, "connector"))
                .config
                .contains(&("seed".to_string(), "7".to_string()))
        );
    }

    #[test]
    fn refuses_unknown_keys_naming_them() {
        let err = toml::from_str::<HostConfig>("[run]\nevnts = 5\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("evnts"), "{err}");
        let err = toml::from_str::<HostConfig>("[plugins.a]\nconfg = {}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("confg"), "{err}");
    }
}
