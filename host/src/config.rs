//! The host configuration file (TOML): plain serde data and its validation.
//! What the settings grant one plugin is decided in `loading::grants`.
//!
#![doc = concat!("```toml\n", include_str!("../config.example.toml"), "```")]
//!
//! Relative paths are relative to the config file's directory. Unknown keys
//! are refused, so a typo is an error rather than a silently ignored setting.
//! The example above is the README's, checked by the tidy test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};

use crate::policy::{FaultSettings, LimitSettings, LogSettings, MemorySettings};

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
    /// How much each plugin may log.
    pub logs: LogSettings,
    /// How new versions are swapped in while the host runs.
    pub swap: SwapSettings,
    /// The admin endpoint of a running host.
    pub admin: AdminSettings,
    /// Where strategy orders trade.
    pub venue: VenueSettings,
    /// What the host accepts of the feed and keeps for it.
    pub market: MarketSettings,
    /// The host as a venue: where its clients connect.
    pub gateway: GatewaySettings,
    /// Per-plugin settings, by plugin name.
    pub plugins: BTreeMap<String, PluginSettings>,
}

/// What the host accepts of the feed and keeps for it (`[market]`): events
/// that break a rule are dropped and counted by rule (the report's
/// `connector_dropped`; README, *Limits and faults*).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketSettings {
    /// Symbols whose prices may be zero or negative (some futures spreads,
    /// power); every other instrument's must be positive.
    pub negative_prices: Vec<String>,
    /// An event older than the last of its instrument: `drop` it (counted,
    /// `time-went-back`), or `stop` the stream with the reason.
    pub late_events: LateEvents,
    /// Resting orders the host keeps per instrument's book at most: past it
    /// the stream stops with the reason (1,000,000 by default).
    pub max_book_orders: u64,
    /// Price levels per instrument's book at most, likewise (100,000).
    pub max_book_levels: u64,
}

impl Default for MarketSettings {
    fn default() -> Self {
        Self {
            negative_prices: Vec::new(),
            late_events: LateEvents::Drop,
            max_book_orders: 1_000_000,
            max_book_levels: 100_000,
        }
    }
}

/// What an event older than the last of its instrument does (`[market] late_events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LateEvents {
    /// Dropped and counted: plugins never see time go back.
    #[default]
    Drop,
    /// The stream stops, with the reason.
    Stop,
}

/// Where strategy orders trade (`[venue]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VenueModel {
    /// The matcher simulates the feed's market: it is given every market
    /// batch (`on-market`) and fills strategy orders against it.
    #[default]
    Simulated,
    /// The matcher is the market: strategy orders trade with each other only.
    Exchange,
    /// A real venue: approved orders go to the network connector that
    /// `run.connector` names, and its execution reports come back (checked
    /// before any is booked). No matcher is used.
    Live,
}

/// What a live session does with a working order at the venue it does not
/// know (`[venue] unknown_orders`), when its connector reports one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownOrders {
    /// Cancel it at the venue.
    #[default]
    Cancel,
    /// Leave it working; nothing of it is booked.
    Keep,
    /// Make it an order of the strategy `adopt_into` names: its fills are
    /// that strategy's, it counts in its working orders and limits, and
    /// the kill switch cancels it.
    Adopt,
}

/// The `[venue]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VenueSettings {
    /// `simulated` (the default) or `exchange`.
    pub model: VenueModel,
    /// Fees by instrument symbol (`[venue.fees.ESH4]`); none by default.
    pub fees: BTreeMap<String, FeeSettings>,
    /// How long the feed, orders and reports take in market time
    /// (`[venue.latency]`, the simulated venue's); none by default.
    pub latency: LatencySettings,
    /// Judge the simulated venue's fills by the exchange's rules beside the
    /// session (`tradsys-audit`; a feed by order): on by default. It costs
    /// about 15 % of the ES session's speed (docs/BENCHMARKS.md).
    pub audit: bool,
    /// Live: an order, cancel or modify the venue has not answered this
    /// long, milliseconds, raises an alert (`no-answer`).
    pub answer_ms: u64,
    /// Live: a working order at the venue the host does not know (after a
    /// restart without `--resume`, or entered by hand): `cancel` (the
    /// default), `keep` or `adopt`. Every one is reported.
    pub unknown_orders: UnknownOrders,
    /// Live, with `unknown_orders = "adopt"`: the strategy that gets them.
    pub adopt_into: Option<String>,
}

impl Default for VenueSettings {
    fn default() -> Self {
        Self {
            model: VenueModel::default(),
            fees: BTreeMap::new(),
            latency: LatencySettings::default(),
            audit: true,
            answer_ms: 5_000,
            unknown_orders: UnknownOrders::default(),
            adopt_into: None,
        }
    }
}

/// The most latency one setting may state: an hour (more is a mistake).
pub const MAX_LATENCY_NS: u64 = 3_600 * 1_000_000_000;

/// Latencies in market time between the exchange and the strategies
/// (`[venue.latency]`), for the simulated venue: zero by default, so a
/// strategy sees an event when the exchange stamped it and its order
/// reaches the venue right after that event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LatencySettings {
    /// The model: `constant` (the only one so far: the same delays for
    /// every event and order of an instrument).
    pub model: LatencyModelKind,
    /// A strategy sees an event this long after the exchange stamped it, ns.
    pub feed_ns: u64,
    /// An order reaches the venue this long after its strategy sent it, ns.
    pub order_ns: u64,
    /// Acknowledgements and fills reach the strategy this long after the
    /// venue sent them, ns.
    pub response_ns: u64,
    /// Per instrument symbol, over the above (`[venue.latency.instruments.ESH4]`).
    pub instruments: BTreeMap<String, LatencyOverride>,
}

/// The latency models (`[venue.latency] model`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LatencyModelKind {
    /// The same delays for every event and order of an instrument.
    #[default]
    Constant,
}

/// One instrument's latencies, over `[venue.latency]`'s (unset: those).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LatencyOverride {
    /// As [`LatencySettings::feed_ns`].
    pub feed_ns: Option<u64>,
    /// As [`LatencySettings::order_ns`].
    pub order_ns: Option<u64>,
    /// As [`LatencySettings::response_ns`].
    pub response_ns: Option<u64>,
}

impl LatencySettings {
    /// Whether every latency is zero.
    pub fn is_zero(&self) -> bool {
        let zero = |v: Option<u64>| v.is_none_or(|v| v == 0);
        self.feed_ns == 0
            && self.order_ns == 0
            && self.response_ns == 0
            && self
                .instruments
                .values()
                .all(|o| zero(o.feed_ns) && zero(o.order_ns) && zero(o.response_ns))
    }

    fn check(&self) -> Result<()> {
        let mut all = vec![
            ("venue.latency.feed_ns".to_string(), Some(self.feed_ns)),
            ("venue.latency.order_ns".to_string(), Some(self.order_ns)),
            (
                "venue.latency.response_ns".to_string(),
                Some(self.response_ns),
            ),
        ];
        for (symbol, o) in &self.instruments {
            let at = |name| format!("venue.latency.instruments.{symbol}.{name}");
            all.push((at("feed_ns"), o.feed_ns));
            all.push((at("order_ns"), o.order_ns));
            all.push((at("response_ns"), o.response_ns));
        }
        for (name, value) in all {
            if let Some(v) = value {
                anyhow::ensure!(
                    v <= MAX_LATENCY_NS,
                    "{name}: {v} ns is more than an hour ({MAX_LATENCY_NS} ns)"
                );
            }
        }
        Ok(())
    }
}

/// What a fill costs on one instrument (`[venue.fees.SYMBOL]`): basis
/// points of its notional plus an amount per unit of quantity, for fills
/// of resting orders (maker) and of orders that took liquidity (taker). A
/// negative amount is a rebate. Given as numbers or decimal strings and
/// kept as fixed-point (nine decimals), like every amount of money.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeeSettings {
    /// Maker fee, basis points of notional.
    #[serde(deserialize_with = "fixed")]
    pub maker_bps: i64,
    /// Taker fee, basis points of notional.
    #[serde(deserialize_with = "fixed")]
    pub taker_bps: i64,
    /// Maker fee per unit of quantity (per contract, per share).
    #[serde(deserialize_with = "fixed")]
    pub maker_per_unit: i64,
    /// Taker fee per unit of quantity.
    #[serde(deserialize_with = "fixed")]
    pub taker_per_unit: i64,
}

/// A decimal (number or string) as fixed-point with nine decimals, exactly.
fn fixed<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let text = match ConfigValue::deserialize(d)? {
        ConfigValue::Text(t) => t,
        ConfigValue::Integer(i) => i.to_string(),
        ConfigValue::Float(f) => f.to_string(),
        ConfigValue::Bool(_) => return Err(serde::de::Error::custom("expected a number")),
    };
    parse_fixed(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a decimal number")))
}

/// `-1.25` → `-1_250_000_000`; at most nine decimals.
pub fn parse_fixed(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && frac.is_empty()
        || frac.len() > 9
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = format!("{frac:0<9}").parse().ok()?;
    let value = whole.checked_mul(1_000_000_000)?.checked_add(frac)?;
    Some(if negative { -value } else { value })
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
    /// Processors that derive bars and signals, by name (default: every
    /// installed processor); they run in dependency order whatever the order here.
    pub processors: Option<Vec<String>>,
    /// Watch the plugin directory and swap in newer versions while running.
    pub watch: bool,
    /// Write the order journal here (`--journal`); never over an existing file.
    pub journal: Option<PathBuf>,
    /// Start the journal's next numbered file (`FILE.1`, ...) before one
    /// would pass this size, bytes; 0 never does.
    pub journal_max_bytes: u64,
    /// Pull the connector's batches on a second thread, ahead of the data
    /// path (the same batches, so the same results; `trading/feed.rs`).
    pub decode_ahead: bool,
    /// Market events asked of the connector per call, rounded down to
    /// whole batches (at least one); cut into batches of `batch_size`, the
    /// same batches as one call each (`trading/feed.rs`).
    pub connector_chunk: u32,
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

/// Default address of the dashboard (`tradsys run --dashboard`).
pub const DEFAULT_DASHBOARD: &str = "127.0.0.1:8080";

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
            processors: None,
            watch: false,
            journal: None,
            journal_max_bytes: 0,
            decode_ahead: true,
            connector_chunk: 256,
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
    /// `[limits.processor]`.
    pub processor: Option<LimitSettings>,
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
    /// TLS on that connection (a network connector's): the server name
    /// its certificate carries and the CA file that signs it.
    pub tls: Option<crate::policy::TlsGrant>,
    /// The plugin may read the host's randomness (`wasi:random`).
    pub random: bool,
    /// A strategy's market event kinds (`quote`, `trade`, `book-delta`,
    /// `depth`, `bar`): it is handed only those (instrument definitions and
    /// status changes always), and a batch with none of them not at all.
    /// Over its manifest's `events`; every kind when neither says.
    pub events: Option<Vec<crate::policy::EventKind>>,
    /// A strategy's instruments, by symbol: it is handed only their events
    /// (and definitions), and a batch with none of them not at all. Every
    /// instrument when unset.
    pub instruments: Option<Vec<String>>,
    /// Over the manifest's priority: preloaded earlier, evicted later.
    pub priority: Option<i32>,
    /// Compile it in the background at start-up instead of on first use.
    pub preload: bool,
    /// A processor's fault policy (processors only; default `open`).
    pub on_fault: Option<OnFault>,
}

/// What a processor's fault (a trap, a limit, output the host refuses)
/// does to the batch it was processing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnFault {
    /// Its output for the batch is dropped; the strategies get the batch
    /// without it (and what the other processors derived).
    #[default]
    Open,
    /// The strategies do not get the batch at all: no strategy acts on a
    /// market whose signals are missing. The books and the venue still see it.
    Closed,
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
            tls: None,
            events: None,
            instruments: None,
            priority: None,
            preload: false,
            on_fault: None,
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
    /// The value as the text a plugin reads.
    pub fn to_text(&self) -> String {
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
        if let Some(file) = config.gateway.accounts.as_mut() {
            absolutise(file);
        }
        if let Some(dir) = config.gateway.fix_store.as_mut() {
            absolutise(dir);
        }
        for settings in config.plugins.values_mut() {
            if let Some(dir) = settings.read_dir.as_mut() {
                absolutise(dir);
            }
            if let Some(tls) = settings.tls.as_mut() {
                absolutise(&mut tls.ca);
                for file in [&mut tls.cert, &mut tls.key].into_iter().flatten() {
                    absolutise(file);
                }
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
            anyhow::ensure!(
                settings
                    .tls
                    .as_ref()
                    .is_none_or(|t| t.cert.is_some() == t.key.is_some()),
                "plugins.{name}.tls: a client certificate needs both `cert` and `key`"
            );
            anyhow::ensure!(
                settings.events.as_ref().is_none_or(|e| !e.is_empty()),
                "plugins.{name}.events: names no kind (leave it out for every kind)"
            );
            anyhow::ensure!(
                settings
                    .instruments
                    .as_ref()
                    .is_none_or(|i| !i.is_empty() && i.iter().all(|s| !s.trim().is_empty())),
                "plugins.{name}.instruments: a list of symbols, none empty (leave it out for \
                 every instrument)"
            );
            anyhow::ensure!(
                settings.tls.is_none() || !settings.network.is_empty(),
                "plugins.{name}.tls: TLS is for a granted connection; grant one with network = [\"HOST:PORT\"]"
            );
        }
        anyhow::ensure!(
            self.limits
                .risk_validator
                .is_none_or(|l| l.max_output.is_none()),
            "limits.risk-validator.max_output: a risk validator answers exactly one verdict per \
             order, so it has no output limit to set"
        );
        self.venue.latency.check()?;
        anyhow::ensure!(
            self.venue.answer_ms > 0,
            "venue.answer_ms must be at least 1 (milliseconds before an unanswered order raises an alert)"
        );
        match (&self.venue.adopt_into, self.venue.unknown_orders) {
            (_, UnknownOrders::Adopt) if self.venue.model != VenueModel::Live => anyhow::bail!(
                "venue.unknown_orders = \"adopt\" is for model = \"live\": in paper trading \
                 the venue holds none of the session's orders to adopt"
            ),
            (None, UnknownOrders::Adopt) => anyhow::bail!(
                "venue.unknown_orders = \"adopt\" needs venue.adopt_into: the strategy that gets \
                 the venue's orders the host does not know"
            ),
            (Some(name), UnknownOrders::Adopt) => anyhow::ensure!(
                self.run
                    .strategies
                    .as_ref()
                    .is_none_or(|list| list.iter().any(|s| s == name)),
                "venue.adopt_into: `{name}` is not one of run.strategies"
            ),
            (Some(_), _) => anyhow::bail!(
                "venue.adopt_into is for venue.unknown_orders = \"adopt\" (it is `{}`)",
                match self.venue.unknown_orders {
                    UnknownOrders::Keep => "keep",
                    _ => "cancel",
                }
            ),
            (None, _) => {}
        }
        anyhow::ensure!(
            self.market.max_book_orders > 0 && self.market.max_book_levels > 0,
            "market.max_book_orders and market.max_book_levels must be at least 1"
        );
        anyhow::ensure!(
            self.venue.model == VenueModel::Simulated || self.venue.latency.is_zero(),
            "venue.latency: latency is modelled for the simulated venue only; the exchange \
             venue's orders trade when they are sent, and a live venue's latency is real"
        );
        anyhow::ensure!(self.run.batch_size > 0, "run.batch_size must be at least 1");
        anyhow::ensure!(
            self.run.connector_chunk > 0,
            "run.connector_chunk must be at least 1"
        );
        anyhow::ensure!(self.run.max_rounds > 0, "run.max_rounds must be at least 1");
        self.gateway.check(&self.venue)?;
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
        let l = &self.logs;
        anyhow::ensure!(
            l.max_message_bytes >= 16,
            "logs.max_message_bytes must be at least 16 (have {})",
            l.max_message_bytes
        );
        anyhow::ensure!(
            l.burst >= 1 && l.lines_per_second >= 1,
            "logs.lines_per_second and logs.burst must be at least 1"
        );
        Ok(())
    }
}

#[path = "config_gateway.rs"]
mod gateway;
pub use gateway::GatewaySettings;

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
